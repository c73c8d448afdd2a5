/* Strict JSON: one byte sequence, one document. */

#include "tests/unit/helpers.h"

static void *refuse_malloc(size_t size)
{
	(void)size;
	return NULL;
}

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
	assert_true(has_error(&errs, "", "invalid JSON at byte 9"));
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

/* cJSON answers NULL both for bad syntax and for a failed allocation;
 * the parser must tell them apart: a client's mistake is a 400, running
 * out of memory a 503. No malformed text may pass for the second. */
static void tells_a_syntax_error_from_running_out_of_memory(void **state)
{
	static const char *const malformed[] = {
		"{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "[01x]", "[1.]", "[.5]", "[-]", "[1e]",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\uD800\"]", "[\"\\uDC00\"]", "[\"\\uD800\\u0041\"]",
		"[\"\t\"]", "tru", "nul", "[true false]", "\"unterminated", "[[[]]", "{\"a\":{\"b\":}}",
	};
	struct cde_errors errs;
	char deep[2100];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		/* Refused, also the few cJSON itself reads ("[1.]" say). */
		if (parse(malformed[i], &errs) != -EINVAL)
			fail_msg("%s: not refused as malformed", malformed[i]);
	}
	/* Past cJSON's own nesting limit: malformed for cJSON too. */
	for (int i = 0; i < 1001; i++)
		deep[n++] = '[';
	for (int i = 0; i < 1001; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	assert_int_equal(parse(deep, &errs), -EINVAL);
	/* A well-formed text whose parse cannot allocate is -ENOMEM. */
	cJSON_Hooks none = { .malloc_fn = refuse_malloc, .free_fn = free };

	cJSON_InitHooks(&none);
	assert_int_equal(parse("{\"a\": [1, 2.5e3, \"\\uD83D\\uDE00\", true, null]}", &errs), -ENOMEM);
	cJSON_InitHooks(NULL);
}

/* cJSON reads "1." and raw control characters; had they passed, the
 * numbers after them would have gone unchecked (the check pairs the
 * tree's numbers with the text's literals). */
static void lenient_shapes_cannot_smuggle_a_number_past_the_check(void **state)
{
	struct cde_errors errs;

	assert_int_equal(parse("{\"customData\":{\"a\":1.,\"n\":1e400}}", &errs), -EINVAL);
	assert_int_equal(parse("{\"s\":\"tab\there\",\"n\":1e400}", &errs), -EINVAL);
	assert_int_equal(parse("{\"a\":01,\"n\":1e400}", &errs), -EINVAL);
}

static void refuses_numbers_a_double_cannot_keep_naming_their_pointer(void **state)
{
	static const struct {
		const char *text, *pointer, *reason;
	} cases[] = {
		{ "{\"a\": {\"n\": 1e400}}", "/a/n", "too large" },
		{ "[0, -1e400]", "/1", "too large" },
		{ "{\"n\": 123456789012345678901234567890}", "/n", "2^53" },
		{ "{\"n\": 9007199254740993}", "/n", "2^53" },
		{ "{\"n\": -9007199254740993}", "/n", "2^53" },
		{ "{\"n\": 1e-400}", "/n", "rounds to 0" },
		{ "{\"n\": -0.0000000000000000000000000000000000000000000000000000000000000000000000000000000"
		  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000001}",
		  "/n", "rounds to 0" },
		{ "12345678901234567890", "", "2^53" },
		/* Past 2^53 written as a fraction or with an exponent, or more
		 * digits than a double keeps: stored, they would read as
		 * another number. */
		{ "{\"n\": 9007199254740993.0}", "/n", "more precise" },
		{ "{\"n\": 9.007199254740993e15}", "/n", "more precise" },
		{ "{\"n\": 12345678901234567890.5}", "/n", "more precise" },
		{ "{\"n\": 0.1000000000000000000001}", "/n", "more precise" },
	};
	struct cde_errors errs;
	char digits[402];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text, &errs), -EINVAL);
		if (!has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_errors(&errs);
			fail_msg("%s: expected %s: %s", cases[i].text, cases[i].pointer, cases[i].reason);
		}
	}
	memset(digits, '9', 400);
	digits[400] = '\0';
	assert_int_equal(parse(digits, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "too large"));
	/* Numbers are found in document order, whatever strings hold. */
	assert_int_equal(parse("{\"s\": \"1e400 \\\" 2\", \"t\": [1, {\"u\": 1e999}]}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/t/1/u", "too large"));
}

static void accepts_every_number_a_double_keeps(void **state)
{
	static const char *const ok[] = {
		"9007199254740992", "-9007199254740992", "1e22", "1.5e300", "0.30000000000000004",
		"5e-324", "1e-310", "0", "-0", "0.0", "0e-999", "0e999", "1.0", "0.1", "100e-2",
		"1.7976931348623157e308", "-2.5E-7", "[1, 2.5, {\"a\": 3e3}]", "2.2250738585072014e-308",
		"0.000001230", "1.23e22",
	};
	struct cde_errors errs;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i], &errs) != 0) {
			print_errors(&errs);
			fail_msg("%s was refused", ok[i]);
		}
	}
}

/* cJSON prints 0.30000000000000004 as 0.3 and 2^53 as
 * 9.00719925474099e+15: cde_json_print must give back the same double. */
static void prints_every_double_back_to_the_same_value(void **state)
{
	static const double values[] = {
		0.30000000000000004, 9007199254740992.0, -9007199254740992.0, 3.0000000000000004,
		1.7976931348623157e308, 5e-324, 1e22, 4.35, 0.1, 1, 0, -2.5e-7, 2147483648.0,
		123456.789, 1e-310, 2.2250738585072014e-308,
	};
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_true(cJSON_AddItemToArray(arr, cJSON_CreateNumber(values[i])));
	assert_true(cJSON_AddItemToArray(arr, cJSON_CreateString("kept")));
	char *text = cde_json_print(arr);
	cJSON *back = cJSON_Parse(text);
	size_t i = 0;
	const cJSON *c;

	assert_non_null(back);
	cJSON_ArrayForEach(c, back) {
		if (i == sizeof(values) / sizeof(values[0])) {
			assert_string_equal(c->valuestring, "kept");
			break;
		}
		if (c->valuedouble != values[i])
			fail_msg("%.17g printed as %.17g in %s", values[i], c->valuedouble, text);
		i++;
	}
	/* The usual case prints as cJSON does. */
	cJSON *plain = json("{\"a\": 1, \"b\": 2.5, \"c\": [\"x\", 0.1]}");
	char *mine = cde_json_print(plain), *theirs = cJSON_PrintUnformatted(plain);

	assert_string_equal(mine, theirs);
	assert_string_equal(mine, "{\"a\":1,\"b\":2.5,\"c\":[\"x\",0.1]}");
	free(mine);
	free(theirs);
	cJSON_Delete(plain);
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(arr);
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
		cmocka_unit_test(tells_a_syntax_error_from_running_out_of_memory),
		cmocka_unit_test(refuses_numbers_a_double_cannot_keep_naming_their_pointer),
		cmocka_unit_test(lenient_shapes_cannot_smuggle_a_number_past_the_check),
		cmocka_unit_test(accepts_every_number_a_double_keeps),
		cmocka_unit_test(prints_every_double_back_to_the_same_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
