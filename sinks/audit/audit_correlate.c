/* Chain correlation in the store: the log's answers to the questions of
 * events/correlate.c, from the store's prepared statements inside the
 * writer's transaction (so events earlier in the same group count). The
 * rules are events/correlate.c's; this file only looks up. */

#include "sinks/audit/audit_correlate.h"

#include <stdio.h>

#include "events/correlate.h"

/* Runs @st with @key (and @key2 unless NULL) bound and copies its first
 * text column into @out, and its second (the row's seq) into *@seq unless
 * @seq is NULL; returns true when there was a row. */
static bool first_text(sqlite3_stmt *st, const char *key, const char *key2, char *out, size_t size,
		       uint64_t *seq)
{
	bool found = false;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (key2)
		sqlite3_bind_text(st, 2, key2, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		if (seq)
			*seq = (uint64_t)sqlite3_column_int64(st, 1);
		found = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

/* The two answers the writer's own rows give (audit_memo.h) are asked
 * of the memo first, and what SQLite answers is kept there. */
static bool chain_of_subject(void *ctx, const char *key, char *out, size_t size, uint64_t *seq)
{
	const struct cde_audit_lookups *l = ctx;

	if (cde_audit_memo_subject(l->memo, key, out, size, seq))
		return true;
	if (!first_text(l->chain_of_subject, key, NULL, out, size, seq))
		return false;
	if (seq)
		cde_audit_memo_subject_read(l->memo, key, out, size, *seq);
	return true;
}

static bool chain_of_artifact(void *ctx, const char *key, char *out, size_t size, uint64_t *seq)
{
	return first_text(((const struct cde_audit_lookups *)ctx)->chain_of_artifact, key, NULL, out, size, seq);
}

static bool latest_of_chain(void *ctx, const char *key, char *out, size_t size)
{
	const struct cde_audit_lookups *l = ctx;

	if (cde_audit_memo_chain(l->memo, key, out, size))
		return true;
	if (!first_text(l->chain_head, key, NULL, out, size, NULL))
		return false;
	cde_audit_memo_chain_read(l->memo, key, out, size);
	return true;
}

static bool chain_of_deployment(void *ctx, const char *service, const char *environment, char *out,
				size_t size, uint64_t *seq)
{
	return first_text(((const struct cde_audit_lookups *)ctx)->chain_of_deployment, service, environment,
			  out, size, seq);
}

static bool chain_names_other_artifact(void *ctx, const char *chain, const char *artifact)
{
	char one[2];

	return first_text(((const struct cde_audit_lookups *)ctx)->other_artifact, chain, artifact, one,
			  sizeof(one), NULL);
}

int cde_audit_correlate(const struct cde_audit_lookups *l, struct cde_event *ev, uint64_t *via_seq)
{
	const struct cde_chain_log log = {
		.chain_of_subject = chain_of_subject,
		.chain_of_artifact = chain_of_artifact,
		.latest_of_chain = latest_of_chain,
		.chain_of_deployment = chain_of_deployment,
		.chain_names_other_artifact = chain_names_other_artifact,
		.ctx = (void *)l,
	};
	struct cde_correlation c;

	cde_correlate(ev, &log, &c);
	*via_seq = c.via_seq;
	return cde_correlation_apply(ev, &c);
}
