/* The Merkle tree's schema step 4 (sinks/audit/audit_tree_migrate.c): a
 * log as schema 3 left it, its tree one row of tree_hashes per hash of
 * every level, is read as it is by a reader (cdevctl) and packed into
 * tiles when the writer opens it: its roots and proofs stay what they
 * were, it checks clean and takes new events. A hash missing from the
 * rows, or of the wrong size, is still damage at the same index once
 * packed. tests/data/audit/v3-5ba06e1.db is such a log, written by the
 * daemon of 5ba06e1 (37 events, one signed checkpoint, at 30): its
 * checkpoint still checks against it once packed. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_signed.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/sql.h"
#include "sinks/audit/tlog/note.h"

#define LEAVES 40

static struct cde_catalog *cat;
static char db_path[64];

/* The tree's roots at some sizes and proofs between them, as hashes. */
struct facts {
	uint8_t h[128][CDE_TLOG_HASH_LEN];
	size_t n;
};

/* (Of a tree of @size > 33 leaves.) */
static void facts_of(sqlite3 *db, uint64_t size, struct facts *f)
{
	const uint64_t roots[] = { 1, 17, 32, size }, leaves[] = { 0, 15, 16, 33, size - 1 };
	const uint64_t from[] = { 5, 17, 32 }, to[] = { 17, size, size };
	struct cde_audit_tree_reader r;
	size_t count;

	f->n = 0;
	assert_int_equal(cde_audit_tree_reader_init(&r, db), 0);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		assert_int_equal(cde_tlog_root(&r.tlog, roots[i], f->h[f->n++]), 0);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		assert_int_equal(cde_tlog_prove_inclusion(&r.tlog, leaves[i], size, &f->h[f->n], &count), 0);
		f->n += count;
	}
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		assert_int_equal(cde_tlog_prove_consistency(&r.tlog, from[i], to[i], &f->h[f->n], &count), 0);
		f->n += count;
	}
	cde_audit_tree_reader_release(&r);
}

/* Events build-@first... stored as one group of @n. */
static void append_group(struct cde_audit_store *s, int first, int n)
{
	struct cde_journal_entry e[LEAVES] = { 0 };
	char err[256], id[32];

	assert_true(n <= LEAVES);
	for (int i = 0; i < n; i++) {
		e[i].principal = "jenkins";
		e[i].peer = "127.0.0.1:4242";
		snprintf(id, sizeof(id), "build-%d", first + i);
		assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/ci",
					       "b-1", &e[i].event), 0);
		assert_int_equal(cde_event_set_id(e[i].event, id), 0);
		snprintf(e[i].received_at, sizeof(e[i].received_at), "2026-12-07T06:00:%02d.000000Z", i % 60);
	}
	assert_int_equal(cde_audit_store_append(s, e, (size_t)n, err, sizeof(err)), 0);
	for (int i = 0; i < n; i++)
		cde_event_unref(e[i].event);
}

static struct cde_audit_store *open_store(bool read_only)
{
	struct cde_audit_store *s;
	char err[256];

	assert_int_equal(cde_audit_store_open(db_path, read_only, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	return s;
}

static int put_row(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(ctx, "INSERT INTO tree_hashes(level, idx, hash) VALUES (?, ?, ?)", -1, &st,
					    NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	sqlite3_bind_blob(st, 3, hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return 0;
}

/* The file as schema 3 wrote it: every hash of the tree, each a row,
 * as the tlog layer computes them from the leaves; no tiles, and no
 * leaf hash in the rows (schema 8). */
static void as_schema_3(void)
{
	struct cde_audit_tree_reader r;
	struct cde_tlog_frontier f;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	sqlite3 *db;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN; CREATE TABLE tree_hashes(level INTEGER NOT NULL,"
				      " idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_tree_reader_init(&r, db), 0);
	cde_tlog_frontier_init(&f);
	for (uint64_t i = 0; i < LEAVES; i++) {
		assert_int_equal(r.tlog.read(r.tlog.ctx, 0, i, leaf), 0);
		assert_int_equal(cde_tlog_frontier_append(&f, leaf, put_row, db), 0);
	}
	cde_audit_tree_reader_release(&r);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE tree_tiles; ALTER TABLE events DROP COLUMN leaf_hash;"
				      " PRAGMA user_version = 3; COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A log of LEAVES events, made by this code, then turned into schema 3;
 * its facts as this code stored them. */
static void a_schema_3_log(struct facts *f, const char *damage)
{
	struct cde_audit_tree_check c;
	struct cde_audit_store *s;
	sqlite3 *db;

	snprintf(db_path, sizeof(db_path), "/tmp/cde-tree-migrate-%d.db", (int)getpid());
	unlink(db_path);
	s = open_store(false);
	/* Groups of 7: tiles filled across commits. */
	for (int i = 0; i < LEAVES; i += 7)
		append_group(s, 1 + i, LEAVES - i < 7 ? LEAVES - i : 7);
	facts_of(cde_audit_store_db(s), LEAVES, f);
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), 0);
	cde_audit_store_close(s);
	as_schema_3();
	if (damage) {
		assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, damage, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
}

static void done(void)
{
	char p[96];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-head", db_path);
	unlink(p);
}

static void a_schema_3_tree_is_read_as_it_is_then_packed_into_tiles(void **state)
{
	struct cde_audit_tree_check c;
	struct cde_audit_store *s;
	struct facts before, after;
	sqlite3 *db;

	a_schema_3_log(&before, NULL);
	/* Read only, as cdevctl reads it: the rows. */
	s = open_store(true);
	db = cde_audit_store_db(s);
	assert_int_equal(cde_audit_schema_version(db), 3);
	facts_of(db, LEAVES, &after);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.h, before.h, before.n * CDE_TLOG_HASH_LEN);
	assert_int_equal(cde_audit_tree_self_check(db, &c), 0);
	cde_audit_store_close(s);

	/* Opened by the daemon: packed, the rows dropped. */
	s = open_store(false);
	db = cde_audit_store_db(s);
	assert_int_equal(cde_audit_schema_version(db), CDE_AUDIT_SCHEMA_VERSION);
	assert_false(cde_sql_has_table(db, "tree_hashes"));
	/* 40 leaf hashes in tiles of 16, 16 and 8; the 2 of level 4. */
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM tree_tiles", NULL, -1), 4);
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM tree_tiles WHERE (tile_level, idx, length(hashes)) IN"
				     " (VALUES (0, 0, 512), (0, 1, 512), (0, 2, 256), (1, 0, 64))", NULL, -1), 4);
	facts_of(db, LEAVES, &after);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.h, before.h, before.n * CDE_TLOG_HASH_LEN);
	assert_int_equal(cde_audit_tree_self_check(db, &c), 0);
	/* Leaves from now on are in their rows: the tile of 8 is completed
	 * by 8 rows, and the hash of level 4 over it is derived from them
	 * (its tile, partial, is not rewritten). */
	append_group(s, LEAVES + 1, 20);
	assert_int_equal(cde_audit_store_tree_size(s), LEAVES + 20);
	assert_int_equal(cde_sql_int(db, "SELECT count(*) FROM events WHERE length(leaf_hash) = 32", NULL, -1), 20);
	assert_int_equal(cde_sql_int(db, "SELECT length(hashes) FROM tree_tiles WHERE tile_level = 0 AND idx = 2",
				     NULL, -1), 256);
	assert_int_equal(cde_sql_int(db, "SELECT length(hashes) FROM tree_tiles WHERE tile_level = 1 AND idx = 0",
				     NULL, -1), 64);
	assert_int_equal(cde_audit_tree_self_check(db, &c), 0);
	cde_audit_store_close(s);
	done();
}

/* What the self-check said of the rows it says of the tiles. */
static void damaged_rows_are_damage_at_the_same_index_once_packed(void **state)
{
	static const char *const damage[] = {
		"DELETE FROM tree_hashes WHERE level = 0 AND idx = 20",
		"UPDATE tree_hashes SET hash = x'00' WHERE level = 0 AND idx = 20",
	};
	struct cde_audit_tree_check c;
	struct cde_audit_store *s;
	struct facts before;

	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		a_schema_3_log(&before, damage[i]);
		s = open_store(true);
		assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
		assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
		assert_int_equal(c.bad_index, 20);
		cde_audit_store_close(s);
		s = open_store(false);
		assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
		assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
		assert_int_equal(c.bad_index, 20);
		cde_audit_store_close(s);
		done();
	}
}

/* A copy of @from (in the source tree) at db_path. */
static void copy_fixture(const char *from)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	char path[1024], *buf;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", from);
	assert_int_equal(cde_read_file(path, 1 << 20, &buf, &len), 0);
	snprintf(db_path, sizeof(db_path), "/tmp/cde-tree-migrate-%d.db", (int)getpid());
	f = fopen(db_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static struct cde_note_verifier *fixture_verifier(void)
{
	const char *src = getenv("CDE_SOURCE_DIR");
	struct cde_note_verifier *v = NULL;
	char path[1024], *text, err[128];
	size_t len;

	snprintf(path, sizeof(path), "%s/tests/data/audit/v3-5ba06e1.pub", src ? src : ".");
	assert_int_equal(cde_read_file(path, 4096, &text, &len), 0);
	text[strcspn(text, "\n")] = '\0';
	assert_int_equal(cde_note_verifier_parse(text, &v, err, sizeof(err)), 0);
	free(text);
	return v;
}

/* The log's stored checkpoint against the log, and its facts. */
static void checks_against_its_checkpoint(sqlite3 *db, struct cde_note_verifier *v, struct facts *f)
{
	struct cde_audit_tree_check c;
	uint8_t root[CDE_TLOG_HASH_LEN];
	uint64_t size = 0, signed_size = 0;
	char *note = NULL, err[128];

	assert_int_equal(cde_audit_checkpoint_latest(db, &size, &note), 0);
	assert_int_equal(size, 30);
	assert_int_equal(cde_audit_checkpoint_open(note, &v, 1, &signed_size, root, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_tree_check_against(db, signed_size, root, &v, 1, &c), 0);
	assert_int_equal(c.tree_size, 37);
	assert_int_equal(c.rows, 37);
	assert_int_equal(c.signed_matching, 1);
	facts_of(db, 37, f);
	free(note);
}

static void a_log_written_by_5ba06e1_keeps_its_signed_checkpoint_once_packed(void **state)
{
	struct cde_note_verifier *v = fixture_verifier();
	struct cde_audit_store *s;
	struct facts before, after;

	copy_fixture("tests/data/audit/v3-5ba06e1.db");
	s = open_store(true);
	assert_int_equal(cde_audit_schema_version(cde_audit_store_db(s)), 3);
	checks_against_its_checkpoint(cde_audit_store_db(s), v, &before);
	cde_audit_store_close(s);
	s = open_store(false);
	assert_int_equal(cde_audit_schema_version(cde_audit_store_db(s)), CDE_AUDIT_SCHEMA_VERSION);
	assert_false(cde_sql_has_table(cde_audit_store_db(s), "tree_hashes"));
	checks_against_its_checkpoint(cde_audit_store_db(s), v, &after);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.h, before.h, before.n * CDE_TLOG_HASH_LEN);
	cde_audit_store_close(s);
	cde_note_verifier_free(v);
	done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_schema_3_tree_is_read_as_it_is_then_packed_into_tiles),
		cmocka_unit_test(damaged_rows_are_damage_at_the_same_index_once_packed),
		cmocka_unit_test(a_log_written_by_5ba06e1_keeps_its_signed_checkpoint_once_packed),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cde_catalog_free(cat);
	return r;
}
