/* The tiles of audit_tiles.h in SQLite: one row of tree_tiles per tile,
 * read and written through statements prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT), since the writer's flush runs on the
 * ingest path. A write replaces the row: an edge tile is rewritten as
 * its level grows. */

#include "sinks/audit/audit_tiles_sqlite.h"

#include <errno.h>
#include <string.h>

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
	s->io.get = sqlite_get;
	s->io.put = writable ? sqlite_put : NULL;
	s->io.ctx = s;
	return 0;

err_release:
	cde_audit_tile_io_sqlite_release(s);
	return -EIO;
}

void cde_audit_tile_io_sqlite_release(struct cde_audit_tile_io_sqlite *s)
{
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->put);
	memset(s, 0, sizeof(*s));
}
