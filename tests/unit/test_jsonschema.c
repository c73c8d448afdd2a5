/* The JSON Schema draft 2020-12 validator (schemas/jsonschema/): what a
 * schema must be to load, how $id, $anchor and $ref resolve, and the
 * pointer and reason of what validation refuses. The official suite runs
 * in tests/conformance/json_schema_suite.c. */

#include "tests/unit/helpers.h"

#include "schemas/jsonschema/jsonschema.h"

/* Loads @text into @s under @base (NULL: anonymous); returns the root. */
static const cJSON *load(struct cde_jsonschema *s, const char *text, const char *base)
{
	struct cde_errors errs;
	const cJSON *root = NULL;

	cde_errors_reset(&errs);
	assert_int_equal(cde_jsonschema_add(s, text, strlen(text), base, &root, &errs), 0);
	return root;
}

static int refuse(const char *text, struct cde_errors *errs)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	const cJSON *root = NULL;

	assert_non_null(s);
	cde_errors_reset(errs);
	int r = cde_jsonschema_add(s, text, strlen(text), NULL, &root, errs);
	cde_jsonschema_free(s);
	return r;
}

/* Validates the JSON literal @instance against @schema. */
static int check(const struct cde_jsonschema *s, const cJSON *schema, const char *instance, unsigned flags,
	struct cde_errors *errs)
{
	cJSON *doc = json(instance);

	cde_errors_reset(errs);
	int r = cde_jsonschema_validate(s, schema, doc, flags, errs);
	cJSON_Delete(doc);
	return r;
}

static void a_keyword_it_does_not_implement_refuses_the_schema_at_its_pointer(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refuse("{\"properties\":{\"a\":{\"unevaluatedProperties\":false}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/properties/a/unevaluatedProperties", "not supported"));
	assert_int_equal(refuse("{\"items\":{\"$dynamicRef\":\"#x\"}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/items/$dynamicRef", "not supported"));
	assert_int_equal(refuse("{\"typo\":1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/typo", "not supported"));
}

static void annotation_keywords_are_accepted(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refuse("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"t\","
		"\"description\":\"d\",\"$comment\":\"c\",\"examples\":[1],\"default\":2,\"deprecated\":true,"
		"\"readOnly\":false,\"writeOnly\":false}", &errs), 0);
}

static void another_dialect_is_refused_rather_than_guessed(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refuse("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/$schema", "dialect not supported"));
}

static void a_pattern_posix_cannot_express_is_refused_at_its_pointer(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refuse("{\"properties\":{\"x\":{\"pattern\":\"^\\\\p{L}+$\"}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/properties/x/pattern", "POSIX"));
	assert_int_equal(refuse("{\"patternProperties\":{\"(?i)a\":true}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/patternProperties/(?i)a", "POSIX"));
	assert_int_equal(refuse("{\"pattern\":\"a(\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/pattern", "does not compile"));
}

static void ecma_class_escapes_match_as_their_posix_classes(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"pattern\":\"^\\\\d+[\\\\w.]\\\\S$\"}", NULL);

	assert_int_equal(check(s, root, "\"12_x\"", 0, &errs), 0);
	assert_int_equal(check(s, root, "\"12.x\"", 0, &errs), 0);
	assert_int_equal(check(s, root, "\"1a_ \"", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "must match the pattern"));
	assert_int_equal(refuse("{\"pattern\":\"[a\\\\-z]\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/pattern", "POSIX"));
	cde_jsonschema_free(s);
}

static void a_keyword_value_of_the_wrong_kind_is_refused_at_its_pointer(void **state)
{
	struct cde_errors errs;

	assert_int_equal(refuse("{\"minLength\":-1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/minLength", "non-negative integer"));
	assert_int_equal(refuse("{\"allOf\":[{\"type\":\"text\"}]}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/allOf/0/type", "type name"));
}

static void a_refused_document_leaves_the_registry_as_it_was(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const char *bad = "{\"$id\":\"http://ex.com/a.json\",\"nope\":1}";

	cde_errors_reset(&errs);
	assert_int_equal(cde_jsonschema_add(s, bad, strlen(bad), NULL, NULL, &errs), -EINVAL);
	assert_null(cde_jsonschema_lookup(s, "http://ex.com/a.json"));
	load(s, "{\"$id\":\"http://ex.com/a.json\",\"type\":\"string\"}", NULL);
	assert_non_null(cde_jsonschema_lookup(s, "http://ex.com/a.json"));
	cde_jsonschema_free(s);
}

static void errors_point_at_the_instance_location(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"properties\":{\"a/b\":{\"items\":{\"type\":\"integer\"}},\"c\":true},"
		"\"required\":[\"c\"],\"additionalProperties\":false}", NULL);

	assert_int_equal(check(s, root, "{\"a/b\":[1,\"x\"],\"d\":0}", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "/a~1b/1", "must be of type integer"));
	assert_true(has_error(&errs, "/c", "required"));
	assert_true(has_error(&errs, "/d", "property not allowed"));
	assert_int_equal(errs.count, 3);
	assert_int_equal(check(s, root, "{\"a/b\":[1],\"c\":0}", 0, &errs), 0);
	cde_jsonschema_free(s);
}

static void refs_resolve_across_documents_through_escaped_pointers(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;

	load(s, "{\"$id\":\"http://ex.com/root.json\",\"$defs\":{\"a/b~c%25\":{\"type\":\"integer\"}}}", NULL);
	const cJSON *other = load(s, "{\"$ref\":\"root.json#/$defs/a~1b~0c%2525\"}", "http://ex.com/other.json");

	cde_errors_reset(&errs);
	assert_int_equal(cde_jsonschema_check_refs(s, other, &errs), 0);
	assert_int_equal(check(s, other, "3", 0, &errs), 0);
	assert_int_equal(check(s, other, "\"3\"", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "must be of type integer"));
	cde_jsonschema_free(s);
}

static void a_relative_id_and_an_anchor_resolve_against_the_enclosing_base(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"$id\":\"http://ex.com/dir/s.json\",\"$ref\":\"sub/t.json#t\","
		"\"$defs\":{\"x\":{\"$id\":\"sub/t.json\",\"$anchor\":\"t\",\"type\":\"string\"}}}", NULL);

	assert_non_null(cde_jsonschema_lookup(s, "http://ex.com/dir/sub/t.json#t"));
	assert_ptr_equal(cde_jsonschema_lookup(s, "http://ex.com/dir/sub/t.json"),
		cde_jsonschema_lookup(s, "http://ex.com/dir/s.json#/$defs/x"));
	assert_int_equal(check(s, root, "\"ok\"", 0, &errs), 0);
	assert_int_equal(check(s, root, "1", 0, &errs), -EINVAL);
	cde_jsonschema_free(s);
}

static void a_ref_that_does_not_resolve_is_named_by_check_refs(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"$id\":\"http://ex.com/s.json\",\"items\":{\"$ref\":\"#/$defs/missing\"}}", NULL);

	cde_errors_reset(&errs);
	assert_int_equal(cde_jsonschema_check_refs(s, root, &errs), -ENOENT);
	assert_true(has_error(&errs, "/items/$ref", "http://ex.com/s.json#/$defs/missing does not resolve"));
	assert_int_equal(check(s, root, "[1]", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "/0", "does not resolve"));
	cde_jsonschema_free(s);
}

static void format_asserts_only_when_asked(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"properties\":{\"at\":{\"format\":\"date-time\"},"
		"\"mail\":{\"format\":\"email\"},\"link\":{\"format\":\"uri\"}}}", NULL);
	const char *bad = "{\"at\":\"2026-02-30T10:00:00Z\",\"mail\":\"a@@b\",\"link\":\"no scheme\"}";

	assert_int_equal(check(s, root, bad, 0, &errs), 0);
	assert_int_equal(check(s, root, bad, CDE_JSONSCHEMA_FORMAT_ASSERT, &errs), -EINVAL);
	assert_true(has_error(&errs, "/at", "must be a valid date-time"));
	assert_true(has_error(&errs, "/mail", "must be a valid email"));
	assert_true(has_error(&errs, "/link", "must be a valid uri"));
	assert_int_equal(check(s, root, "{\"at\":\"2024-02-29T23:59:60Z\",\"mail\":\"a.b@ex.com\","
		"\"link\":\"https://ex.com/x?y#z\"}", CDE_JSONSCHEMA_FORMAT_ASSERT, &errs), 0);
	cde_jsonschema_free(s);
}

static void boolean_schemas_accept_everything_or_nothing(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *yes = load(s, "true", NULL), *no = load(s, "false", NULL);

	assert_int_equal(check(s, yes, "{\"any\":1}", 0, &errs), 0);
	assert_int_equal(check(s, no, "null", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "no value is allowed here"));
	cde_jsonschema_free(s);
}

static void a_ref_cycle_is_an_error_not_a_crash(void **state)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	const cJSON *root = load(s, "{\"$ref\":\"#\"}", NULL);

	assert_int_equal(check(s, root, "1", 0, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "nest too deep"));
	cde_jsonschema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_keyword_it_does_not_implement_refuses_the_schema_at_its_pointer),
		cmocka_unit_test(annotation_keywords_are_accepted),
		cmocka_unit_test(another_dialect_is_refused_rather_than_guessed),
		cmocka_unit_test(a_pattern_posix_cannot_express_is_refused_at_its_pointer),
		cmocka_unit_test(ecma_class_escapes_match_as_their_posix_classes),
		cmocka_unit_test(a_keyword_value_of_the_wrong_kind_is_refused_at_its_pointer),
		cmocka_unit_test(a_refused_document_leaves_the_registry_as_it_was),
		cmocka_unit_test(errors_point_at_the_instance_location),
		cmocka_unit_test(refs_resolve_across_documents_through_escaped_pointers),
		cmocka_unit_test(a_relative_id_and_an_anchor_resolve_against_the_enclosing_base),
		cmocka_unit_test(a_ref_that_does_not_resolve_is_named_by_check_refs),
		cmocka_unit_test(format_asserts_only_when_asked),
		cmocka_unit_test(boolean_schemas_accept_everything_or_nothing),
		cmocka_unit_test(a_ref_cycle_is_an_error_not_a_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
