/* The list of chains (sinks/audit/answers/chain_list.c): chains newest
 * first by their latest matching event, pages that follow one another
 * without repeating or skipping a chain, filters that pick the events
 * that place a chain, and a page cut by its reading budget that says
 * where to go on; over a stand-in log. */

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
	assert_null(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(chains_are_listed_newest_first_by_their_latest_event, reset),
		cmocka_unit_test_setup(pages_follow_one_another_without_repeating_a_chain, reset),
		cmocka_unit_test_setup(filters_pick_the_events_that_place_a_chain, reset),
		cmocka_unit_test_setup(a_page_cut_by_its_reading_budget_says_where_to_go_on, reset),
		cmocka_unit_test_setup(events_without_a_chain_place_none, reset),
		cmocka_unit_test_setup(a_page_size_out_of_range_is_refused, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
