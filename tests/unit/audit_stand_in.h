#pragma once
/* A stand-in audit log for the analyses' unit tests (gates, tickets): a
 * table of events in seq order, filtered as GET /v1/events filters
 * (subject, chain, artifact, environment, type without its version,
 * after, descending, limit), served through a cde_audit_source, each row
 * with the principal that posted it and its peer (@poster and
 * @poster_peer when it was appended).
 * Static: each test is one file. */

#include "tests/unit/helpers.h"

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

struct row {
	char event[2048];
	char received[40];
	char principal[64];
	char peer[64];
	uint64_t via;		/* chain_via: the row it joined its chain through; 0: none */
};

/* Large enough for an artifact with more than a thousand test cases. */
static struct row rows[1200];
static size_t n_rows;
static const char *poster = "ci";	/* who posts the rows appended next, */
static const char *poster_peer = "127.0.0.1:40000";	/* from where */

static const char *member(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The artifact an event is about, as the store indexes it. */
static const char *artifact_of(const cJSON *ev)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "subject"),
								 "content");
	const char *a = member(content, "artifactId", NULL, NULL);
	const char *type = member(ev, "context", "type", NULL);

	if (a)
		return a;
	return type && strncmp(type, "dev.cdevents.artifact.", 22) == 0 ? member(ev, "subject", "id", NULL) : NULL;
}

static bool text_matches(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

static bool matches(const struct cde_audit_filter *f, uint64_t seq, const cJSON *ev)
{
	const char *type = member(ev, "context", "type", NULL);
	bool in_range = !f->after || (f->descending ? seq < f->after : seq > f->after);

	return in_range && text_matches(f->subject, member(ev, "subject", "id", NULL)) &&
	       text_matches(f->chain_id, member(ev, "context", "chainId", NULL)) &&
	       text_matches(f->artifact_id, artifact_of(ev)) &&
	       text_matches(f->environment, member(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content",
						   "environment", "id")) &&
	       (!f->type || (type && strncmp(type, f->type, strlen(f->type)) == 0));
}

static int stand_in_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	uint64_t sent = 0;

	(void)ctx;
	for (size_t k = 0; k < n_rows; k++) {
		size_t i = f->descending ? n_rows - 1 - k : k;
		cJSON *ev = cJSON_Parse(rows[i].event);
		const char *chain = member(ev, "context", "chainId", NULL);
		/* chain_id as the stores give it: the column the log indexed */
		struct cde_audit_record rec = { .seq = i + 1, .received_at = rows[i].received,
						.principal = rows[i].principal, .peer = rows[i].peer,
						.event = rows[i].event, .chain_via = rows[i].via,
						.chain_id = chain ? chain : "" };
		int r = 0;

		assert_non_null(ev);
		if (matches(f, i + 1, ev)) {
			r = fn(fn_ctx, &rec);
			sent++;
		}
		cJSON_Delete(ev);
		if (r)
			return r;
		if (f->limit && sent == f->limit)
			break;
	}
	return 0;
}

static const struct cde_audit_source stand_in = { .query = stand_in_query };

/* Appends @event (JSON text) as taken by the log at @received; its seq. */
static uint64_t append_row(const char *received, const char *event)
{
	struct row *r = &rows[n_rows++];

	assert_true(n_rows <= sizeof(rows) / sizeof(rows[0]));
	assert_true(strlen(event) < sizeof(r->event));
	snprintf(r->received, sizeof(r->received), "%s", received);
	snprintf(r->principal, sizeof(r->principal), "%s", poster);
	snprintf(r->peer, sizeof(r->peer), "%s", poster_peer);
	snprintf(r->event, sizeof(r->event), "%s", event);
	r->via = 0;
	return n_rows;
}

/* Appends an event of @type (e.g. "testsuiterun.finished.0.3.0") taken
 * by the log at @received; returns its seq. */
static uint64_t post(const char *received, const char *type, const char *subject, const char *chain,
		     const char *content)
{
	char event[2048];

	snprintf(event, sizeof(event),
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e%zu\",\"source\":\"/ci\","
		 "\"type\":\"dev.cdevents.%s\",\"timestamp\":\"%s\",\"chainId\":\"%s\"},"
		 "\"subject\":{\"id\":\"%s\",\"content\":%s}}",
		 n_rows + 1, type, received, chain, subject, content);
	return append_row(received, event);
}

static int reset(void **state)
{
	(void)state;
	n_rows = 0;
	poster = "ci";
	poster_peer = "127.0.0.1:40000";
	return 0;
}
