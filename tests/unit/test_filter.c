/* Route filters: Knative-shaped exact/prefix/suffix/all/any/not over a
 * CDEvent's attributes and JSON pointers, and every mistake named by its
 * pointer. */

#include "tests/unit/helpers.h"

#include "sinks/filter.h"

/* One deployment, with something of each JSON kind in customData. */
static const char event_text[] =
	"{\"context\": {\"specversion\": \"0.4.1\", \"id\": \"271069a8-fc18-44f1-b38f-9d70a1695819\","
	"  \"chainId\": \"release-42\", \"source\": \"/jenkins\","
	"  \"type\": \"dev.cdevents.service.deployed.0.3.0\", \"timestamp\": \"2026-01-02T03:04:05Z\"},"
	" \"subject\": {\"id\": \"etl-job\", \"source\": \"/jenkins\", \"content\": {"
	"  \"environment\": {\"id\": \"prod/eu\"}, \"artifactId\": \"pkg:oci/etl@sha256%3Aabc\"}},"
	" \"customData\": {\"sizing\": {\"fits\": false, \"executors\": 42, \"ratio\": 1.5,"
	"  \"note\": null, \"tags\": [\"spark\", \"etl\"]},"
	"  \"a/b\": {\"m~n\": \"escaped\"}, \"\": \"empty key\"}}";

struct match_case {
	const char *filter;
	bool matches;
};

static const struct match_case match_cases[] = {
	/* exact: the whole value. */
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deployed.0.3.0\"}}", true },
	{ "{\"exact\": {\"source\": \"/jenkins\"}}", true },
	{ "{\"exact\": {\"source\": \"/jenkin\"}}", false },
	{ "{\"exact\": {\"subject\": \"etl-job\"}}", true },
	{ "{\"exact\": {\"id\": \"271069a8-fc18-44f1-b38f-9d70a1695819\"}}", true },
	{ "{\"exact\": {\"chainId\": \"release-42\"}}", true },
	{ "{\"exact\": {\"chainId\": \"Release-42\"}}", false },	/* case matters */
	/* Every attribute of one filter must match. */
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deployed.0.3.0\", \"source\": \"/jenkins\"}}", true },
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deployed.0.3.0\", \"source\": \"/tekton\"}}", false },

	/* A type without its version matches every version, and only that. */
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deployed\"}}", true },
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deploy\"}}", false },
	{ "{\"exact\": {\"type\": \"dev.cdevents.service\"}}", false },	/* ".deployed" is no version */
	{ "{\"exact\": {\"type\": \"dev.cdevents.service.deployed.0.3\"}}", true },
	{ "{\"exact\": {\"/context/type\": \"dev.cdevents.service.deployed\"}}", false },	/* only "type" */
	{ "{\"prefix\": {\"type\": \"dev.cdevents.service.deployed\"}}", true },

	/* prefix and suffix. */
	{ "{\"prefix\": {\"type\": \"dev.cdevents.service.\"}}", true },
	{ "{\"prefix\": {\"type\": \"dev.cdevents.artifact.\"}}", false },
	{ "{\"suffix\": {\"type\": \".0.3.0\"}}", true },
	{ "{\"suffix\": {\"source\": \"kins\", \"subject\": \"-job\"}}", true },
	{ "{\"suffix\": {\"source\": \"/jenkins/x\"}}", false },	/* longer than the value */
	{ "{\"prefix\": {\"/subject/content/artifactId\": \"pkg:oci/etl@\"}}", true },

	/* JSON pointers, with ~1 for '/' and ~0 for '~'. */
	{ "{\"exact\": {\"/subject/content/environment/id\": \"prod/eu\"}}", true },
	{ "{\"exact\": {\"/customData/a~1b/m~0n\": \"escaped\"}}", true },
	{ "{\"exact\": {\"/customData/\": \"empty key\"}}", true },
	{ "{\"exact\": {\"/customData/sizing/tags/1\": \"etl\"}}", true },
	{ "{\"exact\": {\"/customData/sizing/tags/01\": \"etl\"}}", false },
	{ "{\"exact\": {\"/customData/sizing/tags/2\": \"etl\"}}", false },
	{ "{\"exact\": {\"/customData/sizing/tags/-\": \"etl\"}}", false },

	/* Numbers, booleans and null compare by their JSON text. */
	{ "{\"exact\": {\"/customData/sizing/fits\": false}}", true },
	{ "{\"exact\": {\"/customData/sizing/fits\": \"false\"}}", true },
	{ "{\"exact\": {\"/customData/sizing/fits\": true}}", false },
	{ "{\"exact\": {\"/customData/sizing/executors\": 42}}", true },
	{ "{\"exact\": {\"/customData/sizing/executors\": \"42\"}}", true },
	{ "{\"exact\": {\"/customData/sizing/executors\": 42.0}}", true },
	{ "{\"prefix\": {\"/customData/sizing/executors\": 4}}", true },
	{ "{\"exact\": {\"/customData/sizing/ratio\": 1.5}}", true },
	{ "{\"exact\": {\"/customData/sizing/note\": \"null\"}}", true },

	/* A missing attribute, an object or an array never matches. */
	{ "{\"exact\": {\"/customData/nope\": \"x\"}}", false },
	{ "{\"exact\": {\"/customData/sizing/fits/deeper\": \"false\"}}", false },
	{ "{\"prefix\": {\"/customData/sizing\": \"{\"}}", false },
	{ "{\"exact\": {\"/customData/sizing/tags\": \"spark\"}}", false },
	{ "{\"not\": {\"exact\": {\"/customData/nope\": \"x\"}}}", true },

	/* all, any, not, nested. */
	{ "{\"all\": [{\"exact\": {\"source\": \"/jenkins\"}}, {\"prefix\": {\"type\": \"dev.cdevents.service.\"}}]}", true },
	{ "{\"all\": [{\"exact\": {\"source\": \"/jenkins\"}}, {\"prefix\": {\"type\": \"dev.cdevents.build.\"}}]}", false },
	{ "{\"any\": [{\"exact\": {\"source\": \"/tekton\"}}, {\"prefix\": {\"type\": \"dev.cdevents.service.\"}}]}", true },
	{ "{\"any\": [{\"exact\": {\"source\": \"/tekton\"}}, {\"exact\": {\"subject\": \"other\"}}]}", false },
	{ "{\"not\": {\"exact\": {\"source\": \"/jenkins\"}}}", false },
	{ "{\"not\": {\"not\": {\"exact\": {\"source\": \"/jenkins\"}}}}", true },
	{ "{\"all\": [{\"exact\": {\"type\": \"dev.cdevents.service.deployed\"}},"
	  " {\"any\": [{\"exact\": {\"/subject/content/environment/id\": \"staging\"}},"
	  "          {\"not\": {\"exact\": {\"/customData/sizing/fits\": true}}}]}]}", true },
};

static void matches_as_the_table_says(void **state)
{
	cJSON *ev = json(event_text);

	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		struct cde_filter *f = NULL;
		struct cde_errors errs;

		cde_errors_reset(&errs);
		if (cde_filter_compile_text(c->filter, "", &f, &errs) != 0) {
			print_message("%s\n", c->filter);
			print_errors(&errs);
			fail();
		}
		if (cde_filter_match(f, ev) != c->matches) {
			print_message("%s: expected %s\n", c->filter, c->matches ? "a match" : "no match");
			fail();
		}
		f = cde_filter_free(f);
		assert_null(f);
	}
	cJSON_Delete(ev);
}

static void no_filter_matches_every_event(void **state)
{
	struct cde_filter *f = (struct cde_filter *)&f;	/* must be overwritten */
	struct cde_errors errs;
	cJSON *ev = json(event_text);

	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile_text("", "/routes/0/filter", &f, &errs), 0);
	assert_null(f);
	f = (struct cde_filter *)&f;
	assert_int_equal(cde_filter_compile_text(NULL, "/routes/0/filter", &f, &errs), 0);
	assert_null(f);
	f = (struct cde_filter *)&f;
	assert_int_equal(cde_filter_compile(NULL, "/routes/0/filter", &f, &errs), 0);
	assert_null(f);
	assert_true(cde_filter_match(NULL, ev));
	assert_true(cde_filter_match(NULL, NULL));
	assert_true(cde_errors_empty(&errs));
	assert_null(cde_filter_free(NULL));
	cJSON_Delete(ev);
}

static void a_filter_outlives_its_spec(void **state)
{
	cJSON *spec = json("{\"all\": [{\"prefix\": {\"type\": \"dev.cdevents.service.\"}},"
			   " {\"exact\": {\"/customData/sizing/executors\": 42}}]}");
	cJSON *ev = json(event_text);
	struct cde_filter *f = NULL;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile(spec, NULL, &f, &errs), 0);
	cJSON_Delete(spec);
	assert_true(cde_filter_match(f, ev));
	f = cde_filter_free(f);
	cJSON_Delete(ev);
}

struct error_case {
	const char *filter;
	const char *pointer;	/* under /routes/2/filter */
	const char *reason;
};

static const struct error_case error_cases[] = {
	{ "\"type\"", "", "a filter is an object with one key" },
	{ "{}", "", "empty filter" },
	{ "{\"exact\": {\"type\": \"a\"}, \"prefix\": {\"type\": \"b\"}}", "", "exactly one key, this one has 2" },
	{ "{\"equals\": {\"type\": \"a\"}}", "/equals", "unknown operator (exact, prefix, suffix, all, any, not)" },
	{ "{\"exact\": {}}", "/exact", "non-empty object of attributes and values" },
	{ "{\"suffix\": \"a\"}", "/suffix", "non-empty object of attributes and values" },
	{ "{\"all\": [{\"exact\": {\"type\": \"a\"}}, {\"exact\": {\"colour\": \"red\"}}]}", "/all/1/exact/colour",
	  "unknown attribute (type, source, subject, id, chainId, or a JSON pointer)" },
	{ "{\"exact\": {\"Type\": \"a\"}}", "/exact/Type", "unknown attribute" },
	{ "{\"exact\": {\"\": \"a\"}}", "/exact/", "unknown attribute" },
	{ "{\"exact\": {\"type\": null}}", "/exact/type", "must be a string, a number or a boolean" },
	{ "{\"exact\": {\"type\": [\"a\"]}}", "/exact/type", "must be a string, a number or a boolean" },
	{ "{\"exact\": {\"/customData\": {\"a\": 1}}}", "/exact/~1customData", "must be a string" },
	{ "{\"exact\": {\"/a~2b\": \"x\"}}", "/exact/~1a~02b", "invalid JSON pointer" },
	{ "{\"exact\": {\"/a~\": \"x\"}}", "/exact/~1a~0", "invalid JSON pointer" },
	{ "{\"prefix\": {\"type\": \"\"}}", "/prefix/type", "must not be empty" },
	{ "{\"suffix\": {\"/a\": \"\"}}", "/suffix/~1a", "must not be empty" },
	{ "{\"all\": []}", "/all", "non-empty array of filters" },
	{ "{\"any\": {\"exact\": {\"type\": \"a\"}}}", "/any", "non-empty array of filters" },
	{ "{\"not\": [{\"exact\": {\"type\": \"a\"}}]}", "/not", "a filter is an object" },
	{ "{\"not\": {\"any\": [{\"exact\": {\"type\": \"a\"}}, {\"not\": {}}]}}", "/not/any/1/not", "empty filter" },
	{ "{\"exact\": {\"type\": \"a\"", "", "not a filter: invalid JSON" },
	{ "{\"exact\": {\"type\": \"a\", \"type\": \"b\"}}", "", "not a filter: " },	/* duplicate key */
};

static void names_each_mistake_by_its_pointer(void **state)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct cde_filter *f = (struct cde_filter *)&f;
		struct cde_errors errs;
		char pointer[128];

		snprintf(pointer, sizeof(pointer), "/routes/2/filter%s", c->pointer);
		cde_errors_reset(&errs);
		assert_int_equal(cde_filter_compile_text(c->filter, "/routes/2/filter", &f, &errs), -EINVAL);
		assert_ptr_equal(f, (struct cde_filter *)&f);	/* untouched */
		if (!has_error(&errs, pointer, c->reason)) {
			print_message("%s: expected %s: %s, got:\n", c->filter, pointer, c->reason);
			print_errors(&errs);
			fail();
		}
	}
}

static void reports_every_mistake_not_only_the_first(void **state)
{
	struct cde_filter *f = NULL;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile_text("{\"any\": [{\"exact\": {\"colour\": \"red\", \"type\": 1.5}},"
						 " 3, {\"not\": {}}, {\"prefix\": {\"type\": \"dev.\"}}]}",
						 "/f", &f, &errs), -EINVAL);
	assert_int_equal(errs.count, 3);
	assert_true(has_error(&errs, "/f/any/0/exact/colour", "unknown attribute"));
	assert_true(has_error(&errs, "/f/any/1", "a filter is an object"));
	assert_true(has_error(&errs, "/f/any/2/not", "empty filter"));
}

/* {"not": {"not": ... {"exact": {"type": "x"}}}} with @nots nots. */
static char *nested_nots(unsigned nots)
{
	size_t size = nots * 16 + 64, len = 0;
	char *s = malloc(size);

	assert_non_null(s);
	for (unsigned i = 0; i < nots; i++)
		len += (size_t)snprintf(s + len, size - len, "{\"not\": ");
	len += (size_t)snprintf(s + len, size - len, "{\"exact\": {\"type\": \"x\"}}");
	for (unsigned i = 0; i < nots; i++)
		len += (size_t)snprintf(s + len, size - len, "}");
	return s;
}

static void caps_nesting_at_16_levels(void **state)
{
	struct cde_filter *f = NULL;
	struct cde_errors errs;
	char pointer[256] = "/r";
	cJSON *ev = json(event_text);
	char *text = nested_nots(CDE_FILTER_DEPTH_MAX - 1);

	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile_text(text, "/r", &f, &errs), 0);
	assert_true(cde_filter_match(f, ev));	/* 15 nots: not x */
	f = cde_filter_free(f);
	free(text);

	text = nested_nots(CDE_FILTER_DEPTH_MAX);
	assert_int_equal(cde_filter_compile_text(text, "/r", &f, &errs), -EINVAL);
	for (unsigned i = 0; i < CDE_FILTER_DEPTH_MAX; i++)
		strcat(pointer, "/not");
	assert_true(has_error(&errs, pointer, "nested deeper than 16 levels"));
	assert_int_equal(errs.count, 1);
	free(text);
	cJSON_Delete(ev);
}

/* {"any": [{"exact": {"type": "x"}}, ...]} with @n filters in the any:
 * 1 + 2n nodes (a filter and its attribute test each count). */
static char *wide_any(unsigned n, const char *last)
{
	size_t size = n * 40 + 64, len = 0;
	char *s = malloc(size);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, size - len, "{\"any\": [");
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s{\"exact\": {\"type\": \"%s\"}}", i ? ", " : "",
					i + 1 == n ? last : "x");
	snprintf(s + len, size - len, "]}");
	return s;
}

static void caps_a_filter_at_256_nodes(void **state)
{
	struct cde_filter *f = NULL;
	struct cde_errors errs;
	cJSON *ev = json(event_text);
	char *text = wide_any(127, "dev.cdevents.service.deployed");	/* 255 nodes */

	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile_text(text, "/r", &f, &errs), 0);
	assert_true(cde_filter_match(f, ev));
	f = cde_filter_free(f);
	free(text);

	/* The 257th node is the test of the 128th filter; said once. */
	text = wide_any(128, "x");
	assert_int_equal(cde_filter_compile_text(text, "/r", &f, &errs), -EINVAL);
	assert_true(has_error(&errs, "/r/any/127/exact/type", "more than 256 filters and attribute tests"));
	assert_int_equal(errs.count, 1);
	free(text);

	text = wide_any(1000, "x");
	cde_errors_reset(&errs);
	assert_int_equal(cde_filter_compile_text(text, "/r", &f, &errs), -EINVAL);
	assert_int_equal(errs.count, 1);
	free(text);
	cJSON_Delete(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_as_the_table_says),
		cmocka_unit_test(no_filter_matches_every_event),
		cmocka_unit_test(a_filter_outlives_its_spec),
		cmocka_unit_test(names_each_mistake_by_its_pointer),
		cmocka_unit_test(reports_every_mistake_not_only_the_first),
		cmocka_unit_test(caps_nesting_at_16_levels),
		cmocka_unit_test(caps_a_filter_at_256_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
