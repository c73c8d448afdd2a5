/* A leaf hashed ahead of its seq (on the loop thread) and finished by the
 * writer is, byte for byte, the leaf cde_audit_tree_leaf makes from the
 * stored row: for events stored as JSON and as text, for metadata JCS
 * escapes, for seqs of every length; a seq JCS could not write exactly
 * is refused, and a group finished twice (after a rollback) gives the
 * same leaf twice. The store finishes the leaves the journal hashed
 * ahead into the same tree as it would have made alone. A leaf made from
 * an event in memory (the writer's, for events it printed itself) is the
 * leaf of its printed text, or refused when that text would not read back
 * as the event. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <dirent.h>
#include <math.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"

static void assert_ahead_is_leaf(const char *event, const char *peer, const char *principal, uint64_t seq)
{
	struct cde_audit_row row = {
		.seq = seq, .received_at = "2026-12-07T12:00:00.123456Z", .principal = principal,
		.peer = peer, .event = event,
	};
	struct cde_audit_leaf_ahead *a = NULL;
	uint8_t want[CDE_TLOG_HASH_LEN], got[CDE_TLOG_HASH_LEN], again[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();

	assert_non_null(scratch);
	assert_int_equal(cde_audit_tree_leaf(&row, want), 0);
	row.seq = 77; /* hashing ahead does not read the seq */
	assert_int_equal(cde_audit_leaf_ahead_new(&row, &a), 0);
	assert_int_equal(cde_audit_leaf_ahead_finish(a, seq, scratch, got), 0);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(cde_audit_leaf_ahead_finish(a, seq, scratch, again), 0);
	assert_memory_equal(again, want, sizeof(want));
	cde_audit_leaf_ahead_free(a);
	EVP_MD_CTX_free(scratch);
}

static void a_leaf_hashed_ahead_is_the_rows_leaf(void **state)
{
	static const uint64_t seqs[] = { 0, 1, 9, 10, 99, 1000, 123456789012ULL, 1ULL << 53 };
	const char *ev = "{\"context\":{\"id\":\"b-1\",\"source\":\"/ci\",\"type\":\"dev.cdevents.build.started.0.3.0\"},"
			 "\"subject\":{\"id\":\"etl\",\"content\":{}},\"customData\":{\"n\":1.5e3,\"s\":\"\\u00e9\\n\"}}";

	(void)state;
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		assert_ahead_is_leaf(ev, "127.0.0.1:4242", "jenkins", seqs[i]);
}

static void metadata_that_jcs_escapes_hashes_the_same(void **state)
{
	(void)state;
	assert_ahead_is_leaf("{\"a\":1}", "[::1]:80", "ci \"bot\"\t\xc3\xa9", 42);
	assert_ahead_is_leaf("{\"a\":1}", NULL, NULL, 7);
}

/* Rows the strict parser refuses are committed to as text ("eventText"). */
static void an_event_stored_as_text_hashes_the_same(void **state)
{
	(void)state;
	assert_ahead_is_leaf("{\"taint\":1,\"taint\":2}", "127.0.0.1:1", "jenkins", 5);
	assert_ahead_is_leaf("{\"big\":9007199254740993}", "127.0.0.1:1", "jenkins", 6);
}

static void a_seq_past_2_53_is_left_to_the_writer(void **state)
{
	struct cde_audit_row row = { .received_at = "2026-12-07T12:00:00Z", .event = "{}" };
	struct cde_audit_leaf_ahead *a = NULL;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();

	(void)state;
	assert_int_equal(cde_audit_leaf_ahead_new(&row, &a), 0);
	assert_int_equal(cde_audit_leaf_ahead_finish(a, (1ULL << 53) + 1, scratch, leaf), -ERANGE);
	cde_audit_leaf_ahead_free(a);
	cde_audit_leaf_ahead_free(NULL);
	EVP_MD_CTX_free(scratch);
}

static void no_event_no_leaf(void **state)
{
	struct cde_audit_row row = { .received_at = "2026-12-07T12:00:00Z" };
	struct cde_audit_leaf_ahead *a = NULL;

	(void)state;
	assert_int_equal(cde_audit_leaf_ahead_new(&row, &a), -EINVAL);
	assert_null(a);
}

/* As the audit journal queues them: printed, timestamped, hashed ahead. */
static void queue(struct cde_catalog *catalog, struct cde_journal_entry *e, char **printed, int i)
{
	struct cde_audit_row row = { .principal = "jenkins", .peer = "127.0.0.1:4242" };
	char id[32];

	memset(e, 0, sizeof(*e));
	snprintf(id, sizeof(id), "ahead-%d", i % 5); /* ids 0-4 again: duplicates */
	assert_int_equal(cde_event_new(cde_catalog_newest(catalog), "dev.cdevents.build.started.0.3.0", "/ci", "etl",
				       &e->event), 0);
	assert_int_equal(cde_event_set_id(e->event, id), 0);
	assert_int_equal(cde_event_set_chain_id(e->event, "release-1"), 0);
	*printed = cde_event_to_json(e->event);
	e->json = *printed;
	e->principal = row.principal;
	e->peer = row.peer;
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:%02d.000000Z", i);
	row.received_at = e->received_at;
	row.event = e->json;
	assert_int_equal(cde_audit_leaf_ahead_new(&row, &e->leaf_ahead), 0);
}

static void the_store_finishes_leaves_hashed_ahead_into_the_rows_tree(void **state)
{
	struct cde_catalog *catalog = load_catalog();
	struct cde_journal_entry e[8];
	char *printed[8], path[64], err[256];
	struct cde_audit_store *s;
	sqlite3_stmt *st;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/cde-leaf-%d.db", (int)getpid());
	assert_int_equal(cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 8; i++)
		queue(catalog, &e[i], &printed[i], i);
	assert_int_equal(cde_audit_store_append(s, e, 4, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_append(s, e + 4, 4, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(s), LEAF_ROW_SQL, -1, &st, NULL), SQLITE_OK);
	for (int i = 0; i < 8; i++) {
		uint8_t leaf[CDE_TLOG_HASH_LEN];
		uint64_t seq;

		assert_true(e[i].has_leaf);
		recompute_leaf(st, e[i].leaf, &seq, leaf);
		if (!e[i].duplicate)
			assert_memory_equal(e[i].leaf_hash, leaf, sizeof(leaf));
		cde_audit_leaf_ahead_free(e[i].leaf_ahead);
		cde_event_unref(e[i].event);
		free(printed[i]);
	}
	assert_true(e[5].duplicate);
	sqlite3_finalize(st);
	cde_audit_store_close(s);
	cde_catalog_free(catalog);
	remove_store(path);
}

/* The leaf from @doc, when it is made, is the leaf of cde_json_print(@doc)
 * read back; returns whether it was made. */
static bool leaf_of_doc_is_leaf_of_text(const cJSON *doc)
{
	struct cde_audit_row row = {
		.seq = 4242, .received_at = "2026-12-07T12:00:00.000001Z", .principal = "tekton", .peer = "10.0.0.7:1",
	};
	uint8_t from_doc[CDE_TLOG_HASH_LEN], from_text[CDE_TLOG_HASH_LEN];
	char *text = cde_json_print(doc);
	int r = cde_audit_tree_leaf_of_doc(&row, doc, from_doc);

	assert_non_null(text);
	row.event = text;
	if (r == 0) {
		assert_int_equal(cde_audit_tree_leaf(&row, from_text), 0);
		if (memcmp(from_doc, from_text, sizeof(from_doc)) != 0)
			fail_msg("the leaf made from the document differs from its text's: %s", text);
	} else {
		assert_int_equal(r, -EINVAL);
	}
	free(text);
	return r == 0;
}

static void every_official_example_hashes_from_memory_as_from_its_text(void **state)
{
	const char *versions[] = { "v0.3.0", "v0.4.1", "v0.5.1" };
	size_t n = 0;

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		char dir[1024];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s/conformance", spec_dir(), versions[v]);
		assert_non_null(d = opendir(dir));
		while ((de = readdir(d))) {
			char path[2048];
			cJSON *doc;

			if (!strstr(de->d_name, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			doc = read_json_file(path);
			if (!leaf_of_doc_is_leaf_of_text(doc))
				fail_msg("%s: not hashed from memory", path);
			cJSON_Delete(doc);
			n++;
		}
		closedir(d);
	}
	assert_true(n > 100);
}

/* Numbers whose printed literal the strict parser reads back as is, and
 * numbers it refuses (2^53 + 2 is printed as a 16-digit integer, 1/3 with
 * a 17th digit), NaN
 * (printed as null): each either hashes as its text does or is refused. */
static void numbers_hash_as_printed_or_are_left_to_the_text(void **state)
{
	static const double made[] = {
		0, 1, -1, 0.1, 1.5, 1e21, 1e-7, 123456789012.0, 9007199254740992.0, 2147483648.0, 1e15, 1e16,
		0.30000000000000004, 2.2250738585072014e-308, 1e300,
	};
	/* 1/3: cJSON prints 17 digits where 16 read back the same, which the
	 * strict parser refuses as more precise than a double. */
	static const double others[] = {
		1.0 / 3, -0.0, 9007199254740994.0, 1152921504606846976.0, 5e-324, 1e308 * 10, NAN,
	};
	cJSON *doc;

	(void)state;
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(doc, "customData"), "n", made[i]);
		if (!leaf_of_doc_is_leaf_of_text(doc))
			fail_msg("%.17g: not hashed from memory", made[i]);
		cJSON_Delete(doc);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "n", others[i]);
		leaf_of_doc_is_leaf_of_text(doc);
		cJSON_Delete(doc);
	}
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "n", 9007199254740994.0);
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "n", NAN);
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);
}

/* Strings with escapes hash as printed; what the parser would refuse (a
 * name twice, bytes that are not UTF-8, deep nesting, raw text) is left
 * to the text. */
static void documents_the_parser_would_refuse_are_left_to_the_text(void **state)
{
	cJSON *doc = cJSON_CreateObject(), *deep;

	(void)state;
	cJSON_AddStringToObject(doc, "s", "\"\\/\x01\x1f\t\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80");
	assert_true(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_AddStringToObject(doc, "s", "twice");
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);

	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "s", "\xff\xfe");
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);

	doc = cJSON_CreateObject();
	cJSON_AddRawToObject(doc, "r", "[1,2]");
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);

	doc = deep = cJSON_CreateObject();
	for (int i = 0; i < 40; i++)
		deep = cJSON_AddObjectToObject(deep, "d");
	assert_false(leaf_of_doc_is_leaf_of_text(doc));
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_leaf_hashed_ahead_is_the_rows_leaf),
		cmocka_unit_test(metadata_that_jcs_escapes_hashes_the_same),
		cmocka_unit_test(an_event_stored_as_text_hashes_the_same),
		cmocka_unit_test(a_seq_past_2_53_is_left_to_the_writer),
		cmocka_unit_test(no_event_no_leaf),
		cmocka_unit_test(the_store_finishes_leaves_hashed_ahead_into_the_rows_tree),
		cmocka_unit_test(every_official_example_hashes_from_memory_as_from_its_text),
		cmocka_unit_test(numbers_hash_as_printed_or_are_left_to_the_text),
		cmocka_unit_test(documents_the_parser_would_refuse_are_left_to_the_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
