#pragma once
/* A set of strings, each with a number (where the caller keeps what the
 * string names), for analyses that meet the same key again and again in
 * rows an outsider may have posted: a gate's test cases and chains.
 * Lookups and additions cost O(1) on average whatever the keys are: the
 * hash is SipHash-2-4 under a key drawn at random for each index, so
 * nobody can choose strings that all land in one probe sequence. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cde_answer_index_slot;

typedef uint64_t (*cde_answer_hash_fn)(const void *in, size_t len, const uint64_t key[2]);

struct cde_answer_index {
	struct cde_answer_index_slot *slots;	/* NULL until the first addition */
	size_t mask;			/* slots - 1 (a power of two minus one) */
	size_t n;
	uint64_t key[2];
	cde_answer_hash_fn hash;	/* cde_answer_siphash; a test may set another */
};

/* SipHash-2-4 of the @len bytes at @in under @key (16 bytes, key[0]
 * little-endian first). */
uint64_t cde_answer_siphash(const void *in, size_t len, const uint64_t key[2]);

/* An empty index with a fresh random key. */
void cde_answer_index_init(struct cde_answer_index *ix);

/* Whether @key is in @ix; its number in *@ret_value when it is. */
bool cde_answer_index_find(const struct cde_answer_index *ix, const char *key, size_t *ret_value);

/* Adds @key with @value. The index borrows @key: it must stay where it
 * is, unchanged, while the index lives. Returns 0, -EEXIST when @key is
 * there already (its number unchanged), or -ENOMEM (the index as it
 * was). */
int cde_answer_index_add(struct cde_answer_index *ix, const char *key, size_t value);

/* Frees what @ix holds (not the keys, which it borrows); leaves it empty,
 * to be initialised again before use. */
void cde_answer_index_release(struct cde_answer_index *ix);
