/* Configuration: the embedded default, a file over it, values with units,
 * and every kind of mistake named by file and key. */

#include "tests/unit/helpers.h"
#include "tests/unit/fixtures.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/yaml_json.h"
#include "daemon/config_load.h"
#include "sinks/filter.h"

static char path[64];

/* Writes @text to a new file named in @path. */
static void write_temp(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/cde-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load_text(const char *text, struct cde_config *cfg, struct cde_errors *errs)
{
	write_temp(text);
	cde_errors_reset(errs);
	/* As the daemon loads it: the file, then its route filters. */
	int r = cde_daemon_config_load(path, cfg, errs);

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
	assert_int_equal(c.log_format, CDE_CONFIG_LOG_LOGFMT);	/* the default, untouched */
	assert_int_equal(load_text("log_format: json\n", &c, &errs), 0);
	assert_int_equal(c.log_format, CDE_CONFIG_LOG_JSON);
	assert_int_equal(load_text("log_format: logfmt\n", &c, &errs), 0);
	assert_int_equal(c.log_format, CDE_CONFIG_LOG_LOGFMT);
	assert_int_equal(c.limits.body_max, 64 << 10);
	assert_int_equal(c.limits.head_timeout_ms, 500);
	assert_int_equal(c.limits.max_connections, 10);
	assert_string_equal(c.listen, "127.0.0.1:9720");	/* untouched */
	assert_int_equal(c.limits.idle_timeout_ms, 30000);	/* untouched */
	assert_int_equal(c.limits.bodies_in_flight_max, 64 << 20);	/* the default */
	assert_int_equal(load_text("limits:\n  bodies_in_flight_max: 8MiB\n", &c, &errs), 0);
	assert_int_equal(c.limits.bodies_in_flight_max, 8 << 20);
	/* A cap below body_max would refuse the largest bodies forever. */
	assert_int_equal(load_text("limits:\n  bodies_in_flight_max: 32KiB\n", &c, &errs), 0);
	assert_int_equal(cde_config_check(&c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/limits/bodies_in_flight_max", "not be smaller than body_max"));
	c.limits.bodies_in_flight_max = 8 << 20;

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
				   "log_level: loud\nlog_format: xml\nlisten: nowhere\n", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/limits/body_max", "/limits/body_max: \"1XB\" is not a size"));
	assert_true(has_error(&errs, "/limits/head_timeout", "is not a duration"));
	assert_true(has_error(&errs, "/limits/max_connections", "is not a count"));
	assert_true(has_error(&errs, "/log_level", "is not one of error, warn, info, debug"));
	assert_true(has_error(&errs, "/log_format", "/log_format: \"xml\" is not one of logfmt, json"));
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
	/* Signed checkpoints: their cadence, and only over a log synced at
	 * every commit. */
	assert_int_equal(load_text("audit:\n  signing_key_file: /k\n  tree_checkpoint_every: 5\n"
				   "  tree_checkpoint_interval: 2s\n", &c, &errs), 0);
	assert_string_equal(c.audit_signing_key_file, "/k");
	assert_int_equal(c.audit_tree_checkpoint_every, 5);
	assert_int_equal(c.audit_tree_checkpoint_interval_ms, 2000);
	assert_int_equal(load_text("audit:\n  sync: normal\n  signing_key_file: /k\n  tree_checkpoint_every: 0\n",
				   &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/audit/signing_key_file", "need audit.sync: full"));
	assert_true(has_error(&errs, "/audit/tree_checkpoint_every", "is not a count"));

	assert_int_equal(load_text("metrics:\n  price_cpu_hour: cheap\n  price_gib_hour: \"-1\"\n", &c, &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/metrics/price_cpu_hour", "is not a price"));
	assert_true(has_error(&errs, "/metrics/price_gib_hour", "is not a price"));
	assert_int_equal(load_text("metrics:\n  max_series: 50\n  price_cpu_hour: 0.0475\n", &c, &errs), 0);
	assert_int_equal(c.metrics_max_series, 50);
	assert_true(c.metrics_price_cpu_hour == 0.0475);

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

/* The smallest useful fan-out, as the issue gives it. */
static void a_tekton_sink_and_one_route_load(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	assert_int_equal(c.n_sinks, 0);		/* the default: no sinks, no routes */
	assert_int_equal(c.n_routes, 0);
	assert_int_equal(load_text("sinks:\n"
				   "  - name: ci-listener\n"
				   "    type: tekton\n"
				   "    url: http://el-spark-release.tekton-pipelines.svc:8080\n"
				   "routes:\n"
				   "  - sinks: [ci-listener]\n"
				   "    filter: { prefix: { type: dev.cdevents.artifact. } }\n", &c, &errs), 0);
	assert_int_equal(c.n_sinks, 1);
	assert_string_equal(c.sinks[0].name, "ci-listener");
	assert_string_equal(c.sinks[0].type, "tekton");
	assert_string_equal(c.sinks[0].url, "http://el-spark-release.tekton-pipelines.svc:8080");
	assert_false(c.sinks[0].structured);
	assert_int_equal(c.sinks[0].n_headers, 0);
	assert_true(c.sinks[0].tls_verify);
	assert_int_equal(c.sinks[0].timeout_ms, 10000);
	assert_int_equal(c.sinks[0].max_in_flight, 16);
	assert_int_equal(c.sinks[0].max_attempts, 12);
	assert_int_equal(c.sinks[0].max_age_s, 86400);
	assert_int_equal(c.sinks[0].max_backoff_ms, 300000);
	assert_int_equal(c.sinks[0].max_retry_after_ms, 600000);
	assert_int_equal(c.sinks[0].rotate_size, 100 << 20);
	assert_int_equal(c.sinks[0].rotate_keep, 5);
	assert_int_equal(c.n_routes, 1);
	assert_int_equal(c.routes[0].n_sinks, 1);
	assert_int_equal(c.routes[0].sinks[0], 0);
	assert_string_equal(c.routes[0].filter, "{\"prefix\":{\"type\":\"dev.cdevents.artifact.\"}}");
}

/* A sink of each type, with every key, and two routes. */
static const char full_config[] =
	CDE_TEST_SINKS_YAML
	"  - sinks: [audit-hook, jsonl]\n";

static void every_sink_key_loads(void **state)
{
	struct cde_config c;
	struct cde_errors errs;
	struct cde_filter *f = NULL;
	cJSON *ev;

	cde_config_defaults(&c);
	assert_int_equal(load_text(full_config, &c, &errs), 0);
	assert_int_equal(c.n_sinks, 3);
	assert_int_equal(c.sinks[0].n_headers, 1);
	assert_string_equal(c.sinks[0].headers[0], "X-Cluster: eu-1");
	assert_int_equal(c.sinks[0].max_in_flight, 4);

	assert_string_equal(c.sinks[1].type, "webhook");
	assert_string_equal(c.sinks[1].url, "https://hooks.example.com/cdevents");
	assert_true(c.sinks[1].structured);
	assert_int_equal(c.sinks[1].n_headers, 2);
	assert_string_equal(c.sinks[1].headers[0], "X-Team: data platform");
	assert_string_equal(c.sinks[1].headers[1], "X-Priority: 2");
	assert_string_equal(c.sinks[1].token_file, "/etc/cdeventsd/hook.token");
	assert_string_equal(c.sinks[1].secret_file, "/etc/cdeventsd/hook.whsec");
	assert_false(c.sinks[1].tls_verify);
	assert_int_equal(c.sinks[1].timeout_ms, 5000);
	assert_int_equal(c.sinks[1].max_in_flight, 16);
	assert_int_equal(c.sinks[1].max_attempts, 20);
	assert_int_equal(c.sinks[1].max_age_s, 7 * 86400);
	assert_int_equal(c.sinks[1].max_backoff_ms, 60000);
	assert_int_equal(c.sinks[1].max_retry_after_ms, 1800000);

	assert_string_equal(c.sinks[2].type, "file");
	assert_string_equal(c.sinks[2].path, "/var/log/cdeventsd/events.jsonl");
	assert_int_equal(c.sinks[2].rotate_size, 10 << 20);
	assert_int_equal(c.sinks[2].rotate_keep, 3);
	assert_string_equal(c.sinks[2].upgrade_to, "0.5.1");
	assert_string_equal(c.sinks[1].upgrade_to, "");
	assert_string_equal(c.sinks[2].url, "");

	assert_int_equal(c.n_routes, 2);
	assert_int_equal(c.routes[0].n_sinks, 1);
	assert_int_equal(c.routes[0].sinks[0], 0);
	assert_string_equal(c.routes[0].filter, "{\"all\":[{\"prefix\":{\"type\":\"dev.cdevents.artifact.\"}},"
			    "{\"not\":{\"exact\":{\"/customData/sizing/fits\":false}}}]}");
	assert_int_equal(c.routes[1].n_sinks, 2);
	assert_int_equal(c.routes[1].sinks[0], 1);
	assert_int_equal(c.routes[1].sinks[1], 2);
	assert_string_equal(c.routes[1].filter, "");	/* every event */

	/* What the loader keeps is what the router compiles. */
	assert_int_equal(cde_filter_compile_text(c.routes[0].filter, "/routes/0/filter", &f, &errs), 0);
	ev = json("{\"context\": {\"type\": \"dev.cdevents.artifact.published.0.2.0\"},"
		  " \"customData\": {\"sizing\": {\"fits\": true}}}");
	assert_true(cde_filter_match(f, ev));
	cJSON_Delete(ev);
	ev = json("{\"context\": {\"type\": \"dev.cdevents.artifact.published.0.2.0\"},"
		  " \"customData\": {\"sizing\": {\"fits\": false}}}");
	assert_false(cde_filter_match(f, ev));
	cJSON_Delete(ev);
	f = cde_filter_free(f);
}

/* cJSON allocations that succeed before one fails. */
static unsigned long cjson_allocs_left;

static void *failing_malloc(size_t size)
{
	if (cjson_allocs_left == 0)
		return NULL;
	cjson_allocs_left--;
	return malloc(size);
}

/* Loads @yaml with cJSON's allocations failing at the first, the second,
 * ... until the load succeeds; each failure must be -ENOMEM and leave the
 * configuration as it was (ASan tells whether it leaked). At least @min
 * allocations must have been tried. Returns the loaded configuration. */
static struct cde_config load_failing_each_allocation(const char *yaml, unsigned long min)
{
	cJSON_Hooks hooks = { .malloc_fn = failing_malloc, .free_fn = free };
	struct cde_config c, before;
	struct cde_errors errs;
	unsigned long n;
	int r;

	cde_config_defaults(&c);
	before = c;
	for (n = 0;; n++) {
		cjson_allocs_left = n;
		cJSON_InitHooks(&hooks);
		r = load_text(yaml, &c, &errs);
		cJSON_InitHooks(NULL);
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_memory_equal(&c, &before, sizeof(c));
	}
	assert_true(n > min);
	return c;
}

/* The second pass runs out of memory at each of its cJSON allocations in
 * turn: the load fails with -ENOMEM, changes nothing and leaks nothing. */
static void runs_out_of_memory_cleanly(void **state)
{
	assert_int_equal(load_failing_each_allocation(full_config, 50).n_sinks, 3);
}

static void a_file_that_names_sinks_replaces_them_and_the_routes(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	assert_int_equal(load_text("sinks:\n  - {name: a, type: file, path: /tmp/a}\n"
				   "  - {name: b, type: file, path: /tmp/b}\n"
				   "routes:\n  - sinks: [b]\n", &c, &errs), 0);
	assert_int_equal(c.n_sinks, 2);
	assert_int_equal(c.routes[0].sinks[0], 1);
	assert_int_equal(load_text("log_level: debug\n", &c, &errs), 0);
	assert_int_equal(c.n_sinks, 2);		/* not named: kept */
	assert_int_equal(c.n_routes, 1);
	assert_int_equal(load_text("sinks:\n  - {name: c, type: file, path: /tmp/c}\n", &c, &errs), 0);
	assert_int_equal(c.n_sinks, 1);
	assert_string_equal(c.sinks[0].name, "c");
	assert_int_equal(c.n_routes, 0);	/* they pointed into the old list */
	assert_int_equal(load_text("sinks: []\n", &c, &errs), 0);
	assert_int_equal(c.n_sinks, 0);
	assert_int_equal(load_text("sinks:\nroutes:\n", &c, &errs), 0);	/* all commented out */
	assert_int_equal(c.n_sinks, 0);
	assert_int_equal(c.n_routes, 0);
}

struct config_mistake {
	const char *yaml;
	const char *pointer;
	const char *reason;
};

/* Each of @m is refused with its pointer and reason, names the file, and
 * leaves @c as it was. */
static void each_mistake_is_named(const struct config_mistake *m, size_t n, struct cde_config *c)
{
	struct cde_config before = *c;
	struct cde_errors errs;

	for (size_t i = 0; i < n; i++) {
		if (load_text(m[i].yaml, c, &errs) != -EINVAL || !has_error(&errs, m[i].pointer, m[i].reason)) {
			print_message("%s--- expected %s: %s, got:\n", m[i].yaml, m[i].pointer, m[i].reason);
			print_errors(&errs);
			fail();
		}
		assert_true(strstr(errs.items[0].reason, "/tmp/cde-config-") == errs.items[0].reason);
		assert_memory_equal(c, &before, sizeof(before));	/* nothing applied */
	}
}

#define TEKTON "sinks:\n  - {name: ci, type: tekton, url: \"http://el:8080\"}\n"

static const struct config_mistake fanout_mistakes[] = {
	{ TEKTON "routes:\n  - sinks: [ci, nowhere]\n",
	  "/routes/0/sinks/1", "/routes/0/sinks/1: \"nowhere\" is not a sink of this file" },
	{ "routes:\n  - sinks: [ci]\n", "/routes/0/sinks/0", "\"ci\" is not a sink of this file" },
	{ "sinks:\n  - {name: a, type: file, path: /a}\n  - {name: a, type: file, path: /b}\n",
	  "/sinks/1/name", "/sinks/1/name: \"a\" is named twice" },
	{ "sinks:\n  - {name: a b, type: file, path: /a}\n", "/sinks/0/name", "use letters, digits" },
	{ "sinks:\n  - {type: file, path: /a}\n", "/sinks/0/name", "required" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"ftp://x\"}\n",
	  "/sinks/0/url", "/sinks/0/url: \"ftp://x\" is not an http:// or https:// URL" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://\"}\n", "/sinks/0/url", "is not an http" },
	{ "sinks:\n  - {name: a, type: webhook}\n", "/sinks/0/url", "required for a webhook sink" },
	{ "sinks:\n  - {name: a, type: file}\n", "/sinks/0/path", "required for a file sink" },
	{ "sinks:\n  - {name: a}\n", "/sinks/0/type", "required: tekton, webhook, file or nats" },
	{ "sinks:\n  - {name: a, type: nats, url: \"http://x\"}\n", "/sinks/0/url",
	  "\"http://x\" is not a nats:// or tls:// URL" },
	{ "sinks:\n  - {name: a, type: nats}\n", "/sinks/0/url", "required for a nats sink" },
	{ "sinks:\n  - {name: a, type: nats, url: \"nats://x:4222\", subject: \"a b\"}\n",
	  "/sinks/0/subject", "must not hold spaces" },
	{ "sinks:\n  - {name: a, type: file, path: /a, subject: x}\n", "/sinks/0/subject",
	  "only for nats sinks, this one is file" },
	{ "sinks:\n  - {name: a, type: kafka}\n", "/sinks/0/type", "\"kafka\" is not tekton, webhook, file or nats" },
	{ "sinks:\n  - {name: a, type: tekton, url: \"http://x\", mode: structured}\n",
	  "/sinks/0/mode", "a tekton sink is always binary" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"http://x\", mode: batch}\n",
	  "/sinks/0/mode", "\"batch\" is not binary or structured" },
	{ "sinks:\n  - {name: a, type: file, path: /a, mode: structured}\n",
	  "/sinks/0/mode", "only for tekton, webhook and nats sinks, this one is file" },
	{ "sinks:\n  - {name: a, type: file, path: /a, colour: red}\n", "/sinks/0/colour", "unknown key for a sink" },
	{ "sinks:\n  - {name: a, type: tekton, url: \"http://x\", path: /a}\n",
	  "/sinks/0/path", "only for file sinks, this one is tekton" },
	{ "sinks:\n  - {name: a, type: tekton, url: \"http://x\", secret_file: /s}\n",
	  "/sinks/0/secret_file", "only for webhook sinks" },
	{ "sinks:\n  - {name: a, type: file, path: /a, headers: {X-A: b}}\n",
	  "/sinks/0/headers", "only for tekton and webhook sinks" },
	{ "sinks:\n  - name: a\n    type: webhook\n    url: https://x\n    headers:\n      X-Team: \"ci\\rX-Evil: 1\"\n",
	  "/sinks/0/headers/X-Team", "must not hold CR, LF" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", headers: {X Team: ci}}\n",
	  "/sinks/0/headers/X Team", "is not a header name" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", headers: {X-A: a, x-a: b}}\n",
	  "/sinks/0/headers/x-a", "named twice" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", headers: [X-A]}\n",
	  "/sinks/0/headers", "must be a map" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", tls_verify: no}\n",
	  "/sinks/0/tls_verify", "must be true or false" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", timeout: 0}\n",
	  "/sinks/0/timeout", "is not a duration" },
	{ "sinks:\n  - {name: a, type: file, path: /a, max_in_flight: 2000}\n",
	  "/sinks/0/max_in_flight", "\"2000\" is not a count from 1 to 1024" },
	{ "sinks:\n  - {name: a, type: file, path: /a, max_age: 90}\n", "/sinks/0/max_age", "is not an age" },
	{ "sinks:\n  - {name: a, type: file, path: /a, rotate_size: lots}\n", "/sinks/0/rotate_size", "is not a size" },
	{ "sinks:\n  - {name: a, type: file, path: [/a]}\n", "/sinks/0/path", "must be a single value" },
	{ "sinks:\n  - {name: a, type: file, path: /a, max_in_flight: 0}\n",
	  "/sinks/0/max_in_flight", "\"0\" is not a count from 1 to 1024" },
	{ "sinks:\n  - {name: a, type: file, path: /a, rotate_keep: 2.5}\n",
	  "/sinks/0/rotate_keep", "\"2.5\" is not a count from 1 to 1000" },
	{ "sinks:\n  - {name: a, type: file, path: /a, rotate_keep: 1e3}\n",
	  "/sinks/0/rotate_keep", "\"1e3\" is not a count from 1 to 1000" },
	{ "sinks:\n  - {name: a, type: file, path: /a, upgrade_to: \"0.4.1\"}\n",
	  "/sinks/0/upgrade_to", "\"0.4.1\" is not a release events can be upgraded to (only \"0.5.1\")" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", upgrade_to: 0.5}\n",
	  "/sinks/0/upgrade_to", "\"0.5\" is not a release events can be upgraded to (only \"0.5.1\")" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", tls_verify: }\n",
	  "/sinks/0/tls_verify", "must be true or false" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", timeout: }\n",
	  "/sinks/0/timeout", "must be a single value" },
	{ "sinks:\n  - {name: a, type: webhook, url: \"https://x\", headers: }\n",
	  "/sinks/0/headers", "must be a map of header names to values" },
	{ "sinks: {a: 1}\n", "/sinks", "must be a list of sinks" },
	{ "sinks:\n  - file\n", "/sinks/0", "must be a map" },
	{ TEKTON "routes:\n  - filter: {exact: {type: x}}\n", "/routes/0/sinks", "required" },
	{ TEKTON "routes:\n  - sinks: []\n", "/routes/0/sinks", "must be a non-empty list of sink names" },
	{ TEKTON "routes:\n  - sinks:\n", "/routes/0/sinks", "must be a non-empty list of sink names" },
	{ TEKTON "routes:\n  - sinks: [ci, ci]\n", "/routes/0/sinks/1", "\"ci\" is named twice" },
	{ TEKTON "routes:\n  - sinks: [ci]\n    match: {type: x}\n", "/routes/0/match", "unknown key for a route" },
	{ TEKTON "routes:\n  - sinks: [ci]\n"
	  "    filter:\n      all:\n        - exact: {type: dev.cdevents.service.deployed}\n"
	  "        - any:\n            - exact: {colour: red}\n",
	  "/routes/0/filter/all/1/any/0/exact/colour",
	  "/routes/0/filter/all/1/any/0/exact/colour: unknown attribute (type, source, subject, id, chainId, or a JSON pointer)" },
	{ TEKTON "routes:\n  - sinks: [ci]\n    filter: {exact: {/a~2: x}}\n",
	  "/routes/0/filter/exact/~1a~02", "invalid JSON pointer" },
	{ TEKTON "routes:\n  - sinks: [ci]\n    filter:\n", "/routes/0/filter", "a filter is an object" },
	/* The second pass reads what libcyaml skipped, with line numbers. */
	{ "sinks:\n  - name: a\n    type: webhook\n    url: https://x\n    headers: {X-A: 1, X-A: 2}\n",
	  "", ":5: duplicate key \"X-A\"" },
};

static void names_each_mistake_in_sinks_and_routes(void **state)
{
	struct cde_config c;

	cde_config_defaults(&c);
	each_mistake_is_named(fanout_mistakes, sizeof(fanout_mistakes) / sizeof(fanout_mistakes[0]), &c);
}

static const struct config_mistake principal_mistakes[] = {
	{ "principals:\n  - {name: ops, token_env: T, scopes: [query, admin]}\n", "/principals/0/scopes/1",
	  "there is no \"admin\" scope: every operation is emit (posting) or query" },
	{ "principals:\n  - {name: ci, token_env: T, scopes: [root]}\n", "/principals/0/scopes/0",
	  "\"root\" is not one of emit, query" },
	{ "principals:\n  - {name: ci, token_env: T, sources: [\"/ci\", \"/a b\"]}\n", "/principals/0/sources/1",
	  "a source is a URI reference without spaces" },
};

static void names_each_mistake_in_principals(void **state)
{
	struct cde_config c;

	cde_config_defaults(&c);
	each_mistake_is_named(principal_mistakes, sizeof(principal_mistakes) / sizeof(principal_mistakes[0]), &c);
}

static void sources_are_kept_without_a_trailing_slash(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	assert_int_equal(load_text("principals:\n  - name: ci\n    token_env: T\n"
				   "    sources: [/ci, /jenkins/, /, \"https://ci.example.com/\"]\n"
				   "  - {name: any, token_env: U}\n", &c, &errs), 0);
	assert_int_equal(c.principals[0].n_sources, 4);
	assert_string_equal(c.principals[0].sources[0], "/ci");
	assert_string_equal(c.principals[0].sources[1], "/jenkins");
	assert_string_equal(c.principals[0].sources[2], "/");
	assert_string_equal(c.principals[0].sources[3], "https://ci.example.com");
	assert_int_equal(c.principals[1].n_sources, 0);
}

static void a_filter_must_fit_its_buffer(void **state)
{
	size_t size = 64 * 1024, len = 0;
	char *yaml = malloc(size);
	struct cde_config c;
	struct cde_errors errs;

	assert_non_null(yaml);
	len += (size_t)snprintf(yaml, size, TEKTON "routes:\n  - sinks: [ci]\n    filter:\n      any:\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(yaml + len, size - len, "        - exact: {source: /a/long/source/name/%060d}\n", i);
	cde_config_defaults(&c);
	assert_int_equal(load_text(yaml, &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/routes/0/filter", "longer than 4095 characters as JSON"));
	free(yaml);
}

/* cde_yaml_to_json on @text; the tree as compact JSON in @out, or the
 * first error's reason. */
static int yaml_json(const char *text, char *out, size_t size)
{
	struct cde_errors errs;
	cJSON *doc = NULL;
	char *s;
	int r;

	snprintf(path, sizeof(path), "/etc/cdeventsd.yaml");
	cde_errors_reset(&errs);
	r = cde_yaml_to_json(path, text, strlen(text), &doc, &errs);
	if (r < 0) {
		assert_int_equal(errs.count, 1);
		assert_string_equal(errs.items[0].pointer, "");
		assert_true(strstr(errs.items[0].reason, path) == errs.items[0].reason);
		snprintf(out, size, "%s", errs.items[0].reason + strlen(path));
		return r;
	}
	s = cJSON_PrintUnformatted(doc);
	assert_non_null(s);
	snprintf(out, size, "%s", s);
	cJSON_free(s);
	cJSON_Delete(doc);
	return r;
}

static void yaml_reads_as_json(void **state)
{
	char out[1024];

	assert_int_equal(yaml_json("plain: text\nquoted: \"true\"\nsingle: '42'\nyes: true\nno: FALSE\n"
				   "nothing:\ntilde: ~\nint: 42\nneg: -7\noctal: 007\nfloat: 1.5\n"
				   "big: 9007199254740993\nlist: [a, 1, null]\nnested: {a: {b: [x]}}\n"
				   "str: !!str 12\n1: one\n", out, sizeof(out)), 0);
	assert_string_equal(out, "{\"plain\":\"text\",\"quoted\":\"true\",\"single\":\"42\",\"yes\":true,"
			    "\"no\":false,\"nothing\":null,\"tilde\":null,\"int\":42,\"neg\":-7,\"octal\":\"007\","
			    "\"float\":\"1.5\",\"big\":\"9007199254740993\",\"list\":[\"a\",1,null],"
			    "\"nested\":{\"a\":{\"b\":[\"x\"]}},\"str\":\"12\",\"1\":\"one\"}");
	assert_int_equal(yaml_json("", out, sizeof(out)), 0);
	assert_string_equal(out, "null");
	assert_int_equal(yaml_json("# only a comment\n", out, sizeof(out)), 0);
	assert_string_equal(out, "null");
	assert_int_equal(yaml_json("- a\n- b\n", out, sizeof(out)), 0);
	assert_string_equal(out, "[\"a\",\"b\"]");
}

static void yaml_refuses_what_json_cannot_say(void **state)
{
	static const struct {
		const char *yaml;
		const char *reason;	/* after the file name */
	} cases[] = {
		{ "a: 1\nb:\n  c: 1\n  c: 2\n", ":4: duplicate key \"c\"" },
		{ "a: &x 1\nb: *x\n", ":2: aliases (*x) are not allowed" },
		{ "a: 1\n---\nb: 2\n", ":2: a second document: the file must hold one" },
		{ "a: \"x\\0y\"\n", ":1: a NUL character in a scalar" },
		{ "a: !!int 5\n", ":1: tag tag:yaml.org,2002:int is not supported" },
		{ "? [a]\n: 1\n", ":1: a key must be a scalar, not a sequence" },
		{ "a: [\n", ":2: did not find expected node content (while parsing a flow node)" },
		{ "a: b\n c\nd: [\n", ":4: " },
	};
	char out[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(yaml_json(cases[i].yaml, out, sizeof(out)), -EINVAL);
		if (strncmp(out, cases[i].reason, strlen(cases[i].reason)) != 0) {
			print_message("%s--- expected %s, got %s\n", cases[i].yaml, cases[i].reason, out);
			fail();
		}
	}
}

static void yaml_caps_depth_and_nodes(void **state)
{
	char *text = malloc(64 * 1024);
	char out[256];
	size_t len;

	assert_non_null(text);
	/* 32 nested sequences are fine, 33 are not. */
	memset(text, '[', 32);
	memset(text + 32, ']', 32);
	text[64] = '\0';
	assert_int_equal(yaml_json(text, out, sizeof(out)), 0);
	memset(text, '[', 33);
	memset(text + 33, ']', 33);
	text[66] = '\0';
	assert_int_equal(yaml_json(text, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, ":1: nested deeper than 32 levels");

	/* A sequence and 9999 scalars are 10000 nodes; one more is too many. */
	len = (size_t)sprintf(text, "[");
	for (int i = 0; i < 9999; i++)
		len += (size_t)sprintf(text + len, "%s1", i ? "," : "");
	sprintf(text + len, "]");
	assert_int_equal(yaml_json(text, out, sizeof(out)), 0);
	sprintf(text + len, ",1]");
	assert_int_equal(yaml_json(text, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, ":1: more than 10000 nodes");
	free(text);
}

/* ---- clusters: ---- */

static const char clusters_yaml[] =
	"clusters:\n"
	"  prod-gke:\n"
	"    provider: gke\n"
	"    nodeCpu: 16\n"
	"    nodeMemory: 64Gi\n"
	"    nodes: 10\n"
	"  batch-aks:\n"
	"    provider: aks\n"
	"    nodeCpu: 7.5\n"			/* YAML float: read as the text "7.5" */
	"    nodeMemory: \"30Gi\"\n"
	"    maxPods: 30\n"
	"    aksVersion: 1.30\n"		/* text "1.30", not the number 1.3 */
	"    podOverhead: {cpu: 250m, memory: 120Mi}\n";

/* The clusters of @c as the daemon reads them (sizing's parser). */
static const struct cde_sizing_named_cluster *read_clusters(const struct cde_config *c)
{
	static struct cde_sizing_named_cluster parsed[CDE_CONFIG_CLUSTERS_MAX];
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_daemon_clusters_read(c, NULL, parsed, &errs), 0);
	return parsed;
}

static void clusters_load_with_the_request_parser(void **state)
{
	struct cde_config c;
	struct cde_errors errs;
	const struct cde_sizing_cluster *gke, *aks;

	cde_config_defaults(&c);
	assert_int_equal(c.n_clusters, 0);
	assert_int_equal(load_text(clusters_yaml, &c, &errs), 0);
	assert_int_equal(c.n_clusters, 2);
	assert_string_equal(c.clusters[0].name, "prod-gke");
	assert_string_equal(c.clusters[1].name, "batch-aks");
	gke = &read_clusters(&c)[0].cluster;
	assert_int_equal(gke->provider, CDE_SIZING_GKE);
	assert_int_equal(gke->node_cpu_millis, 16000);
	assert_int_equal(gke->node_memory_bytes, UINT64_C(64) << 30);
	assert_int_equal(gke->nodes, 10);
	assert_int_equal(gke->max_pods, 0);
	aks = &read_clusters(&c)[1].cluster;
	assert_int_equal(aks->provider, CDE_SIZING_AKS);
	assert_int_equal(aks->node_cpu_millis, 7500);
	assert_int_equal(aks->node_memory_bytes, UINT64_C(30) << 30);
	assert_int_equal(aks->max_pods, 30);
	assert_int_equal(aks->aks_major, 1);
	assert_int_equal(aks->aks_minor, 30);
	assert_int_equal(aks->pod_overhead_cpu_millis, 250);
	assert_int_equal(aks->pod_overhead_memory_bytes, UINT64_C(120) << 20);

	/* A file without clusters keeps them; one that names them replaces
	 * the whole map; an emptied one clears it. */
	assert_int_equal(load_text("log_level: debug\n", &c, &errs), 0);
	assert_int_equal(c.n_clusters, 2);
	assert_int_equal(load_text("clusters:\n  small: {provider: none, nodeCpu: 2, nodeMemory: 8Gi}\n",
				   &c, &errs), 0);
	assert_int_equal(c.n_clusters, 1);
	assert_string_equal(c.clusters[0].name, "small");
	assert_int_equal(read_clusters(&c)[0].cluster.provider, CDE_SIZING_NONE);
	assert_int_equal(load_text("clusters:\n", &c, &errs), 0);
	assert_int_equal(c.n_clusters, 0);
	assert_int_equal(load_text("clusters: {}\n", &c, &errs), 0);
	assert_int_equal(c.n_clusters, 0);
}

static const struct config_mistake cluster_mistakes[] = {
	{ "clusters:\n  prod: {provider: gke, nodeCpu: 16, nodeMemory: 64gi}\n",
	  "/clusters/prod/nodeMemory", "/clusters/prod/nodeMemory: \"64gi\" is not a memory quantity: unknown unit" },
	{ "clusters:\n  prod: {nodeCpu: 16, nodeMemory: 64Gi}\n", "/clusters/prod/provider", "required" },
	{ "clusters:\n  prod: {provider: gcp, nodeCpu: 16, nodeMemory: 64Gi}\n",
	  "/clusters/prod/provider", "must be \"gke\", \"eks\", \"aks\" or \"none\"" },
	{ "clusters:\n  prod: {provider: eks, nodeCpu: 16, nodeMemory: 64Gi}\n",
	  "/clusters/prod/maxPods", "required for provider eks" },
	{ "clusters:\n  prod: {provider: gke, nodeCpu: 16, nodeMemory: 64Gi, zone: b}\n",
	  "/clusters/prod/zone", "unknown field" },
	{ "clusters:\n  prod: {provider: gke, nodeCpu: 16, nodeMemory: 64Gi, nodes: -1}\n",
	  "/clusters/prod/nodes", "must not be negative" },
	{ "clusters:\n  prod: gke\n", "/clusters/prod", "must be an object" },
	{ "clusters:\n  \"prod gke\": {provider: gke, nodeCpu: 16, nodeMemory: 64Gi}\n",
	  "/clusters/prod gke", "is not a cluster name" },
	{ "clusters:\n  - {name: prod, provider: gke, nodeCpu: 16, nodeMemory: 64Gi}\n",
	  "/clusters", "must be a map from cluster names to clusters" },
	{ "clusters:\n  a: {provider: gke, nodeCpu: 1, nodeMemory: 1Gi}\n  a: {provider: gke, nodeCpu: 2, nodeMemory: 1Gi}\n",
	  "", ":3: duplicate key \"a\"" },
};

static void names_each_mistake_in_clusters(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	cde_config_defaults(&c);
	assert_int_equal(load_text(clusters_yaml, &c, &errs), 0);
	each_mistake_is_named(cluster_mistakes, sizeof(cluster_mistakes) / sizeof(cluster_mistakes[0]), &c);
}

static void too_many_clusters_are_refused(void **state)
{
	char *yaml = malloc(8192);
	size_t len;
	struct cde_config c;
	struct cde_errors errs;

	assert_non_null(yaml);
	len = (size_t)sprintf(yaml, "clusters:\n");
	for (int i = 0; i <= CDE_CONFIG_CLUSTERS_MAX; i++)
		len += (size_t)sprintf(yaml + len, "  c%d: {provider: none, nodeCpu: 1, nodeMemory: 1Gi}\n", i);
	cde_config_defaults(&c);
	assert_int_equal(load_text(yaml, &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/clusters", "more than 32 clusters"));
	free(yaml);
}

static void a_request_names_a_configured_cluster(void **state)
{
	struct cde_config c;
	struct cde_errors errs;
	struct cde_sizing_cluster got;
	cJSON *name = json("\"batch-aks\""), *unknown = json("\"prod\""),
	      *obj = json("{\"provider\": \"gke\", \"nodeCpu\": 4, \"nodeMemory\": \"16Gi\"}");

	cde_config_defaults(&c);
	assert_int_equal(load_text(clusters_yaml, &c, &errs), 0);
	cde_errors_reset(&errs);
	assert_int_equal(cde_sizing_cluster_resolve(name, "/cluster", read_clusters(&c), c.n_clusters, &got, &errs), 0);
	assert_memory_equal(&got, &read_clusters(&c)[1].cluster, sizeof(got));
	assert_int_equal(cde_sizing_cluster_resolve(obj, "/cluster", read_clusters(&c), c.n_clusters, &got, &errs), 0);
	assert_int_equal(got.node_cpu_millis, 4000);
	assert_int_equal(cde_sizing_cluster_resolve(unknown, "/cluster", read_clusters(&c), c.n_clusters, &got, &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/cluster", "no cluster named \"prod\" in the configuration "
			      "(clusters: prod-gke, batch-aks)"));
	cde_errors_reset(&errs);
	assert_int_equal(cde_sizing_cluster_resolve(name, "/cluster", NULL, 0, &got, &errs), -EINVAL);
	assert_true(has_error(&errs, "/cluster", "the configuration has no clusters"));
	assert_int_equal(got.node_cpu_millis, 4000);	/* untouched on failure */
	cJSON_Delete(name);
	cJSON_Delete(unknown);
	cJSON_Delete(obj);
}

/* Loading clusters runs out of memory at each cJSON allocation in turn:
 * -ENOMEM, nothing changed, nothing leaked. */
static void clusters_run_out_of_memory_cleanly(void **state)
{
	assert_int_equal(load_failing_each_allocation(clusters_yaml, 10).n_clusters, 2);
}

/* ---- warnings ---- */

static void a_sink_no_route_names_loads_with_a_warning_naming_it(void **state)
{
	static struct cde_config c;
	struct cde_errors errs, warns;

	cde_config_defaults(&c);
	assert_int_equal(load_text("sinks:\n"
				   "  - {name: a, type: webhook, url: http://127.0.0.1:9/x}\n"
				   "  - {name: b, type: webhook, url: http://127.0.0.1:9/y}\n"
				   "  - {name: c, type: webhook, url: http://127.0.0.1:9/z}\n"
				   "routes:\n  - sinks: [a]\n  - sinks: [c]\n    filter: {exact: {type: x}}\n",
				   &c, &errs),
			 0);
	cde_errors_reset(&warns);
	cde_daemon_config_warnings(&c, "cdeventsd.yaml", &warns);
	assert_int_equal(warns.count, 1);
	assert_string_equal(warns.items[0].pointer, "/sinks/1");
	assert_string_equal(warns.items[0].reason,
			    "cdeventsd.yaml: /sinks/1: sink \"b\" is named by no route: it receives no events");
}

static void every_sink_routed_is_no_warning(void **state)
{
	static struct cde_config c;
	struct cde_errors errs, warns;

	cde_config_defaults(&c);
	assert_int_equal(load_text("sinks:\n  - {name: a, type: webhook, url: http://127.0.0.1:9/x}\n"
				   "routes:\n  - sinks: [a]\n",
				   &c, &errs),
			 0);
	cde_errors_reset(&warns);
	cde_daemon_config_warnings(&c, NULL, &warns);
	assert_int_equal(warns.count, 0);
}

/* ---- the file is read once ---- */

/* The writer side of a FIFO: hands @text to the first reader, once. */
struct fifo_writer {
	const char *fifo, *text;
};

static void *feed_fifo(void *arg)
{
	const struct fifo_writer *w = arg;
	int fd = open(w->fifo, O_WRONLY | O_CLOEXEC);	/* waits for a reader */

	if (fd >= 0) {
		(void)!write(fd, w->text, strlen(w->text));
		close(fd);
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts a blocked open */
}

/* A FIFO as the file: the first open gets the text, a second one would
 * wait for a writer that never comes, and is interrupted (EINTR). */
static void the_file_is_opened_once_per_load(void **state)
{
	static struct cde_config c;
	struct fifo_writer w = {
		.text = "listen: 127.0.0.1:9999\n"
			"sinks:\n  - {name: a, type: webhook, url: http://127.0.0.1:9/x}\n"
			"routes:\n  - sinks: [a]\n",
	};
	struct sigaction alarm_action = { .sa_handler = on_alarm }, old_action;	/* no SA_RESTART */
	char dir[] = "/tmp/cde-config-fifo-XXXXXX", fifo[64];
	struct cde_errors errs;
	sigset_t alrm, old_mask;
	pthread_t writer;
	int r;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/cdeventsd.yaml", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	w.fifo = fifo;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old_mask);	/* the alarm is for this thread */
	assert_int_equal(pthread_create(&writer, NULL, feed_fifo, &w), 0);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGALRM, &alarm_action, &old_action);
	cde_config_defaults(&c);
	cde_errors_reset(&errs);
	alarm(5);
	r = cde_daemon_config_load(fifo, &c, &errs);
	alarm(0);
	sigaction(SIGALRM, &old_action, NULL);
	pthread_join(writer, NULL);
	unlink(fifo);
	rmdir(dir);
	print_errors(&errs);
	assert_int_equal(r, 0);
	assert_string_equal(c.listen, "127.0.0.1:9999");
	assert_int_equal(c.n_sinks, 1);
	assert_int_equal(c.n_routes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_embedded_default_is_what_the_daemon_issue_names),
		cmocka_unit_test(the_file_is_opened_once_per_load),
		cmocka_unit_test(a_sink_no_route_names_loads_with_a_warning_naming_it),
		cmocka_unit_test(every_sink_routed_is_no_warning),
		cmocka_unit_test(the_example_file_documents_the_defaults),
		cmocka_unit_test(a_file_replaces_only_what_it_says),
		cmocka_unit_test(names_the_file_and_key_of_each_mistake),
		cmocka_unit_test(a_public_listener_needs_auth_none_said_explicitly),
		cmocka_unit_test(parses_units),
		cmocka_unit_test(a_tekton_sink_and_one_route_load),
		cmocka_unit_test(every_sink_key_loads),
		cmocka_unit_test(runs_out_of_memory_cleanly),
		cmocka_unit_test(a_file_that_names_sinks_replaces_them_and_the_routes),
		cmocka_unit_test(names_each_mistake_in_sinks_and_routes),
		cmocka_unit_test(names_each_mistake_in_principals),
		cmocka_unit_test(sources_are_kept_without_a_trailing_slash),
		cmocka_unit_test(a_filter_must_fit_its_buffer),
		cmocka_unit_test(yaml_reads_as_json),
		cmocka_unit_test(yaml_refuses_what_json_cannot_say),
		cmocka_unit_test(yaml_caps_depth_and_nodes),
		cmocka_unit_test(clusters_load_with_the_request_parser),
		cmocka_unit_test(names_each_mistake_in_clusters),
		cmocka_unit_test(too_many_clusters_are_refused),
		cmocka_unit_test(a_request_names_a_configured_cluster),
		cmocka_unit_test(clusters_run_out_of_memory_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
