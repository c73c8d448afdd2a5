/* Fuzz target: the evidence-bundle verifier, which reads files an
 * auditor is handed, so they may have been crafted (`cdevctl audit
 * verify --bundle`). The input is the bundle; it is checked without a key
 * and with one, and whatever it is, the answer must be a verdict: intact
 * (0), broken at a seq with a reason (-EBADMSG), or not a bundle
 * (-EINVAL). */

#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_store.h"

static const uint8_t key[32] = "fuzzing key, fuzzing key, fuzzi";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void verify(const uint8_t *data, size_t size, const uint8_t *k)
{
	struct cde_audit_verify v;
	FILE *f;
	int r;

	if (size == 0)
		return;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	r = cde_audit_bundle_verify(f, k, k ? sizeof(key) : 0, 2, &v);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL, "unexpected result %d", r);
	if (r == -EBADMSG)
		FUZZ_CHECK(v.reason[0], "broken without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	verify(data, size, NULL);
	verify(data, size, key);
	return 0;
}
