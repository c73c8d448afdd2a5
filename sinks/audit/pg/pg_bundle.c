/* PostgreSQL as a bundle source (pg_bundle.h). The bundle is read in one
 * REPEATABLE READ READ ONLY transaction, the proofs' too (pg_proof.c
 * joins the caller's), so its records, checkpoints and proofs are of one
 * state whatever the replicas commit meanwhile. Rows come in text: the
 * event as stored, byte for byte; records in pages by seq, so a long
 * range is never held whole. */

#include "sinks/audit/pg/pg_bundle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_verify.h"

#define PAGE_ROWS 500
#define STR(x) #x
#define XSTR(x) STR(x)
#define PAGE XSTR(PAGE_ROWS)

static const struct cde_pg_statement statements[] = {
	{ "cde_bundle_records", "SELECT seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
	  " received_at, spec_version, principal, peer, prev_hash, hash, event"
	  " FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT " PAGE, 2 },
	{ "cde_bundle_gaps", "SELECT first, last, at, reason, prev, hash, mac FROM gaps"
	  " WHERE last >= $1 AND last < $2 ORDER BY first", 2 },
	{ "cde_bundle_checkpoints", "SELECT seq, hash, mac FROM checkpoints WHERE seq BETWEEN $1 AND $2"
	  " ORDER BY seq", 2 },
};

static const char *field(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Runs @name with @a and @b as its parameters into *@ret. */
static int run2(struct cde_pg_bundle *b, const char *name, uint64_t a, uint64_t z, PGresult **ret)
{
	char a_s[24], z_s[24];
	const char *values[2] = { cde_pg_u64(a, a_s), cde_pg_u64(z, z_s) };
	PGresult *res = PQexecPrepared(b->c, name, 2, values, NULL, NULL, 0);

	if (!cde_pg_ok(res, true))
		return cde_pg_lost(b->c) ? -ENOTCONN : -EIO;
	*ret = res;
	return 0;
}

static int pg_head(void *ctx, struct cde_audit_verify *ret, char *err, size_t err_size)
{
	struct cde_pg_bundle *b = ctx;
	int r = cde_pg_audit_verify(b->c, NULL, 0, 0, ret);

	if (r == -EBADMSG)
		snprintf(err, err_size, "the chain is broken at seq %llu: %s", (unsigned long long)ret->bad_seq,
			 ret->reason);
	else if (r == -EOPNOTSUPP)
		snprintf(err, err_size, "%s", ret->reason);
	else if (r < 0)
		cde_pg_fail(b->c, err, err_size, "verifying the log");
	return r;
}

static int pg_begin(void *ctx, char *err, size_t err_size)
{
	struct cde_pg_bundle *b = ctx;
	PGresult *res;

	if (cde_pg_exec(b->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, err_size,
			"reading the log") < 0)
		return cde_pg_lost(b->c) ? -ENOTCONN : -EIO;
	res = PQexec(b->c, "SELECT EXISTS(SELECT 1 FROM gaps)");
	if (!cde_pg_ok(res, true)) {
		cde_pg_fail(b->c, err, err_size, "reading the losses");
		PQclear(PQexec(b->c, "ROLLBACK"));
		return cde_pg_lost(b->c) ? -ENOTCONN : -EIO;
	}
	b->has_gaps = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return 0;
}

static void pg_end(void *ctx)
{
	struct cde_pg_bundle *b = ctx;

	PQclear(PQexec(b->c, "ROLLBACK"));
}

static int pg_bounds(void *ctx, const char *since, const char *until, uint64_t *first, uint64_t *last)
{
	struct cde_pg_bundle *b = ctx;
	const char *values[2] = { since, until };
	/* Unnamed: planned with the bounds given, so an open one folds away
	 * and events_by_received serves the other. */
	PGresult *res = PQexecParams(b->c, "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM events"
				     " WHERE ($1::text IS NULL OR received_at >= $1)"
				     " AND ($2::text IS NULL OR received_at < $2)",
				     2, NULL, values, NULL, NULL, 0);

	if (!cde_pg_ok(res, true))
		return cde_pg_lost(b->c) ? -ENOTCONN : -EIO;
	*first = PQntuples(res) == 1 ? (uint64_t)cde_pg_int(res, 0, 0) : 0;
	*last = PQntuples(res) == 1 ? (uint64_t)cde_pg_int(res, 0, 1) : 0;
	PQclear(res);
	return 0;
}

/* One page of records from @from; where the next starts in *@next (0:
 * none). */
static int records_page(struct cde_pg_bundle *b, uint64_t from, uint64_t last, uint64_t *next,
			int (*each)(void *arg, const struct cde_audit_bundle_row *row), void *arg)
{
	PGresult *res;
	int r = run2(b, "cde_bundle_records", from, last, &res), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	for (int i = 0; i < n && r == 0; i++) {
		struct cde_audit_bundle_row row = { .seq = (uint64_t)cde_pg_int(res, i, 0), .event = field(res, i, 14) };

		for (int k = 0; k < CDE_AUDIT_BUNDLE_COLS; k++)
			row.cols[k] = field(res, i, k + 1);
		r = each(arg, &row);
		*next = row.seq + 1;
	}
	if (n < PAGE_ROWS)
		*next = 0;
	PQclear(res);
	return r;
}

static int pg_records(void *ctx, uint64_t first, uint64_t last,
		      int (*each)(void *arg, const struct cde_audit_bundle_row *row), void *arg)
{
	uint64_t from = first;
	int r = 0;

	while (r == 0 && from && from <= last)
		r = records_page(ctx, from, last, &from, each, arg);
	return r;
}

static int pg_gaps(void *ctx, uint64_t after, uint64_t before,
		   int (*each)(void *arg, const struct cde_audit_bundle_gap *gap), void *arg)
{
	struct cde_pg_bundle *b = ctx;
	PGresult *res;
	int r;

	if (!b->has_gaps)
		return 0;
	r = run2(b, "cde_bundle_gaps", after, before, &res);
	if (r < 0)
		return r;
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct cde_audit_bundle_gap g = { .first = (uint64_t)cde_pg_int(res, i, 0),
						  .last = (uint64_t)cde_pg_int(res, i, 1) };

		for (int k = 0; k < 5; k++)
			g.cols[k] = field(res, i, k + 2);
		r = each(arg, &g);
	}
	PQclear(res);
	return r;
}

static int pg_checkpoints(void *ctx, uint64_t first, uint64_t last,
			  int (*each)(void *arg, uint64_t seq, const char *hash, const char *mac), void *arg)
{
	PGresult *res;
	int r = run2(ctx, "cde_bundle_checkpoints", first, last, &res);

	if (r < 0)
		return r;
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = each(arg, (uint64_t)cde_pg_int(res, i, 0), field(res, i, 1), field(res, i, 2));
	PQclear(res);
	return r;
}

int cde_pg_bundle_init(struct cde_pg_bundle *b, PGconn *c, char *err, size_t err_size)
{
	int r;

	memset(b, 0, sizeof(*b));
	if (cde_pg_prepare(c, statements, sizeof(statements) / sizeof(statements[0]), err, err_size,
			   "preparing the bundle's reads") < 0)
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	r = cde_pg_proof_init(&b->proofs, c, err, err_size);
	if (r < 0)
		return r;
	b->c = c;
	b->src = (struct cde_audit_bundle_source){
		.head = pg_head,
		.begin = pg_begin,
		.end = pg_end,
		.bounds = pg_bounds,
		.records = pg_records,
		.gaps = pg_gaps,
		.checkpoints = pg_checkpoints,
		.proofs = &b->proofs.src,
		.ctx = b,
	};
	return 0;
}

void cde_pg_bundle_release(struct cde_pg_bundle *b)
{
	cde_pg_proof_release(&b->proofs);
}
