/* The string formats: what counts as a date-time, a uri and a
 * uri-reference. The cases are the RFCs' and the reference validator's
 * (ajv-formats, "full" mode); tests/js/agreement.mjs checks many more
 * against ajv itself. */

#include "tests/unit/helpers.h"

#include "schemas/formats.h"

struct format_case {
	const char *value;
	int valid;
};

static void check_cases(const struct format_case *cases, size_t n, bool (*pred)(const char *),
			const char *what)
{
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		if (pred(cases[i].value) != (bool)cases[i].valid) {
			print_message("%s \"%s\": expected %s\n", what, cases[i].value,
				      cases[i].valid ? "valid" : "invalid");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

#define CHECK(cases, pred) check_cases(cases, sizeof(cases) / sizeof(cases[0]), pred, #pred)

static void date_time_is_rfc3339_with_offset(void **state)
{
	static const struct format_case cases[] = {
		{ "2023-03-20T14:27:05.315384Z", 1 },
		{ "2023-03-20T14:27:05Z", 1 },
		{ "2023-03-20t14:27:05z", 1 },		/* case-insensitive T and Z */
		{ "2023-03-20 14:27:05Z", 1 },		/* oracle: space separator */
		{ "2023-03-20T14:27:05+02:00", 1 },
		{ "2023-03-20T14:27:05-0230", 1 },	/* oracle: no colon */
		{ "2023-03-20T14:27:05+02", 1 },	/* oracle: hours only */
		{ "2024-02-29T00:00:00Z", 1 },		/* leap year */
		{ "2016-12-31T23:59:60Z", 1 },		/* leap second at 23:59 UTC */
		{ "2016-12-31T22:59:60-01:00", 1 },	/* the same instant elsewhere */
		{ "2023-03-20T14:27:05", 0 },		/* the offset is required */
		{ "2023-02-29T00:00:00Z", 0 },
		{ "2023-13-01T00:00:00Z", 0 },
		{ "2023-00-10T00:00:00Z", 0 },
		{ "2023-01-32T00:00:00Z", 0 },
		{ "2023-01-01T24:00:00Z", 0 },
		{ "2023-01-01T12:60:00Z", 0 },
		{ "2023-01-01T12:00:60Z", 0 },		/* leap second at the wrong time */
		{ "2023-01-01T12:00:00.Z", 0 },
		{ "2023-01-01T12:00:00+24:00", 0 },
		{ "2023-01-01T12:00:00+05:3", 0 },
		{ "2023-01-01TT12:00:00Z", 0 },
		{ "2023-1-01T12:00:00Z", 0 },
		{ "20230101T120000Z", 0 },
		{ "not a date", 0 },
		{ "", 0 },
	};

	CHECK(cases, cde_format_is_date_time);
}

static void uri_needs_a_scheme(void **state)
{
	static const struct format_case cases[] = {
		{ "https://example.com/x?y=1#z", 1 },
		{ "https://user:pw@example.com:8080/a/b", 1 },
		{ "https://[2001:db8::1]:443/", 1 },
		{ "https://[v7.fe80::a]/", 1 },
		{ "https://192.168.0.1/", 1 },
		{ "mailto:ops@example.com", 1 },
		{ "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", 1 },
		{ "pkg:oci/myapp@sha256%3A0b31b1c0", 1 },
		{ "file:///tmp/x", 1 },
		{ "/relative/path", 0 },		/* no scheme */
		{ "example.com", 0 },
		{ "https://exa mple.com/", 0 },		/* space */
		{ "https://example.com/%zz", 0 },	/* bad escape */
		{ "https://[2001:db8::1/", 0 },		/* unclosed literal */
		{ "https://[1:2:3:4:5:6:7:8:9]/", 0 },
		{ "https://example.com:80a/", 1 },	/* oracle: "/" + empty authority + path */
		{ "https://example.com/\"q\"", 0 },	/* '"' not in a uri */
		{ "1http://example.com", 0 },
		{ "https:", 0 },			/* oracle: empty hier-part */
		{ "https://example.com/é", 0 },		/* not ASCII */
		{ "", 0 },
	};

	CHECK(cases, cde_format_is_uri);
}

static void uri_reference_allows_relative_forms(void **state)
{
	static const struct format_case cases[] = {
		{ "/event/source/123", 1 },
		{ "event/source", 1 },
		{ "a:b", 1 },
		{ "//host/path", 1 },
		{ "?q=1", 1 },
		{ "#frag", 1 },
		{ "https://ci.example/job/42", 1 },
		{ "tekton-pipelines/el", 1 },
		{ "/a/\"quoted\"", 1 },		/* oracle: '"' allowed in a reference */
		{ "", 1 },			/* the empty reference (minLength catches it) */
		{ "/with space", 0 },
		{ "/bad%2", 0 },
		{ "/x#a#b", 0 },
		{ "/tab\there", 0 },
		{ "\\\\server\\share", 0 },
		{ "/é", 0 },
	};

	CHECK(cases, cde_format_is_uri_reference);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(date_time_is_rfc3339_with_offset),
		cmocka_unit_test(uri_needs_a_scheme),
		cmocka_unit_test(uri_reference_allows_relative_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
