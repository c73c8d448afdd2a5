/* Writing evidence bundles (audit_bundle.h) from a bundle source
 * (audit_bundle_source.h): the same lines whichever database holds the
 * log. The event is the last member of its record's line, spliced in as
 * stored, so the verifier hashes the very bytes the writer hashed. The
 * Merkle part (treeCheckpoint, inclusion, unproven; audit_bundle_proof.c
 * checks it) is read in the same snapshot as the records. */

#include "sinks/audit/audit_bundle_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "events/ids.h"
#include "sinks/audit/audit_proof.h"

static void put_field(cJSON *o, const char *key, const char *value, bool *ok)
{
	if (!(value ? cJSON_AddStringToObject(o, key, value) : cJSON_AddNullToObject(o, key)))
		*ok = false;
}

/* Prints @o as one line, or with @raw_event spliced in as its last
 * member "event"; takes @o. */
static int put_object(FILE *out, cJSON *o, const char *raw_event)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	if (raw_event)
		fprintf(out, "%.*s,\"event\":%s}\n", (int)(strlen(text) - 1), text, raw_event);
	else
		fprintf(out, "%s\n", text);
	free(text);
	return 0;
}

/* Prints {"@key": @value} as one line and takes @value. */
static int put_line(FILE *out, const char *key, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !value || !cJSON_AddItemToObject(o, key, value)) {
		cJSON_Delete(o);
		cJSON_Delete(value);
		return -ENOMEM;
	}
	return put_object(out, o, NULL);
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

/* The bundle's first line: what it covers, and the log's head. */
static int put_header(const struct cde_audit_verify *head, const char *since, const char *until, uint64_t first,
		      uint64_t last, FILE *out)
{
	char now[CDE_TIMESTAMP_STR_LEN];
	cJSON *h = cJSON_CreateObject();
	bool ok = h && cJSON_AddNumberToObject(h, "cdeventsdAuditBundle", 1);

	cde_timestamp_now(now);
	put_field(h, "exportedAt", now, &ok);
	put_field(h, "since", since, &ok);
	put_field(h, "until", until, &ok);
	ok = ok && cJSON_AddNumberToObject(h, "firstSeq", (double)first) &&
	     cJSON_AddNumberToObject(h, "lastSeq", (double)last) &&
	     cJSON_AddNumberToObject(h, "headSeq", (double)head->head_seq);
	put_field(h, "headHash", head->head_hash, &ok);
	if (!ok) {
		cJSON_Delete(h);
		return -ENOMEM;
	}
	return put_object(out, h, NULL);
}

/* Where the writing is, record after record. */
struct writer {
	const struct cde_audit_bundle_source *src;
	FILE *out;
	uint64_t after;		/* losses ending from here on are due */
	uint64_t *seqs;		/* the records written, for their proofs */
	size_t n, cap;
	char *err;		/* why it failed */
	size_t err_size;
};

static int put_gap(void *arg, const struct cde_audit_bundle_gap *gap)
{
	static const char *const names[] = { "at", "reason", "prev", "hash", "mac" };
	struct writer *w = arg;
	cJSON *o = cJSON_CreateObject(), *g = o ? cJSON_AddObjectToObject(o, "gap") : NULL;
	bool ok = g && cJSON_AddNumberToObject(g, "first", (double)gap->first) &&
		  cJSON_AddNumberToObject(g, "last", (double)gap->last);

	for (int i = 0; i < 5; i++)
		put_field(g, names[i], gap->cols[i], &ok);
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return put_object(w->out, o, NULL);
}

static int put_record(void *arg, const struct cde_audit_bundle_row *row)
{
	static const char *const names[CDE_AUDIT_BUNDLE_COLS] = {
		"id", "source", "type", "subject", "chainId", "artifactId", "timestamp",
		"receivedAt", "specVersion", "principal", "peer", "prevHash", "hash" };
	struct writer *w = arg;
	cJSON *o;
	bool ok;
	int r;

	/* An accepted loss sits in the chain where its rows were. */
	r = w->src->gaps(w->src->ctx, w->after, row->seq, put_gap, w);
	if (r < 0)
		return r;
	w->after = row->seq;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint64_t *m = realloc(w->seqs, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		w->seqs = m;
		w->cap = cap;
	}
	w->seqs[w->n++] = row->seq;
	o = cJSON_CreateObject();
	ok = o && cJSON_AddNumberToObject(o, "seq", (double)row->seq);
	for (int i = 0; i < CDE_AUDIT_BUNDLE_COLS; i++)
		put_field(o, names[i], row->cols[i], &ok);
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return put_object(w->out, o, row->event);
}

static int put_checkpoint(void *arg, uint64_t seq, const char *hash, const char *mac)
{
	struct writer *w = arg;

	fprintf(w->out, "{\"checkpoint\":{\"seq\":%llu,\"hash\":\"%s\",\"mac\":\"%s\"}}\n", (unsigned long long)seq,
		hash, mac);
	return 0;
}

static int put_unproven(FILE *out, uint64_t seq, const char *reason)
{
	return put_pair(out, "unproven", "seq", seq, "reason", reason);
}

/* One record's proof line, against the checkpoint of @size (0: none). */
static int put_proof(struct writer *w, uint64_t seq, uint64_t size)
{
	FILE *out = w->out;
	char reason[128];
	cJSON *receipt = NULL;
	int r;

	if (size == 0)
		return put_unproven(out, seq, "the log has no signed checkpoint (no audit.signing_key_file)");
	r = cde_audit_proof_inclusion_from(w->src->proofs, seq, size, &receipt, w->err, w->err_size);
	if (r == -ERANGE) {
		snprintf(reason, sizeof(reason), "newer than the latest signed checkpoint (%llu entries)",
			 (unsigned long long)size);
		return put_unproven(out, seq, reason);
	}
	/* An altered row (-EBADMSG) fails the export: a bundle never
	 * passes tampering off as an event not yet signed. */
	return r < 0 ? r : put_line(out, "inclusion", receipt);
}

static int put_proofs(struct writer *w)
{
	uint64_t size = 0;
	char *note = NULL;
	int r = cde_audit_proof_checkpoint_from(w->src->proofs, &size, &note, w->err, w->err_size);

	if (r == 0)
		r = put_pair(w->out, "treeCheckpoint", "size", size, "checkpoint", note);
	else if (r == -ENOENT)
		r = 0;
	free(note);
	for (size_t i = 0; i < w->n && r == 0; i++)
		r = put_proof(w, w->seqs[i], size);
	return r;
}

/* Inside the snapshot: the header, then records (with losses), keyed
 * checkpoints and proofs. The number of records or -errno. */
static long long write_bundle(struct writer *w, const struct cde_audit_verify *head, const char *since,
			      const char *until)
{
	const struct cde_audit_bundle_source *src = w->src;
	uint64_t first, last;
	int r = src->bounds(src->ctx, since, until, &first, &last);

	if (r == 0)
		r = put_header(head, since, until, first, last, w->out);
	if (r < 0 || first == 0)
		return r;
	w->after = first;
	r = src->records(src->ctx, first, last, put_record, w);
	if (r == 0)
		r = src->checkpoints(src->ctx, first, last, put_checkpoint, w);
	if (r == 0)
		r = put_proofs(w);
	return r < 0 ? r : (long long)w->n;
}

long long cde_audit_export_from(const struct cde_audit_bundle_source *src, const char *since, const char *until,
				FILE *out, char *err, size_t err_size)
{
	struct writer w = { .src = src, .out = out, .err = err, .err_size = err_size };
	struct cde_audit_verify head;
	long long n;

	snprintf(err, err_size, "reading the log failed");
	if (src->head(src->ctx, &head, err, err_size) < 0 || src->begin(src->ctx, err, err_size) < 0)
		return -EIO;
	snprintf(err, err_size, "reading the log failed");
	n = write_bundle(&w, &head, since, until);
	src->end(src->ctx);
	free(w.seqs);
	if (n == -ENOMEM)
		snprintf(err, err_size, "out of memory");
	return n;
}
