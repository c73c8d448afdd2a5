/* Inclusion and consistency proofs of the audit log as JSON (the shapes
 * are in audit_proof.h), from any store through its proof source
 * (audit_proof_source.h). Each proof is read inside one snapshot, so the
 * row, the stored hashes and the checkpoint it names belong to one state
 * of the log even while the writer appends. */

#include "sinks/audit/audit_proof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note_text.h"

#define B64_HASH_LEN 45 /* 44 characters and the terminator */

static cJSON *hash_string(const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	char b64[B64_HASH_LEN];

	cde_b64_encode(b64, hash, CDE_TLOG_HASH_LEN);
	return cJSON_CreateString(b64);
}

static cJSON *hash_list(const uint8_t (*proof)[CDE_TLOG_HASH_LEN], size_t count)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && i < count; i++) {
		cJSON *h = hash_string(proof[i]);

		if (!h || !cJSON_AddItemToArray(list, h)) {
			cJSON_Delete(h);
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

/* Adds @item under @key, or frees it: cJSON keeps an item it could not
 * add (its key's copy failed) in nobody's hands. */
static bool add_owned(cJSON *obj, const char *key, cJSON *item)
{
	if (item && cJSON_AddItemToObject(obj, key, item))
		return true;
	cJSON_Delete(item);
	return false;
}

/* The size a proof is asked of when none is given: the latest signed
 * checkpoint's, else the whole tree. */
static int default_size(const struct cde_audit_proof_source *src, uint64_t *ret)
{
	int r = src->latest_size(src->ctx, ret);

	if (r == 0 && *ret == 0)
		r = src->tree_size(src->ctx, ret);
	return r;
}

/* Adds "checkpoint": the stored note of exactly @size leaves, if any. */
static int add_checkpoint(const struct cde_audit_proof_source *src, uint64_t size, cJSON *out)
{
	char *note = NULL;
	int r = src->note(src->ctx, size, &note);

	if (r == -ENOENT)
		return 0;
	if (r == 0 && !cJSON_AddStringToObject(out, "checkpoint", note))
		r = -ENOMEM;
	free(note);
	return r;
}

struct row {
	char *id, *source, *entry;
	size_t entry_len;
	uint64_t leaf;
	bool has_leaf;
	/* The row's own leaf hash (row_hash_len 0: none kept there); a
	 * length other than CDE_TLOG_HASH_LEN is a damaged one. */
	uint8_t row_hash[CDE_TLOG_HASH_LEN];
	size_t row_hash_len;
};

static void row_release(struct row *row)
{
	free(row->id);
	free(row->source);
	free(row->entry);
}

/* Why row @seq is not there: gone with retention, or never stored. */
static int row_missing(const struct cde_audit_proof_source *src, uint64_t seq, char *err, size_t err_size)
{
	uint64_t deleted = 0;

	if (src->deleted_to(src->ctx, &deleted) < 0) {
		snprintf(err, err_size, "reading the log's retention markers failed");
		return -EIO;
	}
	if (deleted >= seq)
		/* Its leaf hash stays in the tree, but a proof starts from the
		 * entry, which went with the row. */
		snprintf(err, err_size, "seq %llu was deleted by retention: its leaf stays in the tree and in the "
			 "checkpoints, and a receipt taken before still verifies, but no new proof can be made",
			 (unsigned long long)seq);
	else
		snprintf(err, err_size, "seq %llu is not in the log", (unsigned long long)seq);
	return -ENOENT;
}

/* The row @seq: its id, source, leaf number and entry. */
static int read_row(const struct cde_audit_proof_source *src, uint64_t seq, struct row *row, char *err,
		    size_t err_size)
{
	struct cde_audit_proof_row a = { 0 };
	int r;

	memset(row, 0, sizeof(*row));
	r = src->row(src->ctx, seq, &a);
	if (r == -ENOENT)
		return row_missing(src, seq, err, err_size);
	if (r < 0) {
		snprintf(err, err_size, "reading seq %llu failed", (unsigned long long)seq);
		return r;
	}
	row->has_leaf = a.has_leaf;
	row->leaf = a.leaf;
	if (a.leaf_hash) {
		/* Any length but a hash's is damaged: 1 stands for them all. */
		row->row_hash_len = a.leaf_hash_len == CDE_TLOG_HASH_LEN ? CDE_TLOG_HASH_LEN : 1;
		if (a.leaf_hash_len == CDE_TLOG_HASH_LEN)
			memcpy(row->row_hash, a.leaf_hash, CDE_TLOG_HASH_LEN);
	}
	row->id = strdup(a.row.id ? a.row.id : "");
	row->source = strdup(a.row.source ? a.row.source : "");
	r = row->id && row->source ? cde_audit_tree_entry(&a.row, &row->entry, &row->entry_len) : -ENOMEM;
	if (r == -EINVAL) {
		snprintf(err, err_size, "seq %llu: the stored event is not the JSON it was stored as: the row "
			 "was altered", (unsigned long long)seq);
		r = -EBADMSG;
	}
	return r;
}

/* The tree's hashes, or -EIO or -ENOMEM with why. */
static int tree_of(const struct cde_audit_proof_source *src, const struct cde_tlog_reader **ret, char *err,
		   size_t err_size)
{
	int r = src->tree(src->ctx, ret);

	if (r == -ENOMEM)
		snprintf(err, err_size, "out of memory");
	else if (r < 0)
		snprintf(err, err_size, "the Merkle tree's hashes cannot be read");
	return r == -ENOMEM ? r : r < 0 ? -EIO : 0;
}

/* The proof and its JSON, once the row is known to be leaf @row->leaf
 * of the first @size leaves. */
static int inclusion_json(const struct cde_audit_proof_source *src, uint64_t seq, const struct row *row,
			  uint64_t size, const uint8_t leaf[CDE_TLOG_HASH_LEN], cJSON **ret, char *err,
			  size_t err_size)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	const struct cde_tlog_reader *tree;
	cJSON *out = NULL;
	size_t count = 0;
	int r = tree_of(src, &tree, err, err_size);

	if (r < 0)
		return r;
	r = cde_tlog_prove_inclusion(tree, row->leaf, size, proof, &count);
	if (r < 0) {
		snprintf(err, err_size, "the tree lacks a hash the proof needs (%s)", strerror(-r));
		return r == -ENOENT ? -EIO : r;
	}
	out = cJSON_CreateObject();
	if (!out || !cJSON_AddNumberToObject(out, "seq", (double)seq) || !cJSON_AddStringToObject(out, "id", row->id) ||
	    !cJSON_AddStringToObject(out, "source", row->source) ||
	    !cJSON_AddNumberToObject(out, "leafIndex", (double)row->leaf) ||
	    !add_owned(out, "leafHash", hash_string(leaf)) ||
	    !cJSON_AddStringToObject(out, "entry", row->entry) ||
	    !cJSON_AddNumberToObject(out, "treeSize", (double)size) ||
	    !add_owned(out, "inclusionProof", hash_list(proof, count)) ||
	    (r = add_checkpoint(src, size, out)) < 0) {
		cJSON_Delete(out);
		snprintf(err, err_size, "%s", r == -EIO ? "reading the checkpoint failed" : "out of memory");
		return r == -EIO ? -EIO : -ENOMEM;
	}
	*ret = out;
	return 0;
}

/* A row that no longer hashes to its leaf was altered: no proof for it,
 * and say so rather than serve one that cannot verify. The row's own
 * leaf hash is compared too: a tree reader that caches the tree's edge
 * serves the leaf as it was when read, not as edited since, and the
 * answer is the one a reader without a cache gives (which reads the leaf
 * from the row: an edited one 409, a damaged one not stored). */
static int check_leaf(const struct cde_audit_proof_source *src, uint64_t seq, const struct row *row,
		      const uint8_t leaf[CDE_TLOG_HASH_LEN], char *err, size_t err_size)
{
	uint8_t stored[CDE_TLOG_HASH_LEN];
	const struct cde_tlog_reader *tree;
	int r = tree_of(src, &tree, err, err_size);

	if (r < 0)
		return r;
	r = tree->read(tree->ctx, 0, row->leaf, stored);
	if (r == 0 && row->row_hash_len && row->row_hash_len != CDE_TLOG_HASH_LEN)
		r = -EBADMSG;
	if (r == 0 && (memcmp(leaf, stored, CDE_TLOG_HASH_LEN) != 0 ||
		       (row->row_hash_len && memcmp(row->row_hash, stored, CDE_TLOG_HASH_LEN) != 0))) {
		snprintf(err, err_size, "seq %llu does not hash to its leaf %llu: the row was altered",
			 (unsigned long long)seq, (unsigned long long)row->leaf);
		return -EBADMSG;
	}
	if (r < 0) {
		snprintf(err, err_size, "leaf %llu is not stored", (unsigned long long)row->leaf);
		return -EIO;
	}
	return 0;
}

/* @size (0: the default) checked against the tree's size. */
static int size_asked(const struct cde_audit_proof_source *src, uint64_t *size, uint64_t *ret_tree, char *err,
		      size_t err_size)
{
	int r = src->tree_size(src->ctx, ret_tree);

	if (r == 0 && *size == 0)
		r = default_size(src, size);
	if (r < 0)
		snprintf(err, err_size, "reading the tree's size failed");
	return r;
}

static int inclusion_in_snapshot(const struct cde_audit_proof_source *src, uint64_t seq, uint64_t size,
				 cJSON **ret, char *err, size_t err_size)
{
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	struct row row;
	uint64_t tree;
	int r = size_asked(src, &size, &tree, err, err_size);

	if (r < 0)
		return r;
	if (size > tree) {
		snprintf(err, err_size, "size %llu is beyond the tree (%llu entries)", (unsigned long long)size,
			 (unsigned long long)tree);
		return -ERANGE;
	}
	r = read_row(src, seq, &row, err, err_size);
	if (r == 0 && (!row.has_leaf || row.leaf >= size)) {
		snprintf(err, err_size, "seq %llu is not among the first %llu entries of the tree: ask for a larger size, "
			 "or wait for the next checkpoint", (unsigned long long)seq, (unsigned long long)size);
		r = -ERANGE;
	}
	if (r == 0)
		r = cde_tlog_leaf_hash(row.entry, row.entry_len, leaf);
	if (r == 0)
		r = check_leaf(src, seq, &row, leaf, err, err_size);
	if (r == 0)
		r = inclusion_json(src, seq, &row, size, leaf, ret, err, err_size);
	row_release(&row);
	return r;
}

int cde_audit_proof_inclusion_from(const struct cde_audit_proof_source *src, uint64_t seq, uint64_t size,
				   cJSON **ret, char *err, size_t err_size)
{
	int opened = src->begin(src->ctx, err, err_size), r;

	if (opened < 0)
		return opened;
	r = inclusion_in_snapshot(src, seq, size, ret, err, err_size);
	src->end(src->ctx, opened);
	return r;
}

static int consistency_in_snapshot(const struct cde_audit_proof_source *src, uint64_t from, uint64_t to,
				   cJSON **ret, char *err, size_t err_size)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	const struct cde_tlog_reader *tree;
	size_t count = 0;
	uint64_t size;
	cJSON *out;
	int r = size_asked(src, &to, &size, err, err_size);

	if (r < 0)
		return r;
	if (from > to || to > size) {
		snprintf(err, err_size, "from %llu to %llu: want from <= to <= %llu (the tree's size)",
			 (unsigned long long)from, (unsigned long long)to, (unsigned long long)size);
		return -ERANGE;
	}
	r = tree_of(src, &tree, err, err_size);
	if (r == 0 && (r = cde_tlog_prove_consistency(tree, from, to, proof, &count)) < 0) {
		snprintf(err, err_size, "the tree lacks a hash the proof needs (%s)", strerror(-r));
		return r == -ENOENT ? -EIO : r;
	}
	if (r < 0)
		return r;
	out = cJSON_CreateObject();
	if (!out || !cJSON_AddNumberToObject(out, "from", (double)from) ||
	    !cJSON_AddNumberToObject(out, "to", (double)to) ||
	    !add_owned(out, "consistencyProof", hash_list(proof, count)) || (r = add_checkpoint(src, to, out)) < 0) {
		cJSON_Delete(out);
		snprintf(err, err_size, "%s", r == -EIO ? "reading the checkpoint failed" : "out of memory");
		return r == -EIO ? -EIO : -ENOMEM;
	}
	*ret = out;
	return 0;
}

int cde_audit_proof_consistency_from(const struct cde_audit_proof_source *src, uint64_t from, uint64_t to,
				     cJSON **ret, char *err, size_t err_size)
{
	int opened = src->begin(src->ctx, err, err_size), r;

	if (opened < 0)
		return opened;
	r = consistency_in_snapshot(src, from, to, ret, err, err_size);
	src->end(src->ctx, opened);
	return r;
}

int cde_audit_proof_checkpoint_from(const struct cde_audit_proof_source *src, uint64_t *ret_size, char **ret_note,
				    char *err, size_t err_size)
{
	int opened = src->begin(src->ctx, err, err_size), r;
	uint64_t size = 0;

	if (opened < 0)
		return opened;
	r = src->latest_size(src->ctx, &size);
	if (r == 0 && size == 0)
		r = -ENOENT;
	if (r == 0)
		r = src->note(src->ctx, size, ret_note);
	src->end(src->ctx, opened);
	if (r == 0)
		*ret_size = size;
	else if (r != -ENOENT)
		snprintf(err, err_size, "%s", r == -ENOMEM ? "out of memory" : "reading the latest checkpoint failed");
	else
		snprintf(err, err_size, "no signed checkpoint yet");
	return r;
}
