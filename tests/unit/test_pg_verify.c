/* Verifying the chain on PostgreSQL: a log written by the audit store
 * (real events, real hashes), copied row for row into the database,
 * verifies there, also after retention; every way of altering it shows
 * at the right seq, as on audit.db; a log with accepted losses is
 * refused, not passed. A log the PostgreSQL store wrote with a checkpoint
 * key verifies with that key (keyed checkpoints, signed retention
 * markers) and with no other. Its Merkle tree is recomputed from its
 * rows, as audit.db's: an altered row, an altered stored hash and a
 * missing tile are named at their leaf. Runs against the throwaway cluster of
 * tests/pg/cluster (CDE_PG_URL). */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_schema.h"
#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/pg/pg_tree_verify.h"
#include "sinks/audit/pg/pg_verify.h"

#define N 40
#define COLUMNS "seq, id, source, type, subject, chain_id, artifact_id, timestamp, received_at, spec_version," \
	" principal, peer, event, prev_hash, hash"

static PGconn *pg;

static void exec_pg(const char *sql)
{
	char err[256];

	if (cde_pg_exec(pg, sql, err, sizeof(err), "test") < 0)
		fail_msg("%s", err);
}

/* N events to store, received a second apart from 12:00:00. */
static void events(struct cde_journal_entry e[N])
{
	char id[16];

	for (int i = 0; i < N; i++) {
		struct cde_event *ev = NULL;

		snprintf(id, sizeof(id), "ev-%d", i + 1);
		assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0", "/ci",
					       i % 2 ? "svc-a" : "svc-b", &ev), 0);
		assert_int_equal(cde_event_set_id(ev, id), 0);
		assert_int_equal(cde_event_set_chain_id(ev, "release-1"), 0);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(cde_event_content(ev), "environment"), "id", "prod");
		memset(&e[i], 0, sizeof(e[i]));
		e[i].event = ev;
		e[i].principal = "jenkins";
		e[i].peer = "127.0.0.1:4242";
		snprintf(e[i].received_at, sizeof(e[i].received_at), "2026-12-07T12:00:%02d.000000Z", i);
	}
}

/* N events appended by the audit store to a new audit.db at @path. */
static struct cde_audit_store *written(const char *path)
{
	struct cde_journal_entry e[N];
	struct cde_audit_store *s;
	char err[256];

	remove_store(path);
	assert_int_equal(cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	events(e);
	assert_int_equal(cde_audit_store_append(s, e, N, err, sizeof(err)), 0);
	for (int i = 0; i < N; i++)
		cde_event_unref(e[i].event);
	return s;
}

/* Retention on @s with a cut-off at 12:00:@second: rows deleted. */
static uint64_t retain(struct cde_audit_store *s, int second)
{
	struct cde_audit_retention_run run;
	char err[256];

	/* now - max_age is the cut-off: 2026-12-07T12:00:00Z is 1796644800. */
	assert_int_equal(cde_audit_retain(s, &(struct cde_audit_retention){ .max_age_s = 3600 },
					  1796644800 + second + 3600, &run, err, sizeof(err)), 0);
	return run.deleted;
}

/* The database holds exactly the rows of @s, and the head after them. */
static void copy_log(struct cde_audit_store *s)
{
	sqlite3_stmt *st;
	const char *v[15];

	exec_pg("BEGIN");
	exec_pg("TRUNCATE events, retention");
	assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(s), "SELECT " COLUMNS " FROM events ORDER BY seq", -1,
					    &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		PGresult *res;

		for (int k = 0; k < 15; k++)
			v[k] = (const char *)sqlite3_column_text(st, k);
		res = PQexecParams(pg, "INSERT INTO events(" COLUMNS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"
				   "$12,$13,$14,$15)", 15, NULL, v, NULL, NULL, 0);
		if (!cde_pg_ok(res, false))
			fail_msg("%s", PQerrorMessage(pg));
		PQclear(res);
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(cde_audit_store_db(s), "SELECT seq, deleted, at, reason, anchor, prev, hash,"
					    " mac FROM retention ORDER BY seq", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		PGresult *res;

		for (int k = 0; k < 8; k++)
			v[k] = (const char *)sqlite3_column_text(st, k);
		res = PQexecParams(pg, "INSERT INTO retention VALUES ($1,$2,$3,$4,$5,$6,$7,$8)", 8, NULL, v, NULL,
				   NULL, 0);
		assert_true(cde_pg_ok(res, false));
		PQclear(res);
	}
	sqlite3_finalize(st);
	exec_pg("UPDATE log_head SET (seq, hash) = (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1)");
	exec_pg("COMMIT");
}

/* Runs @sql on a fresh copy of the log; the seq verify stops at, 0 when
 * intact. */
static uint64_t broken_at(struct cde_audit_store *s, const char *sql)
{
	struct cde_audit_verify v;
	int r;

	copy_log(s);
	exec_pg(sql);
	r = cde_pg_audit_verify(pg, NULL, 0, 0, &v);
	if (r == 0)
		return 0;
	assert_int_equal(r, -EBADMSG);
	assert_true(v.reason[0] != '\0');
	return v.bad_seq;
}

static void a_copied_log_verifies_and_each_alteration_shows_where(void **state)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct cde_audit_verify v, on_sqlite;
	struct cde_audit_store *s;
	char err[256], path[64];

	(void)state;
	if (cde_pg_connect(&o, "cdeventsd test", &pg, err, sizeof(err)) < 0 ||
	    cde_pg_schema_migrate(pg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	snprintf(path, sizeof(path), "/tmp/cde-pg-verify-%d.db", (int)getpid());
	s = written(path);

	/* An empty log is intact. */
	assert_int_equal(cde_pg_audit_verify(pg, NULL, 0, 0, &v), 0);
	assert_int_equal(v.rows, 0);

	copy_log(s);
	assert_int_equal(cde_pg_audit_verify(pg, NULL, 0, 0, &v), 0);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &on_sqlite), 0);
	assert_int_equal(v.rows, N);
	assert_int_equal(v.head_seq, N);
	assert_string_equal(v.head_hash, on_sqlite.head_hash);

	assert_int_equal(broken_at(s, "UPDATE events SET subject = 'svc-x' WHERE seq = 7"), 7);
	assert_int_equal(broken_at(s, "UPDATE events SET event = replace(event, 'prod', 'dev') WHERE seq = 9"), 9);
	assert_int_equal(broken_at(s, "UPDATE events SET received_at = '2026-12-07T12:00:00.000001Z'"
				      " WHERE seq = 11"), 11);
	assert_int_equal(broken_at(s, "DELETE FROM events WHERE seq = 12"), 12);
	/* Swapping two rows' seqs: the first one moved breaks. */
	assert_int_equal(broken_at(s, "UPDATE events SET seq = -seq WHERE seq IN (20, 21);"
				      "UPDATE events SET seq = 41 + seq WHERE seq IN (-20, -21)"), 20);
	/* Cut from the end (and the head put back): the head names it. */
	assert_int_equal(broken_at(s, "DELETE FROM events WHERE seq > 38"), 39);
	/* The head names another hash for the last row: that row was
	 * replaced by one that chains, which only the head shows. */
	assert_int_equal(broken_at(s, "UPDATE log_head SET hash = repeat('ab', 32)"), N);

	/* Accepted losses are not walked here yet: refused, not passed. */
	copy_log(s);
	exec_pg("INSERT INTO gaps VALUES (3, 2, '2026-12-07T13:00:00Z', 'lost', repeat('0', 64), repeat('1', 64),"
		" NULL)");
	assert_int_equal(cde_pg_audit_verify(pg, NULL, 0, 0, &v), -EOPNOTSUPP);
	assert_non_null(strstr(v.reason, "accepted losses"));
	exec_pg("TRUNCATE gaps");

	/* After retention (rows received before 12:00:20 retired, twice):
	 * the chain goes on from the latest marker's anchor, as on audit.db. */
	assert_int_equal(retain(s, 10), 10);
	assert_int_equal(retain(s, 20), 10);
	copy_log(s);
	assert_int_equal(cde_pg_audit_verify(pg, NULL, 0, 0, &v), 0);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &on_sqlite), 0);
	assert_int_equal(v.first_seq, 21);
	assert_int_equal(v.markers, 2);
	assert_int_equal(v.rows, N - 20);
	assert_string_equal(v.head_hash, on_sqlite.head_hash);
	assert_int_equal(broken_at(s, "UPDATE retention SET reason = 'max_age 1d' WHERE seq = 10"), 10);
	assert_int_equal(broken_at(s, "DELETE FROM retention WHERE seq = 10"), 20);
	assert_int_equal(broken_at(s, "DELETE FROM events WHERE seq = 21"), 21);

	cde_audit_store_close(s);
	remove_store(path);
	PQfinish(pg);
}

/* verify with @key (NULL: none) every @every rows: the seq it stops at,
 * 0 when intact (@v then holds what it counted). */
static uint64_t keyed_broken_at(const uint8_t *key, unsigned every, struct cde_audit_verify *v)
{
	int r = cde_pg_audit_verify(pg, key, key ? 32 : 0, every, v);

	if (r == 0)
		return 0;
	assert_int_equal(r, -EBADMSG);
	return v->bad_seq;
}

/* Connects pg to an emptied database and writes N events there with
 * the PostgreSQL store (checkpoint @key, else NULL, every @every rows);
 * returns the store. */
static struct cde_pg_store *pg_written(const uint8_t *key, size_t key_len, unsigned every)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
	struct cde_journal_entry e[N];
	struct cde_pg_store_opened opened;
	struct cde_pg_store *st;
	char err[256];

	if (cde_pg_connect(&o, "cdeventsd test", &pg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	exec_pg("TRUNCATE events, retention, checkpoints, gaps, tree_tiles, tree_checkpoints;"
		" UPDATE log_head SET seq = 0, tree_size = 0, hash = repeat('0', 64)");
	if (cde_pg_store_open(&o, key, key_len, every, &st, &opened, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	events(e);
	if (be->begin(st, err, sizeof(err)) < 0 || be->add(st, e, N, err, sizeof(err)) < 0 ||
	    be->commit(st, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (int i = 0; i < N; i++)
		cde_event_unref(e[i].event);
	return st;
}

static void a_keyed_log_verifies_with_its_key_only(void **state)
{
	static const uint8_t key[32] = "the checkpoint key of this test", other[32] = "another key, of somebody else";
	const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
	struct cde_audit_retention_run run;
	struct cde_audit_verify v;
	char err[256];
	/* The writer: a keyed checkpoint after every 5th row. */
	struct cde_pg_store *st = pg_written(key, sizeof(key), 5);

	(void)state;

	assert_int_equal(keyed_broken_at(key, 5, &v), 0);
	assert_int_equal(v.checkpoints, N / 5);
	assert_int_equal(keyed_broken_at(NULL, 0, &v), 0);
	assert_int_equal(v.checkpoints, 0);
	/* Another key, or another interval, does not pass. */
	assert_int_equal(keyed_broken_at(other, 5, &v), 5);
	assert_non_null(strstr(v.reason, "HMAC is wrong"));
	assert_int_equal(keyed_broken_at(key, 4, &v), 4);
	assert_non_null(strstr(v.reason, "missing"));
	/* A chain rewritten from seq 12 on with hashes that link (as one
	 * without the key could) no longer matches the checkpoint at 15. */
	exec_pg("UPDATE checkpoints SET hash = repeat('cd', 32) WHERE seq = 15");
	assert_int_equal(keyed_broken_at(key, 5, &v), 15);
	exec_pg("DELETE FROM checkpoints WHERE seq = 15");
	assert_int_equal(keyed_broken_at(key, 5, &v), 15);
	assert_int_equal(keyed_broken_at(NULL, 0, &v), 0);

	/* Retention signs its markers with the key: rows received before
	 * 12:00:22 retired; the walk goes on from the marker. */
	assert_int_equal(cde_pg_retain(st, &(struct cde_audit_retention){ .max_age_s = 3600 },
				       1796644800 + 22 + 3600, &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 22);
	assert_int_equal(keyed_broken_at(key, 5, &v), 0);
	assert_int_equal(v.markers, 1);
	assert_int_equal(v.first_seq, 23);
	assert_int_equal(v.checkpoints, 4);	/* 25, 30, 35, 40 */
	assert_int_equal(keyed_broken_at(other, 5, &v), 22);
	exec_pg("UPDATE retention SET mac = NULL");
	assert_int_equal(keyed_broken_at(key, 5, &v), 22);
	assert_int_equal(keyed_broken_at(NULL, 0, &v), 0);

	be->close(st);
	PQfinish(pg);
}

/* The tree's self check on the log in the database: 0, or the first bad
 * index (+1) with the fault in @c. */
static uint64_t tree_bad_at(struct cde_audit_tree_check *c)
{
	int r = cde_pg_audit_tree_self_check(pg, c);

	if (r == 0)
		return 0;
	assert_int_equal(r, -EBADMSG);
	return c->bad_index + 1;
}

/* Flips a bit of the @at-th hash of the first tile of @tile_level
 * (again: puts it back). */
static void flip_hash(int tile_level, int at)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "UPDATE tree_tiles SET hashes = set_byte(hashes, %d, get_byte(hashes, %d) # 1)"
		 " WHERE tile_level = %d AND idx = 0", at * 32, at * 32, tile_level);
	exec_pg(sql);
}

static void the_tree_is_recomputed_from_the_rows_and_faults_named_at_their_leaf(void **state)
{
	const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
	struct cde_audit_retention_run run;
	struct cde_audit_tree_check c;
	char err[256];
	struct cde_pg_store *st = pg_written(NULL, 0, 0);

	(void)state;

	/* Every row hashes to its stored leaf; the tiles' head is theirs. */
	assert_int_equal(tree_bad_at(&c), 0);
	assert_int_equal(c.tree_size, N);
	assert_int_equal(c.rows, N);
	assert_int_equal(c.retired + c.lost, 0);

	/* Seq 8's event edited (leaf 7): named there, with its seq. */
	exec_pg("UPDATE events SET event = replace(event, 'svc-a', 'svc-x') WHERE seq = 8");
	assert_int_equal(tree_bad_at(&c), 7 + 1);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_ALTERED);
	assert_int_equal(c.bad_seq, 8);
	exec_pg("UPDATE events SET event = replace(event, 'svc-x', 'svc-a') WHERE seq = 8");
	assert_int_equal(tree_bad_at(&c), 0);

	/* A stored leaf hash flipped (leaf 3, in the first tile of leaves). */
	flip_hash(0, 3);
	assert_int_equal(tree_bad_at(&c), 3 + 1);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_ALTERED);
	flip_hash(0, 3);
	/* A hash above the leaves (level 4: leaves 16 to 31) flipped: the
	 * stored hash of leaves 0 to 31 is not the hash of those leaves. */
	flip_hash(1, 1);
	assert_int_equal(tree_bad_at(&c), 0 + 1);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
	assert_non_null(strstr(c.reason, "leaves 0 to 31"));
	flip_hash(1, 1);
	/* The tile of leaves 32 to 39 gone. */
	exec_pg("CREATE TEMP TABLE kept AS SELECT * FROM tree_tiles WHERE tile_level = 0 AND idx = 2;"
		" DELETE FROM tree_tiles WHERE tile_level = 0 AND idx = 2");
	assert_int_equal(tree_bad_at(&c), 32 + 1);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
	exec_pg("INSERT INTO tree_tiles SELECT * FROM kept; DROP TABLE kept");
	assert_int_equal(tree_bad_at(&c), 0);

	/* Retention: the retired rows' stored leaves stand in for them. */
	assert_int_equal(cde_pg_retain(st, &(struct cde_audit_retention){ .max_age_s = 3600 },
				       1796644800 + 22 + 3600, &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 22);
	assert_int_equal(tree_bad_at(&c), 0);
	assert_int_equal(c.retired, 22);
	assert_int_equal(c.rows, N - 22);
	/* A row deleted without a reason the log records. */
	exec_pg("DELETE FROM events WHERE seq = 30");
	assert_int_equal(tree_bad_at(&c), 29 + 1);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_MISSING);

	be->close(st);
	PQfinish(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_copied_log_verifies_and_each_alteration_shows_where),
		cmocka_unit_test(a_keyed_log_verifies_with_its_key_only),
		cmocka_unit_test(the_tree_is_recomputed_from_the_rows_and_faults_named_at_their_leaf),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
