/* Test helper: copies the audit log of an audit.db into a PostgreSQL
 * database (schema migrated first), row for row, with its deliveries and
 * the head after the last row, as if replicas had written it there. Lets
 * a test compare what cdevctl reads from both.
 *   pg_copy_log AUDIT_DB PG_URL */

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_schema.h"

#define EVENTS "seq, id, source, type, subject, chain_id, artifact_id, timestamp, received_at, spec_version," \
	" principal, peer, event, prev_hash, hash"
#define DELIVERIES "sink, seq, delivered_at, status, receipt"

/* Every row of @select in @db into @insert (@n columns, as text). */
static int copy(sqlite3 *db, PGconn *c, const char *select, const char *insert, int n)
{
	const char *v[16];
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, select, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "pg_copy_log: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		PGresult *res;

		for (int k = 0; k < n; k++)
			v[k] = (const char *)sqlite3_column_text(st, k);
		res = PQexecParams(c, insert, n, NULL, v, NULL, NULL, 0);
		if (!cde_pg_ok(res, false)) {
			fprintf(stderr, "pg_copy_log: %s", PQerrorMessage(c));
			sqlite3_finalize(st);
			return -1;
		}
		PQclear(res);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct cde_pg_options o = { 0 };
	char err[512];
	sqlite3 *db;
	PGconn *c;
	int r;

	if (argc != 3) {
		fputs("usage: pg_copy_log AUDIT_DB PG_URL\n", stderr);
		return 2;
	}
	o.url = argv[2];
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "pg_copy_log: %s: %s\n", argv[1], sqlite3_errmsg(db));
		return 1;
	}
	if (cde_pg_connect(&o, "pg_copy_log", &c, err, sizeof(err)) < 0 ||
	    cde_pg_schema_migrate(c, err, sizeof(err)) < 0 || cde_pg_exec(c, "BEGIN", err, sizeof(err), "begin") < 0) {
		fprintf(stderr, "pg_copy_log: %s\n", err);
		return 1;
	}
	r = copy(db, c, "SELECT " EVENTS " FROM events ORDER BY seq", "INSERT INTO events(" EVENTS ") VALUES"
		 " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)", 15);
	if (r == 0)
		r = copy(db, c, "SELECT " DELIVERIES " FROM deliveries", "INSERT INTO deliveries(" DELIVERIES ")"
			 " VALUES ($1, $2, $3, $4, $5)", 5);
	if (r == 0 && (cde_pg_exec(c, "UPDATE log_head SET (seq, hash) = (SELECT seq, hash FROM events"
				   " ORDER BY seq DESC LIMIT 1) WHERE EXISTS (SELECT 1 FROM events)", err, sizeof(err),
				   "head") < 0 ||
		       cde_pg_exec(c, "COMMIT", err, sizeof(err), "commit") < 0)) {
		fprintf(stderr, "pg_copy_log: %s\n", err);
		r = -1;
	}
	PQfinish(c);
	sqlite3_close(db);
	return r == 0 ? 0 : 1;
}
