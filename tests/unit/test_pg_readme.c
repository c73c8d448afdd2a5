/* The README's "Querying the log with SQL (PostgreSQL)" section is true:
 * its table names the columns of the view audit_log, in order, and each
 * of its SQL examples, read out of README.md as written, runs against a
 * log inserted here and finds exactly the rows it says (the first column
 * of every example is seq). Runs against the throwaway cluster of
 * tests/pg/cluster (CDE_PG_URL); CDE_SOURCE_DIR locates README.md. */

#include "tests/unit/helpers.h"

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_schema.h"

#define SECTION "### Querying the log with SQL (PostgreSQL)\n"
#define BLOCKS_MAX 8

static PGconn *pg;
static char *readme;

/* The section's text, up to the next heading (points into readme). */
static char *section(void)
{
	char path[512], *start, *end;
	size_t len;

	snprintf(path, sizeof(path), "%s/README.md", getenv("CDE_SOURCE_DIR"));
	assert_int_equal(cde_read_file(path, 1 << 22, &readme, &len), 0);
	start = strstr(readme, SECTION);
	assert_non_null(start);
	start += strlen(SECTION);
	end = strstr(start, "\n## ");
	if (strstr(start, "\n### ") && (!end || strstr(start, "\n### ") < end))
		end = strstr(start, "\n### ");
	if (end)
		*end = '\0';
	return start;
}

/* The ```sql blocks of @text, cut out in place. */
static size_t sql_blocks(char *text, char **blocks)
{
	size_t n = 0;

	for (char *p = strstr(text, "```sql\n"); p && n < BLOCKS_MAX; p = strstr(p, "```sql\n")) {
		char *end;

		p += 7;
		end = strstr(p, "```");
		assert_non_null(end);
		*end = '\0';
		blocks[n++] = p;
		p = end + 3;
	}
	return n;
}

/* One event of the log: its age when received, and what it is. */
static const struct {
	const char *ago, *type, *subject, *chain, *artifact, *content;
} rows[] = {
	{ "12 days", "dev.cdevents.pipelinerun.finished.0.2.0", "payments-ci/881", "payments-1.4.2", NULL,
	  "\"pipelineName\":\"payments-ci\",\"outcome\":\"success\"" },
	{ "12 days", "dev.cdevents.build.finished.0.2.0", "build-881", "payments-1.4.2",
	  "pkg:oci/payments@sha256:9f86d081884c7d65", "\"artifactId\":\"pkg:oci/payments@sha256:9f86d081884c7d65\"" },
	{ "11 days", "dev.cdevents.artifact.published.0.2.0", "pkg:oci/payments@sha256:9f86d081884c7d65",
	  "payments-1.4.2", "pkg:oci/payments@sha256:9f86d081884c7d65", "" },
	{ "10 days", "dev.cdevents.artifact.published.0.2.0", "pkg:oci/billing@sha256:5e884898da280471", "billing-2.0",
	  "pkg:oci/billing@sha256:5e884898da280471", "" },
	{ "10 days", "dev.cdevents.service.deployed.0.3.0", "payments", "payments-1.4.2",
	  "pkg:oci/payments@sha256:9f86d081884c7d65", "\"environment\":{\"id\":\"staging\"},"
	  "\"artifactId\":\"pkg:oci/payments@sha256:9f86d081884c7d65\"" },
	{ "9 days", "dev.cdevents.service.deployed.0.3.0", "billing", "billing-2.0",
	  "pkg:oci/billing@sha256:5e884898da280471", "\"environment\":{\"id\":\"prod\"},"
	  "\"artifactId\":\"pkg:oci/billing@sha256:5e884898da280471\"" },
	{ "2 days", "dev.cdevents.service.deployed.0.3.0", "payments", "payments-1.4.2",
	  "pkg:oci/payments@sha256:9f86d081884c7d65", "\"environment\":{\"id\":\"prod\"},"
	  "\"artifactId\":\"pkg:oci/payments@sha256:9f86d081884c7d65\"" },
	/* An older producer: spec 0.4.1, service.deployed 0.2.0. */
	{ "1 day", "dev.cdevents.service.deployed.0.2.0", "ledger", "ledger-3", "pkg:oci/ledger@sha256:2c26b46b68ffc68f",
	  "\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/ledger@sha256:2c26b46b68ffc68f\"" },
	{ "1 hour", "dev.cdevents.service.deployed.0.3.0", "ledger", "ledger-3", "pkg:oci/ledger@sha256:2c26b46b68ffc68f",
	  "\"environment\":{\"id\":\"dev\"},\"artifactId\":\"pkg:oci/ledger@sha256:2c26b46b68ffc68f\"" },
};

static void insert_log(void)
{
	char seq[8], id[16], event[1024], err[256];

	assert_int_equal(cde_pg_exec(pg, "BEGIN", err, sizeof(err), "begin"), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool old = strstr(rows[i].type, "deployed.0.2.0") != NULL;
		const char *v[9] = { seq, id, rows[i].type, rows[i].subject, rows[i].chain, rows[i].artifact,
				     rows[i].ago, old ? "0.4.1" : "0.5.1", event };
		PGresult *res;

		snprintf(seq, sizeof(seq), "%zu", i + 1);
		snprintf(id, sizeof(id), "ev-%zu", i + 1);
		snprintf(event, sizeof(event), "{\"context\":{\"%s\":\"%s\",\"id\":\"%s\",\"source\":\"/ci/payments\","
			 "\"type\":\"%s\",\"timestamp\":\"2026-12-01T10:00:00Z\",\"chainId\":\"%s\"},"
			 "\"subject\":{\"id\":\"%s\",\"source\":\"/ci/payments\",\"content\":{%s}}}",
			 old ? "version" : "specversion", old ? "0.4.1" : "0.5.1", id, rows[i].type, rows[i].chain,
			 rows[i].subject, rows[i].content);
		res = PQexecParams(pg, "INSERT INTO events(seq, id, source, type, subject, chain_id, artifact_id,"
				   " timestamp, received_at, spec_version, principal, peer, event, prev_hash, hash)"
				   " VALUES ($1, $2, '/ci/payments', $3, $4, $5, $6, '2026-12-01T10:00:00Z',"
				   " to_char((now() - $7::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
				   " $8, 'jenkins', '10.0.0.7:41234', $9, repeat('0', 64), repeat('1', 64))",
				   9, NULL, v, NULL, NULL, 0);
		if (!cde_pg_ok(res, false))
			fail_msg("%s", PQerrorMessage(pg));
		PQclear(res);
	}
	assert_int_equal(cde_pg_exec(pg, "COMMIT", err, sizeof(err), "commit"), 0);
}

/* The seqs @sql finds, as "1,2,3". */
static void seqs_of(const char *sql, char *out, size_t size)
{
	PGresult *res = PQexec(pg, sql);
	size_t used = 0;

	if (!cde_pg_ok(res, true))
		fail_msg("%s\n%s", sql, PQerrorMessage(pg));
	out[0] = '\0';
	for (int i = 0; i < PQntuples(res); i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	PQclear(res);
}

static void the_example_queries_find_what_they_say(void **state)
{
	static const char *const expect[] = {
		"2,3,5,7",	/* everything that happened to the payments image */
		"7,8",		/* prod deployments of the last week, of either spec version */
		"1,2,3,5,7",	/* the release payments-1.4.2 */
	};
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	char *blocks[BLOCKS_MAX], *text, err[256], got[256];
	size_t n;

	(void)state;
	if (cde_pg_connect(&o, "cdeventsd test", &pg, err, sizeof(err)) < 0 ||
	    cde_pg_schema_migrate(pg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	insert_log();
	text = section();
	n = sql_blocks(text, blocks);
	assert_int_equal(n, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < n; i++) {
		seqs_of(blocks[i], got, sizeof(got));
		if (strcmp(got, expect[i]) != 0)
			fail_msg("README example %zu found %s, not %s:\n%s", i + 1, got, expect[i], blocks[i]);
	}
	free(readme);
}

/* The table's first column, in order, is the view's columns. */
static void the_table_names_the_views_columns(void **state)
{
	char *text = NULL, view[1024], table[1024];
	size_t used = 0;

	(void)state;
	text = section();
	table[0] = '\0';
	for (char *p = strstr(text, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		char *end = strchr(p + 4, '`');

		assert_non_null(end);
		used += (size_t)snprintf(table + used, sizeof(table) - used, "%s%.*s", used ? "," : "",
					 (int)(end - (p + 4)), p + 4);
	}
	seqs_of("SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_log'"
		" ORDER BY ordinal_position", view, sizeof(view));
	assert_string_equal(table, view);
	free(readme);
	PQfinish(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_example_queries_find_what_they_say),
		cmocka_unit_test(the_table_names_the_views_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
