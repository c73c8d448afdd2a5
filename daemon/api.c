/* Routes: which handler a request goes to, and who may call it. Every
 * request gets exactly one reply: a refusal (api_reply.c), an ingest's
 * answer once the journal reported (api_ingest.c), or a query's
 * (api_query.c). */

#include "daemon/api_internal.h"
#include "daemon/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/percent.h"

void cde_api_method_not_allowed(struct cde_http_request *req, const char *allow)
{
	char header[64];
	const char *headers[] = { header, NULL };

	snprintf(header, sizeof(header), "Allow: %s", allow);
	cde_api_reply_error(req, 405, "method not allowed", NULL, headers);
}

/* Answers 401/403 and returns false unless the sender may @scope. At the
 * head, only the headers are judged, and a request they allow returns
 * false unanswered: its body is read, and it comes back here whole. */
bool cde_api_authorized(struct cde_api *api, struct cde_http_request *req, unsigned scope,
		       struct cde_auth_result *who)
{
	static const char *const challenge[] = { "WWW-Authenticate: Bearer realm=\"cdeventsd\"", NULL };
	static const char *const later[] = { "Retry-After: 60", NULL };
	static const char *const soon[] = { "Retry-After: 1", NULL };
	bool at_head = cde_http_request_at_head(req);
	struct cde_errors errs;

	/* A dry run stores nothing, so it uses up no signed request. */
	who->dry_run = scope == CDE_SCOPE_EMIT && cde_api_query_flag(cde_http_request_query(req), "dry_run");
	if (at_head)
		cde_auth_check_head(api->auth, req, scope, time(NULL), who);
	else
		cde_auth_check(api->auth, req, scope, time(NULL), who);
	if (who->status == 0)
		return !at_head;
	if (who->status == CDE_AUTH_RESENT) {
		/* A copy of a request answered before: at-least-once senders
		 * retry until they see a 2xx, and nothing is done again. */
		static const char body[] = "{\"duplicate\":true,\"resent\":true,\"reason\":"
					   "\"this signed request was accepted before: nothing new was stored\"}";

		CDE_LOG_KV(CDE_LOG_INFO, cde_http_request_id(req), "signed request resent",
			   { "principal", who->principal }, { "peer", cde_http_request_peer(req) });
		cde_http_reply(req, 200, body, NULL);
		return false;
	}
	cde_errors_reset(&errs);
	cde_errors_add(&errs, "", "%s", who->reason);
	/* who->reason is one of auth.c's fixed sentences: it names the
	 * scheme that failed, never the credential. */
	cde_api_reply_error_logged(req, who->status,
			   who->status == 401 ? "unauthorized" : who->status == 403 ? "forbidden"
			   : who->status == 503 ? "try again" : "too many requests",
			   &errs, who->status == 401 ? challenge : who->status == 429 ? later
			   : who->status == 503 ? soon : NULL,
			   CDE_LOG_WARN, who->principal, NULL);
	return false;
}

/* ---- what each route does once it is allowed ---- */

typedef void route_fn(struct cde_api *api, struct cde_http_request *req, const char *id,
		      struct cde_auth_result *who);

static void health(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_http_reply(req, 200, "{\"status\":\"ok\"}", NULL);
}

static void readiness(struct cde_api *api, struct cde_http_request *req, const char *id,
		      struct cde_auth_result *who)
{
	bool ready = !api->stopping && api->journal->ops->ready(api->journal->impl);

	cde_http_reply(req, ready ? 200 : 503, ready ? "{\"status\":\"ok\"}" : "{\"status\":\"not ready\"}", NULL);
}

static void events_query(struct cde_api *api, struct cde_http_request *req, const char *id,
			 struct cde_auth_result *who)
{
	cde_api_handle_query(api, req, NULL, NULL);
}

static void event_by_id(struct cde_api *api, struct cde_http_request *req, const char *id,
			struct cde_auth_result *who)
{
	cde_api_handle_query(api, req, id, NULL);
}

static void chain_by_id(struct cde_api *api, struct cde_http_request *req, const char *id,
			struct cde_auth_result *who)
{
	cde_api_handle_query(api, req, NULL, id);
}

static void chains(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_chain_list(api, req);
}

static void events_post(struct cde_api *api, struct cde_http_request *req, const char *id,
			struct cde_auth_result *who)
{
	cde_api_handle_events(api, req, who);
}

static void sizing(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_sizing(api, req, who);
}

static void hook(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_hook(api, req, id, who);
}

static void log_checkpoint(struct cde_api *api, struct cde_http_request *req, const char *id,
			   struct cde_auth_result *who)
{
	cde_api_handle_log_checkpoint(api, req);
}

static void log_inclusion(struct cde_api *api, struct cde_http_request *req, const char *id,
			  struct cde_auth_result *who)
{
	cde_api_handle_log_inclusion(api, req);
}

static void log_consistency(struct cde_api *api, struct cde_http_request *req, const char *id,
			    struct cde_auth_result *who)
{
	cde_api_handle_log_consistency(api, req);
}

static void environment(struct cde_api *api, struct cde_http_request *req, const char *id,
			struct cde_auth_result *who)
{
	cde_api_handle_environment(api, req, id);
}

static void dora(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_dora(api, req);
}

static void gate(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_gate(api, req, id, who);
}

static void ui(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cde_api_handle_ui(api, req);
}

/* Replies @body (malloc'd; NULL when out of memory) and frees it. */
static void reply_taken(struct cde_http_request *req, char *body, const char *const *headers)
{
	if (body)
		cde_http_reply(req, 200, body, headers);
	else
		cde_api_reply_error(req, 503, "out of memory", NULL, NULL);
	free(body);
}

static void metrics(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	static const char *const text[] = { "Content-Type: text/plain; version=0.0.4; charset=utf-8", NULL };
	struct cde_observe_sources src = {
		.journal = api->journal, .delivery = api->delivery, .db_path = api->db_path,
		.queue_depth = api->pending,
	};

	reply_taken(req, api->observe ? cde_observe_render(api->observe, &src) : NULL, text);
}

static void sinks(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	reply_taken(req, cde_delivery_status_json(api->delivery), NULL);
}

/* GET /v1/schemas: the schemas an event's schemaUri may name. */
static void schemas(struct cde_api *api, struct cde_http_request *req, const char *id, struct cde_auth_result *who)
{
	cJSON *body = cJSON_CreateObject(), *list = cde_schema_set_list_json(api->schemas);
	const char *unknown = api->accept_unknown_schema_uri ? "accept" : "refuse";

	if (body && list && cJSON_AddItemToObject(body, "schemas", list)) {
		list = NULL; /* now body's */
		if (cJSON_AddStringToObject(body, "unknown_schema_uri", unknown)) {
			cde_api_reply_json(req, 200, body, NULL);
			return;
		}
	}
	cJSON_Delete(list);
	cJSON_Delete(body);
	cde_api_reply_error(req, 503, "out of memory", NULL, NULL);
}

/* ---- the table ---- */

#define M(name) (1u << CDE_HTTP_##name)

/* A route: the methods it takes, its path (exact, or a prefix and one
 * {id} segment: see match()), the scope its caller needs (0: anyone, no
 * credential asked) and what answers it. A path may appear once per
 * scope; a 405's Allow lists the methods of every row of the path. */
static const struct route {
	unsigned methods;
	const char *pattern;
	unsigned scope;
	route_fn *handle;
} routes[] = {
	{ M(GET) | M(HEAD), "/healthz", 0, health },
	{ M(GET) | M(HEAD), "/readyz", 0, readiness },
	{ M(GET), "/v1/events", CDE_SCOPE_QUERY, events_query },
	{ M(POST), "/v1/events", CDE_SCOPE_EMIT, events_post },
	{ M(GET), "/v1/events/{id}", CDE_SCOPE_QUERY, event_by_id },
	{ M(GET), "/v1/chains", CDE_SCOPE_QUERY, chains },
	{ M(GET), "/v1/chains/{chainId}", CDE_SCOPE_QUERY, chain_by_id },
	{ M(GET) | M(HEAD), "/metrics", CDE_SCOPE_QUERY, metrics },
	{ M(GET), "/v1/sinks", CDE_SCOPE_QUERY, sinks },
	{ M(GET), "/v1/schemas", CDE_SCOPE_QUERY, schemas },
	{ M(POST), "/v1/sizing", CDE_SCOPE_EMIT, sizing },
	{ M(POST), "/v1/hooks/{kind}", CDE_SCOPE_EMIT, hook },
	{ M(GET), "/v1/gates/{environment}", CDE_SCOPE_QUERY, gate },
	{ M(GET), "/v1/log/checkpoint", CDE_SCOPE_QUERY, log_checkpoint },
	{ M(GET), "/v1/log/proof/inclusion", CDE_SCOPE_QUERY, log_inclusion },
	{ M(GET), "/v1/log/proof/consistency", CDE_SCOPE_QUERY, log_consistency },
	{ M(GET), "/v1/environments/{environment}", CDE_SCOPE_QUERY, environment },
	{ M(GET), "/v1/dora", CDE_SCOPE_QUERY, dora },
	/* The page's files hold no data, and a browser cannot send a token
	 * before a page has asked for one: the API they read asks. */
	{ M(GET) | M(HEAD), "/ui", 0, ui },
	{ M(GET) | M(HEAD), "/ui/*", 0, ui },
};

/* In enum cde_http_method's order, which is the order Allow lists. */
static const char *const method_names[] = {
	[CDE_HTTP_GET] = "GET",	      [CDE_HTTP_HEAD] = "HEAD",		[CDE_HTTP_POST] = "POST",
	[CDE_HTTP_PUT] = "PUT",	      [CDE_HTTP_DELETE] = "DELETE",	[CDE_HTTP_OPTIONS] = "OPTIONS",
	[CDE_HTTP_PATCH] = "PATCH",
};

/* What match() needs of a pattern, measured once rather than for every
 * row of every request (twice a request: at its head and with its body). */
struct shape {
	size_t len;	/* strlen */
	size_t brace;	/* where '{' is; len: none */
	bool prefix;	/* ends in '*' (without a brace) */
};

static const struct shape *shapes(void)
{
	static struct shape table[sizeof(routes) / sizeof(routes[0])];
	static bool measured;	/* only the loop thread routes */

	for (size_t i = 0; !measured && i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *p = routes[i].pattern, *brace = strchr(p, '{');

		table[i].len = strlen(p);
		table[i].brace = brace ? (size_t)(brace - p) : table[i].len;
		table[i].prefix = !brace && p[table[i].len - 1] == '*';
	}
	measured = true;
	return table;
}

/* The request as match() reads it: its decoded path, and its target as
 * sent up to '?'. */
struct asked {
	const char *path, *target;
	size_t target_len;
};

/* True when @q's path is @pattern's (of shape @sh). An exact pattern is
 * compared with the decoded path; one ending in '*' takes every decoded
 * path it begins. A pattern's {id} is one segment of the target as
 * sent, not empty and without '/': the decoded path cannot tell the id
 * "a%2Fb" from the two segments "a/b"; *@ret_segment points at it,
 * still percent-encoded, up to '?'. */
static bool match(const char *pattern, const struct shape *sh, const struct asked *q, const char **ret_segment,
		  size_t *ret_len)
{
	size_t n = sh->brace;

	if (sh->prefix)
		return strncmp(q->path, pattern, sh->len - 1) == 0;
	if (n == sh->len)
		return q->path[0] == pattern[0] && strcmp(q->path, pattern) == 0;
	if (strncmp(q->target, pattern, n) != 0 || q->target_len == n || memchr(q->target + n, '/', q->target_len - n))
		return false;
	*ret_segment = q->target + n;
	*ret_len = q->target_len - n;
	return true;
}

static void reply_allow(struct cde_http_request *req, unsigned allowed)
{
	char allow[64] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (allowed & 1u << i)
			used += (size_t)snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "",
						 method_names[i]);
	cde_api_method_not_allowed(req, allow);
}

/* The {id} segment @raw of @len bytes, percent-decoded into *@ret (NULL
 * for a route without one). Answers 400 or 500 and returns false when
 * it cannot be. */
static bool decode_segment(struct cde_http_request *req, const char *raw, size_t len, char **ret)
{
	struct cde_errors errs;
	char *enc;
	int r;

	*ret = NULL;
	if (!raw)
		return true;
	enc = strndup(raw, len);
	r = enc ? cde_pct_decode(enc, ret) : -ENOMEM;
	free(enc);
	if (r == -ENOMEM) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
	} else if (r < 0) {
		cde_errors_reset(&errs);
		cde_errors_add(&errs, "/path", "malformed percent-encoding (ids are percent-encoded in "
			       "paths: a '/' as %%2F)");
		cde_api_reply_error(req, 400, "invalid path", &errs, NULL);
	}
	return r == 0;
}

/* Routes by the table: 404 for a path no row has, 405 for a method none
 * of its rows takes (both before any credential is asked for), then the
 * row's scope, its {id} and its handler. */
void cde_api_handle(struct cde_http_request *req, void *arg)
{
	struct cde_api *api = arg;
	enum cde_http_method m = cde_http_request_method(req);
	const struct route *found = NULL;
	const char *raw = NULL, *segment = NULL;
	size_t len = 0, n = 0;
	unsigned allowed = 0;
	struct cde_auth_result who;
	char *id;
	const struct shape *sh = shapes();
	struct asked q = { .path = cde_http_request_path(req), .target = cde_http_request_head(req)->target };

	q.target_len = strcspn(q.target, "?");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, &sh[i], &q, &segment, &n))
			continue;
		allowed |= routes[i].methods;
		if (!found && routes[i].methods & 1u << m) {
			found = &routes[i];
			raw = sh[i].brace < sh[i].len ? segment : NULL;
			len = n;
		}
	}
	if (!allowed) {
		cde_api_reply_error(req, 404, "not found", NULL, NULL);
		return;
	}
	if (!found) {
		reply_allow(req, allowed);
		return;
	}
	if (found->scope && !cde_api_authorized(api, req, found->scope, &who))
		return;
	if (!found->scope)
		memset(&who, 0, sizeof(who));
	if (!decode_segment(req, raw, len, &id))
		return;
	found->handle(api, req, id, &who);
	free(id);
}
