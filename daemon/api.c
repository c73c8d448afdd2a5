/* Routes: which handler a request goes to, and who may call it. Every
 * request gets exactly one reply: a refusal (api_reply.c), an ingest's
 * answer once the journal reported (api_ingest.c), or a query's
 * (api_query.c). */

#include "daemon/api_internal.h"
#include "daemon/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


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
			cde_api_method_not_allowed(req, "GET, HEAD");
		else
			cde_http_reply(req, ready ? 200 : 503,
				       ready ? "{\"status\":\"ok\"}" : "{\"status\":\"not ready\"}", NULL);
		return;
	}
	if (strcmp(path, "/v1/events") == 0) {
		if (m == CDE_HTTP_GET) {
			if (cde_api_authorized(api, req, CDE_SCOPE_QUERY, &who))
				cde_api_handle_query(api, req, NULL, NULL);
		} else if (m != CDE_HTTP_POST) {
			cde_api_method_not_allowed(req, "GET, POST");
		} else if (cde_api_authorized(api, req, CDE_SCOPE_EMIT, &who)) {
			cde_api_handle_events(api, req, &who);
		}
		return;
	}
	if (strncmp(path, "/v1/events/", 11) == 0 || strncmp(path, "/v1/chains/", 11) == 0) {
		cde_api_handle_lookup(api, req, path[4] == 'e' ? "/v1/events/" : "/v1/chains/");
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		if (m != CDE_HTTP_GET && m != CDE_HTTP_HEAD) {
			cde_api_method_not_allowed(req, "GET, HEAD");
		} else if (cde_api_authorized(api, req, CDE_SCOPE_QUERY, &who)) {
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
				cde_api_reply_error(req, 503, "out of memory", NULL, NULL);
			free(body);
		}
		return;
	}
	if (strcmp(path, "/v1/sinks") == 0) {
		if (m != CDE_HTTP_GET) {
			cde_api_method_not_allowed(req, "GET");
		} else if (cde_api_authorized(api, req, CDE_SCOPE_QUERY, &who)) {
			char *status = cde_delivery_status_json(api->delivery);

			if (status)
				cde_http_reply(req, 200, status, NULL);
			else
				cde_api_reply_error(req, 503, "out of memory", NULL, NULL);
			free(status);
		}
		return;
	}
	if (strcmp(path, "/v1/sizing") == 0) {
		if (m != CDE_HTTP_POST)
			cde_api_method_not_allowed(req, "POST");
		else if (cde_api_authorized(api, req, CDE_SCOPE_EMIT, &who))
			cde_api_handle_sizing(api, req, &who);
		return;
	}
	if (strncmp(path, "/v1/hooks/", 10) == 0 && path[10] && !strchr(path + 10, '/')) {
		if (m != CDE_HTTP_POST)
			cde_api_method_not_allowed(req, "POST");
		else if (cde_api_authorized(api, req, CDE_SCOPE_EMIT, &who))
			cde_api_handle_hook(api, req, path + 10, &who);
		return;
	}
	cde_api_reply_error(req, 404, "not found", NULL, NULL);
}
