#pragma once
/* Logging for the daemon (the only folder that logs): one line per event
 * of interest on stderr, logfmt or JSON.
 *
 *   logfmt: ts=2025-01-02T03:04:05.678901Z level=info msg="event accepted" req=4f2a9c01d3e8b7a6 type=...
 *   json:   {"ts":"...","level":"info","msg":"event accepted","req":"4f2a...","type":"..."}
 *
 * A line has a message and, optionally, the id of the request it is about
 * (`req`) and key/value fields, all strings. Every value is escaped for
 * the format, so no value (a header, a path, a payload) can end the line
 * early or forge another: in logfmt a value with a space, a quote, `=`, a
 * backslash, a control or a non-UTF-8 byte is quoted and escaped; in JSON
 * every line is one valid object. Each byte that starts no valid UTF-8
 * sequence becomes U+FFFD.
 * A line is at most CDE_LOG_LINE_MAX bytes (values are cut, marked "...")
 * and is written with one write(2), so lines from one process never
 * interleave on a pipe.
 *
 * Never pass a credential: not an Authorization value, a token, a
 * signature or a secret; log which scheme failed and why, not with what. */

#include <stdbool.h>
#include <stddef.h>

enum cde_log_level {
	CDE_LOG_ERROR,
	CDE_LOG_WARN,
	CDE_LOG_INFO,
	CDE_LOG_DEBUG,
};

enum cde_log_format {
	CDE_LOG_LOGFMT,	/* the default */
	CDE_LOG_JSON,
};

/* Longest line written, newline included: PIPE_BUF, so a write to a pipe
 * is atomic. */
#define CDE_LOG_LINE_MAX 4096

/* One key/value field. Keys are code constants, distinct within a line
 * ([A-Za-z0-9_.-]; anything else becomes '_'; "ts", "level", "msg" and
 * "req" are taken and get a leading '_'). A NULL value leaves the field
 * out, so optional fields need no separate call. */
struct cde_log_field {
	const char *key;
	const char *value;
};

/* Lines above @level are dropped. */
void cde_log_set_level(enum cde_log_level level);

/* The format of the lines written from now on. */
void cde_log_set_format(enum cde_log_format format);

/* True when a line at @level would be written: lets a caller skip
 * preparing fields nobody will read. */
bool cde_log_enabled(enum cde_log_level level);

struct event_base;

/* From now on, the lines the calling thread (the loop's) writes during a
 * turn of @base are written together at its end, in whole lines; other
 * threads' lines are still written at once. 0 or -ENOMEM. */
int cde_log_batch_start(struct event_base *base);
/* Writes what is kept and goes back to a write per line (the loop has
 * returned; before @base is freed). */
void cde_log_batch_stop(void);

/* Writes one line: ts, level, msg="<formatted>". */
void cde_log(enum cde_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes one line about a request: ts, level, msg=@msg, req=@req_id (left
 * out when NULL or empty), then the @n @fields in order. */
void cde_log_fields(enum cde_log_level level, const char *req_id, const char *msg,
		    const struct cde_log_field *fields, size_t n);

/* cde_log_fields with the fields written in place:
 *
 *   CDE_LOG_KV(CDE_LOG_INFO, cde_http_request_id(req), "event accepted",
 *              { "type", type }, { "id", id }, { "seq", seq_str });
 *
 * At least one field; the compiler checks that every value is a string. */
#define CDE_LOG_KV(level, req_id, msg, ...)                                                        \
	cde_log_fields((level), (req_id), (msg), (const struct cde_log_field[]){ __VA_ARGS__ },     \
		       sizeof((const struct cde_log_field[]){ __VA_ARGS__ }) /                     \
			       sizeof(struct cde_log_field))

/* The smallest buffer cde_log_format_line fills: room for ts, level and
 * the start of the message. */
#define CDE_LOG_LINE_MIN 128

/* Formats one line into @buf (@size bytes) without writing it: @ts is the
 * timestamp text. Returns the line's length, newline included (less than
 * @size; @buf is NUL-terminated), or 0 when @size is below
 * CDE_LOG_LINE_MIN. What cde_log_fields writes; exposed for the tests. */
size_t cde_log_format_line(char *buf, size_t size, enum cde_log_format format, enum cde_log_level level,
			   const char *ts, const char *req_id, const char *msg,
			   const struct cde_log_field *fields, size_t n);
