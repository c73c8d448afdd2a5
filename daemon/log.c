/* The daemon's log: one logfmt line per call on stderr, where systemd's
 * journal or a container runtime picks it up. The message is quoted and
 * escaped so that a client-controlled string can never forge a line. */

#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "events/ids.h"

static enum cde_log_level max_level = CDE_LOG_INFO;

void cde_log_set_level(enum cde_log_level level)
{
	max_level = level;
}

void cde_log(enum cde_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char msg[1024], ts[CDE_TIMESTAMP_STR_LEN], line[2200];
	size_t o = 0;
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cde_timestamp_now(ts) < 0)
		ts[0] = '\0';
	o += (size_t)snprintf(line, sizeof(line), "ts=%s level=%s msg=\"", ts, names[level]);
	for (const char *p = msg; *p && o < sizeof(line) - 8; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			line[o++] = '\\';
			line[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", c);
		} else {
			line[o++] = (char)c;
		}
	}
	line[o++] = '"';
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
}
