/* The Merkle tree (sinks/audit/tlog/merkle.h) on logs of its own: a
 * frontier reloaded from its stored hashes equal to the one built leaf by
 * leaf, every proof of small trees verifying and every altered one
 * failing, the edge sizes and arguments, failing readers and writers, and
 * trees of up to 2^63 leaves. The published vectors are in
 * test_tlog_vectors.c. */

#include "tests/unit/helpers.h"

#include "sinks/audit/tlog/merkle.h"
#include "tests/helpers/tlog_store.h"

typedef uint8_t hash_t[CDE_TLOG_HASH_LEN];

/* A log of @n leaves of varied bytes, with every root kept (roots[size]). */
struct log {
	struct tlog_store store;
	struct cde_tlog_frontier f;
	hash_t *leaves, *roots;
	uint64_t n;
};

static void log_build(struct log *log, uint64_t n)
{
	memset(log, 0, sizeof(*log));
	log->n = n;
	log->leaves = calloc(n, sizeof(hash_t));
	log->roots = calloc(n + 1, sizeof(hash_t));
	assert_non_null(log->leaves);
	assert_non_null(log->roots);
	cde_tlog_frontier_init(&log->f);
	assert_int_equal(cde_tlog_frontier_root(&log->f, log->roots[0]), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t entry[2] = { i, i * 0x9e3779b97f4a7c15u };

		assert_int_equal(cde_tlog_leaf_hash(entry, (size_t)(i % 17), log->leaves[i]), 0);
		assert_int_equal(cde_tlog_frontier_append(&log->f, log->leaves[i], tlog_store_emit, &log->store), 0);
		assert_int_equal(cde_tlog_frontier_root(&log->f, log->roots[i + 1]), 0);
	}
}

static void log_release(struct log *log)
{
	tlog_store_release(&log->store);
	free(log->leaves);
	free(log->roots);
}

/* An emit that checks each hash against the store of the same log. */
static int emit_same_as_stored(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	hash_t stored;

	assert_int_equal(tlog_store_read(ctx, level, index, stored), 0);
	assert_memory_equal(hash, stored, CDE_TLOG_HASH_LEN);
	return 0;
}

static void a_frontier_loaded_from_stored_hashes_equals_the_appended_one(void **state)
{
	struct log log;
	struct cde_tlog_frontier grown, loaded;

	log_build(&log, 1100);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	cde_tlog_frontier_init(&grown);
	for (uint64_t size = 0; size <= log.n; size++) {
		hash_t root;

		assert_int_equal(cde_tlog_frontier_load(&loaded, size, &r), 0);
		assert_int_equal(loaded.size, grown.size);
		for (unsigned level = 0; level < 64; level++)
			if (size >> level & 1)
				assert_memory_equal(loaded.hash[level], grown.hash[level], CDE_TLOG_HASH_LEN);
		assert_int_equal(cde_tlog_root(&r, size, root), 0);
		assert_memory_equal(root, log.roots[size], CDE_TLOG_HASH_LEN);
		assert_int_equal(cde_tlog_frontier_root(&loaded, root), 0);
		assert_memory_equal(root, log.roots[size], CDE_TLOG_HASH_LEN);
		if (size == log.n)
			break;
		/* A reloaded frontier goes on emitting what the first one did. */
		assert_int_equal(cde_tlog_frontier_append(&loaded, log.leaves[size], emit_same_as_stored, &log.store), 0);
		assert_int_equal(cde_tlog_frontier_append(&grown, log.leaves[size], emit_same_as_stored, &log.store), 0);
	}
	log_release(&log);
}

static int verify_inc(const struct log *log, uint64_t index, uint64_t size, hash_t *proof, size_t count)
{
	return cde_tlog_verify_inclusion(log->leaves[index], index, size, proof, count, log->roots[size]);
}

/* Every way to alter a correct inclusion proof of @index in @size fails. */
static void altered_inclusion_proofs_fail(const struct log *log, uint64_t index, uint64_t size, hash_t *proof,
					  size_t count)
{
	hash_t bad[CDE_TLOG_MAX_PROOF + 1];

	for (size_t i = 0; i < count; i++) { /* a bit flipped in each hash */
		memcpy(bad, proof, count * sizeof(hash_t));
		bad[i][(i * 7 + index) % CDE_TLOG_HASH_LEN] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(verify_inc(log, index, size, bad, count), -EBADMSG);
	}
	if (count) { /* a hash dropped from either end */
		assert_int_equal(verify_inc(log, index, size, proof, count - 1), -EBADMSG);
		assert_int_equal(verify_inc(log, index, size, proof + 1, count - 1), -EBADMSG);
	}
	memcpy(bad, proof, count * sizeof(hash_t)); /* a hash added */
	memcpy(bad[count], log->roots[size], CDE_TLOG_HASH_LEN);
	assert_int_equal(verify_inc(log, index, size, bad, count + 1), -EBADMSG);
	for (uint64_t other = 0; other < size; other++) /* another index, this leaf */
		if (other != index)
			assert_int_equal(cde_tlog_verify_inclusion(log->leaves[index], other, size, proof, count,
								   log->roots[size]),
					 -EBADMSG);
	for (uint64_t other = index + 1; other <= log->n; other++) /* another tree and its root */
		if (other != size)
			assert_int_equal(verify_inc(log, index, other, proof, count), -EBADMSG);
	if (index + 1 < size) /* another leaf */
		assert_int_equal(cde_tlog_verify_inclusion(log->leaves[index + 1], index, size, proof, count,
							   log->roots[size]),
				 -EBADMSG);
}

static void every_inclusion_proof_verifies_and_every_altered_one_fails(void **state)
{
	struct log log;

	log_build(&log, 40);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	for (uint64_t size = 1; size <= log.n; size++) {
		for (uint64_t index = 0; index < size; index++) {
			hash_t proof[CDE_TLOG_MAX_PROOF];
			size_t count;

			assert_int_equal(cde_tlog_prove_inclusion(&r, index, size, proof, &count), 0);
			assert_int_equal(verify_inc(&log, index, size, proof, count), 0);
			altered_inclusion_proofs_fail(&log, index, size, proof, count);
		}
	}
	log_release(&log);
}

static int verify_con(const struct log *log, uint64_t old_size, uint64_t size, hash_t *proof, size_t count)
{
	return cde_tlog_verify_consistency(old_size, size, proof, count, log->roots[old_size], log->roots[size]);
}

static void altered_consistency_proofs_fail(const struct log *log, uint64_t old_size, uint64_t size,
					    hash_t *proof, size_t count)
{
	hash_t bad[CDE_TLOG_MAX_PROOF + 1];

	for (size_t i = 0; i < count; i++) {
		memcpy(bad, proof, count * sizeof(hash_t));
		bad[i][(i * 5 + size) % CDE_TLOG_HASH_LEN] ^= (uint8_t)(0x80u >> (i % 8));
		assert_int_equal(verify_con(log, old_size, size, bad, count), -EBADMSG);
	}
	if (count) {
		assert_int_equal(verify_con(log, old_size, size, proof, count - 1), -EBADMSG);
		assert_int_equal(verify_con(log, old_size, size, proof + 1, count - 1), -EBADMSG);
	}
	memcpy(bad, proof, count * sizeof(hash_t));
	memcpy(bad[count], log->roots[old_size], CDE_TLOG_HASH_LEN);
	assert_int_equal(verify_con(log, old_size, size, bad, count + 1), -EBADMSG);
	/* Other sizes with their own roots: the proof is for this pair only
	 * (but the empty proof holds from 0 and between equal sizes). */
	for (uint64_t other = 0; other <= log->n; other++) {
		if (other != old_size && other <= size && (count != 0 || (other != 0 && other != size)))
			assert_int_equal(verify_con(log, other, size, proof, count), -EBADMSG);
		if (other != size && other >= old_size && old_size != 0)
			assert_int_equal(verify_con(log, old_size, other, proof, count), -EBADMSG);
	}
	/* A forked log: same sizes, a root that is not the tree's (from 0,
	 * there is nothing to fork). */
	if (old_size == 0)
		return;
	assert_int_equal(cde_tlog_verify_consistency(old_size, size, proof, count, log->roots[old_size],
						     log->roots[size == log->n ? size - 1 : size + 1]),
			 -EBADMSG);
	assert_int_equal(cde_tlog_verify_consistency(old_size, size, proof, count, log->roots[old_size - 1],
						     log->roots[size]),
			 -EBADMSG);
}

static void every_consistency_proof_verifies_and_every_altered_one_fails(void **state)
{
	struct log log;

	log_build(&log, 40);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	for (uint64_t size = 1; size <= log.n; size++) {
		for (uint64_t old_size = 0; old_size <= size; old_size++) {
			hash_t proof[CDE_TLOG_MAX_PROOF];
			size_t count;

			assert_int_equal(cde_tlog_prove_consistency(&r, old_size, size, proof, &count), 0);
			assert_int_equal(verify_con(&log, old_size, size, proof, count), 0);
			altered_consistency_proofs_fail(&log, old_size, size, proof, count);
		}
	}
	log_release(&log);
}

static void from_zero_and_between_equal_sizes_the_consistency_proof_is_empty(void **state)
{
	struct log log;
	hash_t proof[CDE_TLOG_MAX_PROOF];
	size_t count = 99;

	log_build(&log, 5);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	assert_int_equal(cde_tlog_prove_consistency(&r, 0, 5, proof, &count), 0);
	assert_int_equal(count, 0);
	count = 99;
	assert_int_equal(cde_tlog_prove_consistency(&r, 3, 3, proof, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(cde_tlog_prove_consistency(&r, 0, 0, proof, &count), 0);
	/* Any tree extends the empty one, whose head is SHA-256(""). */
	assert_int_equal(verify_con(&log, 0, 5, proof, 0), 0);
	assert_int_equal(verify_con(&log, 0, 0, proof, 0), 0);
	assert_int_equal(cde_tlog_verify_consistency(0, 5, proof, 0, log.roots[1], log.roots[5]), -EBADMSG);
	/* Equal sizes: equal roots, nothing to show. */
	assert_int_equal(verify_con(&log, 3, 3, proof, 0), 0);
	assert_int_equal(cde_tlog_verify_consistency(3, 3, proof, 0, log.roots[3], log.roots[4]), -EBADMSG);
	memcpy(proof[0], log.roots[3], CDE_TLOG_HASH_LEN);
	assert_int_equal(verify_con(&log, 3, 3, proof, 1), -EBADMSG);
	assert_int_equal(verify_con(&log, 0, 5, proof, 1), -EBADMSG);
	/* Between different sizes an empty proof shows nothing (RFC 9162). */
	assert_int_equal(verify_con(&log, 2, 4, proof, 0), -EBADMSG);
	log_release(&log);
}

static void out_of_range_arguments_are_refused(void **state)
{
	struct log log;
	hash_t proof[CDE_TLOG_MAX_PROOF], h;
	size_t count = 99;
	struct cde_tlog_frontier f;

	log_build(&log, 5);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	assert_int_equal(cde_tlog_prove_inclusion(&r, 5, 5, proof, &count), -EINVAL);
	assert_int_equal(cde_tlog_prove_inclusion(&r, 0, 0, proof, &count), -EINVAL);
	assert_int_equal(cde_tlog_prove_consistency(&r, 4, 3, proof, &count), -EINVAL);
	assert_int_equal(count, 99);
	assert_int_equal(cde_tlog_prove_inclusion(&r, 0, CDE_TLOG_MAX_SIZE + 1, proof, &count), -EINVAL);
	assert_int_equal(cde_tlog_prove_consistency(&r, 1, UINT64_MAX, proof, &count), -EINVAL);
	assert_int_equal(cde_tlog_root(&r, CDE_TLOG_MAX_SIZE + 1, h), -EINVAL);
	assert_int_equal(cde_tlog_frontier_load(&f, UINT64_MAX, &r), -EINVAL);
	assert_int_equal(cde_tlog_verify_inclusion(log.leaves[0], 5, 5, proof, 0, log.roots[5]), -EINVAL);
	assert_int_equal(cde_tlog_verify_inclusion(log.leaves[0], 0, 0, proof, 0, log.roots[0]), -EINVAL);
	assert_int_equal(cde_tlog_verify_inclusion(log.leaves[0], 0, UINT64_MAX, proof, 0, h), -EINVAL);
	assert_int_equal(cde_tlog_verify_consistency(4, 3, proof, 0, log.roots[4], log.roots[3]), -EINVAL);
	assert_int_equal(cde_tlog_verify_consistency(1, UINT64_MAX, proof, 0, log.roots[1], h), -EINVAL);
	/* Hashes past the stored tree are not there. */
	assert_int_equal(cde_tlog_root(&r, 6, h), -ENOENT);
	assert_int_equal(cde_tlog_prove_inclusion(&r, 0, 6, proof, &count), -ENOENT);
	log_release(&log);
}

/* A reader that fails with -EIO after @left reads. */
struct failing {
	struct tlog_store *store;
	int left;
};

static int failing_read(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	struct failing *fr = ctx;

	return fr->left-- > 0 ? tlog_store_read(fr->store, level, index, out) : -EIO;
}

static void a_failed_read_is_passed_back_and_changes_nothing(void **state)
{
	struct log log;
	struct failing fr;
	struct cde_tlog_reader r = { .read = failing_read, .ctx = &fr };
	struct cde_tlog_frontier f;
	hash_t proof[CDE_TLOG_MAX_PROOF], h;
	size_t count = 99;

	log_build(&log, 23);
	fr.store = &log.store;
	for (int n = 0; n < 4; n++) { /* 23 = 10111b: four perfect subtrees */
		fr.left = n;
		cde_tlog_frontier_init(&f);
		assert_int_equal(cde_tlog_frontier_load(&f, 23, &r), -EIO);
		assert_int_equal(f.size, 0);
		fr.left = n;
		assert_int_equal(cde_tlog_root(&r, 23, h), -EIO);
	}
	fr.left = 1;
	assert_int_equal(cde_tlog_prove_inclusion(&r, 3, 23, proof, &count), -EIO);
	fr.left = 2;
	assert_int_equal(cde_tlog_prove_consistency(&r, 7, 23, proof, &count), -EIO);
	assert_int_equal(count, 99);
	log_release(&log);
}

/* An emit that fails on its @left-th call. */
static int failing_emit(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	int *left = ctx;

	return (*left)-- > 0 ? 0 : -ENOSPC;
}

static void a_failed_emit_leaves_the_frontier_unchanged(void **state)
{
	struct log log;
	struct cde_tlog_frontier f, before;

	log_build(&log, 16);
	/* Appending the 16th leaf emits 5 hashes: fail each in turn. */
	cde_tlog_frontier_init(&f);
	for (int i = 0; i < 15; i++) {
		int left = 10;

		assert_int_equal(cde_tlog_frontier_append(&f, log.leaves[i], failing_emit, &left), 0);
	}
	before = f;
	for (int fail_at = 0; fail_at < 5; fail_at++) {
		int left = fail_at;
		hash_t root;

		assert_int_equal(cde_tlog_frontier_append(&f, log.leaves[15], failing_emit, &left), -ENOSPC);
		assert_memory_equal(&f, &before, sizeof(f));
		assert_int_equal(cde_tlog_frontier_root(&f, root), 0);
		assert_memory_equal(root, log.roots[15], CDE_TLOG_HASH_LEN);
	}
	int left = 5;
	hash_t root;

	assert_int_equal(cde_tlog_frontier_append(&f, log.leaves[15], failing_emit, &left), 0);
	assert_int_equal(left, 0);
	assert_int_equal(cde_tlog_frontier_root(&f, root), 0);
	assert_memory_equal(root, log.roots[16], CDE_TLOG_HASH_LEN);
	log_release(&log);
}

/* A log of 2^63 equal leaves: its perfect subtree of level L is the same
 * hash wherever it stands, so stored hashes are computable on demand and
 * proofs at the largest sizes are real. Counts the reads. */
struct uniform {
	hash_t level[64];
	unsigned reads;
};

static int uniform_read(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	struct uniform *u = ctx;

	assert_true(level < 64);
	assert_true(index < CDE_TLOG_MAX_SIZE >> level);
	u->reads++;
	memcpy(out, u->level[level], CDE_TLOG_HASH_LEN);
	return 0;
}

static void proofs_in_trees_of_up_to_2_63_leaves_verify_in_few_reads(void **state)
{
	static const uint64_t top = CDE_TLOG_MAX_SIZE;
	static const uint64_t pairs[][2] = {
		{ 0, 1 }, { top - 1, top }, { top / 2, top }, { top / 2 - 1, top - 1 }, { 12345, top - 3 },
		{ top - 2, top - 1 }, { 1, top }, { (top / 3) | 1, top / 3 * 2 },
	};
	struct uniform u = { .reads = 0 };
	struct cde_tlog_reader r = { .read = uniform_read, .ctx = &u };
	struct cde_tlog_frontier f;

	assert_int_equal(cde_tlog_leaf_hash("x", 1, u.level[0]), 0);
	for (int l = 1; l < 64; l++)
		assert_int_equal(cde_tlog_node_hash(u.level[l - 1], u.level[l - 1], u.level[l]), 0);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint64_t a = pairs[i][0], size = pairs[i][1];
		hash_t proof[CDE_TLOG_MAX_PROOF], root, old_root;
		size_t count;

		assert_int_equal(cde_tlog_root(&r, size, root), 0);
		u.reads = 0;
		assert_int_equal(cde_tlog_prove_inclusion(&r, a, size, proof, &count), 0);
		assert_true(u.reads <= 2 * 63);
		assert_true(count <= 63);
		assert_int_equal(cde_tlog_verify_inclusion(u.level[0], a, size, proof, count, root), 0);
		if (count) {
			proof[count / 2][0] ^= 1;
			assert_int_equal(cde_tlog_verify_inclusion(u.level[0], a, size, proof, count, root), -EBADMSG);
		}

		assert_int_equal(cde_tlog_root(&r, a, old_root), 0);
		u.reads = 0;
		assert_int_equal(cde_tlog_prove_consistency(&r, a, size, proof, &count), 0);
		assert_true(u.reads <= 2 * 64);
		assert_true(count <= CDE_TLOG_MAX_PROOF);
		assert_int_equal(cde_tlog_verify_consistency(a, size, proof, count, old_root, root), 0);
		if (count) {
			proof[count - 1][31] ^= 0x10;
			assert_int_equal(cde_tlog_verify_consistency(a, size, proof, count, old_root, root), -EBADMSG);
		}
	}
	/* The frontier holds 2^63 leaves and no more. */
	assert_int_equal(cde_tlog_frontier_load(&f, top, &r), 0);
	assert_int_equal(cde_tlog_frontier_append(&f, u.level[0], failing_emit, &(int){ 64 }), -EOVERFLOW);
	assert_int_equal(f.size, top);
	assert_int_equal(cde_tlog_frontier_load(&f, top - 1, &r), 0);
	assert_int_equal(cde_tlog_frontier_append(&f, u.level[0], failing_emit, &(int){ 64 }), 0);
	hash_t a, b;

	assert_int_equal(cde_tlog_frontier_root(&f, a), 0);
	assert_int_equal(cde_tlog_root(&r, top, b), 0);
	assert_memory_equal(a, b, CDE_TLOG_HASH_LEN);
	assert_memory_equal(a, u.level[63], CDE_TLOG_HASH_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_frontier_loaded_from_stored_hashes_equals_the_appended_one),
		cmocka_unit_test(every_inclusion_proof_verifies_and_every_altered_one_fails),
		cmocka_unit_test(every_consistency_proof_verifies_and_every_altered_one_fails),
		cmocka_unit_test(from_zero_and_between_equal_sizes_the_consistency_proof_is_empty),
		cmocka_unit_test(out_of_range_arguments_are_refused),
		cmocka_unit_test(a_failed_read_is_passed_back_and_changes_nothing),
		cmocka_unit_test(a_failed_emit_leaves_the_frontier_unchanged),
		cmocka_unit_test(proofs_in_trees_of_up_to_2_63_leaves_verify_in_few_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
