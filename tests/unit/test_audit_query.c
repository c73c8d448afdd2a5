/* Queries of audit.db (sinks/audit/audit_query.c) as the readers depend
 * on them: a query of one chain reads that chain's rows on its index,
 * whatever else it filters (GET /v1/chains asks each chain it meets
 * "your latest event of this type?", and planned on the type's index that
 * walked every event of the type above the chain's: 7 s for one page over
 * 100,000 events); and each record says its chain as the log indexed it,
 * so a reader need not parse the event for it, nor have the store read it
 * (no_event). */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <sqlite3.h>
#include <unistd.h>

#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_store.h"

#define OTHERS 20000
#define TYPE "dev.cdevents.build.finished.0.3.0"

static struct cde_audit_store *store;
static char db_path[64];

/* Row 1 in the chain "old", then OTHERS rows of the same type, subject
 * and source, each in a chain of its own, then one row without a chain. */
static int setup(void **state)
{
	char err[256];
	char sql[2048];

	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/cde-query-%d.db", (int)getpid());
	remove_store(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &store, err, sizeof(err)), 0);
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		 " INSERT INTO events(seq, id, source, type, subject, chain_id, artifact_id, timestamp, received_at,"
		 " spec_version, principal, peer, event, prev_hash, hash)"
		 " SELECT i, 'e-' || i, '/ci', '" TYPE "', 'b-1', CASE WHEN i = 1 THEN 'old' WHEN i = %d THEN NULL"
		 " ELSE 'c-' || i END, NULL, '2026-12-07T10:00:00Z', '2026-12-07T10:00:00.000000Z', '0.5.1', 'ci',"
		 " '127.0.0.1:1', '{}', 'x', 'y' FROM n",
		 OTHERS + 2, OTHERS + 2);
	assert_int_equal(sqlite3_exec(cde_audit_store_db(store), sql, NULL, NULL, NULL), SQLITE_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cde_audit_store_close(store);
	remove_store(db_path);
	return 0;
}

/* SQLite's virtual machine steps, in hundreds: what a query cost. */
static int count_steps(void *ctx)
{
	++*(unsigned *)ctx;
	return 0;
}

struct found {
	uint64_t seq;
	unsigned count;
};

static int on_record(void *ctx, const struct cde_audit_record *rec)
{
	struct found *f = ctx;

	f->seq = rec->seq;
	f->count++;
	return 0;
}

static void a_chains_query_reads_the_chain_whatever_else_it_filters(void **state)
{
	static const struct cde_audit_filter cases[] = {
		{ .type = TYPE },
		{ .type = "dev.cdevents.build.finished" },
		{ .subject = "b-1", .source = "/ci" },
		{ .since = "2026-12-07", .until = "2026-12-08" },
		{ .type = TYPE, .subject = "b-1", .source = "/ci", .since = "2026-12-07", .after = OTHERS },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cde_audit_filter f = cases[i];
		struct found found = { 0 };
		unsigned hundreds = 0;

		f.chain_id = "old";
		f.descending = true;
		f.limit = 1;
		sqlite3_progress_handler(cde_audit_store_db(store), 100, count_steps, &hundreds);
		assert_int_equal(cde_audit_query(store, &f, on_record, &found), 0);
		sqlite3_progress_handler(cde_audit_store_db(store), 0, NULL, NULL);
		assert_int_equal(found.count, 1);
		assert_int_equal(found.seq, 1);
		/* The chain's one row and the type's versions looked up: a few
		 * hundred steps, not a walk of 20,000 rows (about 300,000). */
		if (hundreds > 20)
			fail_msg("case %zu: %u00 steps", i, hundreds);
	}
}

static int on_chain(void *ctx, const struct cde_audit_record *rec)
{
	const char **chains = ctx;

	assert_non_null(rec->chain_id);
	chains[rec->seq == 1 ? 0 : rec->seq == 2 ? 1 : 2] = strdup(rec->chain_id);
	return 0;
}

static int on_event_text(void *ctx, const struct cde_audit_record *rec)
{
	assert_non_null(rec->event);
	*(size_t *)ctx += strlen(rec->event);
	return 0;
}

static void each_record_says_its_chain_empty_for_none(void **state)
{
	const struct cde_audit_filter firsts = { .limit = 2, .no_event = true }, last = { .descending = true, .limit = 1 };
	const struct cde_audit_filter with = { .limit = 2 };
	size_t text = 0;
	const char *chains[3] = { 0 };

	(void)state;
	assert_int_equal(cde_audit_query(store, &firsts, on_chain, chains), 0);
	assert_int_equal(cde_audit_query(store, &last, on_chain, chains), 0);
	assert_string_equal(chains[0], "old");
	assert_string_equal(chains[1], "c-2");
	assert_string_equal(chains[2], "");
	for (int i = 0; i < 3; i++)
		free((char *)chains[i]);
	/* the events: "" with no_event, as stored without */
	assert_int_equal(cde_audit_query(store, &firsts, on_event_text, &text), 0);
	assert_int_equal(text, 0);
	assert_int_equal(cde_audit_query(store, &with, on_event_text, &text), 0);
	assert_int_equal(text, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_chains_query_reads_the_chain_whatever_else_it_filters),
		cmocka_unit_test(each_record_says_its_chain_empty_for_none),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
