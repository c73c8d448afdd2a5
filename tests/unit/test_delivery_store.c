/* What the delivery engine writes to the audit database
 * (sinks/delivery_store.c): delivery records and cursors are queued and
 * land together at a flush, so another connection (retention, a restart)
 * never sees a cursor past a delivery it has no record of; a full queue
 * and closing flush by themselves; a sink seen for the first time has its
 * cursor at the head at once. */

#include "tests/unit/helpers.h"

#include <unistd.h>

#include "sinks/audit/audit_store.h"
#include "sinks/audit/sql.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_and_cursors_wait_for_the_flush_and_land_together),
		cmocka_unit_test(a_full_queue_and_closing_flush_by_themselves),
		cmocka_unit_test(a_replay_settled_takes_what_is_queued_with_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
