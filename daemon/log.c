/* The daemon's log: one line per call on stderr, logfmt or JSON, where
 * systemd's journal or a container runtime picks it up.
 *
 * Invariants:
 * - whatever the values hold (a client's header, path or payload), a
 *   call writes exactly one line: newlines and every other control are
 *   escaped, quotes are escaped inside quoted values, and a line that
 *   would be too long is cut inside a value and still closed properly;
 * - a JSON line is one valid object in UTF-8: bytes that are not UTF-8
 *   (overlong forms, surrogates, stray continuation bytes) become U+FFFD,
 *   one per byte;
 * - a line is written with one write(2) of at most PIPE_BUF bytes, so
 *   any thread may log (the delivery thread does); the loop thread's lines
 *   of one turn of its event loop are written together, whole lines in
 *   writes of at most PIPE_BUF bytes (cde_log_batch_start).
 *
 * Both formats share one escape table (the one go-logfmt and JSON agree
 * on: \" \\ \n \r \t, \u00XX for the other C0 and C1 controls and DEL,
 * \u2028 and \u2029), so a value reads the same in either. */

#include "daemon/log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "events/ids.h"

/* Atomic: a reload sets them on the loop thread while the delivery
 * thread writes lines. Nothing else is shared; a line is built on the
 * caller's stack. */
static _Atomic enum cde_log_level max_level = CDE_LOG_INFO;
static _Atomic enum cde_log_format line_format = CDE_LOG_LOGFMT;

/* Room kept past the body's limit for what a cut line still needs: an
 * opening quote, `..."}`, the newline and the NUL (TAIL + 1 bytes). */
#define TAIL 7
#define KEY_MAX 64

struct line {
	char *buf;
	size_t len;
	size_t limit;	/* where the body must stop; the tail follows */
	bool cut;
};

void cde_log_set_level(enum cde_log_level level)
{
	max_level = level;
}

void cde_log_set_format(enum cde_log_format format)
{
	line_format = format;
}

bool cde_log_enabled(enum cde_log_level level)
{
	return level <= max_level;
}

static bool put(struct line *l, const char *s, size_t n)
{
	if (l->cut || l->len + n > l->limit) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

static bool put_str(struct line *l, const char *s)
{
	return put(l, s, strlen(s));
}

/* Decodes the UTF-8 sequence at @s (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). Returns its code point and sets
 * *@len, or returns -1 with *@len = 1 for a byte that starts no valid
 * sequence. */
static long utf8_next(const unsigned char *s, size_t *len)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	long cp;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned char b = s[i];

		if (i == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (b & 0x3f);
	}
	*len = n;
	return cp;
}

/* Writes @s escaped (the caller writes the quotes, if any). On running
 * out of room, marks the value cut with "...". */
static void put_escaped(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		char tmp[8];
		size_t n, tn, run = 0;
		long cp;

		/* Plain printable ASCII goes as it is, a run at a time. */
		while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			size_t room = l->cut || l->len >= l->limit ? 0 : l->limit - l->len;

			if (run <= room) {
				put(l, (const char *)p, run);
				p += run;
				continue;
			}
			/* What fits, as one character at a time would have. */
			memcpy(l->buf + l->len, p, room);
			l->len += room;
			l->cut = true;
			memcpy(l->buf + l->len, "...", 3);
			l->len += 3;
			return;
		}
		cp = utf8_next(p, &n);
		if (cp < 0) {
			memcpy(tmp, "\xef\xbf\xbd", 3);	/* U+FFFD */
			tn = 3;
		} else if (cp == '"' || cp == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)cp;
			tn = 2;
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			tmp[0] = '\\';
			tmp[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
			tn = 2;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
			memcpy(tmp, "\\u", 2);
			tmp[2] = hex[cp >> 12 & 0xf];
			tmp[3] = hex[cp >> 8 & 0xf];
			tmp[4] = hex[cp >> 4 & 0xf];
			tmp[5] = hex[cp & 0xf];
			tn = 6;
		} else {
			memcpy(tmp, p, n);
			tn = n;
		}
		if (!put(l, tmp, tn)) {
			/* The tail has room for the mark. */
			memcpy(l->buf + l->len, "...", 3);
			l->len += 3;
			return;
		}
		p += n;
	}
}

/* A logfmt value goes bare only when it is plain printable ASCII with
 * nothing a parser would split on. */
static bool logfmt_needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f)
			return true;
	return false;
}

static void put_string(struct line *l, enum cde_log_format format, const char *s, bool quote)
{
	if (l->cut)
		return;
	quote = quote || format == CDE_LOG_JSON || logfmt_needs_quotes(s);
	if (quote) {
		/* Even into the tail: a key must not be left without its
		 * value, and `"..."` still fits there. */
		l->buf[l->len++] = '"';
	}
	put_escaped(l, s);
	if (quote) {
		/* Closes the value even when it was cut: the tail has room. */
		l->buf[l->len++] = '"';
	}
}

/* Writes the key of a field: ` key=` or `,"key":`. Returns false when
 * it does not fit (the line is then cut there). */
static bool put_key(struct line *l, enum cde_log_format format, const char *key)
{
	static const char *const taken[] = { "ts", "level", "msg", "req" };
	char k[KEY_MAX + 2];
	size_t n = 0;

	if (!key || !*key)
		key = "_";
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (key[0] == taken[i][0] && strcmp(key, taken[i]) == 0)
			k[n++] = '_';
	for (const char *p = key; *p && n < KEY_MAX + 1; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-';

		k[n++] = ok ? c : '_';
	}
	k[n] = '\0';
	if (format == CDE_LOG_JSON) {
		size_t before = l->len;

		if (put(l, ",\"", 2) && put_str(l, k) && put(l, "\":", 2))
			return true;
		l->len = before;
		return false;
	}
	size_t before = l->len;

	if (put(l, " ", 1) && put_str(l, k) && put(l, "=", 1))
		return true;
	l->len = before;
	return false;
}

size_t cde_log_format_line(char *buf, size_t size, enum cde_log_format format, enum cde_log_level level,
			   const char *ts, const char *req_id, const char *msg,
			   const struct cde_log_field *fields, size_t n)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *name = (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "debug";
	struct line l = { .buf = buf, .limit = size > TAIL ? size - 1 - TAIL : 0 };
	bool json = format == CDE_LOG_JSON;

	if (size < CDE_LOG_LINE_MIN) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	put(&l, json ? "{\"ts\":" : "ts=", json ? 6 : 3);
	put_string(&l, format, ts ? ts : "", false);
	put(&l, json ? ",\"level\":" : " level=", json ? 9 : 7);
	put_string(&l, format, name, false);
	put(&l, json ? ",\"msg\":" : " msg=", json ? 7 : 5);
	put_string(&l, format, msg ? msg : "", true);
	if (req_id && *req_id && put(&l, json ? ",\"req\":" : " req=", json ? 7 : 5))
		put_string(&l, format, req_id, false);
	for (size_t i = 0; i < n && !l.cut; i++) {
		if (!fields[i].value)
			continue;
		if (put_key(&l, format, fields[i].key))
			put_string(&l, format, fields[i].value, false);
		else
			l.cut = true;
	}
	/* The tail: at most `}` and the newline after the body's limit. */
	if (json)
		l.buf[l.len++] = '}';
	l.buf[l.len++] = '\n';
	l.buf[l.len] = '\0';
	return l.len;
}

static void write_all(const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(STDERR_FILENO, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to report it */
		off += (size_t)w;
	}
}

/* The loop thread's lines of the current turn: a write(2) per accepted
 * event was in the ingest profile. Only the loop thread touches them. */
static atomic_bool batching;
static pthread_t batch_thread;
static struct event *batch_flush;
static bool batch_pending;
static size_t batch_len;
static char batch[PIPE_BUF];

static void flush_batch(void)
{
	write_all(batch, batch_len);
	batch_len = 0;
}

static void on_batch_flush(evutil_socket_t fd, short what, void *arg)
{
	batch_pending = false;
	flush_batch();
}

/* Keeps @line for the end of the turn when the loop thread writes it. */
static bool batched(const char *line, size_t len)
{
	if (!atomic_load(&batching) || !pthread_equal(pthread_self(), batch_thread) || len > sizeof(batch))
		return false;
	if (batch_len + len > sizeof(batch))
		flush_batch();
	memcpy(batch + batch_len, line, len);
	batch_len += len;
	if (!batch_pending) {
		batch_pending = true;
		event_active(batch_flush, EV_TIMEOUT, 1);
	}
	return true;
}

int cde_log_batch_start(struct event_base *base)
{
	batch_flush = event_new(base, -1, 0, on_batch_flush, NULL);
	if (!batch_flush)
		return -ENOMEM;
	batch_thread = pthread_self();
	atomic_store(&batching, true);
	return 0;
}

void cde_log_batch_stop(void)
{
	if (!batch_flush)
		return;
	atomic_store(&batching, false);
	flush_batch();
	batch_pending = false;
	event_free(batch_flush);
	batch_flush = NULL;
}

static void emit(enum cde_log_level level, const char *req_id, const char *msg,
		 const struct cde_log_field *fields, size_t n)
{
	char ts[CDE_TIMESTAMP_STR_LEN], line[CDE_LOG_LINE_MAX + 1];
	size_t len;

	if (cde_timestamp_now(ts) < 0)
		ts[0] = '\0';
	len = cde_log_format_line(line, sizeof(line), line_format, level, ts, req_id, msg, fields, n);
	if (!batched(line, len))
		write_all(line, len);
}

void cde_log_fields(enum cde_log_level level, const char *req_id, const char *msg,
		    const struct cde_log_field *fields, size_t n)
{
	if (level > max_level)
		return;
	emit(level, req_id, msg, fields, n);
}

void cde_log(enum cde_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, NULL, msg, NULL, 0);
}
