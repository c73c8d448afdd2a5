/* The proof source of an audit.db connection (audit_proof_sqlite.h), and
 * the proofs on audit.db that cdevctl, bundles and tests ask for by
 * handle (audit_proof.h). A read transaction is the snapshot: WAL keeps
 * what it sees while the writer commits. */

#include "sinks/audit/audit_proof_sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_proof.h"
#include "sinks/audit/sql.h"

static int sqlite_begin(void *ctx, char *err, size_t err_size)
{
	struct cde_audit_proof_sqlite *s = ctx;

	/* The tile read last may be of an older tree; the cache of derived
	 * tiles is checked against the new snapshot when the tree is read. */
	s->tree.tiles.tile.valid = false;
	if (s->tree_ready)
		cde_audit_tile_io_sqlite_close_snapshot(&s->tree.sql);
	s->snapshot_checked = false;
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		return 1;
	snprintf(err, err_size, "reading the log: %s", sqlite3_errmsg(s->db));
	return -EIO;
}

static void sqlite_end(void *ctx, int opened)
{
	struct cde_audit_proof_sqlite *s = ctx;

	sqlite3_finalize(s->row);
	s->row = NULL;
	if (s->tree_ready)
		cde_audit_tile_io_sqlite_close_snapshot(&s->tree.sql);
	s->snapshot_checked = false;
	if (opened > 0)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

static int sqlite_tree_size(void *ctx, uint64_t *ret)
{
	struct cde_audit_proof_sqlite *s = ctx;

	*ret = cde_audit_tree_size(s->db);
	return 0;
}

/* A count or seq of @sql, 0 when none (or no such table: older files). */
static uint64_t max_of(sqlite3 *db, const char *sql)
{
	int64_t v = cde_sql_int(db, sql, NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static int sqlite_latest_size(void *ctx, uint64_t *ret)
{
	struct cde_audit_proof_sqlite *s = ctx;

	*ret = max_of(s->db, "SELECT max(size) FROM tree_checkpoints");
	return 0;
}

static int sqlite_deleted_to(void *ctx, uint64_t *ret)
{
	struct cde_audit_proof_sqlite *s = ctx;

	*ret = max_of(s->db, "SELECT max(seq) FROM retention");
	return 0;
}

static int sqlite_note(void *ctx, uint64_t size, char **ret)
{
	struct cde_audit_proof_sqlite *s = ctx;
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT note FROM tree_checkpoints WHERE size = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *note = (const char *)sqlite3_column_text(st, 0);

		*ret = strdup(note ? note : "");
		r = *ret ? 0 : -ENOMEM;
	}
	sqlite3_finalize(st);
	return r;
}

static int sqlite_row(void *ctx, uint64_t seq, struct cde_audit_proof_row *ret)
{
	struct cde_audit_proof_sqlite *s = ctx;
	sqlite3_stmt *st;

	sqlite3_finalize(s->row);
	s->row = NULL;
	/* A file from before schema 8 (read without migrating it) has no
	 * leaf_hash: its leaves are all in tiles. */
	if (sqlite3_prepare_v2(s->db, "SELECT id, source, leaf, received_at, principal, peer, event, leaf_hash"
			       " FROM events WHERE seq = ?", -1, &st, NULL) != SQLITE_OK &&
	    sqlite3_prepare_v2(s->db, "SELECT id, source, leaf, received_at, principal, peer, event FROM events"
			       " WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	s->row = st;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->row.seq = seq;
	ret->row.id = (const char *)sqlite3_column_text(st, 0);
	ret->row.source = (const char *)sqlite3_column_text(st, 1);
	ret->has_leaf = sqlite3_column_type(st, 2) != SQLITE_NULL;
	ret->leaf = (uint64_t)sqlite3_column_int64(st, 2);
	ret->row.received_at = (const char *)sqlite3_column_text(st, 3);
	ret->row.principal = (const char *)sqlite3_column_text(st, 4);
	ret->row.peer = (const char *)sqlite3_column_text(st, 5);
	ret->row.event = (const char *)sqlite3_column_text(st, 6);
	if (sqlite3_column_count(st) > 7 && sqlite3_column_type(st, 7) != SQLITE_NULL) {
		ret->leaf_hash = sqlite3_column_blob(st, 7);
		ret->leaf_hash_len = (size_t)sqlite3_column_bytes(st, 7);
	}
	return 0;
}

static int sqlite_seq_of(void *ctx, const char *source, const char *id, uint64_t *ret)
{
	struct cde_audit_proof_sqlite *s = ctx;
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT seq FROM events WHERE source = ? AND id = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int sqlite_tree(void *ctx, const struct cde_tlog_reader **ret)
{
	struct cde_audit_proof_sqlite *s = ctx;
	int r;

	if (!s->tree_ready) {
		r = cde_audit_tree_reader_init(&s->tree, s->db);
		if (r == 0)
			r = cde_audit_tile_io_sqlite_cache(&s->tree.sql);
		if (r < 0) {
			cde_audit_tree_reader_release(&s->tree);
			return r == -ENOMEM ? r : -EIO;
		}
		s->tree_ready = true;
	}
	/* Once a snapshot, on the tree's size in it. */
	if (!s->snapshot_checked) {
		r = cde_audit_tile_io_sqlite_open_snapshot(&s->tree.sql, cde_audit_tree_size(s->db));
		if (r < 0)
			return r;
		s->snapshot_checked = true;
	}
	*ret = &s->tree.tlog;
	return 0;
}

void cde_audit_proof_sqlite_init(struct cde_audit_proof_sqlite *s, sqlite3 *db)
{
	memset(s, 0, sizeof(*s));
	s->db = db;
	s->src = (struct cde_audit_proof_source){
		.begin = sqlite_begin,
		.end = sqlite_end,
		.tree_size = sqlite_tree_size,
		.latest_size = sqlite_latest_size,
		.deleted_to = sqlite_deleted_to,
		.note = sqlite_note,
		.row = sqlite_row,
		.seq_of = sqlite_seq_of,
		.tree = sqlite_tree,
		.ctx = s,
	};
}

void cde_audit_proof_sqlite_release(struct cde_audit_proof_sqlite *s)
{
	sqlite3_finalize(s->row);
	s->row = NULL;
	if (s->tree_ready)
		cde_audit_tree_reader_release(&s->tree);
	s->tree_ready = false;
}

int cde_audit_proof_inclusion(sqlite3 *db, uint64_t seq, uint64_t size, cJSON **ret, char *err, size_t err_size)
{
	struct cde_audit_proof_sqlite s;
	int r;

	cde_audit_proof_sqlite_init(&s, db);
	r = cde_audit_proof_inclusion_from(&s.src, seq, size, ret, err, err_size);
	cde_audit_proof_sqlite_release(&s);
	return r;
}

int cde_audit_proof_consistency(sqlite3 *db, uint64_t from, uint64_t to, cJSON **ret, char *err, size_t err_size)
{
	struct cde_audit_proof_sqlite s;
	int r;

	cde_audit_proof_sqlite_init(&s, db);
	r = cde_audit_proof_consistency_from(&s.src, from, to, ret, err, err_size);
	cde_audit_proof_sqlite_release(&s);
	return r;
}

int cde_audit_proof_seq_of(sqlite3 *db, const char *source, const char *id, uint64_t *ret_seq)
{
	struct cde_audit_proof_sqlite s;
	int r;

	*ret_seq = 0;
	cde_audit_proof_sqlite_init(&s, db);
	r = sqlite_seq_of(&s, source, id, ret_seq);
	cde_audit_proof_sqlite_release(&s);
	return r;
}
