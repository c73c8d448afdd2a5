/* The tree's self check on PostgreSQL (pg_tree_verify.h). The walk is
 * audit_tree_verify.c's; this file reads for it: the rows through a
 * cursor in seq order (the walk reads tiles between rows, which a
 * single-row-mode query would not allow on the same session), in text,
 * the event as stored byte for byte; the tiles through pg_tree.c's io. */

#include "sinks/audit/pg/pg_tree_verify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_tree.h"

/* Rows per FETCH: few enough for any log, many enough that round trips
 * do not dominate. */
#define BATCH "256"

static int query(struct cde_pg_tree_source *s, const char *sql, int n, const char *const *values, PGresult **ret)
{
	PGresult *res = PQexecParams(s->c, sql, n, NULL, values, NULL, NULL, 0);

	if (!cde_pg_ok(res, true))
		return cde_pg_lost(s->c) ? -ENOTCONN : -EIO;
	*ret = res;
	return 0;
}

static int pg_bounds(void *ctx, bool *stored, uint64_t *tree_size, uint64_t *retired_to, uint64_t *head_seq)
{
	PGresult *res;
	int r = query(ctx, "SELECT tree_size, seq, (SELECT coalesce(max(seq), 0) FROM retention) FROM log_head", 0,
		      NULL, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -EIO;
	}
	/* The schema has the tree from its start. */
	*stored = true;
	*tree_size = (uint64_t)cde_pg_int(res, 0, 0);
	*head_seq = (uint64_t)cde_pg_int(res, 0, 1);
	*retired_to = (uint64_t)cde_pg_int(res, 0, 2);
	PQclear(res);
	return 0;
}

static const char *field(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int fetch(struct cde_pg_tree_source *s)
{
	int r;

	PQclear(s->batch);
	s->batch = NULL;
	s->at = 0;
	if (!s->declared) {
		PGresult *res = PQexec(s->c, "DECLARE cde_tree_rows NO SCROLL CURSOR FOR SELECT seq, leaf, received_at,"
				       " principal, peer, event FROM events WHERE leaf IS NOT NULL ORDER BY seq");

		if (!cde_pg_ok(res, false))
			return cde_pg_lost(s->c) ? -ENOTCONN : -EIO;
		PQclear(res);
		s->declared = true;
	}
	r = query(s, "FETCH " BATCH " FROM cde_tree_rows", 0, NULL, &s->batch);
	if (r == 0 && PQnfields(s->batch) != 6)
		r = -EIO;
	if (r == 0 && PQntuples(s->batch) == 0)
		s->done = true;
	return r;
}

static int pg_next_row(void *ctx, struct cde_audit_tree_row *ret)
{
	struct cde_pg_tree_source *s = ctx;
	int r, i;

	if (s->done)
		return 0;
	if (!s->batch || s->at == PQntuples(s->batch)) {
		r = fetch(s);
		if (r < 0 || s->done)
			return r;
	}
	i = s->at++;
	*ret = (struct cde_audit_tree_row){
		.row = {
			.seq = (uint64_t)cde_pg_int(s->batch, i, 0),
			.received_at = field(s->batch, i, 2),
			.principal = field(s->batch, i, 3),
			.peer = field(s->batch, i, 4),
			.event = field(s->batch, i, 5),
		},
		.leaf = (uint64_t)cde_pg_int(s->batch, i, 1),
	};
	return 1;
}

static void pg_rows_end(void *ctx)
{
	struct cde_pg_tree_source *s = ctx;

	PQclear(s->batch);
	s->batch = NULL;
	if (s->declared)
		PQclear(PQexec(s->c, "CLOSE cde_tree_rows"));
	s->declared = false;
	s->done = false;
}

static bool pg_lost(void *ctx, uint64_t lo, uint64_t hi)
{
	char lo_s[24], hi_s[24];
	const char *values[2] = { cde_pg_u64(lo, lo_s), cde_pg_u64(hi, hi_s) };
	PGresult *res;
	bool yes;

	if (query(ctx, "SELECT 1 FROM gaps WHERE first <= $1::bigint AND last >= $2::bigint", 2, values, &res) < 0)
		return false;
	yes = PQntuples(res) > 0;
	PQclear(res);
	return yes;
}

static const struct cde_tlog_reader *pg_tree(void *ctx)
{
	struct cde_pg_tree_source *s = ctx;

	return &s->tiles.tlog;
}

int cde_pg_tree_source_init(struct cde_pg_tree_source *s, PGconn *c)
{
	memset(s, 0, sizeof(*s));
	if (cde_pg_tile_io_init(&s->io, c) < 0)
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	s->c = c;
	cde_audit_tile_reader_init(&s->tiles, &s->io);
	s->src = (struct cde_audit_tree_source){
		.bounds = pg_bounds,
		.next_row = pg_next_row,
		.rows_end = pg_rows_end,
		.lost = pg_lost,
		.tree = pg_tree,
		.ctx = s,
	};
	return 0;
}

void cde_pg_tree_source_release(struct cde_pg_tree_source *s)
{
	if (s->c)
		pg_rows_end(s);
}

int cde_pg_audit_tree_heads(PGconn *c, const uint64_t *sizes, size_t n, uint8_t (*roots)[CDE_TLOG_HASH_LEN],
			    struct cde_audit_tree_check *out)
{
	struct cde_pg_tree_source s;
	char err[256];
	bool opened = false;
	int r;

	memset(out, 0, sizeof(*out));
	if (cde_pg_lost(c))
		return -ENOTCONN;
	/* The tile statements are prepared outside the snapshot: a failure
	 * there must not abort it. */
	r = cde_pg_tree_source_init(&s, c);
	if (r == 0 && PQtransactionStatus(c) == PQTRANS_IDLE) {
		if (cde_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, sizeof(err), "verify") < 0)
			r = cde_pg_lost(c) ? -ENOTCONN : -EIO;
		opened = r == 0;
	}
	if (r == 0)
		r = cde_audit_tree_heads_in(&s.src, sizes, n, roots, out);
	cde_pg_tree_source_release(&s);
	/* Read only: ending it either way is the same. */
	if (opened)
		PQclear(PQexec(c, "ROLLBACK"));
	if (r == -EIO && cde_pg_lost(c))
		r = -ENOTCONN;
	return r;
}

int cde_pg_audit_tree_self_check(PGconn *c, struct cde_audit_tree_check *out)
{
	return cde_pg_audit_tree_heads(c, NULL, 0, NULL, out);
}
