/* Chain correlation in the store: the log's answers to the questions of
 * events/correlate.c, from the store's prepared statements inside the
 * writer's transaction (so events earlier in the same group count). The
 * rules are events/correlate.c's; this file only looks up. */

#include "sinks/audit/audit_correlate.h"

#include <stdio.h>

#include "events/correlate.h"

struct lookups {
	sqlite3_stmt *chain_of_subject;
	sqlite3_stmt *chain_of_artifact;
	sqlite3_stmt *chain_head;
};

/* Runs @st with @key bound and copies its first text column into @out;
 * returns true when there was a row. */
static bool first_text(sqlite3_stmt *st, const char *key, char *out, size_t size)
{
	bool found = false;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		found = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

static bool chain_of_subject(void *ctx, const char *key, char *out, size_t size)
{
	return first_text(((struct lookups *)ctx)->chain_of_subject, key, out, size);
}

static bool chain_of_artifact(void *ctx, const char *key, char *out, size_t size)
{
	return first_text(((struct lookups *)ctx)->chain_of_artifact, key, out, size);
}

static bool latest_of_chain(void *ctx, const char *key, char *out, size_t size)
{
	return first_text(((struct lookups *)ctx)->chain_head, key, out, size);
}

int cde_audit_correlate(sqlite3_stmt *chain_of_subject_st, sqlite3_stmt *chain_of_artifact_st,
			sqlite3_stmt *chain_head_st, struct cde_event *ev)
{
	struct lookups l = { chain_of_subject_st, chain_of_artifact_st, chain_head_st };
	const struct cde_chain_log log = {
		.chain_of_subject = chain_of_subject,
		.chain_of_artifact = chain_of_artifact,
		.latest_of_chain = latest_of_chain,
		.ctx = &l,
	};
	struct cde_correlation c;

	cde_correlate(ev, &log, &c);
	return cde_correlation_apply(ev, &c);
}
