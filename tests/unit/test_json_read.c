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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(members_of_the_asked_type_are_read_and_absent_or_null_ones_are_not_errors),
		cmocka_unit_test(a_member_of_another_type_is_an_error_at_its_pointer),
		cmocka_unit_test(a_required_member_names_what_it_is_for),
		cmocka_unit_test(whole_numbers_are_read_within_their_range_and_nothing_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
