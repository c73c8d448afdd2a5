/* Remote audit queries for cdevctl: libcurl's easy interface, which is
 * right for a command that waits for its answer anyway. */

#include "cli/audit_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#define RESPONSE_MAX (64u << 20)

struct response {
	char *buf;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct response *r = arg;
	size_t n = size * nmemb;
	char *b;

	if (r->len + n > RESPONSE_MAX)
		return 0;
	b = realloc(r->buf, r->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, data, n);
	r->buf = b;
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

static void add_param(CURL *curl, char *q, size_t size, const char *name, const char *value)
{
	char *enc;
	size_t n = strlen(q);

	if (!value)
		return;
	enc = curl_easy_escape(curl, value, 0);
	if (enc)
		snprintf(q + n, size - n, "%s%s=%s", n ? "&" : "", name, enc);
	curl_free(enc);
}

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int cde_cli_http_get(CURL *curl, const char *url, struct curl_slist *headers, char **ret, char *err,
		     size_t err_size)
{
	struct response resp = { 0 };
	long status = 0;
	CURLcode cc;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200 || !resp.buf) {
		snprintf(err, err_size, "%s: %s", url,
			 cc != CURLE_OK ? curl_easy_strerror(cc) : resp.buf ? resp.buf : "no answer");
		free(resp.buf);
		return -EIO;
	}
	*ret = resp.buf;
	return 0;
}

/* Fetches one page; calls @fn per record; sets *@next (0: last page). */
static int page(CURL *curl, const char *url, struct curl_slist *headers, uint64_t *next, uint64_t *left,
		int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx, char *err,
		size_t err_size)
{
	cJSON *doc, *events, *rec, *after;
	char *body = NULL;
	int r = cde_cli_http_get(curl, url, headers, &body, err, err_size);

	if (r < 0)
		return r;
	doc = cJSON_Parse(body);
	free(body);
	events = cJSON_GetObjectItemCaseSensitive(doc, "events");
	if (!cJSON_IsArray(events)) {
		snprintf(err, err_size, "%s: not an answer of cdeventsd", url);
		cJSON_Delete(doc);
		return -EIO;
	}
	cJSON_ArrayForEach(rec, events) {
		char *event;
		struct cde_audit_record out;

		if (*left == 0)
			break;
		event = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rec, "event"));
		if (!event) {
			snprintf(err, err_size, "out of memory");
			r = -ENOMEM;
			break;
		}
		out = (struct cde_audit_record){
			.seq = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "seq")),
			.received_at = text(rec, "receivedAt"), .principal = text(rec, "principal"),
			.peer = text(rec, "peer"), .prev_hash = text(rec, "prevHash"), .hash = text(rec, "hash"),
			.event = event,
		};
		r = fn(ctx, &out);
		free(event);
		if (r)
			break;
		if (*left != UINT64_MAX)
			(*left)--;
	}
	after = cJSON_GetObjectItemCaseSensitive(doc, "nextAfter");
	*next = cJSON_IsNumber(after) && *left ? (uint64_t)after->valuedouble : 0;
	cJSON_Delete(doc);
	return r;
}

int cde_cli_audit_remote(const char *url, const char *token, const struct cde_audit_filter *f,
			 int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx, char *err,
			 size_t err_size)
{
	CURL *curl;
	struct curl_slist *headers = NULL;
	char auth[1200], q[3072] = "", full[4096];
	uint64_t next = f->after, left = f->limit ? f->limit : UINT64_MAX;
	size_t url_len = strlen(url);
	int r = 0;

	while (url_len && url[url_len - 1] == '/')
		url_len--;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(curl = curl_easy_init())) {
		snprintf(err, err_size, "cannot start libcurl");
		return -EIO;
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	add_param(curl, q, sizeof(q), "subject", f->subject);
	add_param(curl, q, sizeof(q), "type", f->type);
	add_param(curl, q, sizeof(q), "source", f->source);
	add_param(curl, q, sizeof(q), "chainId", f->chain_id);
	add_param(curl, q, sizeof(q), "artifactId", f->artifact_id);
	add_param(curl, q, sizeof(q), "environment", f->environment);
	add_param(curl, q, sizeof(q), "since", f->since);
	add_param(curl, q, sizeof(q), "until", f->until);
	add_param(curl, q, sizeof(q), "order", f->descending ? "desc" : NULL);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	do {
		snprintf(full, sizeof(full), "%.*s/v1/events?%s%slimit=1000", (int)url_len, url, q,
			 *q ? "&" : "");
		if (next)
			snprintf(full + strlen(full), sizeof(full) - strlen(full), "&after=%llu",
				 (unsigned long long)next);
		r = page(curl, full, headers, &next, &left, fn, ctx, err, err_size);
	} while (r == 0 && next);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return r;
}
