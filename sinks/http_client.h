#pragma once
/* An HTTP client on a libevent loop: libcurl's multi interface driven by
 * the loop's sockets and timers, so any number of requests share one
 * thread and reuse their connections. */

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

struct cde_http_client;

struct cde_http_client_request {
	const char *url;
	const struct curl_slist *headers;	/* borrowed until done is called */
	const char *body;			/* borrowed until done is called */
	size_t body_len;
	long timeout_ms;
	bool tls_verify;
};

struct cde_http_response {
	long status;		/* 0: no answer (see error) */
	const char *error;	/* what went wrong before an answer, or NULL */
	long retry_after_s;	/* the Retry-After header in seconds, -1 when absent */
	const char *body;	/* the first CDE_HTTP_BODY_MAX bytes of the answer */
	size_t body_len;
};

#define CDE_HTTP_BODY_MAX 4096

typedef void (*cde_http_done_fn)(void *ctx, const struct cde_http_response *resp);

/* A client on @base (which must outlive it). Returns 0 or -ENOMEM. */
int cde_http_client_new(struct event_base *base, struct cde_http_client **ret);

/* Starts a POST of @req; @done runs later on the loop, exactly once, with
 * the response (valid only during the call). Never blocks. Returns 0 or
 * -ENOMEM. */
int cde_http_client_post(struct cde_http_client *c, const struct cde_http_client_request *req,
			 cde_http_done_fn done, void *ctx);

/* Requests started and not yet done. */
size_t cde_http_client_in_flight(const struct cde_http_client *c);

/* Cancels what is in flight (their done is called with status 0 and the
 * error "cancelled", and must not start new requests) and frees @c;
 * accepts NULL. */
void cde_http_client_free(struct cde_http_client *c);
