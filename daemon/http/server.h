#pragma once
/* The daemon's HTTP/1.1 server on libevent bufferevents. It knows
 * framing, connections, caps and deadlines, not what a request means:
 * what a refusal's body says and what is logged come from the reporter
 * its embedder sets. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "daemon/http/parse.h"

struct cde_http_limits {
	size_t body_max;		/* bytes; 413 past it */
	size_t head_max;		/* request line and headers, bytes; 431 past it */
	size_t headers_max;		/* header fields; 431 past it */
	unsigned head_timeout_ms;	/* the head must arrive this soon after its first byte */
	unsigned body_timeout_ms;	/* the body, counted from the same instant */
	unsigned idle_timeout_ms;	/* a kept-alive connection may wait this long */
	unsigned max_connections;
	unsigned max_connections_per_address;
	uint64_t bodies_in_flight_max;	/* bytes of all bodies being read or handled; 503 past it */
};

/* The defaults the daemon issue names: 1 MiB, 16 KiB, 64 fields, 10 s,
 * 30 s, 30 s, 1024 connections, 64 per address; and 64 MiB of bodies in
 * flight. A connection over a cap first closes an idle one (connected and
 * silent, or kept alive between requests); only when none is idle is it
 * refused, with 503. */
void cde_http_limits_default(struct cde_http_limits *l);

struct cde_http_server;
struct cde_http_request;

/* Called once per complete request; the handler must answer it exactly
 * once with cde_http_reply, now or later (the request stays valid until
 * then, even if the client has gone). */
typedef void (*cde_http_handler_fn)(struct cde_http_request *req, void *arg);

/* Creates a server on @base. Returns 0 or -errno. */
int cde_http_server_new(struct event_base *base, const struct cde_http_limits *limits,
			cde_http_handler_fn handler, void *arg, struct cde_http_server **ret);

/* Sets the head handler: called once the head of a request with a body
 * is read, before any of the body. It may answer @req with cde_http_reply
 * right away (say, 401: the body is then never read, and the connection
 * is closed), or return without answering to have the body read and the
 * request passed to the handler. It must not keep @req. */
void cde_http_server_set_head_handler(struct cde_http_server *s, cde_http_handler_fn fn, void *arg);

/* True while @req is at the head handler: its body is not read yet. */
bool cde_http_request_at_head(const struct cde_http_request *req);

/* Listens on @host:@port (port 0 picks a free one); the bound address is
 * written to @bound ("127.0.0.1:41234"). Returns 0 or -errno. */
int cde_http_server_listen(struct cde_http_server *s, const char *host, unsigned short port,
			   char *bound, size_t bound_size);

/* New limits for requests that start from now on. */
void cde_http_server_set_limits(struct cde_http_server *s, const struct cde_http_limits *limits);

/* Stops accepting, closes idle connections and lets the others finish
 * their request (answered with Connection: close). @done(@arg) is called
 * once no connection is left. */
void cde_http_server_shutdown(struct cde_http_server *s, void (*done)(void *arg), void *arg);

/* Called for every answered request, just before the answer is written:
 * its status and the seconds since its head was complete. */
typedef void (*cde_http_observer_fn)(void *arg, const struct cde_http_request *req, int status,
				     double seconds);
void cde_http_server_set_observer(struct cde_http_server *s, cde_http_observer_fn fn, void *arg);

/* A request the server answers itself, before or instead of the handler
 * (bad framing, a cap, a deadline). Strings live for the call only. */
struct cde_http_refusal {
	const char *id;			/* the request id its reply carries */
	int status;
	const char *reason;		/* "request body too large" */
	const char *method;		/* NULL when the head was not parsed */
	const char *path;		/* likewise */
	const char *peer;		/* "ip:port" */
};

/* A request answered (by anyone), as it is written. */
struct cde_http_answer {
	const char *id;
	int status;
	const char *method;
	const char *path;
	const char *peer;
	double seconds;			/* since its head was complete */
	bool client_gone;		/* nobody reads the reply */
};

/* What the server reports to its embedder. Each slot may be NULL. */
struct cde_http_reporter {
	/* Tells of @r (say, logs it) and writes the reply's body, a
	 * NUL-terminated string, into @body of @size bytes; leaving it
	 * empty sends an empty body. */
	void (*refused)(void *arg, const struct cde_http_refusal *r, char *body, size_t size);
	/* Called for every answered request, after the observer; also for
	 * one answered after its server was freed. */
	void (*answered)(void *arg, const struct cde_http_answer *a);
	void *arg;
};

/* Sets what @s reports to, for requests that start from now on. */
void cde_http_server_set_reporter(struct cde_http_server *s, const struct cde_http_reporter *r);

/* Number of open connections. */
size_t cde_http_server_connections(const struct cde_http_server *s);

/* Frees @s and every connection; accepts NULL; returns NULL. Pending
 * requests stay valid until answered. */
struct cde_http_server *cde_http_server_free(struct cde_http_server *s);

/* What a handler reads of a request. Strings are NUL-terminated and live
 * as long as the request. */
enum cde_http_method cde_http_request_method(const struct cde_http_request *req);
const char *cde_http_request_method_name(const struct cde_http_request *req);
const char *cde_http_request_path(const struct cde_http_request *req);	/* without the query */
const char *cde_http_request_query(const struct cde_http_request *req);	/* NULL when none */
const char *cde_http_request_header(const struct cde_http_request *req, const char *name);
const struct cde_http_head *cde_http_request_head(const struct cde_http_request *req);
const char *cde_http_request_body(const struct cde_http_request *req, size_t *len);
const char *cde_http_request_peer(const struct cde_http_request *req);	/* "ip:port" */
bool cde_http_request_peer_is_loopback(const struct cde_http_request *req);

#define CDE_HTTP_REQUEST_ID_MAX 64

/* The request's id, never NULL: the client's X-Request-Id when it is 1 to
 * CDE_HTTP_REQUEST_ID_MAX characters of [A-Za-z0-9._-], else 16 hex
 * digits made up here. Every reply carries it back as X-Request-Id, and
 * every log line about the request as req=<id>. */
const char *cde_http_request_id(const struct cde_http_request *req);

/* True when @id may serve as a request id (see cde_http_request_id). */
bool cde_http_request_id_valid(const char *id);

/* Answers @req with @status and a JSON @body, plus @extra_headers, a
 * NULL-terminated list of "Name: value" strings (may be NULL; a
 * Content-Type among them replaces application/json). Frees @req. */
void cde_http_reply(struct cde_http_request *req, int status, const char *body,
		    const char *const *extra_headers);
