/* The chains retention cuts, on audit.db (sinks/audit/audit_retention.c):
 * a run names each chain it deleted rows of in retired_chains, with the
 * last seq it deleted of it, in the transaction of its delete, whether
 * max_age or max_size made the rows due; cde_audit_chain_retired tells a
 * gate so. A chain none of whose rows went is not named. Likewise each
 * artifact a deleted row named, in retired_artifacts
 * (cde_audit_artifact_retired): a chain whose row naming the artifact went
 * no longer links to it (review 4 R1). */

#include "tests/unit/helpers.h"

#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/sql.h"

static char db_path[64];

/* 2025-01-06T00:00:00Z */
#define JAN_6_2025 1736121600
#define DAY 86400

/* A fresh store with an event a day from 2025-01-01, noon, in the chains
 * @chains (one per event, "" for none; NULL-terminated), each naming the
 * artifact of the same index in @artifacts (NULL or "": none). */
static struct cde_audit_store *daily_naming(const char *const *chains, const char *const *artifacts)
{
	struct cde_audit_store *s;
	char err[256], id[16];
	int i;

	snprintf(db_path, sizeof(db_path), "/tmp/cde-retired-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	for (i = 0; chains[i]; i++) {
		struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1:1" };

		snprintf(id, sizeof(id), "day-%d", i + 1);
		assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.finished.0.3.0", "/ci",
					       id, &e.event), 0);
		assert_int_equal(cde_event_set_id(e.event, id), 0);
		if (chains[i][0])	/* "": no chain */
			assert_int_equal(cde_event_set_chain_id(e.event, chains[i]), 0);
		if (artifacts && artifacts[i][0])
			assert_non_null(cJSON_AddStringToObject(cde_event_content(e.event), "artifactId", artifacts[i]));
		snprintf(e.received_at, sizeof(e.received_at), "2025-01-%02dT12:00:00.000000Z", (i + 1) % 32);
		assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
		cde_event_unref(e.event);
	}
	return s;
}

static struct cde_audit_store *daily(const char *const *chains)
{
	return daily_naming(chains, NULL);
}

static void drop(struct cde_audit_store *s)
{
	char path[80];

	cde_audit_store_close(s);
	unlink(db_path);
	for (const char *const *ext = (const char *const[]){ "-wal", "-shm", "-head", NULL }; *ext; ext++) {
		snprintf(path, sizeof(path), "%s%s", db_path, *ext);
		unlink(path);
	}
}

static uint64_t retired(struct cde_audit_store *s, const char *chain)
{
	uint64_t seq = 99;

	assert_int_equal(cde_audit_chain_retired(s, chain, &seq), 0);
	return seq;
}

static uint64_t artifact_retired(struct cde_audit_store *s, const char *artifact)
{
	uint64_t seq = 99;

	assert_int_equal(cde_audit_artifact_retired(s, artifact, &seq), 0);
	return seq;
}

static struct cde_audit_retention_run retain(struct cde_audit_store *s, struct cde_audit_retention p)
{
	struct cde_audit_retention_run run;
	char err[256] = "";

	if (cde_audit_retain(s, &p, JAN_6_2025, &run, err, sizeof(err)) != 0)
		fail_msg("retain: %s", err);
	return run;
}

static void a_run_by_age_names_each_chain_it_cut_with_its_last_seq_deleted(void **state)
{
	struct cde_audit_store *s = daily((const char *const[]){ "rel-a", "rel-b", "rel-a", "rel-c", "rel-b",
								  NULL });

	assert_int_equal(retired(s, "rel-a"), 0);
	/* Older than 2 days on Jan 6: received before Jan 4: rows 1-3. */
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 2 * DAY }).through_seq, 3);
	assert_int_equal(retired(s, "rel-a"), 3);
	assert_int_equal(retired(s, "rel-b"), 2);
	assert_int_equal(retired(s, "rel-c"), 0);	/* row 4 stays: uncut */
	/* A later run moves a chain's seq on, and names the chains new to it. */
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 1 }).through_seq, 5);
	assert_int_equal(retired(s, "rel-a"), 3);
	assert_int_equal(retired(s, "rel-b"), 5);
	assert_int_equal(retired(s, "rel-c"), 4);
	drop(s);
}

static void a_run_by_size_names_the_chains_it_cut_too(void **state)
{
	struct cde_audit_store *s = daily((const char *const[]){ "rel-a", "rel-b", "rel-b", "rel-b", NULL });
	struct cde_audit_retention_run run;

	run = retain(s, (struct cde_audit_retention){ .max_bytes = cde_audit_live_bytes(s) / 2, .max_rows = 2 });
	assert_int_equal(run.through_seq, 2);
	assert_non_null(strstr(run.reason, "max_size"));
	assert_int_equal(retired(s, "rel-a"), 1);
	assert_int_equal(retired(s, "rel-b"), 2);
	drop(s);
}

/* Rows in no chain leave no name; nor does a run that deletes nothing. */
static void rows_in_no_chain_and_runs_that_delete_nothing_name_none(void **state)
{
	struct cde_audit_store *s = daily((const char *const[]){ "", "rel-a", NULL });

	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = DAY, .keep_from = 1 }).deleted, 0);
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = DAY, .max_rows = 1 }).deleted, 1);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM retired_chains", NULL, -1), 0);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM retired_artifacts", NULL, -1), 0);
	assert_int_equal(retired(s, "rel-a"), 0);
	assert_int_equal(retired(s, ""), 0);
	drop(s);
}

/* R1: rx's build naming X goes, its later failed run stays: X is named
 * with the last seq deleted of the rows naming it, Y (uncut) is not, and
 * rows naming no artifact name none. */
static void a_run_names_each_artifact_a_deleted_row_named(void **state)
{
	struct cde_audit_store *s = daily_naming((const char *const[]){ "rx", "ry", "rx", "ry", "rx", NULL },
						 (const char *const[]){ "pkg:x", "pkg:x", "", "pkg:y", "pkg:x", NULL });

	assert_int_equal(artifact_retired(s, "pkg:x"), 0);
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 2 * DAY }).through_seq, 3);
	assert_int_equal(artifact_retired(s, "pkg:x"), 2);
	assert_int_equal(artifact_retired(s, "pkg:y"), 0);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM retired_artifacts", NULL, -1), 1);
	/* a later run moves it on */
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 1 }).through_seq, 5);
	assert_int_equal(artifact_retired(s, "pkg:x"), 5);
	assert_int_equal(artifact_retired(s, "pkg:y"), 4);
	drop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_run_by_age_names_each_chain_it_cut_with_its_last_seq_deleted),
		cmocka_unit_test(a_run_by_size_names_the_chains_it_cut_too),
		cmocka_unit_test(rows_in_no_chain_and_runs_that_delete_nothing_name_none),
		cmocka_unit_test(a_run_names_each_artifact_a_deleted_row_named),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
