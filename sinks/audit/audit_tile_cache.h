#pragma once
/* A reader's cache of the tiles it had to derive (audit_tiles_sqlite.c:
 * the leaves' tiles read from the rows, and the partial tiles above them
 * that the writer stores only once full), kept from one read snapshot to
 * the next so that a proof to the tree's head does not derive the right
 * edge again at every request.
 *
 * It holds hashes only; when they may be served is the io's call. The log
 * only grows, so a tile held with n hashes is a prefix of the same tile in
 * any later tree: it serves a tile of n hashes or fewer as it is, and a
 * wider one once extended by the hashes added since. A few tiles a level
 * (the edge, the one it just left, the leaves a proof starts from), the
 * least recently used given up first: about 34 KiB in all. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/audit_tiles.h"

#define CDE_AUDIT_TILE_CACHE_WAYS 4

struct cde_audit_tile_cached {
	uint64_t idx;
	uint64_t gen;	/* the tree in which it was the whole tile */
	uint64_t used;	/* when last found or kept, for the choice of whom to give up */
	size_t n;	/* hashes held, 1 to 16; 0: a free slot */
	uint8_t hash[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
};

struct cde_audit_tile_cache {
	struct cde_audit_tile_cached slot[CDE_AUDIT_TILE_LEVELS][CDE_AUDIT_TILE_CACHE_WAYS];
	uint64_t gen;	/* the number of the tree the snapshots see (its size, witnessed) */
	uint64_t tick;
	bool open;	/* inside a snapshot that the io checked the cache against */
	/* The tree the hashes held were read from had at most @size leaves,
	 * and leaf @size - 1 hashed to @last: the io's witness that the file
	 * is still the log the hashes came from (0: nothing witnessed). */
	uint64_t size;
	uint8_t last[CDE_TLOG_HASH_LEN];
};

/* Tile (@level, @idx), or NULL. */
struct cde_audit_tile_cached *cde_audit_tile_cache_find(struct cde_audit_tile_cache *c, unsigned level,
							uint64_t idx);

/* Holds @n (1 to 16) @hashes as tile (@level, @idx), whole in the tree
 * numbered c->gen, in place of what was held of it or of the least recently
 * used tile of the level. */
void cde_audit_tile_cache_keep(struct cde_audit_tile_cache *c, unsigned level, uint64_t idx,
			       const uint8_t (*hashes)[CDE_TLOG_HASH_LEN], size_t n);

/* Forgets every tile and the witness (the tree's number goes on). */
void cde_audit_tile_cache_clear(struct cde_audit_tile_cache *c);
