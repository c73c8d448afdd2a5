/* Dead letters and replays on PostgreSQL, as dead_letters.c does them on
 * audit.db: a replay moves rows from dead_letters to replays in one
 * transaction, so a dead letter is never both waiting and replayed. */

#include "sinks/dead_letters.h"

#include <errno.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "sinks/audit/pg/pg_conn.h"

/* The filter both use; $1 sink, $2 event id (NULL: any). */
#define MATCHING \
	" FROM dead_letters d LEFT JOIN events e ON e.seq = d.seq" \
	" WHERE ($1::text IS NULL OR d.sink = $1) AND ($2::text IS NULL OR e.id = $2)"

static const char *or_empty(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

int cde_dead_letters_list_pg(struct pg_conn *conn, const char *sink, const char *id,
			     int (*fn)(void *ctx, const struct cde_dead_letter *dl), void *ctx)
{
	const char *values[2] = { sink, id };
	PGresult *res = PQexecParams((PGconn *)conn, "SELECT d.sink, d.seq, e.id, e.type, d.attempts, d.error, d.dead_at"
				     MATCHING " ORDER BY d.dead_at, d.seq", 2, NULL, values, NULL, NULL, 0);
	int r = 0;

	if (!cde_pg_ok(res, true))
		return -EIO;
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct cde_dead_letter dl = {
			.sink = or_empty(res, i, 0),
			.seq = (uint64_t)cde_pg_int(res, i, 1),
			/* An event retention deleted since has no id left. */
			.id = or_empty(res, i, 2),
			.type = or_empty(res, i, 3),
			.attempts = (unsigned)cde_pg_int(res, i, 4),
			.error = or_empty(res, i, 5),
			.dead_at = or_empty(res, i, 6),
		};

		r = fn(ctx, &dl);
	}
	PQclear(res);
	return r;
}

int cde_dead_letters_replay_pg(struct pg_conn *conn, const char *sink, const char *id)
{
	PGconn *c = (PGconn *)conn;
	const char *values[2] = { sink, id };
	char err[16];
	PGresult *res;
	int n;

	if (cde_pg_exec(c, "BEGIN", err, sizeof(err), "begin") < 0)
		return -EIO;
	res = PQexecParams(c, "INSERT INTO replays(sink, seq) SELECT d.sink, d.seq" MATCHING
			   " ON CONFLICT DO NOTHING", 2, NULL, values, NULL, NULL, 0);
	if (!cde_pg_ok(res, false)) {
		PQclear(PQexec(c, "ROLLBACK"));
		return -EIO;
	}
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (cde_pg_exec(c, "DELETE FROM dead_letters WHERE (sink, seq) IN (SELECT sink, seq FROM replays)", err,
			sizeof(err), "delete") < 0 ||
	    cde_pg_exec(c, "COMMIT", err, sizeof(err), "commit") < 0) {
		PQclear(PQexec(c, "ROLLBACK"));
		return -EIO;
	}
	return n;
}
