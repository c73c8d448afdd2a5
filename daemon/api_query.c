/* Queries of the audit log: GET /v1/events with its filters, the
 * lookups /v1/events/{id} and /v1/chains/{chainId} (their ids decoded by
 * the route table, api.c), and the list of chains GET /v1/chains, answered
 * by the reader thread. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/query_string.h"
#include "events/ids.h"
#include "sinks/audit/answers/chain_list.h"

/* The filters of GET /v1/events, parsed from the query string. Values
 * point into @store. */
struct query_params {
	struct cde_audit_request req;
	struct cde_errors *errs;
	const char *also_known;		/* the route's own parameters, for the unknown's message */
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

/* The parameters of GET /v1/events: a text filter lands at @offset in
 * the filter; the others are read by what they are. */
enum param_kind { PARAM_TEXT, PARAM_TIME, PARAM_AFTER, PARAM_LIMIT, PARAM_ORDER };

static const struct query_param {
	const char *name;
	enum param_kind kind;
	size_t offset;		/* PARAM_TEXT, PARAM_TIME: where in struct cde_audit_filter */
} params[] = {
	{ "subject", PARAM_TEXT, offsetof(struct cde_audit_filter, subject) },
	{ "type", PARAM_TEXT, offsetof(struct cde_audit_filter, type) },
	{ "source", PARAM_TEXT, offsetof(struct cde_audit_filter, source) },
	{ "chainId", PARAM_TEXT, offsetof(struct cde_audit_filter, chain_id) },
	{ "artifactId", PARAM_TEXT, offsetof(struct cde_audit_filter, artifact_id) },
	{ "environment", PARAM_TEXT, offsetof(struct cde_audit_filter, environment) },
	{ "since", PARAM_TIME, offsetof(struct cde_audit_filter, since) },
	{ "until", PARAM_TIME, offsetof(struct cde_audit_filter, until) },
	{ "after", PARAM_AFTER, 0 },
	{ "limit", PARAM_LIMIT, 0 },
	{ "order", PARAM_ORDER, 0 },
};

/* "unknown parameter (known: subject, type, ...)" into @errs at @ptr. */
static void add_unknown(struct cde_errors *errs, const char *ptr, const char *also)
{
	char known[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && used < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "",
					 params[i].name);
	if (also && used < sizeof(known))
		snprintf(known + used, sizeof(known) - used, ", %s", also);
	cde_errors_add(errs, ptr, "unknown parameter (known: %s)", known);
}

static int on_param(void *ctx, const char *name, const char *value)
{
	struct query_params *q = ctx;
	struct cde_audit_filter *f = &q->req.filter;
	const struct query_param *p = NULL;
	const char *kept;
	char ptr[80];

	snprintf(ptr, sizeof(ptr), "/query/%.60s", name);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && !p; i++)
		if (strcmp(name, params[i].name) == 0)
			p = &params[i];
	if (!p) {
		add_unknown(q->errs, ptr, q->also_known);
		return 0;
	}
	switch (p->kind) {
	case PARAM_TEXT:
		kept = keep_value(q, value);
		if (!kept || !*kept)
			cde_errors_add(q->errs, ptr, kept ? "must not be empty" : "too long");
		*(const char **)((char *)f + p->offset) = kept;
		break;
	case PARAM_TIME:
		kept = keep_time(q, value);
		if (!kept)
			cde_errors_add(q->errs, ptr, "must be an RFC 3339 time with an offset "
				       "(2025-01-31T04:00:00Z, ...+02:00) or a date (2025-01-31)");
		*(const char **)((char *)f + p->offset) = kept;
		break;
	case PARAM_AFTER:
		if (cde_audit_parse_seq(value, &f->after) < 0)
			cde_errors_add(q->errs, ptr, "must be a sequence number (digits, at most %lld)",
				       (long long)INT64_MAX);
		break;
	case PARAM_LIMIT:
		if (cde_audit_parse_seq(value, &f->limit) < 0 || f->limit == 0 || f->limit > CDE_AUDIT_PAGE_MAX)
			cde_errors_add(q->errs, ptr, "must be a number from 1 to %d", CDE_AUDIT_PAGE_MAX);
		break;
	case PARAM_ORDER:
		if (strcmp(value, "asc") != 0 && strcmp(value, "desc") != 0)
			cde_errors_add(q->errs, ptr, "must be asc or desc");
		f->descending = strcmp(value, "desc") == 0;
		break;
	}
	return 0;
}

static void on_queried(void *ctx, int status, char *body)
{
	struct cde_http_request *req = ctx;

	static const char *const retry[] = { "Retry-After: 5", NULL };

	if (status == 404)
		cde_api_reply_error(req, 404, "no such event or chain", NULL, NULL);
	else if (status == 503)
		cde_api_reply_error(req, 503, "the audit database cannot be reached: retry later", NULL, retry);
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
		cde_api_reply_not_queued(req, r);
}

/* GET /v1/chains: a job on the reader, with its filters' strings. */
struct chain_list_job {
	struct cde_http_request *req;
	struct query_params q;
	struct cde_chain_list_params p;
};

/* The parameters of /v1/events, and head: the first page's, which the
 * next pages pass back so that events posted meanwhile move no chain. */
static int on_chain_param(void *ctx, const char *name, const char *value)
{
	struct chain_list_job *job = ctx;

	if (strcmp(name, "head") != 0)
		return on_param(&job->q, name, value);
	if (cde_audit_parse_seq(value, &job->p.head) < 0)
		cde_errors_add(job->q.errs, "/query/head", "must be a sequence number (digits, at most %lld)",
			       (long long)INT64_MAX);
	return 0;
}

static int run_chain_list(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct chain_list_job *job = ctx;
	cJSON *o = NULL;
	int r = cde_chain_list(src, &job->p, &o);

	if (r < 0)
		return r;
	a->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	a->status = 200;
	return a->body ? 0 : -ENOMEM;
}

static void chain_list_answered(void *ctx, struct cde_audit_task_answer *a)
{
	struct chain_list_job *job = ctx;

	on_queried(job->req, a->status == 200 ? 200 : a->status == 503 ? 503 : 500, a->status == 200 ? a->body : NULL);
	if (a->status != 200)
		free(a->body);
	free(job);
}

/* GET /v1/chains[?filters]: the filters of /v1/events pick the events
 * that place a chain; after, head and limit page through chains, newest
 * first. */
void cde_api_handle_chain_list(struct cde_api *api, struct cde_http_request *req)
{
	struct chain_list_job *job = calloc(1, sizeof(*job));
	struct cde_audit_filter *f;
	struct cde_errors errs;
	int r;

	if (!job) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	job->q.errs = &errs;
	job->q.also_known = "head";
	f = &job->q.req.filter;
	r = cde_query_parse(cde_http_request_query(req), on_chain_param, job);
	if (r < 0)
		cde_errors_add(&errs, "/query", r == -E2BIG ? "too long" : "malformed percent-encoding");
	if (f->chain_id)
		cde_errors_add(&errs, "/query/chainId", "one chain is GET /v1/chains/{chainId}");
	if (f->descending)
		cde_errors_add(&errs, "/query/order", "chains are listed newest first only");
	if (f->limit > CDE_CHAIN_LIST_MAX)
		cde_errors_add(&errs, "/query/limit", "must be a number from 1 to %d", CDE_CHAIN_LIST_MAX);
	if (job->p.head && f->after > job->p.head)
		cde_errors_add(&errs, "/query/head", "must be at least after: the head the first page answered");
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
		free(job);
		return;
	}
	job->req = req;
	job->p.filter = *f;
	job->p.after = f->after;
	job->p.limit = f->limit ? f->limit : CDE_CHAIN_LIST_DEFAULT;
	r = cde_audit_reader_submit_task(api->reader, run_chain_list, chain_list_answered, job);
	if (r < 0) {
		free(job);
		cde_api_reply_not_queued(req, r);
	}
}
