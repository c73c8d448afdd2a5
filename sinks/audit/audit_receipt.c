/* Checking a receipt with the log's public key alone: nothing here reads
 * the log. A receipt that passes shows that the log, as the key's owner
 * signed it at the checkpoint's size, holds this entry at this index;
 * a log later cut or rewritten before that index cannot show a
 * consistent tree to anyone who keeps the receipt. */

#include "sinks/audit/audit_proof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/errors.h"
#include "schemas/base/json_strict.h"
#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note_text.h"

int cde_audit_checkpoint_open(const char *note, struct cde_note_verifier *const *vs, size_t n, uint64_t *ret_size,
			      uint8_t root[32], char *origin, size_t origin_size, char *err, size_t err_size)
{
	struct cde_checkpoint cp;
	struct cde_errors errs;
	char *text = NULL;
	size_t len = 0;
	int r = cde_note_open(note, strlen(note), vs, n, &text, &len, NULL, err, err_size);

	if (r < 0)
		return r;
	cde_errors_reset(&errs);
	r = cde_checkpoint_parse(text, len, &cp, &errs);
	free(text);
	if (r < 0) {
		snprintf(err, err_size, "the checkpoint %s: %s", errs.count ? errs.items[0].pointer : "",
			 errs.count ? errs.items[0].reason : "malformed");
		return r == -ENOMEM ? r : -EINVAL;
	}
	*ret_size = cp.size;
	memcpy(root, cp.root, 32);
	if (origin)
		snprintf(origin, origin_size, "%s", cp.origin);
	cde_checkpoint_release(&cp);
	return 0;
}

static int read_hash(const cJSON *item, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t buf[48];

	if (!cJSON_IsString(item) || strlen(item->valuestring) != 44 ||
	    cde_b64_decode(buf, item->valuestring, 44) != CDE_TLOG_HASH_LEN)
		return -EINVAL;
	memcpy(out, buf, CDE_TLOG_HASH_LEN);
	return 0;
}

static int read_count(const cJSON *item, uint64_t *out)
{
	if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 9007199254740991.0 ||
	    item->valuedouble != (double)(uint64_t)item->valuedouble)
		return -EINVAL;
	*out = (uint64_t)item->valuedouble;
	return 0;
}

static int bad(struct cde_audit_receipt_check *out, int r, const char *why)
{
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	return r;
}

static bool same_string(const cJSON *a, const cJSON *b)
{
	return cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring) == 0;
}

/* The receipt's seq, id and source are those inside its entry. */
static int entry_names_event(const cJSON *receipt, const char *text, struct cde_audit_receipt_check *out)
{
	const cJSON *event, *context;
	cJSON *entry = NULL, *legacy = NULL;
	struct cde_errors errs;
	uint64_t seq, entry_seq;
	int r;

	/* JCS writes integers up to 10^21 in full, which the strict parser
	 * refuses past 2^53 (I-JSON): then as cJSON reads it, harmless here,
	 * the bytes being bound by the leaf hash already. The strict parser
	 * first, for it tells running out of memory from bad input. */
	cde_errors_reset(&errs);
	r = cde_json_parse(text, strlen(text), &entry, &errs);
	if (r == -ENOMEM)
		return bad(out, r, "out of memory");
	if (r < 0 && !(entry = cJSON_ParseWithLength(text, strlen(text))))
		return bad(out, -EBADMSG, "entry is not JSON");
	r = 0;
	event = cJSON_GetObjectItemCaseSensitive(entry, "event");
	if (!event && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(entry, "eventText")))
		event = legacy = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(entry, "eventText")->valuestring);
	context = cJSON_GetObjectItemCaseSensitive(event, "context");
	if (read_count(cJSON_GetObjectItemCaseSensitive(receipt, "seq"), &seq) < 0 ||
	    read_count(cJSON_GetObjectItemCaseSensitive(entry, "seq"), &entry_seq) < 0 || seq != entry_seq)
		r = bad(out, -EBADMSG, "seq is not the entry's");
	else if (!same_string(cJSON_GetObjectItemCaseSensitive(receipt, "id"),
			      cJSON_GetObjectItemCaseSensitive(context, "id")) ||
		 !same_string(cJSON_GetObjectItemCaseSensitive(receipt, "source"),
			      cJSON_GetObjectItemCaseSensitive(context, "source")))
		r = bad(out, -EBADMSG, "id and source are not the entry's event's");
	cJSON_Delete(legacy);
	cJSON_Delete(entry);
	return r;
}

/* The receipt's own fields: index, size, leaf hash, the proof. */
static int read_receipt(const cJSON *receipt, struct cde_audit_receipt_check *out, uint8_t leaf[CDE_TLOG_HASH_LEN],
			uint8_t (*proof)[CDE_TLOG_HASH_LEN], size_t *count)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(receipt, "inclusionProof"), *h;
	const cJSON *entry = cJSON_GetObjectItemCaseSensitive(receipt, "entry");
	uint8_t computed[CDE_TLOG_HASH_LEN];

	if (read_count(cJSON_GetObjectItemCaseSensitive(receipt, "leafIndex"), &out->leaf_index) < 0 ||
	    read_count(cJSON_GetObjectItemCaseSensitive(receipt, "treeSize"), &out->tree_size) < 0)
		return bad(out, -EINVAL, "leafIndex and treeSize must be whole numbers");
	if (read_hash(cJSON_GetObjectItemCaseSensitive(receipt, "leafHash"), leaf) < 0)
		return bad(out, -EINVAL, "leafHash must be a base64 SHA-256 hash");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > CDE_TLOG_MAX_PROOF)
		return bad(out, -EINVAL, "inclusionProof must be a list of at most 64 hashes");
	*count = 0;
	cJSON_ArrayForEach(h, list)
		if (read_hash(h, proof[(*count)++]) < 0)
			return bad(out, -EINVAL, "inclusionProof: each hash must be base64 SHA-256");
	/* The entry must be what the leaf hashes, and name the event the
	 * receipt names: else a receipt for one event could be shown for
	 * another. */
	if (!cJSON_IsString(entry))
		return bad(out, -EINVAL, "entry (the JCS text the leaf hashes) is missing");
	if (cde_tlog_leaf_hash(entry->valuestring, strlen(entry->valuestring), computed) < 0)
		return bad(out, -ENOMEM, "out of memory");
	if (memcmp(computed, leaf, CDE_TLOG_HASH_LEN) != 0)
		return bad(out, -EBADMSG, "entry does not hash to leafHash");
	return entry_names_event(receipt, entry->valuestring, out);
}

int cde_audit_receipt_verify(const cJSON *receipt, struct cde_note_verifier *const *vs, size_t n,
			     struct cde_audit_receipt_check *out)
{
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(receipt, "checkpoint");
	uint8_t leaf[CDE_TLOG_HASH_LEN], root[CDE_TLOG_HASH_LEN];
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	char why[200];
	uint64_t size = 0;
	size_t count = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(receipt))
		return bad(out, -EINVAL, "a receipt is a JSON object");
	if (!cJSON_IsString(note))
		return bad(out, -EINVAL, "no checkpoint: ask for the receipt with ?receipt=1, or once a checkpoint "
					 "covers the entry");
	r = read_receipt(receipt, out, leaf, proof, &count);
	if (r < 0)
		return r;
	r = cde_audit_checkpoint_open(note->valuestring, vs, n, &size, root, out->origin, sizeof(out->origin), why,
				      sizeof(why));
	if (r < 0) {
		snprintf(out->reason, sizeof(out->reason), "checkpoint: %s", why);
		return r == -ENOMEM ? r : r == -EINVAL ? -EINVAL : -EBADMSG;
	}
	if (size != out->tree_size)
		return bad(out, -EBADMSG, "treeSize is not the checkpoint's size");
	r = cde_tlog_verify_inclusion(leaf, out->leaf_index, size, (const uint8_t (*)[CDE_TLOG_HASH_LEN])proof, count,
				      root);
	if (r == -EBADMSG || r == -EINVAL)
		return bad(out, -EBADMSG, "the inclusion proof does not lead from leafHash to the checkpoint's root");
	return r;
}
