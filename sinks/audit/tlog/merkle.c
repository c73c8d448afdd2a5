/* The Merkle tree's hashes and its growing edge (RFC 9162 2.1.1).
 *
 * Every subtree the proofs need is either perfect (2^level leaves starting
 * at a multiple of 2^level: stored, read once) or a right edge [begin,
 * end) whose begin is a multiple of a power of two >= its width; such an
 * edge is the perfect subtrees of the binary digits of its width, left to
 * right, folded from the right: hash(P1, hash(P2, ... Pk)). So any tree
 * head costs popcount(width) reads and nothing is recomputed from leaves.
 * The frontier is that decomposition of the whole tree, kept in memory by
 * the writer: an append merges the equal-sized subtrees it completes, like
 * a binary counter's carry. */

#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/merkle_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "schemas/base/sha256.h"

/* SHA-256 of the two parts (@b may be empty): 0 or -ENOMEM. */
static int sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *kept = cde_sha256_thread_ctx(), *ctx = kept ? kept : EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, cde_sha256_md(), NULL) && EVP_DigestUpdate(ctx, a, alen) &&
		 (!blen || EVP_DigestUpdate(ctx, b, blen)) && EVP_DigestFinal_ex(ctx, md, &len) &&
		 len == CDE_TLOG_HASH_LEN;

	if (ctx != kept)
		EVP_MD_CTX_free(ctx);
	if (!ok)
		return -ENOMEM;
	memcpy(out, md, CDE_TLOG_HASH_LEN); /* after reading: @out may alias a part */
	return 0;
}

int cde_tlog_leaf_hash(const void *entry, size_t len, uint8_t out[CDE_TLOG_HASH_LEN])
{
	static const uint8_t prefix = 0x00;

	return sha256(&prefix, 1, entry, len, out);
}

int cde_tlog_node_hash(const uint8_t l[CDE_TLOG_HASH_LEN], const uint8_t r[CDE_TLOG_HASH_LEN],
		       uint8_t out[CDE_TLOG_HASH_LEN])
{
	/* One update of the 65 bytes rather than three: the writer hashes
	 * about one node an event. */
	uint8_t node[1 + 2 * CDE_TLOG_HASH_LEN] = { 0x01 };

	memcpy(node + 1, l, CDE_TLOG_HASH_LEN);
	memcpy(node + 1 + CDE_TLOG_HASH_LEN, r, CDE_TLOG_HASH_LEN);
	return sha256(node, sizeof(node), NULL, 0, out);
}

/* The empty tree's head, SHA-256 of nothing (RFC 9162 2.1.1). */
static int empty_root(uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!EVP_Digest("", 0, md, &len, EVP_sha256(), NULL) || len != CDE_TLOG_HASH_LEN)
		return -ENOMEM;
	memcpy(out, md, CDE_TLOG_HASH_LEN);
	return 0;
}

int cde_tlog_range_hash(const struct cde_tlog_reader *r, uint64_t begin, uint64_t end,
			uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint64_t width = end - begin;
	uint8_t part[CDE_TLOG_HASH_LEN];
	bool first = true;
	int rc;

	/* From the smallest (rightmost) perfect subtree to the largest: the
	 * one for bit L starts past the digits above L. */
	for (unsigned level = 0; level < 64; level++) {
		if (!(width >> level & 1))
			continue;
		uint64_t start = begin + (level == 63 ? 0 : width >> (level + 1) << (level + 1));

		rc = r->read(r->ctx, level, start >> level, first ? out : part);
		if (rc == 0 && !first)
			rc = cde_tlog_node_hash(part, out, out);
		if (rc < 0)
			return rc;
		first = false;
	}
	return 0;
}

void cde_tlog_frontier_init(struct cde_tlog_frontier *f)
{
	f->size = 0;
}

int cde_tlog_frontier_load(struct cde_tlog_frontier *f, uint64_t size, const struct cde_tlog_reader *r)
{
	struct cde_tlog_frontier loaded = { .size = size };
	uint64_t start = 0;

	if (size > CDE_TLOG_MAX_SIZE)
		return -EINVAL;
	for (unsigned level = 64; level-- > 0;) {
		if (!(size >> level & 1))
			continue;
		int rc = r->read(r->ctx, level, start >> level, loaded.hash[level]);

		if (rc < 0)
			return rc;
		start += UINT64_C(1) << level;
	}
	*f = loaded;
	return 0;
}

int cde_tlog_frontier_append(struct cde_tlog_frontier *f, const uint8_t leaf[CDE_TLOG_HASH_LEN],
			     cde_tlog_emit_fn *emit, void *ctx)
{
	uint8_t h[CDE_TLOG_HASH_LEN];
	unsigned level = 0;
	int rc;

	if (f->size >= CDE_TLOG_MAX_SIZE)
		return -EOVERFLOW;
	memcpy(h, leaf, CDE_TLOG_HASH_LEN);
	rc = emit(ctx, 0, f->size, h);
	/* Each set low bit is a subtree of the same width as the one just
	 * made, to its left: merge them, as a carry ripples. */
	while (rc == 0 && (f->size >> level & 1)) {
		rc = cde_tlog_node_hash(f->hash[level], h, h);
		level++;
		if (rc == 0)
			rc = emit(ctx, level, f->size >> level, h);
	}
	if (rc < 0)
		return rc;
	memcpy(f->hash[level], h, CDE_TLOG_HASH_LEN);
	f->size++;
	return 0;
}

int cde_tlog_frontier_root(const struct cde_tlog_frontier *f, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t acc[CDE_TLOG_HASH_LEN];
	bool first = true;

	if (f->size == 0)
		return empty_root(out);
	for (unsigned level = 0; level < 64; level++) {
		if (!(f->size >> level & 1))
			continue;
		if (first)
			memcpy(acc, f->hash[level], CDE_TLOG_HASH_LEN);
		else if (cde_tlog_node_hash(f->hash[level], acc, acc) < 0)
			return -ENOMEM;
		first = false;
	}
	memcpy(out, acc, CDE_TLOG_HASH_LEN);
	return 0;
}

int cde_tlog_root(const struct cde_tlog_reader *r, uint64_t size, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t acc[CDE_TLOG_HASH_LEN];
	int rc;

	if (size > CDE_TLOG_MAX_SIZE)
		return -EINVAL;
	if (size == 0)
		return empty_root(out);
	rc = cde_tlog_range_hash(r, 0, size, acc);
	if (rc == 0)
		memcpy(out, acc, CDE_TLOG_HASH_LEN);
	return rc;
}
