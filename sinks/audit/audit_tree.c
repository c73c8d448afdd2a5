/* The Merkle tree of audit.db: a row's canonical entry and leaf, the
 * stored hashes read through the tlog layer's reader (tiles, or the rows
 * of a schema 3 file read as it is), and the writer's frontier, whose
 * new hashes go to the tiles in the rows' transaction. What is hashed,
 * and why JCS, is in audit_tree.h; the tiles in audit_tiles.h. */

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

/* A hash as schema 3 stored it, one row each (read-only files). */
static int read_row(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
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
	/* The io fails on a missing table: that is the test for tiles. */
	if (cde_audit_tile_io_sqlite_init(&r->sql, db, false) == 0) {
		cde_audit_tile_reader_init(&r->tiles, &r->sql.io);
		r->tlog = r->tiles.tlog;
		return 0;
	}
	if (sqlite3_prepare_v3(db, "SELECT hash FROM tree_hashes WHERE level = ? AND idx = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &r->rows, NULL) != SQLITE_OK)
		return -EIO;
	r->tlog.read = read_row;
	r->tlog.ctx = r->rows;
	return 0;
}

bool cde_audit_tree_stored(sqlite3 *db)
{
	return cde_sql_has_table(db, "tree_tiles") || cde_sql_has_table(db, "tree_hashes");
}

void cde_audit_tree_reader_release(struct cde_audit_tree_reader *r)
{
	cde_audit_tile_io_sqlite_release(&r->sql);
	sqlite3_finalize(r->rows);
	r->rows = NULL;
}

uint64_t cde_audit_tree_size(sqlite3 *db)
{
	int64_t v = cde_sql_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'tree_size'", NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

int cde_audit_tree_writer_init(struct cde_audit_tree_writer *w, sqlite3 *db, char *err, size_t err_size)
{
	struct cde_audit_tile_reader reader;
	uint64_t size = cde_audit_tree_size(db);
	int r;

	memset(w, 0, sizeof(*w));
	if (sqlite3_prepare_v3(db, "UPDATE meta SET value = ? WHERE key = 'tree_size'", -1,
			       SQLITE_PREPARE_PERSISTENT, &w->set_size, NULL) != SQLITE_OK ||
	    cde_audit_tile_io_sqlite_init(&w->sql, db, true) < 0) {
		snprintf(err, err_size, "preparing the Merkle tree's statements: %s", sqlite3_errmsg(db));
		cde_audit_tree_writer_release(w);
		return -EIO;
	}
	/* The frontier and the edge read through the writer's own io. */
	cde_audit_tile_reader_init(&reader, &w->sql.io);
	r = cde_tlog_frontier_load(&w->committed, size, &reader.tlog);
	if (r == 0)
		r = cde_audit_tile_edge_init(&w->edge, &w->sql.io, size, &reader.tile);
	if (r == -EIO || r == -ENOMEM)
		snprintf(err, err_size, "loading the Merkle tree: %s",
			 r == -ENOMEM ? "out of memory" : sqlite3_errmsg(db));
	else if (r < 0)
		snprintf(err, err_size, "the Merkle tree of %llu entries lacks a stored hash (%s): the tree_tiles "
			 "table is damaged, or rows holding leaf hashes (events.leaf_hash) were deleted or edited",
			 (unsigned long long)size, strerror(-r));
	if (r < 0) {
		cde_audit_tree_writer_release(w);
		return r == -ENOENT ? -EBADMSG : r;
	}
	w->work = w->committed;
	return 0;
}

void cde_audit_tree_writer_release(struct cde_audit_tree_writer *w)
{
	cde_audit_tile_edge_release(&w->edge);
	cde_audit_tile_io_sqlite_release(&w->sql);
	sqlite3_finalize(w->set_size);
	w->set_size = NULL;
}

int cde_audit_tree_writer_append(struct cde_audit_tree_writer *w, const uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	return cde_tlog_frontier_append(&w->work, leaf, cde_audit_tile_edge_keep, &w->edge);
}

int cde_audit_tree_writer_flush(struct cde_audit_tree_writer *w)
{
	char size[24];
	int rc;

	if (cde_audit_tile_edge_flush(&w->edge, w->committed.size, w->work.size) < 0)
		return -EIO;
	snprintf(size, sizeof(size), "%llu", (unsigned long long)w->work.size);
	sqlite3_bind_text(w->set_size, 1, size, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(w->set_size);
	sqlite3_reset(w->set_size);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

void cde_audit_tree_writer_committed(struct cde_audit_tree_writer *w)
{
	cde_audit_tile_edge_committed(&w->edge, w->work.size);
	w->committed = w->work;
}

void cde_audit_tree_writer_rolled_back(struct cde_audit_tree_writer *w)
{
	w->work = w->committed;
}
