/* Retention: the audit log may not grow forever, but a deletion must not
 * look like tampering nor tampering like a deletion. A run deletes a
 * prefix of the chain (rows 1..N, never a row in the middle) and, in the
 * same transaction, stores a marker naming N and the hash of row N (the
 * anchor the first remaining row points to). Markers are chained to each
 * other and, with the checkpoint key, signed, so only the daemon can
 * retire rows; verify then starts from the latest marker's anchor. The
 * same transaction names each chain it cut in retired_chains, and each
 * artifact named by a row it deleted in retired_artifacts, with the last
 * seq it deleted of each: a gate denies such a chain or artifact unjudged.
 *
 * Runs on the writer thread, between group commits, and bounds each run
 * (max_rows) so ingest never waits long behind it. */

#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "events/ids.h"
#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_tiles_sqlite.h"
#include "sinks/audit/sql.h"

static int fail(sqlite3 *db, char *err, size_t size, const char *what)
{
	snprintf(err, size, "retention: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

static int query_hash(sqlite3 *db, const char *sql, int64_t seq, uint8_t out[CDE_HASH_LEN])
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (seq >= 0)
		sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = cde_hash_from_hex((const char *)sqlite3_column_text(st, 0), out) < 0 ? -EIO : 0;
	sqlite3_finalize(st);
	return r;
}

uint64_t cde_audit_live_bytes(struct cde_audit_store *s)
{
	sqlite3 *db = cde_audit_store_db(s);
	int64_t pages = cde_sql_int(db, "PRAGMA page_count", NULL, 0);
	int64_t free_pages = cde_sql_int(db, "PRAGMA freelist_count", NULL, 0);
	int64_t page_size = cde_sql_int(db, "PRAGMA page_size", NULL, 0);

	return pages > free_pages ? (uint64_t)(pages - free_pages) * (uint64_t)page_size : 0;
}

/* RFC 3339 with microseconds, like received_at, so that the two compare
 * as strings. */
static void format_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

/* The last seq that @policy makes due, or 0; why in @reason. */
static uint64_t due_through(struct cde_audit_store *s, const struct cde_audit_retention *policy,
			    int64_t now, uint64_t first, uint64_t head, char *reason, size_t size)
{
	sqlite3 *db = cde_audit_store_db(s);
	uint64_t through = 0;

	if (policy->max_age_s) {
		char cutoff[32];
		int64_t seq;

		format_time(now - (int64_t)policy->max_age_s, cutoff);
		/* The index on received_at finds the newest row that is too
		 * old; everything before it in the chain goes with it. */
		seq = cde_sql_int(db, "SELECT seq FROM events WHERE received_at < ?"
				" ORDER BY received_at DESC LIMIT 1", cutoff, 0);
		if (seq > 0) {
			through = (uint64_t)seq;
			snprintf(reason, size, "max_age: received before %s", cutoff);
		}
	}
	if (policy->max_bytes) {
		uint64_t live = cde_audit_live_bytes(s), rows = head - first + 1;
		/* Delete down to 90% of the limit, so that the next runs are
		 * not due again after a handful of events. */
		uint64_t target = policy->max_bytes / 10 * 9;

		if (live > policy->max_bytes && rows > 0) {
			uint64_t per_row = live / rows ? live / rows : 1;
			uint64_t n = (live - target + per_row - 1) / per_row;
			uint64_t seq = first + (n < rows ? n : rows) - 1;

			if (seq > through) {
				through = seq;
				snprintf(reason, size, "max_size: %llu bytes in use, limit %llu",
					 (unsigned long long)live, (unsigned long long)policy->max_bytes);
			}
		}
	}
	return through;
}

static int store_marker(struct cde_audit_store *s, const struct cde_audit_marker *m, char *err,
			size_t err_size)
{
	sqlite3 *db = cde_audit_store_db(s);
	uint8_t prev[CDE_HASH_LEN] = { 0 }, hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];
	char anchor_hex[CDE_HASH_HEX_LEN], prev_hex[CDE_HASH_HEX_LEN], hash_hex[CDE_HASH_HEX_LEN],
	     mac_hex[CDE_HASH_HEX_LEN];
	const uint8_t *key;
	size_t key_len = 0;
	sqlite3_stmt *st;
	int rc;

	if (query_hash(db, "SELECT hash FROM retention ORDER BY seq DESC LIMIT 1", -1, prev) == -EIO)
		return fail(db, err, err_size, "reading the last marker");
	cde_audit_marker_hash(m, prev, hash);
	cde_hash_to_hex(m->anchor, anchor_hex);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	key = cde_audit_store_key(s, &key_len);
	if (key) {
		cde_audit_marker_mac(key, key_len, hash, mac);
		cde_hash_to_hex(mac, mac_hex);
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO retention(seq, deleted, at, reason, anchor, prev, hash, mac)"
			       " VALUES (?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return fail(db, err, err_size, "storing the marker");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)m->seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)m->deleted);
	sqlite3_bind_text(st, 3, m->at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, anchor_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, prev_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, hash_hex, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 8, mac_hex, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(db, err, err_size, "storing the marker");
}

/* Records in @table each @column value of the rows up to seq ?1, with
 * the last of their seqs deleted (kept when a later run deletes more). */
#define RETIRE_SQL(table, column)                                                                      \
	"INSERT INTO " table "(" column ", last_deleted_seq) SELECT " column ", max(seq) FROM events"   \
	" WHERE seq <= ?1 AND " column " IS NOT NULL AND " column " <> '' GROUP BY " column " ORDER BY " \
	column " ON CONFLICT(" column ") DO UPDATE SET last_deleted_seq = excluded.last_deleted_seq"     \
	" WHERE excluded.last_deleted_seq > last_deleted_seq"

static int exec_seq(sqlite3 *db, const char *sql, uint64_t seq, uint64_t *ret_changes)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (ret_changes)
		*ret_changes = (uint64_t)sqlite3_changes64(db);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The rows about to go hold their leaves' hashes (schema 8): the tree
 * keeps them as tiles, so proofs over the retired prefix still hold. */
static int keep_leaf_tiles(sqlite3 *db, uint64_t through)
{
	struct cde_audit_tile_io_sqlite tiles;
	sqlite3_stmt *st;
	int64_t first = -1, last = -1;
	int r;

	/* Leaves grow with seqs: the first and the last row that has one
	 * bound them, read from the seq's two ends. */
	if (sqlite3_prepare_v2(db, "SELECT (SELECT leaf FROM events WHERE seq <= ?1 AND leaf IS NOT NULL"
			       " ORDER BY seq LIMIT 1), (SELECT leaf FROM events WHERE seq <= ?1 AND leaf IS NOT NULL"
			       " ORDER BY seq DESC LIMIT 1)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)through);
	r = sqlite3_step(st) == SQLITE_ROW ? 0 : -EIO;
	if (r == 0 && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		first = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (r < 0 || first < 0)
		return r;
	r = cde_audit_tile_io_sqlite_init(&tiles, db, true);
	if (r == 0)
		r = cde_audit_tile_sqlite_keep_leaves(&tiles, (uint64_t)first, (uint64_t)last);
	cde_audit_tile_io_sqlite_release(&tiles);
	return r;
}

int cde_audit_retain(struct cde_audit_store *s, const struct cde_audit_retention *policy,
		     int64_t now, struct cde_audit_retention_run *out, char *err, size_t err_size)
{
	sqlite3 *db = cde_audit_store_db(s);
	uint64_t head = cde_audit_store_head(s), first, through;
	char at[CDE_TIMESTAMP_STR_LEN];
	struct cde_audit_marker m = { 0 };
	int64_t min;

	memset(out, 0, sizeof(*out));
	min = cde_sql_int(db, "SELECT min(seq) FROM events", NULL, 0);
	if (min <= 0)
		return 0;
	first = (uint64_t)min;
	through = due_through(s, policy, now, first, head, out->reason, sizeof(out->reason));
	if (policy->max_rows && through >= first + policy->max_rows)
		through = first + policy->max_rows - 1;
	if (policy->keep_from && through >= policy->keep_from)
		through = policy->keep_from - 1;
	/* Never what a sink has yet to deliver: its cursor is the last seq
	 * it has settled. (No table yet: no sinks, no bound.) */
	min = cde_sql_int(db, "SELECT min(seq) FROM sink_cursors", NULL, -1);
	if (min >= 0 && through > (uint64_t)min)
		through = (uint64_t)min;
	if (through > head)
		through = head;
	if (through < first)
		return 0;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, err, err_size, "begin");
	cde_audit_store_rows_deleted(s);
	if (query_hash(db, "SELECT hash FROM events WHERE seq = ?", (int64_t)through, m.anchor) < 0) {
		fail(db, err, err_size, "reading the anchor row");
		goto err_rollback;
	}
	/* The chains cut, before their rows go: a gate reading one of them
	 * would judge part of its evidence (gate.c denies it); and the
	 * artifacts they name: a chain whose rows naming the artifact go is
	 * no longer linked to it, so the gate could not find it cut. */
	if (exec_seq(db, RETIRE_SQL("retired_chains", "chain_id"), through, NULL) < 0 ||
	    exec_seq(db, RETIRE_SQL("retired_artifacts", "artifact_id"), through, NULL) < 0) {
		fail(db, err, err_size, "recording the chains and artifacts cut");
		goto err_rollback;
	}
	if (keep_leaf_tiles(db, through) < 0) {
		fail(db, err, err_size, "keeping the leaf hashes of the rows retired");
		goto err_rollback;
	}
	/* Delivery records go with their events: they would otherwise count
	 * against max_size for ever. Dead letters stay, as the record of a
	 * failure, even once their event is gone. */
	if (exec_seq(db, "DELETE FROM events WHERE seq <= ?", through, &m.deleted) < 0 ||
	    exec_seq(db, "DELETE FROM checkpoints WHERE seq <= ?", through, NULL) < 0 ||
	    exec_seq(db, "DELETE FROM deliveries WHERE seq <= ?", through, NULL) < 0) {
		fail(db, err, err_size, "deleting");
		goto err_rollback;
	}
	cde_timestamp_now(at);
	m.seq = through;
	m.at = at;
	m.reason = out->reason;
	if (store_marker(s, &m, err, err_size) < 0)
		goto err_rollback;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(db, err, err_size, "commit");
		goto err_rollback;
	}
	out->deleted = m.deleted;
	out->through_seq = through;
	/* Only shrinks files created with auto_vacuum; elsewhere SQLite
	 * reuses the freed pages, so the file stops growing all the same. */
	sqlite3_exec(db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	return 0;

err_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	memset(out, 0, sizeof(*out));
	return -EIO;
}
