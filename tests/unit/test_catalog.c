/* The catalog: loading the project's data files, finding versions and
 * types, and refusing malformed catalog files with the file, the pointer
 * and the reason. */

#include "tests/unit/helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include "schemas/catalog_pattern.h"

static void loads_every_supported_version_newest_first(void **state)
{
	struct cde_catalog *c = load_catalog();

	assert_int_equal(cde_catalog_spec_count(c), 5);
	assert_string_equal(cde_catalog_spec_at(c, 0)->version, "0.5.1");
	assert_string_equal(cde_catalog_spec_at(c, 1)->version, "0.4.1");
	assert_string_equal(cde_catalog_spec_at(c, 2)->version, "0.3.0");
	assert_string_equal(cde_catalog_spec_at(c, 3)->version, "0.2.0");
	assert_string_equal(cde_catalog_spec_at(c, 4)->version, "0.1.2");
	assert_int_equal(cde_catalog_spec_at(c, 3)->n_types, 36);
	assert_int_equal(cde_catalog_spec_at(c, 4)->n_types, 33);
	assert_string_equal(cde_catalog_newest(c)->version, "0.5.1");
	assert_int_equal(cde_catalog_newest(c)->n_types, 45);
	assert_int_equal(cde_catalog_spec_at(c, 1)->n_types, 45);
	cde_catalog_free(c);
}

static void finds_versions_by_their_context_field(void **state)
{
	struct cde_catalog *c = load_catalog();

	assert_string_equal(cde_catalog_find_spec(c, "specversion", "0.5.1")->version, "0.5.1");
	/* Only releases whose schemas are loaded: 0.4.1 renamed fields of
	 * 0.4.0, so another patch of a loaded minor is not read as it. */
	assert_null(cde_catalog_find_spec(c, "specversion", "0.5.0"));
	assert_null(cde_catalog_find_spec(c, "specversion", "0.5.7"));
	assert_null(cde_catalog_find_spec(c, "version", "0.4.0"));
	assert_null(cde_catalog_find_spec(c, "specversion", "0.5.1-draft"));
	assert_string_equal(cde_catalog_find_spec(c, "version", "0.4.1")->version, "0.4.1");
	/* The version field must match too: 0.4.1 events say "version". */
	assert_null(cde_catalog_find_spec(c, "specversion", "0.4.1"));
	assert_null(cde_catalog_find_spec(c, "specversion", "0.6.0"));
	assert_null(cde_catalog_find_spec(c, "specversion", "banana"));
	cde_catalog_free(c);
}

static void finds_types_exactly_or_by_subject_and_predicate(void **state)
{
	struct cde_catalog *c = load_catalog();
	const struct cde_spec *s = cde_catalog_newest(c);

	assert_non_null(cde_spec_find_type(s, "dev.cdevents.service.deployed.0.3.0"));
	assert_null(cde_spec_find_type(s, "dev.cdevents.service.deployed.0.2.0"));
	assert_string_equal(cde_spec_find_kind(s, "service", "deployed")->name,
			    "dev.cdevents.service.deployed.0.3.0");
	assert_string_equal(cde_spec_find_kind(s, "testcaserun", "skipped")->name,
			    "dev.cdevents.testcaserun.skipped.0.2.0");
	assert_null(cde_spec_find_kind(s, "service", "exploded"));
	assert_true(cde_type_is_custom("dev.cdeventsx.spark-job.finished.0.1.0"));
	assert_false(cde_type_is_custom("dev.cdevents.build.started.0.3.0"));
	cde_catalog_free(c);
}

/* Writes @text as the only catalog file of a new temporary directory and
 * loads it; returns the result and leaves the errors in @errs. */
static int load_text(const char *text, struct cde_errors *errs)
{
	char dir[] = "/tmp/cde-catalog-XXXXXX", path[64];
	struct cde_catalog *loaded = NULL;
	FILE *f;
	int r;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v9.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	cde_errors_reset(errs);
	r = cde_catalog_load_dir(dir, &loaded, errs);
	cde_catalog_free(loaded);
	unlink(path);
	rmdir(dir);
	return r;
}

#define MINIMAL_HEAD "{\"specVersion\": \"9.0.0\", \"versionField\": \"specversion\", "
#define MINIMAL_ENVELOPE "\"envelope\": {\"type\": \"object\", \"fields\": {\"context\": \"$context\", \"subject\": \"$subject\"}}, "

static void loads_a_minimal_catalog(void **state)
{
	struct cde_errors errs;

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"dev.cdevents.x.y.0.1.0\": {\"context\": \"object\", \"subject\": \"object\"}}}",
				   &errs), 0);
}

static void refuses_malformed_catalogs_naming_the_place(void **state)
{
	struct cde_errors errs;

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE "\"events\": {}, \"extra\": 1}", &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/extra", "unknown key"));

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": \"@nope\", \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context", "unknown definition \"@nope\""));

	assert_int_equal(load_text(MINIMAL_HEAD "\"defs\": {\"a\": \"@b\", \"b\": \"@a\"}, "
				   MINIMAL_ENVELOPE "\"events\": {}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/defs/b", "definition \"a\" refers to itself"));

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": {\"type\": \"string\", \"fields\": {}}, \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context", "only for objects"));

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": {\"type\": \"object\", \"required\": [\"x\"]}, \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context/required", "not a string naming a field"));

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": {\"type\": \"string\", \"format\": \"email\"}, \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context", "unsupported format \"email\""));

	assert_int_equal(load_text("{\"specVersion\": 1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/specVersion", "must be a string"));

	assert_int_equal(load_text("{not json", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "invalid JSON"));
}

static void custom_event_shapes_come_from_each_release(void **state)
{
	struct cde_catalog *c = load_catalog();

	/* custom/schema.json exists from v0.4.1 on; v0.3.0 has none. */
	assert_non_null(cde_catalog_spec_at(c, 0)->custom_subject);
	assert_non_null(cde_catalog_spec_at(c, 0)->custom_context);
	assert_non_null(cde_catalog_spec_at(c, 1)->custom_subject);
	assert_null(cde_catalog_spec_at(c, 2)->custom_subject);
	assert_null(cde_catalog_spec_at(c, 2)->custom_context);
	assert_non_null(cde_catalog_spec_at(c, 2)->context);
	cde_catalog_free(c);
}

/* Compiles @source (which must be in the subset) and matches @s. */
static bool matches(const char *source, const char *s)
{
	struct cde_arena arena = { 0 };
	const struct cde_pattern *p = NULL;
	size_t at = 0;
	bool r;

	assert_int_equal(cde_pattern_compile(&arena, source, &p, &at), 0);
	r = cde_pattern_match(p, s);
	cde_arena_release(&arena);
	return r;
}

static size_t refused_at(const char *source)
{
	struct cde_arena arena = { 0 };
	const struct cde_pattern *p = NULL;
	size_t at = 0;

	assert_int_equal(cde_pattern_compile(&arena, source, &p, &at), -EINVAL);
	cde_arena_release(&arena);
	return at;
}

static void patterns_match_as_ecma_regexps_do(void **state)
{
	const char *custom = "^dev\\.cdeventsx\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.[a-zA-Z]+\\.[0-9]\\.[0-9]\\.[0-9]$";

	assert_true(matches(custom, "dev.cdeventsx.mytool-resource.created.0.1.0"));
	assert_false(matches(custom, "dev.cdeventsx.probes.ping.0.1.0"));
	assert_false(matches(custom, "dev.cdeventsx.my-tool-x.created.0.1.0"));
	assert_false(matches(custom, "dev.cdeventsx.mytool-resource.created.0.10.0"));
	assert_false(matches(custom, "dev.cdeventsx.mytool-resource.created.0.1.0\n"));
	assert_false(matches(custom, "xdev.cdeventsx.mytool-resource.created.0.1.0"));
	/* Unanchored patterns match anywhere, as RegExp.test does. */
	assert_true(matches("b+c", "aabbbcd"));
	assert_false(matches("b+c", "aabd"));
	assert_true(matches("^a{2,3}$", "aaa"));
	assert_false(matches("^a{2,3}$", "aaaa"));
	assert_true(matches("^x?\\d*[^-]$", "123\xc3\xa9"));
	assert_true(matches("^.$", "\xf0\x9f\x98\x80"));
	assert_false(matches("^.$", "\n"));
	assert_true(matches("^a.*b$", "a\xe2\x82\xac-b"));
	assert_true(matches("", "anything"));
}

static void patterns_outside_the_subset_are_refused_where_they_go_wrong(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refused_at("^(a|b)$"), 1);
	assert_int_equal(refused_at("^ab|c"), 3);
	assert_int_equal(refused_at("a**"), 2);
	assert_int_equal(refused_at("\\p{L}"), 0);
	assert_int_equal(refused_at("x(?=y)"), 1);
	assert_int_equal(refused_at("a$b"), 1);
	assert_int_equal(refused_at("[\xc3\xa9]"), 0);

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": {\"type\": \"string\", \"pattern\": \"^(a|b)$\"}, \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context/pattern", "unsupported in a catalog pattern at offset 1"));
	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"events\": {\"t\": {\"context\": {\"type\": \"object\", \"pattern\": \"x\"}, \"subject\": \"object\"}}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/events/t/context", "\"pattern\" (and \"looksLike\") are strings on a string"));
}

static void custom_shapes_come_in_pairs(void **state)
{
	struct cde_errors errs;

	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE "\"customSubject\": \"object\", \"events\": {}}", &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/customContext", "required key missing"));
	assert_int_equal(load_text(MINIMAL_HEAD MINIMAL_ENVELOPE
				   "\"customContext\": \"object\", \"customSubject\": \"object\", \"events\": {}}", &errs), 0);
}

static void refuses_a_missing_directory(void **state)
{
	struct cde_catalog *none = NULL;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_catalog_load_dir("/nonexistent/catalog", &none, &errs), -ENOENT);
	assert_null(none);
	assert_true(has_error(&errs, "", "No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_every_supported_version_newest_first),
		cmocka_unit_test(finds_versions_by_their_context_field),
		cmocka_unit_test(finds_types_exactly_or_by_subject_and_predicate),
		cmocka_unit_test(loads_a_minimal_catalog),
		cmocka_unit_test(refuses_malformed_catalogs_naming_the_place),
		cmocka_unit_test(custom_event_shapes_come_from_each_release),
		cmocka_unit_test(patterns_match_as_ecma_regexps_do),
		cmocka_unit_test(patterns_outside_the_subset_are_refused_where_they_go_wrong),
		cmocka_unit_test(custom_shapes_come_in_pairs),
		cmocka_unit_test(refuses_a_missing_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
