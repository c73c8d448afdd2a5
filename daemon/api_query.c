/* Queries of the audit log: GET /v1/events with its filters, and the
 * lookups /v1/events/{id} and /v1/chains/{chainId}, answered by the
 * reader thread. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/query_string.h"
#include "events/ids.h"
#include "events/percent.h"

/* The filters of GET /v1/events, parsed from the query string. Values
 * point into @store. */
struct query_params {
	struct cde_audit_request req;
	struct cde_errors *errs;
	char store[4096];
	size_t used;
};

static const char *keep_value(struct query_params *q, const char *v)
{
	size_t n = strlen(v) + 1;
	char *at;

	if (q->used + n > sizeof(q->store))
		return NULL;
	at = q->store + q->used;
	memcpy(at, v, n);
	q->used += n;
	return at;
}

/* @v as a time filter, into the form received_at is stored in. A '+'
 * written unencoded in a URL arrives as a space ("...T04:00:00 02:00"):
 * in front of an offset it can only have been a '+'. */
static const char *keep_time(struct query_params *q, const char *v)
{
	char fixed[64], out[CDE_TIMESTAMP_STR_LEN];
	size_t n = strlen(v);

	if (n >= sizeof(fixed))
		return NULL;
	memcpy(fixed, v, n + 1);
	if (n > 6 && fixed[n - 6] == ' ' && fixed[n - 3] == ':')
		fixed[n - 6] = '+';
	if (cde_timestamp_canonical(fixed, out) < 0)
		return NULL;
	return keep_value(q, out);
}

static int on_param(void *ctx, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t offset;
	} text[] = {
		{ "subject", offsetof(struct cde_audit_filter, subject) },
		{ "type", offsetof(struct cde_audit_filter, type) },
		{ "source", offsetof(struct cde_audit_filter, source) },
		{ "chainId", offsetof(struct cde_audit_filter, chain_id) },
		{ "artifactId", offsetof(struct cde_audit_filter, artifact_id) },
		{ "environment", offsetof(struct cde_audit_filter, environment) },
	};
	struct query_params *q = ctx;
	struct cde_audit_filter *f = &q->req.filter;
	char ptr[80];

	snprintf(ptr, sizeof(ptr), "/query/%.60s", name);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		if (strcmp(name, text[i].name) == 0) {
			const char *kept = keep_value(q, value);

			if (!kept || !*kept)
				cde_errors_add(q->errs, ptr, kept ? "must not be empty" : "too long");
			*(const char **)((char *)f + text[i].offset) = kept;
			return 0;
		}
	}
	if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
		const char *kept = keep_time(q, value);

		if (!kept)
			cde_errors_add(q->errs, ptr, "must be an RFC 3339 time with an offset "
				       "(2025-01-31T04:00:00Z, ...+02:00) or a date (2025-01-31)");
		*(name[0] == 's' ? &f->since : &f->until) = kept;
	} else if (strcmp(name, "after") == 0) {
		if (cde_audit_parse_seq(value, &f->after) < 0)
			cde_errors_add(q->errs, ptr, "must be a sequence number (digits, at most %lld)",
				       (long long)INT64_MAX);
	} else if (strcmp(name, "limit") == 0) {
		if (cde_audit_parse_seq(value, &f->limit) < 0 || f->limit == 0 || f->limit > CDE_AUDIT_PAGE_MAX)
			cde_errors_add(q->errs, ptr, "must be a number from 1 to %d", CDE_AUDIT_PAGE_MAX);
	} else if (strcmp(name, "order") == 0) {
		if (strcmp(value, "asc") != 0 && strcmp(value, "desc") != 0)
			cde_errors_add(q->errs, ptr, "must be asc or desc");
		f->descending = strcmp(value, "desc") == 0;
	} else {
		cde_errors_add(q->errs, ptr, "unknown parameter (known: subject, type, source, chainId, "
			       "artifactId, environment, since, until, after, limit, order)");
	}
	return 0;
}

static void on_queried(void *ctx, int status, char *body)
{
	struct cde_http_request *req = ctx;

	if (status == 404)
		cde_api_reply_error(req, 404, "no such event or chain", NULL, NULL);
	else if (!body)
		cde_api_reply_error(req, 500, "the audit log could not be read", NULL, NULL);
	else
		cde_http_reply(req, status, body, NULL);
	free(body);
}

/* GET /v1/events[?filters], /v1/events/{id}, /v1/chains/{chainId}. */
void cde_api_handle_query(struct cde_api *api, struct cde_http_request *req, const char *id,
			 const char *chain)
{
	struct query_params *q = calloc(1, sizeof(*q));
	struct cde_errors errs;
	int r;

	if (!q) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	q->errs = &errs;
	if ((id || chain) && cde_http_request_query(req) && *cde_http_request_query(req)) {
		cde_errors_add(&errs, "/query", "filters apply to GET /v1/events only");
	} else {
		r = cde_query_parse(cde_http_request_query(req), on_param, q);
		if (r < 0)
			cde_errors_add(&errs, "/query", r == -E2BIG ? "too long" : "malformed percent-encoding");
	}
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
		free(q);
		return;
	}
	q->req.id = id;
	if (chain) {
		memset(&q->req.filter, 0, sizeof(q->req.filter));
		q->req.filter.chain_id = chain;
		q->req.filter.limit = CDE_AUDIT_PAGE_MAX;
	}
	r = cde_audit_reader_submit(api->reader, &q->req, on_queried, req);
	free(q);
	if (r < 0)
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
}

/* The {id} of @prefix{id}, percent-decoded from the request's own
 * target: the path the server decoded cannot tell the id "a%2Fb" from
 * the two segments "a/b". Returns 0 and a malloc'd id in *@ret, -ENOENT
 * when the target is not one such path, -EINVAL for a malformed escape
 * (or an id that is not UTF-8), or -ENOMEM. */
static int path_id(struct cde_http_request *req, const char *prefix, char **ret)
{
	const char *target = cde_http_request_head(req)->target;
	size_t n = strlen(prefix), len = strcspn(target, "?");
	char *raw;
	int r;

	if (strncmp(target, prefix, n) != 0 || len == n || memchr(target + n, '/', len - n))
		return -ENOENT;
	raw = strndup(target + n, len - n);
	if (!raw)
		return -ENOMEM;
	r = cde_pct_decode(raw, ret);
	free(raw);
	return r;
}

/* GET /v1/events/{id}, /v1/chains/{chainId} (@prefix). */
void cde_api_handle_lookup(struct cde_api *api, struct cde_http_request *req, const char *prefix)
{
	struct cde_auth_result who;
	struct cde_errors errs;
	char *id = NULL;
	int r = path_id(req, prefix, &id);

	cde_errors_reset(&errs);
	if (r == -ENOENT) {
		cde_api_reply_error(req, 404, "not found", NULL, NULL);
	} else if (cde_http_request_method(req) != CDE_HTTP_GET) {
		cde_api_method_not_allowed(req, "GET");
	} else if (!cde_api_authorized(api, req, CDE_SCOPE_QUERY, &who)) {
		/* answered */
	} else if (r == -ENOMEM) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
	} else if (r < 0) {
		cde_errors_add(&errs, "/path", "malformed percent-encoding (ids are percent-encoded in "
			       "paths: a '/' as %%2F)");
		cde_api_reply_error(req, 400, "invalid path", &errs, NULL);
	} else {
		cde_api_handle_query(api, req, prefix[4] == 'e' ? id : NULL, prefix[4] == 'c' ? id : NULL);
	}
	free(id);
}
