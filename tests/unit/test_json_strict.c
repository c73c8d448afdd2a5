/* Strict JSON: one byte sequence, one document. */

#include "tests/unit/helpers.h"

static int parse(const char *text, struct cde_errors *errs)
{
	cJSON *doc = NULL;
	int r;

	cde_errors_reset(errs);
	r = cde_json_parse(text, strlen(text), &doc, errs);
	cJSON_Delete(doc);
	return r;
}

static void accepts_ordinary_json(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"a\": [1, 2, {\"b\": \"\\u00e9\"}]}  \n", &errs), 0);
	assert_int_equal(parse("\"just a string\"", &errs), 0);
}

static void rejects_duplicate_properties_with_their_pointer(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"context\": {\"id\": \"a\", \"id\": \"b\"}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/id", "duplicate property"));
}

static void rejects_duplicates_in_large_objects(void **state)
{
	char text[8192];
	size_t o = 0;
	struct cde_errors errs;

	o += (size_t)snprintf(text + o, sizeof(text) - o, "{");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "\"k%d\": %d,", i, i);
	snprintf(text + o, sizeof(text) - o, "\"k42\": 0}");
	assert_int_equal(parse(text, &errs), -EINVAL);
	assert_true(has_error(&errs, "/k42", "duplicate property"));
}

static void rejects_the_nul_escape_but_not_an_escaped_backslash(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"a\": \"x\\u0000y\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "\\u0000"));
	/* "\\u0000" is a backslash followed by the text u0000. */
	assert_int_equal(parse("{\"a\": \"x\\\\u0000y\"}", &errs), 0);
}

static void rejects_invalid_utf8(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"a\": \"\xc3\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "invalid UTF-8 at byte 7"));
	assert_int_equal(parse("{\"a\": \"\xed\xa0\x80\"}", &errs), -EINVAL); /* surrogate */
	assert_int_equal(parse("{\"a\": \"\xc0\xaf\"}", &errs), -EINVAL);	  /* overlong */
}

static void rejects_syntax_errors_and_trailing_data(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"a\": }", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "invalid JSON at byte"));
	assert_int_equal(parse("{\"a\": 1} {\"b\": 2}", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "unexpected data at byte 9"));
	assert_int_equal(parse("", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "unexpected end of input"));
	assert_int_equal(parse("{\"a\": 1", &errs), -EINVAL);
}

static void limits_nesting(void **state)
{
	char text[400];
	struct cde_errors errs;
	size_t n = 0;

	for (int i = 0; i < CDE_JSON_MAX_DEPTH + 1; i++)
		text[n++] = '[';
	for (int i = 0; i < CDE_JSON_MAX_DEPTH + 1; i++)
		text[n++] = ']';
	text[n] = '\0';
	assert_int_equal(parse(text, &errs), -EINVAL);
	assert_true(has_error(&errs, "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0",
			      "nesting deeper than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_ordinary_json),
		cmocka_unit_test(rejects_duplicate_properties_with_their_pointer),
		cmocka_unit_test(rejects_duplicates_in_large_objects),
		cmocka_unit_test(rejects_the_nul_escape_but_not_an_escaped_backslash),
		cmocka_unit_test(rejects_invalid_utf8),
		cmocka_unit_test(rejects_syntax_errors_and_trailing_data),
		cmocka_unit_test(limits_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
