/* What the daemon says about the HTTP server's requests: the server
 * (daemon/http/) refuses bad framing, caps and deadlines itself but knows
 * nothing of the API, so the body of such a refusal ({"error", "details"},
 * the API's shape) and the log lines ("request refused", and "request
 * answered" at debug) are written here. */

#include "daemon/http_report.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "daemon/log.h"

/* Sent when the body cannot be formatted (out of memory) or would not fit. */
static const char fallback_body[] = "{\"error\":\"internal error\",\"details\":[]}";

static void on_refused(void *arg, const struct cde_http_refusal *r, char *body, size_t size)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL, code[8];

	snprintf(code, sizeof(code), "%d", r->status);
	CDE_LOG_KV(r->status >= 500 ? CDE_LOG_ERROR : CDE_LOG_INFO, r->id, "request refused",
		   { "status", code }, { "method", r->method }, { "path", r->path }, { "peer", r->peer },
		   { "error", r->reason });
	if (o && cJSON_AddStringToObject(o, "error", r->reason) && cJSON_AddArrayToObject(o, "details"))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text || snprintf(body, size, "%s", text) >= (int)size)
		snprintf(body, size, "%s", fallback_body);
	free(text);
}

static void on_answered(void *arg, const struct cde_http_answer *a)
{
	char code[8], ms[32];

	if (!cde_log_enabled(CDE_LOG_DEBUG))
		return;
	snprintf(code, sizeof(code), "%d", a->status);
	snprintf(ms, sizeof(ms), "%.3f", a->seconds * 1000);
	CDE_LOG_KV(CDE_LOG_DEBUG, a->id, "request answered", { "method", a->method }, { "path", a->path },
		   { "status", code }, { "ms", ms }, { "peer", a->peer },
		   { "client_gone", a->client_gone ? "true" : NULL });
}

void cde_http_report_attach(struct cde_http_server *s)
{
	static const struct cde_http_reporter reporter = {
		.refused = on_refused,
		.answered = on_answered,
	};

	cde_http_server_set_reporter(s, &reporter);
}
