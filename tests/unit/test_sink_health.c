/* A sink's health in the log (sinks/sink_health.c): each state change is
 * one line, however many events or attempts it spans; reminders and new
 * announcements are rate-limited; the lines carry what an operator needs. */

#include "tests/unit/helpers.h"

#include "sinks/sink_health.h"

#define MIN CDE_SINK_HEALTH_REPEAT_MS

static void the_first_failure_after_success_is_announced_once(void **state)
{
	struct cde_sink_health h = { 0 };

	assert_int_equal(cde_sink_health_failed(&h, 1000), CDE_SINK_NOTE_FAILING);
	for (int64_t t = 1001; t < 1000 + MIN; t += 997)
		assert_int_equal(cde_sink_health_failed(&h, t), CDE_SINK_NOTE_NONE);
	assert_true(h.failures > 50);
}

static void a_long_outage_is_reminded_at_most_once_a_minute(void **state)
{
	struct cde_sink_health h = { 0 };

	cde_sink_health_failed(&h, 0);
	assert_int_equal(cde_sink_health_failed(&h, MIN - 1), CDE_SINK_NOTE_NONE);
	assert_int_equal(cde_sink_health_failed(&h, MIN), CDE_SINK_NOTE_STILL_FAILING);
	assert_int_equal(cde_sink_health_failed(&h, MIN + 10), CDE_SINK_NOTE_NONE);
	assert_int_equal(cde_sink_health_failed(&h, 2 * MIN), CDE_SINK_NOTE_STILL_FAILING);
}

static void dead_lettering_is_announced_once_per_outage(void **state)
{
	struct cde_sink_health h = { 0 };

	cde_sink_health_failed(&h, 0);
	assert_int_equal(cde_sink_health_dead(&h, 1), CDE_SINK_NOTE_DEAD_LETTERING);
	cde_sink_health_failed(&h, 2);
	assert_int_equal(cde_sink_health_dead(&h, 3), CDE_SINK_NOTE_NONE);
	assert_int_equal(h.dead, 2);
}

static void a_delivery_after_an_announced_failure_is_a_recovery(void **state)
{
	struct cde_sink_health h = { 0 };

	assert_int_equal(cde_sink_health_delivered(&h, 0), CDE_SINK_NOTE_NONE);
	cde_sink_health_failed(&h, 100);
	cde_sink_health_failed(&h, 200);
	assert_int_equal(cde_sink_health_delivered(&h, 5100), CDE_SINK_NOTE_RECOVERED);
	assert_int_equal(h.up_since_ms - h.down_since_ms, 5000);
	assert_int_equal(h.failures, 2);
	assert_int_equal(cde_sink_health_delivered(&h, 5200), CDE_SINK_NOTE_NONE);
	assert_int_equal(cde_sink_health_idle(&h, 3), CDE_SINK_NOTE_NONE);
	cde_sink_health_delivered(&h, 5300);
	assert_int_equal(cde_sink_health_idle(&h, 0), CDE_SINK_NOTE_CAUGHT_UP);
	assert_int_equal(h.delivered, 3);
	assert_int_equal(cde_sink_health_idle(&h, 0), CDE_SINK_NOTE_NONE);
}

static void a_sink_that_flaps_within_a_minute_stays_quiet(void **state)
{
	struct cde_sink_health h = { 0 };

	cde_sink_health_failed(&h, 0);
	cde_sink_health_delivered(&h, 1000);
	/* A new outage soon after the last line: silent, and so is its end. */
	assert_int_equal(cde_sink_health_failed(&h, 2000), CDE_SINK_NOTE_NONE);
	assert_int_equal(cde_sink_health_dead(&h, 2001), CDE_SINK_NOTE_NONE);
	assert_int_equal(cde_sink_health_delivered(&h, 3000), CDE_SINK_NOTE_NONE);
	/* One that lasts is announced, with the failures counted from its start. */
	cde_sink_health_failed(&h, 4000);
	assert_int_equal(cde_sink_health_failed(&h, 1000 + MIN), CDE_SINK_NOTE_FAILING);
	assert_int_equal(h.failures, 2);
	assert_int_equal(h.down_since_ms, 4000);
}

static void the_circuit_opens_after_failures_in_a_row_and_a_delivery_closes_it(void **state)
{
	struct cde_sink_health h = { 0 };

	for (int i = 0; i < CDE_SINK_CIRCUIT_FAILURES; i++) {
		assert_false(cde_sink_health_circuit_open(&h));
		cde_sink_health_failed(&h, i);
	}
	assert_true(cde_sink_health_circuit_open(&h));
	cde_sink_health_failed(&h, 100);
	assert_true(cde_sink_health_circuit_open(&h));
	cde_sink_health_delivered(&h, 200);
	assert_false(cde_sink_health_circuit_open(&h));
}

static void an_event_failing_among_deliveries_does_not_open_the_circuit(void **state)
{
	struct cde_sink_health h = { 0 };

	for (int i = 0; i < 100; i++) {
		cde_sink_health_failed(&h, i * 10);
		cde_sink_health_delivered(&h, i * 10 + 1);
		cde_sink_health_delivered(&h, i * 10 + 2);
		assert_false(cde_sink_health_circuit_open(&h));
	}
}

struct captured {
	int calls;
	enum cde_delivery_log_level level;
	char msg[64], fields[512];
};

static void capture(void *ctx, enum cde_delivery_log_level level, const char *msg,
		    const struct cde_delivery_log_field *fields, size_t n)
{
	struct captured *c = ctx;
	size_t len = 0;

	c->calls++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	c->fields[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (fields[i].value)
			len += (size_t)snprintf(c->fields + len, sizeof(c->fields) - len, "%s%s=%s", i ? " " : "",
						fields[i].key, fields[i].value);
}

static void each_line_names_the_sink_and_what_an_operator_needs(void **state)
{
	struct captured c = { 0 };
	struct cde_delivery_log log = { capture, &c };
	struct cde_sink_health h = { 0 };
	struct cde_sink_note_info info = { .sink = "hook", .error = "HTTP 503: busy", .status = 503,
					   .retry_in_ms = 1500, .backlog = 7, .now_ms = 0 };

	cde_sink_health_log(&log, cde_sink_health_failed(&h, 0), &h, &info);
	assert_int_equal(c.level, CDE_DELIVERY_LOG_WARN);
	assert_string_equal(c.msg, "sink failing");
	assert_string_equal(c.fields, "sink=hook status=503 error=HTTP 503: busy retry_in=1.5s");

	info.now_ms = 2000;
	cde_sink_health_log(&log, cde_sink_health_dead(&h, 2000), &h, &info);
	assert_int_equal(c.level, CDE_DELIVERY_LOG_ERROR);
	assert_string_equal(c.fields, "sink=hook dead_letters=1 down_for=2.0s error=HTTP 503: busy");

	info.now_ms = 2 * MIN + 5000;
	cde_sink_health_log(&log, cde_sink_health_failed(&h, info.now_ms), &h, &info);
	assert_string_equal(c.msg, "sink still failing");
	assert_string_equal(c.fields, "sink=hook down_for=2m05s failed_attempts=2 dead_letters=1 backlog=7 "
				      "error=HTTP 503: busy");

	info.now_ms = 3 * 3600000 + 1200000;
	cde_sink_health_log(&log, cde_sink_health_delivered(&h, info.now_ms), &h, &info);
	assert_int_equal(c.level, CDE_DELIVERY_LOG_INFO);
	assert_string_equal(c.fields, "sink=hook down_for=3h20m failed_attempts=2 dead_letters=1 backlog=7");

	info.now_ms += 850;
	cde_sink_health_log(&log, cde_sink_health_idle(&h, 0), &h, &info);
	assert_string_equal(c.msg, "sink caught up");
	assert_string_equal(c.fields, "sink=hook delivered=1 took=850ms");

	/* Nothing to say, or nobody to say it to: no call. */
	cde_sink_health_log(&log, CDE_SINK_NOTE_NONE, &h, &info);
	cde_sink_health_log(&(struct cde_delivery_log){ 0 }, CDE_SINK_NOTE_FAILING, &h, &info);
	assert_int_equal(c.calls, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_failure_after_success_is_announced_once),
		cmocka_unit_test(a_long_outage_is_reminded_at_most_once_a_minute),
		cmocka_unit_test(dead_lettering_is_announced_once_per_outage),
		cmocka_unit_test(a_delivery_after_an_announced_failure_is_a_recovery),
		cmocka_unit_test(a_sink_that_flaps_within_a_minute_stays_quiet),
		cmocka_unit_test(the_circuit_opens_after_failures_in_a_row_and_a_delivery_closes_it),
		cmocka_unit_test(an_event_failing_among_deliveries_does_not_open_the_circuit),
		cmocka_unit_test(each_line_names_the_sink_and_what_an_operator_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
