/* Inclusion and consistency proofs of the audit log as JSON (the shapes
 * are in audit_proof.h), and the check of a receipt with the public key
 * alone. Each proof is read inside one read transaction, so the row, the
 * stored hashes and the checkpoint it names belong to one state of the
 * log even while the writer appends. */

#include "sinks/audit/audit_proof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/sql.h"
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
static uint64_t default_size(sqlite3 *db)
{
	int64_t v = 0;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT max(size) FROM tree_checkpoints", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v > 0 ? (uint64_t)v : cde_audit_tree_size(db);
}

/* Adds "checkpoint": the stored note of exactly @size leaves, if any. */
static int add_checkpoint(sqlite3 *db, uint64_t size, cJSON *out)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(db, "SELECT note FROM tree_checkpoints WHERE size = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    !cJSON_AddStringToObject(out, "checkpoint", (const char *)sqlite3_column_text(st, 0)))
		r = -ENOMEM;
	sqlite3_finalize(st);
	return r;
}

struct row {
	char *id, *source, *entry;
	size_t entry_len;
	uint64_t leaf;
	bool has_leaf;
};

static void row_release(struct row *row)
{
	free(row->id);
	free(row->source);
	free(row->entry);
}

static char *dup_column(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return strdup(s ? s : "");
}

/* The row @seq: its id, source, leaf number and entry. */
static int read_row(sqlite3 *db, uint64_t seq, struct row *row, char *err, size_t err_size)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	memset(row, 0, sizeof(*row));
	if (sqlite3_prepare_v2(db, "SELECT id, source, leaf, received_at, principal, peer, event FROM events"
			       " WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct cde_audit_row a = {
			.seq = seq,
			.received_at = (const char *)sqlite3_column_text(st, 3),
			.principal = (const char *)sqlite3_column_text(st, 4),
			.peer = (const char *)sqlite3_column_text(st, 5),
			.event = (const char *)sqlite3_column_text(st, 6),
		};

		row->has_leaf = sqlite3_column_type(st, 2) != SQLITE_NULL;
		row->leaf = (uint64_t)sqlite3_column_int64(st, 2);
		row->id = dup_column(st, 0);
		row->source = dup_column(st, 1);
		r = row->id && row->source ? cde_audit_tree_entry(&a, &row->entry, &row->entry_len) : -ENOMEM;
		if (r == -EINVAL) {
			snprintf(err, err_size, "seq %llu: the stored event is not the JSON it was stored as: the row "
				 "was altered", (unsigned long long)seq);
			r = -EBADMSG;
		}
	} else if (cde_sql_int(db, "SELECT max(seq) FROM retention", NULL, 0) >= (int64_t)seq) {
		/* Its leaf hash stays in the tree, but a proof starts from the
		 * entry, which went with the row. */
		snprintf(err, err_size, "seq %llu was deleted by retention: its leaf stays in the tree and in the "
			 "checkpoints, and a receipt taken before still verifies, but no new proof can be made",
			 (unsigned long long)seq);
	} else {
		snprintf(err, err_size, "seq %llu is not in the log", (unsigned long long)seq);
	}
	sqlite3_finalize(st);
	return r;
}

/* The proof and its JSON, once the row is known to be leaf @row->leaf
 * of the first @size leaves. */
static int inclusion_json(sqlite3 *db, uint64_t seq, const struct row *row, uint64_t size,
			  const uint8_t leaf[CDE_TLOG_HASH_LEN], cJSON **ret, char *err, size_t err_size)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_reader reader;
	cJSON *out = NULL;
	size_t count = 0;
	int r = cde_audit_tree_reader_init(&reader, db);

	if (r == 0)
		r = cde_tlog_prove_inclusion(&reader.tlog, row->leaf, size, proof, &count);
	cde_audit_tree_reader_release(&reader);
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
	    add_checkpoint(db, size, out) < 0) {
		cJSON_Delete(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

static int inclusion_in_tx(sqlite3 *db, uint64_t seq, uint64_t size, cJSON **ret, char *err, size_t err_size)
{
	uint8_t leaf[CDE_TLOG_HASH_LEN], stored[CDE_TLOG_HASH_LEN];
	uint64_t tree = cde_audit_tree_size(db);
	struct cde_audit_tree_reader reader;
	struct row row;
	int r;

	if (size == 0)
		size = default_size(db);
	if (size > tree) {
		snprintf(err, err_size, "size %llu is beyond the tree (%llu entries)", (unsigned long long)size,
			 (unsigned long long)tree);
		return -ERANGE;
	}
	r = read_row(db, seq, &row, err, err_size);
	if (r == 0 && (!row.has_leaf || row.leaf >= size)) {
		snprintf(err, err_size, "seq %llu is not among the first %llu entries of the tree: ask for a larger size, "
			 "or wait for the next checkpoint", (unsigned long long)seq, (unsigned long long)size);
		r = -ERANGE;
	}
	if (r == 0)
		r = cde_tlog_leaf_hash(row.entry, row.entry_len, leaf);
	/* A row that no longer hashes to its leaf was altered: no proof
	 * for it, and say so rather than serve one that cannot verify. */
	if (r == 0 && (r = cde_audit_tree_reader_init(&reader, db)) == 0) {
		r = reader.tlog.read(reader.tlog.ctx, 0, row.leaf, stored);
		cde_audit_tree_reader_release(&reader);
		if (r == 0 && memcmp(leaf, stored, sizeof(leaf)) != 0) {
			snprintf(err, err_size, "seq %llu does not hash to its leaf %llu: the row was altered",
				 (unsigned long long)seq, (unsigned long long)row.leaf);
			r = -EBADMSG;
		} else if (r < 0) {
			snprintf(err, err_size, "leaf %llu is not stored", (unsigned long long)row.leaf);
			r = -EIO;
		}
	}
	if (r == 0)
		r = inclusion_json(db, seq, &row, size, leaf, ret, err, err_size);
	row_release(&row);
	return r;
}

static int read_failed(sqlite3 *db, char *err, size_t err_size)
{
	snprintf(err, err_size, "reading the log: %s", sqlite3_errmsg(db));
	return -EIO;
}

/* A read transaction around one proof, unless the caller has one open:
 * returns whether it opened one (-EIO when it could not). */
static int read_begin(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return 0;
	return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 1 : -EIO;
}

static void read_end(sqlite3 *db, int opened)
{
	if (opened > 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

int cde_audit_proof_inclusion(sqlite3 *db, uint64_t seq, uint64_t size, cJSON **ret, char *err, size_t err_size)
{
	int opened = read_begin(db), r;

	if (opened < 0)
		return read_failed(db, err, err_size);
	r = inclusion_in_tx(db, seq, size, ret, err, err_size);
	read_end(db, opened);
	return r;
}

int cde_audit_proof_seq_of(sqlite3 *db, const char *source, const char *id, uint64_t *ret_seq)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	*ret_seq = 0;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE source = ? AND id = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret_seq = (uint64_t)sqlite3_column_int64(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int consistency_in_tx(sqlite3 *db, uint64_t from, uint64_t to, cJSON **ret, char *err, size_t err_size)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	uint64_t tree = cde_audit_tree_size(db);
	struct cde_audit_tree_reader reader;
	size_t count = 0;
	cJSON *out;
	int r;

	if (to == 0)
		to = default_size(db);
	if (from > to || to > tree) {
		snprintf(err, err_size, "from %llu to %llu: want from <= to <= %llu (the tree's size)",
			 (unsigned long long)from, (unsigned long long)to, (unsigned long long)tree);
		return -ERANGE;
	}
	r = cde_audit_tree_reader_init(&reader, db);
	if (r == 0)
		r = cde_tlog_prove_consistency(&reader.tlog, from, to, proof, &count);
	cde_audit_tree_reader_release(&reader);
	if (r < 0) {
		snprintf(err, err_size, "the tree lacks a hash the proof needs (%s)", strerror(-r));
		return r == -ENOENT ? -EIO : r;
	}
	out = cJSON_CreateObject();
	if (!out || !cJSON_AddNumberToObject(out, "from", (double)from) ||
	    !cJSON_AddNumberToObject(out, "to", (double)to) ||
	    !add_owned(out, "consistencyProof", hash_list(proof, count)) || add_checkpoint(db, to, out) < 0) {
		cJSON_Delete(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

int cde_audit_proof_consistency(sqlite3 *db, uint64_t from, uint64_t to, cJSON **ret, char *err, size_t err_size)
{
	int opened = read_begin(db), r;

	if (opened < 0)
		return read_failed(db, err, err_size);
	r = consistency_in_tx(db, from, to, ret, err, err_size);
	read_end(db, opened);
	return r;
}
