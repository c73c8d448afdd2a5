/* Retention and the Merkle tree: deleting a prefix of the rows leaves the
 * tree whole (its stored hashes are never deleted), so the tree's size and
 * roots stay; the rows kept still prove their inclusion against
 * checkpoints signed before and after; consistency proofs from
 * checkpoints taken before retention still link them to later ones; a
 * receipt handed out before still verifies; and a deleted seq gets no new
 * proof, with a reason that says why. Also what evidence bundles carry of
 * the tree: a receipt per event the latest checkpoint covers, the rest
 * said to be newer, and a check with the public key alone. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_signed.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/sql.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"

static struct cde_catalog *cat;
static struct cde_note_verifier *verifier;

/* Stores one event (ids "r-1", "r-2", ... in order of @n). */
static void store_one(struct cde_audit_store *s, int n)
{
	struct cde_journal_entry e = { .principal = "tekton", .peer = "10.0.0.7:5000" };
	char err[256], id[32];

	snprintf(id, sizeof(id), "r-%d", n);
	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.pipelinerun.finished.0.2.0", "/ci",
				       "run", &e.event), 0);
	assert_int_equal(cde_event_set_id(e.event, id), 0);
	snprintf(e.received_at, sizeof(e.received_at), "2026-12-07T07:00:00.000000Z");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	cde_event_unref(e.event);
}

/* A store of @n events, signed by a fresh key (verifier kept), with a
 * signed checkpoint after each size in @marks (ascending, 0-ended). */
static struct cde_audit_store *signed_store(const char *path, int n, const int *marks)
{
	struct cde_note_signer *signer = NULL;
	struct cde_audit_store *s;
	char *skey = NULL, *vkey = NULL, err[256];

	unlink(path);
	assert_int_equal(cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_note_keygen("retention.example/log", &skey, &vkey), 0);
	assert_int_equal(cde_note_signer_parse(skey, &signer, err, sizeof(err)), 0);
	assert_int_equal(cde_note_verifier_parse(vkey, &verifier, err, sizeof(err)), 0);
	free(skey);
	free(vkey);
	assert_int_equal(cde_audit_store_set_signer(s, signer, 1000, err, sizeof(err)), 0);
	for (int i = 1; i <= n; i++) {
		store_one(s, i);
		if (*marks == i) {
			assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);
			free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
			marks++;
		}
	}
	return s;
}

/* The root that the signed checkpoint of @size names. */
static void signed_root(sqlite3 *db, uint64_t size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint64_t got = 0;
	char *note = NULL, origin[128], err[256];

	assert_int_equal(cde_audit_checkpoint_covering(db, size, &got, &note), 0);
	assert_int_equal(got, size);
	assert_int_equal(cde_audit_checkpoint_open(note, &verifier, 1, &got, root, origin, sizeof(origin), err,
						   sizeof(err)), 0);
	free(note);
}

static bool receipt_verifies(sqlite3 *db, uint64_t seq, uint64_t size)
{
	struct cde_audit_receipt_check check;
	cJSON *receipt = NULL;
	char err[256];
	int r = cde_audit_proof_inclusion(db, seq, size, &receipt, err, sizeof(err));

	if (r == 0)
		r = cde_audit_receipt_verify(receipt, &verifier, 1, &check);
	cJSON_Delete(receipt);
	return r == 0;
}

static bool consistent(sqlite3 *db, uint64_t from, uint64_t to)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN], a[CDE_TLOG_HASH_LEN], b[CDE_TLOG_HASH_LEN];
	cJSON *out = NULL, *h;
	size_t n = 0;
	char err[256];
	bool ok;

	assert_int_equal(cde_audit_proof_consistency(db, from, to, &out, err, sizeof(err)), 0);
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(out, "consistencyProof")) {
		uint8_t buf[48]; /* decoding writes up to len / 4 * 3 bytes */

		assert_int_equal(cde_b64_decode(buf, h->valuestring, strlen(h->valuestring)), 32);
		memcpy(proof[n++], buf, 32);
	}
	cJSON_Delete(out);
	signed_root(db, from, a);
	signed_root(db, to, b);
	ok = cde_tlog_verify_consistency(from, to, (const uint8_t (*)[CDE_TLOG_HASH_LEN])proof, n, a, b) == 0;
	return ok;
}

static void a_pruned_prefix_stays_in_the_tree_and_its_proofs_hold(void **state)
{
	char path[64], err[256];
	const int marks[] = { 3, 10, 0 };
	struct cde_audit_retention policy = { .max_age_s = 1, .keep_from = 5 };
	struct cde_audit_retention_run run;
	struct cde_audit_receipt_check check;
	struct cde_audit_verify v;
	struct cde_audit_store *s;
	cJSON *early = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "/tmp/cde-tree-retention-%d.db", (int)getpid());
	s = signed_store(path, 10, marks);
	db = cde_audit_store_db(s);
	/* A receipt handed out for seq 2 before retention. */
	assert_int_equal(cde_audit_proof_inclusion(db, 2, 10, &early, err, sizeof(err)), 0);
	/* The 10 leaf hashes are in their rows, none in a tile. */
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM events WHERE length(leaf_hash) = 32", NULL, -1), 10);
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM tree_tiles", NULL, -1), 0);

	/* Everything is too old; seq 5 and later are kept. */
	assert_int_equal(cde_audit_retain(s, &policy, 2000000000, &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 4);
	assert_int_equal(run.through_seq, 4);
	assert_int_equal(cde_audit_store_tree_size(s), 10);
	/* The rows deleted had their tile written first: the tile of leaves
	 * 0 to 15, with the 10 hashes there are. */
	assert_int_equal(cde_sql_int(db, "SELECT sum(length(hashes)) FROM tree_tiles WHERE tile_level = 0", NULL, -1),
			 10 * CDE_TLOG_HASH_LEN);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);

	/* The log goes on: two more events and a new checkpoint. */
	store_one(s, 11);
	store_one(s, 12);
	assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);
	free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	for (uint64_t seq = 5; seq <= 10; seq++) {
		assert_true(receipt_verifies(db, seq, 10));	/* signed before retention */
		assert_true(receipt_verifies(db, seq, 12));	/* and after */
	}
	assert_true(consistent(db, 3, 10));
	assert_true(consistent(db, 3, 12));
	assert_true(consistent(db, 10, 12));

	/* The receipt from before still verifies: its leaf is in the tree. */
	assert_int_equal(cde_audit_receipt_verify(early, &verifier, 1, &check), 0);
	cJSON_Delete(early);
	early = NULL;
	/* A deleted seq gets no new proof: the entry is gone. */
	assert_int_equal(cde_audit_proof_inclusion(db, 2, 10, &early, err, sizeof(err)), -ENOENT);
	assert_null(early);
	assert_non_null(strstr(err, "deleted by retention"));
	assert_non_null(strstr(err, "receipt"));

	cde_audit_store_close(s);
	verifier = cde_note_verifier_free(verifier);
	unlink(path);
}

/* Runs of retention that end inside a tile of leaves, one after the
 * other: each keeps the hashes of the rows it deletes in their tiles
 * (the rest of a tile stays in its rows), so every row kept still proves
 * itself, and every checkpoint is still consistent with the head. */
static void runs_that_end_inside_a_tile_keep_every_proof(void **state)
{
	char path[64], err[256];
	const int marks[] = { 9, 20, 40, 0 };
	struct cde_audit_retention policy = { .max_age_s = 1 };
	struct cde_audit_retention_run run;
	struct cde_audit_tree_check c;
	struct cde_audit_verify v;
	struct cde_audit_store *s;
	sqlite3 *db;

	snprintf(path, sizeof(path), "/tmp/cde-tree-retention-runs-%d.db", (int)getpid());
	s = signed_store(path, 40, marks);
	db = cde_audit_store_db(s);
	for (int through = 20; through <= 35; through += 15) {
		policy.keep_from = (uint64_t)through + 1;
		assert_int_equal(cde_audit_retain(s, &policy, 2000000000, &run, err, sizeof(err)), 0);
		assert_int_equal(run.through_seq, through);
		assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
		for (uint64_t seq = (uint64_t)through + 1; seq <= 40; seq++)
			assert_true(receipt_verifies(db, seq, 40));
		assert_true(consistent(db, 9, 40));
		assert_true(consistent(db, 20, 40));
	}
	/* Leaves 0 to 34 were deleted: tiles 0 and 1 were written whole (all
	 * their rows were there), tile 2 with the 8 hashes its rows had at
	 * the second run (leaves 32 to 39; the tree has 40). */
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM tree_tiles WHERE tile_level = 0", NULL, -1), 3);
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM tree_tiles WHERE tile_level = 0 AND"
				     " (idx, length(hashes)) IN (VALUES (0, 512), (1, 512), (2, 256))", NULL, -1), 3);
	/* And the tile above them, partial (the writer stores it once full):
	 * a kept leaf hash edited disagrees with it. Derived from the kept
	 * hashes instead, it would agree with the edit (review 5, #1). */
	assert_int_equal(cde_sql_int(db, "SELECT length(hashes) FROM tree_tiles WHERE tile_level = 1 AND idx = 0",
				     NULL, -1), 64);
	assert_int_equal(sqlite3_exec(db, "UPDATE tree_tiles SET hashes = substr(hashes, 1, 32 * 4) || zeroblob(32)"
				      " || substr(hashes, 32 * 5 + 1) WHERE tile_level = 0 AND idx = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(cde_audit_tree_self_check(db, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
	assert_int_equal(c.bad_index, 0);	/* the stored subtree of leaves 0 to 31 */
	cde_audit_store_close(s);
	verifier = cde_note_verifier_free(verifier);
	unlink(path);
}

/* Verifies the bundle text @text with the test's key. */
static int verify_text(const char *text, struct cde_audit_verify *v, struct cde_audit_bundle_proofs *p)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = cde_audit_bundle_verify_signed(f, &verifier, 1, v, p);
	fclose(f);
	return r;
}

/* @text without its line that starts with @prefix (one of them). */
static char *drop_line(const char *text, const char *prefix)
{
	char *copy = strdup(text), *at = strstr(copy, prefix), *end;

	assert_non_null(at);
	end = strchr(at, '\n');
	memmove(at, end + 1, strlen(end + 1) + 1);
	return copy;
}

static void a_bundle_proves_what_the_checkpoint_covers_and_names_the_rest(void **state)
{
	const int marks[] = { 5, 0 };
	struct cde_audit_bundle_proofs p;
	struct cde_audit_verify v;
	struct cde_audit_store *s;
	char path[64], *text = NULL, *cut;
	size_t len = 0;
	FILE *out;

	snprintf(path, sizeof(path), "/tmp/cde-tree-bundle-%d.db", (int)getpid());
	s = signed_store(path, 7, marks);
	out = open_memstream(&text, &len);
	assert_int_equal(cde_audit_export(s, NULL, NULL, out), 7);
	fclose(out);
	assert_int_equal(verify_text(text, &v, &p), 0);
	assert_int_equal(p.proven, 5);
	assert_int_equal(p.unproven, 2);
	assert_int_equal(p.tree_size, 5);
	assert_string_equal(p.origin, "retention.example/log");
	assert_non_null(strstr(text, "{\"unproven\":{\"seq\":6,\"reason\":\"newer than the latest signed checkpoint"));

	/* A receipt left out: that event is neither proven nor said newer. */
	cut = drop_line(text, "{\"inclusion\":{\"seq\":3,");
	assert_int_equal(verify_text(cut, &v, &p), -EBADMSG);
	assert_int_equal(v.bad_seq, 3);
	assert_non_null(strstr(v.reason, "no inclusion proof"));
	free(cut);
	/* A receipt swapped for "newer": yet a later event is in the tree. */
	cut = drop_line(text, "{\"inclusion\":{\"seq\":4,");
	{
		char *more = malloc(strlen(cut) + 64);

		assert_non_null(more);
		sprintf(more, "%s{\"unproven\":{\"seq\":4,\"reason\":\"new\"}}\n", cut);
		assert_int_equal(verify_text(more, &v, &p), -EBADMSG);
		assert_int_equal(v.bad_seq, 4);
		assert_non_null(strstr(v.reason, "a later record is in it"));
		free(more);
	}
	free(cut);
	/* The signed checkpoint left out: no receipt has one to match. */
	cut = drop_line(text, "{\"treeCheckpoint\":");
	assert_int_equal(verify_text(cut, &v, &p), -EBADMSG);
	assert_int_equal(v.bad_seq, 1);
	free(cut);
	/* The bundle's own chain checker passes the proof lines over. */
	{
		FILE *f = fmemopen(text, len, "r");

		assert_int_equal(cde_audit_bundle_verify(f, NULL, 0, 0, &v), 0);
		assert_int_equal(v.rows, 7);
		fclose(f);
	}
	free(text);
	cde_audit_store_close(s);
	verifier = cde_note_verifier_free(verifier);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_pruned_prefix_stays_in_the_tree_and_its_proofs_hold),
		cmocka_unit_test(runs_that_end_inside_a_tile_keep_every_proof),
		cmocka_unit_test(a_bundle_proves_what_the_checkpoint_covers_and_names_the_rest),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cde_catalog_free(cat);
	return r;
}
