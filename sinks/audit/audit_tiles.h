#pragma once
/* The Merkle tree's hashes, stored as tiles (the idea of Go's sumdb and
 * C2SP tlog-tiles): table tree_tiles(tile_level, idx, hashes)
 * holds in one row the up to 16 consecutive hashes of tree level
 * 4 * tile_level with indexes [16 idx, 16 idx + 16), 32 bytes each, in
 * order. Only levels that are multiples of 4 are stored: a node at level
 * 4t + k (0 < k < 4) is the root of 2^k hashes of level 4t inside one
 * tile, hashed up when read. The tile at the right edge of a level is
 * partial and is rewritten as it grows (PostgreSQL), or not stored until
 * full (SQLite, where the leaves are in the rows and a partial tile is
 * derived from the full ones below: see leaves_in_rows); every other
 * tile is full and never changes, since the log only grows.
 *
 * The tile logic does not know the database: it reads and writes rows
 * through a struct cde_audit_tile_io (SQLite's in audit_tiles_sqlite.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/tlog/merkle.h"

#define CDE_AUDIT_TILE_HEIGHT 4
#define CDE_AUDIT_TILE_WIDTH (1u << CDE_AUDIT_TILE_HEIGHT)
/* Tile levels 0..15 hold tree levels 0, 4, ..., 60: every level a tree
 * of at most CDE_TLOG_MAX_SIZE leaves completes a hash at. */
#define CDE_AUDIT_TILE_LEVELS (64 / CDE_AUDIT_TILE_HEIGHT)

/* The rows of tree_tiles, in whichever database holds them. Both calls
 * take a tile level (0 .. CDE_AUDIT_TILE_LEVELS - 1) and a tile index. */
struct cde_audit_tile_io {
	/* The blob of tile (@tile_level, @idx) into @buf, which has room for
	 * @cap bytes; its length in *@ret_len (0: no such row, or an empty
	 * blob). A blob longer than @cap is not copied, but its length is
	 * still told: the tile logic marks that tile damaged, as it does one
	 * whose length is not whole hashes. 0, or -EIO (-ENOMEM) with
	 * *@ret_len untouched. */
	int (*get)(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap, size_t *ret_len);
	/* Stores @len bytes of @hashes as the blob of tile (@tile_level, @idx),
	 * in place of the one there, inside the caller's transaction. 0 or
	 * -EIO. NULL in an io only read through. */
	int (*put)(void *ctx, unsigned tile_level, uint64_t idx, const uint8_t *hashes, size_t len);
	void *ctx;
	/* The leaves (tile level 0) live in the log's rows, where get finds
	 * those no tile holds, and a tile above is written only once full:
	 * get derives the hashes a stored tile lacks from the full tiles
	 * below (a hash of level 4t is the root of a tile of level 4t - 4).
	 * So the writer's edge loads and writes tiles from level 1 up, and
	 * only full ones: a group of events writes a tile now and then, not
	 * one a level. SQLite's io; false for PostgreSQL's. */
	bool leaves_in_rows;
};

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

/* Fetches tile (@level, @idx) through @io into @t, unless @t holds it
 * already. 0 (an absent tile is one of 0 hashes), or @io's -errno. */
int cde_audit_tile_fetch(struct cde_audit_tile *t, const struct cde_audit_tile_io *io, unsigned level,
			 uint64_t idx);

/* The hash of the perfect subtree at (@level, @index) of the tree from
 * tile @t, fetched through @io: 0, -ENOENT (not stored), -EBADMSG (its
 * tile is damaged), -EIO or -ENOMEM. A cde_tlog_reader's read over tiles. */
int cde_audit_tile_read(struct cde_audit_tile *t, const struct cde_audit_tile_io *io, unsigned level,
			uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN]);

/* The root of @count (1, 2, 4, 8 or 16) consecutive hashes of one level
 * that start at a multiple of @count: the hash @count's log2 levels up.
 * 0, -EINVAL (another count) or -ENOMEM. */
int cde_audit_tile_hash_up(const uint8_t (*hashes)[CDE_TLOG_HASH_LEN], size_t count, uint8_t out[CDE_TLOG_HASH_LEN]);

/* A cde_tlog_reader over the tiles behind an io, and the tile it read
 * last: use it inside one transaction, or while the tree does not
 * change. Set up by cde_audit_tile_reader_init; nothing to release. */
struct cde_audit_tile_reader {
	struct cde_tlog_reader tlog;
	struct cde_audit_tile_io io;
	struct cde_audit_tile tile;
};

void cde_audit_tile_reader_init(struct cde_audit_tile_reader *r, const struct cde_audit_tile_io *io);

/* The writer's right edge of every tile level it writes (from 1 when the
 * io keeps the leaves in rows): the hashes of level 4t
 * from the first index of the edge tile at the last commit up to those
 * the open transaction appended. How many of them count always follows
 * from the tree's size, so a transaction (or a savepoint) rolled back
 * needs nothing but the frontier's own size put back. */
struct cde_audit_tile_edge {
	uint64_t base[CDE_AUDIT_TILE_LEVELS];	/* index at level 4t of buf[t][0], a multiple of 16 */
	size_t cap[CDE_AUDIT_TILE_LEVELS];
	uint8_t (*buf[CDE_AUDIT_TILE_LEVELS])[CDE_TLOG_HASH_LEN];
	struct cde_audit_tile_io io;	/* the flush's puts */
};

/* Loads the partial edge tiles of a tree of @size leaves into @e through
 * @t and @io (which needs a put: @e keeps it for the flush). 0, -EIO,
 * -ENOMEM, -EBADMSG (an edge tile is damaged) or -ENOENT (one is missing
 * or short). */
int cde_audit_tile_edge_init(struct cde_audit_tile_edge *e, const struct cde_audit_tile_io *io, uint64_t size,
			     struct cde_audit_tile *t);
/* Frees @e's buffers. */
void cde_audit_tile_edge_release(struct cde_audit_tile_edge *e);

/* A cde_tlog_emit_fn over a struct cde_audit_tile_edge: keeps a hash of
 * a stored level, in memory until the flush. 0 or -ENOMEM. */
int cde_audit_tile_edge_keep(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN]);

/* Inside the transaction: writes each tile that gained hashes between
 * the trees of @from and @size leaves, once, through the io's put. 0 or
 * its -errno (-EIO). */
int cde_audit_tile_edge_flush(struct cde_audit_tile_edge *e, uint64_t from, uint64_t size);

/* The tree of @size leaves is committed: drops the full tiles, keeping
 * each level's partial edge tile. */
void cde_audit_tile_edge_committed(struct cde_audit_tile_edge *e, uint64_t size);
