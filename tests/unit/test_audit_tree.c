/* The audit store's Merkle tree: every stored event is a leaf, in the
 * order stored, hashed from its JCS entry; the tree kept on disk is the
 * one recomputed from the rows; a restart continues it without rehashing;
 * a batch rolled back leaves it as it was; an older log gets its rows as
 * leaves on upgrade; and signed checkpoints name the tree's real head. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_proof_sqlite.h"
#include "sinks/audit/audit_signed.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"

static struct cde_catalog *cat;
static char db_path[64];

static struct cde_event *event(const char *id)
{
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0", "/ci", "svc",
				       &ev), 0);
	assert_int_equal(cde_event_set_id(ev, id), 0);
	assert_int_equal(cde_event_set_chain_id(ev, "release-1"), 0);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cde_event_content(ev), "environment"), "id", "prod");
	cJSON_AddStringToObject(cde_event_content(ev), "artifactId", "pkg:oci/etl@1");
	return ev;
}

/* Appends events id-FIRST .. id-(FIRST+N-1) in one group. */
static void append(struct cde_audit_store *s, int first, int n)
{
	struct cde_journal_entry e[16];
	char err[256], id[32];

	assert_true(n <= 16);
	for (int i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		snprintf(id, sizeof(id), "id-%d", first + i);
		e[i].event = event(id);
		e[i].principal = "jenkins";
		e[i].peer = "127.0.0.1:4242";
		snprintf(e[i].received_at, sizeof(e[i].received_at), "2026-12-07T06:00:00.000000Z");
	}
	assert_int_equal(cde_audit_store_append(s, e, (size_t)n, err, sizeof(err)), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(e[i].leaf, (uint64_t)(first + i - 1));
		cde_event_unref(e[i].event);
	}
}

static struct cde_audit_store *open_store(bool fresh)
{
	struct cde_audit_store *s;
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-tree-%d.db", (int)getpid());
	if (fresh) {
		char other[80];

		unlink(db_path);
		snprintf(other, sizeof(other), "%s-wal", db_path);
		unlink(other);
		snprintf(other, sizeof(other), "%s-head", db_path);
		unlink(other);
	}
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	return s;
}

static int keep_nothing(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	return 0;
}

/* The tree head recomputed from the rows alone: each row's entry, leaf
 * by leaf, in a fresh frontier. */
static void root_from_rows(sqlite3 *db, uint64_t *size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	struct cde_tlog_frontier f;
	sqlite3_stmt *st;

	cde_tlog_frontier_init(&f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, received_at, principal, peer, event, leaf FROM events"
					    " ORDER BY leaf", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cde_audit_row row = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.received_at = (const char *)sqlite3_column_text(st, 1),
			.principal = (const char *)sqlite3_column_text(st, 2),
			.peer = (const char *)sqlite3_column_text(st, 3),
			.event = (const char *)sqlite3_column_text(st, 4),
		};
		uint8_t leaf[CDE_TLOG_HASH_LEN];

		assert_int_equal((uint64_t)sqlite3_column_int64(st, 5), f.size);
		assert_int_equal(cde_audit_tree_leaf(&row, leaf), 0);
		assert_int_equal(cde_tlog_frontier_append(&f, leaf, keep_nothing, NULL), 0);
	}
	sqlite3_finalize(st);
	*size = f.size;
	assert_int_equal(cde_tlog_frontier_root(&f, root), 0);
}

static void stored_root(sqlite3 *db, uint64_t size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tree_reader r;

	assert_int_equal(cde_audit_tree_reader_init(&r, db), 0);
	assert_int_equal(cde_tlog_root(&r.tlog, size, root), 0);
	cde_audit_tree_reader_release(&r);
}

static void an_entry_is_the_jcs_of_the_event_and_its_row(void **state)
{
	struct cde_audit_row row = {
		.seq = 7,
		.received_at = "2026-12-07T06:00:00Z",
		.principal = "jenkins",
		.peer = "10.0.0.1",
		.event = "{\"subject\": {\"id\": \"x\"}, \"context\": {\"version\": \"0.5.1\", \"n\": 1.50}}",
	};
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(cde_audit_tree_entry(&row, &text, &len), 0);
	assert_string_equal(text, "{\"event\":{\"context\":{\"n\":1.5,\"version\":\"0.5.1\"},\"subject\":{\"id\":\"x\"}},"
				  "\"peer\":\"10.0.0.1\",\"principal\":\"jenkins\",\"receivedAt\":\"2026-12-07T06:00:00Z\","
				  "\"seq\":7}");
	assert_int_equal(len, strlen(text));
	free(text);
	/* Text the strict parser refuses (an older row with a key twice) is
	 * committed to as it is, as a string. */
	row.event = "{\"a\": 1, \"a\": 2}";
	assert_int_equal(cde_audit_tree_entry(&row, &text, &len), 0);
	assert_string_equal(text, "{\"eventText\":\"{\\\"a\\\": 1, \\\"a\\\": 2}\",\"peer\":\"10.0.0.1\","
				  "\"principal\":\"jenkins\",\"receivedAt\":\"2026-12-07T06:00:00Z\",\"seq\":7}");
	free(text);
	row.event = "\xff";
	assert_int_equal(cde_audit_tree_entry(&row, &text, &len), -EINVAL);
}

static void the_stored_tree_is_the_tree_of_the_rows(void **state)
{
	struct cde_audit_store *s = open_store(true);
	uint8_t a[CDE_TLOG_HASH_LEN], b[CDE_TLOG_HASH_LEN];
	uint64_t size;

	append(s, 1, 5);
	append(s, 6, 8);
	assert_int_equal(cde_audit_store_tree_size(s), 13);
	root_from_rows(cde_audit_store_db(s), &size, a);
	assert_int_equal(size, 13);
	stored_root(cde_audit_store_db(s), 13, b);
	assert_memory_equal(a, b, CDE_TLOG_HASH_LEN);
	assert_int_equal(cde_audit_tree_size(cde_audit_store_db(s)), 13);
	cde_audit_store_close(s);
}

static void a_restart_continues_the_tree_where_it_stood(void **state)
{
	struct cde_audit_store *s = open_store(true);
	uint8_t a[CDE_TLOG_HASH_LEN], b[CDE_TLOG_HASH_LEN];
	uint64_t size;

	append(s, 1, 7);
	cde_audit_store_close(s);
	s = open_store(false);
	assert_int_equal(cde_audit_store_tree_size(s), 7);
	append(s, 8, 6);
	root_from_rows(cde_audit_store_db(s), &size, a);
	stored_root(cde_audit_store_db(s), 13, b);
	assert_int_equal(size, 13);
	assert_memory_equal(a, b, CDE_TLOG_HASH_LEN);
	cde_audit_store_close(s);
}

static void duplicates_and_rolled_back_groups_add_no_leaf(void **state)
{
	struct cde_audit_store *s = open_store(true);
	struct cde_journal_entry e[2];
	char err[256];

	append(s, 1, 3);
	/* A re-send of id-2: a duplicate, no new leaf. */
	memset(e, 0, sizeof(e));
	e[0].event = event("id-2");
	e[0].principal = "jenkins";
	e[0].peer = "127.0.0.1:4242";
	snprintf(e[0].received_at, sizeof(e[0].received_at), "2026-12-07T06:00:00.000000Z");
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	assert_true(e[0].duplicate);
	assert_true(e[0].has_leaf);	/* its receipt is the stored event's */
	assert_int_equal(e[0].leaf, 1);
	cde_event_unref(e[0].event);
	assert_int_equal(cde_audit_store_tree_size(s), 3);
	/* id-4 stored with what its producer sent (the digest), as leaf 3. */
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 2; i++) {
		e[i].principal = "jenkins";
		e[i].peer = "127.0.0.1:4242";
		e[i].has_digest = true;
		memset(e[i].digest, 0x5a, sizeof(e[i].digest));
	}
	e[0].event = event("id-4");
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	assert_int_equal(e[0].leaf, 3);
	cde_event_unref(e[0].event);
	/* A batch with a clash (id-4 again, other content) is kept out as a
	 * whole, its new event's leaf with it. */
	e[0].event = event("id-8");
	e[1].event = event("id-4");
	e[1].digest[0] = 0x5b;
	assert_int_equal(cde_audit_store_append(s, e, 2, err, sizeof(err)), 0);
	assert_true(e[1].conflict);
	assert_false(e[0].has_leaf);
	assert_int_equal(e[0].seq, 0);
	cde_event_unref(e[0].event);
	cde_event_unref(e[1].event);
	assert_int_equal(cde_audit_store_tree_size(s), 4);
	/* A group begun, added to and rolled back. */
	assert_int_equal(cde_audit_store_begin(s, err, sizeof(err)), 0);
	e[0].event = event("id-9");
	e[0].duplicate = false;
	assert_int_equal(cde_audit_store_add(s, e, 1, err, sizeof(err)), 0);
	cde_audit_store_rollback(s);
	cde_event_unref(e[0].event);
	/* The next event is leaf 4 (append() checks), as if nothing happened. */
	append(s, 5, 1);
	cde_audit_store_close(s);
}

static struct cde_note_signer *test_signer(struct cde_note_verifier **ret_verifier)
{
	struct cde_note_signer *signer = NULL;
	char *skey = NULL, *vkey = NULL, err[128];

	assert_int_equal(cde_note_keygen("audit.example/log", &skey, &vkey), 0);
	assert_int_equal(cde_note_signer_parse(skey, &signer, err, sizeof(err)), 0);
	assert_int_equal(cde_note_verifier_parse(vkey, ret_verifier, err, sizeof(err)), 0);
	free(skey);
	free(vkey);
	return signer;
}

/* Opens @note with @v and checks it names @size and the stored head. */
static void check_note(sqlite3 *db, const char *note, struct cde_note_verifier *v, uint64_t size)
{
	struct cde_checkpoint cp;
	struct cde_errors errs;
	uint8_t root[CDE_TLOG_HASH_LEN];
	char *text = NULL, err[128];
	size_t len;

	assert_int_equal(cde_note_open(note, strlen(note), &v, 1, &text, &len, NULL, err, sizeof(err)), 0);
	cde_errors_reset(&errs);
	assert_int_equal(cde_checkpoint_parse(text, len, &cp, &errs), 0);
	assert_string_equal(cp.origin, "audit.example/log");
	assert_int_equal(cp.size, size);
	stored_root(db, size, root);
	assert_memory_equal(cp.root, root, CDE_TLOG_HASH_LEN);
	cde_checkpoint_release(&cp);
	free(text);
}

static void checkpoints_are_signed_every_n_entries_and_on_request(void **state)
{
	struct cde_note_verifier *v = NULL;
	struct cde_audit_store *s = open_store(true);
	sqlite3 *db = cde_audit_store_db(s);
	char *note, err[256];
	uint64_t size = 0;

	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 4, err, sizeof(err)), 0);
	append(s, 1, 3);
	assert_null(cde_audit_store_take_checkpoint(s, &size));		/* 3 < 4 */
	append(s, 4, 2);
	note = cde_audit_store_take_checkpoint(s, &size);		/* the commit that passed 4 */
	assert_non_null(note);
	assert_int_equal(size, 5);
	check_note(db, note, v, 5);
	free(note);
	assert_int_equal(cde_audit_store_signed_size(s), 5);
	append(s, 6, 1);
	assert_null(cde_audit_store_take_checkpoint(s, &size));
	assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);	/* the timer's */
	note = cde_audit_store_take_checkpoint(s, &size);
	assert_int_equal(size, 6);
	check_note(db, note, v, 6);
	free(note);
	/* Nothing new: nothing signed. */
	assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);
	assert_null(cde_audit_store_take_checkpoint(s, &size));
	/* What is stored is what was handed out, the latest first. */
	assert_int_equal(cde_audit_checkpoint_latest(db, &size, &note), 0);
	assert_int_equal(size, 6);
	check_note(db, note, v, 6);
	free(note);
	assert_int_equal(cde_audit_checkpoint_covering(db, 2, &size, &note), 0);
	assert_int_equal(size, 5);
	free(note);
	cde_audit_store_close(s);
	/* A restart knows the last checkpoint: no new one for old entries. */
	s = open_store(false);
	cde_note_verifier_free(v);
	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 4, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_signed_size(s), 6);
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
}


static void flip_first_hash(cJSON *receipt)
{
	cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(receipt, "inclusionProof"), 0);
	char *b64 = first->valuestring;

	b64[0] = b64[0] == 'A' ? 'B' : 'A';
}

static void a_receipt_proves_an_entry_with_the_public_key_alone(void **state)
{
	struct cde_note_verifier *v = NULL, *stranger = NULL;
	struct cde_audit_store *s = open_store(true);
	sqlite3 *db = cde_audit_store_db(s);
	struct cde_audit_receipt_check check;
	cJSON *receipt = NULL, *copy;
	char err[256];

	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 100, err, sizeof(err)), 0);
	cde_note_signer_free(test_signer(&stranger));
	append(s, 1, 9);
	assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);
	free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	assert_int_equal(cde_audit_proof_inclusion(db, 4, 0, &receipt, err, sizeof(err)), 0);
	assert_int_equal(cJSON_GetObjectItem(receipt, "leafIndex")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(receipt, "treeSize")->valueint, 9);
	assert_int_equal(cde_audit_receipt_verify(receipt, &v, 1, &check), 0);
	assert_int_equal(check.leaf_index, 3);
	assert_string_equal(check.origin, "audit.example/log");
	/* Another key: not this log's receipt. */
	assert_int_equal(cde_audit_receipt_verify(receipt, &stranger, 1, &check), -EBADMSG);
	/* A hash of the proof changed. */
	copy = cJSON_Duplicate(receipt, true);
	flip_first_hash(copy);
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EBADMSG);
	cJSON_Delete(copy);
	/* The entry swapped for another event's. */
	copy = cJSON_Duplicate(receipt, true);
	cJSON_ReplaceItemInObject(copy, "entry", cJSON_CreateString("{\"event\":{}}"));
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EBADMSG);
	assert_string_equal(check.reason, "entry does not hash to leafHash");
	cJSON_Delete(copy);
	/* A receipt without its entry, or naming another event. */
	copy = cJSON_Duplicate(receipt, true);
	cJSON_DeleteItemFromObject(copy, "entry");
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EINVAL);
	cJSON_Delete(copy);
	copy = cJSON_Duplicate(receipt, true);
	cJSON_ReplaceItemInObject(copy, "id", cJSON_CreateString("id-5"));
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EBADMSG);
	assert_string_equal(check.reason, "id and source are not the entry's event's");
	cJSON_Delete(copy);
	copy = cJSON_Duplicate(receipt, true);
	cJSON_ReplaceItemInObject(copy, "seq", cJSON_CreateNumber(5));
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EBADMSG);
	cJSON_Delete(copy);
	/* Not a receipt at all: each field named. */
	copy = cJSON_Duplicate(receipt, true);
	cJSON_DeleteItemFromObject(copy, "checkpoint");
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EINVAL);
	cJSON_ReplaceItemInObject(receipt, "treeSize", cJSON_CreateNumber(1.5));
	cJSON_AddStringToObject(copy, "checkpoint", "x");
	cJSON_ReplaceItemInObject(copy, "leafHash", cJSON_CreateString("not base64"));
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EINVAL);
	assert_string_equal(check.reason, "leafHash must be a base64 SHA-256 hash");
	cJSON_Delete(copy);
	copy = cJSON_Duplicate(receipt, true);
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EINVAL);
	assert_string_equal(check.reason, "leafIndex and treeSize must be whole numbers");
	cJSON_Delete(copy);
	cJSON_ReplaceItemInObject(receipt, "treeSize", cJSON_CreateNumber(9));
	/* Another index claimed for the same proof. */
	copy = cJSON_Duplicate(receipt, true);
	cJSON_ReplaceItemInObject(copy, "leafIndex", cJSON_CreateNumber(2));
	assert_int_equal(cde_audit_receipt_verify(copy, &v, 1, &check), -EBADMSG);
	cJSON_Delete(copy);
	cJSON_Delete(receipt);
	/* Beyond the checkpoint, a seq gets no proof of that size. */
	append(s, 10, 1);
	assert_int_equal(cde_audit_proof_inclusion(db, 10, 0, &receipt, err, sizeof(err)), -ERANGE);
	assert_int_equal(cde_audit_proof_inclusion(db, 10, 10, &receipt, err, sizeof(err)), 0);
	assert_null(cJSON_GetObjectItem(receipt, "checkpoint")); /* none of size 10 */
	cJSON_Delete(receipt);
	/* A row edited afterwards no longer hashes to its leaf: no proof. */
	assert_int_equal(sqlite3_exec(db, "UPDATE events SET peer = 'elsewhere' WHERE seq = 2", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(cde_audit_proof_inclusion(db, 2, 0, &receipt, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "does not hash to its leaf"));
	/* Bytes a lenient parser would skip are an alteration too. */
	assert_int_equal(sqlite3_exec(db, "UPDATE events SET event = event || ' junk' WHERE seq = 3", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(cde_audit_proof_inclusion(db, 3, 0, &receipt, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "the row was altered"));
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
	cde_note_verifier_free(stranger);
}

/* JCS writes 1e20 as 100000000000000000000 (an integer past I-JSON's
 * 2^53, which /v1/events refuses in that spelling): the receipt of such
 * an event still holds. Found by the tlog fuzz target. */
static void a_receipt_holds_for_an_event_with_a_large_number(void **state)
{
	struct cde_note_verifier *v = NULL;
	struct cde_audit_store *s = open_store(true);
	struct cde_audit_receipt_check check;
	struct cde_journal_entry e;
	cJSON *receipt = NULL;
	char err[256];

	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 1, err, sizeof(err)), 0);
	memset(&e, 0, sizeof(e));
	e.event = event("id-big");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cde_event_json_mut(e.event), "customData"), "big", 1e20);
	e.principal = "jenkins";
	e.peer = "127.0.0.1";
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	cde_event_unref(e.event);
	free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	assert_int_equal(cde_audit_proof_inclusion(cde_audit_store_db(s), 1, 0, &receipt, err, sizeof(err)), 0);
	assert_non_null(strstr(cJSON_GetObjectItem(receipt, "entry")->valuestring, "100000000000000000000"));
	assert_int_equal(cde_audit_receipt_verify(receipt, &v, 1, &check), 0);
	cJSON_Delete(receipt);
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
}

static void consistency_proofs_link_any_two_sizes(void **state)
{
	struct cde_audit_store *s = open_store(true);
	sqlite3 *db = cde_audit_store_db(s);
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN], a[CDE_TLOG_HASH_LEN], b[CDE_TLOG_HASH_LEN];
	cJSON *out = NULL, *h;
	char err[256];

	append(s, 1, 11);
	for (uint64_t from = 0; from <= 11; from++) {
		size_t n = 0;

		assert_int_equal(cde_audit_proof_consistency(db, from, 11, &out, err, sizeof(err)), 0);
		cJSON_ArrayForEach(h, cJSON_GetObjectItem(out, "consistencyProof")) {
			uint8_t buf[48]; /* decoding writes up to len / 4 * 3 bytes */

			assert_int_equal(cde_b64_decode(buf, h->valuestring, strlen(h->valuestring)), 32);
			memcpy(proof[n++], buf, 32);
		}
		stored_root(db, from, a);
		stored_root(db, 11, b);
		assert_int_equal(cde_tlog_verify_consistency(from, 11, (const uint8_t (*)[32])proof, n, a, b), 0);
		cJSON_Delete(out);
	}
	assert_int_equal(cde_audit_proof_consistency(db, 5, 12, &out, err, sizeof(err)), -ERANGE);
	assert_int_equal(cde_audit_proof_consistency(db, 6, 5, &out, err, sizeof(err)), -ERANGE);
	cde_audit_store_close(s);
}


static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* A signed size must never be signed again with another root: after the
 * entries a checkpoint covered are lost (here: the rows, their hashes and
 * the database's own checkpoints gone, as with a deleted WAL), the key
 * refuses to sign; a new key (a new log) may. */
static void a_key_never_signs_a_size_it_signed_with_another_root(void **state)
{
	struct cde_note_verifier *v = NULL;
	struct cde_note_signer *signer, *again;
	struct cde_audit_store *s = open_store(true);
	char *skey = NULL, *vkey = NULL, err[512], kept[96];

	assert_int_equal(cde_note_keygen("audit.example/log", &skey, &vkey), 0);
	assert_int_equal(cde_note_signer_parse(skey, &signer, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_signer(s, signer, 3, err, sizeof(err)), 0);
	append(s, 1, 3);
	free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	snprintf(kept, sizeof(kept), "%s-checkpoint", db_path);
	assert_int_equal(access(kept, R_OK), 0);	/* kept outside the database */
	exec(cde_audit_store_db(s), "DELETE FROM events; DELETE FROM tree_tiles; DELETE FROM tree_checkpoints;"
				    "UPDATE meta SET value = '0' WHERE key IN ('tree_size', 'head_seq');"
				    "UPDATE meta SET value = '" "0000000000000000000000000000000000000000000000000000000000000000"
				    "' WHERE key = 'head_hash'");
	cde_audit_store_close(s);
	s = open_store(false);
	assert_int_equal(cde_note_signer_parse(skey, &again, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_signer(s, again, 3, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "signed at 3 entries"));
	/* The same size again, other events (other timestamps): other root,
	 * still refused. */
	append(s, 1, 3);
	assert_int_equal(cde_note_signer_parse(skey, &again, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_signer(s, again, 3, err, sizeof(err)), -ESTALE);
	/* A new key is a new log. */
	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 3, err, sizeof(err)), 0);
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
	free(skey);
	free(vkey);
	unlink(kept);
}

/* The database's own latest checkpoint must match its tree too. */
static void a_tree_rewritten_under_its_checkpoint_is_refused(void **state)
{
	struct cde_note_verifier *v = NULL;
	struct cde_audit_store *s = open_store(true);
	char err[512], kept[96];

	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 4, err, sizeof(err)), 0);
	append(s, 1, 4);
	free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	snprintf(kept, sizeof(kept), "%s-checkpoint", db_path);
	unlink(kept);
	/* The root of the 4 leaves is hashed from their stored hashes (in
	 * their rows): a leaf hash changed there changes it. */
	exec(cde_audit_store_db(s), "UPDATE events SET leaf_hash = zeroblob(32) WHERE leaf = 0");
	cde_audit_store_close(s);
	s = open_store(false);
	cde_note_verifier_free(v);
	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 4, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "the latest checkpoint in the database"));
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
}

/* A checkpoint that cannot be stored does not keep the events out. */
static void a_failed_checkpoint_does_not_fail_the_commit(void **state)
{
	struct cde_note_verifier *v = NULL;
	struct cde_audit_store *s = open_store(true);
	char err[512], why[160];

	assert_int_equal(cde_audit_store_set_signer(s, test_signer(&v), 2, err, sizeof(err)), 0);
	/* The size the next commit signs is taken already. */
	exec(cde_audit_store_db(s), "INSERT INTO tree_checkpoints(size, root, note, at) VALUES (2, x'00', 'x', 'now')");
	append(s, 1, 2);
	assert_int_equal(cde_audit_store_tree_size(s), 2);
	assert_null(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	assert_true(cde_audit_store_take_sign_error(s, why, sizeof(why)));
	assert_non_null(strstr(why, "storing the checkpoint"));
	assert_false(cde_audit_store_take_sign_error(s, why, sizeof(why)));
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
}

/* A log written before the tree (schema 1, the fixture also used by
 * test_audit_schema) gets its rows as the first leaves, in seq order. */
static void an_older_log_gets_its_rows_as_leaves(void **state)
{
	char src[512], cmd[1200], err[256];
	uint8_t a[CDE_TLOG_HASH_LEN], b[CDE_TLOG_HASH_LEN];
	struct cde_audit_store *s;
	uint64_t size, rows;

	snprintf(db_path, sizeof(db_path), "/tmp/cde-tree-old-%d.db", (int)getpid());
	snprintf(src, sizeof(src), "%s/tests/data/audit/v1-f0bca64.db", getenv("CDE_SOURCE_DIR"));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && rm -f '%s-wal' '%s-head'", src, db_path, db_path, db_path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(s), "SELECT count(*) FROM events", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		rows = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	root_from_rows(cde_audit_store_db(s), &size, a);
	assert_true(size > 0);
	assert_int_equal(size, rows);
	assert_int_equal(cde_audit_store_tree_size(s), size);
	stored_root(cde_audit_store_db(s), size, b);
	assert_memory_equal(a, b, CDE_TLOG_HASH_LEN);
	cde_audit_store_close(s);
	unlink(db_path);
}

/* A proof source kept from one proof to the next (the daemon's reader:
 * its tree reader keeps the tree's edge) still finds a row's leaf hash
 * edited after a proof read it, and answers as a new one does: edited,
 * the row does not hash to its leaf; damaged, the leaf is not stored. */
static void a_kept_proof_source_finds_a_leaf_hash_edited_since(void **state)
{
	struct cde_audit_store *s = open_store(true);
	sqlite3 *db = cde_audit_store_db(s);
	struct cde_audit_proof_sqlite ps;
	cJSON *out = NULL;
	char err[256];

	(void)state;
	append(s, 1, 12);
	cde_audit_proof_sqlite_init(&ps, db);
	assert_int_equal(cde_audit_proof_inclusion_from(&ps.src, 5, 0, &out, err, sizeof(err)), 0);
	cJSON_Delete(out);
	exec(db, "UPDATE events SET leaf_hash = randomblob(32) WHERE seq = 5");
	assert_int_equal(cde_audit_proof_inclusion_from(&ps.src, 5, 0, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "does not hash to its leaf"));
	assert_int_equal(cde_audit_proof_inclusion(db, 5, 0, &out, err, sizeof(err)), -EBADMSG);
	exec(db, "UPDATE events SET leaf_hash = x'00' WHERE seq = 5");
	assert_int_equal(cde_audit_proof_inclusion_from(&ps.src, 5, 0, &out, err, sizeof(err)), -EIO);
	assert_string_equal(err, "leaf 4 is not stored");
	assert_int_equal(cde_audit_proof_inclusion(db, 5, 0, &out, err, sizeof(err)), -EIO);
	assert_string_equal(err, "leaf 4 is not stored");
	cde_audit_proof_sqlite_release(&ps);
	cde_audit_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_entry_is_the_jcs_of_the_event_and_its_row),
		cmocka_unit_test(the_stored_tree_is_the_tree_of_the_rows),
		cmocka_unit_test(a_restart_continues_the_tree_where_it_stood),
		cmocka_unit_test(duplicates_and_rolled_back_groups_add_no_leaf),
		cmocka_unit_test(checkpoints_are_signed_every_n_entries_and_on_request),
		cmocka_unit_test(a_receipt_proves_an_entry_with_the_public_key_alone),
		cmocka_unit_test(a_receipt_holds_for_an_event_with_a_large_number),
		cmocka_unit_test(consistency_proofs_link_any_two_sizes),
		cmocka_unit_test(a_key_never_signs_a_size_it_signed_with_another_root),
		cmocka_unit_test(a_tree_rewritten_under_its_checkpoint_is_refused),
		cmocka_unit_test(a_failed_checkpoint_does_not_fail_the_commit),
		cmocka_unit_test(an_older_log_gets_its_rows_as_leaves),
		cmocka_unit_test(a_kept_proof_source_finds_a_leaf_hash_edited_since),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cde_catalog_free(cat);
	return r;
}
