/* Writing a reply on a connection: its head, then its body, to the
 * socket at once when nothing waits before it; what the socket does not
 * take is left to the bufferevent and its write event. This runs for
 * every request, so nothing here goes through stdio. */

#include "daemon/http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

static const char *status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* Appends @n bytes of @s at *@at in @buf (@size), unless they do not fit:
 * then only *@at moves on, so the caller sees how much was needed. */
static void head_put(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
	if (*at + n <= size)
		memcpy(buf + *at, s, n);
	*at += n;
}

static void head_put_str(char *buf, size_t size, size_t *at, const char *s)
{
	head_put(buf, size, at, s, strlen(s));
}

/* The reply's head into @buf: returns its length, larger than @size when
 * it did not fit (nothing is then complete). Without stdio: this runs for
 * every reply. */
static size_t reply_head(char *buf, size_t size, int status, size_t len, bool typed, bool with_type,
			 const char *const *extra_headers, const char *req_id, bool close)
{
	char digits[24], *p = digits + sizeof(digits);
	char code[4] = { (char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10), (char)('0' + status % 10), ' ' };
	size_t at = 0;

	head_put(buf, size, &at, "HTTP/1.1 ", 9);
	head_put(buf, size, &at, code, 4);
	head_put_str(buf, size, &at, status_text(status));
	if (with_type && !typed)
		head_put_str(buf, size, &at, "\r\nContent-Type: application/json");
	do
		*--p = (char)('0' + len % 10);
	while ((len /= 10) != 0);
	head_put_str(buf, size, &at, "\r\nContent-Length: ");
	head_put(buf, size, &at, p, (size_t)(digits + sizeof(digits) - p));
	for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
		head_put(buf, size, &at, "\r\n", 2);
		head_put_str(buf, size, &at, extra_headers[i]);
	}
	head_put_str(buf, size, &at, "\r\nX-Request-Id: ");
	head_put_str(buf, size, &at, req_id);
	head_put_str(buf, size, &at, close ? "\r\nConnection: close\r\n\r\n" : "\r\nConnection: keep-alive\r\n\r\n");
	return at;
}

/* Writes what it can of @head and @body to @fd at once: the bytes
 * written, 0 when it took none (full, or failed: the write event sees the
 * error). Written past the bufferevent, which copied both into a chain it
 * allocated, then freed, for every reply. */
static size_t write_direct(evutil_socket_t fd, const char *head, size_t head_len, const char *body, size_t len)
{
	struct iovec iov[2] = { { (void *)head, head_len }, { (void *)body, len } };
	ssize_t w;

	do
		w = writev(fd, iov, len ? 2 : 1);
	while (w < 0 && errno == EINTR);
	return w < 0 ? 0 : (size_t)w;
}

/* A reply to HEAD has the headers of the reply to GET and no body. */
void cde_http_conn_write(struct cde_http_conn *c, int status, const char *body,
			   const char *const *extra_headers, bool head_only, const char *req_id)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = body ? strlen(body) : 0, need, done = 0;
	char head[1024], *big = NULL;
	const char *text = head;
	bool typed = false, bare = false;

	if (c->srv->shutting_down)
		c->close_after = true;
	for (size_t i = 0; extra_headers && extra_headers[i]; i++)
		typed |= strncasecmp(extra_headers[i], "Content-Type:", 13) == 0;
	need = reply_head(head, sizeof(head), status, len, typed, body != NULL, extra_headers, req_id,
			  c->close_after);
	if (need > sizeof(head)) {
		big = malloc(need);
		if (big)
			reply_head(big, need, status, len, typed, body != NULL, extra_headers, req_id, c->close_after);
		else {
			/* What was asked cannot be said: a bare 500, and the end. */
			text = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			need = strlen(text);
			bare = true;
			c->close_after = true;
		}
		text = big ? big : text;
	}
	if (head_only || bare)
		len = 0;
	c->state = CDE_CONN_WRITING;
	if (!c->close_after && evbuffer_get_length(out) == 0) {
		done = write_direct(bufferevent_getfd(c->bev), text, need, body, len);
		if (done == need + len) {
			free(big);
			cde_http_conn_written(c);
			return;
		}
	}
	if (done < need)
		evbuffer_add(out, text + done, need - done);
	if (len)
		evbuffer_add(out, body + (done > need ? done - need : 0), len - (done > need ? done - need : 0));
	free(big);
	if (!c->close_after && cde_http_conn_write_now(c))
		return;
	/* Reading stays on for a kept connection (conn.c bounds what it
	 * keeps meanwhile); one that closes has nothing more to read. */
	if (c->close_after)
		bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	/* A reader that never drains our reply must not hold the slot. */
	cde_http_conn_arm(c, c->limits.idle_timeout_ms);
}
