/* The Merkle tree of audit.db: a row's canonical entry and leaf, the
 * tree_hashes table read through the tlog layer's reader, and the
 * writer's frontier that stores each new hash in the row's transaction.
 * What is hashed, and why JCS, is in audit_tree.h. */

#include "sinks/audit/audit_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "schemas/base/jcs.h"
#include "schemas/base/json_strict.h"
#include "sinks/audit/sql.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The stored text is read as strictly as it was accepted: a lenient
 * parse would give one entry for texts that differ (trailing bytes, a
 * string cut at \u0000, integers past 2^53), so an edit could keep its
 * leaf. A text the strict parser refuses (rows stored before it existed,
 * such as pod outcomes that had a key twice) is committed to as bytes,
 * under "eventText": an edit that breaks or mends the JSON switches the
 * form, so it changes the leaf all the same. */
static int add_event(cJSON *entry, const char *text)
{
	struct cde_errors errs;
	cJSON *event = NULL;
	int r;

	cde_errors_reset(&errs);
	r = cde_json_parse(text, strlen(text), &event, &errs);
	if (r == -EINVAL)
		return cJSON_AddStringToObject(entry, "eventText", text) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	if (!cJSON_AddItemToObject(entry, "event", event)) {
		cJSON_Delete(event);
		return -ENOMEM;
	}
	return 0;
}

int cde_audit_tree_entry(const struct cde_audit_row *row, char **ret, size_t *ret_len)
{
	cJSON *entry;
	int r;

	if (!row->event)
		return -EINVAL;
	entry = cJSON_CreateObject();
	if (!entry)
		return -ENOMEM;
	r = add_event(entry, row->event);
	if (r == 0 && (!cJSON_AddStringToObject(entry, "peer", or_empty(row->peer)) ||
		       !cJSON_AddStringToObject(entry, "principal", or_empty(row->principal)) ||
		       !cJSON_AddStringToObject(entry, "receivedAt", or_empty(row->received_at)) ||
		       !cJSON_AddNumberToObject(entry, "seq", (double)row->seq)))
		r = -ENOMEM;
	if (r == 0)
		r = cde_jcs_serialize(entry, ret, ret_len);
	cJSON_Delete(entry);
	return r;
}

int cde_audit_tree_leaf(const struct cde_audit_row *row, uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	char *entry = NULL;
	size_t len = 0;
	int r = cde_audit_tree_entry(row, &entry, &len);

	if (r == 0)
		r = cde_tlog_leaf_hash(entry, len, leaf);
	free(entry);
	return r;
}

int cde_audit_tree_leaf_of_doc(const struct cde_audit_row *row, const cJSON *event,
			       uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	cJSON *entry = cJSON_CreateObject();
	char *text = NULL;
	size_t len = 0;
	int r = entry ? 0 : -ENOMEM;

	/* A reference: the entry borrows the event, it is not copied. */
	if (r == 0 && (!cJSON_AddItemReferenceToObject(entry, "event", (cJSON *)event) ||
		       !cJSON_AddStringToObject(entry, "peer", or_empty(row->peer)) ||
		       !cJSON_AddStringToObject(entry, "principal", or_empty(row->principal)) ||
		       !cJSON_AddStringToObject(entry, "receivedAt", or_empty(row->received_at)) ||
		       !cJSON_AddNumberToObject(entry, "seq", (double)row->seq)))
		r = -ENOMEM;
	if (r == 0)
		r = cde_jcs_serialize_as_printed(entry, &text, &len);
	if (r == 0)
		r = cde_tlog_leaf_hash(text, len, leaf);
	free(text);
	cJSON_Delete(entry);
	return r;
}

static int read_hash(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st = ctx;
	int r = -ENOENT;

	if (index > INT64_MAX)
		return -ENOENT;
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_bytes(st, 0) == CDE_TLOG_HASH_LEN) {
			memcpy(out, sqlite3_column_blob(st, 0), CDE_TLOG_HASH_LEN);
			r = 0;
		} else {
			r = -EBADMSG; /* a stored hash of the wrong size: damage */
		}
		break;
	case SQLITE_DONE:
		break;
	default:
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

int cde_audit_tree_reader_init(struct cde_audit_tree_reader *r, sqlite3 *db)
{
	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v3(db, "SELECT hash FROM tree_hashes WHERE level = ? AND idx = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &r->get, NULL) != SQLITE_OK)
		return -EIO;
	r->tlog.read = read_hash;
	r->tlog.ctx = r->get;
	return 0;
}

void cde_audit_tree_reader_release(struct cde_audit_tree_reader *r)
{
	sqlite3_finalize(r->get);
	r->get = NULL;
}

uint64_t cde_audit_tree_size(sqlite3 *db)
{
	int64_t v = cde_sql_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'tree_size'", NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

int cde_audit_tree_writer_init(struct cde_audit_tree_writer *w, sqlite3 *db, char *err, size_t err_size)
{
	struct cde_audit_tree_reader reader;
	uint64_t size = cde_audit_tree_size(db);
	int r;

	memset(w, 0, sizeof(*w));
	if (sqlite3_prepare_v3(db, "INSERT INTO tree_hashes(level, idx, hash) VALUES (?, ?, ?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &w->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "UPDATE meta SET value = ? WHERE key = 'tree_size'", -1,
			       SQLITE_PREPARE_PERSISTENT, &w->set_size, NULL) != SQLITE_OK ||
	    cde_audit_tree_reader_init(&reader, db) < 0) {
		snprintf(err, err_size, "preparing the Merkle tree's statements: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	r = cde_tlog_frontier_load(&w->committed, size, &reader.tlog);
	cde_audit_tree_reader_release(&reader);
	if (r < 0) {
		snprintf(err, err_size, "the Merkle tree of %llu entries lacks a stored hash (%s): "
			 "the tree_hashes table is damaged", (unsigned long long)size, strerror(-r));
		return r == -ENOENT ? -EBADMSG : r;
	}
	w->work = w->committed;
	return 0;
}

void cde_audit_tree_writer_release(struct cde_audit_tree_writer *w)
{
	sqlite3_finalize(w->put);
	sqlite3_finalize(w->set_size);
	w->put = w->set_size = NULL;
}

static int store_hash(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st = ctx;
	int rc;

	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	sqlite3_bind_blob(st, 3, hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_tree_writer_append(struct cde_audit_tree_writer *w, const uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	return cde_tlog_frontier_append(&w->work, leaf, store_hash, w->put);
}

int cde_audit_tree_writer_flush(struct cde_audit_tree_writer *w)
{
	char size[24];
	int rc;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)w->work.size);
	sqlite3_bind_text(w->set_size, 1, size, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(w->set_size);
	sqlite3_reset(w->set_size);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

void cde_audit_tree_writer_committed(struct cde_audit_tree_writer *w)
{
	w->committed = w->work;
}

void cde_audit_tree_writer_rolled_back(struct cde_audit_tree_writer *w)
{
	w->work = w->committed;
}

/* One row of a log from before the tree: its leaf, appended and named. */
static int adopt_row(struct cde_audit_tree_writer *w, sqlite3_stmt *rows, sqlite3_stmt *name)
{
	struct cde_audit_row row = {
		.seq = (uint64_t)sqlite3_column_int64(rows, 0),
		.received_at = (const char *)sqlite3_column_text(rows, 1),
		.principal = (const char *)sqlite3_column_text(rows, 2),
		.peer = (const char *)sqlite3_column_text(rows, 3),
		.event = (const char *)sqlite3_column_text(rows, 4),
	};
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	uint64_t index = w->work.size;
	int r = cde_audit_tree_leaf(&row, leaf);

	if (r == 0)
		r = cde_audit_tree_writer_append(w, leaf);
	if (r < 0)
		return r;
	sqlite3_bind_int64(name, 1, (sqlite3_int64)index);
	sqlite3_bind_int64(name, 2, (sqlite3_int64)row.seq);
	r = sqlite3_step(name) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_reset(name);
	return r;
}

int cde_audit_tree_adopt_rows(sqlite3 *db)
{
	struct cde_audit_tree_writer w;
	sqlite3_stmt *rows = NULL, *name = NULL;
	char err[256];
	int r = cde_audit_tree_writer_init(&w, db, err, sizeof(err));

	if (r == 0 && (sqlite3_prepare_v2(db, "SELECT seq, received_at, principal, peer, event FROM events"
					  " WHERE leaf IS NULL ORDER BY seq", -1, &rows, NULL) != SQLITE_OK ||
		       sqlite3_prepare_v2(db, "UPDATE events SET leaf = ? WHERE seq = ?", -1, &name, NULL) != SQLITE_OK))
		r = -EIO;
	while (r == 0) {
		int rc = sqlite3_step(rows);

		if (rc == SQLITE_DONE)
			break;
		r = rc == SQLITE_ROW ? adopt_row(&w, rows, name) : -EIO;
	}
	if (r == 0)
		r = cde_audit_tree_writer_flush(&w);
	sqlite3_finalize(rows);
	sqlite3_finalize(name);
	cde_audit_tree_writer_release(&w);
	return r;
}
