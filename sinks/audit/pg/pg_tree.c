/* The Merkle tree's tiles on PostgreSQL. The tile logic (audit_tiles.c)
 * is the SQLite store's; this file is its I/O over libpq (bytea in binary,
 * so a tile is its 32-byte hashes as they are) and the writer's bookkeeping
 * for a tree that other replicas grow too. */

#include "sinks/audit/pg/pg_tree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"

static int tile_get(void *ctx, unsigned level, uint64_t idx, uint8_t *buf, size_t cap, size_t *ret_len)
{
	char level_s[24], idx_s[24];
	const char *values[2] = { cde_pg_u64(level, level_s), cde_pg_u64(idx, idx_s) };
	PGresult *res = PQexecPrepared(ctx, "cde_tile_get", 2, values, NULL, NULL, 1);
	size_t len;

	if (!cde_pg_ok(res, true))
		return -EIO;
	len = PQntuples(res) == 1 ? (size_t)PQgetlength(res, 0, 0) : 0;
	if (len && len <= cap)
		memcpy(buf, PQgetvalue(res, 0, 0), len);
	*ret_len = len;
	PQclear(res);
	return 0;
}

static int tile_put(void *ctx, unsigned level, uint64_t idx, const uint8_t *hashes, size_t len)
{
	char level_s[24], idx_s[24];
	const char *values[3] = { cde_pg_u64(level, level_s), cde_pg_u64(idx, idx_s), (const char *)hashes };
	int lengths[3] = { 0, 0, (int)len }, formats[3] = { 0, 0, 1 };
	PGresult *res = PQexecPrepared(ctx, "cde_tile_put", 3, values, lengths, formats, 0);

	if (!cde_pg_ok(res, false))
		return -EIO;
	PQclear(res);
	return 0;
}

/* Whether this session has the tile statements already (the proof
 * source and the tree check may share one): preparing them again fails,
 * and inside a transaction would abort it. */
static bool tile_statements_prepared(PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'cde_tile_put'");
	bool yes;

	if (!cde_pg_ok(res, true))
		return false;
	/* (cde_tile_put is prepared after cde_tile_get.) */
	yes = PQntuples(res) == 1 && cde_pg_int(res, 0, 0) == 1;
	PQclear(res);
	return yes;
}

int cde_pg_tile_io_init(struct cde_audit_tile_io *io, PGconn *c)
{
	static const struct cde_pg_statement statements[] = {
		{ "cde_tile_get", "SELECT hashes FROM tree_tiles WHERE tile_level = $1 AND idx = $2", 2 },
		{ "cde_tile_put", "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES ($1, $2, $3)"
				  " ON CONFLICT (tile_level, idx) DO UPDATE SET hashes = excluded.hashes", 3 },
	};
	char err[16];

	if (!tile_statements_prepared(c) && cde_pg_prepare(c, statements, 2, err, sizeof(err), "tiles") < 0)
		return -EIO;
	*io = (struct cde_audit_tile_io){ .get = tile_get, .put = tile_put, .ctx = c };
	return 0;
}

int cde_pg_tree_sync(struct cde_pg_tree *t, uint64_t size, char *err, size_t err_size)
{
	struct cde_audit_tile_reader reader;
	int r;

	if (t->loaded && t->committed.size == size) {
		t->work = t->committed;
		return 0;
	}
	cde_pg_tree_release(t);
	cde_audit_tile_reader_init(&reader, &t->io);
	r = cde_tlog_frontier_load(&t->committed, size, &reader.tlog);
	if (r == 0)
		r = cde_audit_tile_edge_init(&t->edge, &t->io, size, &reader.tile);
	if (r < 0) {
		if (r == -EIO || r == -ENOMEM)
			snprintf(err, err_size, "loading the Merkle tree: %s", r == -EIO ? "a tile could not be read"
				 : "out of memory");
		else
			snprintf(err, err_size, "the Merkle tree of %llu entries lacks a stored hash (%s): "
				 "the tree_tiles table is damaged", (unsigned long long)size, strerror(-r));
		cde_pg_tree_release(t);
		return r == -ENOENT ? -EBADMSG : r;
	}
	t->loaded = true;
	t->work = t->committed;
	return 0;
}

int cde_pg_tree_append(struct cde_pg_tree *t, const uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	return cde_tlog_frontier_append(&t->work, leaf, cde_audit_tile_edge_keep, &t->edge);
}

int cde_pg_tree_flush(struct cde_pg_tree *t)
{
	return cde_audit_tile_edge_flush(&t->edge, t->committed.size, t->work.size);
}

void cde_pg_tree_committed(struct cde_pg_tree *t)
{
	cde_audit_tile_edge_committed(&t->edge, t->work.size);
	t->committed = t->work;
}

void cde_pg_tree_rolled_back(struct cde_pg_tree *t)
{
	t->work = t->committed;
}

void cde_pg_tree_release(struct cde_pg_tree *t)
{
	cde_audit_tile_edge_release(&t->edge);	/* also a zeroed or half-made one */
	memset(&t->edge, 0, sizeof(t->edge));
	t->loaded = false;
	cde_tlog_frontier_init(&t->committed);
	t->work = t->committed;
}
