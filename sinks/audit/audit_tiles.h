#pragma once
/* The Merkle tree's hashes in audit.db, stored as tiles (the idea of Go's
 * sumdb and C2SP tlog-tiles): table tree_tiles(tile_level, idx, hashes)
 * holds in one row the up to 16 consecutive hashes of tree level
 * 4 * tile_level with indexes [16 idx, 16 idx + 16), 32 bytes each, in
 * order. Only levels that are multiples of 4 are stored: a node at level
 * 4t + k (0 < k < 4) is the root of 2^k hashes of level 4t inside one
 * tile, hashed up when read. The tile at the right edge of a level is
 * partial and is rewritten as it grows; every other tile is full and
 * never changes, since the log only grows. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sinks/audit/tlog/merkle.h"

#define CDE_AUDIT_TILE_HEIGHT 4
#define CDE_AUDIT_TILE_WIDTH (1u << CDE_AUDIT_TILE_HEIGHT)
/* Tile levels 0..15 hold tree levels 0, 4, ..., 60: every level a tree
 * of at most CDE_TLOG_MAX_SIZE leaves completes a hash at. */
#define CDE_AUDIT_TILE_LEVELS (64 / CDE_AUDIT_TILE_HEIGHT)

/* The last tile a reader fetched, kept for the reads that follow: the
 * bottom levels of a proof, or a walk over the leaves, fall in it. */
struct cde_audit_tile {
	bool valid;	/* (level, idx) is cached */
	bool damaged;	/* its blob is not whole hashes, or too long */
	unsigned level;
	uint64_t idx;
	size_t n;	/* hashes held */
	uint8_t hash[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
};

/* Fetches tile (@level, @idx) through @get (SELECT hashes FROM tree_tiles
 * WHERE tile_level = ? AND idx = ?) into @t, unless @t holds it already.
 * 0 (an absent tile is one of 0 hashes), or -EIO. */
int cde_audit_tile_fetch(struct cde_audit_tile *t, sqlite3_stmt *get, unsigned level, uint64_t idx);

/* The hash of the perfect subtree at (@level, @index) from tile @t,
 * fetched through @get: 0, -ENOENT (not stored), -EBADMSG (its tile is
 * damaged), -EIO or -ENOMEM. A cde_tlog_reader's read over tiles. */
int cde_audit_tile_read(struct cde_audit_tile *t, sqlite3_stmt *get, unsigned level, uint64_t index,
			uint8_t out[CDE_TLOG_HASH_LEN]);

/* The writer's right edge of every tile level: the hashes of level 4t
 * from the first index of the edge tile at the last commit up to those
 * the open transaction appended. How many of them count always follows
 * from the tree's size, so a transaction (or a savepoint) rolled back
 * needs nothing but the frontier's own size put back. */
struct cde_audit_tile_edge {
	uint64_t base[CDE_AUDIT_TILE_LEVELS];	/* index at level 4t of buf[t][0], a multiple of 16 */
	size_t cap[CDE_AUDIT_TILE_LEVELS];
	uint8_t (*buf[CDE_AUDIT_TILE_LEVELS])[CDE_TLOG_HASH_LEN];
	sqlite3_stmt *put;
};

/* Prepares @e's statement on @db and loads the partial edge tiles of a
 * tree of @size leaves through @t and @get. 0, -EIO, -ENOMEM, -EBADMSG
 * (an edge tile is damaged) or -ENOENT (one is missing or short). */
int cde_audit_tile_edge_init(struct cde_audit_tile_edge *e, sqlite3 *db, uint64_t size, struct cde_audit_tile *t,
			     sqlite3_stmt *get);
/* Frees @e's buffers and finalizes its statement. */
void cde_audit_tile_edge_release(struct cde_audit_tile_edge *e);

/* A cde_tlog_emit_fn over a struct cde_audit_tile_edge: keeps a hash of
 * a stored level, in memory until the flush. 0 or -ENOMEM. */
int cde_audit_tile_edge_keep(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN]);

/* Inside the transaction: writes each tile that gained hashes between
 * the trees of @from and @size leaves, once. 0 or -EIO. */
int cde_audit_tile_edge_flush(struct cde_audit_tile_edge *e, uint64_t from, uint64_t size);

/* The tree of @size leaves is committed: drops the full tiles, keeping
 * each level's partial edge tile. */
void cde_audit_tile_edge_committed(struct cde_audit_tile_edge *e, uint64_t size);
