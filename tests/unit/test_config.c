/* Configuration: the embedded default, a file over it, values with units,
 * and every kind of mistake named by file and key. */

#include "tests/unit/helpers.h"

#include <unistd.h>

#include "config/config.h"

static char path[64];

static int load_text(const char *text, struct cde_config *cfg, struct cde_errors *errs)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/cde-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cde_errors_reset(errs);
	int r = cde_config_load_file(path, cfg, errs);

	unlink(path);
	return r;
}

static void the_embedded_default_is_what_the_daemon_issue_names(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	unsetenv("STATE_DIRECTORY");
	cde_config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:9720");
	assert_string_equal(c.state_dir, "./var");
	assert_string_equal(c.catalog_dir, "");
	assert_string_equal(c.source, "");
	assert_false(c.auth_none);
	assert_int_equal(c.limits.body_max, 1 << 20);
	assert_int_equal(c.limits.head_max, 16 << 10);
	assert_int_equal(c.limits.headers_max, 64);
	assert_int_equal(c.limits.head_timeout_ms, 10000);
	assert_int_equal(c.limits.body_timeout_ms, 30000);
	assert_int_equal(c.limits.idle_timeout_ms, 30000);
	assert_int_equal(c.limits.queue_max, 10000);
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_check(&c, &errs), 0);

	/* Under systemd, the state directory is the one it made. */
	setenv("STATE_DIRECTORY", "/var/lib/cdeventsd:/var/lib/other", 1);
	cde_config_defaults(&c);
	assert_string_equal(c.state_dir, "/var/lib/cdeventsd");
	unsetenv("STATE_DIRECTORY");
}

static void the_example_file_documents_the_defaults(void **state)
{
	char file[1024];
	struct cde_config from_file, defaults;
	struct cde_errors errs;

	snprintf(file, sizeof(file), "%s/config/cdeventsd.yaml", getenv("CDE_SOURCE_DIR"));
	cde_config_defaults(&defaults);
	cde_config_defaults(&from_file);
	memset(&from_file.limits, 0, sizeof(from_file.limits));
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_load_file(file, &from_file, &errs), 0);
	assert_memory_equal(&from_file, &defaults, sizeof(defaults));
}

static void a_file_replaces_only_what_it_says(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	assert_int_equal(load_text("source: /jenkins\nlog_level: debug\nlimits:\n  body_max: 64KiB\n"
				   "  head_timeout: 500ms\n  max_connections: 10\n", &c, &errs), 0);
	assert_string_equal(c.source, "/jenkins");
	assert_int_equal(c.log_level, CDE_CONFIG_LOG_DEBUG);
	assert_int_equal(c.limits.body_max, 64 << 10);
	assert_int_equal(c.limits.head_timeout_ms, 500);
	assert_int_equal(c.limits.max_connections, 10);
	assert_string_equal(c.listen, "127.0.0.1:9720");	/* untouched */
	assert_int_equal(c.limits.idle_timeout_ms, 30000);	/* untouched */

	cde_config_defaults(&c);
	assert_int_equal(load_text("", &c, &errs), 0);	/* an empty file is the default */
	assert_string_equal(c.listen, "127.0.0.1:9720");
}

static void names_the_file_and_key_of_each_mistake(void **state)
{
	struct cde_config c, before;
	struct cde_errors errs;

	cde_config_defaults(&c);
	before = c;
	assert_int_equal(load_text("limits:\n  body_max: 1XB\n  head_timeout: soon\n  max_connections: 0\n"
				   "log_level: loud\nlisten: nowhere\n", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/limits/body_max", "/limits/body_max: \"1XB\" is not a size"));
	assert_true(has_error(&errs, "/limits/head_timeout", "is not a duration"));
	assert_true(has_error(&errs, "/limits/max_connections", "is not a count"));
	assert_true(has_error(&errs, "/log_level", "is not one of error, warn, info, debug"));
	assert_true(has_error(&errs, "/listen", "is not HOST:PORT"));
	assert_true(strstr(errs.items[0].reason, "/tmp/cde-config-") == errs.items[0].reason);
	assert_memory_equal(&c, &before, sizeof(c)); /* nothing applied */

	assert_int_equal(load_text("audit:\n  max_age: 90\n  max_size: 10KiB\n", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/audit/max_age", "is not an age"));
	assert_true(has_error(&errs, "/audit/max_size", "of 1MiB or more"));
	assert_int_equal(load_text("audit:\n  max_age: 400d\n  max_size: 20GiB\n  retention_interval: 10m\n",
				   &c, &errs), 0);
	assert_int_equal(c.audit_max_age_s, 400ull * 86400);
	assert_int_equal(c.audit_max_size, 20ull << 30);
	assert_int_equal(c.audit_retention_interval_ms, 600000);

	assert_int_equal(load_text("colour: red\n", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "Unexpected key: colour"));
	assert_int_equal(load_text("limits: [1, 2]\n", &c, &errs), -EINVAL);
	assert_int_equal(load_text("listen: [\n", &c, &errs), -EINVAL);

	cde_errors_reset(&errs);
	assert_int_equal(cde_config_load_file("/nonexistent.yaml", &c, &errs), -ENOENT);
	assert_true(has_error(&errs, "", "/nonexistent.yaml: No such file or directory"));
}

static void a_public_listener_needs_auth_none_said_explicitly(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	snprintf(c.listen, sizeof(c.listen), "0.0.0.0:9720");
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_check(&c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/auth", "set \"auth: none\""));
	c.auth_none = true;
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_check(&c, &errs), 0);
	snprintf(c.listen, sizeof(c.listen), "[::1]:9720");
	c.auth_none = false;
	assert_int_equal(cde_config_check(&c, &errs), 0);
}

static void parses_units(void **state)
{
	size_t n;
	unsigned ms;
	uint64_t age;
	char host[64];
	unsigned short port;

	assert_int_equal(cde_config_parse_size("1MiB", &n), 0);
	assert_int_equal(n, 1048576);
	assert_int_equal(cde_config_parse_size("2MB", &n), 0);
	assert_int_equal(n, 2000000);
	assert_int_equal(cde_config_parse_size("512", &n), 0);
	assert_int_equal(n, 512);
	assert_int_equal(cde_config_parse_size("1 KiB", &n), 0);
	assert_int_equal(n, 1024);
	assert_int_equal(cde_config_parse_size("-1", &n), -EINVAL);
	assert_int_equal(cde_config_parse_size("1mib", &n), -EINVAL);
	assert_int_equal(cde_config_parse_size("99999999999999999999GiB", &n), -EINVAL);
	assert_int_equal(cde_config_parse_duration("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(cde_config_parse_duration("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(cde_config_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(cde_config_parse_duration("7", &ms), 0);
	assert_int_equal(ms, 7000);
	assert_int_equal(cde_config_parse_duration("1y", &ms), -EINVAL);
	assert_int_equal(cde_config_parse_age("400d", &age), 0);
	assert_int_equal(age, 400ull * 86400);
	assert_int_equal(cde_config_parse_age("2w", &age), 0);
	assert_int_equal(age, 14ull * 86400);
	assert_int_equal(cde_config_parse_age("90", &age), -EINVAL);	/* which unit? */
	assert_int_equal(cde_config_parse_age("1000y", &age), -EINVAL);
	assert_int_equal(cde_config_parse_size("2TiB", &n), 0);
	assert_int_equal(n, 2ull << 40);
	assert_int_equal(cde_config_split_listen("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(cde_config_split_listen("::1:80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(cde_config_split_listen("host:99999", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(cde_config_split_listen(":80", host, sizeof(host), &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_embedded_default_is_what_the_daemon_issue_names),
		cmocka_unit_test(the_example_file_documents_the_defaults),
		cmocka_unit_test(a_file_replaces_only_what_it_says),
		cmocka_unit_test(names_the_file_and_key_of_each_mistake),
		cmocka_unit_test(a_public_listener_needs_auth_none_said_explicitly),
		cmocka_unit_test(parses_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
