/* The dora: key: the failure window of the change failure rate, and the
 * window and interval of the DORA gauges; defaults when absent, each
 * mistake named by its key. */

#include "tests/unit/helpers.h"

#include "tests/unit/config_file.h"

static void a_day_a_month_a_minute_by_default(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	(void)state;
	cde_config_defaults(&c);
	assert_int_equal(c.dora.failure_window_s, 86400);
	assert_int_equal(c.dora.window_s, 30 * 86400);
	assert_int_equal(c.dora.interval_ms, 60000);
	assert_int_equal(config_load_text("dora:\n", &c, &errs), 0);
	assert_int_equal(c.dora.failure_window_s, 86400);
}

static void each_key_takes_a_duration(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	(void)state;
	assert_int_equal(config_load_text("dora:\n  failure_window: 48h\n  window: 90d\n  interval: 5m\n", &c, &errs), 0);
	assert_int_equal(c.dora.failure_window_s, 48 * 3600);
	assert_int_equal(c.dora.window_s, 90 * 86400);
	assert_int_equal(c.dora.interval_ms, 300000);
	assert_int_equal(config_load_text("dora:\n  failure_window: 2w\n", &c, &errs), 0);
	assert_int_equal(c.dora.failure_window_s, 14 * 86400);
	assert_int_equal(c.dora.window_s, 30 * 86400);
}

static void each_mistake_is_named(void **state)
{
	static const struct {
		const char *yaml, *pointer, *words;
	} bad[] = {
		{ "dora: 24h\n", "/dora", "must be a map" },
		{ "dora:\n  failure_window: 24\n", "/dora/failure_window", "with its unit" },
		{ "dora:\n  failure_window: soon\n", "/dora/failure_window", "with its unit" },
		{ "dora:\n  window: 30m\n", "/dora/window", "from 1h" },
		{ "dora:\n  window: 4000d\n", "/dora/window", "3650d" },
		{ "dora:\n  interval: 0s\n", "/dora/interval", "from 1s" },
		{ "dora:\n  interval: 2d\n", "/dora/interval", "from 1s" },
		{ "dora:\n  failure-window: 24h\n", "/dora/failure-window", "unknown key for dora" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cde_config c;
		struct cde_errors errs;

		if (config_load_text(bad[i].yaml, &c, &errs) != -EINVAL || !has_error(&errs, bad[i].pointer, bad[i].words)) {
			print_message("%s--- expected %s: %s, got:\n", bad[i].yaml, bad[i].pointer, bad[i].words);
			print_errors(&errs);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_day_a_month_a_minute_by_default),
		cmocka_unit_test(each_key_takes_a_duration),
		cmocka_unit_test(each_mistake_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
