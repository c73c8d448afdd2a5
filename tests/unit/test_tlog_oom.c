/* Allocation failures in the tlog layer and the audit log's entries and
 * receipts, and the tree's writer and its tiles (tests/unit/oom.h): for every N,
 * making the Nth allocation fail (alone, and with every later one) makes
 * each call return -ENOMEM with its outputs untouched and nothing left
 * allocated, or succeed with the output it gives without failures. */

#include "tests/unit/helpers.h"
#include "tests/unit/oom.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"
#include "tests/unit/audit_rows.h"

#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define TEXT "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
#define NOTE TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define CHECKPOINT "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nan extension\n"

/* Runs @call under failure N (N = 1, 2, ... until a run completes without
 * reaching it), alone and persistent. @call returns 0 or -errno, puts its
 * output (or NULL) in *@out, which must be @want on success. */
static void each_failure(const char *name, int (*call)(char **out), const char *want)
{
	for (int persistent = 0; persistent < 2; persistent++) {
		for (unsigned long n = 1;; n++) {
			struct oom_stats st;
			char *out = NULL;
			int r;

			oom_arm(n, persistent, 0);
			r = call(&out);
			oom_disarm(&st);
			if (r == 0 && strcmp(out, want) != 0)
				fail_msg("%s: allocation %lu failed: output '%s'", name, n, out);
			if (r != 0 && (r != -ENOMEM || out))
				fail_msg("%s: allocation %lu failed: %d (%s), output %s", name, n, r, strerror(-r),
					 out ? "set" : "untouched");
			free(out);
			if (oom_live(true))
				fail_msg("%s: allocation %lu failed: memory left allocated", name, n);
			if (!st.failed) {
				assert_int_equal(r, 0);
				/* The calls allocate: a wrapping that missed them would pass here unseen. */
				assert_true(n > 1);
				break;
			}
		}
	}
}

static int sign_call(char **out)
{
	struct cde_note_signer *s = NULL;
	char err[256];
	int r = cde_note_signer_parse(PETER_SKEY, &s, err, sizeof(err));

	if (r == 0)
		r = cde_note_sign(TEXT, strlen(TEXT), s, out, NULL, err, sizeof(err));
	cde_note_signer_free(s);
	return r;
}

static int open_call(char **out)
{
	struct cde_note_verifier *vs[2] = { NULL, NULL };
	char err[256];
	bool signed_by[2];
	int r = cde_note_verifier_parse(ENOCH_VKEY, &vs[0], err, sizeof(err));

	if (r == 0)
		r = cde_note_verifier_parse(PETER_VKEY, &vs[1], err, sizeof(err));
	if (r == 0)
		r = cde_note_open(NOTE, strlen(NOTE), vs, 2, out, NULL, signed_by, err, sizeof(err));
	cde_note_verifier_free(vs[0]);
	cde_note_verifier_free(vs[1]);
	return r;
}

static int keygen_call(char **out)
{
	char *skey = NULL, *vkey = NULL;
	int r = cde_note_keygen("example.com/log", &skey, &vkey);

	if (r == 0) {
		/* Random keys: what must hold is their shape. */
		*out = strndup(vkey, strlen("example.com/log+"));
		if (!*out)
			r = -ENOMEM;
		OPENSSL_cleanse(skey, strlen(skey));
	}
	free(skey);
	free(vkey);
	return r;
}

static int checkpoint_call(char **out)
{
	struct cde_checkpoint c = { 0 };
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	r = cde_checkpoint_parse(CHECKPOINT, strlen(CHECKPOINT), &c, &errs);
	if (r == 0) {
		r = cde_checkpoint_format(c.origin, c.size, c.root, out);
		cde_checkpoint_release(&c);
	}
	return r;
}

static void signing_runs_out_of_memory_cleanly(void **state)
{
	each_failure("cde_note_sign", sign_call, NOTE);
}

static void opening_runs_out_of_memory_cleanly(void **state)
{
	each_failure("cde_note_open", open_call, TEXT);
}

static void keygen_runs_out_of_memory_cleanly(void **state)
{
	each_failure("cde_note_keygen", keygen_call, "example.com/log+");
}

static void checkpoints_run_out_of_memory_cleanly(void **state)
{
	each_failure("cde_checkpoint_parse", checkpoint_call, "example.com/log\n20852163\n"
		     "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
}

static const struct cde_audit_row row = {
	.seq = 1,
	.received_at = "2026-12-07T06:00:00Z",
	.principal = "jenkins",
	.peer = "127.0.0.1",
	.event = "{\"context\": {\"id\": \"e-1\", \"source\": \"/ci\", \"n\": 1.50}, \"subject\": {}}",
};

static int entry_call(char **out)
{
	size_t len;

	return cde_audit_tree_entry(&row, out, &len);
}

static void hex(const uint8_t h[CDE_TLOG_HASH_LEN], char out[2 * CDE_TLOG_HASH_LEN + 1])
{
	for (size_t i = 0; i < CDE_TLOG_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The row's leaf hashed ahead and finished, in hex. */
static int ahead_call(char **out)
{
	struct cde_audit_leaf_ahead *a = NULL;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	int r = scratch ? cde_audit_leaf_ahead_new(&row, &a) : -ENOMEM;

	if (r == 0)
		r = cde_audit_leaf_ahead_finish(a, row.seq, scratch, leaf);
	if (r == 0 && !(*out = malloc(2 * CDE_TLOG_HASH_LEN + 1)))
		r = -ENOMEM;
	if (r == 0)
		hex(leaf, *out);
	cde_audit_leaf_ahead_free(a);
	EVP_MD_CTX_free(scratch);
	return r;
}

/* A receipt of a one-entry log, signed by Peter's key (made once,
 * outside the failures). */
static char *receipt_text;

static void make_receipt(void)
{
	struct cde_note_signer *s = NULL;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	char *entry = NULL, *cp = NULL, *note = NULL, b64[45], err[128];
	cJSON *r = cJSON_CreateObject();
	size_t len;

	assert_int_equal(cde_audit_tree_entry(&row, &entry, &len), 0);
	assert_int_equal(cde_tlog_leaf_hash(entry, len, leaf), 0);
	cde_b64_encode(b64, leaf, sizeof(leaf));
	assert_int_equal(cde_checkpoint_format("PeterNeumann", 1, leaf, &cp), 0);
	assert_int_equal(cde_note_signer_parse(PETER_SKEY, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_note_sign(cp, strlen(cp), s, &note, NULL, err, sizeof(err)), 0);
	cJSON_AddNumberToObject(r, "seq", 1);
	cJSON_AddStringToObject(r, "id", "e-1");
	cJSON_AddStringToObject(r, "source", "/ci");
	cJSON_AddNumberToObject(r, "leafIndex", 0);
	cJSON_AddStringToObject(r, "leafHash", b64);
	cJSON_AddStringToObject(r, "entry", entry);
	cJSON_AddNumberToObject(r, "treeSize", 1);
	cJSON_AddArrayToObject(r, "inclusionProof");
	cJSON_AddStringToObject(r, "checkpoint", note);
	receipt_text = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	cde_note_signer_free(s);
	free(entry);
	free(cp);
	free(note);
}

static int receipt_call(char **out)
{
	struct cde_note_verifier *v = NULL;
	struct cde_audit_receipt_check check;
	cJSON *receipt = cJSON_Parse(receipt_text);
	char err[128];
	int r = receipt ? cde_note_verifier_parse(PETER_VKEY, &v, err, sizeof(err)) : -ENOMEM;

	if (r == 0)
		r = cde_audit_receipt_verify(receipt, &v, 1, &check);
	if (r == 0 && !(*out = strdup("holds")))
		r = -ENOMEM;
	cde_note_verifier_free(v);
	cJSON_Delete(receipt);
	return r;
}

static void an_entry_runs_out_of_memory_cleanly(void **state)
{
	each_failure("cde_audit_tree_entry", entry_call,
		     "{\"event\":{\"context\":{\"id\":\"e-1\",\"n\":1.5,\"source\":\"/ci\"},\"subject\":{}},"
		     "\"peer\":\"127.0.0.1\",\"principal\":\"jenkins\",\"receivedAt\":\"2026-12-07T06:00:00Z\",\"seq\":1}");
}

static void hashing_a_leaf_ahead_runs_out_of_memory_cleanly(void **state)
{
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	char want[2 * CDE_TLOG_HASH_LEN + 1];

	assert_int_equal(cde_audit_tree_leaf(&row, leaf), 0);
	hex(leaf, want);
	each_failure("cde_audit_leaf_ahead", ahead_call, want);
}

/* The row's event made a template, correlated (a chainId, a PATH link)
 * and the template filled: the leaf in hex. */
static int template_call(char **out)
{
	struct cde_audit_leaf_ahead *a = NULL;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	cJSON *doc = cJSON_Parse(row.event), *context = cJSON_GetObjectItem(doc, "context"), *links, *link, *from;
	int r = scratch && doc ? cde_audit_leaf_ahead_new_template(&row, doc, &a) : -ENOMEM;

	if (r == 0 && (!cJSON_AddStringToObject(context, "chainId", "c-1") ||
		       !(links = cJSON_AddArrayToObject(context, "links")) ||
		       !(link = cJSON_CreateObject()) || !cJSON_AddItemToArray(links, link) ||
		       !cJSON_AddStringToObject(link, "linkType", "PATH") || !(from = cJSON_AddObjectToObject(link, "from")) ||
		       !cJSON_AddStringToObject(from, "contextId", "e-0")))
		r = -ENOMEM;
	if (r == 0)
		r = cde_audit_leaf_ahead_finish_doc(a, doc, row.seq, scratch, leaf);
	if (r == 0 && !(*out = malloc(2 * CDE_TLOG_HASH_LEN + 1)))
		r = -ENOMEM;
	if (r == 0)
		hex(leaf, *out);
	cde_audit_leaf_ahead_free(a);
	cJSON_Delete(doc);
	EVP_MD_CTX_free(scratch);
	return r;
}

static void a_leaf_template_runs_out_of_memory_cleanly(void **state)
{
	struct cde_audit_row correlated = row;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	char want[2 * CDE_TLOG_HASH_LEN + 1];

	correlated.event = "{\"context\": {\"id\": \"e-1\", \"source\": \"/ci\", \"n\": 1.50, \"chainId\": \"c-1\","
			   " \"links\": [{\"linkType\": \"PATH\", \"from\": {\"contextId\": \"e-0\"}}]}, \"subject\": {}}";
	assert_int_equal(cde_audit_tree_leaf(&correlated, leaf), 0);
	hex(leaf, want);
	each_failure("cde_audit_leaf_ahead template", template_call, want);
}

static void checking_a_receipt_runs_out_of_memory_cleanly(void **state)
{
	make_receipt();
	each_failure("cde_audit_receipt_verify", receipt_call, "holds");
	cJSON_free(receipt_text);
}

static int keep_nothing(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	(void)ctx, (void)level, (void)index, (void)hash;
	return 0;
}

/* Leaves for the writer (made once, outside the failures). */
static uint8_t leaves[47][CDE_TLOG_HASH_LEN];

/* Leaves [@from, @to) in one transaction; rolled back on failure. */
static int tiles_group(sqlite3 *db, struct cde_audit_tree_writer *w, size_t from, size_t to)
{
	int r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;

	for (size_t i = from; r == 0 && i < to; i++)
		if ((r = insert_leaf_row(db, i, leaves[i])) == 0)
			r = cde_audit_tree_writer_append(w, leaves[i]);
	if (r == 0)
		r = cde_audit_tree_writer_flush(w);
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	if (r == 0) {
		cde_audit_tree_writer_committed(w);
	} else {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		cde_audit_tree_writer_rolled_back(w);
	}
	return r;
}

/* Two groups through the writer (tiles completed, a level-4 hash), then
 * the root read back from the tiles. */
static int tiles_call(char **out)
{
	struct cde_audit_tree_writer w;
	struct cde_audit_tree_reader rd;
	uint8_t root[CDE_TLOG_HASH_LEN];
	char text[2 * CDE_TLOG_HASH_LEN + 1], err[256];
	sqlite3 *db = NULL;
	int r = sqlite3_open(":memory:", &db) == SQLITE_OK && cde_audit_schema_migrate(db, err, sizeof(err)) == 0 ? 0
														    : -EIO;

	if (r == 0 && (r = cde_audit_tree_writer_init(&w, db, err, sizeof(err))) == 0) {
		r = tiles_group(db, &w, 0, 40);
		if (r == 0)
			r = tiles_group(db, &w, 40, 47);
		cde_audit_tree_writer_release(&w);
	}
	if (r == 0 && (r = cde_audit_tree_reader_init(&rd, db)) == 0) {
		r = cde_tlog_root(&rd.tlog, 47, root);
		cde_audit_tree_reader_release(&rd);
	}
	sqlite3_close(db);
	if (r == 0) {
		hex(root, text);
		if (!(*out = strdup(text)))
			r = -ENOMEM;
	}
	return r;
}

static void the_trees_writer_runs_out_of_memory_cleanly(void **state)
{
	struct cde_tlog_frontier f;
	uint8_t root[CDE_TLOG_HASH_LEN];
	char want[2 * CDE_TLOG_HASH_LEN + 1], entry[16];

	cde_tlog_frontier_init(&f);
	for (size_t i = 0; i < 47; i++) {
		snprintf(entry, sizeof(entry), "leaf %zu", i);
		assert_int_equal(cde_tlog_leaf_hash(entry, strlen(entry), leaves[i]), 0);
		assert_int_equal(cde_tlog_frontier_append(&f, leaves[i], keep_nothing, NULL), 0);
	}
	assert_int_equal(cde_tlog_frontier_root(&f, root), 0);
	hex(root, want);
	each_failure("cde_audit_tree_writer", tiles_call, want);
}

/* A log of the 47 leaves, written once, outside the failures. */
static sqlite3 *proof_db;

/* A consistency proof read from it: the reader's tree and its cache of
 * the tree's edge allocated afresh each time. */
static int proof_call(char **out)
{
	cJSON *proof = NULL;
	char err[256];
	int r = cde_audit_proof_consistency(proof_db, 5, 47, &proof, err, sizeof(err));

	if (r == 0 && !(*out = cJSON_PrintUnformatted(proof)))
		r = -ENOMEM;
	cJSON_Delete(proof);
	return r;
}

static void a_proof_runs_out_of_memory_cleanly(void **state)
{
	struct cde_audit_tree_writer w;
	char err[256], *want = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &proof_db), SQLITE_OK);
	assert_int_equal(cde_audit_schema_migrate(proof_db, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_tree_writer_init(&w, proof_db, err, sizeof(err)), 0);
	assert_int_equal(tiles_group(proof_db, &w, 0, 47), 0);
	cde_audit_tree_writer_release(&w);
	assert_int_equal(proof_call(&want), 0);
	each_failure("cde_audit_proof_consistency", proof_call, want);
	free(want);
	sqlite3_close(proof_db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signing_runs_out_of_memory_cleanly),
		cmocka_unit_test(opening_runs_out_of_memory_cleanly),
		cmocka_unit_test(keygen_runs_out_of_memory_cleanly),
		cmocka_unit_test(checkpoints_run_out_of_memory_cleanly),
		cmocka_unit_test(an_entry_runs_out_of_memory_cleanly),
		cmocka_unit_test(hashing_a_leaf_ahead_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_leaf_template_runs_out_of_memory_cleanly),
		cmocka_unit_test(checking_a_receipt_runs_out_of_memory_cleanly),
		cmocka_unit_test(the_trees_writer_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_proof_runs_out_of_memory_cleanly),
	};

	oom_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
