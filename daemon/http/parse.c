/* HTTP/1.1 request heads and chunked bodies, parsed strictly. Anything a
 * front proxy and this parser could read two ways is refused with 400, so
 * no request can hide inside another. */

#include "daemon/http/parse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "schemas/base/hex.h"

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* field-vchar, SP and HTAB; obs-text (>= 0x80) is allowed as RFC 9112
 * says, so UTF-8 in a header survives to the percent-decoding layer. */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int refuse(struct cde_http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
	return -EINVAL;
}

static enum cde_http_method method_of(const char *m)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(m, names[i]) == 0)
			return (enum cde_http_method)i;
	return CDE_HTTP_OTHER;
}

/* Finds the CRLF ending the line at @p; refuses bare CR, bare LF and NUL
 * on the way. Returns the CR's position or NULL with @err set. */
static char *line_end(char *p, char *end, struct cde_http_error *err)
{
	for (; p < end; p++) {
		if (*p == '\r') {
			if (p + 1 < end && p[1] == '\n')
				return p;
			refuse(err, 400, "bare CR in the request head");
			return NULL;
		}
		if (*p == '\n') {
			refuse(err, 400, "bare LF in the request head (lines end with CRLF)");
			return NULL;
		}
		if (*p == '\0') {
			refuse(err, 400, "NUL byte in the request head");
			return NULL;
		}
	}
	refuse(err, 400, "incomplete request head");
	return NULL;
}

static int parse_request_line(char *p, char *eol, struct cde_http_head *head,
			      struct cde_http_error *err)
{
	char *sp1, *sp2;

	*eol = '\0';
	sp1 = strchr(p, ' ');
	if (!sp1 || sp1 == p)
		return refuse(err, 400, "malformed request line");
	*sp1 = '\0';
	for (char *m = p; *m; m++)
		if (!is_tchar((unsigned char)*m))
			return refuse(err, 400, "malformed method");
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 == sp1 + 1)
		return refuse(err, 400, "malformed request line");
	*sp2 = '\0';
	head->method_name = p;
	head->method = method_of(p);
	head->target = sp1 + 1;
	if (head->target[0] != '/')
		return refuse(err, 400, "the request target must be a path (origin-form)");
	for (const char *t = head->target; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return refuse(err, 400, "malformed request target");
	if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || !(sp2[8] == '0' || sp2[8] == '1') || sp2[9])
		return refuse(err, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	head->minor_version = sp2[8] - '0';
	return 0;
}

static bool parse_decimal(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* Notes the "close" and "keep-alive" tokens of a Connection value, a
 * comma-separated list. */
static void connection_tokens(const char *v, bool *close, bool *keep_alive)
{
	while (*v) {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			*close = true;
		else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			*keep_alive = true;
		v += strcspn(v, ",");
	}
}

/* Fields a request may carry at most once. For the framing fields a
 * second copy is how requests are smuggled; for credentials and
 * signatures it is ambiguity: a proxy or a log may read one copy while
 * the check reads the other. */
static const struct {
	const char *name;
	const char *reason;
} single_fields[] = {
	{ "Content-Length", "more than one Content-Length" },
	{ "Transfer-Encoding", "more than one Transfer-Encoding" },
	{ "Content-Type", "more than one Content-Type" },
	{ "Host", "more than one Host" },
	{ "Authorization", "more than one Authorization" },
	{ "X-Hub-Signature-256", "more than one X-Hub-Signature-256" },
	{ "webhook-id", "more than one webhook-id" },
	{ "webhook-timestamp", "more than one webhook-timestamp" },
	{ "webhook-signature", "more than one webhook-signature" },
};

#define N_SINGLE (sizeof(single_fields) / sizeof(single_fields[0]))

/* Whether two names start with the same letter, case aside: most names
 * differ there, which spares the full compare (names are tokens: ASCII). */
static bool same_first(const char *a, const char *b)
{
	return (a[0] | 0x20) == (b[0] | 0x20);
}

/* Refuses a second copy of any of single_fields, naming it. */
static int check_single_fields(const struct cde_http_head *head, struct cde_http_error *err)
{
	unsigned seen[N_SINGLE] = { 0 };

	for (size_t i = 0; i < head->n_headers; i++)
		for (size_t f = 0; f < N_SINGLE; f++)
			if (same_first(head->headers[i].name, single_fields[f].name) &&
			    strcasecmp(head->headers[i].name, single_fields[f].name) == 0 && seen[f]++)
				return refuse(err, 400, single_fields[f].reason);
	return 0;
}

/* Applies the headers that frame the message and the connection. */
static int apply_semantics(struct cde_http_head *head, struct cde_http_error *err)
{
	bool saw_close = false, saw_keep_alive = false;
	const char *te = NULL, *cl = NULL;
	int r = check_single_fields(head, err);

	if (r < 0)
		return r;
	head->content_length = -1;
	head->keep_alive = head->minor_version == 1;
	for (size_t i = 0; i < head->n_headers; i++) {
		const struct cde_http_header *h = &head->headers[i];

		if (strcasecmp(h->name, "Content-Length") == 0) {
			cl = h->value;
		} else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			te = h->value;
		} else if (strcasecmp(h->name, "Connection") == 0) {
			connection_tokens(h->value, &saw_close, &saw_keep_alive);
		} else if (strcasecmp(h->name, "Expect") == 0) {
			if (strcasecmp(h->value, "100-continue") != 0)
				return refuse(err, 417, "only Expect: 100-continue is supported");
			head->expect_continue = head->minor_version == 1;
		}
	}
	/* "close" wins over "keep-alive", in any field or order (RFC 9112 9.6). */
	if (saw_close)
		head->keep_alive = false;
	else if (saw_keep_alive)
		head->keep_alive = true;
	if (te && cl)
		return refuse(err, 400, "both Transfer-Encoding and Content-Length");
	if (head->minor_version == 1 && !cde_http_head_get(head, "Host"))
		return refuse(err, 400, "missing Host");
	if (te) {
		if (head->minor_version == 0)
			return refuse(err, 400, "Transfer-Encoding in an HTTP/1.0 request");
		if (strcasecmp(te, "chunked") != 0)
			return refuse(err, 400, "Transfer-Encoding other than chunked");
		head->chunked = true;
	}
	if (cl && !parse_decimal(cl, &head->content_length))
		return refuse(err, 400, "malformed Content-Length");
	return 0;
}

int cde_http_parse_head(char *buf, size_t len, size_t max_headers, struct cde_http_head *head,
			struct cde_http_error *err)
{
	char *p = buf, *end = buf + len, *eol;
	int r;

	memset(head, 0, sizeof(*head));
	if (max_headers > CDE_HTTP_MAX_HEADERS_CAP)
		max_headers = CDE_HTTP_MAX_HEADERS_CAP;
	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	eol = line_end(p, end, err);
	if (!eol)
		return -EINVAL;
	r = parse_request_line(p, eol, head, err);
	if (r < 0)
		return r;
	p = eol + 2;
	for (;;) {
		char *colon, *v, *vend;

		eol = line_end(p, end, err);
		if (!eol)
			return -EINVAL;
		if (eol == p) {
			p += 2; /* the empty line ends the head */
			break;
		}
		if (*p == ' ' || *p == '\t')
			return refuse(err, 400, "folded header line");
		*eol = '\0';
		colon = strchr(p, ':');
		if (!colon || colon == p)
			return refuse(err, 400, "malformed header line");
		for (char *n = p; n < colon; n++)
			if (!is_tchar((unsigned char)*n))
				return refuse(err, 400, "malformed header name");
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		vend = v + strlen(v);
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		*vend = '\0';
		for (char *c = v; c < vend; c++)
			if (!is_value_char((unsigned char)*c))
				return refuse(err, 400, "control character in a header value");
		if (head->n_headers >= max_headers)
			return refuse(err, 431, "too many header fields");
		head->headers[head->n_headers].name = p;
		head->headers[head->n_headers].value = v;
		head->n_headers++;
		p = eol + 2;
	}
	if (p != end)
		return refuse(err, 400, "data after the request head");
	return apply_semantics(head, err);
}

int cde_http_head_end(const char *buf, size_t len, size_t *scanned, size_t *ret_len,
		      struct cde_http_error *err)
{
	size_t i;

	for (i = *scanned; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r') {
			if (i + 1 == len)
				break; /* its LF may be on its way */
			if (buf[i + 1] != '\n')
				return refuse(err, 400, "bare CR in the request head");
		} else if (c == '\n') {
			if (i == 0 || buf[i - 1] != '\r')
				return refuse(err, 400, "bare LF in the request head (lines end with CRLF)");
			if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
				*ret_len = i + 1;
				return 1;
			}
		} else if (c == '\0') {
			return refuse(err, 400, "NUL byte in the request head");
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return refuse(err, 400, "control character in the request head");
		}
	}
	*scanned = i;
	return 0;
}

const char *cde_http_head_get(const struct cde_http_head *head, const char *name)
{
	for (size_t i = 0; i < head->n_headers; i++)
		if (same_first(head->headers[i].name, name) && strcasecmp(head->headers[i].name, name) == 0)
			return head->headers[i].value;
	return NULL;
}

#define CHUNK_LINE_MAX 4096
#define TRAILER_MAX 8192

/* The chunked decoder is a state machine: each state but DATA reads one
 * byte at a time (a function per state below, 0 or -errno), DATA hands
 * as much of the input as the chunk holds to the sink at once. */

/* A chunk-size line: hex digits, maybe ";extension", CRLF. */
static int chunk_size_byte(struct cde_http_chunked *c, char ch, uint64_t max_body)
{
	int d;

	if (++c->line_len > CHUNK_LINE_MAX)
		return -EINVAL;
	if (c->line_cr) {
		if (ch != '\n' || !c->line_has_digits)
			return -EINVAL;
		c->line_len = 0;
		c->line_cr = c->line_has_digits = c->in_extension = false;
		c->state = c->remaining ? CDE_CHUNK_DATA : CDE_CHUNK_TRAILER;
		return 0;
	}
	if (ch == '\r') {
		c->line_cr = true;
		return 0;
	}
	if (c->in_extension)
		/* chunk-ext: ignored, but no control bytes in it. */
		return (unsigned char)ch < 0x20 && ch != '\t' ? -EINVAL : 0;
	if (ch == ';') {
		if (!c->line_has_digits)
			return -EINVAL;
		c->in_extension = true;
		return 0;
	}
	d = cde_hex_value(ch);
	if (d < 0 || c->remaining > (UINT64_MAX >> 4))
		return -EINVAL;
	c->remaining = (c->remaining << 4) | (uint64_t)d;
	c->line_has_digits = true;
	return c->total + c->remaining > max_body ? -EFBIG : 0;
}

/* The CRLF that ends a chunk's data. */
static int chunk_data_end_byte(struct cde_http_chunked *c, char ch, uint64_t max_body)
{
	if (!c->line_cr) {
		if (ch != '\r')
			return -EINVAL;
		c->line_cr = true;
		return 0;
	}
	if (ch != '\n')
		return -EINVAL;
	c->line_cr = false;
	c->state = CDE_CHUNK_SIZE;
	return 0;
}

/* Trailer fields are read and dropped; only their framing and size
 * matter. An empty line ends the body. */
static int chunk_trailer_byte(struct cde_http_chunked *c, char ch, uint64_t max_body)
{
	if (++c->trailer_bytes > TRAILER_MAX)
		return -EINVAL;
	if (c->line_cr) {
		if (ch != '\n')
			return -EINVAL;
		if (c->line_len == 0)
			c->state = CDE_CHUNK_DONE;
		c->line_len = 0;
		c->line_cr = false;
	} else if (ch == '\r') {
		c->line_cr = true;
	} else if (ch == '\n' || ch == '\0') {
		return -EINVAL;
	} else {
		c->line_len++;
	}
	return 0;
}

/* Hands what of the @len bytes at @in the chunk still holds to @sink;
 * *@ret_used says how many (none when @sink fails). */
static int chunk_data(struct cde_http_chunked *c, const char *in, size_t len,
		      int (*sink)(void *ctx, const char *data, size_t n), void *ctx, size_t *ret_used)
{
	size_t n = len > c->remaining ? (size_t)c->remaining : len;
	int r = sink(ctx, in, n);

	if (r < 0)
		return r;
	*ret_used = n;
	c->remaining -= n;
	c->total += n;
	if (c->remaining == 0)
		c->state = CDE_CHUNK_DATA_END;
	return 0;
}

int cde_http_chunked_feed(struct cde_http_chunked *c, const char *in, size_t len, size_t *consumed,
			  uint64_t max_body, int (*sink)(void *ctx, const char *data, size_t n),
			  void *ctx)
{
	static int (*const on_byte[])(struct cde_http_chunked *c, char ch, uint64_t max_body) = {
		[CDE_CHUNK_SIZE] = chunk_size_byte,
		[CDE_CHUNK_DATA_END] = chunk_data_end_byte,
		[CDE_CHUNK_TRAILER] = chunk_trailer_byte,
	};
	size_t i = 0, used;
	int r = 0;

	while (i < len && c->state != CDE_CHUNK_DONE && r == 0) {
		if (c->state == CDE_CHUNK_DATA) {
			used = 0;
			r = chunk_data(c, in + i, len - i, sink, ctx, &used);
			i += used;
		} else {
			/* The byte counts as consumed even when it is refused. */
			r = on_byte[c->state](c, in[i++], max_body);
		}
	}
	*consumed = i;
	if (r < 0)
		return r;
	return c->state == CDE_CHUNK_DONE ? 1 : 0;
}
