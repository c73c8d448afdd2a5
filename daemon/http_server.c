/* The HTTP server: connections, framing, deadlines and replies; what a
 * request means is the handler's business.
 *
 * Invariants:
 * - a connection handles one request at a time: while a request is being
 *   handled it does not read, so a client cannot queue unbounded work;
 * - every request has an absolute deadline counted from its first byte
 *   (head, then body), re-armed only between requests, so a client that
 *   trickles one byte at a time is closed on time (libevent's own timeouts
 *   restart on every byte);
 * - everything a client can make us hold is capped: head bytes, header
 *   fields, body bytes, connections in all and per address;
 * - a request outlives its connection: if the client goes away while the
 *   handler works (say, waiting for the journal), the reply is dropped,
 *   not written to freed memory. */

#include "daemon/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <cjson/cJSON.h>

#include "daemon/log.h"
#include "schemas/hex.h"

#define MAX_LISTENERS 4

enum conn_state {
	CONN_IDLE,	/* between requests */
	CONN_HEAD,	/* reading the request head */
	CONN_BODY,	/* reading the body */
	CONN_HANDLING,	/* the handler has the request */
	CONN_WRITING,	/* flushing a reply */
	CONN_LINGER,	/* replied and shut down our side; discarding what still comes */
};

struct conn;

struct cde_http_request {
	struct conn *conn;	/* NULL once the connection is gone */
	struct cde_http_server *srv;	/* NULL once the server is freed */
	char *head_buf;
	struct cde_http_head head;
	char *path;
	const char *query;
	char *body;
	size_t body_len, body_cap;
	char peer[64];
	bool loopback;
	struct timespec started;	/* when its head was complete */
	char id[CDE_HTTP_REQUEST_ID_MAX + 1];	/* X-Request-Id */
};

struct conn {
	struct cde_http_server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;
	struct event *deadline;
	enum conn_state state;
	struct cde_http_request *req;	/* being read or handled */
	struct cde_http_chunked chunked;
	uint64_t body_expected;		/* with Content-Length */
	struct cde_http_limits limits;	/* as when the request started */
	struct timespec started;	/* the request's first byte, monotonic */
	char addr[48];			/* peer address without port */
	char peer[64];
	bool loopback;
	bool close_after;
	bool linger;			/* refused mid-request: drain before closing */
	size_t lingered;		/* bytes discarded while lingering */
};

struct cde_http_server {
	struct event_base *base;
	struct event *accept_retry;	/* re-enables the listeners after EMFILE */
	struct cde_http_limits limits;
	cde_http_handler_fn handler;
	void *handler_arg;
	struct evconnlistener *listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct conn *conns;
	size_t n_conns;
	bool shutting_down;
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	cde_http_observer_fn observer;
	void *observer_arg;
};

void cde_http_limits_default(struct cde_http_limits *l)
{
	l->body_max = 1024 * 1024;
	l->head_max = 16 * 1024;
	l->headers_max = 64;
	l->head_timeout_ms = 10000;
	l->body_timeout_ms = 30000;
	l->idle_timeout_ms = 30000;
	l->max_connections = 1024;
	l->max_connections_per_address = 64;
}

static const char *status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
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

static void request_free(struct cde_http_request *req)
{
	if (!req)
		return;
	free(req->head_buf);
	free(req->path);
	free(req->body);
	free(req);
}

static void conn_free(struct conn *c)
{
	struct cde_http_server *s = c->srv;

	if (c->req) {
		if (c->state == CONN_HANDLING)
			c->req->conn = NULL; /* the handler still owns it */
		else
			request_free(c->req);
	}
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	free(c);
	if (s->shutting_down && s->n_conns == 0 && s->shutdown_done) {
		void (*done)(void *) = s->shutdown_done;

		s->shutdown_done = NULL;
		done(s->shutdown_arg);
	}
}

static void arm_deadline(struct conn *c, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_add(c->deadline, &tv);
}

/* Arms the deadline @ms after the request's first byte. */
static void arm_deadline_from_start(struct conn *c, unsigned ms)
{
	struct timespec now;
	long long used;

	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long long)(now.tv_sec - c->started.tv_sec) * 1000 +
	       (now.tv_nsec - c->started.tv_nsec) / 1000000;
	arm_deadline(c, used >= ms ? 0 : (unsigned)(ms - used));
}

bool cde_http_request_id_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		char ch = id[n];

		if (n == CDE_HTTP_REQUEST_ID_MAX ||
		    !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return n > 0;
}

/* A fresh request id: splitmix64 over a counter from a random seed, so
 * ids never repeat within a process and differ between runs, for the
 * cost of one getrandom at the first request. */
static void new_request_id(char out[17])
{
	static uint64_t state;
	static bool seeded;
	uint64_t z;

	if (!seeded) {
		struct timespec now;

		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) != (ssize_t)sizeof(state)) {
			clock_gettime(CLOCK_REALTIME, &now);
			state = (uint64_t)now.tv_sec * 1000000007u ^ (uint64_t)now.tv_nsec;
		}
		seeded = true;
	}
	z = (state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	snprintf(out, 17, "%016llx", (unsigned long long)z);
}

/* Writes a complete response on the connection; a reply to HEAD has the
 * headers of the reply to GET and no body. */
static void write_response(struct conn *c, int status, const char *body,
			   const char *const *extra_headers, bool head_only, const char *req_id)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = body ? strlen(body) : 0;

	if (c->srv->shutting_down)
		c->close_after = true;
	bool typed = false;

	for (size_t i = 0; extra_headers && extra_headers[i]; i++)
		typed |= strncasecmp(extra_headers[i], "Content-Type:", 13) == 0;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, status_text(status));
	if (body && !typed)
		evbuffer_add_printf(out, "Content-Type: application/json\r\n");
	evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
	for (size_t i = 0; extra_headers && extra_headers[i]; i++)
		evbuffer_add_printf(out, "%s\r\n", extra_headers[i]);
	evbuffer_add_printf(out, "X-Request-Id: %s\r\n", req_id);
	evbuffer_add_printf(out, "Connection: %s\r\n\r\n", c->close_after ? "close" : "keep-alive");
	if (len && !head_only)
		evbuffer_add(out, body, len);
	c->state = CONN_WRITING;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	/* A reader that never drains our reply must not hold the slot. */
	arm_deadline(c, c->limits.idle_timeout_ms);
}

/* Answers a request the server itself refuses, and closes afterwards:
 * after a framing error nothing that follows can be trusted. */
static void refuse(struct conn *c, int status, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	char *body = NULL, id[CDE_HTTP_REQUEST_ID_MAX + 1], code[8];
	bool parsed = c->req && c->req->path;

	if (c->req && c->req->id[0])
		memcpy(id, c->req->id, sizeof(id));
	else
		new_request_id(id);
	snprintf(code, sizeof(code), "%d", status);
	CDE_LOG_KV(status >= 500 ? CDE_LOG_ERROR : CDE_LOG_INFO, id, "request refused",
		   { "status", code }, { "method", parsed ? c->req->head.method_name : NULL },
		   { "path", parsed ? c->req->path : NULL }, { "peer", c->peer }, { "error", reason });
	if (o && cJSON_AddStringToObject(o, "error", reason) && cJSON_AddArrayToObject(o, "details"))
		body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	request_free(c->req);
	c->req = NULL;
	c->close_after = true;
	c->linger = true;
	write_response(c, status, body ? body : "{\"error\":\"internal error\",\"details\":[]}", NULL,
		       false, id);
	free(body);
}

static void process_input(struct conn *c);

static int body_append(void *ctx, const char *data, size_t n)
{
	struct cde_http_request *req = ctx;

	if (req->body_len + n + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		char *b;

		while (cap < req->body_len + n + 1)
			cap *= 2;
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

static void dispatch(struct conn *c)
{
	struct cde_http_request *req = c->req;

	if (!req->body && body_append(req, "", 0) < 0) {
		refuse(c, 500, "out of memory");
		return;
	}
	c->state = CONN_HANDLING;
	c->close_after = c->close_after || !req->head.keep_alive;
	event_del(c->deadline);
	bufferevent_disable(c->bev, EV_READ);
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

static void read_head(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	struct cde_http_request *req;
	struct cde_http_error err;
	size_t head_len;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) > c->limits.head_max)
			refuse(c, 431, "request head too large");
		return;
	}
	head_len = (size_t)end.pos + 4;
	if (head_len > c->limits.head_max) {
		refuse(c, 431, "request head too large");
		return;
	}
	req = calloc(1, sizeof(*req));
	if (!req || !(req->head_buf = malloc(head_len + 1))) {
		free(req);
		refuse(c, 500, "out of memory");
		return;
	}
	c->req = req;
	req->conn = c;
	req->srv = c->srv;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	memcpy(req->peer, c->peer, sizeof(req->peer));
	req->loopback = c->loopback;
	new_request_id(req->id);
	evbuffer_remove(in, req->head_buf, head_len);
	req->head_buf[head_len] = '\0';
	if (cde_http_parse_head(req->head_buf, head_len, c->limits.headers_max, &req->head, &err) < 0) {
		refuse(c, err.status, err.reason);
		return;
	}
	{
		const char *given = cde_http_head_get(&req->head, "X-Request-Id");

		if (cde_http_request_id_valid(given))
			snprintf(req->id, sizeof(req->id), "%s", given);
	}
	if (split_target(req) < 0) {
		refuse(c, 500, "out of memory");
		return;
	}
	if (req->head.content_length > 0 && (uint64_t)req->head.content_length > c->limits.body_max) {
		/* Decided before reading a byte of it: the body is not read,
		 * so the connection cannot be reused. */
		refuse(c, 413, "request body too large");
		return;
	}
	if (req->head.chunked || req->head.content_length > 0) {
		memset(&c->chunked, 0, sizeof(c->chunked));
		c->body_expected = req->head.content_length > 0 ? (uint64_t)req->head.content_length : 0;
		c->state = CONN_BODY;
		if (req->head.expect_continue)
			evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
		return;
	}
	dispatch(c);
}

static void read_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct cde_http_request *req = c->req;
	size_t avail = evbuffer_get_length(in);

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
	size_t used = 0;
	int r = cde_http_chunked_feed(&c->chunked, (const char *)evbuffer_pullup(in, -1), avail, &used,
				      c->limits.body_max, body_append, req);

	evbuffer_drain(in, used);
	if (r == -EFBIG)
		refuse(c, 413, "request body too large");
	else if (r == -ENOMEM)
		refuse(c, 500, "out of memory");
	else if (r < 0)
		refuse(c, 400, "malformed chunked body");
	else if (r == 1)
		dispatch(c);
}

static void process_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	for (;;) {
		enum conn_state before = c->state;

		switch (c->state) {
		case CONN_IDLE:
			/* RFC 9112 2.2: empty lines before a request are ignored. */
			while (evbuffer_get_length(in) >= 2) {
				unsigned char two[2];

				evbuffer_copyout(in, two, 2);
				if (two[0] != '\r' || two[1] != '\n')
					break;
				evbuffer_drain(in, 2);
			}
			if (evbuffer_get_length(in) == 0)
				return;
			/* The request starts with its first byte, and so do
			 * its deadlines. */
			c->limits = c->srv->limits;
			c->state = CONN_HEAD;
			clock_gettime(CLOCK_MONOTONIC, &c->started);
			arm_deadline(c, c->limits.head_timeout_ms);
			break;
		case CONN_HEAD:
			read_head(c);
			if (c->state == CONN_BODY)
				arm_deadline_from_start(c, c->limits.body_timeout_ms);
			break;
		case CONN_BODY:
			read_body(c);
			break;
		default:
			return;
		}
		if (c->state == before)
			return; /* needs more input */
	}
}

#define LINGER_MS 2000
#define LINGER_BYTES (1024 * 1024)

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_LINGER) {
		struct evbuffer *in = bufferevent_get_input(bev);

		c->lingered += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->lingered > LINGER_BYTES)
			conn_free(c);
		return;
	}
	process_input(c);
}

/* After a refusal the client may still be sending the body we will not
 * read. Closing at once would make the kernel answer those bytes with a
 * reset, which can destroy our reply before the client reads it; so our
 * side is shut down and the rest is read and dropped, for a while. */
static void start_linger(struct conn *c)
{
	c->state = CONN_LINGER;
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) < 0) {
		conn_free(c);
		return;
	}
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	arm_deadline(c, LINGER_MS);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state != CONN_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->close_after) {
		if (c->linger)
			start_linger(c);
		else
			conn_free(c);
		return;
	}
	c->state = CONN_IDLE;
	arm_deadline(c, c->limits.idle_timeout_ms);
	bufferevent_enable(bev, EV_READ);
	process_input(c); /* a pipelined request may be waiting */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_LINGER) {
		conn_free(c); /* the client closed too: done */
		return;
	}
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    (c->state == CONN_HEAD || c->state == CONN_BODY)) {
		/* The client half-closed mid-request: it may still read. */
		refuse(c, 400, "request truncated: the connection closed before its end");
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->state == CONN_HANDLING) {
		/* Keep it until the handler answers; the reply may still be
		 * readable by a client that only shut down its side. */
		c->close_after = true;
		return;
	}
	conn_free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_HEAD || c->state == CONN_BODY)
		refuse(c, 408, "request not received in time");
	else
		conn_free(c); /* idle, a reply nobody reads, or done lingering */
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static void format_addr(const struct sockaddr *sa, char *addr, size_t asize, char *peer, size_t psize)
{
	unsigned port = 0;

	addr[0] = '\0';
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, (socklen_t)asize);
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(peer, psize, "%s:%u", addr, port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, (socklen_t)asize);
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(peer, psize, "[%s]:%u", addr, port);
	} else {
		snprintf(peer, psize, "unknown");
	}
}

/* Tells a connection over a cap why it is closed, best effort and
 * without blocking: a clear 503 beats a reset the client must guess at. */
static void refuse_connection(evutil_socket_t fd, const char *why)
{
	char reply[256];
	int n = snprintf(reply, sizeof(reply),
			 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			 "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n"
			 "{\"error\":\"%s\",\"details\":[]}",
			 strlen(why) + 25, why);

	if (n > 0 && (size_t)n < sizeof(reply) && send(fd, reply, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* Nothing more to do: the close below is the answer. */
	}
	evutil_closesocket(fd);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct cde_http_server *s = arg;
	struct conn *c;
	char addr[48], peer[64];
	unsigned same = 0;

	format_addr(sa, addr, sizeof(addr), peer, sizeof(peer));
	/* A linear count is enough: the list is capped by max_connections. */
	for (struct conn *o = s->conns; o; o = o->next)
		same += strcmp(o->addr, addr) == 0;
	if (s->shutting_down || s->n_conns >= s->limits.max_connections ||
	    same >= s->limits.max_connections_per_address) {
		refuse_connection(fd, s->shutting_down ? "the daemon is stopping"
				  : same >= s->limits.max_connections_per_address
					  ? "too many connections from this address"
					  : "too many connections");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = s;
	c->limits = s->limits;
	/* A reply is written whole in one go; Nagle would hold its last
	 * segment back until the client's delayed ACK (40 ms on Linux). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	memcpy(c->addr, addr, sizeof(c->addr));
	memcpy(c->peer, peer, sizeof(c->peer));
	c->loopback = addr_is_loopback(sa);
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(s->base, on_deadline, c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (!c->bev || !c->deadline) {
		if (!c->bev)
			evutil_closesocket(fd);
		conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
	arm_deadline(c, c->limits.idle_timeout_ms);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct cde_http_server *s = arg;

	for (size_t i = 0; !s->shutting_down && i < s->n_listeners; i++)
		evconnlistener_enable(s->listeners[i]);
}

/* accept() failed, typically out of file descriptors: the pending
 * connection keeps the listener readable, so stop listening for a moment
 * rather than spin. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct cde_http_server *s = arg;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	for (size_t i = 0; i < s->n_listeners; i++)
		evconnlistener_disable(s->listeners[i]);
	event_add(s->accept_retry, &tv);
}

int cde_http_server_new(struct event_base *base, const struct cde_http_limits *limits,
			cde_http_handler_fn handler, void *arg, struct cde_http_server **ret)
{
	struct cde_http_server *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->accept_retry = evtimer_new(base, on_accept_retry, s);
	if (!s->accept_retry) {
		free(s);
		return -ENOMEM;
	}
	s->base = base;
	s->limits = *limits;
	s->handler = handler;
	s->handler_arg = arg;
	*ret = s;
	return 0;
}

int cde_http_server_listen(struct cde_http_server *s, const char *host, unsigned short port,
			   char *bound, size_t bound_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char portstr[8];
	struct evconnlistener *l;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[48];
	int r;

	if (s->n_listeners == MAX_LISTENERS)
		return -E2BIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	l = evconnlistener_new_bind(s->base, on_accept, s,
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 512,
				    res->ai_addr, (int)res->ai_addrlen);
	r = -errno;
	freeaddrinfo(res);
	if (!l)
		return r ? r : -EADDRNOTAVAIL;
	evconnlistener_set_error_cb(l, on_accept_error);
	s->listeners[s->n_listeners++] = l;
	if (bound && getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl) == 0)
		format_addr((struct sockaddr *)&ss, addr, sizeof(addr), bound, bound_size);
	return 0;
}

void cde_http_server_set_limits(struct cde_http_server *s, const struct cde_http_limits *limits)
{
	s->limits = *limits;
}

void cde_http_server_shutdown(struct cde_http_server *s, void (*done)(void *arg), void *arg)
{
	struct conn *c, *next;

	s->shutting_down = true;
	s->shutdown_done = done;
	s->shutdown_arg = arg;
	for (size_t i = 0; i < s->n_listeners; i++)
		evconnlistener_disable(s->listeners[i]);
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_IDLE)
			conn_free(c);
		else
			c->close_after = true;
	}
	if (s->n_conns == 0 && s->shutdown_done) {
		s->shutdown_done = NULL;
		done(arg);
	}
}

size_t cde_http_server_connections(const struct cde_http_server *s)
{
	return s->n_conns;
}

struct cde_http_server *cde_http_server_free(struct cde_http_server *s)
{
	if (!s)
		return NULL;
	s->shutdown_done = NULL;
	while (s->conns) {
		/* A request its handler still holds outlives the server. */
		if (s->conns->req && s->conns->state == CONN_HANDLING)
			s->conns->req->srv = NULL;
		conn_free(s->conns);
	}
	for (size_t i = 0; i < s->n_listeners; i++)
		evconnlistener_free(s->listeners[i]);
	event_free(s->accept_retry);
	free(s);
	return NULL;
}

enum cde_http_method cde_http_request_method(const struct cde_http_request *req)
{
	return req->head.method;
}

const char *cde_http_request_method_name(const struct cde_http_request *req)
{
	return req->head.method_name;
}

const char *cde_http_request_path(const struct cde_http_request *req)
{
	return req->path;
}

const char *cde_http_request_query(const struct cde_http_request *req)
{
	return req->query;
}

const char *cde_http_request_header(const struct cde_http_request *req, const char *name)
{
	return cde_http_head_get(&req->head, name);
}

const struct cde_http_head *cde_http_request_head(const struct cde_http_request *req)
{
	return &req->head;
}

const char *cde_http_request_body(const struct cde_http_request *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

const char *cde_http_request_peer(const struct cde_http_request *req)
{
	return req->peer;
}

bool cde_http_request_peer_is_loopback(const struct cde_http_request *req)
{
	return req->loopback;
}

const char *cde_http_request_id(const struct cde_http_request *req)
{
	return req->id;
}

void cde_http_reply(struct cde_http_request *req, int status, const char *body,
		    const char *const *extra_headers)
{
	struct conn *c = req->conn;
	struct timespec now;
	double seconds;

	clock_gettime(CLOCK_MONOTONIC, &now);
	seconds = (double)(now.tv_sec - req->started.tv_sec) +
		  (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
	if (req->srv && req->srv->observer)
		req->srv->observer(req->srv->observer_arg, req, status, seconds);
	if (cde_log_enabled(CDE_LOG_DEBUG)) {
		char code[8], ms[32];

		snprintf(code, sizeof(code), "%d", status);
		snprintf(ms, sizeof(ms), "%.3f", seconds * 1000);
		CDE_LOG_KV(CDE_LOG_DEBUG, req->id, "request answered", { "method", req->head.method_name },
			   { "path", req->path }, { "status", code }, { "ms", ms }, { "peer", req->peer },
			   { "client_gone", c ? NULL : "true" });
	}
	if (c) {
		c->req = NULL;
		write_response(c, status, body, extra_headers, req->head.method == CDE_HTTP_HEAD, req->id);
	}
	request_free(req);
}

void cde_http_server_set_observer(struct cde_http_server *s, cde_http_observer_fn fn, void *arg)
{
	s->observer = fn;
	s->observer_arg = arg;
}
