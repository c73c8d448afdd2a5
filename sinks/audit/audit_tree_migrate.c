/* The Merkle tree's schema steps (audit_schema.c runs them, each in its
 * own transaction). Step 3 gave a log from before the tree its rows as
 * the first leaves, one row of tree_hashes per hash; step 4 packs those
 * rows into tiles. Step 3 still writes rows, as it did: a file of any
 * older version takes the same path through every step. */

#include "sinks/audit/audit_tree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/sql.h"

static int put_row(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st = ctx;
	int rc;

	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	sqlite3_bind_blob(st, 3, hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* One row of a log from before the tree: its leaf, appended and named. */
static int adopt_row(struct cde_tlog_frontier *f, sqlite3_stmt *put, sqlite3_stmt *rows, sqlite3_stmt *name)
{
	struct cde_audit_row row = {
		.seq = (uint64_t)sqlite3_column_int64(rows, 0),
		.received_at = (const char *)sqlite3_column_text(rows, 1),
		.principal = (const char *)sqlite3_column_text(rows, 2),
		.peer = (const char *)sqlite3_column_text(rows, 3),
		.event = (const char *)sqlite3_column_text(rows, 4),
	};
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	uint64_t index = f->size;
	int r = cde_audit_tree_leaf(&row, leaf);

	if (r == 0)
		r = cde_tlog_frontier_append(f, leaf, put_row, put);
	if (r < 0)
		return r;
	sqlite3_bind_int64(name, 1, (sqlite3_int64)index);
	sqlite3_bind_int64(name, 2, (sqlite3_int64)row.seq);
	r = sqlite3_step(name) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_reset(name);
	return r;
}

/* The frontier of the tree step 3 finds (empty but in a file an earlier
 * build of the step left a tree in). */
static int load_rows_frontier(sqlite3 *db, struct cde_tlog_frontier *f)
{
	struct cde_audit_tree_reader reader;
	int r = cde_audit_tree_reader_init(&reader, db);

	if (r == 0)
		r = cde_tlog_frontier_load(f, cde_audit_tree_size(db), &reader.tlog);
	cde_audit_tree_reader_release(&reader);
	return r;
}

int cde_audit_tree_adopt_rows(sqlite3 *db)
{
	struct cde_tlog_frontier f;
	sqlite3_stmt *put = NULL, *rows = NULL, *name = NULL, *size = NULL;
	char n[24];
	int r = load_rows_frontier(db, &f);

	if (r == 0 && (sqlite3_prepare_v2(db, "INSERT INTO tree_hashes(level, idx, hash) VALUES (?, ?, ?)", -1, &put,
					  NULL) != SQLITE_OK ||
		       sqlite3_prepare_v2(db, "SELECT seq, received_at, principal, peer, event FROM events"
					  " WHERE leaf IS NULL ORDER BY seq", -1, &rows, NULL) != SQLITE_OK ||
		       sqlite3_prepare_v2(db, "UPDATE events SET leaf = ? WHERE seq = ?", -1, &name, NULL) != SQLITE_OK ||
		       sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'tree_size'", -1, &size,
					  NULL) != SQLITE_OK))
		r = -EIO;
	while (r == 0) {
		int rc = sqlite3_step(rows);

		if (rc == SQLITE_DONE)
			break;
		r = rc == SQLITE_ROW ? adopt_row(&f, put, rows, name) : -EIO;
	}
	if (r == 0) {
		snprintf(n, sizeof(n), "%llu", (unsigned long long)f.size);
		sqlite3_bind_text(size, 1, n, -1, SQLITE_STATIC);
		r = sqlite3_step(size) == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_finalize(put);
	sqlite3_finalize(rows);
	sqlite3_finalize(name);
	sqlite3_finalize(size);
	return r;
}

/* A tile being packed from rows; it stops at its first gap or damaged
 * hash, as a reader of rows would have stopped there. */
struct packing {
	struct cde_audit_tile tile;
	bool stopped;
};

static int pack_write(const struct cde_audit_tile_io *io, const struct packing *p)
{
	if (!p->tile.valid || !p->tile.n)
		return 0;
	return io->put(io->ctx, p->tile.level, p->tile.idx, (const uint8_t *)p->tile.hash,
		       p->tile.n * CDE_TLOG_HASH_LEN);
}

/* The hash at (@level, @idx) into @p, writing the tile before it. */
static int pack_one(struct packing *p, const struct cde_audit_tile_io *io, unsigned level, uint64_t idx,
		    const void *hash, int len)
{
	unsigned t = level / CDE_AUDIT_TILE_HEIGHT;
	uint64_t tile = idx / CDE_AUDIT_TILE_WIDTH;
	int r = 0;

	if (!p->tile.valid || p->tile.level != t || p->tile.idx != tile) {
		r = pack_write(io, p);
		*p = (struct packing){ .tile = { .valid = true, .level = t, .idx = tile } };
	}
	if (p->stopped || idx % CDE_AUDIT_TILE_WIDTH != p->tile.n || len != CDE_TLOG_HASH_LEN)
		p->stopped = true;
	else
		memcpy(p->tile.hash[p->tile.n++], hash, CDE_TLOG_HASH_LEN);
	return r;
}

int cde_audit_tree_pack_tiles(sqlite3 *db)
{
	struct packing p = { 0 };
	struct cde_audit_tile_io_sqlite tiles;
	sqlite3_stmt *rows = NULL;
	int r, rc = SQLITE_DONE;

	r = cde_audit_tile_io_sqlite_init(&tiles, db, true);
	if (r == 0 && sqlite3_prepare_v2(db, "SELECT level, idx, hash FROM tree_hashes WHERE level % 4 = 0"
					 " AND level >= 0 AND level < 64 AND idx >= 0 ORDER BY level, idx", -1, &rows,
					 NULL) != SQLITE_OK)
		r = -EIO;
	while (r == 0 && (rc = sqlite3_step(rows)) == SQLITE_ROW) {
		const void *hash = sqlite3_column_blob(rows, 2);

		r = pack_one(&p, &tiles.io, (unsigned)sqlite3_column_int(rows, 0),
			     (uint64_t)sqlite3_column_int64(rows, 1), hash, sqlite3_column_bytes(rows, 2));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	if (r == 0)
		r = pack_write(&tiles.io, &p);
	sqlite3_finalize(rows);
	cde_audit_tile_io_sqlite_release(&tiles);
	return r;
}
