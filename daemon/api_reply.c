/* The API's replies: JSON bodies, refusals with their JSON pointers and
 * their log line. Every request ends in exactly one of these, or in an
 * ingest's answer once the journal has reported. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "schemas/base/json_strict.h"

void cde_api_reply_json(struct cde_http_request *req, int status, cJSON *body,
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
void cde_api_reply_error_logged(struct cde_http_request *req, int status, const char *message,
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
	cde_api_reply_json(req, status, o, headers);
}

void cde_api_reply_error(struct cde_http_request *req, int status, const char *message,
			const struct cde_errors *errs, const char *const *headers)
{
	cde_api_reply_error_logged(req, status, message, errs, headers, refusal_level(status), NULL, NULL);
}

/* Refuses a request that passed authentication: its webhook-id, if it
 * used one, is forgotten so the sender's retry is not taken for a replay.
 * @level and @why as for log_refusal. */
void cde_api_refuse_logged(struct cde_api *api, struct cde_http_request *req,
			  const struct cde_auth_result *who, int status, const char *message,
			  const struct cde_errors *errs, const char *const *headers,
			  enum cde_log_level level, const char *why)
{
	cde_auth_forget(api->auth, who);
	cde_api_reply_error_logged(req, status, message, errs, headers, level, who->principal, why);
}

void cde_api_refuse(struct cde_api *api, struct cde_http_request *req,
		   const struct cde_auth_result *who, int status, const char *message,
		   const struct cde_errors *errs, const char *const *headers)
{
	cde_api_refuse_logged(api, req, who, status, message, errs, headers, refusal_level(status), NULL);
}

/* True when the query has "@name", "@name=1" or "@name=true". */
bool cde_api_query_flag(const char *query, const char *name)
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

void cde_api_reply_not_queued(struct cde_http_request *req, int r)
{
	static const char *const retry[] = { "Retry-After: 1", NULL };

	if (r == -EBUSY)
		cde_api_reply_error(req, 503, "the audit log's reader is busy: retry shortly", NULL, retry);
	else
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
}
