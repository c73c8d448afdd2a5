/* The gathering VFS (audit_vfs.h): a connection with synchronous=FULL
 * through it writes each commit's WAL frames with one call, and whatever
 * it gathered is in the file before it lets go of the WAL's write lock,
 * so another connection's commits are never written over, a rolled-back
 * transaction's frames included. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <sqlite3.h>
#include <unistd.h>

#include "sinks/audit/audit_vfs.h"
#include "sinks/audit/sql.h"

static char db_path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-vfs-%d.db", (int)getpid());
	remove_store(db_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_store(db_path);
	return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *e = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &e);

	if (rc != SQLITE_OK)
		print_message("%s: %s\n", sql, e);
	sqlite3_free(e);
	assert_int_equal(rc, SQLITE_OK);
}

/* The writer's connection as the audit store opens it: through the
 * gathering VFS, WAL, synchronous=FULL, no checkpoints of its own. */
static sqlite3 *open_gathering(void)
{
	const char *vfs = cde_audit_vfs_gathering();
	sqlite3 *db;

	assert_non_null(vfs);
	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0");
	return db;
}

/* Another connection in the process (the delivery store's) or another
 * process (cdevctl dlq): the default VFS. */
static sqlite3 *open_other(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	exec_ok(db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0");
	return db;
}

static void a_commit_s_frames_are_gathered(void **state)
{
	sqlite3 *db, *other;
	unsigned long long before;

	(void)state;
	db = open_gathering();
	exec_ok(db, "CREATE TABLE t(x BLOB)");
	before = cde_audit_vfs_gathered();
	/* Ten pages and more: SQLite writes each frame as two calls. */
	exec_ok(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)"
		    " INSERT INTO t SELECT randomblob(3000) FROM n");
	assert_true(cde_audit_vfs_gathered() >= before + 20);

	/* What was committed is what the others read. */
	other = open_other();
	assert_int_equal(cde_sql_int(other, "SELECT count(*) FROM t WHERE length(x) = 3000", NULL, 0), 10);
	sqlite3_close(other);
	sqlite3_close(db);
}

/* The others write as SQLite does. */
static void a_connection_on_the_default_vfs_gathers_nothing(void **state)
{
	sqlite3 *other;
	unsigned long long before;

	(void)state;
	other = open_other();
	exec_ok(other, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(x BLOB)");
	before = cde_audit_vfs_gathered();
	exec_ok(other, "INSERT INTO t VALUES (randomblob(3000))");
	assert_int_equal(cde_audit_vfs_gathered(), before);
	sqlite3_close(other);
}

/* A transaction bigger than the page cache spills frames to the WAL
 * before its COMMIT; it is rolled back (the writer's group failed), and
 * another connection commits frames where they were. The writer's next
 * commit must not write the spilled frames back over them. */
static void a_rolled_back_spill_is_not_written_over_another_connection_s_commits(void **state)
{
	sqlite3 *db, *other;

	(void)state;
	db = open_gathering();
	exec_ok(db, "CREATE TABLE t(x BLOB); CREATE TABLE d(k INTEGER PRIMARY KEY, v TEXT);"
		    " INSERT INTO d(v) VALUES ('before')");
	exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size=10");
	other = open_other();

	exec_ok(db, "BEGIN IMMEDIATE");
	exec_ok(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)"
		    " INSERT INTO t SELECT randomblob(3000) FROM n");
	exec_ok(db, "ROLLBACK");

	for (int i = 0; i < 5; i++)
		exec_ok(other, "INSERT INTO d(v) SELECT 'committed by the other ' || hex(randomblob(1500))");
	exec_ok(db, "INSERT INTO t VALUES (randomblob(100))");

	assert_int_equal(cde_sql_int(other, "SELECT count(*) FROM d", NULL, 0), 6);
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'",
				     NULL, 0), 1);
	sqlite3_close(other);
	sqlite3_close(db);

	/* And what a reopen recovers from the WAL. */
	other = open_other();
	assert_int_equal(cde_sql_int(other, "SELECT count(*) FROM d", NULL, 0), 6);
	assert_int_equal(cde_sql_int(other, "SELECT count(*) FROM t", NULL, 0), 1);
	assert_int_equal(cde_sql_int(other, "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check = 'ok'", NULL, 0), 1);
	sqlite3_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_commit_s_frames_are_gathered, setup, teardown),
		cmocka_unit_test_setup_teardown(a_connection_on_the_default_vfs_gathers_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_rolled_back_spill_is_not_written_over_another_connection_s_commits,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
