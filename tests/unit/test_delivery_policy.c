/* The delivery engine's decisions (sinks/delivery_policy.c): the
 * in-flight window and the cursor it allows, backoff with full jitter and
 * its caps, and when an event becomes a dead letter. */

#include "tests/unit/helpers.h"

#include <limits.h>

#include "sinks/delivery_policy.h"

static struct cde_sink_options sink_cfg(void)
{
	return (struct cde_sink_options){ .max_attempts = 12, .max_age_s = 86400, .max_backoff_ms = 300000,
					 .max_retry_after_ms = 600000 };
}

/* --- backoff ------------------------------------------------------------- */

static void full_jitter_draws_from_zero_to_the_exponential(void **state)
{
	struct cde_sink_options c = sink_cfg();

	assert_int_equal(cde_delivery_backoff_ms(&c, 1, -1, 0), 0);
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, -1, 500), 500);
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, -1, 501), 0);
	assert_int_equal(cde_delivery_backoff_ms(&c, 2, -1, 1000), 1000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 4, -1, 4000), 4000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 4, -1, 4001), 0);
	for (uint64_t r = 0; r < 100000; r += 7919)
		assert_in_range(cde_delivery_backoff_ms(&c, 3, -1, r * 2654435761u), 0, 2000);
}

static void backoff_is_capped_by_max_backoff(void **state)
{
	struct cde_sink_options c = sink_cfg();

	c.max_backoff_ms = 1000;
	assert_int_equal(cde_delivery_backoff_ms(&c, 3, -1, 1000), 1000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 3, -1, 1001), 0);
	/* No overflow however many attempts. */
	assert_in_range(cde_delivery_backoff_ms(&c, UINT_MAX, -1, UINT64_MAX), 0, 1000);
	c.max_backoff_ms = 0;
	assert_int_equal(cde_delivery_backoff_ms(&c, 40, -1, CDE_DELIVERY_MAX_BACKOFF_MS), CDE_DELIVERY_MAX_BACKOFF_MS);
	assert_int_equal(cde_delivery_backoff_ms(&c, 40, -1, CDE_DELIVERY_MAX_BACKOFF_MS + 1), 0);
}

static void retry_after_is_a_floor_not_a_ceiling(void **state)
{
	struct cde_sink_options c = sink_cfg();

	assert_int_equal(cde_delivery_backoff_ms(&c, 1, 7, 0), 7000);
	/* A shorter hint does not shorten the jitter drawn. */
	assert_int_equal(cde_delivery_backoff_ms(&c, 4, 0, 3000), 3000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 4, 1, 3000), 3000);
}

static void retry_after_is_capped_by_max_retry_after(void **state)
{
	struct cde_sink_options c = sink_cfg();

	c.max_retry_after_ms = 60000;
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, 3600, 0), 60000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, 60, 0), 60000);
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, 59, 0), 59000);
	/* Capped before the multiplication: no overflow. */
	assert_int_equal(cde_delivery_backoff_ms(&c, 1, LONG_MAX, 0), 60000);
}

/* --- dead letters -------------------------------------------------------- */

static void a_4xx_other_than_408_and_429_is_permanent(void **state)
{
	static const long dead[] = { 400, 401, 403, 405, 410, 413, 415, 422, 451 };
	static const long retry[] = { 0, 404, 408, 409, 429, 500, 502, 503, 504 };
	struct cde_sink_options c = sink_cfg();

	for (size_t i = 0; i < sizeof(dead) / sizeof(dead[0]); i++) {
		assert_int_equal(cde_sink_outcome_of_status(dead[i]), CDE_SINK_DEAD);
		assert_int_equal(cde_delivery_decide(&c, cde_sink_outcome_of_status(dead[i]), 1, 0),
				 CDE_DELIVERY_REFUSED);
	}
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		assert_int_equal(cde_sink_outcome_of_status(retry[i]), CDE_SINK_RETRY);
		assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 1, 0), CDE_DELIVERY_TRY_AGAIN);
	}
	assert_int_equal(cde_sink_outcome_of_status(200), CDE_SINK_DELIVERED);
	assert_int_equal(cde_sink_outcome_of_status(202), CDE_SINK_DELIVERED);
	assert_int_equal(cde_sink_outcome_of_status(204), CDE_SINK_DELIVERED);
}

static void an_event_is_given_up_after_max_attempts(void **state)
{
	struct cde_sink_options c = sink_cfg();

	c.max_attempts = 3;
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 1, 0), CDE_DELIVERY_TRY_AGAIN);
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 2, 0), CDE_DELIVERY_TRY_AGAIN);
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 3, 0), CDE_DELIVERY_GAVE_UP);
}

static void an_event_is_given_up_past_max_age(void **state)
{
	struct cde_sink_options c = sink_cfg();

	c.max_age_s = 60;
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 1, 59.9), CDE_DELIVERY_TRY_AGAIN);
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 1, 60), CDE_DELIVERY_TOO_OLD);
	/* Both budgets spent: age is the reason given. */
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 12, 61), CDE_DELIVERY_TOO_OLD);
	c.max_age_s = 0;
	assert_int_equal(cde_delivery_decide(&c, CDE_SINK_RETRY, 1, 1e9), CDE_DELIVERY_TRY_AGAIN);
}

static void age_counts_from_when_the_event_was_received(void **state)
{
	/* Not from when this run of the daemon first took it. */
	assert_true(cde_delivery_age_s(1000, 1060, 5000, 5001) == 60);
	/* Unknown receive time: since first taken. */
	assert_true(cde_delivery_age_s(0, 1060, 5000, 6500) == 1.5);
}

/* --- the window and the cursor ------------------------------------------- */

static void the_window_holds_at_most_max_in_flight(void **state)
{
	struct cde_window w;

	assert_int_equal(cde_window_init(&w, 3, 10), 0);
	assert_int_equal(cde_window_take(&w, 11, false), 0);
	assert_int_equal(cde_window_take(&w, 12, false), 1);
	assert_int_equal(cde_window_take(&w, 13, false), 2);
	assert_true(cde_window_full(&w));
	assert_int_equal(cde_window_take(&w, 14, false), -1);
	assert_int_equal(w.fetched, 13);
	assert_true(cde_window_pending(&w, 12));
	assert_false(cde_window_pending(&w, 14));
	w.e[0].in_flight = w.e[2].in_flight = true;
	assert_int_equal(cde_window_in_flight(&w), 2);
	cde_window_settle(&w, 1);
	assert_false(cde_window_full(&w));
	assert_int_equal(cde_window_take(&w, 14, false), 1);
	cde_window_release(&w);

	assert_int_equal(cde_window_init(&w, 0, 0), 0);
	assert_int_equal(w.n, CDE_DELIVERY_WINDOW_DEFAULT);
	cde_window_release(&w);
}

static void the_cursor_never_passes_an_unsettled_event(void **state)
{
	struct cde_window w;

	assert_int_equal(cde_window_init(&w, 4, 10), 0);
	assert_int_equal(cde_window_cursor(&w), 10);
	cde_window_take(&w, 11, false);
	cde_window_take(&w, 12, false);
	cde_window_take(&w, 13, false);
	assert_int_equal(cde_window_cursor(&w), 10);
	cde_window_settle(&w, 1);	/* 12 done, 11 still out */
	assert_int_equal(cde_window_cursor(&w), 10);
	cde_window_settle(&w, 0);	/* 11 done: up to 12 */
	assert_int_equal(cde_window_cursor(&w), 12);
	cde_window_pass(&w, 14);	/* not routed here */
	cde_window_pass(&w, 15);
	assert_int_equal(cde_window_cursor(&w), 12);
	cde_window_settle(&w, 2);
	assert_int_equal(cde_window_cursor(&w), 15);
	cde_window_release(&w);
}

static void rows_passed_over_move_the_cursor(void **state)
{
	struct cde_window w;

	assert_int_equal(cde_window_init(&w, 2, 0), 0);
	cde_window_pass(&w, 1);
	cde_window_pass(&w, 2);
	assert_int_equal(cde_window_cursor(&w), 2);
	cde_window_release(&w);
}

static void a_dead_letter_holds_the_cursor_until_it_is_stored(void **state)
{
	struct cde_window w;
	int i;

	assert_int_equal(cde_window_init(&w, 2, 20), 0);
	i = cde_window_take(&w, 21, false);
	cde_window_pass(&w, 22);
	w.e[i].dead = true;	/* given up on; the store has not taken it yet */
	assert_int_equal(cde_window_cursor(&w), 20);
	assert_true(cde_window_pending(&w, 21));
	cde_window_settle(&w, (unsigned)i);	/* stored */
	assert_int_equal(cde_window_cursor(&w), 22);
	cde_window_release(&w);
}

static void a_replayed_dead_letter_never_holds_the_cursor(void **state)
{
	struct cde_window w;

	assert_int_equal(cde_window_init(&w, 2, 30), 0);
	assert_int_equal(cde_window_take(&w, 5, true), 0);
	assert_int_equal(w.fetched, 30);
	assert_int_equal(cde_window_cursor(&w), 30);
	assert_true(cde_window_pending(&w, 5));
	cde_window_take(&w, 31, false);
	assert_int_equal(cde_window_cursor(&w), 30);
	cde_window_settle(&w, 1);
	assert_int_equal(cde_window_cursor(&w), 31);
	cde_window_release(&w);
}

static void the_lag_counts_events_not_settled_not_rows_after_the_cursor(void **state)
{
	struct cde_window w;

	/* A receiver back after an outage: 11 still waits for its retry,
	 * 12 to 999 are delivered, 1000 is out, 1001 to 1005 are not read. */
	assert_int_equal(cde_window_init(&w, 4, 10), 0);
	assert_int_equal(cde_window_unsettled(&w, 10), 0);
	assert_int_equal(cde_window_unsettled(&w, 15), 5);
	cde_window_take(&w, 11, false);
	cde_window_pass(&w, 999);
	cde_window_take(&w, 1000, false);
	assert_int_equal(cde_window_cursor(&w), 10);
	assert_int_equal(cde_window_unsettled(&w, 1005), 2 + 5);
	/* A replayed dead letter is below the cursor: not lag. */
	cde_window_take(&w, 3, true);
	assert_int_equal(cde_window_unsettled(&w, 1005), 2 + 5);
	cde_window_release(&w);
}

static void an_event_goes_early_at_most_once_per_backoff(void **state)
{
	assert_true(cde_delivery_may_rush(1, 0));
	assert_true(cde_delivery_may_rush(9, 0));
	/* Sent early after 5 attempts: the early one was the 6th. If that
	 * failed too, it waits for its own timer (the 7th) before it may go
	 * early again. */
	assert_false(cde_delivery_may_rush(6, 5));
	assert_true(cde_delivery_may_rush(7, 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_jitter_draws_from_zero_to_the_exponential),
		cmocka_unit_test(backoff_is_capped_by_max_backoff),
		cmocka_unit_test(retry_after_is_a_floor_not_a_ceiling),
		cmocka_unit_test(retry_after_is_capped_by_max_retry_after),
		cmocka_unit_test(a_4xx_other_than_408_and_429_is_permanent),
		cmocka_unit_test(an_event_is_given_up_after_max_attempts),
		cmocka_unit_test(an_event_is_given_up_past_max_age),
		cmocka_unit_test(age_counts_from_when_the_event_was_received),
		cmocka_unit_test(the_window_holds_at_most_max_in_flight),
		cmocka_unit_test(the_cursor_never_passes_an_unsettled_event),
		cmocka_unit_test(rows_passed_over_move_the_cursor),
		cmocka_unit_test(a_dead_letter_holds_the_cursor_until_it_is_stored),
		cmocka_unit_test(a_replayed_dead_letter_never_holds_the_cursor),
		cmocka_unit_test(the_lag_counts_events_not_settled_not_rows_after_the_cursor),
		cmocka_unit_test(an_event_goes_early_at_most_once_per_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
