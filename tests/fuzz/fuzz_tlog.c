/* Fuzz target: what an auditor or a witness is handed and checks with the
 * public key alone, so it may have been crafted: a signed note, a
 * checkpoint, a receipt. The first byte picks which; the rest is the
 * input. Whatever it is, the answer must be a verdict, never a crash or a
 * leak: and a receipt may only hold when its entry hashes to its leaf. A
 * fourth mode checks that JCS is a fixed point: the canonical form of a
 * document, read back, prints the same bytes. A fifth, that a leaf the
 * writer makes from an event in memory is the leaf of the event's printed
 * text (or is refused): cJSON's lenient reading of the input gives
 * documents the strict parser never would (a name twice, 1e999, 2^60).
 * A sixth, the same for a leaf hashed ahead as a template (an event the
 * writer correlates): made from the event, filled after correlation, it
 * is the leaf of the correlated event's printed text (or is refused). */

#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include <openssl/evp.h>

#include "events/correlate.h"

#include "schemas/base/jcs.h"
#include "schemas/base/json_strict.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/note.h"

/* Go's published test key (golang.org/x/mod/sumdb/note). */
#define VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static struct cde_note_verifier *verifier;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[128];

	if (cde_note_verifier_parse(VKEY, &verifier, err, sizeof(err)) < 0)
		abort();
	return 0;
}

static void open_note(const char *text, size_t len)
{
	char *out = NULL, err[256];
	size_t out_len = 0;
	int r = cde_note_open(text, len, &verifier, 1, &out, &out_len, NULL, err, sizeof(err));

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EBADMSG || r == -ENOKEY || r == -EFBIG || r == -ENOMEM,
		   "note: unexpected %d", r);
	FUZZ_CHECK(r != 0 || (out && out_len <= len), "note: opened without its text");
	free(out);
}

static void parse_checkpoint(const char *text, size_t len)
{
	struct cde_checkpoint cp;
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	r = cde_checkpoint_parse(text, len, &cp, &errs);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "checkpoint: unexpected %d", r);
	if (r == 0)
		cde_checkpoint_release(&cp);
	else if (r == -EINVAL)
		FUZZ_CHECK(errs.count > 0, "checkpoint refused without a reason");
}

static void check_receipt(const char *text, size_t len)
{
	struct cde_audit_receipt_check check;
	struct cde_errors errs;
	cJSON *doc = NULL;
	int r;

	cde_errors_reset(&errs);
	if (cde_json_parse(text, len, &doc, &errs) < 0)
		return;
	r = cde_audit_receipt_verify(doc, &verifier, 1, &check);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EBADMSG || r == -ENOMEM, "receipt: unexpected %d", r);
	FUZZ_CHECK(r == 0 || check.reason[0], "receipt refused without a reason");
	cJSON_Delete(doc);
}

static void jcs_fixed_point(const char *text, size_t len)
{
	char *once = NULL, *twice = NULL;
	size_t once_len = 0, twice_len = 0;
	struct cde_errors errs;
	cJSON *doc = NULL, *back = NULL;

	cde_errors_reset(&errs);
	if (cde_json_parse(text, len, &doc, &errs) == 0 && cde_jcs_serialize(doc, &once, &once_len) == 0) {
		/* cJSON's reading: JCS writes integers up to 10^21 in full,
		 * past the strict parser's 2^53 (I-JSON) rule. */
		back = cJSON_ParseWithLength(once, once_len);
		FUZZ_CHECK(back, "JCS output does not parse: %s", once);
		FUZZ_CHECK(cde_jcs_serialize(back, &twice, &twice_len) == 0, "JCS of JCS failed");
		FUZZ_CHECK(once_len == twice_len && memcmp(once, twice, once_len) == 0, "JCS is not a fixed point");
	}
	free(once);
	free(twice);
	cJSON_Delete(back);
	cJSON_Delete(doc);
}

static void leaf_from_memory(const char *text, size_t len)
{
	struct cde_audit_row row = { .seq = 7, .received_at = "2026-12-07T12:00:00Z", .principal = "p", .peer = "q" };
	uint8_t from_doc[CDE_TLOG_HASH_LEN], from_text[CDE_TLOG_HASH_LEN];
	cJSON *doc = cJSON_ParseWithLength(text, len);
	char *printed = doc ? cde_json_print(doc) : NULL;
	int r;

	if (printed) {
		r = cde_audit_tree_leaf_of_doc(&row, doc, from_doc);
		FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "leaf of a document: unexpected %d", r);
		row.event = printed;
		if (r == 0) {
			r = cde_audit_tree_leaf(&row, from_text);
			FUZZ_CHECK(r == 0 || r == -ENOMEM, "made in memory, but not from the printed text: %s", printed);
			FUZZ_CHECK(r != 0 || memcmp(from_doc, from_text, sizeof(from_doc)) == 0,
				   "the leaf made in memory differs from the printed text's: %s", printed);
		}
	}
	free(printed);
	cJSON_Delete(doc);
}

/* The template's leaf, filled after correlation, against the text's. */
static void check_filled(struct cde_audit_leaf_ahead *a, struct cde_event *ev, struct cde_audit_row *row)
{
	uint8_t from_template[CDE_TLOG_HASH_LEN], from_text[CDE_TLOG_HASH_LEN];
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	char *printed = cde_event_to_json(ev);
	int r;

	if (scratch && printed) {
		r = cde_audit_leaf_ahead_finish_doc(a, cde_event_json(ev), row->seq, scratch, from_template);
		FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "filling a template: unexpected %d", r);
		row->event = printed;
		if (r == 0) {
			r = cde_audit_tree_leaf(row, from_text);
			FUZZ_CHECK(r == 0 || r == -ENOMEM, "a template filled, but the text has no leaf: %s", printed);
			FUZZ_CHECK(r != 0 || memcmp(from_template, from_text, sizeof(from_text)) == 0,
				   "the filled template's leaf differs from the printed text's: %s", printed);
		}
	}
	free(printed);
	EVP_MD_CTX_free(scratch);
}

static void leaf_from_template(const char *text, size_t len)
{
	/* The input's length picks what correlation decides. */
	static const struct cde_correlation decisions[] = {
		{ .new_chain = true },
		{ .chain_id = "r\"\\\x01\xc3\xa9" },
		{ .chain_id = "release-7", .path_from = "b-41" },
		{ .chain_id = "release-7", .path_from = "\xf0\x9f\x98\x80\"" },
	};
	struct cde_audit_row row = { .seq = 9, .received_at = "2026-12-07T12:00:00Z", .principal = "p", .peer = "q" };
	struct cde_audit_leaf_ahead *a = NULL;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	struct cde_event *ev = NULL;
	int r;

	if (!doc || cde_event_from_json(doc, &ev) < 0)
		return;
	r = cde_audit_leaf_ahead_new_template(&row, cde_event_json(ev), &a);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "a template: unexpected %d", r);
	if (r == 0 && cde_correlation_apply(ev, &decisions[len % 4]) == 0)
		check_filled(a, ev, &row);
	cde_audit_leaf_ahead_free(a);
	cde_event_unref(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* NUL-terminated, as the callers read files and bodies. */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		open_note(text, size - 1);
		break;
	case 1:
		parse_checkpoint(text, size - 1);
		break;
	case 2:
		check_receipt(text, size - 1);
		break;
	case 3:
		jcs_fixed_point(text, size - 1);
		break;
	case 4:
		leaf_from_memory(text, size - 1);
		break;
	default:
		leaf_from_template(text, size - 1);
	}
	free(text);
	return 0;
}
