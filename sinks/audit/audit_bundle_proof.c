/* The Merkle part of evidence bundles, after the chain's lines:
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
#include "sinks/audit/audit_signed.h"
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

/* Prints {"@key": @value} as one line and takes @value. */
static int put_line(FILE *out, const char *key, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (!o || !value || !cJSON_AddItemToObject(o, key, value)) {
		cJSON_Delete(o);
		cJSON_Delete(value);
		return -ENOMEM;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}

/* Prints {"@key": {"@nk": @num, "@sk": @str}}. */
static int put_pair(FILE *out, const char *key, const char *nk, uint64_t num, const char *sk, const char *str)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddNumberToObject(o, nk, (double)num) || !cJSON_AddStringToObject(o, sk, str))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return put_line(out, key, o);
}

static int put_unproven(FILE *out, uint64_t seq, const char *reason)
{
	return put_pair(out, "unproven", "seq", seq, "reason", reason);
}

/* One record's proof line, against the checkpoint of @size (0: none). */
static int export_one(sqlite3 *db, uint64_t seq, uint64_t size, FILE *out)
{
	char err[256], reason[128];
	cJSON *receipt = NULL;
	int r;

	if (size == 0)
		return put_unproven(out, seq, "the log has no signed checkpoint (no audit.signing_key_file)");
	r = cde_audit_proof_inclusion(db, seq, size, &receipt, err, sizeof(err));
	if (r == -ERANGE) {
		snprintf(reason, sizeof(reason), "newer than the latest signed checkpoint (%llu entries)",
			 (unsigned long long)size);
		return put_unproven(out, seq, reason);
	}
	/* An altered row (-EBADMSG) fails the export: a bundle never
	 * passes tampering off as an event not yet signed. */
	return r < 0 ? r : put_line(out, "inclusion", receipt);
}

int cde_audit_export_proofs(sqlite3 *db, uint64_t first, uint64_t last, FILE *out)
{
	uint64_t size = 0, *seqs = NULL;
	size_t n = 0, cap = 0;
	char *note = NULL;
	sqlite3_stmt *st;
	int r, rc;

	/* One read transaction: the checkpoint, rows and hashes of one state. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	r = cde_audit_checkpoint_latest(db, &size, &note);
	if (r == 0)
		r = put_pair(out, "treeCheckpoint", "size", size, "checkpoint", note);
	else if (r == -ENOENT)
		r = 0;
	free(note);
	if (r < 0 || sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq", -1, &st,
					NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			uint64_t *m = realloc(seqs, (cap = cap ? cap * 2 : 256) * sizeof(*seqs));

			if (!m)
				break;
			seqs = m;
		}
		seqs[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	r = rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? -ENOMEM : -EIO;
	for (size_t i = 0; i < n && r == 0; i++)
		r = export_one(db, seqs[i], size, out);
out:
	free(seqs);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r < 0 ? r : 0;
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
