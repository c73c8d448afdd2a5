/* Checking the audit log's Merkle tree against its rows and against a
 * signed checkpoint kept elsewhere: an intact log holds (and still holds
 * once it grew); each way of tampering with the file is named with its
 * first bad index: an edited row, a cut tail, rows deleted in the middle
 * or at the end, a stored hash that is not its leaves, a tile missing or
 * damaged, a log rewritten
 * with its hashes (a fork, bounded by the signed checkpoints it stored);
 * rows retired by retention or recorded as lost stand in by their stored
 * hashes; a consistency proof is checked against both heads. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_signed.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tiles_sqlite.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/sql.h"
#include "sinks/audit/tlog/note.h"

static struct cde_catalog *cat;
static struct cde_note_verifier *verifier;
static char db_path[64];

/* Appends the event build-N as one group (one leaf per commit, so the
 * checkpoints every 4 entries fall at 4, 8, ...). */
static void append_one(struct cde_audit_store *s, int n)
{
	struct cde_journal_entry e = { .principal = "jenkins", .peer = "127.0.0.1:4242" };
	char err[256], id[32];

	snprintf(id, sizeof(id), "build-%d", n);
	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/ci", "b-1",
				       &e.event), 0);
	assert_int_equal(cde_event_set_id(e.event, id), 0);
	snprintf(e.received_at, sizeof(e.received_at), "2026-12-07T06:00:%02d.000000Z", n % 60);
	assert_int_equal(cde_audit_store_append(s, &e, 1, err, sizeof(err)), 0);
	cde_event_unref(e.event);
}

/* A log of @n events, signed every 4 entries and at its end; the last
 * checkpoint is the kept one: its size and root. */
static struct cde_audit_store *a_log(int n, uint64_t *size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	struct cde_note_signer *signer = NULL;
	struct cde_audit_store *s;
	char *skey = NULL, *vkey = NULL, err[256], *note;

	snprintf(db_path, sizeof(db_path), "/tmp/cde-tree-verify-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_note_keygen("audit.example/log", &skey, &vkey), 0);
	assert_int_equal(cde_note_signer_parse(skey, &signer, err, sizeof(err)), 0);
	cde_note_verifier_free(verifier);
	assert_int_equal(cde_note_verifier_parse(vkey, &verifier, err, sizeof(err)), 0);
	free(skey);
	free(vkey);
	assert_int_equal(cde_audit_store_set_signer(s, signer, 4, err, sizeof(err)), 0);
	for (int i = 1; i <= n; i++) {
		append_one(s, i);
		free(cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 }));
	}
	assert_int_equal(cde_audit_store_sign_tree(s, err, sizeof(err)), 0);
	note = cde_audit_store_take_checkpoint(s, &(uint64_t){ 0 });
	assert_non_null(note);
	assert_int_equal(cde_audit_checkpoint_open(note, &verifier, 1, size, root, NULL, 0, err, sizeof(err)), 0);
	free(note);
	return s;
}

static void done(struct cde_audit_store *s)
{
	cde_audit_store_close(s);
	unlink(db_path);
}

static void exec(struct cde_audit_store *s, const char *sql)
{
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static int check(struct cde_audit_store *s, uint64_t size, const uint8_t *root, struct cde_audit_tree_check *c)
{
	return cde_audit_tree_check_against(cde_audit_store_db(s), size, root, &verifier, 1, c);
}

static void an_intact_log_holds_and_still_holds_once_it_grew(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	assert_int_equal(size, 10);
	assert_int_equal(check(s, size, root, &c), 0);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_OK);
	assert_int_equal(c.rows, 10);
	assert_int_equal(c.tree_size, 10);
	assert_memory_equal(c.root, root, CDE_TLOG_HASH_LEN);
	assert_int_equal(c.signed_stored, 3);	/* 4, 8, 10 */
	assert_int_equal(c.signed_matching, 3);
	append_one(s, 11);
	append_one(s, 12);
	assert_int_equal(check(s, size, root, &c), 0);
	assert_int_equal(c.tree_size, 12);
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), 0);
	done(s);
}

static void an_edited_row_is_altered_at_its_leaf(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "UPDATE events SET event = replace(event, 'build-6', 'build-x') WHERE seq = 6");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_ALTERED);
	assert_int_equal(c.bad_index, 5);
	assert_int_equal(c.bad_seq, 6);
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
	assert_int_equal(c.bad_index, 5);
	done(s);
}

/* Rows are walked in seq order, in which leaves only grow: a row that
 * claims an earlier row's leaf, or two rows whose leaves were swapped, is
 * caught where the order breaks, also once the unique index that keeps
 * leaves apart is dropped by whoever edits the file. */
static void a_row_claiming_an_earlier_leaf_is_altered(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "DROP INDEX events_by_leaf");
	exec(s, "UPDATE events SET leaf = 3 WHERE seq = 7");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_ALTERED);
	assert_int_equal(c.bad_index, 3);
	exec(s, "UPDATE events SET leaf = 6 WHERE seq = 7");
	assert_int_equal(check(s, size, root, &c), 0);
	/* Swapped: seq 4 skips leaf 3, which no row before it holds. */
	exec(s, "UPDATE events SET leaf = CASE seq WHEN 4 THEN 4 ELSE 3 END WHERE seq IN (4, 5)");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_MISSING);
	assert_int_equal(c.bad_index, 3);
	done(s);
}

/* Without its index on leaf (dropped by whoever edits the file), the
 * log's leaves are read by seq, not by a scan of the table a tile: an
 * intact log still holds, an edit is still named at its index; the
 * daemon makes the index again when it opens the file. */
static void a_log_whose_leaf_index_was_dropped_reads_its_leaves_by_seq(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	char err[256];
	struct cde_audit_store *s = a_log(41, &size, root);

	exec(s, "DROP INDEX events_by_leaf");
	assert_int_equal(check(s, size, root, &c), 0);
	assert_int_equal(c.rows, 41);
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), 0);
	exec(s, "UPDATE events SET event = replace(event, 'build-33', 'build-x') WHERE seq = 33");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_ALTERED);
	assert_int_equal(c.bad_index, 32);
	cde_audit_store_close(s);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
				     " AND name = 'events_by_leaf'", NULL, -1), 1);
	done(s);
}

static void a_cut_tail_with_meta_fixed_is_truncated_at_the_logs_size(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "DELETE FROM events WHERE seq > 7; UPDATE meta SET value = '7' WHERE key = 'tree_size';"
		/* every stored hash over a leaf past 7 cut from its tile */
		"UPDATE tree_tiles SET hashes = substr(hashes, 1,"
		" 32 * max(0, min(16, (7 >> (4 * tile_level)) - 16 * idx)));"
		"DELETE FROM tree_tiles WHERE length(hashes) = 0");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_TRUNCATED);
	assert_int_equal(c.bad_index, 7);
	/* On its own the shortened tree agrees with itself. */
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), 0);
	done(s);
}

static void rows_deleted_in_the_middle_or_at_the_end_are_missing(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "DELETE FROM events WHERE seq IN (3, 4)");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_MISSING);
	assert_int_equal(c.bad_index, 2);
	done(s);
	s = a_log(10, &size, root);
	exec(s, "DELETE FROM events WHERE seq > 8");
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_MISSING);
	assert_int_equal(c.bad_index, 8);
	done(s);
}

/* The rows of leaves @first to @last deleted, their hashes kept in tiles
 * first, as retention keeps them. */
static void delete_keeping_hashes(struct cde_audit_store *s, uint64_t first, uint64_t last, const char *sql)
{
	struct cde_audit_tile_io_sqlite tiles;

	assert_int_equal(cde_audit_tile_io_sqlite_init(&tiles, cde_audit_store_db(s), true), 0);
	assert_int_equal(cde_audit_tile_sqlite_keep_leaves(&tiles, first, last), 0);
	cde_audit_tile_io_sqlite_release(&tiles);
	exec(s, sql);
}

static void rows_retired_or_recorded_as_lost_stand_in_by_their_stored_hashes(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	delete_keeping_hashes(s, 0, 2, "DELETE FROM events WHERE seq <= 3");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);	/* no marker: deleted, not retired */
	assert_int_equal(c.fault, CDE_AUDIT_TREE_MISSING);
	assert_int_equal(c.bad_index, 0);
	exec(s, "INSERT INTO retention(seq, deleted, at, reason, anchor, prev, hash) VALUES (3, 3, 'now', 'max_age',"
		" 'a', 'p', 'h')");
	assert_int_equal(check(s, size, root, &c), 0);
	assert_int_equal(c.retired, 3);
	assert_int_equal(c.rows, 7);
	/* A row lost and recorded as lost (--accept-log-loss) likewise. */
	delete_keeping_hashes(s, 5, 5, "DELETE FROM events WHERE seq = 6");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.bad_index, 5);
	exec(s, "INSERT INTO gaps(last, first, at, reason, prev, hash) VALUES (6, 6, 'now', 'lost', 'p', 'h')");
	assert_int_equal(check(s, size, root, &c), 0);
	assert_int_equal(c.lost, 1);
	done(s);
}

/* A row holds its leaf's hash: deleted without a tile keeping it, its
 * hash goes too, and a marker saying why cannot stand in for it. */
static void a_row_deleted_with_its_leaf_hash_lacks_the_hash_even_when_explained(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "DELETE FROM events WHERE seq = 6;"
		"INSERT INTO gaps(last, first, at, reason, prev, hash) VALUES (6, 6, 'now', 'lost', 'p', 'h')");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
	assert_int_equal(c.bad_index, 5);
	done(s);
}

static void a_stored_hash_that_is_not_its_leaves_fails_the_self_check(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	/* 19 leaves: the hash of leaves 0 to 15, of level 4 (tile level 1),
	 * is derived from the leaves until its tile is full; a tile stored
	 * there is read first. */
	struct cde_audit_store *s = a_log(19, &size, root);

	exec(s, "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (1, 0, zeroblob(32))");
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
	assert_int_equal(c.bad_index, 0);
	done(s);
}

/* A stored hash that is gone is damage at its index; one that is not
 * whole hashes (a tile's blob, or a leaf hash in its row) is damage at
 * the first index of its tile. */
static void a_missing_or_damaged_tile_fails_the_self_check_at_its_first_index(void **state)
{
	/* 19 leaves: no tile above the leaves is full, so none is stored;
	 * a row put there is read before the hashes derived from below. */
	static const char *const attacks[] = {
		"INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (1, 0, zeroblob(33))",
		"INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (1, 0, zeroblob(31))",
		"UPDATE events SET leaf_hash = NULL WHERE leaf = 16",
		"UPDATE events SET leaf_hash = substr(leaf_hash, 1, 20) WHERE leaf = 16",
		"UPDATE events SET leaf_hash = leaf_hash || x'00' WHERE leaf = 18",
		"UPDATE events SET leaf_hash = NULL WHERE leaf = 18",
	};
	static const uint64_t bad[] = { 0, 0, 16, 16, 16, 18 };
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		struct cde_audit_store *s = a_log(19, &size, root);

		exec(s, attacks[i]);
		assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), -EBADMSG);
		assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
		assert_int_equal(c.bad_index, bad[i]);
		assert_int_equal(check(s, size, root, &c), -EBADMSG);
		assert_int_equal(c.fault, CDE_AUDIT_TREE_HASHES);
		assert_int_equal(c.bad_index, bad[i]);
		done(s);
	}
}

/* Tiles are filled in order at each level: a hash goes at the end of
 * its tile. */
static int put(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st;

	if (level % 4)
		return 0;	/* not stored: hashed up from the tile below */
	assert_int_equal(sqlite3_prepare_v2(ctx, "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (?, ?, ?)"
					    " ON CONFLICT DO UPDATE SET hashes = CAST(hashes || excluded.hashes AS BLOB)",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, (int)level / 4);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index / 16);
	sqlite3_bind_blob(st, 3, hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return 0;
}

/* What a forger with write access does: every stored hash recomputed
 * from the rows as they now are. */
static void rebuild_tree(struct cde_audit_store *s)
{
	sqlite3 *db = cde_audit_store_db(s);
	struct cde_tlog_frontier f;
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	sqlite3_stmt *st;

	exec(s, "DELETE FROM tree_tiles");
	cde_tlog_frontier_init(&f);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, received_at, principal, peer, event FROM events"
					    " ORDER BY leaf", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cde_audit_row row = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.received_at = (const char *)sqlite3_column_text(st, 1),
			.principal = (const char *)sqlite3_column_text(st, 2),
			.peer = (const char *)sqlite3_column_text(st, 3),
			.event = (const char *)sqlite3_column_text(st, 4),
		};

		assert_int_equal(cde_audit_tree_leaf(&row, leaf), 0);
		assert_int_equal(cde_tlog_frontier_append(&f, leaf, put, db), 0);
	}
	sqlite3_finalize(st);
}

static void a_log_rewritten_with_its_hashes_is_a_fork_bounded_by_its_signed_checkpoints(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	struct cde_audit_tree_check c;
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	exec(s, "UPDATE events SET event = replace(event, 'build-6', 'build-x') WHERE seq = 6");
	rebuild_tree(s);
	assert_int_equal(cde_audit_tree_self_check(cde_audit_store_db(s), &c), 0);
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.fault, CDE_AUDIT_TREE_FORKED);
	/* The checkpoint at 4 still matches, the one at 8 does not. */
	assert_int_equal(c.bad_index, 4);
	assert_int_equal(c.bad_end, 8);
	assert_int_equal(c.signed_matching, 1);
	/* Without the stored checkpoints, only the kept one bounds it. */
	exec(s, "DELETE FROM tree_checkpoints");
	assert_int_equal(check(s, size, root, &c), -EBADMSG);
	assert_int_equal(c.bad_index, 0);
	assert_int_equal(c.bad_end, 10);
	done(s);
}

/* The signed head of @size leaves stored in the log. */
static void stored_head(struct cde_audit_store *s, uint64_t size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint64_t got = 0, opened = 0;
	char *note = NULL, err[128];

	assert_int_equal(cde_audit_checkpoint_covering(cde_audit_store_db(s), size, &got, &note), 0);
	assert_int_equal(got, size);
	assert_int_equal(cde_audit_checkpoint_open(note, &verifier, 1, &opened, root, NULL, 0, err, sizeof(err)), 0);
	free(note);
}

static void a_consistency_proof_is_checked_against_both_heads(void **state)
{
	uint8_t root[CDE_TLOG_HASH_LEN], old[CDE_TLOG_HASH_LEN];
	cJSON *proof = NULL, *first;
	char err[256];
	uint64_t size;
	struct cde_audit_store *s = a_log(10, &size, root);

	stored_head(s, 4, old);
	assert_int_equal(cde_audit_proof_consistency(cde_audit_store_db(s), 4, 10, &proof, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_consistency_verify(proof, 4, old, 10, root, err, sizeof(err)), 0);
	/* The heads swapped, or other sizes than the proof's: it fails. */
	assert_int_equal(cde_audit_consistency_verify(proof, 4, root, 10, old, err, sizeof(err)), -EBADMSG);
	assert_int_equal(cde_audit_consistency_verify(proof, 5, old, 10, root, err, sizeof(err)), -EBADMSG);
	first = cJSON_GetArrayItem(cJSON_GetObjectItem(proof, "consistencyProof"), 0);
	first->valuestring[0] = first->valuestring[0] == 'A' ? 'B' : 'A';
	assert_int_equal(cde_audit_consistency_verify(proof, 4, old, 10, root, err, sizeof(err)), -EBADMSG);
	cJSON_Delete(proof);
	proof = cJSON_CreateArray();
	assert_int_equal(cde_audit_consistency_verify(proof, 4, old, 10, root, err, sizeof(err)), -EINVAL);
	cJSON_Delete(proof);
	done(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_intact_log_holds_and_still_holds_once_it_grew),
		cmocka_unit_test(an_edited_row_is_altered_at_its_leaf),
		cmocka_unit_test(a_row_claiming_an_earlier_leaf_is_altered),
		cmocka_unit_test(a_log_whose_leaf_index_was_dropped_reads_its_leaves_by_seq),
		cmocka_unit_test(a_cut_tail_with_meta_fixed_is_truncated_at_the_logs_size),
		cmocka_unit_test(rows_deleted_in_the_middle_or_at_the_end_are_missing),
		cmocka_unit_test(rows_retired_or_recorded_as_lost_stand_in_by_their_stored_hashes),
		cmocka_unit_test(a_row_deleted_with_its_leaf_hash_lacks_the_hash_even_when_explained),
		cmocka_unit_test(a_stored_hash_that_is_not_its_leaves_fails_the_self_check),
		cmocka_unit_test(a_missing_or_damaged_tile_fails_the_self_check_at_its_first_index),
		cmocka_unit_test(a_log_rewritten_with_its_hashes_is_a_fork_bounded_by_its_signed_checkpoints),
		cmocka_unit_test(a_consistency_proof_is_checked_against_both_heads),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cde_catalog_free(cat);
	cde_note_verifier_free(verifier);
	return r;
}
