#pragma once
/* What the HTTP server's files share and nothing else sees: the server,
 * its connections and requests. server.c owns the server, accepting
 * and replies, reply.c writes a reply; conn.c reads requests off a
 * connection; slots.c
 * keeps the caps (connections per address and in all, body bytes in
 * flight) and picks the idle connection to close when one is reached. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "daemon/http/server.h"

#define CDE_HTTP_MAX_LISTENERS 4
#define CDE_HTTP_ADDR_BUCKETS 256
#define CDE_HTTP_REFUSAL_BODY_MAX 512

enum cde_http_conn_state {
	CDE_CONN_IDLE,		/* between requests */
	CDE_CONN_HEAD,		/* reading the request head */
	CDE_CONN_BODY,		/* reading the body */
	CDE_CONN_HANDLING,	/* the handler has the request */
	CDE_CONN_WRITING,	/* flushing a reply */
	CDE_CONN_LINGER,	/* replied and shut down our side; discarding what still comes */
};

struct cde_http_conn;

struct cde_http_request {
	struct cde_http_conn *conn;	/* NULL once the connection is gone */
	struct cde_http_server *srv;	/* NULL once the server is freed */
	char *head_buf;
	struct cde_http_head head;
	char *path;
	const char *query;
	char *body;
	size_t body_len, body_cap;
	uint64_t body_counted;		/* bytes counted against bodies_in_flight_max */
	uint64_t addr_counted;		/* of those, against its address's share */
	char peer[64];
	bool loopback;
	struct timespec started;	/* when its head was complete */
	char id[CDE_HTTP_REQUEST_ID_MAX + 1];	/* X-Request-Id */
	struct cde_http_reporter reporter;	/* the server's, kept: it may outlive it */
};

/* The connections of one client address (slots.c). */
struct cde_http_addr {
	struct cde_http_addr *next;	/* in its hash bucket */
	unsigned n;			/* connections open */
	uint64_t body_bytes;		/* bodies in flight from this address */
	struct cde_http_conn *idle_first, *idle_last;	/* idle ones, longest idle first */
	char addr[48];
};

struct cde_http_conn {
	struct cde_http_server *srv;
	struct cde_http_conn *prev, *next;
	struct bufferevent *bev;
	struct event *deadline;
	enum cde_http_conn_state state;
	struct cde_http_request *req;	/* being read or handled */
	struct cde_http_request *spare;	/* the last one's memory, for the next */
	struct cde_http_chunked chunked;
	uint64_t body_expected;		/* with Content-Length */
	size_t head_scanned;		/* bytes of the head checked so far */
	struct cde_http_limits limits;	/* as when the request started */
	struct timespec started;	/* the request's first byte, monotonic */
	struct cde_http_addr *slot;	/* its address's count and idle list */
	struct cde_http_conn *idle_prev, *idle_next;
	bool idle;			/* on its address's idle list */
	char addr[48];			/* peer address without port */
	char peer[64];
	bool loopback;
	bool close_after;
	bool peer_closed;		/* the client shut down its side */
	bool linger;			/* refused mid-request: drain before closing */
	size_t lingered;		/* bytes discarded while lingering */
};

struct cde_http_server {
	struct event_base *base;
	struct event *accept_retry;	/* re-enables the listeners after EMFILE */
	struct cde_http_limits limits;
	cde_http_handler_fn handler;
	void *handler_arg;
	cde_http_handler_fn head_handler;
	void *head_handler_arg;
	struct evconnlistener *listeners[CDE_HTTP_MAX_LISTENERS];
	size_t n_listeners;
	struct cde_http_conn *conns;
	size_t n_conns;
	uint64_t body_bytes;		/* of every request not yet freed */
	struct cde_http_addr *addrs[CDE_HTTP_ADDR_BUCKETS];
	bool shutting_down;
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	cde_http_observer_fn observer;
	void *observer_arg;
	struct cde_http_reporter reporter;
};

/* server.c */

/* Closes @c and frees it; a request its handler holds outlives it. */
void cde_http_conn_free(struct cde_http_conn *c);

/* Frees @req, giving back the body bytes it counted; accepts NULL. Its
 * memory is kept by its connection, if any, for the next request. */
void cde_http_request_free(struct cde_http_request *req);

/* reply.c: writes a complete response on @c; a connection that closes
 * after it stops reading. */
void cde_http_conn_write(struct cde_http_conn *c, int status, const char *body,
			 const char *const *extra_headers, bool head_only, const char *req_id);

/* Fills @out with a fresh request id. */
void cde_http_new_request_id(char out[17]);

/* Arms @c's deadline @ms from now. */
void cde_http_conn_arm(struct cde_http_conn *c, unsigned ms);

/* Writes the reply queued on @c to its socket now; when all of it went,
 * the connection is idle again (a pipelined request already read is
 * taken from the loop) and true is returned: no write event was needed,
 * which saves two epoll_ctl calls a request. False: the rest is left to
 * the caller, who waits for the socket to take it. */
bool cde_http_conn_write_now(struct cde_http_conn *c);

/* The reply on @c went out whole: idle again, and a pipelined request
 * already read is taken from the loop. */
void cde_http_conn_written(struct cde_http_conn *c);

/* conn.c: libevent's callbacks for a connection. */
void cde_http_conn_on_read(struct bufferevent *bev, void *arg);
void cde_http_conn_on_write(struct bufferevent *bev, void *arg);
void cde_http_conn_on_event(struct bufferevent *bev, short what, void *arg);
void cde_http_conn_on_deadline(evutil_socket_t fd, short what, void *arg);

/* slots.c */

/* Decides whether a new connection from @addr may be accepted, closing an
 * idle connection first when a cap is reached: for the per-address cap
 * the longest idle of that address, for the global cap an idle one of the
 * address holding the most connections. Returns NULL when it may be, else
 * why not (nothing idle to close). */
const char *cde_http_slots_admit(struct cde_http_server *s, const char *addr);

/* Counts @c against its address. Returns 0 or -ENOMEM. */
int cde_http_slots_add(struct cde_http_server *s, struct cde_http_conn *c);

/* Stops counting @c (it is being freed); accepts one never added. */
void cde_http_slots_remove(struct cde_http_server *s, struct cde_http_conn *c);

/* Puts @c on its address's idle list (at the end: the most recently idle)
 * or takes it off. Idle means nothing of a request has arrived: a new
 * connection, or a kept-alive one between requests. */
void cde_http_slots_set_idle(struct cde_http_conn *c, bool idle);

/* Counts @n more body bytes of @req against @cap, the bytes of request
 * bodies all requests may hold. Returns 0, or -ENOBUFS (nothing counted)
 * past it. */
int cde_http_slots_count_body(struct cde_http_request *req, uint64_t n, uint64_t cap);

/* Gives back what @req counted against its address's share: when it is
 * freed, or when its connection goes while a handler still holds it (the
 * address may be gone then). */
void cde_http_slots_uncount_address(struct cde_http_request *req);
