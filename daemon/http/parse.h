#pragma once
/* Strict HTTP/1.1 request parsing (RFC 9112), for the daemon's own server.
 *
 * Pure functions over bytes: no I/O, no allocation. They refuse what
 * request smuggling and header abuse are built from: bare CR or LF, NUL
 * and other control bytes, whitespace before a colon, folded lines, both
 * Transfer-Encoding and Content-Length, a repeated Content-Length (or
 * Transfer-Encoding, Content-Type, Host, or a credential or signature
 * header), and any Transfer-Encoding but "chunked". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDE_HTTP_MAX_HEADERS_CAP 128

enum cde_http_method {
	CDE_HTTP_GET,
	CDE_HTTP_HEAD,
	CDE_HTTP_POST,
	CDE_HTTP_PUT,
	CDE_HTTP_DELETE,
	CDE_HTTP_OPTIONS,
	CDE_HTTP_PATCH,
	CDE_HTTP_OTHER,
};

struct cde_http_header {
	const char *name;	/* NUL-terminated, as sent */
	const char *value;	/* NUL-terminated, without surrounding spaces */
};

struct cde_http_head {
	enum cde_http_method method;
	const char *method_name;
	const char *target;	/* origin-form: "/path?query" */
	int minor_version;	/* HTTP/1.<minor> */
	size_t n_headers;
	struct cde_http_header headers[CDE_HTTP_MAX_HEADERS_CAP];
	int64_t content_length;	/* -1 when absent */
	bool chunked;
	bool keep_alive;
	bool expect_continue;
};

/* Why a head was refused: the status to answer and a reason for the body. */
struct cde_http_error {
	int status;
	const char *reason;
};

/* Parses the head in @buf[0..@len), which must end with the empty line
 * (CRLF CRLF). Parsing is in place: @buf is modified and @head points
 * into it. At most @max_headers header fields are accepted (431 past
 * that; @max_headers is capped at CDE_HTTP_MAX_HEADERS_CAP).
 * Returns 0, or -EINVAL with @err set. */
int cde_http_parse_head(char *buf, size_t len, size_t max_headers, struct cde_http_head *head,
			struct cde_http_error *err);

/* Looks for the end of a request head (its empty line) in @buf[0..@len),
 * the bytes received so far, resuming at *@scanned (0 for a new head; it
 * is moved on so that each byte is looked at once). Returns 1 with the
 * head's length in *@ret_len, 0 when more input is needed, or -EINVAL
 * with @err set as soon as a byte shows the head can never be valid (a
 * bare LF or CR, a NUL or another control byte): refused at once rather
 * than at the head's deadline. */
int cde_http_head_end(const char *buf, size_t len, size_t *scanned, size_t *ret_len,
		      struct cde_http_error *err);

/* The value of header @name (case-insensitive) or NULL. When a header
 * occurs more than once, the first. */
const char *cde_http_head_get(const struct cde_http_head *head, const char *name);

/* Incremental chunked-body decoder. */
struct cde_http_chunked {
	enum {
		CDE_CHUNK_SIZE,		/* reading a chunk-size line */
		CDE_CHUNK_DATA,		/* reading chunk data */
		CDE_CHUNK_DATA_END,	/* the CRLF after chunk data */
		CDE_CHUNK_TRAILER,	/* trailer lines until the empty one */
		CDE_CHUNK_DONE,
	} state;
	uint64_t remaining;	/* bytes left in the current chunk */
	uint64_t total;		/* body bytes decoded so far */
	size_t line_len;	/* length of the line being read */
	size_t trailer_bytes;
	bool line_cr;		/* the line read so far ends with CR */
	bool line_has_digits;
	bool in_extension;
};

/* Feeds @len bytes of @in. Body bytes are appended to @out through
 * @sink(@ctx, data, n), which returns 0 or -errno. Stops after the last
 * chunk's trailer; *@consumed says how many input bytes were used.
 * Returns 1 when the body is complete, 0 when more input is needed,
 * -EINVAL on malformed framing, -EFBIG when the body would exceed
 * @max_body, or what @sink returned. */
int cde_http_chunked_feed(struct cde_http_chunked *c, const char *in, size_t len, size_t *consumed,
			  uint64_t max_body, int (*sink)(void *ctx, const char *data, size_t n),
			  void *ctx);
