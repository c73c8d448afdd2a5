/* Fuzz target: the validator (cdevctl validate, every ingest path).
 *
 * Input: a JSON document, parsed strictly in place (no terminator, so a
 * read past the end is caught), then checked against the catalog of the
 * version it names; the errors are rendered as the API renders them. */

#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "schemas/validate.h"

static struct cde_catalog *cat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cat = fuzz_load_catalog();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cde_errors errs;
	const struct cde_spec *spec = NULL;
	cJSON *doc = NULL, *rendered;
	char line[512];
	int r;

	cde_errors_reset(&errs);
	r = cde_json_parse((const char *)data, size, &doc, &errs);
	if (r != 0) {
		FUZZ_CHECK(doc == NULL && (r == -ENOMEM || (r == -EINVAL && errs.count == 1)),
			   "a parse error (%d) leaves a document or not one error", r);
		return 0;
	}
	r = cde_validate(cat, doc, &spec, &errs);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "cde_validate returned %d", r);
	FUZZ_CHECK((r == 0) == (errs.count == 0 && errs.dropped == 0),
		   "result %d with %zu errors", r, errs.count);
	rendered = cde_errors_to_json(&errs);
	FUZZ_CHECK(rendered != NULL, "errors to JSON");
	cJSON_Delete(rendered);
	cde_errors_format(&errs, line, sizeof(line));
	cJSON_Delete(doc);
	return 0;
}
