/* The HTTP server: listeners, accepting under the connection caps,
 * replies, and what a handler reads of a request; reading requests off a
 * connection is conn.c's job, writing a reply reply.c's, the caps'
 * bookkeeping slots.c's, and what a request means the handler's.
 *
 * Invariants:
 * - everything a client can make us hold is capped: head bytes, header
 *   fields, body bytes (per request and in flight in all), connections in
 *   all and per address;
 * - a request outlives its connection: if the client goes away while the
 *   handler works (say, waiting for the journal), the reply is dropped,
 *   not written to freed memory. */

#include "daemon/http/internal.h"

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
	l->bodies_in_flight_max = 64 * 1024 * 1024;
}

/* Under AddressSanitizer every request is freed, so that a read of one
 * after its reply is caught rather than served from its successor. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

void cde_http_request_free(struct cde_http_request *req)
{
	if (!req)
		return;
	if (req->srv)
		req->srv->body_bytes -= req->body_counted;
	cde_http_slots_uncount_address(req);
	free(req->head_buf);
	free(req->path);
	free(req->body);
	/* Kept for the connection's next request: a request is over 2 KiB
	 * (its header table), and allocating that much made malloc
	 * consolidate its small free chunks, once a request. */
	if (req->conn && !req->conn->spare && !SANITIZED)
		req->conn->spare = req;
	else
		free(req);
}

void cde_http_conn_free(struct cde_http_conn *c)
{
	struct cde_http_server *s = c->srv;

	if (c->req) {
		if (c->state == CDE_CONN_HANDLING) {
			cde_http_slots_uncount_address(c->req);
			c->req->conn = NULL; /* the handler still owns it */
		}
		else
			cde_http_request_free(c->req);
	}
	free(c->spare);
	cde_http_slots_remove(s, c);
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

void cde_http_conn_arm(struct cde_http_conn *c, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_add(c->deadline, &tv);
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
void cde_http_new_request_id(char out[17])
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
	for (int i = 15; i >= 0; i--, z >>= 4)
		out[i] = "0123456789abcdef"[z & 0xf];
	out[16] = '\0';
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
	struct cde_http_conn *c;
	char addr[48], peer[64];
	const char *why = s->shutting_down ? "the daemon is stopping" : NULL;

	format_addr(sa, addr, sizeof(addr), peer, sizeof(peer));
	if (!why)
		why = cde_http_slots_admit(s, addr);
	if (why) {
		refuse_connection(fd, why);
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
	c->deadline = evtimer_new(s->base, cde_http_conn_on_deadline, c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (!c->bev || !c->deadline || cde_http_slots_add(s, c) < 0) {
		if (!c->bev)
			evutil_closesocket(fd);
		cde_http_conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, cde_http_conn_on_read, cde_http_conn_on_write, cde_http_conn_on_event, c);
	/* Writing starts off: a reply is written at once and the write event
	 * is only asked for when the socket cannot take all of it. */
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	cde_http_slots_set_idle(c, true);
	cde_http_conn_arm(c, c->limits.idle_timeout_ms);
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

	if (s->n_listeners == CDE_HTTP_MAX_LISTENERS)
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
	struct cde_http_conn *c, *next;

	s->shutting_down = true;
	s->shutdown_done = done;
	s->shutdown_arg = arg;
	for (size_t i = 0; i < s->n_listeners; i++)
		evconnlistener_disable(s->listeners[i]);
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CDE_CONN_IDLE)
			cde_http_conn_free(c);
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
		if (s->conns->req && s->conns->state == CDE_CONN_HANDLING)
			s->conns->req->srv = NULL;
		cde_http_conn_free(s->conns);
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
	struct cde_http_conn *c = req->conn;
	struct timespec now;
	double seconds;

	clock_gettime(CLOCK_MONOTONIC, &now);
	seconds = (double)(now.tv_sec - req->started.tv_sec) +
		  (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
	if (req->srv && req->srv->observer)
		req->srv->observer(req->srv->observer_arg, req, status, seconds);
	if (req->reporter.answered) {
		struct cde_http_answer a = {
			.id = req->id, .status = status, .method = req->head.method_name,
			.path = req->path, .peer = req->peer, .seconds = seconds, .client_gone = !c,
		};

		req->reporter.answered(req->reporter.arg, &a);
	}
	if (c) {
		c->req = NULL;
		if (c->state == CDE_CONN_HEAD) {
			/* Answered from its head: the body stays unread, so
			 * the connection cannot carry another request. */
			c->close_after = true;
			c->linger = true;
		}
		cde_http_conn_write(c, status, body, extra_headers, req->head.method == CDE_HTTP_HEAD, req->id);
	}
	cde_http_request_free(req);
}

void cde_http_server_set_head_handler(struct cde_http_server *s, cde_http_handler_fn fn, void *arg)
{
	s->head_handler = fn;
	s->head_handler_arg = arg;
}

bool cde_http_request_at_head(const struct cde_http_request *req)
{
	return req->conn && req->conn->state == CDE_CONN_HEAD;
}

void cde_http_server_set_reporter(struct cde_http_server *s, const struct cde_http_reporter *r)
{
	s->reporter = *r;
}

void cde_http_server_set_observer(struct cde_http_server *s, cde_http_observer_fn fn, void *arg)
{
	s->observer = fn;
	s->observer_arg = arg;
}
