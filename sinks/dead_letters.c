/* Dead letters and replays. The CLI writes here while the daemon runs:
 * both go through SQLite's locking (WAL, busy timeout), and a replay is
 * a move between two tables in one transaction, so a dead letter is never
 * both waiting and replayed, nor lost in between. */

#include "sinks/dead_letters.h"

#include <errno.h>

/* The filter both list and replay use; ?1 sink, ?2 event id. */
#define MATCHING \
	" FROM dead_letters d LEFT JOIN events e ON e.seq = d.seq" \
	" WHERE (?1 IS NULL OR d.sink = ?1) AND (?2 IS NULL OR e.id = ?2)"

static void bind_filters(sqlite3_stmt *st, const char *sink, const char *id)
{
	if (sink)
		sqlite3_bind_text(st, 1, sink, -1, SQLITE_STATIC);
	if (id)
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
}

int cde_dead_letters_list(sqlite3 *db, const char *sink, const char *id,
			  int (*fn)(void *ctx, const struct cde_dead_letter *dl), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, "SELECT d.sink, d.seq, e.id, e.type, d.attempts, d.error, d.dead_at" MATCHING
			       " ORDER BY d.dead_at, d.seq", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_filters(st, sink, id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_dead_letter dl = {
			.sink = (const char *)sqlite3_column_text(st, 0),
			.seq = (uint64_t)sqlite3_column_int64(st, 1),
			/* An event retention deleted since has no id left. */
			.id = sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "",
			.type = sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "",
			.attempts = (unsigned)sqlite3_column_int(st, 4),
			.error = (const char *)sqlite3_column_text(st, 5),
			.dead_at = (const char *)sqlite3_column_text(st, 6),
		};

		r = fn(ctx, &dl);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

int cde_dead_letters_replay(sqlite3 *db, const char *sink, const char *id)
{
	sqlite3_stmt *move = NULL, *drop = NULL;
	int n = -EIO;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO replays(sink, seq) SELECT d.sink, d.seq" MATCHING, -1,
			       &move, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM dead_letters WHERE (sink, seq) IN (SELECT sink, seq FROM replays)",
			       -1, &drop, NULL) != SQLITE_OK)
		goto out;
	bind_filters(move, sink, id);
	if (sqlite3_step(move) != SQLITE_DONE)
		goto out;
	n = sqlite3_changes(db);
	if (sqlite3_step(drop) != SQLITE_DONE) {
		n = -EIO;
		goto out;
	}
out:
	sqlite3_finalize(move);
	sqlite3_finalize(drop);
	if (sqlite3_exec(db, n >= 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK && n >= 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		n = -EIO;
	}
	return n;
}
