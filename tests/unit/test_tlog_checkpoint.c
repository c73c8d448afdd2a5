/* Checkpoint texts (c2sp.org/tlog-checkpoint): the spec's example comes
 * out byte for byte, format and parse round-trip, and every spelling the
 * spec does not allow is refused naming the line. */

#include "tests/unit/helpers.h"

#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/note_text.h"

#define SPEC_ROOT "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
#define SPEC_TEXT "example.com/behind-the-sofa\n20852163\n" SPEC_ROOT "\n"

static void the_spec_example_formats_and_parses(void **state)
{
	struct cde_checkpoint c = { 0 };
	struct cde_errors errs;
	uint8_t root[33];
	char *text;

	cde_errors_reset(&errs);
	assert_int_equal(cde_b64_decode(root, SPEC_ROOT, strlen(SPEC_ROOT)), 32);
	assert_int_equal(cde_checkpoint_format("example.com/behind-the-sofa", 20852163, root, &text), 0);
	assert_string_equal(text, SPEC_TEXT);
	assert_int_equal(cde_checkpoint_parse(text, strlen(text), &c, &errs), 0);
	assert_string_equal(c.origin, "example.com/behind-the-sofa");
	assert_int_equal(c.size, 20852163);
	assert_memory_equal(c.root, root, 32);
	assert_null(c.extensions);
	cde_checkpoint_release(&c);
	free(text);
}

static void sizes_and_extensions_round_trip(void **state)
{
	static const uint64_t sizes[] = { 0, 1, 10, UINT64_MAX };
	const char *ext = "o/x\n20\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nwitness: 1\n— not a signature\n";
	struct cde_checkpoint c = { 0 };
	struct cde_errors errs;
	uint8_t root[32];
	char *text;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(root); j++)
			root[j] = (uint8_t)(i * 31 + j);
		cde_errors_reset(&errs);
		assert_int_equal(cde_checkpoint_format("log", sizes[i], root, &text), 0);
		assert_int_equal(cde_checkpoint_parse(text, strlen(text), &c, &errs), 0);
		assert_true(c.size == sizes[i]);
		assert_memory_equal(c.root, root, 32);
		cde_checkpoint_release(&c);
		free(text);
	}
	assert_int_equal(cde_checkpoint_parse(ext, strlen(ext), &c, &errs), 0);
	assert_string_equal(c.extensions, "witness: 1\n— not a signature\n");
	cde_checkpoint_release(&c);
}

static void format_refuses_an_origin_that_is_not_one_line(void **state)
{
	static const char *origins[] = { "", "a\nb", "a\x01", "\xff" };
	uint8_t root[32] = { 0 };
	char *text = NULL;

	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++)
		assert_int_equal(cde_checkpoint_format(origins[i], 1, root, &text), -EINVAL);
	assert_null(text);
}

static void malformed_checkpoints_are_refused_naming_the_line(void **state)
{
#define R "\n" SPEC_ROOT "\n"
	static const struct {
		const char *name, *text, *pointer, *reason;
	} cases[] = {
		{ "an empty origin", "\n5" R, "/origin", "must not be empty" },
		{ "a leading zero", "o\n05" R, "/size", "leading zeros" },
		{ "a zero size spelled 00", "o\n00" R, "/size", "leading zeros" },
		{ "a plus sign", "o\n+5" R, "/size", "sign" },
		{ "a minus sign", "o\n-1" R, "/size", "sign" },
		{ "an empty size", "o\n" R, "/size", "decimal" },
		{ "a space after the size", "o\n5 " R, "/size", "decimal" },
		{ "a size past 64 bits", "o\n18446744073709551616" R, "/size", "64 bits" },
		{ "a hex size", "o\n0x10" R, "/size", "decimal" },
		{ "a 31-byte root", "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", "/root_hash", "32 bytes" },
		{ "a 33-byte root", "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n", "/root_hash", "32 bytes" },
		{ "a non-canonical root", "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "/root_hash", "canonical" },
		{ "a root without padding", "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "/root_hash", "canonical" },
		{ "a URL-safe root", "o\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", "/root_hash", "canonical" },
		{ "no root line", "o\n5\n", "/root_hash", "missing" },
		{ "no final newline", "o\n5\n" SPEC_ROOT, "/root_hash", "newline" },
		{ "an empty extension line", "o\n5" R "\n", "/extensions/0", "not be empty" },
		{ "an extension without its newline", "o\n5" R "x", "/extensions/0", "newline" },
		{ "a control character", "o\x01\n5" R, "", "control characters" },
	};
#undef R
	struct cde_checkpoint c = { 0 };
	struct cde_errors errs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cde_errors_reset(&errs);
		assert_int_equal(cde_checkpoint_parse(cases[i].text, strlen(cases[i].text), &c, &errs), -EINVAL);
		if (errs.count != 1 || strcmp(errs.items[0].pointer, cases[i].pointer) != 0 ||
		    !strstr(errs.items[0].reason, cases[i].reason))
			fail_msg("%s: %zu errors, first %s: %s; want %s: %s", cases[i].name, errs.count,
				 errs.count ? errs.items[0].pointer : "-", errs.count ? errs.items[0].reason : "-",
				 cases[i].pointer, cases[i].reason);
		assert_null(c.origin);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_spec_example_formats_and_parses),
		cmocka_unit_test(sizes_and_extensions_round_trip),
		cmocka_unit_test(format_refuses_an_origin_that_is_not_one_line),
		cmocka_unit_test(malformed_checkpoints_are_refused_naming_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
