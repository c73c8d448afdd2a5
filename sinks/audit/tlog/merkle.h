#pragma once
/* The Merkle tree of RFC 9162 section 2.1 (Certificate Transparency 2.0,
 * the same tree as RFC 6962): SHA-256, leaf hash SHA-256(0x00 || entry),
 * node hash SHA-256(0x01 || left || right), the empty tree's hash
 * SHA-256(""). Proofs are RFC 9162's inclusion paths (2.1.3) and
 * consistency proofs (2.1.4), hashes ordered from the leaves up.
 *
 * Storage is the caller's: the writer keeps every hash the frontier emits
 * (the perfect subtree at (level, index) covers leaves [index << level,
 * (index + 1) << level)) and proofs read them back through a reader. A
 * stored hash never changes once written: the log only grows. Sizes are
 * at most CDE_TLOG_MAX_SIZE (2^63) leaves.
 *
 * Hashing goes through OpenSSL's EVP interface, which allocates: every
 * function that hashes can fail with -ENOMEM. */

#include <stddef.h>
#include <stdint.h>

#define CDE_TLOG_HASH_LEN 32
/* The most hashes in any proof for a tree of at most CDE_TLOG_MAX_SIZE
 * leaves: 63 for inclusion, 64 for consistency. */
#define CDE_TLOG_MAX_PROOF 64
#define CDE_TLOG_MAX_SIZE (UINT64_C(1) << 63)

/* Where stored hashes come from. read() fills @out with the hash of the
 * perfect subtree at (@level, @index) and returns 0, or -ENOENT when it is
 * not stored, or another -errno (-EIO...) that is passed back unchanged. */
struct cde_tlog_reader {
	int (*read)(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN]);
	void *ctx;
};

/* Called for every hash that becomes stored; a -errno stops the append. */
typedef int cde_tlog_emit_fn(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN]);

/* A tree of @size leaves as its compact range: hash[level] is the perfect
 * subtree of 2^level leaves that the tree holds when bit @level of @size is
 * set (the others are meaningless). Caller-owned, nothing to release. */
struct cde_tlog_frontier {
	uint64_t size;
	uint8_t hash[64][CDE_TLOG_HASH_LEN];
};

/* SHA-256(0x00 || @entry): 0 or -ENOMEM. */
int cde_tlog_leaf_hash(const void *entry, size_t len, uint8_t out[CDE_TLOG_HASH_LEN]);
/* SHA-256(0x01 || @l || @r): 0 or -ENOMEM. @out may alias @l or @r. */
int cde_tlog_node_hash(const uint8_t l[CDE_TLOG_HASH_LEN], const uint8_t r[CDE_TLOG_HASH_LEN],
		       uint8_t out[CDE_TLOG_HASH_LEN]);

/* Makes @f the empty tree. */
void cde_tlog_frontier_init(struct cde_tlog_frontier *f);
/* Makes @f the tree of the first @size stored leaves from popcount(@size)
 * reads, hashing nothing (at start). 0, -EINVAL (@size too big) or the
 * reader's error; @f is untouched on failure. */
int cde_tlog_frontier_load(struct cde_tlog_frontier *f, uint64_t size, const struct cde_tlog_reader *r);
/* Appends the leaf hash @leaf: calls @emit for (0, size) and then for each
 * perfect subtree the leaf completes, bottom up. 0, -EOVERFLOW (the tree
 * holds CDE_TLOG_MAX_SIZE leaves), -ENOMEM or @emit's error; on failure @f
 * is unchanged and whatever was emitted before is the caller's to drop
 * (the writer emits inside the transaction that stores the leaf). */
int cde_tlog_frontier_append(struct cde_tlog_frontier *f, const uint8_t leaf[CDE_TLOG_HASH_LEN],
			     cde_tlog_emit_fn *emit, void *ctx);
/* The tree head MTH of @f (SHA-256("") when empty): 0 or -ENOMEM. */
int cde_tlog_frontier_root(const struct cde_tlog_frontier *f, uint8_t out[CDE_TLOG_HASH_LEN]);

/* The tree head of the first @size stored leaves (popcount(@size) reads):
 * 0, -EINVAL, -ENOMEM or the reader's error. */
int cde_tlog_root(const struct cde_tlog_reader *r, uint64_t size, uint8_t out[CDE_TLOG_HASH_LEN]);
/* PATH(@index, D[@size]) of RFC 9162 2.1.3.1 into @proof (room for
 * CDE_TLOG_MAX_PROOF hashes), its length in *@count; at most about
 * 2 log2(@size) reads. 0, -EINVAL (@index >= @size, @size too big),
 * -ENOMEM or the reader's error (@proof is then scratch, *@count untouched). */
int cde_tlog_prove_inclusion(const struct cde_tlog_reader *r, uint64_t index, uint64_t size,
			     uint8_t proof[][CDE_TLOG_HASH_LEN], size_t *count);
/* PROOF(@old_size, D[@size]) of RFC 9162 2.1.4.1 likewise. From 0 leaves
 * and between equal sizes the proof is empty (RFC 9162 defines it for
 * 0 < old_size < size only). -EINVAL when @old_size > @size. */
int cde_tlog_prove_consistency(const struct cde_tlog_reader *r, uint64_t old_size, uint64_t size,
			       uint8_t proof[][CDE_TLOG_HASH_LEN], size_t *count);

/* RFC 9162 2.1.3.2: 0 when @proof shows @leaf at @index in the tree of
 * @size leaves whose head is @root; -EBADMSG when it does not; -EINVAL when
 * @index >= @size or @size is too big; -ENOMEM. */
int cde_tlog_verify_inclusion(const uint8_t leaf[CDE_TLOG_HASH_LEN], uint64_t index, uint64_t size,
			      const uint8_t proof[][CDE_TLOG_HASH_LEN], size_t count,
			      const uint8_t root[CDE_TLOG_HASH_LEN]);
/* RFC 9162 2.1.4.2: 0 when @proof shows the tree (@size, @root) extends
 * (@old_size, @old_root); -EBADMSG when it does not; -EINVAL when
 * @old_size > @size or @size is too big; -ENOMEM. Outside the RFC's
 * 0 < old_size < size: between equal sizes only an empty proof and equal
 * roots verify; from 0 only an empty proof with @old_root the empty tree's
 * hash (any tree extends the empty one). */
int cde_tlog_verify_consistency(uint64_t old_size, uint64_t size, const uint8_t proof[][CDE_TLOG_HASH_LEN],
				size_t count, const uint8_t old_root[CDE_TLOG_HASH_LEN],
				const uint8_t root[CDE_TLOG_HASH_LEN]);
