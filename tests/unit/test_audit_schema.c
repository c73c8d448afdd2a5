/* The audit database's schema (sinks/audit/audit_schema.c): a new file gets the
 * current version; a file written by an older cdeventsd (a fixture made
 * with f0bca64, the first release that kept a log) opens, migrates one
 * step at a time, still verifies with its key and takes new events (and
 * one of schema 4, by 067fcc7, gains chain_via, NULL on its rows, and
 * an empty retired_chains and retired_artifacts that its next retention
 * fills); a
 * file written by a newer cdeventsd is refused, not downgraded. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_store.h"
#include "sinks/dead_letters.h"
#include "sinks/audit/sql.h"

static char dir[64], db_path[96], key_path[96];

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char *buf;
	size_t len;
	FILE *f;

	assert_int_equal(cde_read_file(from, 1 << 20, &buf, &len), 0);
	f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(to, mode), 0);
	free(buf);
}

/* A copy of the fixture written by f0bca64, and its checkpoint key. */
static void v1_fixture(void)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	char from[1024];

	snprintf(dir, sizeof(dir), "/tmp/cde-schema-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	snprintf(key_path, sizeof(key_path), "%s/audit.key", dir);
	snprintf(from, sizeof(from), "%s/tests/data/audit/v1-f0bca64.db", src ? src : ".");
	copy_file(from, db_path, 0600);
	snprintf(from, sizeof(from), "%s/tests/data/audit/v1-f0bca64.key", src ? src : ".");
	copy_file(from, key_path, 0600);
}

static void remove_dir(void)
{
	static const char *const files[] = { "audit.db", "audit.db-wal", "audit.db-shm", "audit.db-head",
					     "audit.key" };
	char p[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int user_version(sqlite3 *db)
{
	return (int)cde_sql_int(db, "PRAGMA user_version", NULL, -1);
}

static int has_table(sqlite3 *db, const char *name)
{
	return (int)cde_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", name, 0);
}

static int count_dead_letter(void *ctx, const struct cde_dead_letter *dl)
{
	(*(int *)ctx)++;
	return 0;
}

static int sum_via(void *ctx, const struct cde_audit_record *rec)
{
	*(uint64_t *)ctx += rec->chain_via;
	return 0;
}

static void a_new_file_gets_every_table_at_the_current_version(void **state)
{
	struct cde_audit_store *s;
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/cde-schema-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_int_equal(cde_audit_schema_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	for (const char *const *t = (const char *const[]){ "events", "meta", "checkpoints", "retention", "gaps",
							  "sink_cursors", "deliveries", "dead_letters", "replays",
							  "retired_chains", "retired_artifacts", NULL }; *t; t++)
		if (!has_table(cde_audit_store_db(s), *t))
			fail_msg("table %s missing", *t);
	cde_audit_store_close(s);
	remove_dir();
}

static void a_log_written_by_f0bca64_migrates_verifies_and_takes_events(void **state)
{
	struct cde_audit_store *s;
	struct cde_audit_verify v;
	struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1:1" };
	uint8_t key[CDE_AUDIT_KEY_MAX];
	struct cde_catalog *catalog = load_catalog();
	int key_len, dead = 0;
	char err[256];

	v1_fixture();
	key_len = cde_audit_key_load(key_path, key);
	assert_int_equal(key_len, 32);

	/* Read as it is, before any upgrade. */
	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_schema_version(cde_audit_store_db(s)), 1);
	assert_int_equal(cde_audit_store_verify(s, key, (size_t)key_len, 3, &v), 0);
	assert_int_equal(v.head_seq, 8);
	assert_int_equal(v.checkpoints, 2);
	cde_audit_store_close(s);

	/* Opened by the daemon: migrated, and nothing of it changed. */
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_true(has_table(cde_audit_store_db(s), "gaps"));
	assert_int_equal(cde_audit_store_set_checkpoints(s, key, (size_t)key_len, 3), 0);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	assert_int_equal(v.rows, 8);
	assert_int_equal(cde_audit_store_verify(s, key, (size_t)key_len, 3, &v), 0);
	assert_int_equal(cde_dead_letters_list(cde_audit_store_db(s), NULL, NULL, count_dead_letter, &dead), 0);
	assert_int_equal(dead, 2);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT seq FROM sink_cursors WHERE sink = 'jsonl'",
				     NULL, 0), 8);

	/* New events continue its chain, with their checkpoint. */
	assert_int_equal(cde_event_new(cde_catalog_newest(catalog), "dev.cdevents.build.started.0.3.0", "/ci", "b",
				       &e.event), 0);
	snprintf(e.received_at, sizeof(e.received_at), "2026-12-07T05:00:00.000000Z");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	assert_int_equal(e.seq, 9);
	cde_event_unref(e.event);
	assert_int_equal(cde_audit_store_verify(s, key, (size_t)key_len, 3, &v), 0);
	assert_int_equal(v.checkpoints, 3);
	cde_audit_store_close(s);

	/* Opening it again runs no step twice. */
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	cde_audit_store_close(s);
	cde_catalog_free(catalog);
	remove_dir();
}

/* Builds before f0bca64 kept fewer tables (no replays before 4f68f34, no
 * delivery tables before cd1cbe1) and no version: step 1 runs again on
 * them and adds only what is missing. */
static void an_older_log_without_some_tables_gains_them(void **state)
{
	struct cde_audit_store *s;
	struct cde_audit_verify v;
	sqlite3 *db;
	char err[256];

	v1_fixture();
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE replays; DROP TABLE dead_letters; DROP TABLE sink_cursors;"
				      "DROP TABLE deliveries", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	for (const char *const *t = (const char *const[]){ "replays", "dead_letters", "sink_cursors", "deliveries",
							  "gaps", NULL }; *t; t++)
		if (!has_table(cde_audit_store_db(s), *t))
			fail_msg("table %s missing", *t);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.head_seq, 8);
	cde_audit_store_close(s);
	remove_dir();
}

static int64_t count_of(sqlite3 *db, const char *sql)
{
	return cde_sql_int(db, sql, NULL, -1);
}

/* tests/data/audit/v4-067fcc7.db, written by the daemon of 067fcc7 (five
 * hooks, two of them correlated): read as it is by a reader (no
 * chain_via: none for every record), then given the column, NULL on its
 * rows (each its principal's own claim to its chain); new correlated
 * events record the row they joined through. */
static void a_log_of_schema_4_gains_chain_via_null_on_its_rows(void **state)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1:1", .correlate = true };
	struct cde_audit_filter all = { 0 };
	struct cde_catalog *catalog = load_catalog();
	struct cde_audit_store *s;
	struct cde_audit_verify v;
	uint64_t via_sum = 0;
	char from[1024], err[256];

	snprintf(dir, sizeof(dir), "/tmp/cde-schema-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	snprintf(from, sizeof(from), "%s/tests/data/audit/v4-067fcc7.db", src ? src : ".");
	copy_file(from, db_path, 0600);

	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_schema_version(cde_audit_store_db(s)), 4);
	assert_int_equal(cde_audit_query(s, &all, sum_via, &via_sum), 0);
	assert_int_equal(via_sum, 0);
	cde_audit_store_close(s);

	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT count(*) FROM events WHERE chain_via IS NULL"), 5);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.head_seq, 5);

	/* A test run of data-contract's subject dc-1 joins row 5's chain. */
	assert_int_equal(cde_event_new(cde_catalog_newest(catalog), "dev.cdevents.testsuiterun.finished.0.3.0",
				       "/ci", "dc-1", &e.event), 0);
	snprintf(e.received_at, sizeof(e.received_at), "2026-12-07T21:00:00.000000Z");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	assert_int_equal(e.seq, 6);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT chain_via FROM events WHERE seq = 6"), 5);
	cde_event_unref(e.event);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	cde_audit_store_close(s);
	cde_catalog_free(catalog);
	remove_dir();
}

/* The same file of schema 4 gains retired_chains, empty (what its
 * retention cut before is gone with its chains' names); read as it is,
 * before, no chain of it is retired. Its next retention names the chains
 * it cuts. */
static void a_log_before_schema_6_gains_an_empty_retired_chains(void **state)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	struct cde_audit_retention policy = { .max_age_s = 1, .max_rows = 2 };
	struct cde_audit_retention_run run;
	struct cde_audit_store *s;
	uint64_t seq = 99;
	char from[1024], err[256];

	snprintf(dir, sizeof(dir), "/tmp/cde-schema-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	snprintf(from, sizeof(from), "%s/tests/data/audit/v4-067fcc7.db", src ? src : ".");
	copy_file(from, db_path, 0600);

	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)), 0);
	assert_false(has_table(cde_audit_store_db(s), "retired_chains"));
	assert_int_equal(cde_audit_chain_retired(s, "anything", &seq), 0);
	assert_int_equal(seq, 0);
	cde_audit_store_close(s);

	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT count(*) FROM retired_chains"), 0);
	assert_int_equal(cde_audit_retain(s, &policy, 2000000000, &run, err, sizeof(err)), 0);
	assert_int_equal(run.through_seq, 2);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT count(*) FROM retired_chains"), 1);
	assert_int_equal(cde_audit_chain_retired(s, "release-1", &seq), 0);
	assert_int_equal(seq, 2);
	cde_audit_store_close(s);
	remove_dir();
}

/* Likewise retired_artifacts (step 7): the schema 4 file gains it empty,
 * read as it is has none, and its next retention names the artifact its
 * deleted rows named (row 1 names etl, row 2 none). */
static void a_log_before_schema_7_gains_an_empty_retired_artifacts(void **state)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	const char *etl = "pkg:oci/etl@sha256%3Aaaa";
	struct cde_audit_retention policy = { .max_age_s = 1, .max_rows = 2 };
	struct cde_audit_retention_run run;
	struct cde_audit_store *s;
	uint64_t seq = 99;
	char from[1024], err[256];

	snprintf(dir, sizeof(dir), "/tmp/cde-schema-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/audit.db", dir);
	snprintf(from, sizeof(from), "%s/tests/data/audit/v4-067fcc7.db", src ? src : ".");
	copy_file(from, db_path, 0600);

	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)), 0);
	assert_false(has_table(cde_audit_store_db(s), "retired_artifacts"));
	assert_int_equal(cde_audit_artifact_retired(s, etl, &seq), 0);
	assert_int_equal(seq, 0);
	cde_audit_store_close(s);

	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(user_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT count(*) FROM retired_artifacts"), 0);
	assert_int_equal(cde_audit_retain(s, &policy, 2000000000, &run, err, sizeof(err)), 0);
	assert_int_equal(run.through_seq, 2);
	assert_int_equal(count_of(cde_audit_store_db(s), "SELECT count(*) FROM retired_artifacts"), 1);
	assert_int_equal(cde_audit_artifact_retired(s, etl, &seq), 0);
	assert_int_equal(seq, 1);
	cde_audit_store_close(s);
	remove_dir();
}

static void a_log_written_by_a_newer_cdeventsd_is_refused(void **state)
{
	struct cde_audit_store *s;
	char err[256];

	v1_fixture();
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	cde_audit_store_close(s);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), -EROFS);
	assert_non_null(strstr(err, "newer cdeventsd (schema 99"));
	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)), -EROFS);
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_file_gets_every_table_at_the_current_version),
		cmocka_unit_test(a_log_written_by_f0bca64_migrates_verifies_and_takes_events),
		cmocka_unit_test(an_older_log_without_some_tables_gains_them),
		cmocka_unit_test(a_log_of_schema_4_gains_chain_via_null_on_its_rows),
		cmocka_unit_test(a_log_before_schema_6_gains_an_empty_retired_chains),
		cmocka_unit_test(a_log_before_schema_7_gains_an_empty_retired_artifacts),
		cmocka_unit_test(a_log_written_by_a_newer_cdeventsd_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
