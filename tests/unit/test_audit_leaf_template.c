/* A leaf hashed ahead as a template (audit_leaf.h): an event the writer
 * correlates is hashed on the loop thread with its chainId and one more
 * context.links element left open, and the writer fills them. Whatever
 * the event holds (links or none, escapes, numbers, context keys that
 * sort between chainId and links, customData with its own chainId and
 * links) and whatever correlation decides (a new chain, a chain joined
 * with or without a PATH link), the filled template is byte for byte the
 * leaf cde_audit_tree_leaf makes from the stored row. An event changed
 * otherwise, or one the template cannot hold, is refused, and the store
 * makes the leaf the slow way; the store's leaves of correlated events
 * are its rows' leaves. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

#include "events/correlate.h"
#include "events/event.h"
#include "schemas/base/jcs.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"

#define RECEIVED "2026-12-07T12:00:00.123456Z"

/* Hook-like events: no chainId; links or not; what JCS escapes or
 * rewrites; context names around chainId and links in JCS order
 * ("chainI" < "chainId" < "chainIdx" < "d" < "id" < "k" < "link" <
 * "links" < "links0" < "lz"; U+1F600 sorts before U+FFFF as UTF-16). */
static const char *const events[] = {
	"{\"context\":{\"version\":\"0.4.1\",\"id\":\"b-1\",\"source\":\"/ci\",\"type\":"
	"\"dev.cdevents.build.started.0.3.0\",\"timestamp\":\"2026-12-07T12:00:00Z\"},"
	"\"subject\":{\"id\":\"etl\",\"source\":\"/ci\",\"content\":{}}}",

	"{\"subject\":{\"id\":\"etl\",\"content\":{\"links\":[1]}},\"context\":{\"links\":[],\"id\":\"b-2\"}}",

	"{\"context\":{\"id\":\"b-3\",\"links\":[{\"linkType\":\"RELATION\",\"linkKind\":\"TRIGGER\","
	"\"target\":{\"contextId\":\"x\"},\"tags\":{\"n\":1.5,\"s\":\"\\u00e9\"}},{\"linkType\":\"END\","
	"\"from\":{\"contextId\":\"y\"}}]},\"subject\":{\"id\":\"etl\"}}",

	"{\"context\":{\"id\":\"b-4\"},\"subject\":{\"id\":\"etl\"},\"customData\":{\"s\":"
	"\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\/\\u0001\\u2028\",\"n\":[0,-1,1.5e3,1E21,1e-7,0.1,123456789012,-0.5],"
	"\"t\":true,\"z\":null,\"deep\":{\"a\":{\"b\":[{}]}}}}",

	"{\"context\":{\"id\":\"b-5\",\"ab\":1,\"chainI\":\"x\",\"chainIdx\":\"y\",\"d\":[],\"k\":{},"
	"\"link\":\"l\",\"links0\":0,\"lz\":\"z\",\"\\u00e9\":\"e\",\"\\ud83d\\ude00\":\"emoji\","
	"\"\\uffff\":\"last\"},\"subject\":{\"id\":\"etl\"}}",

	"{\"context\":{\"id\":\"b-6\",\"chainI\":[],\"k\":{\"links\":[]},\"links\":[\"odd\",2,null],"
	"\"links0\":{}},\"subject\":{\"id\":\"etl\"}}",

	/* Text that looks like the holes, and customData of the same names. */
	"{\"context\":{\"id\":\"b-7\"},\"customData\":{\"x\":\",\\\"links\\\":[\\\"cde-hole-link-\\\"]\","
	"\"chainId\":\"not the context's\",\"links\":[\"not\",\"these\"],\"cde-hole-chainId-\":1}}",

	"{\"context\":{}}",
};

/* @text made a template as the loop thread does, then correlated by @c
 * and printed as the writer does: the template's leaf is the row's. */
static void assert_template_is_rows_leaf(const char *text, const struct cde_correlation *c, const char *peer,
					 const char *principal, uint64_t seq)
{
	struct cde_audit_row row = { .seq = seq, .received_at = RECEIVED, .principal = principal, .peer = peer };
	uint8_t want[CDE_TLOG_HASH_LEN], got[CDE_TLOG_HASH_LEN], again[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	struct cde_audit_leaf_ahead *a = NULL;
	struct cde_event *ev = NULL;
	char *printed;

	assert_non_null(scratch);
	assert_int_equal(cde_event_from_json(json(text), &ev), 0);
	assert_int_equal(cde_audit_leaf_ahead_new_template(&row, cde_event_json(ev), &a), 0);
	assert_int_equal(cde_correlation_apply(ev, c), 0);
	assert_non_null(printed = cde_event_to_json(ev));
	row.event = printed;
	assert_int_equal(cde_audit_tree_leaf(&row, want), 0);
	assert_int_equal(cde_audit_leaf_ahead_finish_doc(a, cde_event_json(ev), seq, scratch, got), 0);
	if (memcmp(got, want, sizeof(want)) != 0)
		fail_msg("the template's leaf differs from the row's: %s", printed);
	/* Finished again (a group rolled back): the same leaf. */
	assert_int_equal(cde_audit_leaf_ahead_finish_doc(a, cde_event_json(ev), seq, scratch, again), 0);
	assert_memory_equal(again, want, sizeof(want));
	/* A template is not a plain leaf ahead. */
	assert_int_equal(cde_audit_leaf_ahead_finish(a, seq, scratch, again), -EINVAL);
	cde_audit_leaf_ahead_free(a);
	cde_event_unref(ev);
	free(printed);
	EVP_MD_CTX_free(scratch);
}

static void a_template_filled_by_correlation_is_the_rows_leaf(void **state)
{
	const struct cde_correlation decisions[] = {
		{ .new_chain = true },
		{ .chain_id = "release-7" },
		{ .chain_id = "release-7", .path_from = "build-41" },
		{ .chain_id = "r\xc3\xa9l \"7\"\\\n\xf0\x9f\x98\x80", .path_from = "b\"\\\x01\xe2\x80\xa8" },
	};
	static const uint64_t seqs[] = { 1, 10, 4242, 1ULL << 53 };

	(void)state;
	for (size_t e = 0; e < sizeof(events) / sizeof(events[0]); e++)
		for (size_t d = 0; d < sizeof(decisions) / sizeof(decisions[0]); d++) {
			assert_template_is_rows_leaf(events[e], &decisions[d], "127.0.0.1:4242", "jenkins", seqs[d]);
			assert_template_is_rows_leaf(events[e], &decisions[d], "[::1]:80", "ci \"bot\"\t\xc3\xa9", 7);
			assert_template_is_rows_leaf(events[e], &decisions[d], NULL, NULL, 99);
		}
}

static void refuse_template(const char *text)
{
	struct cde_audit_row row = { .received_at = RECEIVED };
	struct cde_audit_leaf_ahead *a = NULL;
	cJSON *doc = cJSON_Parse(text);

	assert_non_null(doc);
	if (cde_audit_leaf_ahead_new_template(&row, doc, &a) != -EINVAL)
		fail_msg("made a template of %s", text);
	assert_null(a);
	cJSON_Delete(doc);
}

/* The writer then makes the leaf from the event or its text. */
static void an_event_a_template_cannot_hold_makes_none(void **state)
{
	(void)state;
	refuse_template("{\"context\":{\"id\":\"x\",\"chainId\":\"given\"}}");
	refuse_template("{\"context\":{\"id\":\"x\",\"chainId\":null}}");
	refuse_template("{\"context\":{\"id\":\"x\",\"links\":{}}}");
	refuse_template("{\"subject\":{}}");
	refuse_template("{\"context\":[]}");
	refuse_template("[]");
	/* What JCS refuses, or the strict parser would not read back. */
	refuse_template("{\"context\":{\"id\":\"x\",\"id\":\"y\"}}");
	refuse_template("{\"context\":{},\"context\":{}}");
	refuse_template("{\"context\":{},\"customData\":{\"n\":0.33333333333333331}}");
	refuse_template("{\"context\":{},\"customData\":{\"n\":9007199254740994}}");
}

/* Template and event, as correlation leaves them unless @change alters them. */
static int finish_changed(const char *text, void (*change)(cJSON *context), uint64_t seq)
{
	struct cde_audit_row row = { .received_at = RECEIVED };
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	struct cde_audit_leaf_ahead *a = NULL;
	cJSON *doc = json(text);
	int r;

	assert_int_equal(cde_audit_leaf_ahead_new_template(&row, doc, &a), 0);
	change(cJSON_GetObjectItem(doc, "context"));
	r = cde_audit_leaf_ahead_finish_doc(a, doc, seq, scratch, leaf);
	cde_audit_leaf_ahead_free(a);
	cJSON_Delete(doc);
	EVP_MD_CTX_free(scratch);
	return r;
}

static void add_link(cJSON *context)
{
	cJSON *links = cJSON_GetObjectItem(context, "links");

	if (!links)
		links = cJSON_AddArrayToObject(context, "links");
	cJSON_AddItemToArray(links, cJSON_CreateObject());
}

static void chained(cJSON *context)
{
	cJSON_AddStringToObject(context, "chainId", "c");
}

static void unchained(cJSON *context)
{
	add_link(context);
}

static void chain_not_a_string(cJSON *context)
{
	cJSON_AddNumberToObject(context, "chainId", 7);
}

static void two_links(cJSON *context)
{
	chained(context);
	add_link(context);
	add_link(context);
}

static void links_gone(cJSON *context)
{
	chained(context);
	cJSON_DeleteItemFromObject(context, "links");
}

static void links_emptied(cJSON *context)
{
	chained(context);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(context, "links"), 0);
}

static void links_made_empty(cJSON *context)
{
	chained(context);
	cJSON_AddArrayToObject(context, "links");
}

static void links_not_an_array(cJSON *context)
{
	chained(context);
	cJSON_ReplaceItemInObject(context, "links", cJSON_CreateObject());
}

static void an_event_changed_otherwise_than_by_correlation_is_refused(void **state)
{
	const char *none = "{\"context\":{\"id\":\"x\"}}", *one = "{\"context\":{\"id\":\"x\",\"links\":[{}]}}";

	(void)state;
	assert_int_equal(finish_changed(none, chained, 1), 0);
	assert_int_equal(finish_changed(one, chained, 1), 0);
	assert_int_equal(finish_changed(none, unchained, 1), -EINVAL);
	assert_int_equal(finish_changed(none, chain_not_a_string, 1), -EINVAL);
	assert_int_equal(finish_changed(none, two_links, 1), -EINVAL);
	assert_int_equal(finish_changed(one, two_links, 1), -EINVAL);
	assert_int_equal(finish_changed(one, links_gone, 1), -EINVAL);
	assert_int_equal(finish_changed(one, links_emptied, 1), -EINVAL);
	assert_int_equal(finish_changed(none, links_made_empty, 1), -EINVAL);
	assert_int_equal(finish_changed(one, links_not_an_array, 1), -EINVAL);
	assert_int_equal(finish_changed(none, chained, (1ULL << 53) + 1), -ERANGE);
}

static void a_plain_leaf_ahead_is_no_template(void **state)
{
	struct cde_audit_row row = { .received_at = RECEIVED, .event = "{\"context\":{}}" };
	struct cde_audit_leaf_ahead *a = NULL;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	cJSON *doc = json("{\"context\":{\"chainId\":\"c\"}}");

	(void)state;
	assert_int_equal(cde_audit_leaf_ahead_new(&row, &a), 0);
	assert_int_equal(cde_audit_leaf_ahead_finish_doc(a, doc, 1, scratch, leaf), -EINVAL);
	cde_audit_leaf_ahead_free(a);
	cJSON_Delete(doc);
	EVP_MD_CTX_free(scratch);
}

/* The added link nests @depth objects: the template takes it exactly
 * when the leaf from the whole event in memory would. */
static void a_link_as_deep_as(int depth, bool taken)
{
	struct cde_audit_row row = { .seq = 3, .received_at = RECEIVED };
	uint8_t from_template[CDE_TLOG_HASH_LEN], from_doc[CDE_TLOG_HASH_LEN], from_text[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	struct cde_audit_leaf_ahead *a = NULL;
	cJSON *doc = json("{\"context\":{\"id\":\"x\"}}"), *context = cJSON_GetObjectItem(doc, "context"), *link;
	char *printed;
	int r;

	assert_int_equal(cde_audit_leaf_ahead_new_template(&row, doc, &a), 0);
	chained(context);
	add_link(context);
	link = cJSON_GetArrayItem(cJSON_GetObjectItem(context, "links"), 0);
	for (int i = 1; i < depth; i++)
		link = cJSON_AddObjectToObject(link, "t");
	r = cde_audit_leaf_ahead_finish_doc(a, doc, row.seq, scratch, from_template);
	assert_int_equal(r, taken ? 0 : -EINVAL);
	assert_int_equal(cde_audit_tree_leaf_of_doc(&row, doc, from_doc), r);
	assert_non_null(printed = cde_json_print(doc));
	row.event = printed;
	assert_int_equal(cde_audit_tree_leaf(&row, from_text), 0);
	if (taken) {
		assert_memory_equal(from_template, from_text, sizeof(from_text));
		assert_memory_equal(from_doc, from_text, sizeof(from_text));
	}
	free(printed);
	cde_audit_leaf_ahead_free(a);
	cJSON_Delete(doc);
	EVP_MD_CTX_free(scratch);
}

/* The template's depth is checked without the link: the link's own is
 * counted where it sits (entry, event, context, links). */
static void a_link_that_nests_too_deep_is_left_to_the_text(void **state)
{
	(void)state;
	a_link_as_deep_as(1, true);
	a_link_as_deep_as(CDE_JSON_MAX_DEPTH / 2 - 4, true);
	a_link_as_deep_as(CDE_JSON_MAX_DEPTH / 2 - 3, false);
}

/* As the audit journal queues a hook's event: timestamped, a template. */
static void queue_hook(struct cde_journal_entry *e, int i)
{
	char text[512];

	memset(e, 0, sizeof(*e));
	snprintf(text, sizeof(text), "{\"specversion\":\"0.4.1\",\"context\":{\"id\":\"hook-%d\",\"source\":\"/tekton\","
		 "\"type\":\"dev.cdevents.taskrun.finished.0.2.0\",\"timestamp\":\"2026-12-07T12:00:0%dZ\"%s},"
		 "\"subject\":{\"id\":\"etl\",\"source\":\"/tekton\",\"content\":{\"outcome\":\"success\"}},"
		 "\"customData\":{\"n\":%d.25,\"s\":\"\\u00e9\\t%d\"}}", i, i,
		 i % 3 == 1 ? ",\"links\":[{\"linkType\":\"END\",\"from\":{\"contextId\":\"up\"}}]" :
		 i % 3 == 2 ? ",\"k\":\"between\"" : "", i, i);
	assert_int_equal(cde_event_from_json(json(text), &e->event), 0);
	e->principal = "tekton";
	e->peer = "10.0.0.7:5151";
	e->correlate = true;
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:%02d.000000Z", i);
	struct cde_audit_row row = { .received_at = e->received_at, .principal = e->principal, .peer = e->peer };

	assert_int_equal(cde_audit_leaf_ahead_new_template(&row, cde_event_json(e->event), &e->leaf_ahead), 0);
}

/* Events of one subject: the first starts a chain, each later one joins
 * it with a PATH link from the one before. */
static void the_store_fills_the_templates_of_events_it_correlates(void **state)
{
	struct cde_journal_entry e[6];
	char path[64], err[256];
	struct cde_audit_store *s;
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	sqlite3_stmt *st;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/cde-template-%d.db", (int)getpid());
	remove_store(path);
	assert_int_equal(cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 6; i++)
		queue_hook(&e[i], i);
	assert_int_equal(cde_audit_store_append(s, e, 3, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_append(s, e + 3, 3, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(s), LEAF_ROW_SQL, -1, &st, NULL), SQLITE_OK);
	for (int i = 0; i < 6; i++) {
		uint8_t leaf[CDE_TLOG_HASH_LEN], filled[CDE_TLOG_HASH_LEN];
		const cJSON *links = cJSON_GetObjectItem(cJSON_GetObjectItem(cde_event_json(e[i].event), "context"),
							 "links");
		uint64_t seq;

		assert_true(e[i].has_leaf);
		assert_int_equal(cJSON_GetArraySize(links), (i % 3 == 1) + (i > 0));
		recompute_leaf(st, e[i].leaf, &seq, leaf);
		assert_memory_equal(e[i].leaf_hash, leaf, sizeof(leaf));
		/* Made from the template, not the fallback: it fits the event. */
		assert_int_equal(cde_audit_leaf_ahead_finish_doc(e[i].leaf_ahead, cde_event_json(e[i].event), seq,
								 scratch, filled), 0);
		assert_memory_equal(filled, leaf, sizeof(leaf));
		cde_audit_leaf_ahead_free(e[i].leaf_ahead);
		cde_event_unref(e[i].event);
	}
	sqlite3_finalize(st);
	cde_audit_store_close(s);
	EVP_MD_CTX_free(scratch);
	remove_store(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_template_filled_by_correlation_is_the_rows_leaf),
		cmocka_unit_test(an_event_a_template_cannot_hold_makes_none),
		cmocka_unit_test(an_event_changed_otherwise_than_by_correlation_is_refused),
		cmocka_unit_test(a_plain_leaf_ahead_is_no_template),
		cmocka_unit_test(a_link_that_nests_too_deep_is_left_to_the_text),
		cmocka_unit_test(the_store_fills_the_templates_of_events_it_correlates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
