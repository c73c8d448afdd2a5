/* The typed JSON reader (schemas/base/json_read.c): what each member
 * reader accepts, and the pointer and reason of what it refuses. */

#include "tests/unit/helpers.h"

#include "schemas/base/json_read.h"

static void members_of_the_asked_type_are_read_and_absent_or_null_ones_are_not_errors(void **state)
{
	cJSON *doc = json("{\"name\":\"etl\",\"spec\":{},\"gone\":null}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "/pod", &errs);
	assert_string_equal(cde_json_read_string(&r, doc, "name"), "etl");
	assert_non_null(cde_json_read_member(&r, doc, "spec", cJSON_Object));
	assert_null(cde_json_read_string(&r, doc, "gone"));
	assert_null(cde_json_read_member(&r, doc, "absent", cJSON_Array));
	assert_false(cde_json_reader_failed(&r));
	cJSON_Delete(doc);
}

static void a_member_of_another_type_is_an_error_at_its_pointer(void **state)
{
	cJSON *doc = json("{\"spec\":{\"containers\":{}},\"name\":3}");
	struct cde_errors errs;
	struct cde_json_reader r;
	size_t mark;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "/items/0", &errs);
	mark = cde_ptr_push(&r.p, "spec");
	assert_null(cde_json_read_member(&r, cJSON_GetObjectItem(doc, "spec"), "containers",
					 cJSON_Array));
	cde_ptr_pop(&r.p, mark);
	assert_null(cde_json_read_string(&r, doc, "name"));
	assert_true(cde_json_reader_failed(&r));
	assert_int_equal(errs.count, 2);
	assert_true(has_error(&errs, "/items/0/spec/containers", "must be an array"));
	assert_true(has_error(&errs, "/items/0/name", "must be a string"));
	cJSON_Delete(doc);
}

static void a_required_member_names_what_it_is_for(void **state)
{
	cJSON *doc = json("{\"metadata\":null}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	assert_null(cde_json_read_required(&r, doc, "metadata", cJSON_Object, "the pod's name"));
	assert_true(has_error(&errs, "/metadata", "required (the pod's name)"));
	cJSON_Delete(doc);
}

static void whole_numbers_are_read_within_their_range_and_nothing_else(void **state)
{
	cJSON *doc = json("{\"a\":7,\"b\":1.5,\"c\":0,\"d\":9007199254740991,\"e\":\"7\"}");
	struct cde_errors errs;
	struct cde_json_reader r;
	double v = -1;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	assert_true(cde_json_read_whole(&r, doc, "a", 1, 10, &v));
	assert_true(v == 7);
	assert_true(cde_json_read_whole(&r, doc, "d", 1, 9007199254740991.0, &v));
	assert_false(cde_json_read_whole(&r, doc, "b", 1, 10, &v));
	assert_false(cde_json_read_whole(&r, doc, "c", 1, 10, &v));
	assert_false(cde_json_read_whole(&r, doc, "e", 1, 10, &v));
	assert_false(cde_json_read_whole(&r, doc, "absent", 1, 10, &v));
	assert_int_equal(errs.count, 3);
	assert_true(has_error(&errs, "/b", "must be a whole number from 1 to 10"));
	assert_true(has_error(&errs, "/c", "must be a whole number from 1 to 10"));
	assert_true(has_error(&errs, "/e", "must be a number"));
	assert_true(cde_json_is_whole(-3) && !cde_json_is_whole(0.5) &&
		    !cde_json_is_whole(9007199254740992.0));
	cJSON_Delete(doc);
}

static void a_hint_ends_each_reason_as_it_is_written(void **state)
{
	cJSON *doc = json("{\"phase\":3,\"level\":true}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	assert_null(cde_json_read_as(&r, doc, "phase", cJSON_String, CDE_JSON_REQUIRED, " (one of: a, b)"));
	assert_null(cde_json_read_as(&r, doc, "subject", cJSON_String, CDE_JSON_REQUIRED, " (the id)"));
	assert_null(cde_json_read_as(&r, doc, "level", cJSON_String, 0, ": suite or case"));
	assert_int_equal(errs.count, 3);
	assert_true(has_error(&errs, "/phase", "must be a string (one of: a, b)"));
	assert_true(has_error(&errs, "/subject", "required (the id)"));
	assert_true(has_error(&errs, "/level", "must be a string: suite or case"));
	cJSON_Delete(doc);
}

static void a_reader_may_say_required_its_own_way(void **state)
{
	cJSON *doc = json("{}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	r.missing = "required property missing";
	assert_null(cde_json_read_as(&r, doc, "subject", cJSON_String, CDE_JSON_REQUIRED, " (the id)"));
	assert_null(cde_json_read_required(&r, doc, "phase", cJSON_String, "one of: a, b"));
	assert_true(has_error(&errs, "/subject", "required property missing (the id)"));
	assert_true(has_error(&errs, "/phase", "required property missing (one of: a, b)"));
	cJSON_Delete(doc);
}

static void a_non_empty_read_refuses_an_empty_string_or_list_as_a_wrong_type(void **state)
{
	cJSON *doc = json("{\"a\":\"\",\"b\":7,\"c\":\"x\",\"d\":[],\"e\":[1]}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	assert_null(cde_json_read_as(&r, doc, "a", cJSON_String, CDE_JSON_NON_EMPTY, " (the id)"));
	assert_null(cde_json_read_as(&r, doc, "b", cJSON_String, CDE_JSON_NON_EMPTY, NULL));
	assert_non_null(cde_json_read_as(&r, doc, "c", cJSON_String, CDE_JSON_NON_EMPTY, NULL));
	assert_null(cde_json_read_as(&r, doc, "d", cJSON_Array, CDE_JSON_NON_EMPTY, " of names"));
	assert_non_null(cde_json_read_as(&r, doc, "e", cJSON_Array, CDE_JSON_NON_EMPTY, NULL));
	assert_int_equal(errs.count, 3);
	assert_true(has_error(&errs, "/a", "must be a non-empty string (the id)"));
	assert_true(has_error(&errs, "/b", "must be a non-empty string"));
	assert_true(has_error(&errs, "/d", "must be a non-empty array of names"));
	cJSON_Delete(doc);
}

static void null_is_a_wrong_value_when_the_reader_says_so(void **state)
{
	cJSON *doc = json("{\"source\":null,\"subject\":null}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	r.null_is_a_value = true;
	assert_null(cde_json_read_as(&r, doc, "source", cJSON_String, CDE_JSON_NON_EMPTY, NULL));
	assert_null(cde_json_read_required(&r, doc, "subject", cJSON_String, "the id"));
	assert_null(cde_json_read_string(&r, doc, "absent"));
	assert_int_equal(errs.count, 2);
	assert_true(has_error(&errs, "/source", "must be a non-empty string"));
	assert_true(has_error(&errs, "/subject", "must be a string"));
	cJSON_Delete(doc);
}

static void a_file_reader_starts_each_reason_with_the_file_and_pointer(void **state)
{
	cJSON *doc = json("{\"url\":[1]}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "/sinks/0", &errs);
	r.file = "/etc/cdeventsd.yaml";
	assert_null(cde_json_read_as(&r, doc, "url", CDE_JSON_SCALAR, 0, NULL));
	assert_int_equal(cde_json_reader_fail(&r, "type", "\"%s\" is not tekton", "kafka"), -EINVAL);
	assert_true(has_error(&errs, "/sinks/0/url",
			      "/etc/cdeventsd.yaml: /sinks/0/url: must be a single value"));
	assert_true(has_error(&errs, "/sinks/0/type",
			      "/etc/cdeventsd.yaml: /sinks/0/type: \"kafka\" is not tekton"));
	cJSON_Delete(doc);
}

static void a_read_may_want_one_of_several_types_named_as_yaml_names_them(void **state)
{
	cJSON *doc = json("{\"on\":\"yes\",\"off\":false,\"headers\":[],\"sinks\":{},\"n\":4}");
	struct cde_errors errs;
	struct cde_json_reader r;

	cde_errors_reset(&errs);
	cde_json_reader_init(&r, "", &errs);
	r.yaml_words = true;
	assert_null(cde_json_read_as(&r, doc, "on", CDE_JSON_BOOL, 0, NULL));
	assert_non_null(cde_json_read_as(&r, doc, "off", CDE_JSON_BOOL, 0, NULL));
	assert_non_null(cde_json_read_as(&r, doc, "n", CDE_JSON_SCALAR, 0, NULL));
	assert_null(cde_json_read_as(&r, doc, "headers", cJSON_Object, 0, " of header names to values"));
	assert_null(cde_json_read_value(&r, cJSON_GetObjectItem(doc, "sinks"), cJSON_Array, 0, " of sinks"));
	assert_int_equal(errs.count, 3);
	assert_true(has_error(&errs, "/on", "must be true or false"));
	assert_true(has_error(&errs, "/headers", "must be a map of header names to values"));
	assert_true(has_error(&errs, "", "must be a list of sinks"));
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(members_of_the_asked_type_are_read_and_absent_or_null_ones_are_not_errors),
		cmocka_unit_test(a_member_of_another_type_is_an_error_at_its_pointer),
		cmocka_unit_test(a_required_member_names_what_it_is_for),
		cmocka_unit_test(whole_numbers_are_read_within_their_range_and_nothing_else),
		cmocka_unit_test(a_hint_ends_each_reason_as_it_is_written),
		cmocka_unit_test(a_reader_may_say_required_its_own_way),
		cmocka_unit_test(a_non_empty_read_refuses_an_empty_string_or_list_as_a_wrong_type),
		cmocka_unit_test(null_is_a_wrong_value_when_the_reader_says_so),
		cmocka_unit_test(a_file_reader_starts_each_reason_with_the_file_and_pointer),
		cmocka_unit_test(a_read_may_want_one_of_several_types_named_as_yaml_names_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
