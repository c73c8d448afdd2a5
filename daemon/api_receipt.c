/* Receipts (?receipt=1 on POST /v1/events and /v1/hooks/{kind}): the 202
 * of a request that asks for them waits, after its commit, until a signed
 * checkpoint covers its events, then carries the inclusion proof of each
 * in that checkpoint (audit_proof.h), Rekor-style. Invariants: the event
 * is stored before a request parks, so however the wait ends (a timeout,
 * the daemon stopping, a failed read) the answer is 202, with
 * "receiptUnavailable" saying why; the events of parked requests count
 * against limits.queue_max from the moment they are admitted. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

struct cde_api_parked {
	struct cde_api_parked *next;
	struct cde_api *api;
	struct cde_http_request *req;
	cJSON *body;		/* the 202's JSON, the receipts go into it */
	struct event *timer;
	size_t reserved;	/* events counted in api->parked_events */
	uint64_t last_leaf;	/* a checkpoint of more leaves covers them all */
	bool asked;		/* the reader is reading the receipts */
	size_t n;		/* seqs of the events stored by this request */
	uint64_t seqs[];
};

static const char stopping_reason[] = "the daemon is stopping: the event is stored; ask GET /v1/log/proof/inclusion later";

bool cde_api_receipt_admit(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
			   size_t n)
{
	static const char *const retry[] = { "Retry-After: 1", NULL };
	struct cde_errors errs;

	if (!cde_api_query_flag(cde_http_request_query(req), "receipt"))
		return true;
	cde_errors_reset(&errs);
	if (!api->signs_checkpoints) {
		cde_errors_add(&errs, "/query/receipt", "the log signs no checkpoints: set audit.signing_key_file");
		cde_api_refuse(api, req, who, 400, "invalid query", &errs, NULL);
		return false;
	}
	/* Decided before anything is stored: a refused request can be sent
	 * again as it is. */
	if (api->parked_events + n > api->queue_max) {
		cde_errors_add(&errs, "/query/receipt", "%llu events already wait for their receipts (limits.queue_max)",
			       api->parked_events);
		cde_api_refuse(api, req, who, 503, "too many receipts waiting: retry shortly", &errs, retry);
		return false;
	}
	api->parked_events += n;
	return true;
}

/* Answers @p's request 202 and frees @p. */
static void unpark(struct cde_api_parked *p)
{
	struct cde_api_parked **at = &p->api->parked;

	while (*at && *at != p)
		at = &(*at)->next;
	if (*at)
		*at = p->next;
	p->api->parked_events -= p->reserved;
	if (p->req)
		cde_api_reply_json(p->req, 202, p->body, NULL);
	else
		cJSON_Delete(p->body);
	if (p->timer)
		event_free(p->timer);
	free(p);
}

static void answer_without(struct cde_api_parked *p, const char *why)
{
	if (p->body && !cJSON_AddStringToObject(p->body, "receiptUnavailable", why)) {
		cJSON_Delete(p->body);
		p->body = NULL;
	}
	unpark(p);
}

/* The summary of event @seq in the 202's JSON (one event, or "events"). */
static cJSON *summary_of(cJSON *body, uint64_t seq)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "events"), *s;

	if (!list)
		return body;
	cJSON_ArrayForEach(s, list) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "seq");

		if (cJSON_IsNumber(v) && (uint64_t)v->valuedouble == seq)
			return s;
	}
	return NULL;
}

static void on_receipts(void *ctx, struct cde_audit_log_answer *a)
{
	struct cde_api_parked *p = ctx;
	cJSON *list = a->status == 200 ? cJSON_Parse(a->body) : NULL, *rc;

	free(a->body);
	if (!list) {
		CDE_LOG_KV(CDE_LOG_ERROR, p->req ? cde_http_request_id(p->req) : NULL, "receipts not read",
			   { "reason", a->reason });
		answer_without(p, a->status == 200 ? "out of memory" : a->reason);
		return;
	}
	while ((rc = cJSON_DetachItemFromArray(list, 0))) {
		cJSON *seq = cJSON_GetObjectItemCaseSensitive(rc, "seq");
		cJSON *s = cJSON_IsNumber(seq) ? summary_of(p->body, (uint64_t)seq->valuedouble) : NULL;

		if (!s || !cJSON_AddItemToObject(s, "receipt", rc))
			cJSON_Delete(rc);
	}
	cJSON_Delete(list);
	unpark(p);
}

/* Reads the receipts of @p's events in the checkpoint of @size leaves. */
static void ask(struct cde_api_parked *p, uint64_t size)
{
	struct cde_audit_log_request q = {
		.kind = CDE_AUDIT_LOG_RECEIPTS, .size = size, .seqs = p->seqs, .n_seqs = p->n,
	};

	p->asked = true;
	int r = cde_audit_reader_submit_log(p->api->reader, &q, on_receipts, p);

	if (r < 0)
		answer_without(p, r == -EBUSY ? "the audit log's reader is busy" : "out of memory");
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cde_api_parked *p = arg;
	char why[160];

	if (p->asked)
		return; /* the reader answers it */
	snprintf(why, sizeof(why), "no signed checkpoint covered the event within %u s: the event is stored; "
		 "ask GET /v1/log/proof/inclusion later", p->api->receipt_wait_ms / 1000);
	answer_without(p, why);
}

void cde_api_receipt_park(struct cde_api *api, struct cde_http_request *req, cJSON *body,
			  const struct cde_journal_entry *entries, size_t n)
{
	struct cde_api_parked *p = calloc(1, sizeof(*p) + n * sizeof(p->seqs[0]));
	struct timeval tv = { .tv_sec = api->receipt_wait_ms / 1000, .tv_usec = api->receipt_wait_ms % 1000 * 1000 };

	if (!p) {
		api->parked_events -= n;
		if (body)
			cJSON_AddStringToObject(body, "receiptUnavailable", "out of memory");
		cde_api_reply_json(req, 202, body, NULL);
		return;
	}
	*p = (struct cde_api_parked){ .next = api->parked, .api = api, .req = req, .body = body, .reserved = n };
	api->parked = p;
	for (size_t i = 0; i < n; i++) {
		if (entries[i].duplicate)
			continue;
		p->seqs[p->n++] = entries[i].seq;
		if (entries[i].leaf > p->last_leaf)
			p->last_leaf = entries[i].leaf;
	}
	p->timer = evtimer_new(api->base, on_timeout, p);
	if (!body || !p->timer || evtimer_add(p->timer, &tv) < 0)
		answer_without(p, "out of memory");
	else if (api->stopping)
		answer_without(p, stopping_reason);
	else if (api->checkpoint_size > p->last_leaf)
		ask(p, api->checkpoint_size);
}

void cde_api_receipt_checkpoint(struct cde_api *api, uint64_t size)
{
	struct cde_api_parked *p = api->parked, *next;

	api->checkpoint_size = size;
	for (; p; p = next) {
		next = p->next;
		if (!p->asked && size > p->last_leaf)
			ask(p, size);
	}
}

void cde_api_receipt_stop(struct cde_api *api, bool answer)
{
	struct cde_api_parked *p = api->parked, *next;

	for (; p; p = next) {
		next = p->next;
		if (!answer)
			p->req = NULL;
		/* One the reader reads is answered, or freed, when it is done. */
		if (!p->asked)
			answer_without(p, stopping_reason);
	}
}
