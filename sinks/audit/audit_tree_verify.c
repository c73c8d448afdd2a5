/* The audit tree against its own rows: one pass in leaf order that
 * recomputes each row's leaf, compares it with the stored one, steps over
 * leaves whose rows retention retired or a recorded loss covers (their
 * stored hashes stand in) and builds the tree's frontier from what it
 * recomputed, taking the head at the sizes the caller asks for. The walk
 * stops at the first fault: the first bad index is what an auditor needs.
 * Checks against a checkpoint are in audit_tree_check.c. */

#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/audit_tree_walk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/sql.h"

const char *cde_audit_tree_fault_name(enum cde_audit_tree_fault f)
{
	static const char *const names[] = {
		[CDE_AUDIT_TREE_OK] = "intact",	      [CDE_AUDIT_TREE_TRUNCATED] = "truncated",
		[CDE_AUDIT_TREE_ALTERED] = "altered", [CDE_AUDIT_TREE_MISSING] = "missing",
		[CDE_AUDIT_TREE_HASHES] = "hashes",   [CDE_AUDIT_TREE_FORKED] = "forked",
	};

	return (size_t)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

int cde_audit_tree_fault(struct cde_audit_tree_check *out, enum cde_audit_tree_fault kind, uint64_t index,
			 const char *fmt, ...)
{
	va_list ap;

	out->fault = kind;
	out->bad_index = index;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int no_store(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	(void)ctx, (void)level, (void)index, (void)hash;
	return 0;
}

/* Appends @leaf and takes the head at every asked size it reaches. */
static int append(struct cde_audit_tree_walk *w, const uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	int r = cde_tlog_frontier_append(&w->f, leaf, no_store, NULL);

	while (r == 0 && w->next < w->n_sizes && w->sizes[w->next] <= w->f.size) {
		if (w->sizes[w->next] == w->f.size)
			r = cde_tlog_frontier_root(&w->f, w->roots[w->next]);
		w->next++;
	}
	return r;
}

static int stored_leaf(struct cde_audit_tree_walk *w, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	int r = w->tlog->read(w->tlog->ctx, 0, index, out);

	if (r == -ENOENT || r == -EBADMSG)
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_HASHES, index,
					    "the stored hash of leaf %llu is missing or damaged", (unsigned long long)index);
	return r;
}

/* Whether the seqs @lo to @hi were deleted for a reason the log records:
 * retention (up to w->retention) or one accepted loss. */
static bool covered(struct cde_audit_tree_walk *w, uint64_t lo, uint64_t hi)
{
	if (lo > hi)
		return false;
	if (hi <= w->retention)
		return true;
	if (lo <= w->retention)
		lo = w->retention + 1;
	return w->src->lost(w->src->ctx, lo, hi);
}

/* @count leaves from w->f.size on have no row; the rows between them
 * had seqs @lo to @hi. */
static int fill_gap(struct cde_audit_tree_walk *w, uint64_t count, uint64_t lo, uint64_t hi)
{
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	uint64_t first = w->f.size;
	int r = 0;

	if (!covered(w, lo, hi)) {
		/* In a prefix, retention may explain the first of them: the
		 * unexplained ones are the last hi - retention. */
		if (lo == 1 && w->retention && hi > w->retention && count > hi - w->retention)
			first += count - (hi - w->retention);
		if (lo > hi)
			return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_MISSING, first,
						    "leaves %llu to %llu have no rows: cut from the end, and nothing records why",
						    (unsigned long long)first, (unsigned long long)(w->f.size + count - 1));
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_MISSING, first,
					    "leaf %llu has no row: seqs %llu to %llu were deleted, not retired by retention "
					    "nor recorded as lost", (unsigned long long)first, (unsigned long long)lo,
					    (unsigned long long)hi);
	}
	if (hi <= w->retention)
		w->out->retired += count;
	else
		w->out->lost += count;
	for (uint64_t i = 0; r == 0 && i < count; i++) {
		r = stored_leaf(w, first + i, leaf);
		if (r == 0)
			r = append(w, leaf);
	}
	return r;
}

/* One row: its place in the tree and its recomputed leaf. */
static int walk_row(struct cde_audit_tree_walk *w, const struct cde_audit_tree_row *tr, uint64_t *prev_seq)
{
	const struct cde_audit_row row = tr->row;
	uint64_t index = tr->leaf;
	uint8_t leaf[CDE_TLOG_HASH_LEN], stored[CDE_TLOG_HASH_LEN];
	int r = 0;

	if (index >= w->out->tree_size)
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_HASHES, w->out->tree_size,
					    "row seq %llu is leaf %llu, past the tree's recorded size %llu",
					    (unsigned long long)row.seq, (unsigned long long)index,
					    (unsigned long long)w->out->tree_size);
	/* Rows are walked in seq order, in which their leaves only grow. */
	if (index < w->f.size)
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_ALTERED, index,
					    "row seq %llu claims leaf %llu, which an earlier row holds or passed: "
					    "rows were reordered or their leaves edited",
					    (unsigned long long)row.seq, (unsigned long long)index);
	if (index > w->f.size)
		r = fill_gap(w, index - w->f.size, *prev_seq + 1, row.seq - 1);
	if (r < 0)
		return r;
	r = stored_leaf(w, index, stored);
	if (r < 0)
		return r;
	r = cde_audit_tree_leaf(&row, leaf);
	if (r == -EINVAL || (r == 0 && memcmp(leaf, stored, sizeof(leaf)) != 0)) {
		w->out->bad_seq = row.seq;
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_ALTERED, index,
					    "leaf %llu (seq %llu) was altered: its row does not hash to the stored leaf",
					    (unsigned long long)index, (unsigned long long)row.seq);
	}
	w->out->rows++;
	*prev_seq = row.seq;
	return r < 0 ? r : append(w, leaf);
}

static int walk_rows(struct cde_audit_tree_walk *w)
{
	struct cde_audit_tree_row row;
	uint64_t prev_seq = 0;
	int r = 0, more;

	while (r == 0 && (more = w->src->next_row(w->src->ctx, &row)) > 0)
		r = walk_row(w, &row, &prev_seq);
	w->src->rows_end(w->src->ctx);
	if (r == 0 && more < 0)
		r = more;
	if (r == 0 && w->f.size < w->out->tree_size)
		r = fill_gap(w, w->out->tree_size - w->f.size, prev_seq + 1, w->head);
	return r;
}

/* The stored tree's frontier against the recomputed one: the first
 * subtree whose stored hash differs bounds where they part. */
static int stored_agrees(struct cde_audit_tree_walk *w)
{
	struct cde_tlog_frontier stored;
	uint64_t size = w->f.size;
	int r = cde_tlog_frontier_load(&stored, size, w->tlog);

	if (r == -ENOENT || r == -EBADMSG)
		return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_HASHES, 0,
					    "the stored tree of %llu leaves lacks a hash", (unsigned long long)size);
	for (int level = 63; r == 0 && level >= 0; level--) {
		uint64_t start = level == 63 ? 0 : (size >> (level + 1)) << (level + 1);

		if ((size >> level & 1) && memcmp(stored.hash[level], w->f.hash[level], CDE_TLOG_HASH_LEN) != 0)
			return cde_audit_tree_fault(w->out, CDE_AUDIT_TREE_HASHES, start,
						    "the stored hash of leaves %llu to %llu is not the hash of those leaves",
						    (unsigned long long)start,
						    (unsigned long long)(start + (UINT64_C(1) << level) - 1));
	}
	return r;
}

int cde_audit_tree_walk_run(struct cde_audit_tree_walk *w)
{
	bool stored = false;
	int r = w->src->bounds(w->src->ctx, &stored, &w->out->tree_size, &w->retention, &w->head);

	cde_tlog_frontier_init(&w->f);
	w->next = 0;
	if (r < 0)
		return r;
	/* A file from before the tree (cdevctl reads it as it is): an empty
	 * tree. */
	if (!stored)
		return cde_tlog_frontier_root(&w->f, w->out->root);
	w->tlog = w->src->tree(w->src->ctx);
	while (r == 0 && w->next < w->n_sizes && w->sizes[w->next] == 0)
		r = cde_tlog_frontier_root(&w->f, w->roots[w->next++]);
	if (r == 0)
		r = walk_rows(w);
	if (r == 0)
		r = stored_agrees(w);
	if (r == 0)
		r = cde_tlog_frontier_root(&w->f, w->out->root);
	return r;
}

int cde_audit_tree_heads_in(const struct cde_audit_tree_source *src, const uint64_t *sizes, size_t n,
			    uint8_t (*roots)[CDE_TLOG_HASH_LEN], struct cde_audit_tree_check *out)
{
	struct cde_audit_tree_walk w = { .src = src, .out = out, .sizes = sizes, .n_sizes = n, .roots = roots };

	memset(out, 0, sizeof(*out));
	return cde_audit_tree_walk_run(&w);
}

int cde_audit_tree_self_check_in(const struct cde_audit_tree_source *src, struct cde_audit_tree_check *out)
{
	return cde_audit_tree_heads_in(src, NULL, 0, NULL, out);
}

/* audit.db's source: the rows, meta and gaps of the file, the tiles
 * through the tree reader. */
static int sqlite_bounds(void *ctx, bool *stored, uint64_t *tree_size, uint64_t *retired_to, uint64_t *head_seq)
{
	struct cde_audit_tree_sqlite *s = ctx;
	int r;

	*stored = cde_audit_tree_stored(s->db);
	if (!*stored)
		return 0;
	r = cde_audit_tree_reader_init(&s->reader, s->db);
	if (r < 0)
		return r;
	s->has_reader = true;
	*tree_size = cde_audit_tree_size(s->db);
	*retired_to = (uint64_t)cde_sql_int(s->db, "SELECT max(seq) FROM retention", NULL, 0);
	*head_seq = (uint64_t)cde_sql_int(s->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'head_seq'",
					  NULL, 0);
	return 0;
}

static int sqlite_next_row(void *ctx, struct cde_audit_tree_row *ret)
{
	struct cde_audit_tree_sqlite *s = ctx;
	sqlite3_stmt *st;
	int rc;

	if (!s->rows && sqlite3_prepare_v2(s->db, "SELECT seq, leaf, received_at, principal, peer, event FROM events"
					   " WHERE leaf IS NOT NULL ORDER BY seq", -1, &s->rows, NULL) != SQLITE_OK)
		return -EIO;
	st = s->rows;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	*ret = (struct cde_audit_tree_row){
		.row = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.received_at = (const char *)sqlite3_column_text(st, 2),
			.principal = (const char *)sqlite3_column_text(st, 3),
			.peer = (const char *)sqlite3_column_text(st, 4),
			.event = (const char *)sqlite3_column_text(st, 5),
		},
		.leaf = (uint64_t)sqlite3_column_int64(st, 1),
	};
	return 1;
}

static void sqlite_rows_end(void *ctx)
{
	struct cde_audit_tree_sqlite *s = ctx;

	sqlite3_finalize(s->rows);
	s->rows = NULL;
}

static bool sqlite_lost(void *ctx, uint64_t lo, uint64_t hi)
{
	struct cde_audit_tree_sqlite *s = ctx;
	sqlite3_stmt *st;
	bool yes;

	if (!cde_sql_has_table(s->db, "gaps") ||
	    sqlite3_prepare_v2(s->db, "SELECT 1 FROM gaps WHERE first <= ? AND last >= ?", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)lo);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

static const struct cde_tlog_reader *sqlite_tree(void *ctx)
{
	struct cde_audit_tree_sqlite *s = ctx;

	return &s->reader.tlog;
}

void cde_audit_tree_sqlite_init(struct cde_audit_tree_sqlite *s, sqlite3 *db)
{
	memset(s, 0, sizeof(*s));
	s->db = db;
	s->src = (struct cde_audit_tree_source){
		.bounds = sqlite_bounds,
		.next_row = sqlite_next_row,
		.rows_end = sqlite_rows_end,
		.lost = sqlite_lost,
		.tree = sqlite_tree,
		.ctx = s,
	};
}

void cde_audit_tree_sqlite_release(struct cde_audit_tree_sqlite *s)
{
	sqlite_rows_end(s);
	if (s->has_reader)
		cde_audit_tree_reader_release(&s->reader);
	s->has_reader = false;
}

int cde_audit_tree_read_begin(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return 0;
	return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 1 : -EIO;
}

void cde_audit_tree_read_end(sqlite3 *db, int opened)
{
	if (opened > 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

int cde_audit_tree_self_check(sqlite3 *db, struct cde_audit_tree_check *out)
{
	struct cde_audit_tree_sqlite s;
	int opened = cde_audit_tree_read_begin(db), r;

	memset(out, 0, sizeof(*out));
	if (opened < 0)
		return opened;
	cde_audit_tree_sqlite_init(&s, db);
	r = cde_audit_tree_self_check_in(&s.src, out);
	cde_audit_tree_sqlite_release(&s);
	cde_audit_tree_read_end(db, opened);
	return r;
}
