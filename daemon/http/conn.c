/* Reading requests off one connection: the head, what is decided from
 * it before any body is read, the body, deadlines and refusals.
 *
 * Invariants:
 * - a connection handles one request at a time: while a request is being
 *   handled what arrives is only kept, up to the head's cap (a pipelined
 *   request), then reading stops until the reply is out, so a client
 *   cannot queue unbounded work. Reading stays on otherwise: turning it
 *   off and on again for every request was two epoll_ctl calls each;
 * - every request has an absolute deadline counted from its first byte
 *   (head, then body), re-armed only between requests, so a client that
 *   trickles one byte at a time is closed on time (libevent's own timeouts
 *   restart on every byte);
 * - no byte of a body is taken before the head handler has let the request
 *   through and the body fits the bytes left under bodies_in_flight_max:
 *   a request that will be refused costs its head, not its body (what
 *   waits in the input meanwhile is bounded per connection by the head's
 *   cap and one read, as for a pipelined request);
 * - a head that can never be valid (a bare LF) is refused when that byte
 *   arrives, not at the deadline. */

#include "daemon/http/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "schemas/base/hex.h"

#define LINGER_MS 2000
#define LINGER_BYTES (1024 * 1024)

/* Arms the deadline @ms after the request's first byte. */
static void arm_from_start(struct cde_http_conn *c, unsigned ms)
{
	struct timespec now;
	long long used;

	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long long)(now.tv_sec - c->started.tv_sec) * 1000 +
	       (now.tv_nsec - c->started.tv_nsec) / 1000000;
	cde_http_conn_arm(c, used >= ms ? 0 : (unsigned)(ms - used));
}

/* Answers a request the server itself refuses, and closes afterwards:
 * after a framing error nothing that follows can be trusted, and a body
 * left unread cannot be skipped. */
static void refuse_with(struct cde_http_conn *c, int status, const char *reason,
			const char *const *extra_headers)
{
	char body[CDE_HTTP_REFUSAL_BODY_MAX] = "", id[CDE_HTTP_REQUEST_ID_MAX + 1];
	bool parsed = c->req && c->req->path;
	struct cde_http_refusal r = {
		.id = id, .status = status, .reason = reason, .peer = c->peer,
		.method = parsed ? c->req->head.method_name : NULL, .path = parsed ? c->req->path : NULL,
	};

	if (c->req && c->req->id[0])
		memcpy(id, c->req->id, sizeof(id));
	else
		cde_http_new_request_id(id);
	if (c->srv->reporter.refused)
		c->srv->reporter.refused(c->srv->reporter.arg, &r, body, sizeof(body));
	body[sizeof(body) - 1] = '\0';
	cde_http_request_free(c->req);
	c->req = NULL;
	c->close_after = true;
	c->linger = true;
	cde_http_conn_write(c, status, body, extra_headers, false, id);
}

static void refuse(struct cde_http_conn *c, int status, const char *reason)
{
	refuse_with(c, status, reason, NULL);
}

/* Bodies in flight are over their cap: the client may well succeed a
 * moment later. */
static void refuse_busy(struct cde_http_conn *c)
{
	static const char *const retry[] = { "Retry-After: 1", NULL };

	refuse_with(c, 503, "too many request bodies in flight: retry shortly", retry);
}

static int body_append(void *ctx, const char *data, size_t n)
{
	struct cde_http_request *req = ctx;
	struct cde_http_conn *c = req->conn;

	/* A body with a Content-Length was counted whole at its head; a
	 * chunked one is counted as it comes. */
	if (req->body_len + n > req->body_counted &&
	    cde_http_slots_count_body(req, req->body_len + n - req->body_counted,
				      c->limits.bodies_in_flight_max) < 0)
		return -ENOBUFS;
	if (req->body_len + n + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		char *b;

		while (cap < req->body_len + n + 1)
			cap *= 2;
		/* Known length: no room beyond it. */
		if (c->body_expected && cap > c->body_expected + 1)
			cap = (size_t)c->body_expected + 1;
		b = realloc(req->body, cap);
		if (!b)
			return -ENOMEM;
		req->body = b;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
	return 0;
}

/* Writes what the output holds to the socket now: true when all of it
 * went. A socket bufferevent keeps the start of its output frozen so
 * that only its write callback drains it; it thaws it the same way. What
 * the socket cannot take, or a write that fails, is left to the write
 * event, which sees the error too. */
static bool flush_output(struct cde_http_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int written;

	evbuffer_unfreeze(out, 1);
	written = evbuffer_write(out, bufferevent_getfd(c->bev));
	evbuffer_freeze(out, 1);
	return written >= 0 && evbuffer_get_length(out) == 0;
}

static void dispatch(struct cde_http_conn *c)
{
	struct cde_http_request *req = c->req;

	if (!req->body && body_append(req, "", 0) < 0) {
		refuse(c, 500, "out of memory");
		return;
	}
	c->state = CDE_CONN_HANDLING;
	c->close_after = c->close_after || !req->head.keep_alive;
	event_del(c->deadline);
	c->srv->handler(req, c->srv->handler_arg);
}

/* Splits the target into a percent-decoded path and the raw query (which
 * the handler decodes per parameter). "%00" is left as it is. */
static int split_target(struct cde_http_request *req)
{
	const char *t = req->head.target;
	const char *q = strchr(t, '?');
	size_t n = q ? (size_t)(q - t) : strlen(t), o = 0;

	req->path = malloc(n + 1);
	if (!req->path)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int hi = t[i] == '%' && i + 2 < n + 1 ? cde_hex_value(t[i + 1]) : -1;
		int lo = hi >= 0 ? cde_hex_value(t[i + 2]) : -1;

		if (lo >= 0 && (hi | lo)) {
			req->path[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			req->path[o++] = t[i];
		}
	}
	req->path[o] = '\0';
	req->query = q ? q + 1 : NULL;
	return 0;
}

/* Takes the head of @head_len bytes off the input into a new request.
 * Returns it, or NULL once refused. */
static struct cde_http_request *take_head(struct cde_http_conn *c, size_t head_len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct cde_http_request *req = c->spare ? c->spare : malloc(sizeof(*req));
	struct cde_http_error err;
	const char *given;

	c->spare = NULL;
	if (req)
		memset(req, 0, sizeof(*req));
	if (!req || !(req->head_buf = malloc(head_len + 1))) {
		free(req);
		refuse(c, 500, "out of memory");
		return NULL;
	}
	c->req = req;
	req->conn = c;
	req->srv = c->srv;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	memcpy(req->peer, c->peer, sizeof(req->peer));
	req->loopback = c->loopback;
	req->reporter = c->srv->reporter;
	cde_http_new_request_id(req->id);
	evbuffer_remove(in, req->head_buf, head_len);
	req->head_buf[head_len] = '\0';
	if (cde_http_parse_head(req->head_buf, head_len, c->limits.headers_max, &req->head, &err) < 0) {
		refuse(c, err.status, err.reason);
		return NULL;
	}
	given = cde_http_head_get(&req->head, "X-Request-Id");
	if (cde_http_request_id_valid(given))
		snprintf(req->id, sizeof(req->id), "%s", given);
	if (split_target(req) < 0) {
		refuse(c, 500, "out of memory");
		return NULL;
	}
	return req;
}

/* What is decided before a byte of the body is read: its size, whether
 * the head handler lets it through, and room under the cap on bodies in
 * flight. Returns true when the body is to be read. */
static bool admit_body(struct cde_http_conn *c, struct cde_http_request *req)
{
	struct cde_http_server *s = c->srv;

	if (req->head.content_length > 0 && (uint64_t)req->head.content_length > c->limits.body_max) {
		/* The body is not read, so the connection cannot be reused. */
		refuse(c, 413, "request body too large");
		return false;
	}
	if (s->head_handler) {
		s->head_handler(req, s->head_handler_arg);
		if (!c->req)
			return false; /* answered from the head (see cde_http_reply) */
	}
	c->body_expected = req->head.content_length > 0 ? (uint64_t)req->head.content_length : 0;
	if (cde_http_slots_count_body(req, c->body_expected, c->limits.bodies_in_flight_max) < 0) {
		refuse_busy(c);
		return false;
	}
	return true;
}

static void read_head(struct cde_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in), n = avail < c->limits.head_max ? avail : c->limits.head_max;
	const char *bytes = (const char *)evbuffer_pullup(in, (ssize_t)n);
	struct cde_http_request *req;
	struct cde_http_error err;
	size_t head_len;
	int r = bytes ? cde_http_head_end(bytes, n, &c->head_scanned, &head_len, &err) : 0;

	if (r < 0) {
		refuse(c, err.status, err.reason);
		return;
	}
	if (r == 0) {
		if (avail >= c->limits.head_max)
			refuse(c, 431, "request head too large");
		return;
	}
	req = take_head(c, head_len);
	if (!req)
		return;
	if (!req->head.chunked && req->head.content_length <= 0) {
		dispatch(c);
		return;
	}
	if (!admit_body(c, req))
		return;
	memset(&c->chunked, 0, sizeof(c->chunked));
	c->state = CDE_CONN_BODY;
	if (req->head.expect_continue) {
		evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
		/* The client waits for it before it sends the body. */
		if (!flush_output(c))
			bufferevent_enable(c->bev, EV_WRITE);
	}
}

static void read_body(struct cde_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct cde_http_request *req = c->req;
	size_t avail = evbuffer_get_length(in), used = 0;
	int r;

	if (!req->head.chunked) {
		size_t want = (size_t)(c->body_expected - req->body_len);
		size_t n = avail < want ? avail : want;

		if (n && body_append(req, (const char *)evbuffer_pullup(in, (ssize_t)n), n) < 0) {
			refuse(c, 500, "out of memory");
			return;
		}
		evbuffer_drain(in, n);
		if (req->body_len == c->body_expected)
			dispatch(c);
		return;
	}
	if (avail == 0)
		return;
	r = cde_http_chunked_feed(&c->chunked, (const char *)evbuffer_pullup(in, -1), avail, &used,
				  c->limits.body_max, body_append, req);
	evbuffer_drain(in, used);
	if (r == -EFBIG)
		refuse(c, 413, "request body too large");
	else if (r == -ENOBUFS)
		refuse_busy(c);
	else if (r == -ENOMEM)
		refuse(c, 500, "out of memory");
	else if (r < 0)
		refuse(c, 400, "malformed chunked body");
	else if (r == 1)
		dispatch(c);
}

/* Between requests: skips the empty lines RFC 9112 2.2 allows, and starts
 * a request at its first byte. Returns false when there is none yet. */
static bool start_request(struct cde_http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (evbuffer_get_length(in) >= 2) {
		unsigned char two[2];

		evbuffer_copyout(in, two, 2);
		if (two[0] != '\r' || two[1] != '\n')
			break;
		evbuffer_drain(in, 2);
	}
	if (evbuffer_get_length(in) == 0)
		return false;
	/* The request starts with its first byte, and so do its deadlines;
	 * from now on the connection is in use, not idle. */
	cde_http_slots_set_idle(c, false);
	c->limits = c->srv->limits;
	c->state = CDE_CONN_HEAD;
	c->head_scanned = 0;
	c->body_expected = 0;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	cde_http_conn_arm(c, c->limits.head_timeout_ms);
	return true;
}

/* The client shut down its side and all it sent is read: a request
 * begun is truncated, and an idle connection is done. */
static void input_ended(struct cde_http_conn *c)
{
	if (c->state == CDE_CONN_IDLE)
		cde_http_conn_free(c);
	else
		refuse(c, 400, "request truncated: the connection closed before its end");
}

static void process_input(struct cde_http_conn *c)
{
	for (;;) {
		enum cde_http_conn_state before = c->state;

		switch (c->state) {
		case CDE_CONN_IDLE:
			start_request(c);	/* in HEAD once a request begins */
			break;
		case CDE_CONN_HEAD:
			read_head(c);
			if (c->state == CDE_CONN_BODY)
				arm_from_start(c, c->limits.body_timeout_ms);
			break;
		case CDE_CONN_BODY:
			read_body(c);
			break;
		default:
			return;
		}
		if (c->state == before) {
			/* Needs more input, which may never come. */
			if (c->peer_closed)
				input_ended(c);
			return;
		}
	}
}

void cde_http_conn_on_read(struct bufferevent *bev, void *arg)
{
	struct cde_http_conn *c = arg;

	if (c->state == CDE_CONN_LINGER) {
		struct evbuffer *in = bufferevent_get_input(bev);

		c->lingered += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->lingered > LINGER_BYTES)
			cde_http_conn_free(c);
		return;
	}
	/* What comes while a request is handled or its reply is written
	 * waits in the input; past a head's worth, it waits in the kernel
	 * (become_idle reads again). */
	if ((c->state == CDE_CONN_HANDLING || c->state == CDE_CONN_WRITING) &&
	    evbuffer_get_length(bufferevent_get_input(bev)) >= c->limits.head_max) {
		bufferevent_disable(bev, EV_READ);
		return;
	}
	process_input(c);
}

/* After a refusal the client may still be sending the body we will not
 * read. Closing at once would make the kernel answer those bytes with a
 * reset, which can destroy our reply before the client reads it; so our
 * side is shut down and the rest is read and dropped, for a while. */
static void start_linger(struct cde_http_conn *c)
{
	c->state = CDE_CONN_LINGER;
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) < 0) {
		cde_http_conn_free(c);
		return;
	}
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	cde_http_conn_arm(c, LINGER_MS);
}

/* The reply is out and the connection stays: wait for the next request. */
static void become_idle(struct cde_http_conn *c)
{
	/* Off, or adding the next reply to the output would arm the write
	 * event again (libevent does so while it is enabled). */
	bufferevent_disable(c->bev, EV_WRITE);
	c->state = CDE_CONN_IDLE;
	cde_http_slots_set_idle(c, true);
	cde_http_conn_arm(c, c->limits.idle_timeout_ms);
	bufferevent_enable(c->bev, EV_READ);
}

bool cde_http_conn_write_now(struct cde_http_conn *c)
{
	if (!flush_output(c))
		return false;
	cde_http_conn_written(c);
	return true;
}

void cde_http_conn_written(struct cde_http_conn *c)
{
	become_idle(c);
	/* A pipelined request may be waiting: read it from the loop, not
	 * from here, which may be inside the handler of the one before. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void cde_http_conn_on_write(struct bufferevent *bev, void *arg)
{
	struct cde_http_conn *c = arg;

	if (c->state != CDE_CONN_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->close_after) {
		if (c->linger)
			start_linger(c);
		else
			cde_http_conn_free(c);
		return;
	}
	become_idle(c);
	process_input(c); /* a pipelined request may be waiting */
}

void cde_http_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct cde_http_conn *c = arg;

	if (c->state == CDE_CONN_LINGER) {
		cde_http_conn_free(c); /* the client closed too: done */
		return;
	}
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    (c->state == CDE_CONN_HEAD || c->state == CDE_CONN_BODY)) {
		/* The client half-closed mid-request: it may still read. */
		refuse(c, 400, "request truncated: the connection closed before its end");
		return;
	}
	if ((what & BEV_EVENT_EOF) && (c->state == CDE_CONN_HANDLING || c->state == CDE_CONN_WRITING ||
				       c->state == CDE_CONN_IDLE)) {
		/* A client that only shut down its side still reads: its reply
		 * goes out whole, and so do the replies to the requests it sent
		 * before (they wait in the input); the connection ends when
		 * the input is used up (process_input). */
		c->peer_closed = true;
		if (c->state == CDE_CONN_IDLE)
			process_input(c);
		return;
	}
	cde_http_conn_free(c);
}

void cde_http_conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct cde_http_conn *c = arg;

	if (c->state == CDE_CONN_HEAD || c->state == CDE_CONN_BODY)
		refuse(c, 408, "request not received in time");
	else
		cde_http_conn_free(c); /* idle, a reply nobody reads, or done lingering */
}
