/* audit.db as a bundle source (audit_bundle_sqlite.h): the records,
 * losses and keyed checkpoints of an evidence bundle, read in one read
 * transaction with the Merkle proofs (audit_proof_sqlite.c). */

#include "sinks/audit/audit_bundle_sqlite.h"

#include <errno.h>
#include <string.h>

#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/sql.h"

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Prepares @sql with @a and @b bound as its two integers. */
static int prepare2(sqlite3 *db, const char *sql, uint64_t a, uint64_t b, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(*st, 1, (sqlite3_int64)a);
	sqlite3_bind_int64(*st, 2, (sqlite3_int64)b);
	return 0;
}

/* Ends a walk: @r from the callback, else how the steps ended. */
static int finish(sqlite3_stmt *st, int rc, int r)
{
	sqlite3_finalize(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : -EIO;
}

static int lite_head(void *ctx, struct cde_audit_verify *ret, char *err, size_t err_size)
{
	struct cde_audit_bundle_sqlite *b = ctx;
	int r = cde_audit_store_verify(b->store, NULL, 0, 0, ret);

	if (r == -EBADMSG)
		snprintf(err, err_size, "the chain is broken at seq %llu: %s", (unsigned long long)ret->bad_seq,
			 ret->reason);
	else if (r < 0)
		snprintf(err, err_size, "reading the log failed");
	return r;
}

static int lite_begin(void *ctx, char *err, size_t err_size)
{
	struct cde_audit_bundle_sqlite *b = ctx;

	if (sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	snprintf(err, err_size, "reading the log: %s", sqlite3_errmsg(b->db));
	return -EIO;
}

static void lite_end(void *ctx)
{
	struct cde_audit_bundle_sqlite *b = ctx;

	sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
}

static int lite_bounds(void *ctx, const char *since, const char *until, uint64_t *first, uint64_t *last)
{
	struct cde_audit_bundle_sqlite *b = ctx;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(b->db, "SELECT min(seq), max(seq) FROM events WHERE received_at >= ?1 AND received_at < ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, since ? since : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, until ? until : "\xff", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*first = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	*last = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 1) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static int lite_records(void *ctx, uint64_t first, uint64_t last,
			int (*each)(void *arg, const struct cde_audit_bundle_row *row), void *arg)
{
	struct cde_audit_bundle_sqlite *b = ctx;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, r = 0;

	if (prepare2(b->db, "SELECT seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
		     " received_at, spec_version, principal, peer, prev_hash, hash, event"
		     " FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq", first, last, &st) < 0)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_audit_bundle_row row = { .seq = (uint64_t)sqlite3_column_int64(st, 0),
						    .event = col(st, 14) };

		for (int i = 0; i < CDE_AUDIT_BUNDLE_COLS; i++)
			row.cols[i] = col(st, i + 1);
		r = each(arg, &row);
	}
	return finish(st, rc, r);
}

static int lite_gaps(void *ctx, uint64_t after, uint64_t before,
		     int (*each)(void *arg, const struct cde_audit_bundle_gap *gap), void *arg)
{
	struct cde_audit_bundle_sqlite *b = ctx;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, r = 0;

	if (!cde_sql_has_table(b->db, "gaps"))
		return 0;
	if (prepare2(b->db, "SELECT first, last, at, reason, prev, hash, mac FROM gaps"
		     " WHERE last >= ? AND last < ? ORDER BY first", after, before, &st) < 0)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_audit_bundle_gap g = { .first = (uint64_t)sqlite3_column_int64(st, 0),
						  .last = (uint64_t)sqlite3_column_int64(st, 1) };

		for (int i = 0; i < 5; i++)
			g.cols[i] = col(st, i + 2);
		r = each(arg, &g);
	}
	return finish(st, rc, r);
}

static int lite_checkpoints(void *ctx, uint64_t first, uint64_t last,
			    int (*each)(void *arg, uint64_t seq, const char *hash, const char *mac), void *arg)
{
	struct cde_audit_bundle_sqlite *b = ctx;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, r = 0;

	if (prepare2(b->db, "SELECT seq, hash, mac FROM checkpoints WHERE seq BETWEEN ? AND ? ORDER BY seq", first,
		     last, &st) < 0)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = each(arg, (uint64_t)sqlite3_column_int64(st, 0), col(st, 1), col(st, 2));
	return finish(st, rc, r);
}

void cde_audit_bundle_sqlite_init(struct cde_audit_bundle_sqlite *b, struct cde_audit_store *s)
{
	memset(b, 0, sizeof(*b));
	b->store = s;
	b->db = cde_audit_store_db(s);
	cde_audit_proof_sqlite_init(&b->proofs, b->db);
	b->src = (struct cde_audit_bundle_source){
		.head = lite_head,
		.begin = lite_begin,
		.end = lite_end,
		.bounds = lite_bounds,
		.records = lite_records,
		.gaps = lite_gaps,
		.checkpoints = lite_checkpoints,
		.proofs = &b->proofs.src,
		.ctx = b,
	};
}

void cde_audit_bundle_sqlite_release(struct cde_audit_bundle_sqlite *b)
{
	cde_audit_proof_sqlite_release(&b->proofs);
}

long long cde_audit_export(struct cde_audit_store *s, const char *since, const char *until, FILE *out)
{
	struct cde_audit_bundle_sqlite b;
	char err[256];
	long long n;

	cde_audit_bundle_sqlite_init(&b, s);
	n = cde_audit_export_from(&b.src, since, until, out, err, sizeof(err));
	cde_audit_bundle_sqlite_release(&b);
	return n;
}
