/* Queries of the audit log on PostgreSQL answer exactly as on audit.db:
 * the same rows, in the same order, as the same JSON, for every filter
 * of GET /v1/events (the cases of tests/js/integration/query.mjs), for a
 * lookup by id with its deliveries, and through the reader thread, which
 * also outlives a restart of the database and says 503 while it is down.
 * The same rows are inserted by SQL into both stores; runs against the
 * throwaway cluster of tests/pg/cluster (CDE_PG_URL, CDE_PG_DIR). */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <event2/event.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "sinks/audit/audit_reader.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_query.h"
#include "sinks/audit/pg/pg_schema.h"

#define N 420

static PGconn *pg;
static struct cde_audit_store *lite;
static char db_path[64];

static const char *const types[] = { "dev.cdevents.build.started.0.3.0", "dev.cdevents.artifact.published.0.3.0",
				     "dev.cdevents.service.deployed.0.3.0" };
static const char *const envs[] = { "dev", "staging", "prod" };

/* Row @i of the model, as text: seq, id, source, type, subject, chain_id,
 * artifact_id, timestamp, received_at, spec_version, principal, peer,
 * event, prev_hash, hash. */
struct row {
	char seq[16], id[16], source[8], subject[32], chain[16], artifact[32], received[32], event[1024];
	const char *type, *artifact_or_null, *v[15];
};

static void model(int i, struct row *r)
{
	int kind = i % 3;
	time_t t = 1796637600 + (time_t)i * 420;	/* 2026-12-07T10:00:00Z, every 7 minutes */
	char when[24];

	memset(r, 0, sizeof(*r));
	snprintf(r->seq, sizeof(r->seq), "%d", i + 1);
	snprintf(r->id, sizeof(r->id), "e-%d", i);
	snprintf(r->source, sizeof(r->source), "/ci/%d", i % 4);
	snprintf(r->artifact, sizeof(r->artifact), "pkg:oci/etl@%d", i % 25);
	snprintf(r->chain, sizeof(r->chain), "rel-%d", i / 20);
	if (kind == 1)
		snprintf(r->subject, sizeof(r->subject), "%s", r->artifact);
	else
		snprintf(r->subject, sizeof(r->subject), "svc-%d", i % 10);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime(&t));
	snprintf(r->received, sizeof(r->received), "%s.%06dZ", when, i % 5 * 123457);
	/* Two versions of service.deployed in the log. */
	r->type = kind == 2 && i % 37 == 2 ? "dev.cdevents.service.deployed.0.2.0" : types[kind];
	r->artifact_or_null = kind == 0 ? NULL : r->artifact;
	/* As a producer sent it: spaces and key order kept byte for byte. */
	snprintf(r->event, sizeof(r->event),
		 "{\"context\": {\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"%s\",\"type\":\"%s\","
		 "\"timestamp\":\"%s.5Z\",\"chainId\":\"%s\"},\"subject\":{\"id\":\"%s\",\"content\":{%s%s%s%s%s}}}",
		 r->id, r->source, r->type, when, r->chain, r->subject, kind == 2 ? "\"environment\":{\"id\":\"" : "",
		 kind == 2 ? envs[i % 7 % 3] : "", kind == 2 ? "\"},\"artifactId\":\"" : "",
		 kind == 2 ? r->artifact : "", kind == 2 ? "\"" : "");
	const char *v[15] = { r->seq, r->id, r->source, r->type, r->subject, r->chain, r->artifact_or_null,
			      r->received, r->received, "0.5.1", i % 2 ? "jenkins" : "anonymous",
			      "127.0.0.1:4242", r->event,
			      "0000000000000000000000000000000000000000000000000000000000000000",
			      "1111111111111111111111111111111111111111111111111111111111111111" };
	memcpy(r->v, v, sizeof(v));
}

#define COLUMNS "seq, id, source, type, subject, chain_id, artifact_id, timestamp, received_at, spec_version," \
	" principal, peer, event, prev_hash, hash"

static void exec_pg(const char *sql)
{
	char err[256];

	if (cde_pg_exec(pg, sql, err, sizeof(err), "test") < 0)
		fail_msg("%s", err);
}

static void exec_lite(const char *sql)
{
	assert_int_equal(sqlite3_exec(cde_audit_store_db(lite), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void insert_rows(void)
{
	sqlite3_stmt *st;
	struct row r;

	assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(lite), "INSERT INTO events(" COLUMNS ") VALUES"
					    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL), SQLITE_OK);
	exec_pg("BEGIN");
	exec_lite("BEGIN");
	for (int i = 0; i < N; i++) {
		PGresult *res;

		model(i, &r);
		res = PQexecParams(pg, "INSERT INTO events(" COLUMNS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
				   "$11,$12,$13,$14,$15)", 15, NULL, r.v, NULL, NULL, 0);
		if (!cde_pg_ok(res, false))
			fail_msg("%s", PQerrorMessage(pg));
		PQclear(res);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, i + 1);
		for (int k = 1; k < 15; k++)
			sqlite3_bind_text(st, k + 1, r.v[k], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	/* Where events 5 and 6 went. */
	static const char deliveries[] = "INSERT INTO deliveries(sink, seq, delivered_at, status, receipt) VALUES"
		" ('tekton', 5, '2026-12-07T10:30:00.000000Z', 202, 'ev-77'),"
		" ('audit-lake', 5, '2026-12-07T10:30:01.000000Z', 200, NULL),"
		" ('tekton', 6, '2026-12-07T10:40:00.000000Z', 202, 'ev-78')";
	exec_pg(deliveries);
	exec_lite(deliveries);
	exec_pg("COMMIT");
	exec_lite("COMMIT");
}

static int setup(void **state)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	char err[256];

	(void)state;
	assert_non_null(o.url);
	if (cde_pg_connect(&o, "cdeventsd test", &pg, err, sizeof(err)) < 0 ||
	    cde_pg_schema_migrate(pg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	snprintf(db_path, sizeof(db_path), "/tmp/cde-pg-query-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &lite, err, sizeof(err)), 0);
	insert_rows();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(pg);
	cde_audit_store_close(lite);
	remove_store(db_path);
	return 0;
}

/* The JSON lines of an answer, one after another. */
struct lines {
	char *text;
	size_t len, count;
};

static int add_line(void *ctx, const struct cde_audit_record *rec)
{
	struct lines *l = ctx;
	char *line = cde_audit_record_to_json(rec);
	size_t n;

	/* and the chain each store says the row is in, not in the JSON */
	assert_non_null(line);
	assert_non_null(rec->chain_id);
	n = strlen(line) + strlen(rec->chain_id) + 1;
	l->text = realloc(l->text, l->len + n + 2);
	assert_non_null(l->text);
	snprintf(l->text + l->len, n + 1, "%s %s", rec->chain_id, line);
	l->len += n;
	l->text[l->len++] = '\n';
	l->text[l->len] = '\0';
	l->count++;
	free(line);
	return 0;
}

/* Both stores answer @f alike; returns how many records. */
static size_t same_answer(const struct cde_audit_filter *f)
{
	struct lines a = { 0 }, b = { 0 };
	size_t n;

	assert_int_equal(cde_audit_query(lite, f, add_line, &a), 0);
	assert_int_equal(cde_pg_audit_query(pg, f, add_line, &b), 0);
	assert_int_equal(a.count, b.count);
	if (a.count)
		assert_string_equal(a.text, b.text);
	n = a.count;
	free(a.text);
	free(b.text);
	return n;
}

/* How many rows of the model @keep selects. */
static size_t expected(bool (*keep)(const struct row *r, int i))
{
	struct row r;
	size_t n = 0;

	for (int i = 0; i < N; i++) {
		model(i, &r);
		n += keep(&r, i);
	}
	return n;
}

static bool svc7(const struct row *r, int i) { return strcmp(r->subject, "svc-7") == 0 && i >= 0; }
static bool rel3(const struct row *r, int i) { return strcmp(r->chain, "rel-3") == 0 && i >= 0; }
static bool deployed(const struct row *r, int i) { return strncmp(r->type, "dev.cdevents.service.deployed.", 30) == 0 && i >= 0; }
static bool older(const struct row *r, int i) { return strcmp(r->type, "dev.cdevents.service.deployed.0.2.0") == 0 && i >= 0; }
static bool etl4(const struct row *r, int i) { return r->artifact_or_null && strcmp(r->artifact, "pkg:oci/etl@4") == 0 && i >= 0; }
static bool prod(const struct row *r, int i) { return i % 3 == 2 && i % 7 % 3 == 2 && r; }

static void every_filter_answers_as_on_sqlite(void **state)
{
	static const struct {
		struct cde_audit_filter f;
		bool (*keep)(const struct row *r, int i);
	} cases[] = {
		{ { .subject = "svc-7" }, svc7 },
		{ { .chain_id = "rel-3" }, rel3 },
		{ { .type = "dev.cdevents.service.deployed" }, deployed },
		{ { .type = "dev.cdevents.service.deployed.0.2.0" }, older },
		{ { .artifact_id = "pkg:oci/etl@4" }, etl4 },
		{ { .environment = "prod" }, prod },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t want = expected(cases[i].keep);

		assert_true(want > 0);
		assert_int_equal(same_answer(&cases[i].f), want);
	}
	/* Combined, one version only, prefixes, nothing, everything. */
	static const struct cde_audit_filter more[] = {
		{ 0 },
		{ .type = "dev.cdevents.build.started", .source = "/ci/2" },
		{ .type = "dev.cdevents.build.started.0.3.0", .source = "/ci/2" },
		{ .type = "dev.cdevents.service.deployed", .environment = "prod", .chain_id = "rel-4" },
		{ .source = "/ci/3", .subject = "svc-3" },
		{ .type = "dev.cdevents.service" },
		{ .type = "dev.cdevents.service.deployed.0" },
		{ .type = "dev.cdevents.nothing.happened" },
		{ .subject = "svc-7", .artifact_id = "pkg:oci/etl@17" },
		/* A chain with other columns' conditions (which audit.db keeps
		 * off their indexes then), both ways, after a seq. */
		{ .chain_id = "rel-4", .type = "dev.cdevents.service.deployed", .source = "/ci/2", .descending = true },
		{ .chain_id = "rel-4", .type = "dev.cdevents.build.started.0.3.0", .subject = "svc-0", .limit = 1 },
		{ .chain_id = "rel-5", .artifact_id = "pkg:oci/etl@1", .since = "2026-12-07T10:00:00Z",
		  .until = "2026-12-08", .after = 105, .descending = true, .limit = 2 },
		{ .chain_id = "rel-5", .type = "dev.cdevents.service", .after = 103 },
		/* The columns alone: the event "" from both. */
		{ .type = "dev.cdevents.service.deployed", .no_event = true, .descending = true, .limit = 50 },
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		same_answer(&more[i]);
	assert_int_equal(same_answer(&more[0]), N);
	assert_int_equal(same_answer(&more[7]), 0);
}

static void time_bounds_and_pages_answer_as_on_sqlite(void **state)
{
	static const struct cde_audit_filter cases[] = {
		/* Instants, whatever the offset they are written in. */
		{ .since = "2026-12-07T15:00:00+05:00", .until = "2026-12-07T12:00:00.123457Z" },
		{ .since = "2026-12-07T10:07:00.123457Z" },
		{ .since = "2026-12-07T10:07:00.1234571Z" },
		{ .until = "2026-12-07T05:14:00-05:00" },
		{ .since = "2026-12-08", .subject = "svc-1" },
		{ .until = "2026-12-07" },
		/* Pages by seq, both ways. */
		{ .subject = "svc-7", .limit = 5 },
		{ .subject = "svc-7", .limit = 5, .after = 67 },
		{ .subject = "svc-7", .limit = 5, .descending = true },
		{ .subject = "svc-7", .limit = 5, .descending = true, .after = 358 },
		{ .type = "dev.cdevents.service.deployed", .after = 400, .limit = 1000 },
		{ .after = INT64_MAX },
	};
	struct cde_audit_filter bad[] = {
		{ .since = "yesterday" },
		{ .until = "2026-12-07T10:00:00" },
		{ .after = (uint64_t)INT64_MAX + 1 },
		{ .limit = UINT64_MAX },
	};
	struct lines l = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_answer(&cases[i]);
	assert_int_equal(same_answer(&cases[0]), 18);
	assert_int_equal(same_answer(&cases[1]), N - 1);
	assert_int_equal(same_answer(&cases[2]), N - 2);
	assert_int_equal(same_answer(&cases[5]), 0);
	assert_int_equal(same_answer(&cases[6]), 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cde_pg_audit_query(pg, &bad[i], add_line, &l), -EINVAL);
	assert_int_equal(l.count, 0);
}

static int stop_after_one(void *ctx, const struct cde_audit_record *rec)
{
	(void)rec;
	++*(int *)ctx;
	return 7;
}

static void an_id_comes_with_its_deliveries_as_on_sqlite(void **state)
{
	static const char *const ids[] = { "e-4", "e-5", "e-6", "nope" };
	struct cde_audit_filter all = { 0 };
	int calls = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct lines a = { 0 }, b = { 0 };

		assert_int_equal(cde_audit_query_id(lite, ids[i], 10, add_line, &a), 0);
		assert_int_equal(cde_pg_audit_query_id(pg, ids[i], 10, add_line, &b), 0);
		assert_int_equal(a.count, i < 3);
		assert_int_equal(b.count, a.count);
		if (a.count)
			assert_string_equal(a.text, b.text);
		free(a.text);
		free(b.text);
	}
	/* A callback that stops: its value comes back, the connection is
	 * ready for the next query. */
	assert_int_equal(cde_pg_audit_query(pg, &all, stop_after_one, &calls), 7);
	assert_int_equal(calls, 1);
	assert_int_equal(same_answer(&all), N);
}

/* ---- the reader thread ---- */

struct answer {
	bool done;
	int status;
	char *body;
	struct cde_audit_log_answer log;
};

static void on_done(void *ctx, int status, char *body)
{
	struct answer *a = ctx;

	a->done = true;
	a->status = status;
	a->body = body;
}

static void on_log(void *ctx, struct cde_audit_log_answer *la)
{
	struct answer *a = ctx;

	a->done = true;
	a->log = *la;
	free(la->body);
}

static void wait_for(struct event_base *base, struct answer *a)
{
	struct timeval tick = { 0, 10000 };

	for (int i = 0; i < 3000 && !a->done; i++) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_true(a->done);
}

/* The reader's answer to @req: its status; the body into *@ret_body. */
static int ask(struct event_base *base, struct cde_audit_reader *rd, const struct cde_audit_request *req,
	       char **ret_body)
{
	struct answer a = { 0 };

	assert_int_equal(cde_audit_reader_submit(rd, req, on_done, &a), 0);
	wait_for(base, &a);
	*ret_body = a.body;
	return a.status;
}

/* The reader's answer to the log request @q: its status and reason. */
static int ask_log(struct event_base *base, struct cde_audit_reader *rd, const struct cde_audit_log_request *q,
		   char reason[256])
{
	struct answer a = { 0 };

	assert_int_equal(cde_audit_reader_submit_log(rd, q, on_log, &a), 0);
	wait_for(base, &a);
	memcpy(reason, a.log.reason, sizeof(a.log.reason));
	return a.log.status;
}

static void cluster(const char *verb)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "\"%s\" %s \"%s\"", getenv("CDE_PG_CLUSTER"), verb, getenv("CDE_PG_DIR"));
	assert_int_equal(system(cmd), 0);
}

static void the_reader_answers_alike_and_outlives_a_restart(void **state)
{
	struct event_base *base = event_base_new();
	struct cde_store_location at_pg = { .postgres = true, .pg = { .url = getenv("CDE_PG_URL") } };
	struct cde_audit_request page = { .filter = { .subject = "svc-7", .limit = 5, .after = 67 } },
				 chain = { .filter = { .chain_id = "rel-2", .limit = 1000 } },
				 unknown = { .filter = { .chain_id = "nope" } }, by_id = { .id = "e-5" };
	const struct cde_audit_request *reqs[] = { &page, &chain, &unknown, &by_id };
	struct cde_audit_log_request checkpoint = { .kind = CDE_AUDIT_LOG_CHECKPOINT };
	struct cde_audit_reader *rd_pg, *rd_lite;
	char err[256], *a, *b, why[2][256];

	(void)state;
	assert_int_equal(cde_audit_reader_new_at(base, &at_pg, &rd_pg, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_reader_new(base, db_path, &rd_lite, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_int_equal(ask(base, rd_pg, reqs[i], &a), ask(base, rd_lite, reqs[i], &b));
		assert_true(a == b || strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	/* Transparency log reads too (these rows have no tree: nothing
	 * signed yet). */
	assert_int_equal(ask_log(base, rd_pg, &checkpoint, why[0]), 404);
	assert_int_equal(ask_log(base, rd_lite, &checkpoint, why[1]), 404);
	assert_string_equal(why[0], why[1]);
	assert_int_equal(ask(base, rd_pg, &unknown, &a), 404);
	free(a);
	assert_int_equal(ask(base, rd_pg, &page, &a), 200);
	assert_non_null(strstr(a, "\"nextAfter\":138}"));
	free(a);

	/* The database restarts: the next query (or log read) connects again. */
	cluster("stop");
	cluster("restart");
	assert_int_equal(ask_log(base, rd_pg, &checkpoint, why[0]), 404);
	cluster("stop");
	cluster("restart");
	assert_int_equal(ask(base, rd_pg, &page, &a), 200);
	free(a);
	/* It is down: 503 (worth a retry), and once it is back, answers. */
	cluster("stop");
	assert_int_equal(ask(base, rd_pg, &page, &a), 503);
	assert_null(a);
	assert_int_equal(ask(base, rd_pg, &page, &a), 503);
	assert_int_equal(ask_log(base, rd_pg, &checkpoint, why[0]), 503);
	assert_string_equal(why[0], "the database cannot be reached: retry shortly");
	cluster("restart");
	assert_int_equal(ask_log(base, rd_pg, &checkpoint, why[0]), 404);
	assert_int_equal(ask(base, rd_pg, &page, &a), 200);
	free(a);

	cde_audit_reader_free(rd_pg);
	cde_audit_reader_free(rd_lite);
	event_base_free(base);
	/* The test's own connection was cut by the restarts. */
	PQfinish(pg);
	assert_int_equal(cde_pg_connect(&at_pg.pg, "cdeventsd test", &pg, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_filter_answers_as_on_sqlite),
		cmocka_unit_test(time_bounds_and_pages_answer_as_on_sqlite),
		cmocka_unit_test(an_id_comes_with_its_deliveries_as_on_sqlite),
		cmocka_unit_test(the_reader_answers_alike_and_outlives_a_restart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
