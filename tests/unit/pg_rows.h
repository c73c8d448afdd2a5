#pragma once
/* For the unit tests of the PostgreSQL backend: the test's own
 * connection (another replica, an auditor), rows of the log written with
 * SQL as a journal would, and the throwaway cluster of tests/pg/cluster
 * (CDE_PG_URL, CDE_PG_DIR, CDE_PG_CLUSTER). Included by one test file
 * each, after helpers.h. */

#include <time.h>
#include <unistd.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_schema.h"
#include "sinks/audit/store_location.h"

static PGconn *admin;	/* the test's own connection: another replica, an auditor */

static inline struct cde_store_location location(void)
{
	return (struct cde_store_location){ .postgres = true, .pg = { .url = getenv("CDE_PG_URL") } };
}

static inline void sql(const char *text)
{
	char err[256];

	if (cde_pg_exec(admin, text, err, sizeof(err), "test sql") < 0)
		fail_msg("%s", err);
}

static inline int64_t number(const char *query)
{
	PGresult *res = PQexec(admin, query);
	int64_t n;

	assert_true(cde_pg_ok(res, true));
	n = PQntuples(res) ? cde_pg_int(res, 0, 0) : -1;
	PQclear(res);
	return n;
}

/* Rows @first..@last of the log, committed as the journal would. */
static inline void append(unsigned first, unsigned last)
{
	char q[512];

	for (unsigned seq = first; seq <= last; seq++) {
		snprintf(q, sizeof(q), "INSERT INTO events(seq, id, source, type, timestamp, received_at, spec_version,"
			 " principal, peer, event, prev_hash, hash) VALUES (%u, 'id-%u', '/test',"
			 " 'dev.cdevents.service.deployed.0.2.0', '2026-12-07T10:00:00Z', '2026-12-07T10:00:%02uZ',"
			 " '0.4.1', 'ci', '127.0.0.1', '{\"n\":%u}', 'p', 'h')", seq, seq, seq % 60, seq);
		sql(q);
	}
	snprintf(q, sizeof(q), "UPDATE log_head SET seq = %u", last);
	sql(q);
}

/* Before each test: an empty log. */
static inline int reset(void **state)
{
	(void)state;
	sql("TRUNCATE events, sink_cursors, witness_cursors, deliveries, dead_letters, replays, tree_checkpoints");
	sql("UPDATE log_head SET seq = 0");
	return 0;
}

static inline int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void cluster(const char *verb)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "\"%s\" %s \"%s\"", getenv("CDE_PG_CLUSTER"), verb, getenv("CDE_PG_DIR"));
	assert_int_equal(system(cmd), 0);
}

/* The test's connection, and the schema. */
static inline int set_up(void **state)
{
	char err[256];

	(void)state;
	admin = PQconnectdb(getenv("CDE_PG_URL"));
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	assert_int_equal(cde_pg_schema_migrate(admin, err, sizeof(err)), 0);
	return 0;
}

static inline int tear_down(void **state)
{
	(void)state;
	PQfinish(admin);
	return 0;
}
