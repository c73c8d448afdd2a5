/* Enforced gates (`enforce: true`): a deployment (service.deployed,
 * upgraded or rolledback, by hook or on /v1/events) to an environment whose gate
 * enforces is held until the gate has been evaluated on the audit
 * reader's thread, then accepted as any other, or refused 409 with the
 * gate's reasons; either way the answer is logged as a decision event.
 * The loop never waits: the request is parked in the task's context, as
 * a query is. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sinks/audit/answers/gate.h"

#define ARTIFACT_MAX 1024

struct check {
	struct cde_gate gate;		/* copies: a reload while it runs changes nothing */
	char artifact[ARTIFACT_MAX];
};

struct hold {
	struct cde_api *api;
	struct cde_http_request *req;
	struct cde_auth_result who;
	int from;
	const char *artifact_at;	/* a static string */
	cde_api_accept_fn *accept;
	time_t now;
	struct cde_event **events;
	size_t n, n_checks;
	size_t unrecorded;		/* allowed: decisions still on their way to the log */
	bool record_failed;		/* one of them could not be written */
	struct check checks[];
};

/* Whether @type puts an artifact in place: a deployment, an upgrade, or
 * a rollback, which runs the artifact it names as surely as a
 * deployment does (left out, a rollback "to" a never-gated artifact
 * would walk around the gate). */
static bool places_artifact(const char *type)
{
	static const char *const placing[] = { "dev.cdevents.service.deployed.", "dev.cdevents.service.upgraded.",
					       "dev.cdevents.service.rolledback." };

	for (size_t i = 0; type && i < sizeof(placing) / sizeof(placing[0]); i++)
		if (strncmp(type, placing[i], strlen(placing[i])) == 0)
			return true;
	return false;
}

/* The enforced gate @ev's deployment must pass, or NULL. */
static const struct cde_gate *gate_of(const struct cde_api *api, const struct cde_event *ev)
{
	const char *env = cde_api_content_ref(cde_event_json(ev), "environment");
	const struct cde_gate *g;

	if (!env || !cde_api_content_ref(cde_event_json(ev), "artifactId") || !places_artifact(cde_event_type(ev)))
		return NULL;
	g = cde_gate_set_find(api->gates, env);
	return g && g->enforce ? g : NULL;
}

static void hold_free(struct hold *h, bool events_too)
{
	for (size_t i = 0; events_too && i < h->n; i++)
		cde_event_unref(h->events[i]);
	free(h->events);
	free(h);
}

/* On the reader's thread: a JSON array of the gates' answers. */
static int run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct hold *h = ctx;
	cJSON *answers = cJSON_CreateArray();
	int r = answers ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < h->n_checks; i++) {
		cJSON *result = NULL;

		r = cde_gate_evaluate(&h->checks[i].gate, h->checks[i].artifact, h->now, src, &result);
		if (r == 0 && !cJSON_AddItemToArray(answers, result)) {
			cJSON_Delete(result);
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		a->body = cJSON_PrintUnformatted(answers);
		a->status = 200;
		r = a->body ? 0 : -ENOMEM;
	}
	cJSON_Delete(answers);
	return r;
}

/* Each unmet requirement of each denying answer, as an error; true
 * when any denies. */
static bool judge(const struct hold *h, const cJSON *answers, struct cde_errors *errs)
{
	const cJSON *answer, *row;
	bool denied = false;

	cJSON_ArrayForEach(answer, answers) {
		const char *env = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "environment"));
		const char *artifact = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "artifact"));
		const char *decision = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "decision"));

		if (decision && strcmp(decision, "allow") == 0)
			continue;
		denied = true;
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(answer, "requirements")) {
			const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "reason"));

			if (reason)
				cde_errors_add(errs, h->artifact_at, "gate %s denies %s: %s", env, artifact, reason);
		}
	}
	return denied;
}

static void log_unrecorded(const struct hold *h, const cJSON *answer, int error)
{
	CDE_LOG_KV(CDE_LOG_ERROR, cde_http_request_id(h->req), "a gate's decision was not logged",
		   { "environment", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "environment")) },
		   { "artifact", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "artifact")) },
		   { "error", strerror(-error) });
}

/* Once every decision of an allowed deployment is in the log: the
 * deployment goes in after them, or is refused when one is missing. */
static void finish_allowed(struct hold *h)
{
	static const char *const retry[] = { "Retry-After: 5", NULL };

	/* Its decision committed while the journal was being released at
	 * shutdown: the writer is gone, an append now would never be stored
	 * nor answered. */
	if (h->api->stopping && !h->api->reader) {
		cde_api_refuse(h->api, h->req, &h->who, 503, "the daemon is stopping: retry on another replica or later",
			       NULL, retry);
		hold_free(h, true);
		return;
	}
	if (h->record_failed) {
		cde_api_refuse(h->api, h->req, &h->who, 503,
			       "the promotion gate's decision could not be logged: retry later", NULL, retry);
		hold_free(h, true);
		return;
	}
	h->accept(h->api, h->req, &h->who, h->events, h->n, h->from);
	hold_free(h, false); /* the references moved to the ingest */
}

static void on_recorded(void *ctx, const struct cde_journal_entry *e, int error)
{
	struct hold *h = ctx;

	(void)e;
	if (error < 0) {
		CDE_LOG_KV(CDE_LOG_ERROR, cde_http_request_id(h->req), "a gate's decision was not logged",
			   { "error", strerror(-error) });
		h->record_failed = true;
	}
	if (--h->unrecorded == 0)
		finish_allowed(h);
}

/* Writes every answer to the log as its decision event. A refusal's are
 * written on their way (the 409 is the answer; a decision lost by the
 * writer is logged). An allowed deployment waits until its decisions are
 * committed, and is refused 503 when one could not be: a change in an
 * enforced environment without its decision on record is what the gate
 * is there to prevent, and appended after its decisions the deployment
 * is never in the log without them. A dry run stores nothing. */
static void record_then_answer(struct hold *h, const cJSON *answers, bool denied, struct cde_errors *errs)
{
	const char *peer = cde_http_request_peer(h->req);
	const cJSON *answer;
	int r;

	if (denied || h->who.dry_run) {
		cJSON_ArrayForEach(answer, answers)
			if (!h->who.dry_run && (r = cde_api_gate_record(h->api, answer, h->who.principal, peer, NULL,
									 NULL)) < 0)
				log_unrecorded(h, answer, r);
		if (denied) {
			cde_api_refuse(h->api, h->req, &h->who, 409, "the promotion gate denies this deployment", errs,
				       NULL);
			hold_free(h, true);
		} else {
			finish_allowed(h);
		}
		return;
	}
	/* One count for this loop, so no callback finishes the hold early. */
	h->unrecorded = 1;
	cJSON_ArrayForEach(answer, answers) {
		r = cde_api_gate_record(h->api, answer, h->who.principal, peer, on_recorded, h);
		if (r < 0) {
			log_unrecorded(h, answer, r);
			h->record_failed = true;
		} else {
			h->unrecorded++;
		}
	}
	if (--h->unrecorded == 0)
		finish_allowed(h);
}

static void done(void *ctx, struct cde_audit_task_answer *a)
{
	static const char *const retry[] = { "Retry-After: 5", NULL };
	struct hold *h = ctx;
	cJSON *answers = a->status == 200 && a->body ? cJSON_Parse(a->body) : NULL;
	struct cde_errors errs;

	free(a->body);
	cde_errors_reset(&errs);
	if (!cJSON_IsArray(answers)) {
		cde_api_refuse(h->api, h->req, &h->who, 503, "the promotion gate could not be evaluated: retry later",
			       NULL, retry);
		hold_free(h, true);
	} else {
		record_then_answer(h, answers, judge(h, answers, &errs), &errs);
	}
	cJSON_Delete(answers);
}

bool cde_api_gate_hold(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
		       struct cde_event **events, size_t n, int from, const char *artifact_at,
		       cde_api_accept_fn *accept)
{
	size_t n_checks = 0;
	struct hold *h;

	for (size_t i = 0; i < n; i++)
		n_checks += gate_of(api, events[i]) != NULL;
	if (!n_checks)
		return false;
	h = calloc(1, sizeof(*h) + n_checks * sizeof(h->checks[0]));
	if (h)
		h->events = malloc(n * sizeof(*h->events));
	if (!h || !h->events) {
		if (h)
			free(h);
		for (size_t i = 0; i < n; i++)
			cde_event_unref(events[i]);
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return true;
	}
	*h = (struct hold){ .api = api, .req = req, .who = *who, .from = from, .artifact_at = artifact_at,
			    .accept = accept, .now = time(NULL),
			    .events = h->events, .n = n };
	memcpy(h->events, events, n * sizeof(*events));
	for (size_t i = 0; i < n; i++) {
		const struct cde_gate *g = gate_of(api, events[i]);

		if (!g)
			continue;
		h->checks[h->n_checks].gate = *g;
		snprintf(h->checks[h->n_checks].artifact, ARTIFACT_MAX, "%s",
			 cde_api_content_ref(cde_event_json(events[i]), "artifactId"));
		h->n_checks++;
	}
	if (cde_audit_reader_submit_urgent_task(api->reader, run, done, h) < 0) {
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
		hold_free(h, true);
	}
	return true;
}
