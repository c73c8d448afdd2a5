#pragma once
/* The table a writer keeps of the Merkle tree's stored hashes, in memory,
 * for tests: one growing array per level, filled by the frontier's emit
 * and read back through a cde_tlog_reader. Static inline: each user is one
 * file. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/tlog/merkle.h"

struct tlog_store {
	uint8_t (*level[64])[CDE_TLOG_HASH_LEN];
	uint64_t len[64], cap[64];
};

/* A cde_tlog_emit_fn over a struct tlog_store. */
static inline int tlog_store_emit(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	struct tlog_store *s = ctx;

	if (level >= 64 || index != s->len[level])
		return -EINVAL; /* every level grows left to right */
	if (s->len[level] == s->cap[level]) {
		uint64_t cap = s->cap[level] ? 2 * s->cap[level] : 16;
		void *p = realloc(s->level[level], cap * CDE_TLOG_HASH_LEN);

		if (!p)
			return -ENOMEM;
		s->level[level] = p;
		s->cap[level] = cap;
	}
	memcpy(s->level[level][s->len[level]++], hash, CDE_TLOG_HASH_LEN);
	return 0;
}

static inline int tlog_store_read(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	struct tlog_store *s = ctx;

	if (level >= 64 || index >= s->len[level])
		return -ENOENT;
	memcpy(out, s->level[level][index], CDE_TLOG_HASH_LEN);
	return 0;
}

static inline struct cde_tlog_reader tlog_store_reader(struct tlog_store *s)
{
	return (struct cde_tlog_reader){ .read = tlog_store_read, .ctx = s };
}

static inline void tlog_store_release(struct tlog_store *s)
{
	for (int i = 0; i < 64; i++)
		free(s->level[i]);
	memset(s, 0, sizeof(*s));
}
