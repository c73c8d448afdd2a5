/* What the delivery engine writes to the audit database
 * (sinks/delivery_store.c): delivery records and cursors are queued and
 * land together at a flush, so another connection (retention, a restart)
 * never sees a cursor past a delivery it has no record of; a full queue
 * and closing flush by themselves; a sink seen for the first time has its
 * cursor at the head at once. Rows of the log are read a batch at a time
 * and kept for the scans they cover, in order, and read again for what
 * they do not (before them, or past their last row). With the journal's
 * checkpoint thread, a flush leaves the WAL's checkpoints to it. */

#include "tests/unit/helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/sql.h"
#include "sinks/audit/store_location.h"
#include "sinks/delivery_store.h"

static char dir[64], db_path[96];

/* A fresh audit database, and the engine's handle on it. */
static struct cde_delivery_store *open_fresh(struct cde_audit_store **ret_audit)
{
	struct cde_delivery_store *ds;
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/cde-dstore-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, ret_audit, err, sizeof(err)), 0);
	assert_int_equal(cde_delivery_store_open(db_path, &ds, err, sizeof(err)), 0);
	return ds;
}

static void remove_dir(void)
{
	static const char *const files[] = { "audit.db", "audit.db-wal", "audit.db-shm", "audit.db-head" };
	char p[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* As another connection sees them. */
static int64_t cursor_of(struct cde_audit_store *a, const char *sink)
{
	return cde_sql_int(cde_audit_store_db(a), "SELECT seq FROM sink_cursors WHERE sink = ?", sink, -1);
}

static int64_t deliveries_of(struct cde_audit_store *a, const char *sink)
{
	return cde_sql_int(cde_audit_store_db(a), "SELECT count(*) FROM deliveries WHERE sink = ?", sink, -1);
}

static void records_and_cursors_wait_for_the_flush_and_land_together(void **state)
{
	struct cde_audit_store *a;
	struct cde_delivery_store *ds = open_fresh(&a);
	uint64_t cursor;

	assert_int_equal(cde_delivery_store_cursor(ds, "hook", &cursor), 0);
	assert_int_equal(cursor, 0);
	assert_false(cde_delivery_store_dirty(ds));
	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 1, 200, NULL), 0);
	assert_int_equal(cde_delivery_store_delivered(ds, "tekton", 1, 202, "el-event-1"), 0);
	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 2, 204, ""), 0);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 1), 0);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 2), 0);
	assert_true(cde_delivery_store_dirty(ds));
	assert_int_equal(cursor_of(a, "hook"), 0);
	assert_int_equal(deliveries_of(a, "hook"), 0);

	assert_int_equal(cde_delivery_store_flush(ds), 0);
	assert_false(cde_delivery_store_dirty(ds));
	assert_int_equal(cursor_of(a, "hook"), 2);
	assert_int_equal(deliveries_of(a, "hook"), 2);
	assert_int_equal(cde_sql_int(cde_audit_store_db(a),
				     "SELECT count(*) FROM deliveries WHERE sink = 'tekton' AND receipt = 'el-event-1'"
				     " AND status = 202", NULL, -1), 1);
	assert_int_equal(cde_sql_int(cde_audit_store_db(a),
				     "SELECT count(*) FROM deliveries WHERE sink = 'hook' AND receipt IS NULL", NULL, -1),
			 2);
	/* Nothing queued: nothing written. */
	assert_int_equal(cde_delivery_store_flush(ds), 0);

	cde_delivery_store_close(ds);
	cde_audit_store_close(a);
	remove_dir();
}

static void a_full_queue_and_closing_flush_by_themselves(void **state)
{
	struct cde_audit_store *a;
	struct cde_delivery_store *ds = open_fresh(&a);
	int64_t written;

	for (uint64_t seq = 1; seq <= 1000; seq++)
		assert_int_equal(cde_delivery_store_delivered(ds, "hook", seq, 200, NULL), 0);
	written = deliveries_of(a, "hook");
	assert_true(written >= 1000 - 256 && written < 1000);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 1000), 0);
	cde_delivery_store_close(ds);
	assert_int_equal(deliveries_of(a, "hook"), 1000);
	assert_int_equal(cursor_of(a, "hook"), 1000);

	cde_audit_store_close(a);
	remove_dir();
}

static void a_replay_settled_takes_what_is_queued_with_it(void **state)
{
	struct cde_audit_store *a;
	struct cde_delivery_store *ds = open_fresh(&a);

	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 7, 200, NULL), 0);
	assert_int_equal(cde_delivery_store_replay_done(ds, "hook", 7), 0);
	assert_false(cde_delivery_store_dirty(ds));
	assert_int_equal(deliveries_of(a, "hook"), 1);

	cde_delivery_store_close(ds);
	cde_audit_store_close(a);
	remove_dir();
}

/* Appends events @from to @to (their ids), which become seqs @from to @to
 * of a fresh log. */
static void append_events(struct cde_audit_store *a, int from, int to)
{
	char err[256], id[16];

	for (int i = from; i <= to; i++) {
		struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1:1" };

		snprintf(id, sizeof(id), "ev-%d", i);
		assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.finished.0.3.0", "/ci", id,
					       &e.event), 0);
		assert_int_equal(cde_event_set_id(e.event, id), 0);
		snprintf(e.received_at, sizeof(e.received_at), "2025-01-01T12:00:00.000000Z");
		assert_int_equal(cde_audit_store_append(a, &e, 1, err, sizeof(err)), 0);
		assert_int_equal(e.seq, (uint64_t)i);
		cde_event_unref(e.event);
	}
}

/* What a scan gave: the seqs in order, and where to stop. */
struct seen {
	uint64_t seqs[128];
	unsigned n, stop_after;	/* 0: never stop */
};

static bool on_row(void *ctx, uint64_t seq, const char *event, const char *received_at)
{
	struct seen *w = ctx;
	char id[24];

	snprintf(id, sizeof(id), "\"ev-%llu\"", (unsigned long long)seq);
	assert_non_null(strstr(event, id));
	assert_string_equal(received_at, "2025-01-01T12:00:00.000000Z");
	w->seqs[w->n++] = seq;
	return w->n != w->stop_after;
}

/* Scans after @after for up to @limit rows, stopping after @stop_after
 * (0: never); checks that seqs @after + 1 to @last came, and the reads. */
static void scan_expect(struct cde_delivery_store *ds, uint64_t after, unsigned limit, unsigned stop_after,
			uint64_t last, unsigned long long reads)
{
	struct seen w = { .stop_after = stop_after };

	assert_int_equal(cde_delivery_store_scan(ds, after, limit, on_row, &w), 0);
	assert_int_equal(w.n, last - after);
	for (unsigned i = 0; i < w.n; i++)
		assert_int_equal(w.seqs[i], after + 1 + i);
	assert_int_equal(cde_delivery_store_reads(ds), reads);
}

static void rows_are_read_a_batch_at_a_time_and_kept_for_the_scans_they_cover(void **state)
{
	struct cde_audit_store *a;
	struct cde_delivery_store *ds = open_fresh(&a);

	append_events(a, 1, 100);
	scan_expect(ds, 0, 5, 0, 5, 1);
	scan_expect(ds, 5, 5, 0, 10, 1);
	scan_expect(ds, 10, 64, 3, 13, 1);
	/* Up to the last row read, then a read for what follows. */
	scan_expect(ds, 13, 64, 0, 64, 1);
	scan_expect(ds, 64, 64, 0, 100, 2);
	/* Rows committed since: within what was read, it serves; past its
	 * last row, the log is read again and they come. */
	append_events(a, 101, 110);
	scan_expect(ds, 90, 64, 0, 100, 2);
	scan_expect(ds, 100, 64, 0, 110, 3);
	scan_expect(ds, 110, 64, 0, 110, 4);
	/* Back before what was read (a sink resynchronised): read again. */
	scan_expect(ds, 2, 4, 0, 6, 5);

	cde_delivery_store_close(ds);
	cde_audit_store_close(a);
	remove_dir();
}

static long long db_file_size(void)
{
	struct stat st;

	assert_int_equal(stat(db_path, &st), 0);
	return (long long)st.st_size;
}

/* A WAL of more than SQLite's 1,000 pages, then a flush: without the
 * journal's checkpoint thread the flush's commit copies the WAL into the
 * database file (SQLite's own checkpoint); with it, it does not below
 * the WAL's bound (CDE_AUDIT_WAL_BOUND). */
static void with_the_checkpoint_thread_a_flush_checkpoints_nothing(void **state)
{
	(void)state;
	for (int aside = 0; aside < 2; aside++) {
		struct cde_store_location at = { .sqlite_checkpoints_aside = aside };
		struct cde_audit_store *a;
		struct cde_delivery_store *ds = open_fresh(&a);
		long long before;
		char err[256];

		cde_delivery_store_close(ds);
		at.sqlite_path = db_path;
		assert_int_equal(cde_delivery_store_open_at(&at, &ds, err, sizeof(err)), 0);
		assert_int_equal(sqlite3_exec(cde_audit_store_db(a), "PRAGMA wal_autocheckpoint=0;"
					      " CREATE TABLE scratch(x BLOB); WITH RECURSIVE n(i) AS (SELECT 1"
					      " UNION ALL SELECT i + 1 FROM n WHERE i < 1100)"
					      " INSERT INTO scratch SELECT randomblob(3000) FROM n", NULL, NULL, NULL),
				 SQLITE_OK);
		before = db_file_size();
		assert_int_equal(cde_delivery_store_delivered(ds, "hook", 1, 200, NULL), 0);
		assert_int_equal(cde_delivery_store_flush(ds), 0);
		if (aside)
			assert_int_equal(db_file_size(), before);
		else
			assert_true(db_file_size() > before + 1000 * 4096);
		cde_delivery_store_close(ds);
		cde_audit_store_close(a);
		remove_dir();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_and_cursors_wait_for_the_flush_and_land_together),
		cmocka_unit_test(a_full_queue_and_closing_flush_by_themselves),
		cmocka_unit_test(a_replay_settled_takes_what_is_queued_with_it),
		cmocka_unit_test(rows_are_read_a_batch_at_a_time_and_kept_for_the_scans_they_cover),
		cmocka_unit_test(with_the_checkpoint_thread_a_flush_checkpoints_nothing),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
