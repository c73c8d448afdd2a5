/* Events the daemon writes itself (a gate's decision, a change ticket):
 * checked as a posted event would be, against the catalog and any loaded
 * schema its schemaUri names, then appended to the journal under the
 * principal whose request caused them, with a peer that marks them as
 * the daemon's own (CDE_OWN_PEER_PREFIX), and counted like any other. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "schemas/validate.h"
#include "sinks/audit/answers/answer_event.h"

/* An event on its way to the journal. */
struct record {
	struct cde_api *api;
	struct cde_journal_entry entry;
	char principal[CDE_CONFIG_NAME_MAX];
	char peer[sizeof(CDE_OWN_PEER_PREFIX) + 64];
	cde_api_recorded_fn *then;
	void *ctx;
};

static void on_recorded(void *ctx, struct cde_journal_entry *entries, size_t n, int error)
{
	struct record *w = ctx;

	w->api->pending -= n;
	if (error == 0 && entries[0].conflict)
		error = -EEXIST; /* a fresh UUIDv7 id: cannot happen */
	if (error == 0) {
		cde_delivery_kick(w->api->delivery);
		if (w->api->observe)
			cde_observe_committed(w->api->observe, entries, n);
	} else {
		cde_log(CDE_LOG_ERROR, "an event of the daemon's own (%s) could not be written to the audit log: %s",
			cde_event_type(entries[0].event), strerror(-error));
	}
	if (w->then)
		w->then(w->ctx, &entries[0], error);
	cde_event_unref(w->entry.event);
	free(w);
}

int cde_api_record_own(struct cde_api *api, cJSON *doc, const char *principal, const char *peer,
		       cde_api_recorded_fn *then, void *ctx)
{
	struct record *w = calloc(1, sizeof(*w));
	struct cde_errors errs;
	int r = w ? 0 : -ENOMEM;

	cde_errors_reset(&errs);
	if (r == 0 && (cde_validate(api->catalog, doc, NULL, &errs) < 0 ||
		       cde_schema_set_check(api->schemas, true, doc, &errs) < 0))
		r = -EINVAL;
	if (r < 0) {
		cJSON_Delete(doc);
		free(w);
		return r;
	}
	*w = (struct record){ .api = api, .then = then, .ctx = ctx };
	snprintf(w->principal, sizeof(w->principal), "%s", principal);
	snprintf(w->peer, sizeof(w->peer), CDE_OWN_PEER_PREFIX "%s", peer);
	r = cde_event_from_json(doc, &w->entry.event);
	if (r == 0 && api->pending + 1 > api->queue_max)
		r = -EAGAIN;
	if (r == 0) {
		w->entry.principal = w->principal;
		w->entry.peer = w->peer;
		/* One without a chain (an artifact the log has none for)
		 * starts one, never correlated: a decision about an unknown
		 * artifact would otherwise join the chain of its subject
		 * (gates/prod: the last decided release's) and index the
		 * artifact there, so that the artifact's later hooks join
		 * another release's chain and are judged on its evidence. */
		if (!cde_event_chain_id(w->entry.event)) {
			char chain[CDE_UUID_STR_LEN];

			cde_uuid_v7(chain);
			r = cde_event_set_chain_id(w->entry.event, chain);
		}
		w->entry.correlate = false;
	}
	if (r == 0) {
		api->pending++;
		r = cde_journal_append(api->journal, &w->entry, 1, on_recorded, w);
		if (r == 0)
			return 0;
		api->pending--;
	}
	cde_event_unref(w->entry.event);
	free(w);
	return r;
}

const char *cde_api_content_ref(const cJSON *ev, const char *field)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content");

	return cde_answer_content_ref(c, field);
}
