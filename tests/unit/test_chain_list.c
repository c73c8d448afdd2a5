/* The list of chains (sinks/audit/answers/chain_list.c): chains newest
 * first by their latest matching event, pages that follow one another
 * without repeating or skipping a chain, also while the log grows (the
 * head the first page says bounds the next), filters that pick the
 * events that place a chain, a page cut by its reading budget (which
 * the checks of chains met again count in) that says where to go on, and
 * each row's chain taken from the record, not parsed from its event;
 * over a stand-in log. */

#include "tests/unit/audit_stand_in.h"

#include "sinks/audit/answers/chain_list.h"

static const char content[] = "{\"environment\":{\"id\":\"stage\"}}";

static cJSON *list(const struct cde_chain_list_params *p)
{
	cJSON *o = NULL;

	assert_int_equal(cde_chain_list(&stand_in, p, &o), 0);
	assert_non_null(o);
	return o;
}

static const char *chain_at(const cJSON *page, int i)
{
	return member(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "chains"), i), "chainId", NULL, NULL);
}

static double number(const cJSON *o, const char *name)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static void chains_are_listed_newest_first_by_their_latest_event(void **state)
{
	struct cde_chain_list_params p = { .limit = 10 };
	cJSON *page;
	const cJSON *a;

	(void)state;
	post("2026-03-01T10:00:00Z", "build.started.0.3.0", "b-1", "A", "{}");
	post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-2", "B", "{}");
	post("2026-03-01T10:00:02Z", "build.finished.0.3.0", "b-1", "A", "{}");
	post("2026-03-01T10:00:03Z", "build.started.0.3.0", "b-3", "C", "{}");
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 3);
	assert_string_equal(chain_at(page, 0), "C");
	assert_string_equal(chain_at(page, 1), "A");
	assert_string_equal(chain_at(page, 2), "B");
	a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "chains"), 1);
	assert_int_equal(number(a, "firstSeq"), 1);
	assert_int_equal(number(a, "lastSeq"), 3);
	assert_int_equal(number(a, "matchedSeq"), 3);
	assert_string_equal(member(a, "lastReceivedAt", NULL, NULL), "2026-03-01T10:00:02Z");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(page, "nextAfter")));
	cJSON_Delete(page);
}

/* Ten chains, each with an event in each of three rounds: a later page
 * meets the older events of the chains already listed. */
static void pages_follow_one_another_without_repeating_a_chain(void **state)
{
	struct cde_chain_list_params p = { .limit = 3 };
	char seen[10] = { 0 }, name[8];
	int listed = 0, pages = 0;

	(void)state;
	for (int round = 0; round < 3; round++)
		for (int c = 0; c < 10; c++) {
			snprintf(name, sizeof(name), "c%d", c);
			post("2026-03-01T10:00:00Z", "build.started.0.3.0", name, name, "{}");
		}
	for (;;) {
		cJSON *page = list(&p);
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "nextAfter"), *row;

		pages++;
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(page, "chains")) {
			int c = member(row, "chainId", NULL, NULL)[1] - '0';

			/* newest first: c9 is the latest of each round */
			assert_int_equal(c, 9 - listed);
			assert_false(seen[c]);
			seen[c] = 1;
			listed++;
		}
		if (cJSON_IsNull(next)) {
			cJSON_Delete(page);
			break;
		}
		p.after = (uint64_t)cJSON_GetNumberValue(next);
		cJSON_Delete(page);
		assert_true(pages < 10);
	}
	assert_int_equal(listed, 10);
}

/* Page 1 is read, then chain A, not yet listed, gets a new event: it is
 * still listed, once, where it stood when page 1 was read (without the
 * head it counted as shown: its latest event was after page 2's start). */
static void a_chain_with_a_new_event_between_pages_is_still_listed_once(void **state)
{
	struct cde_chain_list_params p = { .limit = 1 };
	char listed[8] = "";
	cJSON *page;

	(void)state;
	post("2026-03-01T10:00:00Z", "build.started.0.3.0", "b-1", "A", "{}");
	post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-2", "B", "{}");
	post("2026-03-01T10:00:02Z", "build.started.0.3.0", "b-3", "C", "{}");
	for (int pages = 0;; pages++) {
		assert_true(pages < 5);
		page = list(&p);
		if (chain_at(page, 0))
			strcat(listed, chain_at(page, 0));
		assert_int_equal(number(page, "head"), 3);
		if (pages == 0)
			post("2026-03-01T10:00:03Z", "build.finished.0.3.0", "b-1", "A", "{}");
		if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(page, "nextAfter"))) {
			cJSON_Delete(page);
			break;
		}
		p.after = (uint64_t)number(page, "nextAfter");
		p.head = (uint64_t)number(page, "head");
		cJSON_Delete(page);
	}
	assert_string_equal(listed, "CBA");
	/* A first page with that head reads nothing after it either. */
	p.after = 0;
	page = list(&p);
	assert_string_equal(chain_at(page, 0), "C");
	cJSON_Delete(page);
	/* A new first page sees A's new event. */
	p.head = 0;
	page = list(&p);
	assert_string_equal(chain_at(page, 0), "A");
	assert_int_equal(number(page, "head"), 4);
	cJSON_Delete(page);
}

static void filters_pick_the_events_that_place_a_chain(void **state)
{
	struct cde_chain_list_params p = { .limit = 10, .filter = { .environment = "stage" } };
	cJSON *page;

	(void)state;
	post("2026-03-01T10:00:00Z", "service.deployed.0.3.0", "etl", "A", content);
	post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-2", "B", "{}");
	post("2026-03-01T10:00:02Z", "build.started.0.3.0", "b-3", "A", "{}"); /* A's latest, not in stage */
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 1);
	assert_string_equal(chain_at(page, 0), "A");
	/* placed by its stage event; its span is still the whole chain's */
	assert_int_equal(number(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "chains"), 0), "matchedSeq"), 1);
	assert_int_equal(number(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(page, "chains"), 0), "lastSeq"), 3);
	cJSON_Delete(page);
}

static void a_page_cut_by_its_reading_budget_says_where_to_go_on(void **state)
{
	struct cde_chain_list_params p = { .limit = 5, .scan_max = 4 };
	cJSON *page;

	(void)state;
	post("2026-03-01T10:00:00Z", "build.started.0.3.0", "b-1", "A", "{}");
	for (int i = 0; i < 6; i++)
		post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-2", "B", "{}");
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 1);
	assert_string_equal(chain_at(page, 0), "B");
	assert_int_equal(number(page, "scanned"), 4);
	assert_int_equal(number(page, "nextAfter"), 4); /* the last event read */
	p.after = 4;
	cJSON_Delete(page);
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 1);
	assert_string_equal(chain_at(page, 0), "A");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(page, "nextAfter")));
	cJSON_Delete(page);
}

/* Page 2 meets C, B and A again (listed on page 1): the three checks
 * that tell so read a row each, and with the 3 events that is past a
 * budget of 4: the page stops there, says where to go on, and X is on
 * the next. (Uncounted, a check of each chain met again could read on
 * far past the budget.) */
static void rows_read_by_the_checks_count_against_scan_max(void **state)
{
	struct cde_chain_list_params p = { .limit = 3 };
	cJSON *page;

	(void)state;
	post("2026-03-01T10:00:00Z", "build.started.0.3.0", "b-x", "X", "{}");
	for (int round = 0; round < 2; round++) {
		post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-a", "A", "{}");
		post("2026-03-01T10:00:02Z", "build.started.0.3.0", "b-b", "B", "{}");
		post("2026-03-01T10:00:03Z", "build.started.0.3.0", "b-c", "C", "{}");
	}
	page = list(&p);
	assert_int_equal(number(page, "nextAfter"), 5);
	assert_int_equal(number(page, "head"), 7);
	cJSON_Delete(page);
	p = (struct cde_chain_list_params){ .limit = 3, .after = 5, .head = 7, .scan_max = 4 };
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 0);
	assert_int_equal(number(page, "scanned"), 6);
	assert_int_equal(number(page, "nextAfter"), 2);
	cJSON_Delete(page);
	p.after = 2;
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 1);
	assert_string_equal(chain_at(page, 0), "X");
	cJSON_Delete(page);
}

/* The stand-in's records with their event text replaced by something
 * that is not JSON: a reader can only know the chain from chain_id. */
static int opaque_record(void *ctx, const struct cde_audit_record *rec)
{
	const struct { cde_audit_record_fn fn; void *ctx; } *inner = ctx;
	struct cde_audit_record r = *rec;

	r.event = "(900 KiB the list has no need to parse)";
	return inner->fn(inner->ctx, &r);
}

static int opaque_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	struct { cde_audit_record_fn fn; void *ctx; } inner = { fn, fn_ctx };

	(void)ctx;
	/* and every read says the events are not needed */
	assert_true(f->no_event);
	return stand_in_query(NULL, f, opaque_record, &inner);
}

static void the_chain_is_taken_from_the_record_without_parsing_its_event(void **state)
{
	const struct cde_audit_source opaque = { .query = opaque_query };
	struct cde_chain_list_params p = { .limit = 10 };
	cJSON *page = NULL;

	(void)state;
	post("2026-03-01T10:00:00Z", "build.started.0.3.0", "b-1", "A", "{}");
	post("2026-03-01T10:00:01Z", "build.started.0.3.0", "b-2", "B", "{}");
	assert_int_equal(cde_chain_list(&opaque, &p, &page), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 2);
	assert_string_equal(chain_at(page, 0), "B");
	assert_string_equal(chain_at(page, 1), "A");
	cJSON_Delete(page);
}

static void events_without_a_chain_place_none(void **state)
{
	struct cde_chain_list_params p = { .limit = 10 };
	cJSON *page;

	(void)state;
	append_row("2026-03-01T10:00:00Z", "{\"context\":{\"id\":\"x\",\"type\":\"dev.cdevents.build.started.0.3.0\"},"
					   "\"subject\":{\"id\":\"b\",\"content\":{}}}");
	page = list(&p);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "chains")), 0);
	cJSON_Delete(page);
}

static void a_page_size_out_of_range_is_refused(void **state)
{
	struct cde_chain_list_params p = { .limit = 0 };
	cJSON *o = NULL;

	(void)state;
	assert_int_equal(cde_chain_list(&stand_in, &p, &o), -EINVAL);
	p.limit = CDE_CHAIN_LIST_MAX + 1;
	assert_int_equal(cde_chain_list(&stand_in, &p, &o), -EINVAL);
	/* and a head below the page's start, which no first page answered */
	p = (struct cde_chain_list_params){ .limit = 1, .after = 8, .head = 7 };
	assert_int_equal(cde_chain_list(&stand_in, &p, &o), -EINVAL);
	assert_null(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(chains_are_listed_newest_first_by_their_latest_event, reset),
		cmocka_unit_test_setup(pages_follow_one_another_without_repeating_a_chain, reset),
		cmocka_unit_test_setup(a_chain_with_a_new_event_between_pages_is_still_listed_once, reset),
		cmocka_unit_test_setup(filters_pick_the_events_that_place_a_chain, reset),
		cmocka_unit_test_setup(a_page_cut_by_its_reading_budget_says_where_to_go_on, reset),
		cmocka_unit_test_setup(rows_read_by_the_checks_count_against_scan_max, reset),
		cmocka_unit_test_setup(the_chain_is_taken_from_the_record_without_parsing_its_event, reset),
		cmocka_unit_test_setup(events_without_a_chain_place_none, reset),
		cmocka_unit_test_setup(a_page_size_out_of_range_is_refused, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
