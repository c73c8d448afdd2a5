/* The audit log against a signed checkpoint kept elsewhere. The tree is
 * recomputed from the rows (audit_tree_verify.c), so nothing stored in
 * the file is trusted but the hashes of leaves whose rows retention or a
 * recorded loss removed. A log whose rows and stored hashes were rewritten
 * together agrees with itself and only the checkpoint shows it: then the
 * checkpoints the log stored, each signed, bound where it was rewritten. */

#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/audit_tree_walk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_proof.h"
#include "sinks/audit/sql.h"
#include "sinks/audit/tlog/note_text.h"

/* The signed checkpoints stored in the log (up to its size) that @vs
 * verify, and the kept one, in ascending size. */
struct heads {
	uint64_t *sizes;
	uint8_t (*signed_roots)[CDE_TLOG_HASH_LEN];
	uint8_t (*roots)[CDE_TLOG_HASH_LEN];	/* recomputed */
	size_t n, cap;
	size_t kept;	/* the kept checkpoint's position */
};

static void heads_release(struct heads *h)
{
	free(h->sizes);
	free(h->signed_roots);
	free(h->roots);
}

static int heads_add(struct heads *h, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN])
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		uint64_t *s = realloc(h->sizes, cap * sizeof(*s));
		uint8_t (*sr)[CDE_TLOG_HASH_LEN] = s ? realloc(h->signed_roots, cap * sizeof(*sr)) : NULL;

		if (s)
			h->sizes = s;
		if (sr)
			h->signed_roots = sr;
		if (!s || !sr)
			return -ENOMEM;
		h->cap = cap;
	}
	h->sizes[h->n] = size;
	memcpy(h->signed_roots[h->n++], root, CDE_TLOG_HASH_LEN);
	return 0;
}

/* Reads the stored checkpoints and puts the kept one (@size, @root) in
 * its place. */
static int heads_load(sqlite3 *db, struct cde_note_verifier *const *vs, size_t n, uint64_t size,
		      const uint8_t root[CDE_TLOG_HASH_LEN], struct heads *h, struct cde_audit_tree_check *out)
{
	uint8_t r32[CDE_TLOG_HASH_LEN];
	sqlite3_stmt *st;
	bool placed = false;
	char why[256];
	int r = 0, rc;

	/* (A file from before the tree has none.) */
	if (!cde_sql_has_table(db, "tree_checkpoints"))
		st = NULL;
	else if (sqlite3_prepare_v2(db, "SELECT size, note FROM tree_checkpoints WHERE size <= ? ORDER BY size", -1,
				    &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cde_audit_tree_size(db));
	while (st && r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t s = (uint64_t)sqlite3_column_int64(st, 0), cs;
		const char *note = (const char *)sqlite3_column_text(st, 1);

		if (!placed && s >= size) {
			h->kept = h->n;
			placed = true;
			r = heads_add(h, size, root);
		}
		/* A note the keys do not verify says nothing: skip it. */
		if (r == 0 && note && cde_audit_checkpoint_open(note, vs, n, &cs, r32, NULL, 0, why, sizeof(why)) == 0 &&
		    cs == s) {
			out->signed_stored++;
			r = heads_add(h, s, r32);
		}
	}
	sqlite3_finalize(st);
	if (r == 0 && !placed) {
		h->kept = h->n;
		r = heads_add(h, size, root);
	}
	if (r == 0 && !(h->roots = calloc(h->n, sizeof(*h->roots))))
		r = -ENOMEM;
	return r;
}

/* The tree at the kept size is not the one signed, though rows and
 * hashes agree: bound the rewrite with the stored signed heads. */
static int forked(struct heads *h, uint64_t size, struct cde_audit_tree_check *out)
{
	uint64_t good = 0, end = size;

	for (size_t i = 0; i < h->n; i++)
		if (i != h->kept && h->sizes[i] <= size &&
		    memcmp(h->roots[i], h->signed_roots[i], CDE_TLOG_HASH_LEN) == 0 && h->sizes[i] > good)
			good = h->sizes[i];
	for (size_t i = 0; i < h->n; i++)
		if (i != h->kept && h->sizes[i] > good && h->sizes[i] < end &&
		    memcmp(h->roots[i], h->signed_roots[i], CDE_TLOG_HASH_LEN) != 0)
			end = h->sizes[i];
	out->bad_end = end;
	return cde_audit_tree_fault(out, CDE_AUDIT_TREE_FORKED, good,
				    "entries in [%llu, %llu) differ from what the checkpoint signed (rows and stored "
				    "hashes were rewritten together; %s)",
				    (unsigned long long)good, (unsigned long long)end,
				    good || end < size ? "bounded by the signed checkpoints stored in the log"
						       : "no signed checkpoint stored in the log narrows it");
}

/* The stored tree extends the kept one: a consistency proof from the
 * stored hashes, verified against both heads. */
static int extends(sqlite3 *db, struct cde_audit_tree_walk *w, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_reader reader;
	size_t count = 0;
	int r = cde_audit_tree_reader_init(&reader, db);

	if (r == 0)
		r = cde_tlog_prove_consistency(&reader.tlog, size, w->out->tree_size, proof, &count);
	cde_audit_tree_reader_release(&reader);
	if (r == 0)
		r = cde_tlog_verify_consistency(size, w->out->tree_size, (const uint8_t (*)[CDE_TLOG_HASH_LEN])proof,
						count, root, w->out->root);
	if (r == -ENOENT || r == -EBADMSG)
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_HASHES, size,
					    "the stored tree does not prove that it extends the checkpoint (%s)",
					    r == -ENOENT ? "a stored hash is missing" : "the consistency proof fails");
	return r;
}

static int check_in_tx(sqlite3 *db, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN],
		       struct cde_note_verifier *const *vs, size_t n, struct cde_audit_tree_check *out)
{
	struct heads h = { 0 };
	struct cde_audit_tree_sqlite src;
	struct cde_audit_tree_walk w = { .src = &src.src, .out = out };
	int r = heads_load(db, vs, n, size, root, &h, out);

	if (r < 0)
		goto out;
	w.sizes = h.sizes;
	w.n_sizes = h.n;
	w.roots = h.roots;
	cde_audit_tree_sqlite_init(&src, db);
	r = cde_audit_tree_walk_run(&w);
	cde_audit_tree_sqlite_release(&src);
	if (r < 0)
		goto out;
	if (out->tree_size < size) {
		r = cde_audit_tree_fault(out, CDE_AUDIT_TREE_TRUNCATED, out->tree_size,
					 "the log has %llu entries, the checkpoint %llu",
					 (unsigned long long)out->tree_size, (unsigned long long)size);
		goto out;
	}
	for (size_t i = 0; i < h.n; i++)
		if (i != h.kept && memcmp(h.roots[i], h.signed_roots[i], CDE_TLOG_HASH_LEN) == 0)
			out->signed_matching++;
	if (memcmp(h.roots[h.kept], root, CDE_TLOG_HASH_LEN) != 0)
		r = forked(&h, size, out);
	else
		r = extends(db, &w, size, root);
out:
	heads_release(&h);
	return r;
}

int cde_audit_tree_check_against(sqlite3 *db, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN],
				 struct cde_note_verifier *const *vs, size_t n, struct cde_audit_tree_check *out)
{
	int opened = cde_audit_tree_read_begin(db), r;

	memset(out, 0, sizeof(*out));
	if (opened < 0)
		return opened;
	r = check_in_tx(db, size, root, vs, n, out);
	cde_audit_tree_read_end(db, opened);
	return r;
}

static int json_count(const cJSON *item, uint64_t *out)
{
	if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 9007199254740991.0 ||
	    item->valuedouble != (double)(uint64_t)item->valuedouble)
		return -EINVAL;
	*out = (uint64_t)item->valuedouble;
	return 0;
}

static int json_hashes(const cJSON *list, uint8_t (*out)[CDE_TLOG_HASH_LEN], size_t *count)
{
	const cJSON *item;
	uint8_t buf[48];

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > CDE_TLOG_MAX_PROOF)
		return -EINVAL;
	*count = 0;
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item) || strlen(item->valuestring) != 44 ||
		    cde_b64_decode(buf, item->valuestring, 44) != CDE_TLOG_HASH_LEN)
			return -EINVAL;
		memcpy(out[(*count)++], buf, CDE_TLOG_HASH_LEN);
	}
	return 0;
}

int cde_audit_consistency_verify(const cJSON *proof, uint64_t old_size, const uint8_t old_root[CDE_TLOG_HASH_LEN],
				 uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN], char *why, size_t why_size)
{
	uint8_t hashes[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	uint64_t from, to;
	size_t count;
	int r;

	if (json_count(cJSON_GetObjectItemCaseSensitive(proof, "from"), &from) < 0 ||
	    json_count(cJSON_GetObjectItemCaseSensitive(proof, "to"), &to) < 0 ||
	    json_hashes(cJSON_GetObjectItemCaseSensitive(proof, "consistencyProof"), hashes, &count) < 0) {
		snprintf(why, why_size, "not a consistency proof: want {from, to, consistencyProof: [base64 hash...]}");
		return -EINVAL;
	}
	if (from != old_size || to != size) {
		snprintf(why, why_size, "the proof is from %llu to %llu, not from %llu to %llu", (unsigned long long)from,
			 (unsigned long long)to, (unsigned long long)old_size, (unsigned long long)size);
		return -EBADMSG;
	}
	r = cde_tlog_verify_consistency(old_size, size, (const uint8_t (*)[CDE_TLOG_HASH_LEN])hashes, count, old_root,
					root);
	if (r == -EBADMSG || r == -EINVAL) {
		snprintf(why, why_size, "the tree of %llu entries does not extend the checkpoint of %llu: "
			 "the consistency proof fails", (unsigned long long)size, (unsigned long long)old_size);
		return -EBADMSG;
	}
	return r;
}
