/* Two replicas' delivery engines on one PostgreSQL database (sinks/
 * delivery.c with delivery_lease.c): a sink is delivered by the replica
 * holding its lease, the other one says so in its status; rows another
 * replica commits are noticed without a kick (LISTEN cde_log); when the
 * holder stops, or its session dies, the sink is delivered again within
 * a few seconds from the stored cursor, skipping nothing. Runs against the throwaway cluster of
 * tests/pg/cluster; rows are written with SQL, as a journal would. */

#include "tests/unit/helpers.h"

#include "sinks/delivery.h"
#include "tests/unit/pg_rows.h"

static char dir[64];

/* A replica whose file sink "lake" (every event) writes to @file. */
static struct cde_delivery *replica(const char *file)
{
	static struct cde_sink_options sink = { .name = "lake", .type = "file", .max_attempts = 5 };
	static const unsigned to_lake[] = { 0 };
	struct cde_route_options route = { .n_sinks = 1, .sinks = to_lake, .filter = "" };
	struct cde_delivery_options opts = { .n_sinks = 1, .sinks = &sink, .n_routes = 1, .routes = &route };
	struct cde_store_location at = location();
	struct cde_delivery *d;
	char err[256];

	snprintf(sink.path, sizeof(sink.path), "%s/%s", dir, file);
	if (cde_delivery_new_at(&at, &opts, NULL, &d, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return d;
}

static void remove_dir(void)
{
	char p[128];

	for (const char *const *f = (const char *const[]){ "a.jsonl", "b.jsonl", NULL }; *f; f++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *f);
		unlink(p);
	}
	rmdir(dir);
}

/* The lines of @file, joined with spaces. */
static void lines_of(const char *file, char *out, size_t size)
{
	char path[128], line[256];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "", line);
	}
	fclose(f);
}

/* Waits up to @ms for @file to read @want: how long it took, or -1. */
static int64_t wait_lines(const char *file, const char *want, int64_t ms)
{
	int64_t start = now_ms();
	char got[1024];

	for (;;) {
		lines_of(file, got, sizeof(got));
		if (strcmp(got, want) == 0)
			return now_ms() - start;
		if (now_ms() - start > ms) {
			print_message("%s: \"%s\", not \"%s\"\n", file, got, want);
			return -1;
		}
		usleep(20 * 1000);
	}
}

/* Waits up to 3 s for @d's status to show @text. */
static bool status_shows(struct cde_delivery *d, const char *text)
{
	for (int64_t start = now_ms(); now_ms() - start < 3000; usleep(50 * 1000)) {
		char *status = cde_delivery_status_json(d);
		bool found = status && strstr(status, text);

		free(status);
		if (found)
			return true;
	}
	return false;
}

static void a_sink_goes_from_one_replica_to_the_other_skipping_nothing(void **state)
{
	struct cde_delivery *a, *b;
	int64_t took;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cde-dpg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	append(1, 2);	/* before the sink existed: not its business */
	a = replica("a.jsonl");
	b = replica("b.jsonl");
	assert_true(status_shows(a, "\"lease\":\"held\""));
	assert_true(status_shows(b, "\"lease\":\"other replica\""));

	/* Rows another replica commits and announces, with no kick here. */
	append(3, 5);
	sql("SELECT pg_notify('cde_log', '5')");
	took = wait_lines("a.jsonl", "{\"n\":3} {\"n\":4} {\"n\":5}", 3000);
	print_message("announced rows delivered after %lld ms\n", (long long)took);
	assert_true(took >= 0 && took < 1000);

	/* The holder stops (as when its replica dies, the session ends). */
	cde_delivery_free(a);
	append(6, 8);
	took = wait_lines("b.jsonl", "{\"n\":6} {\"n\":7} {\"n\":8}", 5000);
	print_message("taken over and delivered after %lld ms\n", (long long)took);
	assert_true(took >= 0);
	assert_true(status_shows(b, "\"lease\":\"held\""));
	assert_int_equal(wait_lines("a.jsonl", "{\"n\":3} {\"n\":4} {\"n\":5}", 0), 0);
	cde_delivery_free(b);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'lake'"), 8);
	assert_int_equal(number("SELECT count(*) FROM deliveries WHERE sink = 'lake'"), 6);
	remove_dir();
}

/* Whether row @n is among the lines of @file. */
static bool has_row(const char *file, unsigned n)
{
	char got[1024], want[32];

	lines_of(file, got, sizeof(got));
	snprintf(want, sizeof(want), "{\"n\":%u}", n);
	return strstr(got, want) != NULL;
}

static void when_the_holders_session_dies_the_sink_is_delivered_by_one_of_them(void **state)
{
	struct cde_delivery *a, *b;
	int64_t start;
	bool all = false;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cde-dpg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	a = replica("a.jsonl");
	b = replica("b.jsonl");
	assert_true(status_shows(a, "\"lease\":\"held\""));
	/* The server ends a's session (its host vanished; an operator). */
	sql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
	append(1, 3);
	sql("SELECT pg_notify('cde_log', '3')");
	/* Whoever takes the lease first (a reconnecting, or b), every row
	 * gets out, and one replica holds the sink. */
	for (start = now_ms(); !all && now_ms() - start < 5000; usleep(20 * 1000))
		all = (has_row("a.jsonl", 1) || has_row("b.jsonl", 1)) && (has_row("a.jsonl", 2) || has_row("b.jsonl", 2)) &&
		      (has_row("a.jsonl", 3) || has_row("b.jsonl", 3));
	print_message("rows out %lld ms after the holder's session ended\n", (long long)(now_ms() - start));
	assert_true(all);
	assert_true(status_shows(a, "\"lease\":\"held\"") != status_shows(b, "\"lease\":\"held\""));
	cde_delivery_free(a);
	cde_delivery_free(b);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'lake'"), 3);
	remove_dir();
}

static void a_restarted_database_holds_delivery_up_only_while_down(void **state)
{
	struct cde_delivery *a;
	int64_t took;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cde-dpg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	a = replica("a.jsonl");
	append(1, 2);
	sql("SELECT pg_notify('cde_log', '2')");
	assert_true(wait_lines("a.jsonl", "{\"n\":1} {\"n\":2}", 3000) >= 0);
	PQfinish(admin);
	cluster("stop");
	assert_true(status_shows(a, "\"lease\":\"database unreachable\""));
	cluster("restart");
	admin = PQconnectdb(getenv("CDE_PG_URL"));
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	assert_true(status_shows(a, "\"lease\":\"held\""));
	append(3, 4);
	took = wait_lines("a.jsonl", "{\"n\":1} {\"n\":2} {\"n\":3} {\"n\":4}", 5000);
	print_message("delivering again %lld ms after the lease came back\n", (long long)took);
	assert_true(took >= 0);
	cde_delivery_free(a);
	assert_int_equal(number("SELECT seq FROM sink_cursors WHERE sink = 'lake'"), 4);
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_sink_goes_from_one_replica_to_the_other_skipping_nothing, reset),
		cmocka_unit_test_setup(when_the_holders_session_dies_the_sink_is_delivered_by_one_of_them, reset),
		cmocka_unit_test_setup(a_restarted_database_holds_delivery_up_only_while_down, reset),
	};

	return cmocka_run_group_tests(tests, set_up, tear_down);
}
