/* Routes and ingest. Every request gets exactly one reply, from one of
 * two places: reply_error (anything refused) or on_committed (what the
 * journal took). An event is acknowledged (202) only once the journal
 * reports it committed. */

#include "daemon/api.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/query_string.h"
#include "daemon/sizing_api.h"
#include "events/cloudevents.h"
#include "events/hooks.h"
#include "events/ids.h"
#include "events/limits.h"
#include "events/percent.h"
#include "events/pod_hook.h"
#include "events/signatures.h"
#include "schemas/json_strict.h"
#include "schemas/validate.h"

/* One ingest request on its way through the journal. */
struct ingest {
	struct cde_api *api;
	struct cde_http_request *req;
	char principal[CDE_CONFIG_NAME_MAX];	/* outlives a reload of the auth table */
	char peer[64];
	struct cde_auth_result who;
	size_t n;
	struct cde_journal_entry entries[];
};

static void reply_json(struct cde_http_request *req, int status, cJSON *body,
		       const char *const *headers)
{
	/* A dry run's events must read as they would be stored. */
	char *text = body ? cde_json_print(body) : NULL;

	if (body && !text)
		status = 500;
	cde_http_reply(req, status, text ? text : "{\"error\":\"out of memory\",\"details\":[]}", headers);
	free(text);
	cJSON_Delete(body);
}

/* The level of the line about a refusal: the daemon's own failures are
 * errors; refused credentials and backpressure warnings; a client's
 * mistake (400, 404, 415...) is news, not trouble. */
static enum cde_log_level refusal_level(int status)
{
	if (status == 401 || status == 403 || status == 429 || status == 503)
		return CDE_LOG_WARN;
	return status >= 500 ? CDE_LOG_ERROR : CDE_LOG_INFO;
}

/* One line per refused request: what was asked, by whom, the answer and
 * the first detail. @why says more than the client is told (the
 * journal's errno, the authentication failure); never a credential. */
static void log_refusal(enum cde_log_level level, struct cde_http_request *req, int status,
			const char *message, const struct cde_errors *errs, const char *principal,
			const char *why)
{
	char code[8], detail[CDE_ERROR_POINTER_MAX + CDE_ERROR_REASON_MAX + 2], count[24];
	bool some = errs && errs->count > 0;

	if (!cde_log_enabled(level))
		return;
	snprintf(code, sizeof(code), "%d", status);
	if (some)
		snprintf(detail, sizeof(detail), "%s%s%s", errs->items[0].pointer,
			 errs->items[0].pointer[0] ? ": " : "", errs->items[0].reason);
	snprintf(count, sizeof(count), "%zu", some ? errs->count + errs->dropped : 0);
	CDE_LOG_KV(level, cde_http_request_id(req), "request refused", { "status", code },
		   { "method", cde_http_request_method_name(req) }, { "path", cde_http_request_path(req) },
		   { "peer", cde_http_request_peer(req) },
		   { "principal", principal && *principal ? principal : NULL }, { "error", message },
		   { "reason", why }, { "detail", some ? detail : NULL },
		   { "details", some && errs->count + errs->dropped > 1 ? count : NULL });
}

/* {"error": message, "details": [{"pointer", "reason"}...]}, after the
 * line in the log. */
static void reply_error_logged(struct cde_http_request *req, int status, const char *message,
			       const struct cde_errors *errs, const char *const *headers,
			       enum cde_log_level level, const char *principal, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *details = errs ? cde_errors_to_json(errs) : cJSON_CreateArray();

	log_refusal(level, req, status, message, errs, principal, why);
	if (!o || !details || !cJSON_AddStringToObject(o, "error", message)) {
		cJSON_Delete(details);
		cJSON_Delete(o);
		cde_http_reply(req, 500, "{\"error\":\"out of memory\",\"details\":[]}", NULL);
		return;
	}
	if (!cJSON_AddItemToObject(o, "details", details)) {
		cJSON_Delete(details);
		cJSON_Delete(o);
		cde_http_reply(req, 500, "{\"error\":\"out of memory\",\"details\":[]}", NULL);
		return;
	}
	reply_json(req, status, o, headers);
}

static void reply_error(struct cde_http_request *req, int status, const char *message,
			const struct cde_errors *errs, const char *const *headers)
{
	reply_error_logged(req, status, message, errs, headers, refusal_level(status), NULL, NULL);
}

/* Refuses a request that passed authentication: its webhook-id, if it
 * used one, is forgotten so the sender's retry is not taken for a replay.
 * @level and @why as for log_refusal. */
static void refuse_logged(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who, int status, const char *message,
			  const struct cde_errors *errs, const char *const *headers,
			  enum cde_log_level level, const char *why)
{
	cde_auth_forget(api->auth, who);
	reply_error_logged(req, status, message, errs, headers, level, who->principal, why);
}

static void refuse(struct cde_api *api, struct cde_http_request *req,
		   const struct cde_auth_result *who, int status, const char *message,
		   const struct cde_errors *errs, const char *const *headers)
{
	refuse_logged(api, req, who, status, message, errs, headers, refusal_level(status), NULL);
}

/* True when the query has "@name", "@name=1" or "@name=true". */
static bool query_flag(const char *query, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&");

		if (len >= n && strncmp(p, name, n) == 0) {
			const char *v = p + n;
			size_t vl = len - n;

			if (vl == 0 || (vl == 2 && strncmp(v, "=1", 2) == 0) ||
			    (vl == 5 && strncmp(v, "=true", 5) == 0))
				return true;
		}
		p = p[len] ? p + len + 1 : NULL;
	}
	return false;
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

static cJSON *event_summary(const struct cde_journal_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	const char *chain = cde_event_chain_id(e->event);

	if (!o || !cJSON_AddStringToObject(o, "id", cde_event_id(e->event)) ||
	    !cJSON_AddStringToObject(o, "type", cde_event_type(e->event)) ||
	    (chain && !e->duplicate && !cJSON_AddStringToObject(o, "chainId", chain)) ||
	    (e->duplicate ? !cJSON_AddTrueToObject(o, "duplicate")
			  : !cJSON_AddNumberToObject(o, "seq", (double)e->seq))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void ingest_free(struct ingest *in)
{
	for (size_t i = 0; i < in->n; i++)
		cde_event_unref(in->entries[i].event);
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
	refuse(in->api, in->req, &in->who, 409,
	       n > 1 ? "an event clashes with a stored one: nothing of this batch was stored"
		     : "an event with this source and id is already stored, with other content", &errs, NULL);
	return true;
}

static void on_committed(void *ctx, struct cde_journal_entry *entries, size_t n, int error)
{
	struct ingest *in = ctx;
	cJSON *body = NULL;
	bool any_new = false;

	in->api->pending -= n;
	if (error < 0) {
		static const char *const retry[] = { "Retry-After: 5", NULL };

		char why[128];

		snprintf(why, sizeof(why), "the journal refused %zu events: %s", n, strerror(-error));
		refuse_logged(in->api, in->req, &in->who, 503, "the journal cannot store events now", NULL,
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
		char seq[24];

		any_new = any_new || !entries[i].duplicate;
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)entries[i].seq);
		CDE_LOG_KV(CDE_LOG_INFO, cde_http_request_id(in->req),
			   entries[i].duplicate ? "event duplicate" : "event accepted",
			   { "type", cde_event_type(ev) }, { "id", cde_event_id(ev) },
			   { "source", cde_event_source(ev) },
			   { "seq", entries[i].duplicate ? NULL : seq },
			   { "chain", entries[i].duplicate ? NULL : cde_event_chain_id(ev) },
			   { "principal", entries[i].principal }, { "peer", entries[i].peer });
	}
	if (any_new)
		cde_delivery_kick(in->api->delivery);
	if (in->api->observe)
		cde_observe_committed(in->api->observe, entries, n);
	if (n == 1) {
		body = event_summary(&entries[0]);
	} else {
		cJSON *list;

		body = cJSON_CreateObject();
		list = body ? cJSON_AddArrayToObject(body, "events") : NULL;
		for (size_t i = 0; list && i < n; i++) {
			cJSON *s = event_summary(&entries[i]);

			if (!s || !cJSON_AddItemToArray(list, s)) {
				cJSON_Delete(s);
				cJSON_Delete(body);
				body = NULL;
				break;
			}
		}
	}
	/* A re-sent event is answered 200 so that curl --retry is safe. */
	reply_json(in->req, any_new ? 202 : 200, body, NULL);
	ingest_free(in);
}

/* What the producer sent, for telling its re-send (200) from a clash
 * (409): for a hook, the route and the body, since the daemon fills in
 * what the hook leaves out (a timestamp, a chain) anew each time; for a
 * CDEvent, the event as decoded, before the journal correlates it. */
static int digest_input(struct cde_http_request *req, const struct cde_event *ev, bool hook,
			uint8_t out[32])
{
	if (hook) {
		size_t len, plen;
		const char *body = cde_http_request_body(req, &len);
		const char *path = cde_http_request_path(req);
		char *buf;

		plen = strlen(path);
		buf = malloc(plen + 1 + len);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, path, plen);
		buf[plen] = '\n';
		memcpy(buf + plen + 1, body, len);
		cde_sig_sha256(buf, plen + 1 + len, out);
		free(buf);
		return 0;
	}
	char *json = cde_event_to_json(ev);

	if (!json)
		return -ENOMEM;
	cde_sig_sha256(json, strlen(json), out);
	free(json);
	return 0;
}

/* Validates, then answers a dry run or hands the events to the journal.
 * Takes the references in @events. */
static void accept_events(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who, struct cde_event **events, size_t n,
			  bool correlate)
{
	struct ingest *in = calloc(1, sizeof(*in) + n * sizeof(in->entries[0]));
	int r;

	if (!in) {
		for (size_t i = 0; i < n; i++)
			cde_event_unref(events[i]);
		refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	in->api = api;
	in->who = *who;
	in->req = req;
	in->n = n;
	snprintf(in->principal, sizeof(in->principal), "%s", who->principal);
	snprintf(in->peer, sizeof(in->peer), "%s", cde_http_request_peer(req));
	for (size_t i = 0; i < n; i++) {
		in->entries[i].event = events[i];
		in->entries[i].principal = in->principal;
		in->entries[i].peer = in->peer;
		in->entries[i].correlate = correlate && !cde_event_chain_id(events[i]);
		in->entries[i].has_digest = digest_input(req, events[i], correlate, in->entries[i].digest) == 0;
	}
	if (query_flag(cde_http_request_query(req), "dry_run")) {
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
		reply_json(req, 200, body, NULL);
		ingest_free(in);
		return;
	}
	if (api->pending + n > api->queue_max) {
		static const char *const retry[] = { "Retry-After: 1", NULL };
		char why[96];

		snprintf(why, sizeof(why), "queue full: %llu events waiting, %zu more refused", api->pending, n);
		refuse_logged(api, req, who, 503, "too many events waiting to be stored: retry shortly", NULL,
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
		refuse_logged(api, req, who, 503, r == -EAGAIN ? "too many events queued" : "the journal failed",
			      NULL, retry, r == -EAGAIN ? CDE_LOG_WARN : CDE_LOG_ERROR, why);
		ingest_free(in);
	}
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
		refuse(api, req, who, 415, "a hook is sent as Content-Type: application/json", NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	r = cde_json_parse(body, len, &payload, &errs);
	if (r == 0)
		r = cde_pod_hook_translate(api->catalog, payload, defaults, &events, &n, &errs);
	cJSON_Delete(payload);
	if (r == -ENOMEM) {
		refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	if (r < 0) {
		refuse(api, req, who, 400, "invalid pod hook", &errs, NULL);
		return;
	}
	cde_errors_reset(&errs);
	for (size_t i = 0; i < n; i++)
		source_refused(api, who, events[i], "/source", &errs);
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	/* Correlated like the other hooks: the task run joins its pipeline
	 * run's chain, the incident its artifact's, else the task run's
	 * (they share the subject). */
	accept_events(api, req, who, events, n, true);
	free(events); /* the references moved to the ingest */
}

static void handle_hook(struct cde_api *api, struct cde_http_request *req, const char *kind,
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
	char source[96];
	int r;

	cde_errors_reset(&errs);
	if (!defaults.source) {
		snprintf(source, sizeof(source), "/%s", who->principal);
		defaults.source = source;
	}
	if (strcmp(kind, "pod") == 0) {
		handle_pod_hook(api, req, &defaults, who);
		return;
	}
	bool known = false;

	for (size_t i = 0; cde_hook_kinds[i]; i++)
		known = known || strcmp(cde_hook_kinds[i], kind) == 0;
	if (!known) {
		cde_errors_add(&errs, "", "known kinds: build, test, artifact, deploy, pipeline, task, environment, pod");
		refuse(api, req, who, 404, "unknown hook kind", &errs, NULL);
		return;
	}
	if (!content_type_is_json(req)) {
		refuse(api, req, who, 415, "a hook is sent as Content-Type: application/json", NULL, NULL);
		return;
	}
	r = cde_json_parse(body, len, &payload, &errs);
	if (r == 0)
		r = cde_hook_translate(api->catalog, kind, payload, &defaults, &ev, &errs);
	cJSON_Delete(payload);
	if (r == -ENOMEM) {
		refuse(api, req, who, 500, "out of memory", NULL, NULL);
		return;
	}
	if (r < 0) {
		refuse(api, req, who, 400, "invalid hook", &errs, NULL);
		return;
	}
	cde_errors_reset(&errs);
	if (source_refused(api, who, ev, "/source", &errs)) {
		cde_event_unref(ev);
		refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	/* A hook without a chainId joins its release's chain by correlation;
	 * events built elsewhere are kept as received. */
	accept_events(api, req, who, &ev, 1, true);
}

/* POST /v1/sizing: answered at once, nothing stored or emitted, so a
 * success keeps its webhook-id like any accepted request. */
static void handle_sizing(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who)
{
	struct cde_errors errs;
	cJSON *result = NULL;
	size_t len;
	const char *body = cde_http_request_body(req, &len);
	int r;

	if (!content_type_is_json(req)) {
		refuse(api, req, who, 415, "a sizing request is sent as Content-Type: application/json",
		       NULL, NULL);
		return;
	}
	cde_errors_reset(&errs);
	r = cde_sizing_api_compute(body, len, api->clusters, api->n_clusters, &result, &errs);
	if (r == -ENOMEM)
		refuse(api, req, who, 500, "out of memory", NULL, NULL);
	else if (r < 0)
		refuse(api, req, who, 400, "invalid sizing request", &errs, NULL);
	else
		reply_json(req, 200, result, NULL);
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

static void handle_events(struct cde_api *api, struct cde_http_request *req,
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
		refuse(api, req, who, 415, "unsupported content type", &errs, NULL);
		return;
	}
	if (r < 0) {
		refuse(api, req, who, r == -ENOMEM ? 500 : 400, "invalid request", &errs, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t before = errs.count;

		if (cde_validate(api->catalog, cde_event_json(events[i]), NULL, &errs) == 0 &&
		    cde_event_check_lengths(cde_event_json(events[i]), &errs) == 0)
			continue;
		prefix_pointers(&errs, before, event_prefix(mode, i, prefix, sizeof(prefix)));
	}
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		refuse(api, req, who, 400, "invalid CDEvent", &errs, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t before = errs.count;

		if (source_refused(api, who, events[i], "/context/source", &errs))
			prefix_pointers(&errs, before, event_prefix(mode, i, prefix, sizeof(prefix)));
	}
	if (!cde_errors_empty(&errs)) {
		cde_ce_events_free(events, n);
		refuse(api, req, who, 403, "forbidden", &errs, NULL);
		return;
	}
	accept_events(api, req, who, events, n, false);
	free(events); /* the references moved to the ingest */
}

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
		reply_error(req, 404, "no such event or chain", NULL, NULL);
	else if (!body)
		reply_error(req, 500, "the audit log could not be read", NULL, NULL);
	else
		cde_http_reply(req, status, body, NULL);
	free(body);
}

/* GET /v1/events[?filters], /v1/events/{id}, /v1/chains/{chainId}. */
static void handle_query(struct cde_api *api, struct cde_http_request *req, const char *id,
			 const char *chain)
{
	struct query_params *q = calloc(1, sizeof(*q));
	struct cde_errors errs;
	int r;

	if (!q) {
		reply_error(req, 500, "out of memory", NULL, NULL);
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
		reply_error(req, 400, "invalid query", &errs, NULL);
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
		reply_error(req, 500, "out of memory", NULL, NULL);
}

static void method_not_allowed(struct cde_http_request *req, const char *allow)
{
	char header[64];
	const char *headers[] = { header, NULL };

	snprintf(header, sizeof(header), "Allow: %s", allow);
	reply_error(req, 405, "method not allowed", NULL, headers);
}

/* Answers 401/403 and returns false unless the sender may @scope. At the
 * head, only the headers are judged, and a request they allow returns
 * false unanswered: its body is read, and it comes back here whole. */
static bool authorized(struct cde_api *api, struct cde_http_request *req, unsigned scope,
		       struct cde_auth_result *who)
{
	static const char *const challenge[] = { "WWW-Authenticate: Bearer realm=\"cdeventsd\"", NULL };
	static const char *const later[] = { "Retry-After: 60", NULL };
	bool at_head = cde_http_request_at_head(req);
	struct cde_errors errs;

	/* A dry run stores nothing, so it uses up no signed request. */
	who->dry_run = scope == CDE_SCOPE_EMIT && query_flag(cde_http_request_query(req), "dry_run");
	if (at_head)
		cde_auth_check_head(api->auth, req, scope, time(NULL), who);
	else
		cde_auth_check(api->auth, req, scope, time(NULL), who);
	if (who->status == 0)
		return !at_head;
	cde_errors_reset(&errs);
	cde_errors_add(&errs, "", "%s", who->reason);
	/* who->reason is one of auth.c's fixed sentences: it names the
	 * scheme that failed, never the credential. */
	reply_error_logged(req, who->status,
			   who->status == 401 ? "unauthorized" : who->status == 403 ? "forbidden"
										: "too many requests",
			   &errs, who->status == 401 ? challenge : who->status == 429 ? later : NULL,
			   CDE_LOG_WARN, who->principal, NULL);
	return false;
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
static void handle_lookup(struct cde_api *api, struct cde_http_request *req, const char *prefix)
{
	struct cde_auth_result who;
	struct cde_errors errs;
	char *id = NULL;
	int r = path_id(req, prefix, &id);

	cde_errors_reset(&errs);
	if (r == -ENOENT) {
		reply_error(req, 404, "not found", NULL, NULL);
	} else if (cde_http_request_method(req) != CDE_HTTP_GET) {
		method_not_allowed(req, "GET");
	} else if (!authorized(api, req, CDE_SCOPE_QUERY, &who)) {
		/* answered */
	} else if (r == -ENOMEM) {
		reply_error(req, 500, "out of memory", NULL, NULL);
	} else if (r < 0) {
		cde_errors_add(&errs, "/path", "malformed percent-encoding (ids are percent-encoded in "
			       "paths: a '/' as %%2F)");
		reply_error(req, 400, "invalid path", &errs, NULL);
	} else {
		handle_query(api, req, prefix[4] == 'e' ? id : NULL, prefix[4] == 'c' ? id : NULL);
	}
	free(id);
}

void cde_api_handle(struct cde_http_request *req, void *arg)
{
	struct cde_auth_result who;
	struct cde_api *api = arg;
	const char *path = cde_http_request_path(req);
	enum cde_http_method m = cde_http_request_method(req);

	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
		bool ready = path[1] == 'h' ||
			     (!api->stopping && api->journal->ops->ready(api->journal->impl));

		if (m != CDE_HTTP_GET && m != CDE_HTTP_HEAD)
			method_not_allowed(req, "GET, HEAD");
		else
			cde_http_reply(req, ready ? 200 : 503,
				       ready ? "{\"status\":\"ok\"}" : "{\"status\":\"not ready\"}", NULL);
		return;
	}
	if (strcmp(path, "/v1/events") == 0) {
		if (m == CDE_HTTP_GET) {
			if (authorized(api, req, CDE_SCOPE_QUERY, &who))
				handle_query(api, req, NULL, NULL);
		} else if (m != CDE_HTTP_POST) {
			method_not_allowed(req, "GET, POST");
		} else if (authorized(api, req, CDE_SCOPE_EMIT, &who)) {
			handle_events(api, req, &who);
		}
		return;
	}
	if (strncmp(path, "/v1/events/", 11) == 0 || strncmp(path, "/v1/chains/", 11) == 0) {
		handle_lookup(api, req, path[4] == 'e' ? "/v1/events/" : "/v1/chains/");
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		if (m != CDE_HTTP_GET && m != CDE_HTTP_HEAD) {
			method_not_allowed(req, "GET, HEAD");
		} else if (authorized(api, req, CDE_SCOPE_QUERY, &who)) {
			static const char *const text[] = {
				"Content-Type: text/plain; version=0.0.4; charset=utf-8", NULL };
			struct cde_observe_sources src = {
				.journal = api->journal, .delivery = api->delivery, .db_path = api->db_path,
				.queue_depth = api->pending,
			};
			char *body = api->observe ? cde_observe_render(api->observe, &src) : NULL;

			if (body)
				cde_http_reply(req, 200, body, text);
			else
				reply_error(req, 503, "out of memory", NULL, NULL);
			free(body);
		}
		return;
	}
	if (strcmp(path, "/v1/sinks") == 0) {
		if (m != CDE_HTTP_GET) {
			method_not_allowed(req, "GET");
		} else if (authorized(api, req, CDE_SCOPE_QUERY, &who)) {
			char *status = cde_delivery_status_json(api->delivery);

			if (status)
				cde_http_reply(req, 200, status, NULL);
			else
				reply_error(req, 503, "out of memory", NULL, NULL);
			free(status);
		}
		return;
	}
	if (strcmp(path, "/v1/sizing") == 0) {
		if (m != CDE_HTTP_POST)
			method_not_allowed(req, "POST");
		else if (authorized(api, req, CDE_SCOPE_EMIT, &who))
			handle_sizing(api, req, &who);
		return;
	}
	if (strncmp(path, "/v1/hooks/", 10) == 0 && path[10] && !strchr(path + 10, '/')) {
		if (m != CDE_HTTP_POST)
			method_not_allowed(req, "POST");
		else if (authorized(api, req, CDE_SCOPE_EMIT, &who))
			handle_hook(api, req, path + 10, &who);
		return;
	}
	reply_error(req, 404, "not found", NULL, NULL);
}
