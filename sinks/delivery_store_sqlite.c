/* The delivery store in audit.db (SQLite). The delivery engine's tables
 * live next to the events so that a backup of one file holds both, and
 * they are written through a second connection: WAL lets it and the
 * journal's writer take turns (busy timeout), and synchronous=NORMAL is
 * enough here, since a cursor lost in a power cut only means a
 * redelivery. One daemon owns the file (the state directory's lock), so
 * every lease is held. */

#include "sinks/delivery_store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sinks/audit/audit_wal.h"
#include "sinks/audit/sql.h"

struct sqlite_store {
	sqlite3 *db;
	sqlite3_stmt *scan;
	sqlite3_stmt *set_cursor;
	sqlite3_stmt *delivered;
	sqlite3_stmt *replays;	/* asked at every pump: parsing it each time showed in the profile */
};

static void sq_close(void *impl)
{
	struct sqlite_store *s = impl;

	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->set_cursor);
	sqlite3_finalize(s->delivered);
	sqlite3_finalize(s->replays);
	sqlite3_close(s->db);
	free(s);
}

int cde_delivery_store_sqlite_open(const char *path, bool checkpoints_aside, void **ret, char *err,
				   size_t err_size)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto err_close;
	sqlite3_busy_timeout(s->db, 5000);
	/* SQLite checkpoints on the connection that commits once the WAL
	 * holds 1,000 pages, and the writer's WAL is let grow to
	 * CDE_AUDIT_WAL_BOUND (audit_wal.h): each cursor's commit would copy
	 * it back, syncing twice on the delivery thread, and find the
	 * journal's checkpoint thread busy at it. At the bound, as the
	 * writer: only the writer's commits wake that thread, and a drain
	 * with nothing posted would grow the WAL without end. */
	if (checkpoints_aside)
		sqlite3_wal_autocheckpoint(s->db, CDE_AUDIT_WAL_BOUND);
	/* The tables are the audit store's to create (it opens the file
	 * first, read-write); this connection only uses them. */
	if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT seq, event, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "INSERT INTO sink_cursors(sink, seq) VALUES (?, ?)"
			       " ON CONFLICT(sink) DO UPDATE SET seq = excluded.seq", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->set_cursor, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "INSERT OR REPLACE INTO deliveries(sink, seq, delivered_at, status, receipt)"
			       " VALUES (?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT, &s->delivered,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(s->db, "SELECT seq FROM replays WHERE sink = ? ORDER BY seq LIMIT ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->replays, NULL) != SQLITE_OK)
		goto err_close;
	*ret = s;
	return 0;

err_close:
	snprintf(err, err_size, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
	sq_close(s);
	return -EIO;
}

static uint64_t sq_head(void *impl)
{
	struct sqlite_store *s = impl;
	int64_t v = cde_sql_int(s->db, "SELECT max(seq) FROM events", NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static void sq_received_at(void *impl, uint64_t seq, char *out, size_t size)
{
	struct sqlite_store *s = impl;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, "SELECT received_at FROM events WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* Runs @sql with @sink and, unless @with_value is false, @value bound:
 * 0 or -EIO. */
static int run(struct sqlite_store *s, const char *sql, const char *sink, bool with_value, uint64_t value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	if (with_value)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Witness cursors (delivery_checkpoints.c) are tree sizes, not seqs, and
 * must not bound retention as sink_cursors do, so they have their own
 * table, made here on first use: only the delivery engine reads it. */
static int witness_table(struct sqlite_store *s)
{
	return sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS witness_cursors(sink TEXT PRIMARY KEY,"
			    " size INTEGER NOT NULL) WITHOUT ROWID", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int sq_get_cursor(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t *ret)
{
	struct sqlite_store *s = impl;
	sqlite3_stmt *st;
	int rc;

	if (kind == CDE_CURSOR_WITNESS && witness_table(s) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(s->db, kind == CDE_CURSOR_SINK ? "SELECT seq FROM sink_cursors WHERE sink = ?"
			       : "SELECT size FROM witness_cursors WHERE sink = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int sq_init_cursor(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t value)
{
	return run(impl, kind == CDE_CURSOR_SINK ? "INSERT OR IGNORE INTO sink_cursors(sink, seq) VALUES (?, ?)"
		   : "INSERT OR IGNORE INTO witness_cursors(sink, size) VALUES (?, ?)", sink, true, value);
}

static int sq_set_witness_cursor(void *impl, const char *sink, uint64_t size)
{
	return run(impl, "INSERT INTO witness_cursors(sink, size) VALUES (?, ?)"
		   " ON CONFLICT(sink) DO UPDATE SET size = excluded.size", sink, true, size);
}

static uint64_t sq_latest_checkpoint(void *impl)
{
	struct sqlite_store *s = impl;
	int64_t v = cde_sql_int(s->db, "SELECT max(size) FROM tree_checkpoints", NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static int sq_forget_others(void *impl, const char *const *sinks, size_t n)
{
	struct sqlite_store *s = impl;
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_exec(s->db, "CREATE TEMP TABLE IF NOT EXISTS configured(sink TEXT PRIMARY KEY);"
			 "DELETE FROM configured;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO configured(sink) VALUES (?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (size_t i = 0; i < n && r == 0; i++) {
		sqlite3_bind_text(st, 1, sinks[i], -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_exec(s->db, "DELETE FROM sink_cursors WHERE sink NOT IN (SELECT sink FROM configured)",
				   NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	return r;
}

static int sq_scan(void *impl, uint64_t after, unsigned limit, struct cde_scan_row *rows, unsigned *ret_n)
{
	struct sqlite_store *s = impl;
	unsigned n = 0;
	int rc = SQLITE_DONE, r = 0;

	sqlite3_bind_int64(s->scan, 1, (sqlite3_int64)after);
	sqlite3_bind_int(s->scan, 2, (int)limit);
	while (n < limit && (rc = sqlite3_step(s->scan)) == SQLITE_ROW) {
		rows[n].seq = (uint64_t)sqlite3_column_int64(s->scan, 0);
		rows[n].event = strdup((const char *)sqlite3_column_text(s->scan, 1));
		snprintf(rows[n].received_at, sizeof(rows[n].received_at), "%s",
			 (const char *)sqlite3_column_text(s->scan, 2));
		if (!rows[n].event) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && n < limit && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(s->scan);
	*ret_n = n;
	return r;
}

static int write_cursor(struct sqlite_store *s, const char *sink, uint64_t seq)
{
	int rc;

	sqlite3_bind_text(s->set_cursor, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->set_cursor, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(s->set_cursor);
	sqlite3_reset(s->set_cursor);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int write_delivery(struct sqlite_store *s, const char *sink, const struct cde_pending_delivery *p)
{
	int rc;

	sqlite3_bind_text(s->delivered, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->delivered, 2, (sqlite3_int64)p->seq);
	sqlite3_bind_text(s->delivered, 3, p->at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->delivered, 4, p->status);
	if (p->receipt)
		sqlite3_bind_text(s->delivered, 5, p->receipt, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s->delivered, 5);
	rc = sqlite3_step(s->delivered);
	sqlite3_reset(s->delivered);
	sqlite3_clear_bindings(s->delivered);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int sq_write(void *impl, const struct cde_delivery_batch *b)
{
	struct sqlite_store *s = impl;
	int r = 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	for (size_t i = 0; i < b->n_deliveries && r == 0; i++)
		r = write_delivery(s, b->sinks[b->deliveries[i].sink].name, &b->deliveries[i]);
	for (size_t i = 0; i < b->n_sinks && r == 0; i++)
		if (b->sinks[i].dirty)
			r = write_cursor(s, b->sinks[i].name, b->sinks[i].cursor);
	if (r == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	if (r < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static int sq_dead(void *impl, const char *sink, uint64_t seq, unsigned attempts, const char *error, const char *at)
{
	struct sqlite_store *s = impl;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO dead_letters(sink, seq, attempts, error, dead_at)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int(st, 3, (int)attempts);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static uint64_t sq_dead_count(void *impl, const char *sink)
{
	struct sqlite_store *s = impl;
	int64_t v = cde_sql_int(s->db, "SELECT count(*) FROM dead_letters WHERE sink = ?", sink, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static int sq_replays(void *impl, const char *sink, size_t max, uint64_t *seqs, size_t *ret_n)
{
	struct sqlite_store *s = impl;
	sqlite3_stmt *st = s->replays;
	size_t n = 0;
	int rc;

	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		seqs[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*ret_n = n;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int sq_replay_done(void *impl, const char *sink, uint64_t seq)
{
	return run(impl, "DELETE FROM replays WHERE sink = ? AND seq = ?", sink, true, seq);
}

/* The text columns @sql selects for row @key: the first into *@ret_a
 * (the caller frees it), the second, if any, as a number into *@ret_b.
 * Returns 0, -ENOENT, -ENOMEM or -EIO. */
static int one_row(struct sqlite_store *s, const char *sql, uint64_t key, char **ret_a, uint64_t *ret_b)
{
	sqlite3_stmt *st;
	int rc, r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_a = strdup((const char *)sqlite3_column_text(st, 0));
		if (ret_b)
			*ret_b = (uint64_t)sqlite3_column_int64(st, 1);
		r = *ret_a ? 0 : -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_event(void *impl, uint64_t seq, char **ret_json)
{
	return one_row(impl, "SELECT event FROM events WHERE seq = ?", seq, ret_json, NULL);
}

static int sq_checkpoint_after(void *impl, uint64_t after, uint64_t *ret_size, char **ret_note)
{
	return one_row(impl, "SELECT note, size FROM tree_checkpoints WHERE size > ? ORDER BY size LIMIT 1", after,
		       ret_note, ret_size);
}

static int sq_lease(void *impl, const char *sink, bool *held)
{
	*held = true;
	return 0;
}

static void sq_watch(void *impl, void (*fn)(void *ctx, int fd), void *ctx)
{
}

static bool sq_news(void *impl)
{
	return false;
}

static int sq_check(void *impl)
{
	return 0;
}

const struct cde_delivery_store_ops cde_delivery_store_sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.head = sq_head,
	.received_at = sq_received_at,
	.get_cursor = sq_get_cursor,
	.init_cursor = sq_init_cursor,
	.set_witness_cursor = sq_set_witness_cursor,
	.latest_checkpoint = sq_latest_checkpoint,
	.forget_others = sq_forget_others,
	.scan = sq_scan,
	.write = sq_write,
	.dead = sq_dead,
	.dead_count = sq_dead_count,
	.replays = sq_replays,
	.replay_done = sq_replay_done,
	.event = sq_event,
	.checkpoint_after = sq_checkpoint_after,
	.lease = sq_lease,
	.watch = sq_watch,
	.news = sq_news,
	.check = sq_check,
};
