/* The audit store and its hash chain: events get consecutive sequence
 * numbers, duplicates are recognized, a group commits or rolls back as a
 * whole, and every way of altering the stored rows is detected at the
 * right sequence number. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"

static char db_path[64];

static struct cde_event *event(const char *id, const char *subject)
{
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0",
				       "/ci", subject, &ev), 0);
	assert_int_equal(cde_event_set_id(ev, id), 0);
	assert_int_equal(cde_event_set_chain_id(ev, "release-1"), 0);
	cJSON *content = cde_event_content(ev);

	cJSON_AddStringToObject(cJSON_AddObjectToObject(content, "environment"), "id", "prod");
	cJSON_AddStringToObject(content, "artifactId", "pkg:oci/etl@1");
	return ev;
}

static void entry(struct cde_journal_entry *e, const char *id, const char *subject)
{
	memset(e, 0, sizeof(*e));
	e->event = event(id, subject);
	e->principal = "jenkins";
	e->peer = "127.0.0.1:4242";
	snprintf(e->received_at, sizeof(e->received_at), "2025-01-31T12:00:00.000000Z");
}

static void release(struct cde_journal_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cde_event_unref(e[i].event);
}

/* A fresh store with five events, seq 1 to 5. */
static struct cde_audit_store *five_events(void)
{
	struct cde_audit_store *s;
	struct cde_journal_entry e[5];
	char err[256], id[16];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "ev-%d", i + 1);
		entry(&e[i], id, i % 2 ? "svc-a" : "svc-b");
	}
	assert_int_equal(cde_audit_store_append(s, e, 5, err, sizeof(err)), 0);
	release(e, 5);
	return s;
}

static void drop(struct cde_audit_store *s)
{
	char wal[80], shm[80], head[80];

	cde_audit_store_close(s);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	snprintf(head, sizeof(head), "%s-head", db_path);
	unlink(db_path);
	unlink(wal);
	unlink(shm);
	unlink(head);
}

static uint64_t verify_bad_seq(struct cde_audit_store *s, const char *sql)
{
	struct cde_audit_verify v;
	char *msg = NULL;

	if (sql && sqlite3_exec(cde_audit_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	int r = cde_audit_store_verify(s, NULL, 0, 0, &v);

	return r == 0 ? 0 : v.bad_seq;
}

static void appends_get_consecutive_seqs_and_duplicates_are_recognized(void **state)
{
	struct cde_audit_store *s = five_events();
	struct cde_journal_entry e[3];
	struct cde_audit_verify v;
	char err[256];

	entry(&e[0], "ev-2", "svc-a");	/* already stored */
	entry(&e[1], "ev-6", "svc-a");
	entry(&e[2], "ev-6", "svc-a");	/* twice in one group */
	assert_int_equal(cde_audit_store_append(s, e, 3, err, sizeof(err)), 0);
	assert_true(e[0].duplicate);
	assert_int_equal(e[0].seq, 0);
	assert_false(e[1].duplicate);
	assert_int_equal(e[1].seq, 6);
	assert_true(e[2].duplicate);
	release(e, 3);
	assert_int_equal(cde_audit_store_head(s), 6);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.rows, 6);
	assert_int_equal(v.head_seq, 6);
	drop(s);
}

static void a_group_commits_or_rolls_back_as_a_whole(void **state)
{
	struct cde_audit_store *s = five_events();
	struct cde_journal_entry a[2], b[1];
	struct cde_audit_verify v;
	char err[256];

	entry(&a[0], "g-1", "x");
	entry(&a[1], "g-2", "x");
	entry(&b[0], "g-3", "x");
	assert_int_equal(cde_audit_store_begin(s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_add(s, a, 2, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_add(s, b, 1, err, sizeof(err)), 0);
	assert_int_equal(b[0].seq, 8);
	cde_audit_store_rollback(s);
	assert_int_equal(cde_audit_store_head(s), 5);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.rows, 5);

	assert_int_equal(cde_audit_store_begin(s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_add(s, a, 2, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_add(s, b, 1, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_commit(s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_head(s), 8);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	release(a, 2);
	release(b, 1);
	drop(s);
}

static void changing_any_column_of_a_row_breaks_the_chain_at_that_row(void **state)
{
	static const char *const columns[] = {
		"id", "source", "type", "subject", "chain_id", "artifact_id", "timestamp", "received_at",
		"spec_version", "principal", "peer", "event", "prev_hash", "hash",
	};

	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		struct cde_audit_store *s = five_events();
		char sql[256];

		/* One character changed in the middle of the value. */
		snprintf(sql, sizeof(sql),
			 "UPDATE events SET %s = substr(%s, 1, length(%s)/2) ||"
			 " CASE substr(%s, length(%s)/2+1, 1) WHEN 'a' THEN 'b' ELSE 'a' END ||"
			 " substr(%s, length(%s)/2+2) WHERE seq = 3",
			 columns[i], columns[i], columns[i], columns[i], columns[i], columns[i], columns[i]);
		if (verify_bad_seq(s, sql) != 3)
			fail_msg("changing %s of row 3 was not detected at seq 3", columns[i]);
		drop(s);
	}
}

static void deleting_inserting_or_reordering_rows_is_detected(void **state)
{
	struct cde_audit_store *s;

	s = five_events();
	assert_int_equal(verify_bad_seq(s, NULL), 0);
	assert_int_equal(verify_bad_seq(s, "DELETE FROM events WHERE seq = 3"), 3);
	drop(s);

	/* A row slipped in at 3: everything after moves up by one. */
	s = five_events();
	assert_int_equal(verify_bad_seq(s,
		"UPDATE events SET seq = -seq WHERE seq >= 3;"
		"UPDATE events SET seq = 1 - seq WHERE seq < 0;"
		"INSERT INTO events SELECT 3, 'forged', source, type, subject, chain_id, artifact_id,"
		" timestamp, received_at, spec_version, principal, peer, event, hash, hash, digest, NULL, chain_via, NULL"
		" FROM events WHERE seq = 2;"), 3);
	drop(s);

	/* Rows 2 and 3 swapped. */
	s = five_events();
	assert_int_equal(verify_bad_seq(s,
		"UPDATE events SET seq = 100 WHERE seq = 2;"
		"UPDATE events SET seq = 2 WHERE seq = 3;"
		"UPDATE events SET seq = 3 WHERE seq = 100;"), 2);
	drop(s);

	/* The newest row removed: the recorded head still names it. */
	s = five_events();
	assert_int_equal(verify_bad_seq(s, "DELETE FROM events WHERE seq = 5"), 5);
	drop(s);

	/* A row appended without the chain: seq 6 after the recorded head. */
	s = five_events();
	assert_int_equal(verify_bad_seq(s,
		"INSERT INTO events SELECT 6, 'extra', source, type, subject, chain_id, artifact_id,"
		" timestamp, received_at, spec_version, principal, peer, event, hash, hash, digest, NULL, chain_via, NULL"
		" FROM events WHERE seq = 5;"), 6);
	drop(s);
}

static void correlation_sees_events_earlier_in_the_same_group(void **state)
{
	struct cde_audit_store *s;
	struct cde_journal_entry e[2];
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	entry(&e[0], "dep-1", "etl");
	entry(&e[1], "dep-2", "etl-canary");	/* another subject, the same artifact */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cde_event_set_chain_id(e[i].event, NULL), 0);
		e[i].correlate = true;
	}
	assert_int_equal(cde_audit_store_append(s, e, 2, err, sizeof(err)), 0);
	assert_non_null(cde_event_chain_id(e[0].event));
	assert_string_equal(cde_event_chain_id(e[1].event), cde_event_chain_id(e[0].event));
	const cJSON *links = cJSON_GetObjectItem(cJSON_GetObjectItem(cde_event_json(e[1].event), "context"), "links");
	const cJSON *from = cJSON_GetObjectItem(cJSON_GetArrayItem(links, 0), "from");

	assert_string_equal(cJSON_GetObjectItem(from, "contextId")->valuestring, "dep-1");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cde_event_json(e[0].event), "context"), "links"));
	assert_int_equal(verify_bad_seq(s, NULL), 0);
	release(e, 2);
	drop(s);
}

/* What an attacker with write access and no key would do: recompute every
 * hash after an edit so that the chain is consistent again. */
static void rechain(struct cde_audit_store *s)
{
	sqlite3 *db = cde_audit_store_db(s);
	sqlite3_stmt *sel, *upd;
	uint8_t prev[CDE_HASH_LEN] = { 0 }, hash[CDE_HASH_LEN];
	char hex[CDE_HASH_HEX_LEN], prev_hex[CDE_HASH_HEX_LEN], sql[256];
	uint64_t last = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, id, source, type, subject, chain_id, artifact_id,"
					    " timestamp, received_at, spec_version, principal, peer, event"
					    " FROM events ORDER BY seq", -1, &sel, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", -1,
					    &upd, NULL), SQLITE_OK);
	while (sqlite3_step(sel) == SQLITE_ROW) {
		struct cde_audit_row row = {
			.seq = (uint64_t)sqlite3_column_int64(sel, 0),
		};
		const char **f[] = { &row.id, &row.source, &row.type, &row.subject, &row.chain_id,
				     &row.artifact_id, &row.timestamp, &row.received_at, &row.spec_version,
				     &row.principal, &row.peer, &row.event };

		for (int i = 0; i < 12; i++)
			*f[i] = (const char *)sqlite3_column_text(sel, i + 1);
		cde_audit_row_hash(&row, prev, hash);
		cde_hash_to_hex(prev, prev_hex);
		cde_hash_to_hex(hash, hex);
		sqlite3_bind_text(upd, 1, prev_hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(upd, 2, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 3, (sqlite3_int64)row.seq);
		assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
		sqlite3_reset(upd);
		memcpy(prev, hash, CDE_HASH_LEN);
		last = row.seq;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	cde_hash_to_hex(prev, hex);
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%s' WHERE key = 'head_hash';"
		 "UPDATE meta SET value = '%llu' WHERE key = 'head_seq';", hex, (unsigned long long)last);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static const uint8_t test_key[32] = "0123456789abcdef0123456789abcdef";

/* Five events with a keyed checkpoint every 2 rows (after 2 and 4). */
static struct cde_audit_store *five_keyed_events(void)
{
	struct cde_audit_store *s;
	struct cde_journal_entry e[5];
	char err[256], id[16];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_checkpoints(s, test_key, sizeof(test_key), 2), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "ev-%d", i + 1);
		entry(&e[i], id, "svc");
	}
	assert_int_equal(cde_audit_store_append(s, e, 5, err, sizeof(err)), 0);
	release(e, 5);
	return s;
}

static uint64_t keyed_bad_seq(struct cde_audit_store *s, const uint8_t *key, const char **reason)
{
	static struct cde_audit_verify v;
	int r = cde_audit_store_verify(s, key, 32, 2, &v);

	*reason = v.reason;
	return r == 0 ? 0 : v.bad_seq;
}

static void keyed_checkpoints_show_a_chain_rewritten_as_a_whole(void **state)
{
	struct cde_audit_store *s = five_keyed_events();
	struct cde_audit_verify v;
	const char *why;

	assert_int_equal(cde_audit_store_verify(s, test_key, 32, 2, &v), 0);
	assert_int_equal(v.checkpoints, 2);

	/* Row 3 edited and the whole chain recomputed: the hashes alone
	 * cannot tell, the checkpoint after row 4 can. */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "UPDATE events SET principal = 'mallory' WHERE seq = 3",
				      NULL, NULL, NULL), SQLITE_OK);
	rechain(s);
	assert_int_equal(verify_bad_seq(s, NULL), 0);
	assert_int_equal(keyed_bad_seq(s, test_key, &why), 4);
	assert_non_null(strstr(why, "rewritten"));
	drop(s);

	/* A checkpoint removed. */
	s = five_keyed_events();
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "DELETE FROM checkpoints WHERE seq = 2", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(keyed_bad_seq(s, test_key, &why), 2);
	assert_non_null(strstr(why, "missing"));
	drop(s);

	/* Checked with another key, or forged without this one. */
	s = five_keyed_events();
	assert_int_equal(keyed_bad_seq(s, (const uint8_t *)"another key, another key, another", &why), 2);
	assert_non_null(strstr(why, "HMAC"));
	assert_int_equal(cde_audit_store_set_checkpoints(s, test_key, 16, 2), -EINVAL);
	drop(s);
}

static void a_reader_sees_the_chain_and_cannot_write(void **state)
{
	struct cde_audit_store *s = five_events(), *ro;
	struct cde_journal_entry e[1];
	struct cde_audit_verify v;
	char err[256];

	assert_int_equal(cde_audit_store_open(db_path, true, CDE_AUDIT_SYNC_FULL, &ro, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_verify(ro, NULL, 0, 0, &v), 0);
	assert_int_equal(v.head_seq, 5);
	entry(&e[0], "ro-1", "x");
	assert_int_equal(cde_audit_store_append(ro, e, 1, err, sizeof(err)), -EROFS);
	release(e, 1);
	cde_audit_store_close(ro);
	assert_int_equal(cde_audit_store_open("/nonexistent/dir/audit.db", true, CDE_AUDIT_SYNC_FULL, &ro,
					      err, sizeof(err)), -EIO);
	drop(s);
}

/* Retention. Five events received one a day, 2025-01-01 to 2025-01-05 at
 * noon; with @keyed, checkpoints every 2 rows and signed markers. */
static struct cde_audit_store *five_days(bool keyed)
{
	struct cde_audit_store *s;
	struct cde_journal_entry e[5];
	char err[256], id[16];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	if (keyed)
		assert_int_equal(cde_audit_store_set_checkpoints(s, test_key, sizeof(test_key), 2), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "day-%d", i + 1);
		entry(&e[i], id, "svc");
		snprintf(e[i].received_at, sizeof(e[i].received_at), "2025-01-%02dT12:00:00.000000Z", i + 1);
	}
	assert_int_equal(cde_audit_store_append(s, e, 5, err, sizeof(err)), 0);
	release(e, 5);
	return s;
}

/* 2025-01-06T00:00:00Z */
#define JAN_6_2025 1736121600
#define DAY 86400

static struct cde_audit_retention_run retain(struct cde_audit_store *s, struct cde_audit_retention p)
{
	struct cde_audit_retention_run run;
	char err[256] = "";

	if (cde_audit_retain(s, &p, JAN_6_2025, &run, err, sizeof(err)) != 0)
		fail_msg("retain: %s", err);
	return run;
}

static void retention_by_age_retires_a_prefix_and_the_rest_still_verifies(void **state)
{
	struct cde_audit_store *s = five_days(false);
	struct cde_journal_entry e[1];
	struct cde_audit_verify v;
	struct cde_audit_retention_run run;
	char err[256];

	/* Older than 3 days on Jan 6: received before Jan 3, 00:00: rows 1, 2. */
	run = retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	assert_int_equal(run.deleted, 2);
	assert_int_equal(run.through_seq, 2);
	assert_non_null(strstr(run.reason, "max_age"));
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.first_seq, 3);
	assert_int_equal(v.rows, 3);
	assert_int_equal(v.markers, 1);
	assert_int_equal(v.head_seq, 5);

	/* Nothing more is due: no run, no marker. */
	run = retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	assert_int_equal(run.deleted, 0);

	/* The chain goes on, and a second run adds a second marker. */
	entry(&e[0], "day-6", "svc");
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	assert_int_equal(e[0].seq, 6);
	release(e, 1);
	run = retain(s, (struct cde_audit_retention){ .max_age_s = DAY });
	assert_int_equal(run.through_seq, 4);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.first_seq, 5);
	assert_int_equal(v.rows, 2);
	assert_int_equal(v.markers, 2);
	drop(s);
}

static void retention_stops_at_the_slowest_reader_and_at_its_batch_size(void **state)
{
	struct cde_audit_store *s = five_days(false);
	struct cde_journal_entry e[1];
	struct cde_audit_verify v;
	char err[256];

	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 1, .keep_from = 3 }).through_seq, 2);
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 1, .max_rows = 1 }).through_seq, 3);
	/* Everything may go: the head stays, and the next row chains to it. */
	assert_int_equal(retain(s, (struct cde_audit_retention){ .max_age_s = 1 }).through_seq, 5);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.rows, 0);
	assert_int_equal(v.markers, 3);
	assert_int_equal(v.head_seq, 5);
	entry(&e[0], "day-6", "svc");
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	release(e, 1);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.first_seq, 6);
	assert_int_equal(v.head_seq, 6);
	drop(s);
}

static void retention_by_size_keeps_the_live_data_under_the_limit(void **state)
{
	struct cde_audit_store *s = five_days(false);
	struct cde_journal_entry e[200];
	struct cde_audit_verify v;
	struct cde_audit_retention_run run;
	uint64_t before;
	char err[256], id[16];

	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "bulk-%d", i);
		entry(&e[i], id, "svc");
	}
	assert_int_equal(cde_audit_store_append(s, e, 200, err, sizeof(err)), 0);
	release(e, 200);
	before = cde_audit_live_bytes(s);
	run = retain(s, (struct cde_audit_retention){ .max_bytes = before / 2 });
	assert_true(run.deleted >= 100);
	assert_non_null(strstr(run.reason, "max_size"));
	/* Pages free up unevenly (index pages stay half full), so a run
	 * estimates; the daemon runs again until nothing is due. */
	for (int i = 0; i < 10 && run.deleted; i++)
		run = retain(s, (struct cde_audit_retention){ .max_bytes = before / 2 });
	assert_int_equal(run.deleted, 0);
	assert_true(cde_audit_live_bytes(s) <= before / 2);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_true(v.rows > 0 && v.rows < 205);
	drop(s);
}

static void deletions_that_are_not_retention_are_detected(void **state)
{
	struct cde_audit_store *s = five_days(false);
	const char *why;

	retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	/* A row after the marker removed, or the marker itself. */
	assert_int_equal(verify_bad_seq(s, "DELETE FROM events WHERE seq = 3"), 3);
	drop(s);
	s = five_days(false);
	retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	assert_int_equal(verify_bad_seq(s, "DELETE FROM retention"), 1);
	drop(s);
	/* A marker edited to cover more rows than it did. */
	s = five_days(false);
	retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	assert_int_equal(verify_bad_seq(s, "UPDATE retention SET deleted = 1"), 2);
	drop(s);

	/* Without the key anyone able to compute SHA-256 can write a marker;
	 * with it, only the daemon can. */
	s = five_days(true);
	retain(s, (struct cde_audit_retention){ .max_age_s = 3 * DAY });
	assert_int_equal(keyed_bad_seq(s, test_key, &why), 0);
	assert_int_equal(verify_bad_seq(s, "UPDATE retention SET mac = NULL"), 0);
	assert_int_equal(keyed_bad_seq(s, test_key, &why), 2);
	assert_non_null(strstr(why, "not signed"));
	drop(s);
}

/* A crafted bundle is refused, never trusted: numbers beyond 64 bits in
 * its header (found by fuzzing) included. */
static void a_crafted_bundle_header_is_refused(void **state)
{
	static const char *const headers[] = {
		"{\"cdeventsdAuditBundle\": 1e30, \"headHash\": \"x\"}\n",
		"{\"cdeventsdAuditBundle\": -1}\n",
		"[]\n",
		"",
	};
	struct cde_audit_verify v;

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		FILE *f = fmemopen((void *)headers[i], strlen(headers[i]) + 1, "r");

		assert_non_null(f);
		assert_int_not_equal(cde_audit_bundle_verify(f, NULL, 0, 0, &v), 0);
		fclose(f);
	}
}

/* The attack of issue 11: rows cut off the end and meta pointed at the
 * new last row. The checkpoint after row 4 still names seq 4. */
static const char cut_tail_sql[] =
	"DELETE FROM events WHERE seq > 3;"
	"UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 3) WHERE key = 'head_hash';"
	"UPDATE meta SET value = '3' WHERE key = 'head_seq';";

static void a_checkpoint_past_the_head_fails_verify_with_or_without_the_key(void **state)
{
	struct cde_audit_store *s = five_keyed_events();
	struct cde_audit_verify v;
	const char *why;

	assert_int_equal(verify_bad_seq(s, cut_tail_sql), 4);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), -EBADMSG);
	assert_non_null(strstr(v.reason, "a checkpoint names seq 4"));
	assert_int_equal(keyed_bad_seq(s, test_key, &why), 4);
	drop(s);
}

static void the_tail_check_finds_a_cut_tail_and_an_accepted_loss_keeps_its_seqs(void **state)
{
	struct cde_audit_store *s = five_keyed_events();
	struct cde_journal_entry e;
	struct cde_audit_verify v;
	char err[256];

	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), cut_tail_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), -ENODATA);
	assert_int_equal(v.head_seq, 3);
	assert_int_equal(v.claimed_head, 5);	/* the head file was written at the commit of 5 */
	assert_int_equal(v.head_file_seq, 5);
	assert_int_equal(v.rows, 3);
	assert_int_equal(cde_audit_store_accept_loss(s, &v, err, sizeof(err)), 0);

	entry(&e, "ev-after", "svc");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	assert_int_equal(e.seq, 6);	/* 4 and 5 are never given out again */
	release(&e, 1);
	assert_int_equal(cde_audit_store_verify(s, test_key, 32, 2, &v), 0);
	assert_int_equal(v.n_lost, 1);
	assert_int_equal(v.lost_first[0], 4);
	assert_int_equal(v.lost_last[0], 5);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);

	/* The loss record is in the chain: editing it breaks it. */
	assert_int_not_equal(verify_bad_seq(s, "UPDATE gaps SET last = 4"), 0);
	drop(s);
}

static void the_tail_check_refuses_an_edited_last_row(void **state)
{
	struct cde_audit_store *s = five_events();
	struct cde_audit_verify v;

	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	assert_int_equal(v.rows, 5);
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "UPDATE events SET peer = 'x' WHERE seq = 5",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), -EBADMSG);
	assert_int_equal(v.bad_seq, 5);
	drop(s);
}

static void a_store_does_not_append_after_another_writer_moved_the_head(void **state)
{
	struct cde_audit_store *a = five_events(), *b;
	struct cde_journal_entry e;
	char err[256];

	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &b, err, sizeof(err)), 0);
	entry(&e, "ev-b", "svc");
	assert_int_equal(cde_audit_store_append(b, &e, 1, err, sizeof(err)), 0);
	release(&e, 1);
	cde_audit_store_close(b);

	entry(&e, "ev-a", "svc");
	assert_int_equal(cde_audit_store_append(a, &e, 1, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "another writer"));
	assert_int_equal(e.seq, 0);
	release(&e, 1);
	/* Nor does an empty commit (the writer's probe) write its stale head. */
	assert_int_equal(cde_audit_store_append(a, NULL, 0, err, sizeof(err)), -ESTALE);
	assert_int_equal(verify_bad_seq(a, NULL), 0);
	drop(a);
}

static void a_resent_event_is_a_duplicate_and_other_content_under_its_id_a_clash(void **state)
{
	struct cde_audit_store *s = five_events();
	struct cde_journal_entry e[2];
	struct cde_audit_verify v;
	char err[256];

	/* ev-2 again, with the digest it was first stored with (none). */
	entry(&e[0], "ev-2", "svc-a");
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	assert_true(e[0].duplicate);
	assert_false(e[0].conflict);	/* rows without a digest cannot be compared */
	release(e, 1);

	entry(&e[0], "ev-7", "svc-a");
	e[0].has_digest = true;
	memset(e[0].digest, 7, sizeof(e[0].digest));
	assert_int_equal(cde_audit_store_append(s, e, 1, err, sizeof(err)), 0);
	assert_int_equal(e[0].seq, 6);
	release(e, 1);

	/* A new event and a clash in one batch: neither is stored. */
	entry(&e[0], "ev-8", "svc-a");
	entry(&e[1], "ev-7", "svc-a");
	e[1].has_digest = true;
	memset(e[1].digest, 8, sizeof(e[1].digest));
	assert_int_equal(cde_audit_store_append(s, e, 2, err, sizeof(err)), 0);
	assert_true(e[1].conflict);
	assert_int_equal(e[1].conflict_seq, 6);
	assert_int_equal(e[0].seq, 0);
	release(e, 2);

	/* The same content again is a plain duplicate; ev-8 is still new. */
	entry(&e[0], "ev-7", "svc-a");
	e[0].has_digest = true;
	memset(e[0].digest, 7, sizeof(e[0].digest));
	entry(&e[1], "ev-8", "svc-a");
	assert_int_equal(cde_audit_store_append(s, e, 2, err, sizeof(err)), 0);
	assert_true(e[0].duplicate && !e[0].conflict);
	assert_int_equal(e[1].seq, 7);
	release(e, 2);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.head_seq, 7);
	drop(s);
}

static void a_log_written_before_digests_opens_and_takes_events(void **state)
{
	struct cde_audit_store *s = five_events();
	struct cde_journal_entry e;
	char err[256];

	/* A version 1 file (test_audit_schema.c opens a real one). */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "ALTER TABLE events DROP COLUMN digest;"
				      "DROP TABLE gaps; PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	cde_audit_store_close(s);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	entry(&e, "ev-6", "svc");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	assert_int_equal(e.seq, 6);
	release(&e, 1);
	assert_int_equal(verify_bad_seq(s, NULL), 0);
	drop(s);
}

static void a_bundle_carries_an_accepted_loss_and_verifies_offline(void **state)
{
	struct cde_audit_store *s = five_keyed_events();
	struct cde_journal_entry e;
	struct cde_audit_verify v;
	char err[256];
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), cut_tail_sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), -ENODATA);
	assert_int_equal(cde_audit_store_accept_loss(s, &v, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "ev-after-%d", i);
		entry(&e, id, "svc");
		assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
		release(&e, 1);
	}

	/* Rows on both sides of the loss, several after it. */
	assert_int_equal(cde_audit_export(s, NULL, NULL, f), 6);
	rewind(f);
	assert_int_equal(cde_audit_bundle_verify(f, test_key, 32, 2, &v), 0);
	assert_int_equal(v.n_lost, 1);
	assert_int_equal(v.lost_first[0], 4);
	assert_int_equal(v.head_seq, 8);
	fclose(f);
	drop(s);
}

static void a_key_added_or_rotated_does_not_stop_a_start(void **state)
{
	struct cde_audit_store *s = five_events();	/* no key: no checkpoints */
	static const uint8_t other_key[32] = { 9 };
	struct cde_journal_entry e;
	struct cde_audit_verify v;
	char err[256];

	assert_int_equal(cde_audit_store_set_checkpoints(s, test_key, sizeof(test_key), 2), 0);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	entry(&e, "ev-6", "svc");
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	release(&e, 1);
	/* Checkpoint 6 carries test_key's MAC; the next start has another. */
	assert_int_equal(cde_audit_store_set_checkpoints(s, other_key, sizeof(other_key), 3), 0);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	/* A checkpoint that disagrees with its row still stops it. */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "UPDATE checkpoints SET hash = "
				      "(SELECT hash FROM events WHERE seq = 5) WHERE seq = 6", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), -EBADMSG);
	assert_int_equal(v.bad_seq, 6);
	drop(s);
}

static void a_long_log_is_checked_from_near_its_end(void **state)
{
	enum { N = 10050 };
	struct cde_audit_store *s = five_events();
	struct cde_journal_entry *e = calloc(N, sizeof(*e));
	struct cde_audit_verify v;
	char err[256], id[24];

	assert_non_null(e);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "bulk-%d", i);
		entry(&e[i], id, "svc");
	}
	assert_int_equal(cde_audit_store_append(s, e, N, err, sizeof(err)), 0);
	release(e, N);
	free(e);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	assert_int_equal(v.rows, N + 5);
	assert_int_equal(v.head_seq, N + 5);
	/* An edit near the start is outside the window: verify finds it. */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "UPDATE events SET peer = 'x' WHERE seq = 2",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), 0);
	assert_int_equal(verify_bad_seq(s, NULL), 2);
	/* The tail cut is found all the same. */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "DELETE FROM events WHERE seq > 10040;"
				      "UPDATE meta SET value = '10040' WHERE key = 'head_seq';"
				      "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 10040)"
				      " WHERE key = 'head_hash'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_check_tail(s, &v), -ENODATA);
	assert_int_equal(v.claimed_head, N + 5);
	drop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends_get_consecutive_seqs_and_duplicates_are_recognized),
		cmocka_unit_test(a_group_commits_or_rolls_back_as_a_whole),
		cmocka_unit_test(changing_any_column_of_a_row_breaks_the_chain_at_that_row),
		cmocka_unit_test(deleting_inserting_or_reordering_rows_is_detected),
		cmocka_unit_test(correlation_sees_events_earlier_in_the_same_group),
		cmocka_unit_test(keyed_checkpoints_show_a_chain_rewritten_as_a_whole),
		cmocka_unit_test(a_reader_sees_the_chain_and_cannot_write),
		cmocka_unit_test(retention_by_age_retires_a_prefix_and_the_rest_still_verifies),
		cmocka_unit_test(retention_stops_at_the_slowest_reader_and_at_its_batch_size),
		cmocka_unit_test(retention_by_size_keeps_the_live_data_under_the_limit),
		cmocka_unit_test(deletions_that_are_not_retention_are_detected),
		cmocka_unit_test(a_crafted_bundle_header_is_refused),
		cmocka_unit_test(a_checkpoint_past_the_head_fails_verify_with_or_without_the_key),
		cmocka_unit_test(the_tail_check_finds_a_cut_tail_and_an_accepted_loss_keeps_its_seqs),
		cmocka_unit_test(the_tail_check_refuses_an_edited_last_row),
		cmocka_unit_test(a_store_does_not_append_after_another_writer_moved_the_head),
		cmocka_unit_test(a_resent_event_is_a_duplicate_and_other_content_under_its_id_a_clash),
		cmocka_unit_test(a_log_written_before_digests_opens_and_takes_events),
		cmocka_unit_test(a_bundle_carries_an_accepted_loss_and_verifies_offline),
		cmocka_unit_test(a_key_added_or_rotated_does_not_stop_a_start),
		cmocka_unit_test(a_long_log_is_checked_from_near_its_end),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
