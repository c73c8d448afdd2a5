/* The sink registry: every type is found by its name, the types the
 * configuration loader takes are the registered ones, and the keys each
 * type's table declares are exactly the keys the loader takes for that
 * type (config/ cannot see the registry, so this keeps the two lists
 * together). */

#include "tests/unit/helpers.h"

#include <unistd.h>

#include "config/config.h"
#include "sinks/sink.h"

/* A valid value for every key any sink type takes. */
static const struct {
	const char *key, *value;
} samples[] = {
	{ "url", "http://127.0.0.1:9/x" }, { "mode", "binary" }, { "headers", "{ X-A: b }" },
	{ "token_file", "/etc/t" }, { "secret_file", "/etc/s" }, { "tls_verify", "false" },
	{ "timeout", "2s" }, { "max_retry_after", "1m" }, { "max_in_flight", "3" },
	{ "max_attempts", "4" }, { "max_age", "1h" }, { "max_backoff", "9s" },
	{ "path", "/tmp/cde-registry.jsonl" }, { "rotate_size", "1KiB" }, { "rotate_keep", "2" },
	{ "upgrade_to", "\"0.5.1\"" }, { "checkpoints", "true" }, { "subject", "cdevents.{type}" },
	{ "stream", "CDEVENTS" }, { "user_file", "/etc/u" }, { "password_file", "/etc/p" },
	{ "creds_file", "/etc/c" }, { "ca_file", "/etc/ca" },
};

/* The sample for @key in a sink of @type: a nats sink's url is nats://. */
static const char *sample_for(const char *type, const char *key, const char *value)
{
	return strcmp(type, "nats") == 0 && strcmp(key, "url") == 0 ? "nats://127.0.0.1:4222" : value;
}

static int load_sink(const char *type, const char *required, const char *key, const char *value)
{
	char text[1024], path[] = "/tmp/cde-registry-XXXXXX";
	struct cde_config *c = malloc(sizeof(*c));
	struct cde_errors errs;
	int fd, n, r;

	assert_non_null(c);
	n = snprintf(text, sizeof(text), "sinks:\n  - name: s\n    type: %s\n", type);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (strcmp(samples[i].key, required) == 0 && strcmp(required, key) != 0)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "    %s: %s\n", required,
				      sample_for(type, required, samples[i].value));
	n += snprintf(text + n, sizeof(text) - (size_t)n, "    %s: %s\nroutes:\n  - sinks: [s]\n", key,
		      sample_for(type, key, value));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, (size_t)n), n);
	close(fd);
	cde_config_defaults(c);
	cde_errors_reset(&errs);
	r = cde_config_load_file(path, c, &errs);
	unlink(path);
	free(c);
	return r;
}

static void each_type_is_found_by_name(void **state)
{
	assert_true(cde_sink_types_count() >= 3);
	for (size_t i = 0; i < cde_sink_types_count(); i++) {
		const struct cde_sink_ops *ops = cde_sink_ops_at(i);

		assert_non_null(ops->init);
		assert_non_null(ops->submit);
		assert_non_null(ops->release);
		assert_non_null(ops->config_keys);
		/* A type that takes `checkpoints` can send them. */
		assert_true(!cde_sink_ops_takes_key(ops, "checkpoints") || ops->submit_checkpoint);
		assert_ptr_equal(cde_sink_ops_find(ops->name), ops);
	}
	assert_null(cde_sink_ops_find("kafka"));
	assert_null(cde_sink_ops_at(cde_sink_types_count()));
	assert_string_equal(cde_sink_ops_find("webhook")->name, "webhook");
}

static void the_loader_takes_exactly_the_registered_types(void **state)
{
	size_t n = 0;

	for (; cde_config_sink_types[n]; n++)
		if (!cde_sink_ops_find(cde_config_sink_types[n]))
			fail_msg("config/ takes type %s, which no table in the registry has", cde_config_sink_types[n]);
	assert_int_equal(n, cde_sink_types_count());
}

static void the_declared_keys_are_the_keys_the_loader_takes(void **state)
{
	for (size_t i = 0; i < cde_sink_types_count(); i++) {
		const struct cde_sink_ops *ops = cde_sink_ops_at(i);

		for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
			bool takes = cde_sink_ops_takes_key(ops, samples[k].key);
			int r = load_sink(ops->name, ops->config_keys[0], samples[k].key, samples[k].value);

			if ((r == 0) != takes)
				fail_msg("type %s, key %s: the registry says %s, the loader returns %d", ops->name,
					 samples[k].key, takes ? "taken" : "not taken", r);
		}
	}
}

static void the_first_declared_key_is_required(void **state)
{
	for (size_t i = 0; i < cde_sink_types_count(); i++) {
		const struct cde_sink_ops *ops = cde_sink_ops_at(i);

		/* Only an engine key besides: the type's first key is missing. */
		assert_int_not_equal(load_sink(ops->name, "", "max_attempts", "3"), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_type_is_found_by_name),
		cmocka_unit_test(the_loader_takes_exactly_the_registered_types),
		cmocka_unit_test(the_declared_keys_are_the_keys_the_loader_takes),
		cmocka_unit_test(the_first_declared_key_is_required),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
