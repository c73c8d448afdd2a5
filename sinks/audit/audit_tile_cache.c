/* The reader's cache of derived tiles (audit_tile_cache.h): a few slots a
 * tile level, looked up by index, the least recently used one reused.
 * Knows no database and decides nothing about freshness: the io checks
 * the cache against the file (its witness) and stamps what is whole. */

#include "sinks/audit/audit_tile_cache.h"

#include <string.h>

struct cde_audit_tile_cached *cde_audit_tile_cache_find(struct cde_audit_tile_cache *c, unsigned level,
							uint64_t idx)
{
	if (level >= CDE_AUDIT_TILE_LEVELS)
		return NULL;
	for (size_t i = 0; i < CDE_AUDIT_TILE_CACHE_WAYS; i++) {
		struct cde_audit_tile_cached *e = &c->slot[level][i];

		if (e->n && e->idx == idx) {
			e->used = ++c->tick;
			return e;
		}
	}
	return NULL;
}

void cde_audit_tile_cache_keep(struct cde_audit_tile_cache *c, unsigned level, uint64_t idx,
			       const uint8_t (*hashes)[CDE_TLOG_HASH_LEN], size_t n)
{
	struct cde_audit_tile_cached *e, *slots;

	if (level >= CDE_AUDIT_TILE_LEVELS || n == 0 || n > CDE_AUDIT_TILE_WIDTH)
		return;
	e = cde_audit_tile_cache_find(c, level, idx);
	slots = c->slot[level];
	/* Not held: a free slot, or else the one used longest ago. */
	if (!e) {
		e = &slots[0];
		for (size_t i = 1; i < CDE_AUDIT_TILE_CACHE_WAYS && e->n; i++)
			if (!slots[i].n || slots[i].used < e->used)
				e = &slots[i];
	}
	/* @hashes may be this slot's own (a tile served from it and kept). */
	memmove(e->hash, hashes, n * CDE_TLOG_HASH_LEN);
	e->idx = idx;
	e->n = n;
	e->gen = c->gen;
	e->used = ++c->tick;
}

void cde_audit_tile_cache_clear(struct cde_audit_tile_cache *c)
{
	memset(c->slot, 0, sizeof(c->slot));
	c->size = 0;
	memset(c->last, 0, sizeof(c->last));
}
