/* The answers over the audit log that are not records: GET
 * /v1/environments/{environment} (what runs where) and GET /v1/dora (the
 * DORA keys). Both are analyses (sinks/audit/answers/) run on the audit
 * reader's thread; the loop only checks the parameters and replies. The
 * job carries copies of what the analysis reads, since the request's
 * strings and the running configuration belong to the loop. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/query_string.h"
#include "events/ids.h"
#include "sinks/audit/answers/dora.h"
#include "sinks/audit/answers/environment.h"

#define TEXT_MAX 512

struct answer_job {
	struct cde_http_request *req;
	char environment[TEXT_MAX], service[TEXT_MAX], window[16];
	struct cde_dora_params p;
	bool until;			/* p.now was asked (?until=), not the clock's */
	struct cde_errors *errs;
};

static int put_body(struct cde_audit_task_answer *a, cJSON *o)
{
	a->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!a->body)
		return -ENOMEM;
	a->status = 200;
	return 0;
}

static int run_environment(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct answer_job *job = ctx;
	cJSON *o = NULL;
	int r = cde_answer_environment(src, job->environment, &o);

	return r < 0 ? r : put_body(a, o);
}

static int run_dora(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct answer_job *job = ctx;
	struct cde_dora_report rep;
	int r = cde_dora_compute(src, &job->p, &rep);

	if (r < 0)
		return r;
	r = put_body(a, cde_dora_report_json(&rep, &job->p, job->window));
	cde_dora_report_release(&rep);
	return r;
}

static void answered(void *ctx, struct cde_audit_task_answer *a)
{
	static const char *const retry[] = { "Retry-After: 5", NULL };
	struct answer_job *job = ctx;

	if (a->status == 200 && a->body)
		cde_http_reply(job->req, 200, a->body, NULL);
	else if (a->status == 503)
		cde_api_reply_error(job->req, 503, "the audit database cannot be reached: retry later", NULL, retry);
	else
		cde_api_reply_error(job->req, 500, "the audit log could not be read", NULL, NULL);
	free(a->body);
	free(job);
}

static void submit(struct cde_api *api, struct answer_job *job, cde_audit_task_run_fn run)
{
	struct cde_http_request *req = job->req;

	int r = cde_audit_reader_submit_task(api->reader, run, answered, job);

	if (r < 0) {
		free(job);
		cde_api_reply_not_queued(req, r);
	}
}

static struct answer_job *new_job(struct cde_http_request *req)
{
	struct answer_job *job = calloc(1, sizeof(*job));

	if (!job)
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
	else
		job->req = req;
	return job;
}

/* GET /v1/environments/{environment}: no parameters. */
void cde_api_handle_environment(struct cde_api *api, struct cde_http_request *req, const char *environment)
{
	const char *query = cde_http_request_query(req);
	struct answer_job *job;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	if (query && *query)
		cde_errors_add(&errs, "/query", "GET /v1/environments/{environment} takes no parameters");
	else if (strlen(environment) >= TEXT_MAX)
		cde_errors_add(&errs, "/path", "an environment id is at most %d bytes", TEXT_MAX - 1);
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
		return;
	}
	job = new_job(req);
	if (!job)
		return;
	snprintf(job->environment, sizeof(job->environment), "%s", environment);
	submit(api, job, run_environment);
}

/* ?until=: the window ends then rather than now, so a page can draw each
 * key over time, one window per point. Not after now: the log does not
 * know the future, and a window ending there would read as complete. */
static void read_until(struct answer_job *job, const char *value, const char *ptr)
{
	struct timespec t;

	if (cde_timestamp_read(value, &t) < 0)
		cde_errors_add(job->errs, ptr, "must be an RFC 3339 date-time (2026-12-01T00:00:00Z)");
	else if (t.tv_sec > time(NULL))
		cde_errors_add(job->errs, ptr, "must not be in the future");
	else {
		job->p.now = (int64_t)t.tv_sec;
		job->until = true;
	}
}

static int on_dora_param(void *ctx, const char *name, const char *value)
{
	struct answer_job *job = ctx;
	char ptr[80];
	char *dst = strcmp(name, "service") == 0 ? job->service : strcmp(name, "environment") == 0 ? job->environment
											: NULL;

	snprintf(ptr, sizeof(ptr), "/query/%.60s", name);
	if (strcmp(name, "window") == 0) {
		if (cde_dora_parse_window(value, &job->p.window_s) < 0)
			cde_errors_add(job->errs, ptr, "must be days or hours: 7d, 30d, 90d, 12h (1h to 3650d)");
		else
			snprintf(job->window, sizeof(job->window), "%s", value);
	} else if (strcmp(name, "until") == 0) {
		read_until(job, value, ptr);
	} else if (!dst) {
		cde_errors_add(job->errs, ptr, "unknown parameter (known: service, environment, window, until)");
	} else if (!*value || strlen(value) >= TEXT_MAX) {
		cde_errors_add(job->errs, ptr, *value ? "too long" : "must not be empty");
	} else {
		snprintf(dst, TEXT_MAX, "%s", value);
	}
	return 0;
}

/* GET /v1/dora?service=&environment=&window=30d&until= */
void cde_api_handle_dora(struct cde_api *api, struct cde_http_request *req)
{
	struct answer_job *job = new_job(req);
	struct cde_errors errs;
	int r;

	if (!job)
		return;
	cde_errors_reset(&errs);
	job->errs = &errs;
	snprintf(job->window, sizeof(job->window), "30d");
	job->p.window_s = 30 * 86400;
	r = cde_query_parse(cde_http_request_query(req), on_dora_param, job);
	if (r < 0)
		cde_errors_add(&errs, "/query", r == -E2BIG ? "too long" : "malformed percent-encoding");
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
		free(job);
		return;
	}
	job->errs = NULL;
	job->p.service = job->service[0] ? job->service : NULL;
	job->p.environment = job->environment[0] ? job->environment : NULL;
	if (!job->until)
		job->p.now = (int64_t)time(NULL);
	job->p.failure_window_s = (int64_t)api->dora_failure_window_s;
	submit(api, job, run_dora);
}
