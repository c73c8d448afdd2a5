/* Ingest: hooks, pod hooks, CloudEvents and bare CDEvents, sizing. An
 * event is acknowledged (202) only once the journal reports it
 * committed; a re-send is 200, a clash 409; a dry run stores nothing. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/sizing_api.h"
#include "events/cloudevents.h"
#include "events/hooks.h"
#include "events/ids.h"
#include "events/limits.h"
#include "events/pod_hook.h"
#include "events/signatures.h"
#include "schemas/base/json_strict.h"
#include "schemas/validate.h"

/* One ingest request on its way through the journal. */
struct ingest {
	struct cde_api *api;
	struct cde_http_request *req;
	char principal[CDE_CONFIG_NAME_MAX];	/* outlives a reload of the auth table */
	char peer[64];
	struct cde_auth_result who;
	bool receipt;		/* ?receipt=1: its n events are counted as waiting for one */
	size_t n;
	struct cde_journal_entry entries[];
};

/* @src into @dst (@size bytes), cut to fit, as snprintf's "%s" would:
 * without stdio, per accepted hook. */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *header_of(void *ctx, const char *name)
{
	return cde_http_request_header(ctx, name);
}

/* Adds @prefix in front of every pointer of @errs. */
static void prefix_pointers(struct cde_errors *errs, size_t from, const char *prefix)
{
	for (size_t i = from; i < errs->count; i++) {
		char tmp[CDE_ERROR_POINTER_MAX];

		snprintf(tmp, sizeof(tmp), "%s%s", prefix, errs->items[i].pointer);
		memcpy(errs->items[i].pointer, tmp, sizeof(tmp));
	}
}

/* A principal restricted to sources posts only under them, or it could
 * claim another's (source, id) ahead of it: adds the refusal at @at. */
static bool source_refused(struct cde_api *api, const struct cde_auth_result *who,
			   const struct cde_event *ev, const char *at, struct cde_errors *errs)
{
	if (cde_auth_source_allowed(api->auth, who->principal, cde_event_source(ev)))
		return false;
	cde_errors_add(errs, at, "\"%s\" is not under the sources this principal may post", cde_event_source(ev));
	return true;
}

/* cdeventsd's own custom types (dev.cdeventsx.cdeventsd-*: a gate's
 * decision, which tickets cite and the web page lists) are events only
 * it writes: one posted from outside, by any principal, would be a
 * forged approval, or a lookalike read beside real ones. Adds the
 * refusal at @at. */
static bool type_reserved(const struct cde_event *ev, const char *at, struct cde_errors *errs)
{
	static const char own[] = "dev.cdeventsx.cdeventsd-";
	const char *type = cde_event_type(ev);

	if (!type || strncmp(type, own, sizeof(own) - 1) != 0)
		return false;
	cde_errors_add(errs, at, "\"%s\" is reserved: dev.cdeventsx.cdeventsd-* are cdeventsd's own events", type);
	return true;
}

static void ingest_free(struct ingest *in)
{
	if (in->receipt)
		in->api->parked_events -= in->n;
	for (size_t i = 0; i < in->n; i++) {
		cde_event_unref(in->entries[i].event);
		free((char *)in->entries[i].json);
	}
	free(in);
}

/* An event whose source and id are stored already, from other content,
 * is a clash, not a re-send: 409, naming each, and nothing of the batch
 * was stored. Returns true when it answered. */
static bool refuse_clashes(struct ingest *in, const struct cde_journal_entry *entries, size_t n)
{
	struct cde_errors errs;

	cde_errors_reset(&errs);
	for (size_t i = 0; i < n; i++) {
		char at[32];

		if (!entries[i].conflict)
			continue;
		snprintf(at, sizeof(at), n > 1 ? "/%zu/context/id" : "/context/id", i);
		cde_errors_add(&errs, at, "source %s and id %s are taken by the event stored at seq %llu, "
			       "whose content differs: a new event needs a new id",
			       cde_event_source(entries[i].event), cde_event_id(entries[i].event),
			       (unsigned long long)entries[i].conflict_seq);
	}
	if (!errs.count)
		return false;
	cde_api_refuse(in->api, in->req, &in->who, 409,
	       n > 1 ? "an event clashes with a stored one: nothing of this batch was stored"
		     : "an event with this source and id is already stored, with other content", &errs, NULL);
	return true;
}

static void on_committed(void *ctx, struct cde_journal_entry *entries, size_t n, int error)
{
	struct ingest *in = ctx;
	char *text;
	bool any_new = false;

	in->api->pending -= n;
	if (error < 0) {
		static const char *const retry[] = { "Retry-After: 5", NULL };

		char why[128];

		snprintf(why, sizeof(why), "the journal refused %zu events: %s", n, strerror(-error));
		cde_api_refuse_logged(in->api, in->req, &in->who, 503, "the journal cannot store events now", NULL,
			      retry, CDE_LOG_ERROR, why);
		ingest_free(in);
		return;
	}
	if (refuse_clashes(in, entries, n)) {
		ingest_free(in);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cde_event *ev = entries[i].event;
		char seq[24], *p = seq + sizeof(seq) - 1;	/* the digits without stdio */
		uint64_t v = entries[i].seq;

		any_new = any_new || !entries[i].duplicate;
		*p = '\0';
		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		CDE_LOG_KV(CDE_LOG_INFO, cde_http_request_id(in->req),
			   entries[i].duplicate ? "event duplicate" : "event accepted",
			   { "type", cde_event_type(ev) }, { "id", cde_event_id(ev) },
			   { "source", cde_event_source(ev) },
			   { "seq", entries[i].duplicate ? NULL : p },
			   { "chain", entries[i].duplicate ? NULL : cde_event_chain_id(ev) },
			   { "principal", entries[i].principal }, { "peer", entries[i].peer });
	}
	if (any_new)
		cde_delivery_kick(in->api->delivery);
	if (in->api->observe)
		cde_observe_committed(in->api->observe, entries, n);
	cde_api_tickets_committed(in->api, entries, n);
	text = cde_api_summary_text(entries, n);
	/* A re-sent event is answered 200 so that curl --retry is safe. */
	/* Stored: what it signed is kept, so its copies are re-sends. */
	cde_auth_confirm(in->api->auth, &in->who, time(NULL));
	if (in->receipt && any_new) {
		in->receipt = false; /* the count moves to the parked answer */
		cde_api_receipt_park(in->api, in->req, text ? cJSON_Parse(text) : NULL, entries, n);
	} else {
		cde_http_reply(in->req, text ? (any_new ? 202 : 200) : 500,
			       text ? text : "{\"error\":\"out of memory\",\"details\":[]}", NULL);
	}
	free(text);
	ingest_free(in);
}

/* Where a request's events came from, which says what "the same event
 * again" means for them. */
enum origin {
	FROM_HOOK,	/* the same event but for the timestamp the daemon stamps */
	FROM_POD_HOOK,	/* ids stand for an observation: any re-post is the same */
	FROM_EVENTS,	/* the same event as sent */
};

/* The digest that tells a re-send (200) from a clash (409), of the event
 * before the journal correlates it: for a hook, without the timestamp the
 * daemon stamps anew on each try (unless the hook gave one, it differs);
 * for a CDEvent, all of it. */
/* Puts @item back into @parent where cJSON_DetachItemViaPointer took it
 * from: before @after, or at the end when @after is NULL. */
static void put_back(cJSON *parent, cJSON *item, cJSON *after)
{
	cJSON *last = parent->child ? parent->child->prev : NULL;

	if (!after) {
		item->prev = last ? last : item;
		item->next = NULL;
		if (last)
			last->next = item;
		else
			parent->child = item;
		if (parent->child != item)
			parent->child->prev = item;
		return;
	}
	item->next = after;
	item->prev = after->prev;	/* the head's prev is the last item */
	if (after == parent->child)
		parent->child = item;
	else
		item->prev->next = item;
	after->prev = item;
}

static int digest_event(struct cde_event *ev, enum origin from, uint8_t out[32], const char **ret_json)
{
	cJSON *context = NULL, *stamp = NULL, *after = NULL;
	char *json;

	/* The timestamp taken out and put back where it was: the event is
	 * printed as a copy without it would be, without making the copy.
	 * No other thread has the event yet. */
	if (from == FROM_HOOK) {
		context = cJSON_GetObjectItemCaseSensitive(cde_event_json_mut(ev), "context");
		stamp = cJSON_GetObjectItemCaseSensitive(context, "timestamp");
		after = stamp ? stamp->next : NULL;
		if (stamp)
			cJSON_DetachItemViaPointer(context, stamp);
	}
	json = from == FROM_HOOK ? cde_json_print(cde_event_json(ev)) : cde_event_to_json(ev);
	if (stamp)
		put_back(context, stamp, after);
	if (!json)
		return -ENOMEM;
	if (cde_sig_sha256(json, strlen(json), out) < 0) {
		free(json);
		return -ENOMEM;
	}
	/* A CDEvent is stored as it was printed here: the writer thread
	 * need not print it again. */
	if (from == FROM_EVENTS)
		*ret_json = json;
	else
		free(json);
	return 0;
}

/* Validates, then answers a dry run or hands the events to the journal.
 * Takes the references in @events. */
static void accept_events(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who, struct cde_event **events, size_t n,
			  enum origin from)
{
	struct ingest *in = calloc(1, sizeof(*in) + n * sizeof(in->entries[0]));
	int r;

	if (!in) {
		for (size_t i = 0; i < n; i++)
			cde_event_unref(events[i]);
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	in->api = api;
	in->who = *who;
	in->req = req;
	in->n = n;
	copy_text(in->principal, sizeof(in->principal), who->principal);
	copy_text(in->peer, sizeof(in->peer), cde_http_request_peer(req));
	for (size_t i = 0; i < n; i++) {
		in->entries[i].event = events[i];
		in->entries[i].principal = in->principal;
		in->entries[i].peer = in->peer;
		in->entries[i].correlate = from != FROM_EVENTS && !cde_event_chain_id(events[i]);
		in->entries[i].has_digest = from != FROM_POD_HOOK;
		if (in->entries[i].has_digest &&
		    digest_event(events[i], from, in->entries[i].digest, &in->entries[i].json) < 0) {
			/* Stored without its digest, a clash would pass for a
			 * re-send forever after. */
			cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
			ingest_free(in);
			return;
		}
	}
	if (cde_api_query_flag(cde_http_request_query(req), "dry_run")) {
		cJSON *body = cJSON_CreateObject();
		cJSON *list = body ? cJSON_AddArrayToObject(body, "events") : NULL;

		for (size_t i = 0; list && i < n; i++) {
			cJSON *copy = cJSON_Duplicate(cde_event_json(events[i]), true);

			if (!copy || !cJSON_AddItemToArray(list, copy)) {
				cJSON_Delete(copy);
				list = NULL;
			}
		}
		if (!list) {
			cJSON_Delete(body);
			body = NULL;
		}
		cde_api_reply_json(req, 200, body, NULL);
		ingest_free(in);
		return;
	}
	if (!cde_api_receipt_admit(api, req, who, n)) {
		ingest_free(in);
		return;
	}
	in->receipt = cde_api_query_flag(cde_http_request_query(req), "receipt");
	if (api->pending + n > api->queue_max) {
		static const char *const retry[] = { "Retry-After: 1", NULL };
		char why[96];

		snprintf(why, sizeof(why), "queue full: %llu events waiting, %zu more refused", api->pending, n);
		cde_api_refuse_logged(api, req, who, 503, "too many events waiting to be stored: retry shortly", NULL,
			      retry, CDE_LOG_WARN, why);
		ingest_free(in);
		return;
	}
	api->pending += n;
	r = cde_journal_append(api->journal, in->entries, n, on_committed, in);
	if (r < 0) {
		static const char *const retry[] = { "Retry-After: 1", NULL };

		char why[128];

		api->pending -= n;
		snprintf(why, sizeof(why), "the journal did not take %zu events: %s", n, strerror(-r));
		cde_api_refuse_logged(api, req, who, 503, r == -EAGAIN ? "too many events queued" : "the journal failed",
			      NULL, retry, r == -EAGAIN ? CDE_LOG_WARN : CDE_LOG_ERROR, why);
		ingest_free(in);
	}
}

static void accept_allowed(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
			   struct cde_event **events, size_t n, int from)
{
	accept_events(api, req, who, events, n, (enum origin)from);
}

static bool content_type_is_json(struct cde_http_request *req)
{
	char mt[64];

	return cde_media_type(cde_http_request_header(req, "Content-Type"), mt, sizeof(mt)) &&
	       strcmp(mt, "application/json") == 0;
}

/* POST /v1/hooks/pod: a Pod or a List of them (kubectl get pod -o json),
 * one or two events per pod, all accepted or none (events/pod_hook.h). */
static void handle_pod_hook(struct cde_api *api, struct cde_http_request *req,
			    const struct cde_hook_defaults *defaults,
			    const struct cde_auth_result *who)
{
	struct cde_errors errs;
	struct cde_event **events = NULL;
	size_t n = 0, len;
	const char *body = cde_http_request_body(req, &len);
	cJSON *payload = NULL;
	int r;

	if (!content_type_is_json(req)) {
		cde_api_refuse(api, req, who, 415, "a hook is sent as Content-Type: application/json", NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	r = cde_json_parse(body, len, &payload, &errs);
	if (r == 0)
		r = cde_pod_hook_translate(api->catalog, payload, defaults, &events, &n, &errs);
	cJSON_Delete(payload);
	if (r == -ENOMEM) {
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	if (r < 0) {
		cde_api_refuse(api, req, who, 400, "invalid pod hook", &errs, NULL);
		return;
	}
	cde_errors_reset(&errs);
	for (size_t i = 0; i < n; i++)
		source_refused(api, who, events[i], "/source", &errs);
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		cde_api_refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	/* Correlated like the other hooks: the task run joins its pipeline
	 * run's chain, the incident its artifact's, else the task run's
	 * (they share the subject). */
	accept_events(api, req, who, events, n, FROM_POD_HOOK);
	free(events); /* the references moved to the ingest */
}

/* "known kinds: build, test, ...": the translator's kinds (events/hooks.h)
 * and the pod hook's, which has its own path. */
static void add_known_kinds(struct cde_errors *errs)
{
	char list[256] = "";
	size_t used = 0;
	bool pod = false;

	for (size_t i = 0; cde_hook_kinds[i] && used < sizeof(list); i++) {
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", cde_hook_kinds[i]);
		pod = pod || strcmp(cde_hook_kinds[i], "pod") == 0;
	}
	if (!pod && used < sizeof(list))
		snprintf(list + used, sizeof(list) - used, ", pod");
	cde_errors_add(errs, "", "known kinds: %s", list);
}

void cde_api_handle_hook(struct cde_api *api, struct cde_http_request *req, const char *kind,
			const struct cde_auth_result *who)
{
	struct cde_hook_defaults defaults = { .source = api->default_source,
					      .clusters = api->clusters,
					      .n_clusters = api->n_clusters };
	struct cde_errors errs;
	struct cde_event *ev = NULL;
	size_t len;
	const char *body = cde_http_request_body(req, &len);
	cJSON *payload = NULL;
	char source[96], signed_id[7 + 32 + 1];
	int r;

	cde_errors_reset(&errs);
	if (!defaults.source) {
		source[0] = '/';
		copy_text(source + 1, sizeof(source) - 1, who->principal);
		defaults.source = source;
	}
	/* A signed hook without an id gets one named by what was signed, so
	 * that a copy of it, even one past the replay memory's window, is
	 * the same event (a duplicate), never a new one. */
	if (who->has_replay_key) {
		uint8_t d[32];
		char in[CDE_CONFIG_NAME_MAX + 40];

		snprintf(in, sizeof(in), "%s\n", who->principal);
		memcpy(in + strlen(in), who->replay_key, 32);
		if (cde_sig_sha256(in, strlen(who->principal) + 1 + 32, d) < 0) {
			cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
			return;
		}
		memcpy(signed_id, "signed-", 7);
		for (int i = 0; i < 16; i++)
			snprintf(signed_id + 7 + 2 * i, 3, "%02x", d[i]);
		defaults.id = signed_id;
	}
	if (strcmp(kind, "pod") == 0) {
		handle_pod_hook(api, req, &defaults, who);
		return;
	}
	bool known = false;

	for (size_t i = 0; cde_hook_kinds[i]; i++)
		known = known || strcmp(cde_hook_kinds[i], kind) == 0;
	if (!known) {
		add_known_kinds(&errs);
		cde_api_refuse(api, req, who, 404, "unknown hook kind", &errs, NULL);
		return;
	}
	if (!content_type_is_json(req)) {
		cde_api_refuse(api, req, who, 415, "a hook is sent as Content-Type: application/json", NULL, NULL);
		return;
	}
	r = cde_json_parse(body, len, &payload, &errs);
	if (r == 0)
		r = cde_hook_translate(api->catalog, kind, payload, &defaults, &ev, &errs);
	cJSON_Delete(payload);
	if (r == -ENOMEM) {
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	if (r < 0) {
		cde_api_refuse(api, req, who, 400, "invalid hook", &errs, NULL);
		return;
	}
	cde_errors_reset(&errs);
	if (source_refused(api, who, ev, "/source", &errs)) {
		cde_event_unref(ev);
		cde_api_refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	/* A hook without a chainId joins its release's chain by correlation;
	 * events built elsewhere are kept as received. */
	if (!cde_api_gate_hold(api, req, who, &ev, 1, FROM_HOOK, "/artifactId", accept_allowed))
		accept_events(api, req, who, &ev, 1, FROM_HOOK);
}

/* POST /v1/sizing: answered at once, nothing stored or emitted, so a
 * success keeps its webhook-id like any accepted request. */
void cde_api_handle_sizing(struct cde_api *api, struct cde_http_request *req,
			  struct cde_auth_result *who)
{
	struct cde_errors errs;
	cJSON *result = NULL;
	size_t len;
	const char *body = cde_http_request_body(req, &len);
	int r;

	if (!content_type_is_json(req)) {
		cde_api_refuse(api, req, who, 415, "a sizing request is sent as Content-Type: application/json",
		       NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	r = cde_sizing_api_compute(body, len, api->clusters, api->n_clusters, &result, &errs);
	if (r == -ENOMEM)
		cde_api_refuse(api, req, who, 500, "out of memory", NULL, NULL);
	else if (r < 0)
		cde_api_refuse(api, req, who, 400, "invalid sizing request", &errs, NULL);
	else {
		cde_auth_confirm(api->auth, who, time(NULL));
		cde_api_reply_json(req, 200, result, NULL);
	}
}

/* Where event @i of a request in @mode sits, as a pointer prefix. */
static const char *event_prefix(enum cde_ce_request_mode mode, size_t i, char *buf, size_t size)
{
	if (mode == CDE_CE_REQ_BATCH)
		snprintf(buf, size, "/%zu/data", i);
	else
		snprintf(buf, size, "%s", mode == CDE_CE_REQ_STRUCTURED ? "/data" : "");
	return buf;
}

void cde_api_handle_events(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who)
{
	struct cde_ce_request ce = { .header = header_of, .ctx = req };
	enum cde_ce_request_mode mode;
	struct cde_event **events = NULL;
	struct cde_errors errs;
	char prefix[48];
	size_t n = 0;
	int r;

	cde_errors_reset(&errs);
	ce.body = cde_http_request_body(req, &ce.body_len);
	r = cde_ce_decode(&ce, &events, &n, &mode, &errs);
	if (r == -ENOTSUP) {
		cde_api_refuse(api, req, who, 415, "unsupported content type", &errs, NULL);
		return;
	}
	if (r < 0) {
		cde_api_refuse(api, req, who, r == -ENOMEM ? 500 : 400, "invalid request", &errs, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t before = errs.count;

		if (cde_validate(api->catalog, cde_event_json(events[i]), NULL, &errs) == 0 &&
		    cde_event_check_lengths(cde_event_json(events[i]), &errs) == 0 &&
		    cde_schema_set_check(api->schemas, api->accept_unknown_schema_uri, cde_event_json(events[i]),
					 &errs) == 0)
			continue;
		prefix_pointers(&errs, before, event_prefix(mode, i, prefix, sizeof(prefix)));
	}
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		cde_api_refuse(api, req, who, 400, "invalid CDEvent", &errs, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t before = errs.count;
		/* Both evaluated: each refusal that applies is named. */
		bool refused = source_refused(api, who, events[i], "/context/source", &errs);

		refused = type_reserved(events[i], "/context/type", &errs) || refused;
		if (refused)
			prefix_pointers(&errs, before, event_prefix(mode, i, prefix, sizeof(prefix)));
	}
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		cde_api_refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	if (!cde_api_gate_hold(api, req, who, events, n, FROM_EVENTS, "/subject/content/artifactId",
			       accept_allowed))
		accept_events(api, req, who, events, n, FROM_EVENTS);
	free(events); /* the references moved to the ingest */
}
