/* The Merkle tree's hashes stored as tiles (sinks/audit/audit_tiles.c,
 * through the writer and reader of audit_tree.c): every perfect subtree
 * of the tree reads back as the tlog layer computes it, at every level,
 * after groups of any size and after a restart; a subtree the tree does
 * not hold yet is not stored; a group writes each tile it touched once;
 * a transaction or a savepoint rolled back leaves none of its hashes
 * behind. The tile logic itself knows no database: over an io kept in
 * memory it stores and reads the same tiles, and judges a damaged blob
 * the same way. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/sql.h"
#include "tests/unit/audit_rows.h"

#define MAX_LEAVES 600

/* Every hash of the tree as the tlog layer emits it, level by level. */
struct model {
	struct cde_tlog_frontier f;
	uint8_t (*hash[64])[CDE_TLOG_HASH_LEN];
};

static char db_path[64];

static int model_keep(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	struct model *m = ctx;

	memcpy(m->hash[level][index], hash, CDE_TLOG_HASH_LEN);
	return 0;
}

static void model_init(struct model *m)
{
	cde_tlog_frontier_init(&m->f);
	for (unsigned l = 0; l < 64; l++)
		m->hash[l] = l < 10 ? calloc(MAX_LEAVES >> l, CDE_TLOG_HASH_LEN) : NULL;
}

static void model_release(struct model *m)
{
	for (unsigned l = 0; l < 64; l++)
		free(m->hash[l]);
}

/* Leaf @i of the tree (@salt makes another one). */
static void leaf(uint64_t i, int salt, uint8_t out[CDE_TLOG_HASH_LEN])
{
	char entry[48];
	int len = snprintf(entry, sizeof(entry), "leaf %llu/%d", (unsigned long long)i, salt);

	assert_int_equal(cde_tlog_leaf_hash(entry, (size_t)len, out), 0);
}

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-tiles-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(cde_audit_schema_migrate(db, err, sizeof(err)), 0);
	return db;
}

/* A new log's database, its tree's writer and the model. */
struct fixture {
	sqlite3 *db;
	struct cde_audit_tree_writer w;
	struct model m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->db = open_db();
	model_init(&f->m);
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cde_audit_tree_writer_release(&f->w);
	model_release(&f->m);
	sqlite3_close(f->db);
	unlink(db_path);
	free(f);
	return 0;
}

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* @n leaves appended in one transaction, to the writer and the model. */
static void group(sqlite3 *db, struct cde_audit_tree_writer *w, struct model *m, size_t n)
{
	uint8_t h[CDE_TLOG_HASH_LEN];

	exec(db, "BEGIN IMMEDIATE");
	for (size_t i = 0; i < n; i++) {
		leaf(m->f.size, 0, h);
		assert_int_equal(insert_leaf_row(db, m->f.size, h), 0);
		assert_int_equal(cde_audit_tree_writer_append(w, h), 0);
		assert_int_equal(cde_tlog_frontier_append(&m->f, h, model_keep, m), 0);
	}
	assert_int_equal(cde_audit_tree_writer_flush(w), 0);
	exec(db, "COMMIT");
	cde_audit_tree_writer_committed(w);
}

/* Every perfect subtree of the model's tree reads through @r as the
 * model has it; the next one at each level is not stored. */
static void reads_as(const struct cde_tlog_reader *r, const struct model *m)
{
	uint8_t got[CDE_TLOG_HASH_LEN], root[CDE_TLOG_HASH_LEN], want[CDE_TLOG_HASH_LEN];

	for (unsigned l = 0; l < 64 && (m->f.size >> l); l++) {
		for (uint64_t i = 0; i < m->f.size >> l; i++) {
			assert_int_equal(r->read(r->ctx, l, i, got), 0);
			assert_memory_equal(got, m->hash[l][i], CDE_TLOG_HASH_LEN);
		}
		assert_int_equal(r->read(r->ctx, l, m->f.size >> l, got), -ENOENT);
	}
	assert_int_equal(cde_tlog_root(r, m->f.size, root), 0);
	assert_int_equal(cde_tlog_frontier_root(&m->f, want), 0);
	assert_memory_equal(root, want, CDE_TLOG_HASH_LEN);
}

/* The model's tree reads back from the database. */
static void reads_as_the_model(sqlite3 *db, const struct model *m)
{
	struct cde_audit_tree_reader r;

	assert_int_equal(cde_audit_tree_reader_init(&r, db), 0);
	reads_as(&r.tlog, m);
	cde_audit_tree_reader_release(&r);
}

static void every_subtree_reads_back_after_groups_of_any_size_and_a_restart(void **state)
{
	static const size_t sizes[] = { 1, 1, 2, 13, 15, 16, 17, 30, 31, 64, 100, 3, 250, 1 };
	struct fixture *f = *state;
	char err[256];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		group(f->db, &f->w, &f->m, sizes[i]);
		reads_as_the_model(f->db, &f->m);
		/* A start in the middle: the partial edge tiles come back. */
		if (i % 3 == 2) {
			cde_audit_tree_writer_release(&f->w);
			assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), 0);
		}
	}
	assert_int_equal(f->m.f.size, 544);	/* tile levels 0, 1 and 2 */
}

static void a_group_writes_each_tile_it_touched_once(void **state)
{
	struct fixture *f = *state;
	int before;

	/* 30 leaves: their 30 rows, which hold them (no tile of level 0 is
	 * written), and the size in meta: tile 0 of level 4 is partial, so
	 * it is derived from the leaves when read. */
	before = sqlite3_total_changes(f->db);
	group(f->db, &f->w, &f->m, 30);
	assert_int_equal(sqlite3_total_changes(f->db) - before, 30 + 1);
	before = sqlite3_total_changes(f->db);
	group(f->db, &f->w, &f->m, 30);
	assert_int_equal(sqlite3_total_changes(f->db) - before, 30 + 1);
	/* To 256: tile 0 of level 4 is full, written once. */
	before = sqlite3_total_changes(f->db);
	group(f->db, &f->w, &f->m, 196);
	assert_int_equal(sqlite3_total_changes(f->db) - before, 196 + 2);
	assert_int_equal(cde_sql_int(f->db, "SELECT count(*) FROM tree_tiles WHERE tile_level = 0", NULL, -1), 0);
	assert_int_equal(cde_sql_int(f->db, "SELECT length(hashes) FROM tree_tiles WHERE tile_level = 1 AND idx = 0",
				     NULL, -1), 512);
	reads_as_the_model(f->db, &f->m);
	assert_false(cde_sql_has_table(f->db, "tree_hashes"));
}

/* @n leaves appended (salted: not the model's) and not committed. */
static void appended(struct fixture *f, int n, int salt)
{
	uint8_t h[CDE_TLOG_HASH_LEN];

	for (int i = 0; i < n; i++) {
		leaf(f->w.work.size, salt, h);
		assert_int_equal(insert_leaf_row(f->db, f->w.work.size, h), 0);
		assert_int_equal(cde_audit_tree_writer_append(&f->w, h), 0);
	}
}

/* Leaves appended and rolled back (whole transaction or savepoint):
 * other leaves take their places. */
static void rolled_back_leaves_leave_no_hash_behind(void **state)
{
	struct fixture *f = *state;
	struct cde_tlog_frontier saved;
	char err[256];

	group(f->db, &f->w, &f->m, 10);
	/* A transaction that fails after its flush. */
	exec(f->db, "BEGIN IMMEDIATE");
	appended(f, 40, 1);
	assert_int_equal(cde_audit_tree_writer_flush(&f->w), 0);
	exec(f->db, "ROLLBACK");
	cde_audit_tree_writer_rolled_back(&f->w);
	group(f->db, &f->w, &f->m, 5);
	reads_as_the_model(f->db, &f->m);
	/* A savepoint rolled back inside a group (the store's clash), the
	 * frontier put back by hand. */
	exec(f->db, "BEGIN IMMEDIATE; SAVEPOINT batch");
	saved = f->w.work;
	appended(f, 40, 2);
	exec(f->db, "ROLLBACK TO batch; RELEASE batch; COMMIT");
	f->w.work = saved;
	group(f->db, &f->w, &f->m, 3);
	reads_as_the_model(f->db, &f->m);
	cde_audit_tree_writer_release(&f->w);
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), 0);
	group(f->db, &f->w, &f->m, 20);
	reads_as_the_model(f->db, &f->m);
}

/* A damaged edge stops the writer at start: it would extend a tree it
 * cannot prove. */
static void a_writer_refuses_a_damaged_edge_tile(void **state)
{
	struct fixture *f = *state;
	char err[256];

	group(f->db, &f->w, &f->m, 20);
	cde_audit_tree_writer_release(&f->w);
	/* The leaves past the last full tile, from their rows. */
	exec(f->db, "UPDATE events SET leaf_hash = NULL WHERE leaf = 19");
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "lacks a stored hash"));
	exec(f->db, "UPDATE events SET leaf_hash = zeroblob(33) WHERE leaf = 19");
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), -EBADMSG);
	/* The row mended, and a damaged tile of level 4 put where the
	 * partial one is derived: read first, refused. */
	exec(f->db, "DELETE FROM events WHERE leaf = 19");
	assert_int_equal(insert_leaf_row(f->db, 19, f->m.hash[0][19]), 0);
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), 0);
	cde_audit_tree_writer_release(&f->w);
	exec(f->db, "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (1, 0, zeroblob(33))");
	assert_int_equal(cde_audit_tree_writer_init(&f->w, f->db, err, sizeof(err)), -EBADMSG);
}

/* An io kept in memory, for the tile logic alone: the tiles of the
 * lowest tile levels in arrays, and every call counted. A blob may be
 * set longer than a tile, as a damaged row can be. */
#define MEM_LEVELS 3
#define MEM_TILES 64
#define MEM_BLOB (CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN + 64)

struct mem_io {
	uint8_t blob[MEM_LEVELS][MEM_TILES][MEM_BLOB];
	size_t len[MEM_LEVELS][MEM_TILES];	/* 0: no tile */
	unsigned gets, puts;
};

static int mem_get(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct mem_io *m = ctx;
	size_t len;

	m->gets++;
	if (tile_level >= MEM_LEVELS || idx >= MEM_TILES) {
		*ret_len = 0;
		return 0;
	}
	len = m->len[tile_level][idx];
	if (len <= cap)
		memcpy(buf, m->blob[tile_level][idx], len);
	*ret_len = len;
	return 0;
}

static int mem_put(void *ctx, unsigned tile_level, uint64_t idx, const uint8_t *hashes, size_t len)
{
	struct mem_io *m = ctx;

	m->puts++;
	assert_true(tile_level < MEM_LEVELS && idx < MEM_TILES && len <= MEM_BLOB);
	memcpy(m->blob[tile_level][idx], hashes, len);
	m->len[tile_level][idx] = len;
	return 0;
}

/* A tree kept through an in-memory io only: the io, the edge and
 * frontier of its writer, and the model. */
struct mem_log {
	struct mem_io *mem;
	struct cde_audit_tile_io io;
	struct cde_audit_tile_edge e;
	struct cde_tlog_frontier f;
	struct model m;
};

/* The writer's edge (re)loaded from the io, as at a start. */
static int mem_restart(struct mem_log *l)
{
	struct cde_audit_tile_reader r;

	cde_audit_tile_edge_release(&l->e);
	cde_audit_tile_reader_init(&r, &l->io);
	return cde_audit_tile_edge_init(&l->e, &l->io, l->f.size, &r.tile);
}

static int mem_setup(void **state)
{
	struct mem_log *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->mem = calloc(1, sizeof(*l->mem));
	assert_non_null(l->mem);
	l->io = (struct cde_audit_tile_io){ .get = mem_get, .put = mem_put, .ctx = l->mem };
	model_init(&l->m);
	cde_tlog_frontier_init(&l->f);
	assert_int_equal(mem_restart(l), 0);
	*state = l;
	return 0;
}

static int mem_teardown(void **state)
{
	struct mem_log *l = *state;

	cde_audit_tile_edge_release(&l->e);
	model_release(&l->m);
	free(l->mem);
	free(l);
	return 0;
}

/* @n leaves appended to the writer and to the model, then flushed and
 * committed as the store would. */
static void mem_group(struct mem_log *l, size_t n)
{
	uint64_t from = l->f.size;
	uint8_t h[CDE_TLOG_HASH_LEN];

	for (size_t i = 0; i < n; i++) {
		leaf(l->f.size, 0, h);
		assert_int_equal(cde_tlog_frontier_append(&l->f, h, cde_audit_tile_edge_keep, &l->e), 0);
		assert_int_equal(cde_tlog_frontier_append(&l->m.f, h, model_keep, &l->m), 0);
	}
	assert_int_equal(cde_audit_tile_edge_flush(&l->e, from, l->f.size), 0);
	cde_audit_tile_edge_committed(&l->e, l->f.size);
}

/* The model's tree reads back through the io alone. */
static void mem_reads_as_the_model(const struct mem_log *l)
{
	struct cde_audit_tile_reader r;

	cde_audit_tile_reader_init(&r, &l->io);
	reads_as(&r.tlog, &l->m);
}

/* The hash (@level, @index) read through a new reader over the io. */
static int mem_read(const struct mem_log *l, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tile_reader r;

	cde_audit_tile_reader_init(&r, &l->io);
	return r.tlog.read(r.tlog.ctx, level, index, out);
}

static void the_tile_logic_stores_and_reads_through_its_io_alone(void **state)
{
	static const size_t sizes[] = { 1, 2, 13, 30, 16, 100, 3, 250, 149 };
	struct mem_log *l = *state;
	struct cde_audit_tile_reader r;
	uint8_t got[CDE_TLOG_HASH_LEN];

	/* 30 leaves: tiles 0 and 1 of level 0 and tile 0 of level 4, one
	 * put each; nothing read, the tree being empty. */
	mem_group(l, 30);
	assert_int_equal(l->mem->puts, 3);
	assert_int_equal(l->mem->gets, 0);
	assert_int_equal(l->mem->len[0][1], 14 * CDE_TLOG_HASH_LEN);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		mem_group(l, sizes[i]);
		mem_reads_as_the_model(l);
		/* A start in the middle: the edge comes back from the io. */
		assert_int_equal(mem_restart(l), 0);
	}
	assert_int_equal(l->f.size, 594);	/* tile levels 0, 1 and 2 */
	/* The 16 leaves of a tile are one get. */
	l->mem->gets = 0;
	cde_audit_tile_reader_init(&r, &l->io);
	for (uint64_t i = 16; i < 32; i++)
		assert_int_equal(r.tlog.read(r.tlog.ctx, 0, i, got), 0);
	assert_int_equal(l->mem->gets, 1);
	/* The io is all there is: empty it and nothing is stored. */
	memset(l->mem->len, 0, sizeof(l->mem->len));
	assert_int_equal(mem_read(l, 0, 0, got), -ENOENT);
	assert_int_equal(mem_read(l, 8, 1, got), -ENOENT);
	assert_int_equal(mem_restart(l), -ENOENT);
}

/* Over any io, a blob that is not whole hashes or is longer than a tile
 * damages every hash of its tile; a short one lacks those past its end. */
static void a_damaged_blob_is_judged_by_the_tile_logic_over_any_io(void **state)
{
	struct mem_log *l = *state;
	uint8_t got[CDE_TLOG_HASH_LEN];

	mem_group(l, 20);
	l->mem->len[0][1] = 100;	/* not whole hashes */
	assert_int_equal(mem_read(l, 0, 17, got), -EBADMSG);
	assert_int_equal(mem_read(l, 0, 15, got), 0);
	assert_int_equal(mem_restart(l), -EBADMSG);

	l->mem->len[0][1] = CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN + CDE_TLOG_HASH_LEN;	/* past a tile */
	assert_int_equal(mem_read(l, 0, 16, got), -EBADMSG);
	assert_int_equal(mem_restart(l), -EBADMSG);

	l->mem->len[0][1] = 3 * CDE_TLOG_HASH_LEN;	/* short: 3 of the 4 hashes */
	assert_int_equal(mem_read(l, 0, 18, got), 0);
	assert_memory_equal(got, l->m.hash[0][18], CDE_TLOG_HASH_LEN);
	assert_int_equal(mem_read(l, 0, 19, got), -ENOENT);
	assert_int_equal(mem_restart(l), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_subtree_reads_back_after_groups_of_any_size_and_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(a_group_writes_each_tile_it_touched_once, setup, teardown),
		cmocka_unit_test_setup_teardown(rolled_back_leaves_leave_no_hash_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(a_writer_refuses_a_damaged_edge_tile, setup, teardown),
		cmocka_unit_test_setup_teardown(the_tile_logic_stores_and_reads_through_its_io_alone, mem_setup,
						mem_teardown),
		cmocka_unit_test_setup_teardown(a_damaged_blob_is_judged_by_the_tile_logic_over_any_io, mem_setup,
						mem_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
