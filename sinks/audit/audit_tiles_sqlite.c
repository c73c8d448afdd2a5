/* The tiles of audit_tiles.h in SQLite: one row of tree_tiles per tile,
 * read and written through statements prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT), since the writer's flush runs on the
 * ingest path. A write replaces the row: an edge tile is rewritten as
 * its level grows.
 *
 * From schema 8 the leaves are in the events rows (leaf_hash), written
 * with the row, and the writer stores no tile of level 0: a tile of
 * level 0 is what its row in tree_tiles holds (leaves stored before
 * schema 8, and those retention deleted, which it wrote first), then
 * the rows' leaf hashes that follow, in leaf order, up to a gap. Above
 * it the writer stores a tile once it is full; a tile read is what its
 * row holds (a partial tile of a file from before, or nothing), then
 * the hashes the full tiles below it make. */

#include "sinks/audit/audit_tiles_sqlite.h"

#include <errno.h>
#include <string.h>

#include "sinks/audit/sql.h"

static int sqlite_get(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	size_t len = 0;
	int r = 0;

	sqlite3_bind_int(s->get, 1, (int)tile_level);
	sqlite3_bind_int64(s->get, 2, (sqlite3_int64)idx);
	switch (sqlite3_step(s->get)) {
	case SQLITE_ROW: {
		const void *blob = sqlite3_column_blob(s->get, 0);

		len = (size_t)sqlite3_column_bytes(s->get, 0);
		if (len && !blob)
			r = -ENOMEM;	/* SQLite's own allocation for it failed */
		else if (len && len <= cap)
			memcpy(buf, blob, len);
		break;
	}
	case SQLITE_DONE:
		break;
	default:
		r = -EIO;
	}
	sqlite3_reset(s->get);
	if (r == 0)
		*ret_len = len;
	return r;
}

/* Appends to @buf (holding *@len bytes of tile @idx of level 0) the leaf
 * hashes of the rows that follow, while their leaves follow each other.
 * A row's hash of the wrong size makes *@len not whole hashes: the tile
 * logic then reads the tile as damaged, as it does a bad blob. */
static int append_row_leaves(struct cde_audit_tile_io_sqlite *s, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *len)
{
	uint64_t next = idx * CDE_AUDIT_TILE_WIDTH + *len / CDE_TLOG_HASH_LEN;
	int rc;

	if (*len % CDE_TLOG_HASH_LEN || *len >= cap || next > INT64_MAX - CDE_AUDIT_TILE_WIDTH)
		return 0;
	sqlite3_bind_int64(s->leaves, 1, (sqlite3_int64)next);
	sqlite3_bind_int64(s->leaves, 2, (sqlite3_int64)((idx + 1) * CDE_AUDIT_TILE_WIDTH));
	while ((rc = sqlite3_step(s->leaves)) == SQLITE_ROW && *len + CDE_TLOG_HASH_LEN <= cap) {
		uint64_t leaf = (uint64_t)sqlite3_column_int64(s->leaves, 0);
		const void *hash = sqlite3_column_blob(s->leaves, 1);
		int bytes = sqlite3_column_bytes(s->leaves, 1);

		/* A second row claiming a leaf (its unique index dropped by
		 * whoever edited the file): the first in seq order holds it,
		 * and the walk over the rows finds the other out of order. */
		if (leaf < next)
			continue;
		/* A gap, or a row from before schema 8 that no tile covers:
		 * the hashes past it are not stored. */
		if (leaf != next || bytes == 0)
			break;
		if (bytes != CDE_TLOG_HASH_LEN || !hash) {
			*len += 1;
			break;
		}
		memcpy(buf + *len, hash, CDE_TLOG_HASH_LEN);
		*len += CDE_TLOG_HASH_LEN;
		next++;
	}
	sqlite3_reset(s->leaves);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int sqlite_get_merged(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *ret_len);

/* Appends to @buf (holding *@len bytes of tile @idx of tile level @t, 1
 * or more) the hashes the writer has not stored yet, as it stores a tile
 * only once full: hash j is the root of tile j of the level below, while
 * that tile is full (a level has at most 15 of them, so a read derives
 * at most 15 tiles a level). */
static int append_derived(struct cde_audit_tile_io_sqlite *s, unsigned t, uint64_t idx, uint8_t *buf, size_t cap,
			  size_t *len)
{
	uint8_t below[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
	uint64_t end = (idx + 1) * CDE_AUDIT_TILE_WIDTH;
	int r = 0;

	if (*len % CDE_TLOG_HASH_LEN || idx > INT64_MAX / CDE_AUDIT_TILE_WIDTH - 1)
		return 0;
	for (uint64_t j = idx * CDE_AUDIT_TILE_WIDTH + *len / CDE_TLOG_HASH_LEN;
	     r == 0 && j < end && *len + CDE_TLOG_HASH_LEN <= cap; j++) {
		size_t n = 0;

		r = sqlite_get_merged(s, t - 1, j, (uint8_t *)below, sizeof(below), &n);
		/* A tile below not full (or damaged): the hashes from here on
		 * do not exist yet, or cannot be known. */
		if (r < 0 || n != sizeof(below))
			break;
		r = cde_audit_tile_hash_up((const uint8_t (*)[CDE_TLOG_HASH_LEN])below, CDE_AUDIT_TILE_WIDTH,
					   buf + *len);
		if (r == 0)
			*len += CDE_TLOG_HASH_LEN;
	}
	return r;
}

static int sqlite_get_merged(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *ret_len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	size_t len = 0;
	int r = sqlite_get(ctx, tile_level, idx, buf, cap, &len);

	if (r == 0 && len < cap)
		r = tile_level == 0 ? append_row_leaves(s, idx, buf, cap, &len)
				    : append_derived(s, tile_level, idx, buf, cap, &len);
	if (r == 0)
		*ret_len = len;
	return r;
}

static int sqlite_put(void *ctx, unsigned tile_level, uint64_t idx, const uint8_t *hashes, size_t len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	int rc;

	/* SQLITE_STATIC: the blob is read by the step, before the caller
	 * frees or changes it. */
	sqlite3_bind_int(s->put, 1, (int)tile_level);
	sqlite3_bind_int64(s->put, 2, (sqlite3_int64)idx);
	sqlite3_bind_blob(s->put, 3, hashes, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s->put);
	sqlite3_reset(s->put);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_tile_sqlite_keep_leaves(struct cde_audit_tile_io_sqlite *s, uint64_t first, uint64_t last)
{
	uint8_t hashes[CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN];
	int r = 0;

	if (!s->put)
		return -EINVAL;
	if (!s->leaves || first > last)
		return 0;	/* before schema 8 every leaf is in a tile */
	for (uint64_t tile = first / CDE_AUDIT_TILE_WIDTH; r == 0 && tile <= last / CDE_AUDIT_TILE_WIDTH; tile++) {
		size_t len = 0;

		r = sqlite_get_merged(s, 0, tile, hashes, sizeof(hashes), &len);
		/* Hashes already damaged are not copied into a tile: check
		 * then finds them missing, as it found them damaged. */
		if (r == 0 && len && len % CDE_TLOG_HASH_LEN == 0)
			r = sqlite_put(s, 0, tile, hashes, len);
	}
	return r;
}

int cde_audit_tile_io_sqlite_init(struct cde_audit_tile_io_sqlite *s, sqlite3 *db, bool writable)
{
	memset(s, 0, sizeof(*s));
	/* Preparing fails on a missing table: a caller's test for tiles. */
	if (sqlite3_prepare_v3(db, "SELECT hashes FROM tree_tiles WHERE tile_level = ? AND idx = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->get, NULL) != SQLITE_OK)
		goto err_release;
	if (writable && sqlite3_prepare_v3(db, "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (?, ?, ?)"
					   " ON CONFLICT(tile_level, idx) DO UPDATE SET hashes = excluded.hashes",
					   -1, SQLITE_PREPARE_PERSISTENT, &s->put, NULL) != SQLITE_OK)
		goto err_release;
	/* A file before schema 8 (read as it is) has no leaf_hash column. */
	if (cde_sql_int(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'leaf_hash'", NULL, 0) &&
	    sqlite3_prepare_v3(db, "SELECT leaf, leaf_hash FROM events WHERE leaf >= ? AND leaf < ? ORDER BY leaf, seq",
			       -1, SQLITE_PREPARE_PERSISTENT, &s->leaves, NULL) != SQLITE_OK)
		goto err_release;
	s->io.get = s->leaves ? sqlite_get_merged : sqlite_get;
	s->io.put = writable ? sqlite_put : NULL;
	s->io.ctx = s;
	s->io.leaves_in_rows = s->leaves != NULL;
	return 0;

err_release:
	cde_audit_tile_io_sqlite_release(s);
	return -EIO;
}

void cde_audit_tile_io_sqlite_release(struct cde_audit_tile_io_sqlite *s)
{
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->leaves);
	memset(s, 0, sizeof(*s));
}
