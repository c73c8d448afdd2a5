/* The delivery engine's tables in the audit database. They live next to
 * the events so that a backup of one file holds both, and they are
 * written through a second connection: WAL lets it and the journal's
 * writer take turns (busy timeout), and synchronous=NORMAL is enough
 * here, since a cursor lost in a power cut only means a redelivery.
 *
 * Delivery records and cursors are queued and written together, one
 * transaction per flush: written one by one, two transactions per
 * delivery (lock, WAL append, unlock) took a third of the delivery
 * thread's time. A cursor is written with the records of the deliveries
 * it passes, or after them (but for a record dropped when the queue is
 * full and the database stays locked: the record is lost, never the
 * event). */

#include "sinks/delivery_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "events/ids.h"
#include "sinks/audit/sql.h"

/* Deliveries queued before a flush is forced. */
#define PENDING_MAX 256

/* A sink with queued writes: its latest cursor, if not written yet. */
struct pending_sink {
	char *name;
	uint64_t cursor;
	bool dirty;
};

struct pending_delivery {
	size_t sink;		/* in sinks[] */
	uint64_t seq;
	long status;
	char *receipt;		/* NULL: none */
	char at[CDE_TIMESTAMP_STR_LEN];
};

struct cde_delivery_store {
	sqlite3 *db;
	sqlite3_stmt *scan;
	sqlite3_stmt *set_cursor;
	sqlite3_stmt *delivered;
	sqlite3_stmt *replays;	/* asked at every pump: parsing it each time showed in the profile */
	bool dirty;		/* something is queued */
	size_t n_sinks, n_pending;
	struct pending_sink *sinks;
	struct pending_delivery pending[PENDING_MAX];
};

int cde_delivery_store_open(const char *path, struct cde_delivery_store **ret, char *err, size_t err_size)
{
	struct cde_delivery_store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto err_close;
	sqlite3_busy_timeout(s->db, 5000);
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
	cde_delivery_store_close(s);
	return -EIO;
}

void cde_delivery_store_close(struct cde_delivery_store *s)
{
	if (!s)
		return;
	/* Whatever cannot be written now is delivered again at the next
	 * start: at least once. */
	cde_delivery_store_flush(s);
	for (size_t i = 0; i < s->n_pending; i++)
		free(s->pending[i].receipt);
	for (size_t i = 0; i < s->n_sinks; i++)
		free(s->sinks[i].name);
	free(s->sinks);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->set_cursor);
	sqlite3_finalize(s->delivered);
	sqlite3_finalize(s->replays);
	sqlite3_close(s->db);
	free(s);
}

uint64_t cde_delivery_store_head(struct cde_delivery_store *s)
{
	int64_t v = cde_sql_int(s->db, "SELECT max(seq) FROM events", NULL, 0);

	return v > 0 ? (uint64_t)v : 0;
}

void cde_delivery_store_received_at(struct cde_delivery_store *s, uint64_t seq, char *out, size_t size)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT received_at FROM events WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* The one number @sql selects for @sink: 0, -ENOENT (no row) or -EIO. */
static int read_cursor(struct cde_delivery_store *s, const char *sql, const char *sink, uint64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int write_cursor(struct cde_delivery_store *s, const char *sink, uint64_t seq)
{
	int rc;

	sqlite3_bind_text(s->set_cursor, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->set_cursor, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(s->set_cursor);
	sqlite3_reset(s->set_cursor);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_delivery_store_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_seq)
{
	int r = read_cursor(s, "SELECT seq FROM sink_cursors WHERE sink = ?", sink, ret_seq);

	/* Only a sink truly seen for the first time starts at the head; a
	 * failed read must not skip a backlog. */
	if (r != -ENOENT)
		return r;
	*ret_seq = cde_delivery_store_head(s);
	return write_cursor(s, sink, *ret_seq);
}

int cde_delivery_store_forget_others(struct cde_delivery_store *s, const char *const *sinks, size_t n)
{
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

int cde_delivery_store_scan(struct cde_delivery_store *s, uint64_t after, unsigned limit,
			    bool (*fn)(void *ctx, uint64_t seq, const char *event, const char *received_at),
			    void *ctx)
{
	struct row {
		uint64_t seq;
		char *event;
		char received_at[CDE_TIMESTAMP_STR_LEN];
	} *rows = calloc(limit ? limit : 1, sizeof(*rows));
	unsigned n = 0;
	int rc, r = 0;

	if (!rows)
		return -ENOMEM;
	/* The rows are copied out and the statement reset before @fn runs:
	 * @fn writes (deliveries, cursors), and a write on a connection with
	 * a read still open fails with SQLITE_BUSY_SNAPSHOT as soon as the
	 * journal has committed since the read began. */
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
	for (unsigned i = 0; i < n && r == 0; i++)
		if (!fn(ctx, rows[i].seq, rows[i].event, rows[i].received_at))
			break;
	for (unsigned i = 0; i < n; i++)
		free(rows[i].event);
	free(rows);
	return r;
}

/* @sink's place among the sinks with queued writes, added if new. */
static int pending_sink(struct cde_delivery_store *s, const char *sink, size_t *ret)
{
	struct pending_sink *more;
	char *name;

	for (size_t i = 0; i < s->n_sinks; i++)
		if (strcmp(s->sinks[i].name, sink) == 0) {
			*ret = i;
			return 0;
		}
	name = strdup(sink);
	more = name ? realloc(s->sinks, (s->n_sinks + 1) * sizeof(*more)) : NULL;
	if (!more) {
		free(name);
		return -ENOMEM;
	}
	s->sinks = more;
	s->sinks[s->n_sinks] = (struct pending_sink){ .name = name };
	*ret = s->n_sinks++;
	return 0;
}

int cde_delivery_store_set_cursor(struct cde_delivery_store *s, const char *sink, uint64_t seq)
{
	size_t k;
	int r = pending_sink(s, sink, &k);

	if (r < 0)
		return r;
	s->sinks[k].cursor = seq;
	s->sinks[k].dirty = true;
	s->dirty = true;
	return 0;
}

int cde_delivery_store_delivered(struct cde_delivery_store *s, const char *sink, uint64_t seq, long status,
				 const char *receipt)
{
	struct pending_delivery *p;
	size_t k;
	int r;

	if (s->n_pending == PENDING_MAX && (r = cde_delivery_store_flush(s)) < 0)
		return r;
	r = pending_sink(s, sink, &k);
	if (r < 0)
		return r;
	p = &s->pending[s->n_pending];
	*p = (struct pending_delivery){ .sink = k, .seq = seq, .status = status };
	if (receipt && *receipt && !(p->receipt = strdup(receipt)))
		return -ENOMEM;
	cde_timestamp_now(p->at);
	s->n_pending++;
	s->dirty = true;
	return 0;
}

static int write_delivery(struct cde_delivery_store *s, const struct pending_delivery *p)
{
	int rc;

	sqlite3_bind_text(s->delivered, 1, s->sinks[p->sink].name, -1, SQLITE_STATIC);
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

bool cde_delivery_store_dirty(const struct cde_delivery_store *s)
{
	return s->dirty;
}

int cde_delivery_store_flush(struct cde_delivery_store *s)
{
	int r = 0;

	if (!s->dirty)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	for (size_t i = 0; i < s->n_pending && r == 0; i++)
		r = write_delivery(s, &s->pending[i]);
	for (size_t i = 0; i < s->n_sinks && r == 0; i++)
		if (s->sinks[i].dirty)
			r = write_cursor(s, s->sinks[i].name, s->sinks[i].cursor);
	if (r == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	if (r < 0) {
		/* Kept queued for the next flush. */
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	for (size_t i = 0; i < s->n_pending; i++)
		free(s->pending[i].receipt);
	for (size_t i = 0; i < s->n_sinks; i++)
		s->sinks[i].dirty = false;
	s->n_pending = 0;
	s->dirty = false;
	return 0;
}

int cde_delivery_store_dead(struct cde_delivery_store *s, const char *sink, uint64_t seq, unsigned attempts,
			    const char *error)
{
	char now[CDE_TIMESTAMP_STR_LEN];
	sqlite3_stmt *st;
	int rc;

	cde_timestamp_now(now);
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO dead_letters(sink, seq, attempts, error, dead_at)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int(st, 3, (int)attempts);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

uint64_t cde_delivery_store_dead_count(struct cde_delivery_store *s, const char *sink)
{
	int64_t v = cde_sql_int(s->db, "SELECT count(*) FROM dead_letters WHERE sink = ?", sink, 0);

	return v > 0 ? (uint64_t)v : 0;
}

int cde_delivery_store_replays(struct cde_delivery_store *s, const char *sink, size_t max, uint64_t *seqs,
			       size_t *ret_n)
{
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

int cde_delivery_store_replay_done(struct cde_delivery_store *s, const char *sink, uint64_t seq)
{
	sqlite3_stmt *st;
	int rc;

	/* The replay's delivery record first, so a crash cannot keep the
	 * one without the other. */
	if (cde_delivery_store_flush(s) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM replays WHERE sink = ? AND seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_delivery_store_event(struct cde_delivery_store *s, uint64_t seq, char **ret_json)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT event FROM events WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret_json = strdup((const char *)sqlite3_column_text(st, 0));
		r = *ret_json ? 0 : -ENOMEM;
	}
	sqlite3_finalize(st);
	return r;
}

/* Witness cursors (delivery_checkpoints.c) are tree sizes, not seqs, and
 * must not bound retention as sink_cursors do, so they have their own
 * table, made here on first use: only the delivery engine reads it. */
static int witness_table(struct cde_delivery_store *s)
{
	return sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS witness_cursors(sink TEXT PRIMARY KEY,"
			    " size INTEGER NOT NULL) WITHOUT ROWID", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int cde_delivery_store_set_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t size)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO witness_cursors(sink, size) VALUES (?, ?)"
			       " ON CONFLICT(sink) DO UPDATE SET size = excluded.size", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_delivery_store_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_size)
{
	int64_t latest;
	int r = witness_table(s);

	if (r == 0)
		r = read_cursor(s, "SELECT size FROM witness_cursors WHERE sink = ?", sink, ret_size);
	if (r != -ENOENT)
		return r;
	/* A new witness starts with the latest checkpoint, not the history. */
	latest = cde_sql_int(s->db, "SELECT max(size) FROM tree_checkpoints", NULL, 0);
	*ret_size = latest > 0 ? (uint64_t)latest - 1 : 0;
	return cde_delivery_store_set_witness_cursor(s, sink, *ret_size);
}

int cde_delivery_store_checkpoint_after(struct cde_delivery_store *s, uint64_t after, uint64_t *ret_size,
					char **ret_note)
{
	sqlite3_stmt *st;
	int rc, r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT size, note FROM tree_checkpoints WHERE size > ? ORDER BY size LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_note = strdup((const char *)sqlite3_column_text(st, 1));
		*ret_size = (uint64_t)sqlite3_column_int64(st, 0);
		r = *ret_note ? 0 : -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}
