/* The writer's WAL (issue 15): a thread of its own copies it back into
 * the database, the writer's commits only once it reaches its bound, so
 * it stays bounded; with sync full each commit's frames are written at
 * once (audit_vfs.h), and what other connections read, and what a reopen
 * finds, is what was committed. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_wal.h"
#include "sinks/audit/sql.h"

static struct cde_catalog *cat;
static char db_path[64], wal_path[80];
static unsigned next_id;

static int setup(void **state)
{
	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-wal-%d.db", (int)getpid());
	snprintf(wal_path, sizeof(wal_path), "%s-wal", db_path);
	return 0;
}

static struct cde_audit_store *open_store(enum cde_audit_sync sync, bool aside)
{
	struct cde_audit_store *s;
	char err[256];

	assert_int_equal(cde_audit_store_open(db_path, false, sync, &s, err, sizeof(err)), 0);
	if (aside)
		assert_int_equal(cde_audit_store_checkpoint_aside(s, err, sizeof(err)), 0);
	return s;
}

/* Appends one group of @n events, each its own batch as hooks are, or
 * (@one_batch) all in one. */
static void append(struct cde_audit_store *s, size_t n, bool one_batch)
{
	struct cde_journal_entry *e = calloc(n, sizeof(*e));
	char err[256], id[32];

	assert_non_null(e);
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "ev-%u", ++next_id);
		assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/ci",
					       id, &e[i].event), 0);
		assert_int_equal(cde_event_set_id(e[i].event, id), 0);
		assert_int_equal(cde_event_set_chain_id(e[i].event, "release-1"), 0);
		e[i].principal = "ci";
		e[i].peer = "127.0.0.1:4242";
		snprintf(e[i].received_at, sizeof(e[i].received_at), "2026-12-08T01:00:00.000000Z");
	}
	assert_int_equal(cde_audit_store_begin(s, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i += one_batch ? n : 1)
		assert_int_equal(cde_audit_store_add(s, e + i, one_batch ? n : 1, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_commit(s, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(e[i].seq, 0);
		cde_event_unref(e[i].event);
	}
	free(e);
}

/* The WAL's size in frames (a 4 KiB page and its 24-byte header each). */
static long long wal_frames(void)
{
	struct stat st;

	return stat(wal_path, &st) == 0 ? (long long)st.st_size / (4096 + 24) : 0;
}

static unsigned long long count(struct cde_audit_store *s, bool own)
{
	unsigned long long aside, by_writer;

	assert_true(cde_audit_store_wal_counts(s, &aside, &by_writer));
	return own ? by_writer : aside;
}

/* The thread's checkpoint runs after the writer's commit wakes it:
 * waits for it, appending nothing meanwhile (10 s at most). */
static void wait_for_aside(struct cde_audit_store *s, unsigned long long at_least)
{
	for (int i = 0; i < 10000 && count(s, false) < at_least; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	assert_true(count(s, false) >= at_least);
}

/* A new store whose WAL has passed CDE_AUDIT_WAL_ASIDE and been copied
 * back once by the thread. */
static struct cde_audit_store *new_store_checkpointed_aside(void)
{
	struct cde_audit_store *s;

	remove_store(db_path);
	s = open_store(CDE_AUDIT_SYNC_NORMAL, true);
	while (wal_frames() < CDE_AUDIT_WAL_ASIDE + 100)
		append(s, 10, false);
	wait_for_aside(s, 1);
	return s;
}

static void the_thread_copies_the_wal_and_the_commits_do_not_below_the_bound(void **state)
{
	struct cde_audit_store *s;

	(void)state;
	s = new_store_checkpointed_aside();
	assert_int_equal(count(s, true), 0);
	cde_audit_store_close(s);
	remove_store(db_path);
}

static void the_wal_stays_bounded_under_steady_appends(void **state)
{
	struct cde_audit_store *s;
	long long most;

	(void)state;
	remove_store(db_path);
	s = open_store(CDE_AUDIT_SYNC_NORMAL, true);
	while (count(s, true) == 0) {
		append(s, 10, false);
		assert_true(wal_frames() < CDE_AUDIT_WAL_BOUND + 200);
	}
	/* The WAL starts over each time: twice the bound's worth of frames
	 * more, and its file is no larger. */
	most = wal_frames();
	for (int i = 0; i < 1200; i++)
		append(s, 10, false);
	assert_true(count(s, true) >= 2);
	assert_true(wal_frames() <= most + 200);
	assert_true(count(s, false) >= 1);
	cde_audit_store_close(s);
	remove_store(db_path);
}

/* The WAL can start over at another connection's commit (the delivery
 * store's) and grow past the size at the thread's last wake-up before
 * the writer commits again: that is a WAL of more than
 * CDE_AUDIT_WAL_ASIDE new pages, and the thread is woken. */
static void a_wal_another_connection_started_over_wakes_the_thread(void **state)
{
	struct cde_audit_store *s;
	sqlite3 *other;
	char sql[256];

	(void)state;
	s = new_store_checkpointed_aside();

	assert_int_equal(sqlite3_open_v2(db_path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "PRAGMA wal_autocheckpoint=0; CREATE TABLE scratch(x BLOB)", NULL, NULL,
				      NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		 " INSERT INTO scratch SELECT randomblob(3000) FROM n", CDE_AUDIT_WAL_ASIDE + 300);
	assert_int_equal(sqlite3_exec(other, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	/* Started over (the thread had copied it all), and larger. */
	assert_true(wal_frames() > CDE_AUDIT_WAL_ASIDE + 200);

	append(s, 1, false);
	wait_for_aside(s, 2);
	cde_audit_store_close(s);
	remove_store(db_path);
}

/* Without the thread (it could not start) the writer keeps SQLite's own
 * checkpoints, and the WAL stays at about CDE_AUDIT_WAL_ASIDE pages. */
static void a_thread_that_cannot_start_leaves_sqlite_s_checkpoints(void **state)
{
	struct cde_audit_store *s;
	struct cde_audit_wal *w = NULL;
	char err[256] = "";

	(void)state;
	remove_store(db_path);
	s = open_store(CDE_AUDIT_SYNC_NORMAL, false);
	assert_true(cde_audit_wal_start(cde_audit_store_db(s), "/nonexistent/audit.db", &w, err, sizeof(err)) < 0);
	assert_null(w);
	assert_non_null(strstr(err, "/nonexistent/audit.db"));
	for (int i = 0; i < 600; i++) {
		append(s, 10, false);
		assert_true(wal_frames() < CDE_AUDIT_WAL_ASIDE + 200);
	}
	cde_audit_store_close(s);
	remove_store(db_path);
}

static long long rows_seen(sqlite3 *db)
{
	sqlite3_stmt *st;
	long long n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* With sync full every commit's frames are gathered into one write (more
 * than 31 frames into several): another connection, on the default VFS,
 * reads each commit whole, and the log verifies, also reopened. */
static void commits_written_at_once_read_back_whole(void **state)
{
	struct cde_audit_store *s;
	struct cde_audit_verify v;
	sqlite3 *reader;
	long long rows = 0;

	(void)state;
	remove_store(db_path);
	s = open_store(CDE_AUDIT_SYNC_FULL, true);
	assert_int_equal(sqlite3_open_v2(db_path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (int i = 0; i < 200; i++) {
		size_t n = i % 50 == 0 ? 300 : 1 + (size_t)i % 20;

		append(s, n, i % 2 == 0);
		rows += (long long)n;
		assert_int_equal(rows_seen(reader), rows);
	}
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.rows, rows);
	sqlite3_close(reader);
	cde_audit_store_close(s);
	/* The last connection copied the WAL back and removed it. */
	assert_int_equal(access(wal_path, F_OK), -1);

	s = open_store(CDE_AUDIT_SYNC_FULL, false);
	assert_int_equal(cde_audit_store_head(s), rows);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check = 'ok'", NULL, 0), 1);
	cde_audit_store_close(s);
	remove_store(db_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_thread_copies_the_wal_and_the_commits_do_not_below_the_bound),
		cmocka_unit_test(the_wal_stays_bounded_under_steady_appends),
		cmocka_unit_test(a_wal_another_connection_started_over_wakes_the_thread),
		cmocka_unit_test(a_thread_that_cannot_start_leaves_sqlite_s_checkpoints),
		cmocka_unit_test(commits_written_at_once_read_back_whole),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, setup, NULL);
	cde_catalog_free(cat);
	return r;
}
