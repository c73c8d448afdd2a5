/* The PostgreSQL schema: a new database gets every table at the current
 * version, a second start (or a second replica) changes nothing, a
 * database newer than the code is refused, and the connection takes its
 * password from a private file only. Runs against the throwaway cluster
 * of tests/pg/cluster (CDE_PG_URL, CDE_PG_DIR). */

#include "tests/unit/helpers.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_schema.h"

static PGconn *connect_test(void)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	char err[256];
	PGconn *c;

	assert_non_null(o.url);
	if (cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return c;
}

static int64_t count(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	int64_t n;

	assert_true(cde_pg_ok(res, true));
	n = cde_pg_int(res, 0, 0);
	PQclear(res);
	return n;
}

static void a_new_database_gets_every_table_once(void **state)
{
	PGconn *c = connect_test(), *d = connect_test();
	char err[256];

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_schema_version(c), CDE_PG_SCHEMA_VERSION);
	/* A second replica starting finds it done. */
	assert_int_equal(cde_pg_schema_migrate(d, err, sizeof(err)), 0);
	assert_int_equal(count(c, "SELECT count(*) FROM cde_schema"), CDE_PG_SCHEMA_VERSION);
	assert_int_equal(count(c, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
			      " AND table_name IN ('events', 'log_head', 'checkpoints', 'retention', 'gaps',"
			      " 'tree_tiles', 'tree_checkpoints', 'sink_cursors', 'witness_cursors', 'deliveries',"
			      " 'dead_letters', 'replays', 'audit_log', 'retired_chains', 'retired_artifacts')"), 15);
	assert_int_equal(count(c, "SELECT seq FROM log_head"), 0);
	PQfinish(c);
	PQfinish(d);
}

static void the_view_reads_an_event_as_jsonb(void **state)
{
	PGconn *c = connect_test();
	char err[256];
	PGresult *res;

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "BEGIN", err, sizeof(err), "begin"), 0);
	assert_int_equal(cde_pg_exec(c, "INSERT INTO events(seq, id, source, type, timestamp, received_at,"
				     " spec_version, principal, peer, event, prev_hash, hash) VALUES (1, 'a', '/s',"
				     " 'dev.cdevents.service.deployed.0.2.0', '2026-12-07T10:00:00Z',"
				     " '2026-12-07T10:00:01.5Z', '0.4.1', 'ci', '127.0.0.1', '{\"subject\":{\"content\":"
				     "{\"environment\":{\"id\":\"prod\"}}}}', 'p', 'h')", err, sizeof(err), "insert"), 0);
	res = PQexec(c, "SELECT environment, extract(epoch FROM received_at)::text, event->'subject'->>'content'"
			" IS NOT NULL FROM audit_log WHERE seq = 1");
	assert_true(cde_pg_ok(res, true));
	assert_string_equal(PQgetvalue(res, 0, 0), "prod");
	assert_string_equal(PQgetvalue(res, 0, 1), "1796637601.500000");
	assert_string_equal(PQgetvalue(res, 0, 2), "t");
	PQclear(res);
	assert_int_equal(cde_pg_exec(c, "ROLLBACK", err, sizeof(err), "rollback"), 0);
	PQfinish(c);
}

/* A database of schema 1 (the current one with steps 2 to 4 undone) gains
 * events.chain_via, NULL on its rows, and the view shows it. */
static void a_schema_1_database_gains_chain_via_null_on_its_rows(void **state)
{
	PGconn *c = connect_test();
	char err[256];

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "BEGIN; DROP VIEW audit_log; ALTER TABLE events DROP COLUMN chain_via;"
				     " DROP TABLE retired_chains, retired_artifacts; DELETE FROM cde_schema WHERE version >= 2;"
				     " INSERT INTO events(seq, id, source, type, timestamp, received_at, spec_version,"
				     " principal, peer, event, prev_hash, hash) VALUES (7, 'old', '/s',"
				     " 'dev.cdevents.build.finished.0.3.0', '2026-12-07T10:00:00Z', '2026-12-07T10:00:01Z',"
				     " '0.4.1', 'ci', '127.0.0.1', '{}', 'p', 'h'); COMMIT", err, sizeof(err), "undo"), 0);
	assert_int_equal(cde_pg_schema_version(c), 1);
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_schema_version(c), CDE_PG_SCHEMA_VERSION);
	assert_int_equal(count(c, "SELECT count(*) FROM audit_log WHERE seq = 7 AND chain_via IS NULL"), 1);
	assert_int_equal(cde_pg_exec(c, "DELETE FROM events WHERE seq = 7", err, sizeof(err), "delete"), 0);
	PQfinish(c);
}

/* A database of schema 2 (the current one with steps 3 and 4 undone) gains
 * retired_chains, empty: what its retention cut before is not known. */
static void a_schema_2_database_gains_an_empty_retired_chains(void **state)
{
	PGconn *c = connect_test();
	char err[256];

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "BEGIN; DROP TABLE retired_chains, retired_artifacts;"
				     " DELETE FROM cde_schema WHERE version >= 3; COMMIT", err, sizeof(err), "undo"), 0);
	assert_int_equal(cde_pg_schema_version(c), 2);
	assert_int_equal(count(c, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'retired_chains'"),
			 0);
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_schema_version(c), CDE_PG_SCHEMA_VERSION);
	assert_int_equal(count(c, "SELECT count(*) FROM retired_chains"), 0);
	PQfinish(c);
}

/* A database of schema 3 (the current one with step 4 undone) gains
 * retired_artifacts, empty, as retired_chains before it. */
static void a_schema_3_database_gains_an_empty_retired_artifacts(void **state)
{
	PGconn *c = connect_test();
	char err[256];

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "BEGIN; DROP TABLE retired_artifacts; DELETE FROM cde_schema WHERE version = 4;"
				     " COMMIT", err, sizeof(err), "undo"), 0);
	assert_int_equal(cde_pg_schema_version(c), 3);
	assert_int_equal(count(c, "SELECT count(*) FROM information_schema.tables"
			      " WHERE table_name = 'retired_artifacts'"), 0);
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_schema_version(c), CDE_PG_SCHEMA_VERSION);
	assert_int_equal(count(c, "SELECT count(*) FROM retired_artifacts"), 0);
	PQfinish(c);
}

static void a_newer_database_is_refused(void **state)
{
	PGconn *c = connect_test();
	char err[256];

	(void)state;
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "INSERT INTO cde_schema(version, description) VALUES (999, 'future')", err,
				     sizeof(err), "insert"), 0);
	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), -EROFS);
	assert_non_null(strstr(err, "newer cdeventsd (schema 999"));
	assert_int_equal(cde_pg_exec(c, "DELETE FROM cde_schema WHERE version = 999", err, sizeof(err), "delete"), 0);
	PQfinish(c);
}

/* Over TCP the cluster wants the password (scram-sha-256). */
static void the_password_comes_from_a_private_file(void **state)
{
	char url[256], file[512], err[256];
	const char *dir = getenv("CDE_PG_DIR");
	struct cde_pg_options o = { .url = url, .password_file = file };
	FILE *f;
	int port;
	PGconn *c;

	(void)state;
	assert_non_null(dir);
	snprintf(file, sizeof(file), "%s/port", dir);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &port), 1);
	fclose(f);
	snprintf(url, sizeof(url), "postgres://cdeventsd@127.0.0.1:%d/cdeventsd", port);
	snprintf(file, sizeof(file), "%s/password", dir);
	assert_int_equal(cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)), 0);
	PQfinish(c);
	/* Readable by others: refused before connecting. */
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "password_file"));
	assert_int_equal(chmod(file, 0600), 0);
	/* No password: the server refuses, and says so. */
	o.password_file = NULL;
	assert_int_equal(cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "connecting to the database"));
	/* A url libpq cannot read. */
	o.url = "postgres://[::1";
	assert_int_equal(cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "storage url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_database_gets_every_table_once),
		cmocka_unit_test(the_view_reads_an_event_as_jsonb),
		cmocka_unit_test(a_schema_1_database_gains_chain_via_null_on_its_rows),
		cmocka_unit_test(a_schema_2_database_gains_an_empty_retired_chains),
		cmocka_unit_test(a_schema_3_database_gains_an_empty_retired_artifacts),
		cmocka_unit_test(a_newer_database_is_refused),
		cmocka_unit_test(the_password_comes_from_a_private_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
