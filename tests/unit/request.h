#pragma once
/* Requests as the HTTP server hands them to the API, built in a test
 * without a socket (for test_api_routes.c and test_auth.c). Built on the
 * server's own head parser and its struct (daemon/http/internal.h), and
 * freed by its own cde_http_request_free. */

#include "tests/unit/helpers.h"

#include "daemon/http/internal.h"

/* @method @target, with @headers ("Name: value", NULL-terminated; may be
 * NULL) and @body (may be NULL; then none is sent). The path is the
 * target up to '?' as written: targets in tests carry no escapes there
 * (the lookup routes read their ids from the raw target anyway). The
 * request has no connection: cde_http_request_at_head is false. */
static inline struct cde_http_request *test_request(const char *method, const char *target,
						    const char *const *headers, const char *body)
{
	struct cde_http_request *req = calloc(1, sizeof(*req));
	struct cde_http_error err;
	size_t cap = 4096, len;
	const char *q = strchr(target, '?');

	assert_non_null(req);
	req->head_buf = malloc(cap);
	assert_non_null(req->head_buf);
	len = (size_t)snprintf(req->head_buf, cap, "%s %s HTTP/1.1\r\nHost: test\r\n", method, target);
	for (size_t i = 0; headers && headers[i]; i++)
		len += (size_t)snprintf(req->head_buf + len, cap - len, "%s\r\n", headers[i]);
	if (body)
		len += (size_t)snprintf(req->head_buf + len, cap - len, "Content-Length: %zu\r\n", strlen(body));
	len += (size_t)snprintf(req->head_buf + len, cap - len, "\r\n");
	assert_true(len < cap);
	assert_int_equal(cde_http_parse_head(req->head_buf, len, 64, &req->head, &err), 0);
	req->path = strndup(target, q ? (size_t)(q - target) : strlen(target));
	assert_non_null(req->path);
	req->query = q ? strchr(req->head.target, '?') + 1 : NULL;
	req->body = strdup(body ? body : "");
	assert_non_null(req->body);
	req->body_len = strlen(req->body);
	snprintf(req->peer, sizeof(req->peer), "127.0.0.1:40000");
	req->loopback = true;
	snprintf(req->id, sizeof(req->id), "test");
	return req;
}

/* A stand-in for the connection of a request whose head is read and whose
 * body is not: cde_http_request_at_head(@req) is true while it is set.
 * Freed while it is set, the request's memory is kept in @conn->spare
 * (as a connection keeps it for its next request): the caller frees it. */
static inline void test_request_at_head(struct cde_http_request *req, struct cde_http_conn *conn)
{
	memset(conn, 0, sizeof(*conn));
	conn->state = CDE_CONN_HEAD;
	req->conn = conn;
}
