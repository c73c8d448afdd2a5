#pragma once
/* Logging for the daemon (the only folder that logs): logfmt on stderr. */

enum cde_log_level {
	CDE_LOG_ERROR,
	CDE_LOG_WARN,
	CDE_LOG_INFO,
	CDE_LOG_DEBUG,
};

/* Lines above @level are dropped. */
void cde_log_set_level(enum cde_log_level level);

/* Writes one line: ts=... level=... msg="<formatted>". */
void cde_log(enum cde_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
