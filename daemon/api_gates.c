/* GET /v1/gates/{environment}?artifact=PURL: a promotion gate's answer.
 * The evaluation runs on the audit reader's thread (gate.c, over either
 * store); back on the loop, the decision is written to the journal as
 * its own event (who asked, what was answered, on what evidence) and
 * the answer goes out only once that event is committed, with its seq:
 * a decision the log does not hold was never given. The same question
 * asked again, and answered the same, within minutes is answered with
 * the decision already on record (gate_memo.h). */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/query_string.h"
#include "events/ids.h"
#include "sinks/audit/answers/gate.h"

#define ARTIFACT_MAX 1024

struct gate_request {
	struct cde_api *api;
	struct cde_http_request *req;
	struct cde_gate gate;		/* a copy: a reload while it runs changes nothing */
	char artifact[ARTIFACT_MAX];
	char principal[CDE_CONFIG_NAME_MAX];
	char peer[64];
	time_t now;
	cJSON *result;			/* the answer, waiting for its event's commit */
	struct cde_errors errs;		/* the query string's */
};

static void gate_request_free(struct gate_request *g)
{
	cJSON_Delete(g->result);
	free(g);
}

static int on_param(void *ctx, const char *name, const char *value)
{
	struct gate_request *g = ctx;

	if (strcmp(name, "artifact") != 0)
		cde_errors_add(&g->errs, "/query", "unknown parameter %.60s (known: artifact)", name);
	else if (!*value || strlen(value) >= sizeof(g->artifact))
		cde_errors_add(&g->errs, "/query/artifact", "must be an artifact's id (a purl) of 1 to %zu bytes",
			       sizeof(g->artifact) - 1);
	else
		snprintf(g->artifact, sizeof(g->artifact), "%s", value);
	return 0;
}

static int run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct gate_request *g = ctx;
	cJSON *result = NULL;
	int r = cde_gate_evaluate(&g->gate, g->artifact, g->now, src, &result);

	if (r < 0)
		return r;
	a->body = cJSON_PrintUnformatted(result);
	cJSON_Delete(result);
	if (!a->body)
		return -ENOMEM;
	a->status = 200;
	return 0;
}

/* The decision as an event. */
static int decision_event(struct cde_api *api, const cJSON *result, const char *principal, cJSON **ret)
{
	char id[CDE_UUID_STR_LEN], now[CDE_TIMESTAMP_STR_LEN];
	const char *source = api->default_source ? api->default_source : "/cdeventsd";

	cde_uuid_v7(id);
	if (cde_timestamp_now(now) < 0)
		return -EIO;
	*ret = cde_gate_decision_event(result, principal, id, source, now);
	return *ret ? 0 : -ENOMEM;
}

int cde_api_gate_record(struct cde_api *api, const cJSON *result, const char *principal, const char *peer,
			cde_api_recorded_fn *then, void *ctx)
{
	cJSON *doc;
	int r = decision_event(api, result, principal, &doc);

	return r < 0 ? r : cde_api_record_own(api, doc, principal, peer, then, ctx);
}

static void on_committed(void *ctx, const struct cde_journal_entry *e, int error)
{
	static const char *const retry[] = { "Retry-After: 5", NULL };
	struct gate_request *g = ctx;
	cJSON *event;

	if (error < 0) {
		cde_api_reply_error(g->req, 503, "the gate's decision could not be written to the audit log", NULL,
				    retry);
		gate_request_free(g);
		return;
	}
	/* Not kept (out of memory): the next question logs its own. */
	(void)cde_gate_memo_keep(&g->api->gate_memo, g->principal, &g->gate, g->result, time(NULL),
				 cde_event_id(e->event), e->seq);
	event = cJSON_AddObjectToObject(g->result, "event");
	if (!event || !cJSON_AddStringToObject(event, "id", cde_event_id(e->event)) ||
	    !cJSON_AddNumberToObject(event, "seq", (double)e->seq)) {
		cde_api_reply_error(g->req, 500, "out of memory", NULL, NULL);
	} else {
		CDE_LOG_KV(CDE_LOG_INFO, cde_http_request_id(g->req), "gate decided",
			   { "environment", g->gate.environment }, { "artifact", g->artifact },
			   { "decision", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g->result, "decision")) },
			   { "principal", g->principal });
		cde_api_reply_json(g->req, 200, g->result, NULL);
		g->result = NULL;
	}
	gate_request_free(g);
}

/* The same question answered the same lately (gate_memo.h): the answer
 * names the decision on record, marked "reused", and nothing is written.
 * True when it was answered so. */
static bool reply_on_record(struct gate_request *g)
{
	const struct cde_gate_memo_slot *s = cde_gate_memo_find(&g->api->gate_memo, g->principal, &g->gate,
								  g->result, time(NULL));
	cJSON *event;

	if (!s)
		return false;
	event = cJSON_AddObjectToObject(g->result, "event");
	if (!event || !cJSON_AddStringToObject(event, "id", s->id) ||
	    !cJSON_AddNumberToObject(event, "seq", (double)s->seq) || !cJSON_AddTrueToObject(event, "reused")) {
		cde_api_reply_error(g->req, 500, "out of memory", NULL, NULL);
	} else {
		cde_api_reply_json(g->req, 200, g->result, NULL);
		g->result = NULL;
	}
	gate_request_free(g);
	return true;
}

static void done(void *ctx, struct cde_audit_task_answer *a)
{
	static const char *const retry[] = { "Retry-After: 5", NULL };
	struct gate_request *g = ctx;
	int r;

	if (a->status != 200 || !a->body) {
		if (a->status == 503)
			cde_api_reply_error(g->req, 503, "the audit database cannot be reached: retry later", NULL, retry);
		else
			cde_api_reply_error(g->req, 500, "the audit log could not be read", NULL, NULL);
		free(a->body);
		gate_request_free(g);
		return;
	}
	g->result = cJSON_Parse(a->body);
	free(a->body);
	if (g->result && reply_on_record(g))
		return;
	r = g->result ? cde_api_gate_record(g->api, g->result, g->principal, g->peer, on_committed, g) : -ENOMEM;
	if (r == 0)
		return;
	if (r == -EAGAIN)
		cde_api_reply_error(g->req, 503, "too many events waiting to be stored: retry shortly", NULL, retry);
	else
		cde_api_reply_error(g->req, 500, r == -ENOMEM ? "out of memory" : "the gate's decision event is invalid",
				    NULL, NULL);
	gate_request_free(g);
}

/* 404 naming the environment and the gates there are. */
static void reply_no_gate(struct cde_api *api, struct cde_http_request *req, const char *environment)
{
	char known[512] = "";
	size_t used = 0;
	struct cde_errors errs;

	for (size_t i = 0; api->gates && i < api->gates->n && used < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "",
					 api->gates->gates[i].environment);
	cde_errors_reset(&errs);
	cde_errors_add(&errs, "/path/environment", "no gate is configured for \"%.200s\" (gates: %s)", environment,
		       used ? known : "none");
	cde_api_reply_error(req, 404, "no such gate", &errs, NULL);
}

void cde_api_handle_gate(struct cde_api *api, struct cde_http_request *req, const char *environment,
			 const struct cde_auth_result *who)
{
	const struct cde_gate *gate = cde_gate_set_find(api->gates, environment);
	struct gate_request *g;
	int r;

	if (!gate) {
		reply_no_gate(api, req, environment);
		return;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
		return;
	}
	cde_errors_reset(&g->errs);
	r = cde_query_parse(cde_http_request_query(req), on_param, g);
	if (r < 0)
		cde_errors_add(&g->errs, "/query", r == -E2BIG ? "too long" : "malformed percent-encoding");
	if (cde_errors_empty(&g->errs) && !g->artifact[0])
		cde_errors_add(&g->errs, "/query/artifact", "required: the artifact's id (a purl, percent-encoded)");
	if (!cde_errors_empty(&g->errs)) {
		cde_api_reply_error(req, 400, "invalid query", &g->errs, NULL);
		free(g);
		return;
	}
	g->api = api;
	g->req = req;
	g->gate = *gate;
	g->now = time(NULL);
	snprintf(g->principal, sizeof(g->principal), "%s", who->principal);
	snprintf(g->peer, sizeof(g->peer), "%s", cde_http_request_peer(req));
	r = cde_audit_reader_submit_task(api->reader, run, done, g);
	if (r < 0) {
		free(g);
		cde_api_reply_not_queued(req, r);
	}
}
