/* A reader's cache of derived tiles (sinks/audit/audit_tile_cache.c, used
 * by audit_tiles_sqlite.c): a tree reader with the cache, kept from one
 * read snapshot to the next, gives the same roots, inclusion and
 * consistency proofs and edge tiles as a reader without one, for random
 * sizes and leaves, while the log grows by groups of any size, after
 * retention deleted rows (up to the newest), and after the file was
 * replaced under it by another log (a shorter backup of the same log, one
 * that went on differently after it, another log of the same size, a
 * longer one), with the index on leaf or without it. The log is written
 * on a connection of its own, as the daemon's writer does: the cache is
 * the reader's alone. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_tree.h"
#include "tests/unit/audit_rows.h"

/* A log being written: its file, the writer on its own connection, and
 * the tree as the tlog layer makes it from the same leaves. */
struct log {
	char path[64];
	sqlite3 *db;
	struct cde_audit_tree_writer w;
	struct cde_tlog_frontier model;
};

/* The reader: one connection, a tree reader with the cache and one
 * without. */
struct reader {
	sqlite3 *db;
	struct cde_audit_tree_reader cached, plain;
};

struct fixture {
	struct log log;
	struct reader rd;
	uint64_t rand;
};

static uint64_t next_rand(struct fixture *f, uint64_t below)
{
	f->rand = f->rand * 6364136223846793005u + 1442695040888963407u;
	return (f->rand >> 33) % below;
}

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Leaf @i of a log (@salt makes another log's). */
static void leaf(uint64_t i, int salt, uint8_t out[CDE_TLOG_HASH_LEN])
{
	char entry[48];
	int len = snprintf(entry, sizeof(entry), "leaf %llu/%d", (unsigned long long)i, salt);

	assert_int_equal(cde_tlog_leaf_hash(entry, (size_t)len, out), 0);
}

static int ignore(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	(void)ctx;
	(void)level;
	(void)index;
	(void)hash;
	return 0;
}

static void writer_start(struct log *l)
{
	char err[256];

	assert_int_equal(cde_audit_tree_writer_init(&l->w, l->db, err, sizeof(err)), 0);
}

static void log_open(struct log *l, const char *name)
{
	char err[256];

	snprintf(l->path, sizeof(l->path), "/tmp/cde-tilecache-%d-%s.db", (int)getpid(), name);
	remove_store(l->path);
	assert_int_equal(sqlite3_open(l->path, &l->db), SQLITE_OK);
	exec(l->db, "PRAGMA journal_mode=WAL");
	assert_int_equal(cde_audit_schema_migrate(l->db, err, sizeof(err)), 0);
	writer_start(l);
	cde_tlog_frontier_init(&l->model);
}

static void log_close(struct log *l)
{
	cde_audit_tree_writer_release(&l->w);
	sqlite3_close(l->db);
	remove_store(l->path);
}

/* @n leaves of @salt appended in one transaction. */
static void append(struct log *l, size_t n, int salt)
{
	uint8_t h[CDE_TLOG_HASH_LEN];

	exec(l->db, "BEGIN IMMEDIATE");
	for (size_t i = 0; i < n; i++) {
		leaf(l->model.size, salt, h);
		assert_int_equal(insert_leaf_row(l->db, l->model.size, h), 0);
		assert_int_equal(cde_audit_tree_writer_append(&l->w, h), 0);
		assert_int_equal(cde_tlog_frontier_append(&l->model, h, ignore, NULL), 0);
	}
	assert_int_equal(cde_audit_tree_writer_flush(&l->w), 0);
	exec(l->db, "COMMIT");
	cde_audit_tree_writer_committed(&l->w);
}

static int setup_with(void **state, bool leaf_index)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->rand = 42;
	log_open(&f->log, "main");
	if (!leaf_index)
		exec(f->log.db, "DROP INDEX events_by_leaf");
	assert_int_equal(sqlite3_open_v2(f->log.path, &f->rd.db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(cde_audit_tree_reader_init(&f->rd.cached, f->rd.db), 0);
	assert_int_equal(cde_audit_tile_io_sqlite_cache(&f->rd.cached.sql), 0);
	assert_non_null(f->rd.cached.sql.cache);
	assert_int_equal(cde_audit_tree_reader_init(&f->rd.plain, f->rd.db), 0);
	assert_true(leaf_index == !f->rd.cached.sql.probe);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, true);
}

/* A file whose index on leaf was dropped: the rows are read by seq. */
static int setup_unindexed(void **state)
{
	return setup_with(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cde_audit_tree_reader_release(&f->rd.cached);
	cde_audit_tree_reader_release(&f->rd.plain);
	sqlite3_close(f->rd.db);
	log_close(&f->log);
	free(f);
	return 0;
}

/* The two readers' tiles (@level, @idx) are the same bytes. */
static void same_tile(struct reader *rd, unsigned level, uint64_t idx)
{
	uint8_t a[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN], b[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
	size_t la = 0, lb = 0;

	assert_int_equal(rd->cached.sql.io.get(rd->cached.sql.io.ctx, level, idx, (uint8_t *)a, sizeof(a), &la), 0);
	assert_int_equal(rd->plain.sql.io.get(rd->plain.sql.io.ctx, level, idx, (uint8_t *)b, sizeof(b), &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
}

/* Proofs (@kind 0: root, 1: inclusion, 2: consistency) to @m leaves. */
static void same_proof(struct reader *rd, int kind, uint64_t at, uint64_t m)
{
	uint8_t a[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN], b[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	size_t na = 0, nb = 0;
	int ra, rb;

	if (kind == 0) {
		ra = cde_tlog_root(&rd->cached.tlog, m, a[0]);
		rb = cde_tlog_root(&rd->plain.tlog, m, b[0]);
		na = nb = 1;
	} else if (kind == 1) {
		ra = cde_tlog_prove_inclusion(&rd->cached.tlog, at, m, a, &na);
		rb = cde_tlog_prove_inclusion(&rd->plain.tlog, at, m, b, &nb);
	} else {
		ra = cde_tlog_prove_consistency(&rd->cached.tlog, at, m, a, &na);
		rb = cde_tlog_prove_consistency(&rd->plain.tlog, at, m, b, &nb);
	}
	assert_int_equal(ra, 0);
	assert_int_equal(rb, 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * CDE_TLOG_HASH_LEN);
}

/* In one read snapshot, as the proof source opens it: the tree's root is
 * the model's, and @rounds random roots, inclusion and consistency
 * proofs, and every edge tile, are the same with the cache and without. */
static void check(struct fixture *f, int rounds)
{
	struct reader *rd = &f->rd;
	uint8_t root[CDE_TLOG_HASH_LEN], want[CDE_TLOG_HASH_LEN];
	uint64_t size;

	exec(rd->db, "BEGIN");
	size = cde_audit_tree_size(rd->db);
	assert_int_equal(size, f->log.model.size);
	assert_int_equal(cde_audit_tile_io_sqlite_open_snapshot(&rd->cached.sql, size), 0);
	rd->cached.tiles.tile.valid = rd->plain.tiles.tile.valid = false;
	assert_int_equal(cde_tlog_frontier_root(&f->log.model, want), 0);
	assert_int_equal(cde_tlog_root(&rd->cached.tlog, size, root), 0);
	assert_memory_equal(root, want, sizeof(root));
	for (int i = 0; i < rounds && size; i++) {
		uint64_t m = 1 + next_rand(f, size);

		same_proof(rd, 0, 0, m);
		same_proof(rd, 1, next_rand(f, m), m);
		same_proof(rd, 2, next_rand(f, m + 1), m);
		same_proof(rd, 1, m - 1, size);
	}
	for (unsigned t = 0; t < CDE_AUDIT_TILE_LEVELS && size >> (CDE_AUDIT_TILE_HEIGHT * t); t++) {
		uint64_t n = size >> (CDE_AUDIT_TILE_HEIGHT * t);

		same_tile(rd, t, n / CDE_AUDIT_TILE_WIDTH);
		same_tile(rd, t, (n - 1) / CDE_AUDIT_TILE_WIDTH);
	}
	cde_audit_tile_io_sqlite_close_snapshot(&rd->cached.sql);
	exec(rd->db, "COMMIT");
}

static void the_cached_answer_is_the_uncached_one_while_the_log_grows(void **state)
{
	struct fixture *f = *state;

	check(f, 4);
	append(&f->log, 1, 0);
	check(f, 4);
	while (f->log.model.size < 5000) {
		/* Mostly small groups, as ingest makes them; now and then one
		 * that crosses whole tiles at once. */
		append(&f->log, 1 + next_rand(f, next_rand(f, 8) ? 40 : 700), 0);
		check(f, 6);
		if (next_rand(f, 4) == 0)
			check(f, 6);	/* the head did not move: all from the cache */
	}
}

/* Retention's part in the tree: the tiles of the leaves it is about to
 * delete stored (audit_retention.c's keep_leaf_tiles), then the rows of
 * leaves @first to @last deleted. */
static void retire(struct log *l, uint64_t first, uint64_t last)
{
	struct cde_audit_tile_io_sqlite io;
	char sql[128];

	exec(l->db, "BEGIN IMMEDIATE");
	assert_int_equal(cde_audit_tile_io_sqlite_init(&io, l->db, true), 0);
	assert_int_equal(cde_audit_tile_sqlite_keep_leaves(&io, first, last), 0);
	cde_audit_tile_io_sqlite_release(&io);
	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE leaf BETWEEN %llu AND %llu", (unsigned long long)first,
		 (unsigned long long)last);
	exec(l->db, sql);
	exec(l->db, "COMMIT");
}

static void the_cached_answer_is_the_uncached_one_after_retention(void **state)
{
	struct fixture *f = *state;

	append(&f->log, 1000, 0);
	check(f, 8);
	retire(&f->log, 0, 300);
	check(f, 8);
	append(&f->log, 333, 0);
	check(f, 8);
	/* Up to the newest leaf: the witness is read from its tile. */
	retire(&f->log, 301, f->log.model.size - 1);
	check(f, 8);
	append(&f->log, 77, 0);
	check(f, 8);
	retire(&f->log, 1333, 1400);
	append(&f->log, 5, 0);
	check(f, 8);
}

/* The file becomes a copy of @other, through SQLite's backup, while the
 * reader's connection stays open: a restore under a running daemon. The
 * writer and the model start again from what the file now holds. */
static void restore(struct fixture *f, struct log *other)
{
	sqlite3_backup *b = sqlite3_backup_init(f->log.db, "main", other->db, "main");

	assert_non_null(b);
	assert_int_equal(sqlite3_backup_step(b, -1), SQLITE_DONE);
	assert_int_equal(sqlite3_backup_finish(b), SQLITE_OK);
	cde_audit_tree_writer_release(&f->log.w);
	writer_start(&f->log);
	f->log.model = other->model;
}

/* Another log file: @same leaves of the main log's, then @n - @same of
 * @salt's. */
static void other_log(struct log *o, const char *name, uint64_t same, uint64_t n, int salt)
{
	log_open(o, name);
	append(o, same, 0);
	append(o, n - same, salt);
}

static void the_cached_answer_is_the_uncached_one_after_a_restore(void **state)
{
	struct fixture *f = *state;
	struct log backup, different, longer;

	other_log(&backup, "backup", 400, 400, 0);
	other_log(&different, "different", 0, 1600, 2);
	other_log(&longer, "longer", 900, 3000, 3);
	append(&f->log, 1234, 0);
	check(f, 8);
	/* A shorter backup of the same log: fewer leaves than witnessed. */
	restore(f, &backup);
	check(f, 8);
	append(&f->log, 200, 0);
	check(f, 8);
	/* Then it goes on otherwise than the log the cache saw. */
	append(&f->log, 1000, 1);
	check(f, 8);
	/* Another log of the same size, and a longer one that shares the
	 * first 900 leaves. */
	assert_int_equal(f->log.model.size, 1600);
	restore(f, &different);
	check(f, 8);
	restore(f, &longer);
	check(f, 8);
	append(&f->log, 17, 3);
	check(f, 8);
	log_close(&backup);
	log_close(&different);
	log_close(&longer);
}

/* Rows of @n leaves of @salt after the tree's last, on the writer's
 * connection, with no tree hash over them: rows the tree does not have
 * (an INSERT of the writer's, or rows a file was left with). */
static void rows_past_the_tree(struct log *l, size_t n, int salt)
{
	uint8_t h[CDE_TLOG_HASH_LEN];

	for (size_t i = 0; i < n; i++) {
		leaf(l->model.size + i, salt, h);
		assert_int_equal(insert_leaf_row(l->db, l->model.size + i, h), 0);
	}
}

/* In the snapshot @db is in (the caller's transaction, as a proof source
 * uses it), the root @cached makes of the whole tree is the log's. */
static void cached_root_is_the_log_s(struct log *l, sqlite3 *db, struct cde_audit_tree_reader *cached)
{
	uint8_t root[CDE_TLOG_HASH_LEN], want[CDE_TLOG_HASH_LEN];
	uint64_t size = cde_audit_tree_size(db);

	assert_int_equal(size, l->model.size);
	assert_int_equal(cde_audit_tile_io_sqlite_open_snapshot(&cached->sql, size), 0);
	cached->tiles.tile.valid = false;
	assert_int_equal(cde_tlog_frontier_root(&l->model, want), 0);
	assert_int_equal(cde_tlog_root(&cached->tlog, size, root), 0);
	assert_memory_equal(root, want, sizeof(root));
	cde_audit_tile_io_sqlite_close_snapshot(&cached->sql);
}

/* Rows past the tree's size are not the tree's: the edge tile held holds
 * the leaves below the size only, so when those rows go and other leaves
 * take their numbers, the root is the log's. */
static void the_cache_holds_no_leaf_past_the_tree_s_size(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
	struct reader *rd = &f->rd;
	size_t len = 0;

	append(&f->log, 20, 0);
	exec(f->log.db, "BEGIN IMMEDIATE");
	rows_past_the_tree(&f->log, 5, 9);
	exec(f->log.db, "COMMIT");
	exec(rd->db, "BEGIN");
	cached_root_is_the_log_s(&f->log, rd->db, &rd->cached);
	assert_int_equal(cde_audit_tile_io_sqlite_open_snapshot(&rd->cached.sql, 20), 0);
	assert_int_equal(rd->cached.sql.io.get(rd->cached.sql.io.ctx, 0, 1, (uint8_t *)buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4 * CDE_TLOG_HASH_LEN);	/* leaves 16 to 19 */
	cde_audit_tile_io_sqlite_close_snapshot(&rd->cached.sql);
	exec(rd->db, "COMMIT");
	exec(f->log.db, "DELETE FROM events WHERE leaf >= 20");
	append(&f->log, 10, 0);
	check(f, 8);
}

/* A tree reader with a cache on the writer's own connection, read inside
 * the writer's transaction (a proof source inside a caller's): rows are
 * there that a ROLLBACK takes back, and the tree of that transaction may
 * be too. The cache is neither used nor witnessed there; after the
 * rollback, other leaves take the same numbers and the root is the
 * log's. */
static void the_cache_is_not_used_inside_a_write_transaction(void **state)
{
	struct fixture *f = *state;
	struct cde_audit_tree_reader cached;
	uint8_t h[CDE_TLOG_HASH_LEN];

	append(&f->log, 20, 0);
	assert_int_equal(cde_audit_tree_reader_init(&cached, f->log.db), 0);
	assert_int_equal(cde_audit_tile_io_sqlite_cache(&cached.sql), 0);
	exec(f->log.db, "BEGIN");
	cached_root_is_the_log_s(&f->log, f->log.db, &cached);
	exec(f->log.db, "COMMIT");
	assert_int_equal(cached.sql.cache->size, 20);
	/* The writer's next group, its tree flushed, not committed yet. */
	exec(f->log.db, "BEGIN IMMEDIATE");
	for (uint64_t i = 20; i < 25; i++) {
		leaf(i, 9, h);
		assert_int_equal(insert_leaf_row(f->log.db, i, h), 0);
		assert_int_equal(cde_audit_tree_writer_append(&f->log.w, h), 0);
	}
	assert_int_equal(cde_audit_tree_writer_flush(&f->log.w), 0);
	assert_int_equal(cde_audit_tree_size(f->log.db), 25);
	assert_int_equal(cde_audit_tile_io_sqlite_open_snapshot(&cached.sql, 25), 0);
	assert_false(cached.sql.cache->open);
	assert_int_equal(cached.sql.cache->size, 20);
	cached.tiles.tile.valid = false;
	assert_int_equal(cde_tlog_root(&cached.tlog, 25, h), 0);	/* read as without a cache */
	cde_audit_tile_io_sqlite_close_snapshot(&cached.sql);
	exec(f->log.db, "ROLLBACK");
	cde_audit_tree_writer_rolled_back(&f->log.w);
	append(&f->log, 10, 0);
	exec(f->log.db, "BEGIN");
	cached_root_is_the_log_s(&f->log, f->log.db, &cached);
	exec(f->log.db, "COMMIT");
	assert_int_equal(cached.sql.cache->size, 30);
	cde_audit_tree_reader_release(&cached);
	check(f, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_cache_holds_no_leaf_past_the_tree_s_size, setup, teardown),
		cmocka_unit_test_setup_teardown(the_cache_holds_no_leaf_past_the_tree_s_size, setup_unindexed,
						teardown),
		cmocka_unit_test_setup_teardown(the_cache_is_not_used_inside_a_write_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(the_cached_answer_is_the_uncached_one_while_the_log_grows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(the_cached_answer_is_the_uncached_one_after_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(the_cached_answer_is_the_uncached_one_after_a_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(the_cached_answer_is_the_uncached_one_after_retention, setup_unindexed,
						teardown),
		cmocka_unit_test_setup_teardown(the_cached_answer_is_the_uncached_one_after_a_restore, setup_unindexed,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
