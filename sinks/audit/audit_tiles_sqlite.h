#pragma once
/* The tiles' rows in an SQLite file (audit.db): a struct cde_audit_tile_io
 * over statements on table tree_tiles, prepared once. */

#include <stdbool.h>

#include <sqlite3.h>

#include "sinks/audit/audit_tile_cache.h"
#include "sinks/audit/audit_tiles.h"

struct cde_audit_tile_io_sqlite {
	struct cde_audit_tile_io io;	/* ctx is this struct: do not move it */
	sqlite3_stmt *get;
	sqlite3_stmt *put;	/* NULL, and io.put too, unless writable */
	sqlite3_stmt *leaves;	/* the rows' leaf hashes (schema 8), or NULL */
	sqlite3_stmt *probe;	/* set when no index on leaf: leaves is then by seq */
	struct cde_audit_tile_cache *cache;	/* a reader's, or NULL */
};

/* Prepares @s's statements on @db: the SELECT, and the upsert when
 * @writable. 0 or -EIO (@db has no tree_tiles, or a statement would not
 * prepare: sqlite3_errmsg(@db) tells); @s is then released. Release @s
 * before @db closes. */
int cde_audit_tile_io_sqlite_init(struct cde_audit_tile_io_sqlite *s, sqlite3 *db, bool writable);
void cde_audit_tile_io_sqlite_release(struct cde_audit_tile_io_sqlite *s);

/* Gives a reader's @s a cache of the tiles it derives (audit_tile_cache.h),
 * used inside the snapshots opened below and kept between them, so that
 * the next snapshot reads only what the log gained since: for a
 * connection that serves many proofs. Nothing to do on a file whose
 * leaves are not in the rows (nothing is derived there). 0 or -ENOMEM. */
int cde_audit_tile_io_sqlite_cache(struct cde_audit_tile_io_sqlite *s);

/* Inside a read transaction on a tree of @size leaves: checks the cache
 * against the file (the leaf it witnessed is still there, with the same
 * hash, and the tree did not shrink: otherwise the file is not the log
 * the hashes came from, replaced or restored, and they are dropped), and
 * lets the reads use it until the snapshot is closed. Inside a write
 * transaction (rows that may be rolled back) the cache is left closed.
 * 0 or -EIO; without a cache, 0 and nothing else. */
int cde_audit_tile_io_sqlite_open_snapshot(struct cde_audit_tile_io_sqlite *s, uint64_t size);
/* Before the transaction ends: reads go to the file alone again. */
void cde_audit_tile_io_sqlite_close_snapshot(struct cde_audit_tile_io_sqlite *s);

/* Before retention deletes the rows of leaves @first to @last (a
 * writable @s on a file of schema 8): writes each tile of level 0 that
 * holds one of them with every hash it has then (the rest of a tile
 * past @last stays in its rows). 0, -EIO, or -EINVAL when @s is not
 * writable. */
int cde_audit_tile_sqlite_keep_leaves(struct cde_audit_tile_io_sqlite *s, uint64_t first, uint64_t last);
