/* Checking the Merkle part of evidence bundles (audit_bundle_export.c
 * writes it), after the chain's lines:
 *
 *   {"treeCheckpoint": {"size": N, "checkpoint": NOTE}}  the latest signed one
 *   {"inclusion": RECEIPT}        per event in it (audit_proof.h's shape)
 *   {"unproven": {"seq", "id", "reason"}}  per event newer than it, or all
 *                                 of them when the log has no signed checkpoint
 *
 * A receiver with the public key alone checks each receipt and that its
 * entry is the bundle's own record (event, seq, row), so the chain's
 * lines cannot be rewritten without the key; events the checkpoint does
 * not cover yet are said so, not left out. */

#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_bundle_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/tlog/merkle.h"

static const char *const proof_keys[] = { "treeCheckpoint", "inclusion", "unproven" };

bool cde_audit_bundle_is_proof(const cJSON *line)
{
	for (size_t i = 0; i < sizeof(proof_keys) / sizeof(proof_keys[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(line, proof_keys[i]))
			return true;
	return false;
}

/* The check: each record's leaf hash, then each proof line against it. */

struct record {
	uint64_t seq;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	bool proven, unproven;
};

struct proofs {
	struct cde_note_verifier *const *vs;
	size_t n_vs;
	struct cde_audit_verify *out;
	struct cde_audit_bundle_proofs *res;
	char *note;		/* the treeCheckpoint line's */
	struct record *recs;
	size_t n, cap;
};

static int broken(struct proofs *p, uint64_t seq, const char *why)
{
	p->out->bad_seq = seq;
	snprintf(p->out->reason, sizeof(p->out->reason), "%s", why);
	return -EBADMSG;
}

static int on_record(void *ctx, const struct cde_audit_row *row)
{
	struct proofs *p = ctx;
	struct record *rec;
	int r;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct record *m = realloc(p->recs, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		p->recs = m;
		p->cap = cap;
	}
	rec = &p->recs[p->n];
	memset(rec, 0, sizeof(*rec));
	rec->seq = row->seq;
	r = cde_audit_tree_leaf(row, rec->leaf);
	if (r == -EINVAL)
		return broken(p, row->seq, "the record's event is not JSON");
	if (r < 0)
		return r;
	p->n++;
	return 0;
}

/* The record of @seq (they come in order), NULL if the bundle has none. */
static struct record *find(struct proofs *p, uint64_t seq)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->recs[mid].seq == seq)
			return &p->recs[mid];
		if (p->recs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint64_t seq_of(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "seq");

	return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 9007199254740992.0 ? (uint64_t)v->valuedouble
											       : 0;
}

static int check_inclusion(struct proofs *p, const cJSON *receipt)
{
	const cJSON *entry = cJSON_GetObjectItemCaseSensitive(receipt, "entry"),
		    *note = cJSON_GetObjectItemCaseSensitive(receipt, "checkpoint");
	uint64_t seq = seq_of(receipt);
	struct record *rec = find(p, seq);
	struct cde_audit_receipt_check check;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	char why[sizeof(p->out->reason)];
	int r;

	if (!rec)
		return broken(p, seq, "an inclusion proof names a seq the bundle has no record of");
	if (!p->note || !cJSON_IsString(note) || strcmp(note->valuestring, p->note) != 0)
		return broken(p, seq, "the receipt is not against the bundle's signed checkpoint");
	r = cde_audit_receipt_verify(receipt, p->vs, p->n_vs, &check);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(why, sizeof(why), "the receipt does not verify: %.160s", check.reason);
		return broken(p, seq, why);
	}
	/* The receipt's entry hashed (verified above to be its leafHash)
	 * against the record's own: the event, seq and row in the bundle
	 * are the ones the signed tree holds. */
	if (cde_tlog_leaf_hash(entry->valuestring, strlen(entry->valuestring), leaf) < 0 ||
	    memcmp(leaf, rec->leaf, sizeof(leaf)) != 0)
		return broken(p, seq, "the record's event is not the one the signed log holds at this seq");
	if (rec->proven || rec->unproven)
		return broken(p, seq, "two proof lines for one record");
	rec->proven = true;
	p->res->proven++;
	snprintf(p->res->origin, sizeof(p->res->origin), "%s", check.origin);
	return 0;
}

static int on_proof(void *ctx, const cJSON *line)
{
	struct proofs *p = ctx;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(line, "treeCheckpoint"),
		    *inc = cJSON_GetObjectItemCaseSensitive(line, "inclusion"),
		    *un = cJSON_GetObjectItemCaseSensitive(line, "unproven");
	struct record *rec;

	if (c) {
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(c, "checkpoint"),
			    *size = cJSON_GetObjectItemCaseSensitive(c, "size");

		if (p->note || !cJSON_IsString(note) || !cJSON_IsNumber(size))
			return broken(p, 0, "the bundle's signed checkpoint line is unreadable or repeated");
		p->note = strdup(note->valuestring);
		p->res->tree_size = (uint64_t)size->valuedouble;
		return p->note ? 0 : -ENOMEM;
	}
	if (inc)
		return check_inclusion(p, inc);
	rec = find(p, seq_of(un));
	if (!rec)
		return broken(p, seq_of(un), "an unproven line names a seq the bundle has no record of");
	if (rec->proven || rec->unproven)
		return broken(p, rec->seq, "two proof lines for one record");
	rec->unproven = true;
	p->res->unproven++;
	return 0;
}

int cde_audit_bundle_verify_signed(FILE *in, struct cde_note_verifier *const *vs, size_t n,
				   struct cde_audit_verify *out, struct cde_audit_bundle_proofs *proofs)
{
	struct proofs p = { .vs = vs, .n_vs = n, .out = out, .res = proofs };
	struct cde_audit_bundle_hooks hooks = { .ctx = &p, .record = on_record, .proof = on_proof };
	int r;

	memset(proofs, 0, sizeof(*proofs));
	r = cde_audit_bundle_walk(in, NULL, 0, 0, &hooks, out);
	/* Leaves follow seqs: only a tail can be newer than the checkpoint. */
	for (size_t i = 0; r == 0 && i < p.n; i++)
		if (!p.recs[i].proven && !p.recs[i].unproven)
			r = broken(&p, p.recs[i].seq, "the record has no inclusion proof, and the bundle does not "
				   "say it is newer than its checkpoint");
		else if (p.recs[i].proven && i > 0 && p.recs[i - 1].unproven)
			r = broken(&p, p.recs[i - 1].seq, "said to be newer than the checkpoint, yet a later record "
				   "is in it");
	free(p.recs);
	free(p.note);
	return r;
}
