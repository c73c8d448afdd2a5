/* The transparency log's proof source on PostgreSQL (pg_proof.h). A proof
 * reads inside one REPEATABLE READ transaction: one snapshot of rows,
 * tiles, head and checkpoints, whatever the writers (every replica's)
 * commit meanwhile. Rows come in text (the event as stored, byte for
 * byte), tiles in binary through pg_tree.c's io. */

#include "sinks/audit/pg/pg_proof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_tree.h"

static const struct cde_pg_statement statements[] = {
	{ "cde_proof_tree_size", "SELECT tree_size FROM log_head", 0 },
	{ "cde_proof_latest", "SELECT coalesce(max(size), 0) FROM tree_checkpoints", 0 },
	{ "cde_proof_deleted", "SELECT coalesce(max(seq), 0) FROM retention", 0 },
	{ "cde_proof_note", "SELECT note FROM tree_checkpoints WHERE size = $1", 1 },
	{ "cde_proof_row", "SELECT id, source, leaf, received_at, principal, peer, event FROM events WHERE seq = $1",
	  1 },
	{ "cde_proof_seq_of", "SELECT seq FROM events WHERE source = $1 AND id = $2", 2 },
};

/* Runs the prepared statement @name with text parameters; its rows in
 * *@ret (cleared by the caller). 0, -ENOTCONN or -EIO. */
static int run(struct cde_pg_proof *p, const char *name, int n, const char *const *values, PGresult **ret)
{
	PGresult *res = PQexecPrepared(p->c, name, n, values, NULL, NULL, 0);

	if (!cde_pg_ok(res, true))
		return cde_pg_lost(p->c) ? -ENOTCONN : -EIO;
	*ret = res;
	return 0;
}

/* The one number statement @name answers. */
static int number(struct cde_pg_proof *p, const char *name, uint64_t *ret)
{
	PGresult *res;
	int r = run(p, name, 0, NULL, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*ret = (uint64_t)cde_pg_int(res, 0, 0);
	else
		r = -EIO;
	PQclear(res);
	return r;
}

static int pg_begin(void *ctx, char *err, size_t err_size)
{
	struct cde_pg_proof *p = ctx;

	cde_audit_tile_reader_init(&p->tiles, &p->io);
	if (PQtransactionStatus(p->c) != PQTRANS_IDLE)
		return 0;
	if (cde_pg_exec(p->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, err_size,
			"reading the log") == 0)
		return 1;
	return cde_pg_lost(p->c) ? -ENOTCONN : -EIO;
}

static void pg_end(void *ctx, int opened)
{
	struct cde_pg_proof *p = ctx;

	PQclear(p->row);
	p->row = NULL;
	/* Read only: ending it either way is the same, and a failed one
	 * must end too for the session to serve again. */
	if (opened > 0)
		PQclear(PQexec(p->c, "ROLLBACK"));
}

static int pg_tree_size(void *ctx, uint64_t *ret)
{
	return number(ctx, "cde_proof_tree_size", ret);
}

static int pg_latest_size(void *ctx, uint64_t *ret)
{
	return number(ctx, "cde_proof_latest", ret);
}

static int pg_deleted_to(void *ctx, uint64_t *ret)
{
	return number(ctx, "cde_proof_deleted", ret);
}

static int pg_note(void *ctx, uint64_t size, char **ret)
{
	char size_s[24];
	const char *values[1] = { cde_pg_u64(size, size_s) };
	PGresult *res;
	int r = run(ctx, "cde_proof_note", 1, values, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) == 1) {
		*ret = strdup(PQgetvalue(res, 0, 0));
		r = *ret ? 0 : -ENOMEM;
	} else {
		r = -ENOENT;
	}
	PQclear(res);
	return r;
}

static int pg_row(void *ctx, uint64_t seq, struct cde_audit_proof_row *ret)
{
	struct cde_pg_proof *p = ctx;
	char seq_s[24];
	const char *values[1] = { cde_pg_u64(seq, seq_s) };
	PGresult *res;
	int r;

	PQclear(p->row);
	p->row = NULL;
	r = run(p, "cde_proof_row", 1, values, &res);
	if (r < 0)
		return r;
	p->row = res;
	if (PQntuples(res) != 1)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->row.seq = seq;
	ret->row.id = PQgetvalue(res, 0, 0);
	ret->row.source = PQgetvalue(res, 0, 1);
	ret->has_leaf = !PQgetisnull(res, 0, 2);
	ret->leaf = ret->has_leaf ? (uint64_t)cde_pg_int(res, 0, 2) : 0;
	ret->row.received_at = PQgetvalue(res, 0, 3);
	ret->row.principal = PQgetvalue(res, 0, 4);
	ret->row.peer = PQgetvalue(res, 0, 5);
	ret->row.event = PQgetvalue(res, 0, 6);
	return 0;
}

static int pg_seq_of(void *ctx, const char *source, const char *id, uint64_t *ret)
{
	const char *values[2] = { source, id };
	PGresult *res;
	int r = run(ctx, "cde_proof_seq_of", 2, values, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) == 1)
		*ret = (uint64_t)cde_pg_int(res, 0, 0);
	else
		r = -ENOENT;
	PQclear(res);
	return r;
}

static int pg_tree(void *ctx, const struct cde_tlog_reader **ret)
{
	struct cde_pg_proof *p = ctx;

	*ret = &p->tiles.tlog;
	return 0;
}

int cde_pg_proof_init(struct cde_pg_proof *p, PGconn *c, char *err, size_t err_size)
{
	memset(p, 0, sizeof(*p));
	if (cde_pg_prepare(c, statements, sizeof(statements) / sizeof(statements[0]), err, err_size,
			   "preparing the log's proofs") < 0 ||
	    (cde_pg_tile_io_init(&p->io, c) < 0 && cde_pg_fail(c, err, err_size, "preparing the tiles' reads")))
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	p->c = c;
	cde_audit_tile_reader_init(&p->tiles, &p->io);
	p->src = (struct cde_audit_proof_source){
		.begin = pg_begin,
		.end = pg_end,
		.tree_size = pg_tree_size,
		.latest_size = pg_latest_size,
		.deleted_to = pg_deleted_to,
		.note = pg_note,
		.row = pg_row,
		.seq_of = pg_seq_of,
		.tree = pg_tree,
		.ctx = p,
	};
	return 0;
}

void cde_pg_proof_release(struct cde_pg_proof *p)
{
	PQclear(p->row);
	p->row = NULL;
}
