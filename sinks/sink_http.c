/* The HTTP sinks: tekton (a Tekton Triggers EventListener) and webhook.
 * Both POST the event as a CloudEvent through the engine's HTTP client.
 * Tekton always uses binary mode, so that CEL interceptors can filter on
 * header['Ce-Type'], and keeps the EventListener's eventID as the
 * receipt; webhook may use structured mode and sign per Standard Webhooks.
 * Configured headers come first and the binding's own last, so a
 * configured header cannot replace a ce-* attribute. */

#include "sinks/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "events/cloudevents.h"
#include "events/signatures.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_chain.h"

struct http_sink {
	const struct cde_sink_options *cfg;	/* the engine keeps it alive */
	struct cde_http_client *http;
	bool tekton;
	struct curl_slist *fixed;		/* configured headers, bearer token */
	uint8_t key[CDE_SIG_KEY_MAX];
	int key_len;				/* 0: unsigned */
};

struct http_call {
	struct http_sink *sink;
	struct cde_ce_message msg;
	struct curl_slist *headers;
	cde_sink_done_fn done;
	void *ctx;
};

static void http_release(void *impl)
{
	struct http_sink *s = impl;

	if (!s)
		return;
	curl_slist_free_all(s->fixed);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	free(s);
}

static int http_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		     char *err, size_t err_size, bool tekton)
{
	struct http_sink *s = calloc(1, sizeof(*s));
	char *secret = NULL;
	size_t secret_len;
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->http = env->http;
	s->tekton = tekton;
	for (size_t i = 0; i < cfg->n_headers; i++) {
		struct curl_slist *l = curl_slist_append(s->fixed, cfg->headers[i]);

		if (!l)
			goto err_nomem;
		s->fixed = l;
	}
	if (cfg->token_file[0]) {
		char line[4200];
		struct curl_slist *l;

		r = cde_read_secret(cfg->token_file, 4096, &secret, &secret_len);
		if (r < 0) {
			snprintf(err, err_size, "token_file %s: %s", cfg->token_file, cde_read_secret_strerror(r));
			goto err_free;
		}
		snprintf(line, sizeof(line), "Authorization: Bearer %s", secret);
		OPENSSL_cleanse(secret, secret_len);
		free(secret);
		secret = NULL;
		l = curl_slist_append(s->fixed, line);
		OPENSSL_cleanse(line, sizeof(line));
		if (!l)
			goto err_nomem;
		s->fixed = l;
	}
	if (cfg->secret_file[0]) {
		r = cde_read_secret(cfg->secret_file, 4096, &secret, &secret_len);
		if (r < 0) {
			snprintf(err, err_size, "secret_file %s: %s", cfg->secret_file, cde_read_secret_strerror(r));
			goto err_free;
		}
		s->key_len = cde_sig_standard_decode_secret(secret, s->key);
		OPENSSL_cleanse(secret, secret_len);
		free(secret);
		if (s->key_len < 0) {
			r = -EINVAL;
			snprintf(err, err_size, "secret_file %s: not a Standard Webhooks secret (whsec_<base64>)",
				 cfg->secret_file);
			goto err_free;
		}
	}
	*ret_impl = s;
	return 0;

err_nomem:
	r = -ENOMEM;
	snprintf(err, err_size, "out of memory");
err_free:
	http_release(s);
	return r;
}

static int tekton_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		       char *err, size_t err_size)
{
	return http_init(cfg, env, ret_impl, err, err_size, true);
}

static int webhook_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
			char *err, size_t err_size)
{
	return http_init(cfg, env, ret_impl, err, err_size, false);
}

static void call_free(struct http_call *call)
{
	curl_slist_free_all(call->headers);
	cde_ce_message_release(&call->msg);
	free(call);
}

/* The EventListener answers {"eventListener":..., "eventID": "..."}. */
static void take_receipt(const struct cde_http_response *resp, struct cde_sink_result *res)
{
	cJSON *doc = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "eventID");

	if (cJSON_IsString(id))
		snprintf(res->receipt, sizeof(res->receipt), "%s", id->valuestring);
	cJSON_Delete(doc);
}

static void on_answer(void *ctx, const struct cde_http_response *resp)
{
	struct http_call *call = ctx;
	struct cde_sink_result res = {
		.outcome = cde_sink_outcome_of_status(resp->status),
		.status = resp->status,
		.retry_after_s = resp->retry_after_s,
	};

	if (resp->status == 0) {
		snprintf(res.detail, sizeof(res.detail), "%s", resp->error ? resp->error : "no answer");
	} else if (res.outcome != CDE_SINK_DELIVERED) {
		int n = (int)(resp->body_len < 120 ? resp->body_len : 120);

		snprintf(res.detail, sizeof(res.detail), "HTTP %ld: %.*s", resp->status, n,
			 resp->body ? resp->body : "");
	}
	if (res.outcome == CDE_SINK_DELIVERED && call->sink->tekton)
		take_receipt(resp, &res);
	call->done(call->ctx, &res);
	call_free(call);
}

static int append(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* Standard Webhooks headers. The id is derived from @identity (an
 * event's source and id, a checkpoint's note), so a redelivery carries
 * the same webhook-id and the receiver's replay check can drop it. */
static int sign(struct http_call *call, const char *identity)
{
	struct http_sink *s = call->sink;
	uint8_t digest[CDE_HASH_LEN];
	char line[128], hex[CDE_HASH_HEX_LEN], msg_id[40], ts[24], sig[CDE_SIG_STANDARD_LEN];
	int r;

	if (cde_sig_sha256(identity, strlen(identity), digest) < 0)
		return -ENOMEM;
	cde_hash_to_hex(digest, hex);
	snprintf(msg_id, sizeof(msg_id), "msg_%.32s", hex);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	r = cde_sig_standard_sign(s->key, (size_t)s->key_len, msg_id, ts, call->msg.body, call->msg.body_len, sig);
	if (r < 0)
		return r;
	snprintf(line, sizeof(line), "webhook-id: %s", msg_id);
	if ((r = append(&call->headers, line)) < 0)
		return r;
	snprintf(line, sizeof(line), "webhook-timestamp: %s", ts);
	if ((r = append(&call->headers, line)) < 0)
		return r;
	snprintf(line, sizeof(line), "webhook-signature: %s", sig);
	return append(&call->headers, line);
}

static int sign_event(struct http_call *call, const struct cde_event *ev)
{
	const char *source = cde_event_source(ev), *id = cde_event_id(ev);
	size_t n = strlen(source) + strlen(id) + 2;
	char *both = malloc(n);
	int r;

	if (!both)
		return -ENOMEM;
	snprintf(both, n, "%s%c%s", source, '\n', id);
	r = sign(call, both);
	free(both);
	return r;
}

/* Sends @call's message with its headers, the configured ones first. */
static int post(struct http_call *call)
{
	struct http_sink *s = call->sink;
	struct cde_http_client_request req = {
		.url = s->cfg->url,
		.headers = call->headers,
		.body = call->msg.body,
		.body_len = call->msg.body_len,
		.timeout_ms = (long)s->cfg->timeout_ms,
		.tls_verify = s->cfg->tls_verify,
	};

	return cde_http_client_post(s->http, &req, on_answer, call);
}

/* Signs @call when the sink has a secret (its id from @ev, or else from
 * @note) and sends it; frees it when that fails. */
static int finish(struct http_call *call, const struct cde_event *ev, const char *note)
{
	/* libcurl would otherwise add "Expect: 100-continue" to large bodies
	 * and wait for it. */
	int r = append(&call->headers, "Expect:");

	if (r == 0 && call->sink->key_len > 0)
		r = ev ? sign_event(call, ev) : sign(call, note);
	if (r == 0)
		r = post(call);
	if (r < 0)
		call_free(call);
	return r;
}

static struct http_call *call_new(struct http_sink *s, cde_sink_done_fn done, void *ctx)
{
	struct http_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->sink = s;
	call->done = done;
	call->ctx = ctx;
	for (const struct curl_slist *h = s->fixed; h; h = h->next)
		if (append(&call->headers, h->data) < 0)
			goto err_free;
	return call;

err_free:
	call_free(call);
	return NULL;
}

static int http_submit(void *impl, const struct cde_event *ev, uint64_t seq, cde_sink_done_fn done, void *ctx)
{
	struct http_sink *s = impl;
	struct http_call *call = call_new(s, done, ctx);
	bool structured = !s->tekton && s->cfg->structured;
	int r;

	if (!call)
		return -ENOMEM;
	r = cde_ce_encode(ev, structured ? CDE_CE_STRUCTURED : CDE_CE_BINARY, &call->msg);
	if (r < 0)
		goto err_free;
	for (size_t i = 0; i < call->msg.n_headers; i++) {
		size_t n = strlen(call->msg.headers[i].name) + strlen(call->msg.headers[i].value) + 3;
		char *line = malloc(n);

		if (!line) {
			r = -ENOMEM;
			goto err_free;
		}
		snprintf(line, n, "%s: %s", call->msg.headers[i].name, call->msg.headers[i].value);
		r = append(&call->headers, line);
		free(line);
		if (r < 0)
			goto err_free;
	}
	return finish(call, ev, NULL);

err_free:
	call_free(call);
	return r;
}

/* Witnessing: the note itself, as text/plain, the way C2SP tools read a
 * checkpoint; its tree size also in a header, so a receiver can order
 * what it gets without parsing. */
static int http_submit_checkpoint(void *impl, uint64_t size, const char *note, cde_sink_done_fn done, void *ctx)
{
	struct http_sink *s = impl;
	struct http_call *call = call_new(s, done, ctx);
	char line[64];
	int r = -ENOMEM;

	if (!call)
		return -ENOMEM;
	call->msg.body = strdup(note);
	if (!call->msg.body)
		goto err_free;
	call->msg.body_len = strlen(note);
	snprintf(line, sizeof(line), "Cdeventsd-Checkpoint-Size: %llu", (unsigned long long)size);
	if ((r = append(&call->headers, "Content-Type: text/plain; charset=utf-8")) < 0 ||
	    (r = append(&call->headers, line)) < 0)
		goto err_free;
	return finish(call, NULL, note);

err_free:
	call_free(call);
	return r;
}

#define HTTP_KEYS "url", "mode", "headers", "tls_verify", "timeout", "max_retry_after"

const struct cde_sink_ops cde_sink_tekton = {
	.name = "tekton",
	.config_keys = (const char *const[]){ HTTP_KEYS, NULL },
	.init = tekton_init,
	.submit = http_submit,
	.release = http_release,
};

const struct cde_sink_ops cde_sink_webhook = {
	.name = "webhook",
	.config_keys = (const char *const[]){ HTTP_KEYS, "token_file", "secret_file", "checkpoints", NULL },
	.init = webhook_init,
	.submit = http_submit,
	.submit_checkpoint = http_submit_checkpoint,
	.release = http_release,
};
