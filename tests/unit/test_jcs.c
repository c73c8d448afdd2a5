/* RFC 8785 canonical JSON: the RFC's own examples, the test data of its
 * authors' reference implementations, and the cases around them. Expected
 * values are transcribed from RFC 8785 (sections 3.2.2, 3.2.3 and 3.2.4,
 * Appendix B) and from github.com/cyberphone/json-canonicalization,
 * testdata/input and testdata/output. */

#include "tests/unit/helpers.h"

#include <math.h>

#include "schemas/base/jcs.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The canonical form of @doc (freed here); fails the test on an error. */
static char *canon_doc(cJSON *doc)
{
	char *text = NULL;
	size_t len = 0;

	assert_non_null(doc);
	assert_int_equal(cde_jcs_serialize(doc, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	cJSON_Delete(doc);
	return text;
}

/* Parses with cJSON itself: some of the RFC's inputs carry more digits
 * than a double keeps, which cde_json_parse refuses on purpose. */
static void assert_canon(const char *input, const char *expected)
{
	char *text = canon_doc(cJSON_Parse(input));

	if (strcmp(text, expected) != 0)
		fail_msg("input %s\n  got      %s\n  expected %s", input, text, expected);
	free(text);
}

static double from_bits(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Refuses @doc (freed here) with -EINVAL, one error at @pointer whose
 * reason contains @reason, and leaves the outputs alone. */
static void assert_refused(cJSON *doc, const char *pointer, const char *reason)
{
	struct cde_errors errs;
	char *text = (char *)"untouched";
	size_t len = 42;

	cde_errors_reset(&errs);
	assert_int_equal(cde_jcs_serialize_errors(doc, &text, &len, &errs), -EINVAL);
	assert_string_equal(text, "untouched");
	assert_int_equal(len, 42);
	if (!has_error(&errs, pointer, reason)) {
		print_errors(&errs);
		fail_msg("no error at '%s' saying '%s'", pointer, reason);
	}
	assert_int_equal(cde_jcs_serialize(doc, &text, &len), -EINVAL);
	cJSON_Delete(doc);
}

/* RFC 8785 section 3.2.2 (input) and 3.2.4 (its canonical form). */
static void the_rfc_sample_object_canonicalizes_as_the_rfc_prints_it(void **state)
{
	assert_canon("{\n"
		     "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
		     "              2e-3, 0.000000000000000000000000001],\n"
		     "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
		     "  \"literals\": [null, true, false]\n"
		     "}",
		     "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
		     "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 Appendix B, every row: IEEE 754 bits and the text they take. */
static void every_appendix_b_number_prints_as_the_rfc_table(void **state)
{
	static const struct {
		uint64_t bits;
		const char *text;
	} rows[] = {
		{ 0x0000000000000000, "0" },			/* Zero */
		{ 0x8000000000000000, "0" },			/* Minus zero */
		{ 0x0000000000000001, "5e-324" },		/* Min pos number */
		{ 0x8000000000000001, "-5e-324" },		/* Min neg number */
		{ 0x7fefffffffffffff, "1.7976931348623157e+308" }, /* Max pos number */
		{ 0xffefffffffffffff, "-1.7976931348623157e+308" }, /* Max neg number */
		{ 0x4340000000000000, "9007199254740992" },	/* Max pos int */
		{ 0xc340000000000000, "-9007199254740992" },	/* Max neg int */
		{ 0x4430000000000000, "295147905179352830000" }, /* ~2**68 */
		{ 0x7fffffffffffffff, NULL },			/* NaN */
		{ 0x7ff0000000000000, NULL },			/* Infinity */
		{ 0x44b52d02c7e14af5, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6, "1e+23" },
		{ 0x44b52d02c7e14af7, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4e, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4f, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8d, "0.000001" },
		{ 0x41b3de4355555553, "333333333.3333332" },
		{ 0x41b3de4355555554, "333333333.33333325" },
		{ 0x41b3de4355555555, "333333333.3333333" },
		{ 0x41b3de4355555556, "333333333.3333334" },
		{ 0x41b3de4355555557, "333333333.33333343" },
		{ 0xbecbf647612f3696, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959, "1424953923781206.2" }, /* Round to even */
	};

	for (size_t i = 0; i < N(rows); i++) {
		cJSON *num = cJSON_CreateNumber(from_bits(rows[i].bits));

		if (!rows[i].text) {
			assert_refused(num, "", "not finite");
			continue;
		}
		char *text = canon_doc(num);

		if (strcmp(text, rows[i].text) != 0)
			fail_msg("%016llx: got %s, expected %s", (unsigned long long)rows[i].bits, text,
				 rows[i].text);
		free(text);
	}
}

/* ECMA-262 Number::toString's four shapes and where they switch. */
static void numbers_take_the_ecmascript_shapes(void **state)
{
	static const struct {
		double value;
		const char *text;
	} rows[] = {
		{ 1e20, "100000000000000000000" },
		{ 1e21, "1e+21" },
		{ 123e18, "123000000000000000000" },
		{ 1.5e21, "1.5e+21" },
		{ -1.5, "-1.5" },
		{ 123.456, "123.456" },
		{ 0.000001, "0.000001" },
		{ 0.0000015, "0.0000015" },
		{ 1e-7, "1e-7" },
		{ 1.5e-7, "1.5e-7" },
		{ -1e300, "-1e+300" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 9007199254740993.0, "9007199254740992" },
		/* Powers of two, where the doubles below are twice as dense as
		 * those above: the nearest 16 digits (...044, ...975) do not
		 * read back, the 16 on the value's other side do. */
		{ 0x1p-1017, "7.120236347223045e-307" },
		{ 0x1p-1007, "7.291122019556398e-304" },
		{ 0x1p-957, "8.209073602596753e-289" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		char *text = canon_doc(cJSON_CreateNumber(rows[i].value));

		if (strcmp(text, rows[i].text) != 0)
			fail_msg("%a: got %s, expected %s", rows[i].value, text, rows[i].text);
		free(text);
	}
	assert_refused(cJSON_CreateNumber(-INFINITY), "", "not finite");
}

/* RFC 8785 section 3.2.3: names compare as UTF-16 code units, so the emoji
 * (D83D DE00) comes before U+FB33 though its code point is larger. */
static void member_names_sort_as_utf16_code_units_as_in_section_3_2_3(void **state)
{
	assert_canon("{\n"
		     "  \"\\u20ac\": \"Euro Sign\",\n"
		     "  \"\\r\": \"Carriage Return\",\n"
		     "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
		     "  \"1\": \"One\",\n"
		     "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
		     "  \"\\u0080\": \"Control\",\n"
		     "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
		     "}",
		     "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
		     "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
		     "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
		     "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* Byte (and code point) order would put U+E000 and U+FFFF first. */
static void astral_names_sort_before_u_e000_to_u_ffff(void **state)
{
	assert_canon("{\"\\uffff\":1,\"\\ue000\":2,\"\\ud800\\udc00\":3,\"\\udbff\\udfff\":4,\"\\ud7ff\":5,"
		     "\"a\\ue000\":6,\"a\\ud83d\\ude00\":7,\"a\":8}",
		     "{\"a\":8,\"a\xf0\x9f\x98\x80\":7,\"a\xee\x80\x80\":6,\"\xed\x9f\xbf\":5,"
		     "\"\xf0\x90\x80\x80\":3,\"\xf4\x8f\xbf\xbf\":4,\"\xee\x80\x80\":2,\"\xef\xbf\xbf\":1}");
}

/* cyberphone/json-canonicalization testdata, input and output. */
static void the_reference_test_data_canonicalizes_as_its_output_files(void **state)
{
	/* arrays.json */
	assert_canon("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
		     "[56,{\"1\":[],\"10\":null,\"d\":true}]");
	/* french.json: no locale, only code units. */
	assert_canon("{\n  \"peach\": \"This sorting order\",\n"
		     "  \"p\xc3\xa9\x63h\xc3\xa9\": \"is wrong according to French\",\n"
		     "  \"p\xc3\xaa\x63he\": \"but canonicalization MUST\",\n"
		     "  \"sin\":   \"ignore locale\"\n}",
		     "{\"peach\":\"This sorting order\",\"p\xc3\xa9\x63h\xc3\xa9\":\"is wrong according to French\","
		     "\"p\xc3\xaa\x63he\":\"but canonicalization MUST\",\"sin\":\"ignore locale\"}");
	/* structures.json */
	assert_canon("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n"
		     "  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ {\"e\": \"yes\",\"E\": \"no\" } ],\n"
		     "  \"A\": { }\n}",
		     "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},"
		     "\"111\":[{\"E\":\"no\",\"e\":\"yes\"}],\"A\":{},\"a\":{}}");
	/* unicode.json: no normalization. */
	assert_canon("{\n  \"Unnormalized Unicode\":\"A\\u030a\"\n}",
		     "{\"Unnormalized Unicode\":\"A\xcc\x8a\"}");
	/* weird.json */
	assert_canon("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"\\r\": \"Carriage Return\",\n"
		     "  \"\\u000a\": \"Newline\",\n  \"1\": \"One\",\n  \"\\u0080\": \"Control\\u007f\",\n"
		     "  \"\\ud83d\\ude02\": \"Smiley\",\n  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n"
		     "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
		     "  \"</script>\": \"Browser Challenge\"\n}",
		     "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\","
		     "\"</script>\":\"Browser Challenge\",\"\xc2\x80\":\"Control\x7f\","
		     "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
		     "\"\xf0\x9f\x98\x82\":\"Smiley\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* Only \" \\ \b \f \n \r \t and \u00xx (lower case) for the other control
 * characters; '/', DEL, U+2028 and everything else as raw UTF-8. */
static void strings_escape_only_what_jcs_escapes(void **state)
{
	char in[64], expected[512];
	size_t o = 0;
	char *text;

	for (int c = 1; c < 0x20; c++)
		in[c - 1] = (char)c;
	in[31] = '\0';
	o += (size_t)snprintf(expected + o, sizeof(expected) - o, "\"");
	for (int c = 1; c < 0x20; c++) {
		const char *named = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" :
				    c == '\f' ? "\\f" : c == '\r' ? "\\r" : NULL;

		if (named)
			o += (size_t)snprintf(expected + o, sizeof(expected) - o, "%s", named);
		else
			o += (size_t)snprintf(expected + o, sizeof(expected) - o, "\\u%04x", c);
	}
	snprintf(expected + o, sizeof(expected) - o, "\"");
	text = canon_doc(cJSON_CreateString(in));
	assert_string_equal(text, expected);
	assert_non_null(strstr(text, "\\u001f"));
	assert_non_null(strstr(text, "\\u000b"));
	free(text);

	assert_canon("\"\\\"\\\\\\/\\u007f\\u2028\\u00e9\\ud83d\\ude00<>&'\"",
		     "\"\\\"\\\\/\x7f\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80<>&'\"");
}

static void literals_and_empty_containers_print_without_whitespace(void **state)
{
	assert_canon(" [ true , false , null , { } , [ ] , \"\" , { \"a\" : [ [ ] ] } ] ",
		     "[true,false,null,{},[],\"\",{\"a\":[[]]}]");
	assert_canon("null", "null");
	assert_canon("-0.0", "0");
}

static cJSON *nested(int levels)
{
	cJSON *root = cJSON_CreateArray(), *at = root;

	for (int i = 1; i < levels; i++) {
		cJSON *inner = i % 2 ? cJSON_CreateObject() : cJSON_CreateArray();

		if (cJSON_IsArray(at))
			cJSON_AddItemToArray(at, inner);
		else
			cJSON_AddItemToObject(at, "k", inner);
		at = inner;
	}
	return root;
}

/* A value canonicalised where it sits in a document (as_printed_at)
 * counts the containers above it against the strict parser's limits, as
 * the whole document would. */
static void a_value_inside_a_document_counts_the_depth_above_it(void **state)
{
	cJSON *doc = nested(8);
	char *text = NULL, *whole = NULL;
	size_t len = 0, whole_len = 0;

	(void)state;
	assert_int_equal(cde_jcs_serialize_as_printed(doc, &whole, &whole_len), 0);
	assert_int_equal(cde_jcs_serialize_as_printed_at(doc, CDE_JSON_MAX_DEPTH / 2 - 8, &text, &len), 0);
	assert_int_equal(len, whole_len);
	assert_string_equal(text, whole);
	free(text);
	text = NULL;
	assert_int_equal(cde_jcs_serialize_as_printed_at(doc, CDE_JSON_MAX_DEPTH / 2 - 7, &text, &len), -EINVAL);
	assert_null(text);
	free(whole);
	cJSON_Delete(doc);
}

static void nesting_up_to_128_levels_is_kept_deeper_is_refused(void **state)
{
	char pointer[1024] = "";
	char *text = canon_doc(nested(CDE_JCS_MAX_DEPTH));

	/* 128 pairs of brackets, 63 of them objects with a "k": member. */
	assert_int_equal(strlen(text), 2 * CDE_JCS_MAX_DEPTH + 4 * (CDE_JCS_MAX_DEPTH / 2 - 1));
	free(text);
	/* The error names the container past the limit, /0/k/0/k/..., as
	 * far as an error's pointer holds. */
	for (int i = 1; i < CDE_JCS_MAX_DEPTH + 1; i++)
		strcat(pointer, i % 2 ? "/0" : "/k");
	pointer[CDE_ERROR_POINTER_MAX - 1] = '\0';
	assert_refused(nested(CDE_JCS_MAX_DEPTH + 1), pointer, "nesting deeper than 128");
}

static void what_jcs_cannot_express_is_refused_with_its_pointer(void **state)
{
	cJSON *doc;

	doc = cJSON_Parse("{\"a\": [1, {\"b\": 2}]}");
	cJSON_AddItemToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "a"), 1), "n", cJSON_CreateNumber(NAN));
	assert_refused(doc, "/a/1/n", "not finite");

	doc = cJSON_Parse("{\"a\": 1}");
	cJSON_AddItemToObject(doc, "s", cJSON_CreateString("bad \xff byte"));
	assert_refused(doc, "/s", "not valid UTF-8");

	doc = cJSON_Parse("[\"x\"]");
	cJSON_AddItemToArray(doc, cJSON_CreateString("\xed\xa0\x80 a surrogate"));
	assert_refused(doc, "/1", "not valid UTF-8");

	doc = cJSON_Parse("{\"ok\": {}}");
	cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "ok"), "\xc0\xaf", cJSON_CreateTrue());
	assert_refused(doc, "/ok", "member name");

	/* cJSON keeps both copies; which one a reader takes is not defined. */
	doc = cJSON_Parse("{\"x\": {\"id\": \"a\"}}");
	cJSON_AddItemToObject(cJSON_GetObjectItem(doc, "x"), "id", cJSON_CreateString("b"));
	assert_refused(doc, "/x/id", "duplicate property");

	doc = cJSON_CreateArray();
	cJSON_AddItemToArray(doc, cJSON_CreateRaw("{\"unchecked\":1}"));
	assert_refused(doc, "/0", "raw");

	char *text = NULL;
	size_t len = 0;

	assert_int_equal(cde_jcs_serialize(NULL, &text, &len), -EINVAL);
}

/* Why hashing JCS of a stored event loses nothing: the strict parser
 * already refuses every number whose double is not what was sent. */
static void the_strict_parser_refuses_the_numbers_jcs_would_change(void **state)
{
	static const char *const changed[] = {
		"12345678901234567890", "[9007199254740993]", "{\"a\": 333333333.33333329}",
		"0.1000000000000000000001", "1e400", "1e-400",
	};
	struct cde_errors errs;
	cJSON *doc = NULL;
	char *text;

	for (size_t i = 0; i < N(changed); i++) {
		cde_errors_reset(&errs);
		if (cde_json_parse(changed[i], strlen(changed[i]), &doc, &errs) != -EINVAL)
			fail_msg("%s: accepted by cde_json_parse", changed[i]);
	}
	/* What it accepts comes out with the digits that were sent. */
	text = canon_doc(json("[9007199254740992, 333333333.3333333, 1.50, 1E3, -0, 1e-7, 5e-324]"));
	assert_string_equal(text, "[9007199254740992,333333333.3333333,1.5,1000,0,1e-7,5e-324]");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_rfc_sample_object_canonicalizes_as_the_rfc_prints_it),
		cmocka_unit_test(every_appendix_b_number_prints_as_the_rfc_table),
		cmocka_unit_test(numbers_take_the_ecmascript_shapes),
		cmocka_unit_test(member_names_sort_as_utf16_code_units_as_in_section_3_2_3),
		cmocka_unit_test(astral_names_sort_before_u_e000_to_u_ffff),
		cmocka_unit_test(the_reference_test_data_canonicalizes_as_its_output_files),
		cmocka_unit_test(strings_escape_only_what_jcs_escapes),
		cmocka_unit_test(literals_and_empty_containers_print_without_whitespace),
		cmocka_unit_test(nesting_up_to_128_levels_is_kept_deeper_is_refused),
		cmocka_unit_test(a_value_inside_a_document_counts_the_depth_above_it),
		cmocka_unit_test(what_jcs_cannot_express_is_refused_with_its_pointer),
		cmocka_unit_test(the_strict_parser_refuses_the_numbers_jcs_would_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
