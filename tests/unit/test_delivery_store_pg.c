/* The delivery store on PostgreSQL (sinks/delivery_store_pg.c), which
 * several replicas share: cursors, delivery records, dead letters,
 * replays and witness cursors round-trip as on SQLite; a sink's lease is
 * held by one handle at a time and passes to another within a second of
 * the holder's end; rows committed elsewhere are announced on the
 * handle's socket; a restarted database is connected to again, with what
 * was queued meanwhile written then. Runs against the throwaway cluster
 * of tests/pg/cluster (CDE_PG_URL, CDE_PG_DIR, CDE_PG_CLUSTER); the rows
 * of the log are written here with SQL, as a journal would. */

#include "tests/unit/helpers.h"

#include <poll.h>

#include "sinks/delivery_store.h"
#include "tests/unit/pg_rows.h"

static struct cde_delivery_store *open_store(void)
{
	struct cde_store_location at = location();
	struct cde_delivery_store *ds;
	char err[256];

	if (cde_delivery_store_open_at(&at, &ds, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return ds;
}

static bool collect(void *ctx, uint64_t seq, const char *event, const char *received_at)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%llu:%s@%s ", (unsigned long long)seq, event, received_at);
	return true;
}

static void records_and_cursors_land_together_at_the_flush(void **state)
{
	struct cde_delivery_store *ds;
	char seen[256] = "", at[32];
	uint64_t cursor;

	(void)state;
	append(1, 3);
	ds = open_store();
	/* A sink seen for the first time starts at the head. */
	assert_int_equal(cde_delivery_store_cursor(ds, "hook", &cursor), 0);
	assert_int_equal(cursor, 3);
	assert_int_equal(cde_delivery_store_head(ds), 3);
	append(4, 5);
	assert_int_equal(cde_delivery_store_scan(ds, 3, 10, collect, seen), 0);
	assert_string_equal(seen, "4:{\"n\":4}@2026-12-07T10:00:04Z 5:{\"n\":5}@2026-12-07T10:00:05Z ");
	cde_delivery_store_received_at(ds, 5, at, sizeof(at));
	assert_string_equal(at, "2026-12-07T10:00:05Z");

	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 4, 200, NULL), 0);
	assert_int_equal(cde_delivery_store_delivered(ds, "tekton", 4, 202, "el-event-4"), 0);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 4), 0);
	assert_int_equal(number("SELECT count(*) FROM deliveries"), 0);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'hook'"), 3);
	assert_int_equal(cde_delivery_store_flush(ds), 0);
	assert_false(cde_delivery_store_dirty(ds));
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'hook'"), 4);
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'hook' AND receipt IS NULL"
				" AND status = 200"), 1);
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'tekton' AND receipt = 'el-event-4'"),
			 1);
	/* A delivery sent again (at least once) is one record. */
	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 4, 204, NULL), 0);
	assert_int_equal(cde_delivery_store_flush(ds), 0);
	assert_int_equal(number("SELECT status FROM deliveries WHERE sink = 'hook' AND seq = 4"), 204);
	/* Cursors only move forward: a replica that lost the lease writing
	 * its older one later does not move the sink back. */
	sql("UPDATE sink_cursors SET seq = 5 WHERE sink = 'hook'");
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 4), 0);
	assert_int_equal(cde_delivery_store_flush(ds), 0);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'hook'"), 5);
	assert_int_equal(cde_delivery_store_cursor(ds, "hook", &cursor), 0);
	assert_int_equal(cursor, 5);

	/* Sinks no longer configured let go of their cursors. */
	assert_int_equal(cde_delivery_store_cursor(ds, "old", &cursor), 0);
	assert_int_equal(cde_delivery_store_forget_others(ds, (const char *const[]){ "hook", "tekton" }, 2), 0);
	assert_int_equal(number("SELECT count(*) FROM sink_cursors WHERE sink = 'old'"), 0);
	assert_int_equal(number("SELECT count(*) FROM sink_cursors WHERE sink = 'hook'"), 1);
	cde_delivery_store_close(ds);
}

static void a_full_queue_and_closing_flush_by_themselves(void **state)
{
	struct cde_delivery_store *ds = open_store();
	int64_t start = now_ms(), written;

	(void)state;
	for (uint64_t seq = 1; seq <= 1000; seq++)
		assert_int_equal(cde_delivery_store_delivered(ds, "hook", seq, 200, NULL), 0);
	written = number("SELECT count(*) FROM deliveries WHERE sink = 'hook'");
	assert_true(written >= 1000 - 256 && written < 1000);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 1000), 0);
	cde_delivery_store_close(ds);
	print_message("1000 delivery records written in %lld ms\n", (long long)(now_ms() - start));
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'hook'"), 1000);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'hook'"), 1000);
}

static void dead_letters_and_replays_round_trip(void **state)
{
	struct cde_delivery_store *ds;
	uint64_t seqs[8];
	size_t n;
	char *json = NULL;

	(void)state;
	append(1, 3);
	ds = open_store();
	assert_int_equal(cde_delivery_store_dead(ds, "hook", 2, 5, "gave up after 5 attempts: 503"), 0);
	assert_int_equal(cde_delivery_store_dead(ds, "hook", 3, 1, "refused: 400"), 0);
	assert_int_equal(cde_delivery_store_dead_count(ds, "hook"), 2);
	assert_int_equal(cde_delivery_store_dead_count(ds, "other"), 0);
	assert_int_equal(number("SELECT attempts FROM dead_letters WHERE sink = 'hook' AND seq = 2"), 5);

	/* cdevctl dlq replay moves them to replays. */
	sql("INSERT INTO replays(sink, seq) VALUES ('hook', 3), ('hook', 2)");
	assert_int_equal(cde_delivery_store_replays(ds, "hook", 8, seqs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(cde_delivery_store_event(ds, 2, &json), 0);
	assert_string_equal(json, "{\"n\":2}");
	free(json);
	assert_int_equal(cde_delivery_store_event(ds, 99, &json), -ENOENT);

	/* Settled: its delivery record goes first. */
	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 2, 200, NULL), 0);
	assert_int_equal(cde_delivery_store_replay_done(ds, "hook", 2), 0);
	assert_false(cde_delivery_store_dirty(ds));
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'hook' AND seq = 2"), 1);
	assert_int_equal(cde_delivery_store_replays(ds, "hook", 8, seqs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 3);
	cde_delivery_store_close(ds);
}

static void witnesses_start_at_the_latest_checkpoint(void **state)
{
	struct cde_delivery_store *ds;
	uint64_t size;
	char *note = NULL;

	(void)state;
	ds = open_store();
	assert_int_equal(cde_delivery_store_checkpoint_after(ds, 0, &size, &note), -ENOENT);
	sql("INSERT INTO tree_checkpoints(size, root, note, at) VALUES (4, '\\x00', 'note 4', 't'),"
	    " (9, '\\x00', 'note 9', 't')");
	assert_int_equal(cde_delivery_store_witness_cursor(ds, "lake", &size), 0);
	assert_int_equal(size, 8);
	assert_int_equal(cde_delivery_store_checkpoint_after(ds, size, &size, &note), 0);
	assert_int_equal(size, 9);
	assert_string_equal(note, "note 9");
	free(note);
	assert_int_equal(cde_delivery_store_set_witness_cursor(ds, "lake", 9), 0);
	assert_int_equal(cde_delivery_store_set_witness_cursor(ds, "lake", 4), 0);
	assert_int_equal(cde_delivery_store_witness_cursor(ds, "lake", &size), 0);
	assert_int_equal(size, 9);
	cde_delivery_store_close(ds);
}

static bool leased(struct cde_delivery_store *ds, const char *sink)
{
	bool held = true;

	assert_int_equal(cde_delivery_store_lease(ds, sink, &held), 0);
	return held;
}

/* Asks for @sink's lease every 50 ms, as long as @ms allows: how long it
 * took to get it, or -1. */
static int64_t wait_lease(struct cde_delivery_store *ds, const char *sink, int64_t ms)
{
	int64_t start = now_ms();
	bool held = false;

	while (now_ms() - start <= ms) {
		if (cde_delivery_store_check(ds) == 0 && cde_delivery_store_lease(ds, sink, &held) == 0 && held)
			return now_ms() - start;
		usleep(50 * 1000);
	}
	return -1;
}

static void one_replica_holds_a_sink_and_another_takes_over_when_it_ends(void **state)
{
	struct cde_delivery_store *a = open_store(), *b = open_store();
	int64_t took;

	(void)state;
	assert_true(leased(a, "hook"));
	assert_true(leased(a, "hook"));		/* asked again: still this one's */
	assert_false(leased(b, "hook"));
	assert_true(leased(b, "tekton"));	/* sinks are shared out one by one */
	assert_false(leased(a, "tekton"));
	/* The holder closes (or its replica dies): the lease is free at once. */
	cde_delivery_store_close(a);
	took = wait_lease(b, "hook", 1000);
	print_message("lease taken over after %lld ms\n", (long long)took);
	assert_true(took >= 0 && took <= 1000);
	/* Asked for again and again, a lease is held once: one unlock frees it. */
	assert_int_equal(number("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"), 2);
	cde_delivery_store_close(b);
}

static void a_replica_whose_session_is_killed_loses_its_leases(void **state)
{
	struct cde_delivery_store *a = open_store(), *b = open_store();
	int64_t took;

	(void)state;
	assert_true(leased(a, "hook"));
	assert_false(leased(b, "hook"));
	/* As when its host vanishes and the server notices: the session ends. */
	sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdeventsd delivery'"
	    " AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
	took = wait_lease(b, "hook", 1000);
	assert_true(took >= 0);
	/* a reconnects, but the sink is b's now. */
	assert_int_equal(wait_lease(a, "other", 5000) >= 0, true);
	assert_false(leased(a, "hook"));
	cde_delivery_store_close(a);
	cde_delivery_store_close(b);
}

struct watched {
	int fd, lost;
};

static void on_socket(void *ctx, int fd)
{
	struct watched *w = ctx;

	if (fd < 0)
		w->lost++;
	w->fd = fd;
}

static void rows_committed_elsewhere_are_announced(void **state)
{
	struct cde_delivery_store *ds = open_store();
	struct watched w = { .fd = -1 };
	struct pollfd p;

	(void)state;
	cde_delivery_store_watch(ds, on_socket, &w);
	assert_true(w.fd >= 0);
	cde_delivery_store_news(ds);	/* a new handle may say so once */
	assert_false(cde_delivery_store_news(ds));
	/* Another replica's journal commits a row. */
	append(1, 1);
	sql("SELECT pg_notify('cde_log', '1')");
	p = (struct pollfd){ .fd = w.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(cde_delivery_store_news(ds));
	assert_false(cde_delivery_store_news(ds));
	cde_delivery_store_close(ds);
}

static void a_restarted_database_is_connected_to_again(void **state)
{
	struct cde_delivery_store *ds = open_store();
	struct watched w = { .fd = -1 };
	uint64_t cursor;
	int64_t start, took;

	(void)state;
	append(1, 2);
	cde_delivery_store_watch(ds, on_socket, &w);
	assert_int_equal(cde_delivery_store_cursor(ds, "hook", &cursor), 0);
	assert_true(leased(ds, "hook"));
	PQfinish(admin);
	cluster("stop");

	/* Down: what is queued stays queued, and no lease is held. */
	assert_int_equal(cde_delivery_store_delivered(ds, "hook", 3, 200, NULL), 0);
	assert_int_equal(cde_delivery_store_set_cursor(ds, "hook", 3), 0);
	assert_int_equal(cde_delivery_store_flush(ds), -EIO);
	assert_true(cde_delivery_store_dirty(ds));
	assert_int_equal(cde_delivery_store_check(ds), -EIO);
	assert_int_equal(w.lost, 1);
	assert_int_equal(w.fd, -1);

	cluster("restart");
	start = now_ms();
	took = wait_lease(ds, "hook", 5000);
	print_message("reconnected and leased after %lld ms\n", (long long)(now_ms() - start));
	assert_true(took >= 0);
	assert_true(w.fd >= 0);
	assert_true(cde_delivery_store_news(ds));	/* rows may have come meanwhile */
	assert_int_equal(cde_delivery_store_flush(ds), 0);
	admin = PQconnectdb(getenv("CDE_PG_URL"));
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'hook'"), 3);
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'hook' AND seq = 3"), 1);
	cde_delivery_store_close(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(records_and_cursors_land_together_at_the_flush, reset),
		cmocka_unit_test_setup(a_full_queue_and_closing_flush_by_themselves, reset),
		cmocka_unit_test_setup(dead_letters_and_replays_round_trip, reset),
		cmocka_unit_test_setup(witnesses_start_at_the_latest_checkpoint, reset),
		cmocka_unit_test_setup(one_replica_holds_a_sink_and_another_takes_over_when_it_ends, reset),
		cmocka_unit_test_setup(a_replica_whose_session_is_killed_loses_its_leases, reset),
		cmocka_unit_test_setup(rows_committed_elsewhere_are_announced, reset),
		cmocka_unit_test_setup(a_restarted_database_is_connected_to_again, reset),
	};

	return cmocka_run_group_tests(tests, set_up, tear_down);
}
