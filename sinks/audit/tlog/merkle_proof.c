/* Inclusion and consistency proofs (RFC 9162 2.1.3, 2.1.4): made from
 * stored hashes, checked from hashes alone.
 *
 * Making a proof walks the RFC's recursion from the root down, one sibling
 * per level, then reverses the list (the RFC lists the deepest first).
 * Each sibling is a perfect subtree (one read) except possibly one: the
 * first time the walk turns left while its range still ends at the tree's
 * right edge, the sibling is that edge (popcount reads); past that turn
 * every range is perfect. So a proof is O(log n) reads.
 *
 * Checking follows RFC 9162's verification algorithms step by step, so
 * that what the tests compare against the text is recognisable. */

#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/merkle_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The largest power of two below @n (n >= 2). */
static uint64_t split(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static void reverse(uint8_t proof[][CDE_TLOG_HASH_LEN], size_t count)
{
	uint8_t t[CDE_TLOG_HASH_LEN];

	for (size_t i = 0, j = count; i + 1 < j; i++, j--) {
		memcpy(t, proof[i], CDE_TLOG_HASH_LEN);
		memcpy(proof[i], proof[j - 1], CDE_TLOG_HASH_LEN);
		memcpy(proof[j - 1], t, CDE_TLOG_HASH_LEN);
	}
}

int cde_tlog_prove_inclusion(const struct cde_tlog_reader *r, uint64_t index, uint64_t size,
			     uint8_t proof[][CDE_TLOG_HASH_LEN], size_t *count)
{
	uint64_t b = 0, e = size;
	size_t n = 0;

	if (size > CDE_TLOG_MAX_SIZE || index >= size)
		return -EINVAL;
	while (e - b > 1) {
		uint64_t k = split(e - b);
		int rc;

		if (index < b + k) {
			rc = cde_tlog_range_hash(r, b + k, e, proof[n++]);
			e = b + k;
		} else {
			rc = cde_tlog_range_hash(r, b, b + k, proof[n++]);
			b += k;
		}
		if (rc < 0)
			return rc;
	}
	reverse(proof, n);
	*count = n;
	return 0;
}

int cde_tlog_prove_consistency(const struct cde_tlog_reader *r, uint64_t old_size, uint64_t size,
			       uint8_t proof[][CDE_TLOG_HASH_LEN], size_t *count)
{
	uint64_t b = 0, e = size;
	bool whole = true; /* SUBPROOF's b: the range is where the old tree started */
	size_t n = 0;
	int rc = 0;

	if (size > CDE_TLOG_MAX_SIZE || old_size > size)
		return -EINVAL;
	if (old_size == 0 || old_size == size) {
		*count = 0;
		return 0;
	}
	while (rc == 0) {
		if (old_size == e) {
			/* The old tree ends here: its own head needs no proof
			 * when it is the whole old tree. */
			if (!whole)
				rc = cde_tlog_range_hash(r, b, e, proof[n++]);
			break;
		}
		uint64_t k = split(e - b);

		if (old_size - b <= k) {
			rc = cde_tlog_range_hash(r, b + k, e, proof[n++]);
			e = b + k;
		} else {
			rc = cde_tlog_range_hash(r, b, b + k, proof[n++]);
			b += k;
			whole = false;
		}
	}
	if (rc < 0)
		return rc;
	reverse(proof, n);
	*count = n;
	return 0;
}

/* Right-shifts both until fn's low bit is set or fn is 0 (RFC 9162's
 * step for a node that has no right sibling at this level). */
static void climb_right_edge(uint64_t *fn, uint64_t *sn)
{
	while (!(*fn & 1) && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int cde_tlog_verify_inclusion(const uint8_t leaf[CDE_TLOG_HASH_LEN], uint64_t index, uint64_t size,
			      const uint8_t proof[][CDE_TLOG_HASH_LEN], size_t count,
			      const uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint8_t h[CDE_TLOG_HASH_LEN];
	uint64_t fn = index, sn;

	if (size > CDE_TLOG_MAX_SIZE || index >= size)
		return -EINVAL;
	sn = size - 1;
	memcpy(h, leaf, CDE_TLOG_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		int rc;

		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			rc = cde_tlog_node_hash(proof[i], h, h);
			climb_right_edge(&fn, &sn);
		} else {
			rc = cde_tlog_node_hash(h, proof[i], h);
		}
		if (rc < 0)
			return rc;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(h, root, CDE_TLOG_HASH_LEN) == 0 ? 0 : -EBADMSG;
}

/* The sizes outside RFC 9162's 0 < old_size < size. */
static int verify_trivial_consistency(uint64_t old_size, uint64_t size, size_t count,
				      const uint8_t old_root[CDE_TLOG_HASH_LEN],
				      const uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint8_t empty[CDE_TLOG_HASH_LEN];

	if (count != 0)
		return -EBADMSG;
	if (old_size == size)
		return memcmp(old_root, root, CDE_TLOG_HASH_LEN) == 0 ? 0 : -EBADMSG;
	if (cde_tlog_root(NULL, 0, empty) < 0)
		return -ENOMEM;
	return memcmp(old_root, empty, CDE_TLOG_HASH_LEN) == 0 ? 0 : -EBADMSG;
}

int cde_tlog_verify_consistency(uint64_t old_size, uint64_t size, const uint8_t proof[][CDE_TLOG_HASH_LEN],
				size_t count, const uint8_t old_root[CDE_TLOG_HASH_LEN],
				const uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint8_t fr[CDE_TLOG_HASH_LEN], sr[CDE_TLOG_HASH_LEN];
	uint64_t fn, sn;
	/* A power-of-two old tree is a node of the new one: its head is the
	 * path's first element, not sent (RFC 9162 step 2). */
	size_t pre = (old_size & (old_size - 1)) == 0 ? 1 : 0;

	if (size > CDE_TLOG_MAX_SIZE || old_size > size)
		return -EINVAL;
	if (old_size == 0 || old_size == size)
		return verify_trivial_consistency(old_size, size, count, old_root, root);
	if (count == 0)
		return -EBADMSG;
	fn = old_size - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, pre ? old_root : proof[0], CDE_TLOG_HASH_LEN);
	memcpy(sr, fr, CDE_TLOG_HASH_LEN);
	for (size_t i = 1 - pre; i < count; i++) {
		int rc;

		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			rc = cde_tlog_node_hash(proof[i], fr, fr);
			if (rc == 0)
				rc = cde_tlog_node_hash(proof[i], sr, sr);
			climb_right_edge(&fn, &sn);
		} else {
			rc = cde_tlog_node_hash(sr, proof[i], sr);
		}
		if (rc < 0)
			return rc;
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, old_root, CDE_TLOG_HASH_LEN) == 0 &&
			       memcmp(sr, root, CDE_TLOG_HASH_LEN) == 0 ?
		       0 :
		       -EBADMSG;
}
