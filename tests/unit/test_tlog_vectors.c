/* The Merkle tree (sinks/audit/tlog/merkle.h) against published vectors:
 * the reference test data of Certificate Transparency's C++
 * implementation (google/certificate-transparency, merkle_tree_test.cc), as
 * carried by transparency-dev/merkle at commit 417fb0c: the leaves, node
 * hashes and roots in testonly/constants.go; the inclusion and consistency
 * paths in cmd/proofgen/main.go (whose leaf indexes are 1-based; here they
 * are 0-based). Typed in as facts. */

#include "tests/unit/helpers.h"

#include "schemas/base/hex.h"
#include "sinks/audit/tlog/merkle.h"
#include "tests/helpers/tlog_store.h"

typedef uint8_t hash_t[CDE_TLOG_HASH_LEN];

static const char *const ref_leaves[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};

/* Node hashes by level: the 8 leaf hashes, then the complete subtrees. */
static const char *const ref_level0[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const ref_level1[4] = {
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
static const char *const ref_level2[2] = {
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};

/* Tree heads of the first 0..8 leaves. */
static const char *const ref_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ref_proof {
	uint64_t a, b; /* index and size, or old and new size */
	const char *path[3];
	size_t count;
};

static const struct ref_proof ref_inclusion[] = {
	{ 0, 1, { NULL }, 0 },
	{ 0, 8,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" },
	  3 },
	{ 5, 8,
	  { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
	  3 },
	{ 2, 3,
	  { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
	  1 },
	{ 1, 5,
	  { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" },
	  3 },
};

static const struct ref_proof ref_consistency[] = {
	{ 1, 1, { NULL }, 0 },
	{ 1, 8,
	  { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" },
	  3 },
	{ 6, 8,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
	  3 },
	{ 2, 5,
	  { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" },
	  2 },
	{ 6, 7,
	  { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
	  3 },
};

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(cde_hex_value(hex[2 * i]) << 4 | cde_hex_value(hex[2 * i + 1]));
	return n;
}

static void assert_hash(const uint8_t *got, const char *want_hex)
{
	hash_t want;

	assert_int_equal(unhex(want_hex, want), CDE_TLOG_HASH_LEN);
	assert_memory_equal(got, want, CDE_TLOG_HASH_LEN);
}

/* The reference log: its store and frontier after all 8 leaves, its roots. */
struct ref_log {
	struct tlog_store store;
	struct cde_tlog_frontier f;
	hash_t roots[9];
};

static void ref_log_build(struct ref_log *log)
{
	uint8_t entry[16];

	memset(log, 0, sizeof(*log));
	cde_tlog_frontier_init(&log->f);
	assert_int_equal(cde_tlog_frontier_root(&log->f, log->roots[0]), 0);
	for (int i = 0; i < 8; i++) {
		hash_t leaf;

		assert_int_equal(cde_tlog_leaf_hash(entry, unhex(ref_leaves[i], entry), leaf), 0);
		assert_int_equal(cde_tlog_frontier_append(&log->f, leaf, tlog_store_emit, &log->store), 0);
		assert_int_equal(cde_tlog_frontier_root(&log->f, log->roots[i + 1]), 0);
	}
}

static void leaf_and_node_hashes_match_the_reference_vectors(void **state)
{
	uint8_t entry[16];
	hash_t h;

	for (int i = 0; i < 8; i++) {
		assert_int_equal(cde_tlog_leaf_hash(entry, unhex(ref_leaves[i], entry), h), 0);
		assert_hash(h, ref_level0[i]);
	}
	for (int i = 0; i < 4; i++) {
		hash_t l, r;

		unhex(ref_level0[2 * i], l);
		unhex(ref_level0[2 * i + 1], r);
		assert_int_equal(cde_tlog_node_hash(l, r, h), 0);
		assert_hash(h, ref_level1[i]);
	}
	/* The stored hashes are exactly the reference's complete subtrees. */
	struct ref_log log;

	ref_log_build(&log);
	assert_int_equal(log.store.len[0], 8);
	assert_int_equal(log.store.len[1], 4);
	assert_int_equal(log.store.len[2], 2);
	assert_int_equal(log.store.len[3], 1);
	for (int i = 0; i < 8; i++)
		assert_hash(log.store.level[0][i], ref_level0[i]);
	for (int i = 0; i < 4; i++)
		assert_hash(log.store.level[1][i], ref_level1[i]);
	assert_hash(log.store.level[2][1], ref_level2[1]);
	tlog_store_release(&log.store);
}

static void roots_of_sizes_0_to_8_match_the_reference_vectors(void **state)
{
	struct ref_log log;

	ref_log_build(&log);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	for (uint64_t size = 0; size <= 8; size++) {
		hash_t h;

		assert_hash(log.roots[size], ref_roots[size]);
		assert_int_equal(cde_tlog_root(&r, size, h), 0);
		assert_hash(h, ref_roots[size]);
	}
	tlog_store_release(&log.store);
}

static void check_ref_proofs(const struct ref_proof *vectors, size_t n, bool inclusion)
{
	struct ref_log log;

	ref_log_build(&log);
	struct cde_tlog_reader r = tlog_store_reader(&log.store);

	for (size_t v = 0; v < n; v++) {
		const struct ref_proof *p = &vectors[v];
		hash_t proof[CDE_TLOG_MAX_PROOF];
		size_t count = 99;

		if (inclusion)
			assert_int_equal(cde_tlog_prove_inclusion(&r, p->a, p->b, proof, &count), 0);
		else
			assert_int_equal(cde_tlog_prove_consistency(&r, p->a, p->b, proof, &count), 0);
		assert_int_equal(count, p->count);
		for (size_t i = 0; i < count; i++)
			assert_hash(proof[i], p->path[i]);
		if (inclusion)
			assert_int_equal(cde_tlog_verify_inclusion(log.store.level[0][p->a], p->a, p->b, proof, count,
								   log.roots[p->b]),
					 0);
		else
			assert_int_equal(cde_tlog_verify_consistency(p->a, p->b, proof, count, log.roots[p->a],
								     log.roots[p->b]),
					 0);
	}
	tlog_store_release(&log.store);
}

static void inclusion_proofs_match_the_reference_paths(void **state)
{
	check_ref_proofs(ref_inclusion, sizeof(ref_inclusion) / sizeof(ref_inclusion[0]), true);
}

static void consistency_proofs_match_the_reference_paths(void **state)
{
	check_ref_proofs(ref_consistency, sizeof(ref_consistency) / sizeof(ref_consistency[0]), false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leaf_and_node_hashes_match_the_reference_vectors),
		cmocka_unit_test(roots_of_sizes_0_to_8_match_the_reference_vectors),
		cmocka_unit_test(inclusion_proofs_match_the_reference_paths),
		cmocka_unit_test(consistency_proofs_match_the_reference_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
