#pragma once
/* A stand-in cde_audit_source for the analyses' unit tests: a table of
 * events in seq order, filtered by type (exact or without its version),
 * environment, chain and since as the real stores filter, so the logic is tested
 * without a database. Everything is static inline: each test is one file. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

struct table_row {
	const char *event;		/* the CDEvent's JSON text */
	const char *principal;
};

struct table_source {
	const struct table_row *rows;
	size_t n;
	unsigned queries;
	const char *const *received;	/* when the log took each row; NULL: all 2026-12-01T00:00:00Z */
	const uint64_t *via;		/* each row's chain_via; NULL: none */
};

static inline bool table_type_matches(const char *type, const char *want)
{
	size_t n = strlen(want);

	return strcmp(type, want) == 0 || (strncmp(type, want, n) == 0 && type[n] == '.' &&
					   strchr(type + n + 1, '.') != NULL);
}

static inline bool table_env_matches(const cJSON *event, const char *want)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(event, "subject"), "content");
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(content, "environment");

	if (cJSON_IsObject(env))
		env = cJSON_GetObjectItemCaseSensitive(env, "id");
	return cJSON_IsString(env) && strcmp(env->valuestring, want) == 0;
}

static inline bool table_row_matches(const char *text, const struct cde_audit_filter *f)
{
	cJSON *e = cJSON_Parse(text);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "context"), "type");
	bool ok = e && cJSON_IsString(type);

	if (ok && f->type)
		ok = table_type_matches(type->valuestring, f->type);
	if (ok && f->environment)
		ok = table_env_matches(e, f->environment);
	if (ok && f->chain_id) {
		const cJSON *chain = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "context"),
								      "chainId");

		ok = cJSON_IsString(chain) && strcmp(chain->valuestring, f->chain_id) == 0;
	}
	cJSON_Delete(e);
	return ok;
}

static inline int table_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	struct table_source *t = ctx;

	t->queries++;
	for (size_t i = 0; i < t->n; i++) {
		struct cde_audit_record rec = {
			.seq = i + 1, .received_at = t->received ? t->received[i] : "2026-12-01T00:00:00Z",
			.principal = t->rows[i].principal ? t->rows[i].principal : "ci", .event = t->rows[i].event,
			.chain_via = t->via ? t->via[i] : 0,
		};
		int r;

		/* since: as the stores compare it, by when the log took a row
		 * (both texts are canonical UTC, so they sort as they read) */
		if (!table_row_matches(rec.event, f) || (f->since && strcmp(rec.received_at, f->since) < 0))
			continue;
		r = fn(fn_ctx, &rec);
		if (r)
			return r;
	}
	return 0;
}

static inline struct cde_audit_source table_source(struct table_source *t)
{
	return (struct cde_audit_source){ .query = table_query, .ctx = t };
}
