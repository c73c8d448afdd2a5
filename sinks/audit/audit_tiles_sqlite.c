/* The tiles of audit_tiles.h in SQLite: one row of tree_tiles per tile,
 * read and written through statements prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT), since the writer's flush runs on the
 * ingest path. A write replaces the row: an edge tile is rewritten as
 * its level grows.
 *
 * From schema 8 the leaves are in the events rows (leaf_hash), written
 * with the row, and the writer stores no tile of level 0: a tile of
 * level 0 is what its row in tree_tiles holds (leaves stored before
 * schema 8, and those retention deleted, which it wrote first), then
 * the rows' leaf hashes that follow, in leaf order, up to a gap. Above
 * it the writer stores a tile once it is full; a tile read is what its
 * row holds (a partial tile of a file from before, or nothing), then
 * the hashes the full tiles below it make.
 *
 * A reader that serves many proofs (the daemon's reader thread) gives its
 * io a cache of what it derived (audit_tile_cache.h): a proof to the head
 * then reads the rows and tiles the log gained since the last one, not
 * the whole right edge again. */

#include "sinks/audit/audit_tiles_sqlite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/sql.h"

static int sqlite_get(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	size_t len = 0;
	int r = 0;

	sqlite3_bind_int(s->get, 1, (int)tile_level);
	sqlite3_bind_int64(s->get, 2, (sqlite3_int64)idx);
	switch (sqlite3_step(s->get)) {
	case SQLITE_ROW: {
		const void *blob = sqlite3_column_blob(s->get, 0);

		len = (size_t)sqlite3_column_bytes(s->get, 0);
		if (len && !blob)
			r = -ENOMEM;	/* SQLite's own allocation for it failed */
		else if (len && len <= cap)
			memcpy(buf, blob, len);
		break;
	}
	case SQLITE_DONE:
		break;
	default:
		r = -EIO;
	}
	sqlite3_reset(s->get);
	if (r == 0)
		*ret_len = len;
	return r;
}

/* Appends to @buf (holding *@len bytes of tile @idx of level 0) the leaf
 * hashes of the rows that follow, while their leaves follow each other.
 * A row's hash of the wrong size makes *@len not whole hashes: the tile
 * logic then reads the tile as damaged, as it does a bad blob. */
/* The first row at or after seq @from that has a leaf: 1 (its seq and
 * leaf set), 0 (none) or -EIO. */
static int probe_leaf(struct cde_audit_tile_io_sqlite *s, int64_t from, int64_t *seq, int64_t *leaf)
{
	int rc, r;

	sqlite3_bind_int64(s->probe, 1, from);
	rc = sqlite3_step(s->probe);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
	if (r == 1) {
		*seq = sqlite3_column_int64(s->probe, 0);
		*leaf = sqlite3_column_int64(s->probe, 1);
	}
	sqlite3_reset(s->probe);
	return r;
}

/* Without an index on leaf (dropped by whoever edited the file), the
 * seq from which the rows of leaf @leaf on are read, by bisection over
 * the seqs (leaves grow with them): O(log n) rows instead of a scan of
 * the table for every tile. A file whose leaves do not grow with its
 * seqs gets some seq, and the walk over its rows names the disorder. */
static int seq_of_leaf(struct cde_audit_tile_io_sqlite *s, uint64_t leaf, int64_t *ret)
{
	int64_t lo = 1, hi = INT64_MAX - 1, seq = 0, got = 0;
	int r;

	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		r = probe_leaf(s, mid, &seq, &got);
		if (r < 0)
			return r;
		if (r == 1 && got >= 0 && (uint64_t)got < leaf)
			lo = seq + 1;
		else
			hi = mid;
	}
	*ret = lo;
	return 0;
}

/* Binds s->leaves to the rows of leaves @next to @end - 1, in leaf order
 * (by the index on leaf) or in seq order from the first of them. */
static int bind_leaf_rows(struct cde_audit_tile_io_sqlite *s, uint64_t next, uint64_t end)
{
	int64_t seq = 0;
	int r;

	if (!s->probe) {
		sqlite3_bind_int64(s->leaves, 1, (sqlite3_int64)next);
		sqlite3_bind_int64(s->leaves, 2, (sqlite3_int64)end);
		return 0;
	}
	r = seq_of_leaf(s, next, &seq);
	if (r == 0)
		sqlite3_bind_int64(s->leaves, 1, seq);
	return r;
}

static int append_row_leaves(struct cde_audit_tile_io_sqlite *s, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *len)
{
	uint64_t next = idx * CDE_AUDIT_TILE_WIDTH + *len / CDE_TLOG_HASH_LEN;
	int rc;

	if (*len % CDE_TLOG_HASH_LEN || *len >= cap || next > INT64_MAX - CDE_AUDIT_TILE_WIDTH)
		return 0;
	if (bind_leaf_rows(s, next, (idx + 1) * CDE_AUDIT_TILE_WIDTH) < 0)
		return -EIO;
	while ((rc = sqlite3_step(s->leaves)) == SQLITE_ROW && *len + CDE_TLOG_HASH_LEN <= cap) {
		uint64_t leaf = (uint64_t)sqlite3_column_int64(s->leaves, 0);
		const void *hash = sqlite3_column_blob(s->leaves, 1);
		int bytes = sqlite3_column_bytes(s->leaves, 1);

		/* A row without a leaf (from before the tree), or a second row
		 * claiming a leaf (its unique index dropped by whoever edited
		 * the file): the first in seq order holds it, and the walk over
		 * the rows finds the other out of order. */
		if (sqlite3_column_type(s->leaves, 0) == SQLITE_NULL || leaf < next)
			continue;
		/* A gap, or a row from before schema 8 that no tile covers:
		 * the hashes past it are not stored. */
		if (leaf != next || bytes == 0)
			break;
		if (bytes != CDE_TLOG_HASH_LEN || !hash) {
			*len += 1;
			break;
		}
		memcpy(buf + *len, hash, CDE_TLOG_HASH_LEN);
		*len += CDE_TLOG_HASH_LEN;
		next++;
	}
	sqlite3_reset(s->leaves);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int sqlite_get_merged(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *ret_len);

/* Appends to @buf (holding *@len bytes of tile @idx of tile level @t, 1
 * or more) the hashes the writer has not stored yet, as it stores a tile
 * only once full: hash j is the root of tile j of the level below, while
 * that tile is full (a level has at most 15 of them, so a read derives
 * at most 15 tiles a level). */
static int append_derived(struct cde_audit_tile_io_sqlite *s, unsigned t, uint64_t idx, uint8_t *buf, size_t cap,
			  size_t *len)
{
	uint8_t below[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
	uint64_t end = (idx + 1) * CDE_AUDIT_TILE_WIDTH;
	int r = 0;

	if (*len % CDE_TLOG_HASH_LEN || idx > INT64_MAX / CDE_AUDIT_TILE_WIDTH - 1)
		return 0;
	for (uint64_t j = idx * CDE_AUDIT_TILE_WIDTH + *len / CDE_TLOG_HASH_LEN;
	     r == 0 && j < end && *len + CDE_TLOG_HASH_LEN <= cap; j++) {
		size_t n = 0;

		r = sqlite_get_merged(s, t - 1, j, (uint8_t *)below, sizeof(below), &n);
		/* A tile below not full (or damaged): the hashes from here on
		 * do not exist yet, or cannot be known. */
		if (r < 0 || n != sizeof(below))
			break;
		r = cde_audit_tile_hash_up((const uint8_t (*)[CDE_TLOG_HASH_LEN])below, CDE_AUDIT_TILE_WIDTH,
					   buf + *len);
		if (r == 0)
			*len += CDE_TLOG_HASH_LEN;
	}
	return r;
}

/* What the rows (level 0) or the tiles below (above it) add to the
 * *@len bytes of tile (@t, @idx) in @buf. */
static int append_missing(struct cde_audit_tile_io_sqlite *s, unsigned t, uint64_t idx, uint8_t *buf, size_t cap,
			  size_t *len)
{
	return t == 0 ? append_row_leaves(s, idx, buf, cap, len) : append_derived(s, t, idx, buf, cap, len);
}

/* The bytes of tile (@t, @idx) that a tree of @size leaves has: its
 * hashes of level @t (each over 16^@t leaves) that are whole in it. */
static size_t bytes_in_tree(uint64_t size, unsigned t, uint64_t idx)
{
	uint64_t n = size >> (CDE_AUDIT_TILE_HEIGHT * t);

	if (idx > n / CDE_AUDIT_TILE_WIDTH)
		return 0;
	n -= idx * CDE_AUDIT_TILE_WIDTH;
	return (n < CDE_AUDIT_TILE_WIDTH ? (size_t)n : CDE_AUDIT_TILE_WIDTH) * CDE_TLOG_HASH_LEN;
}

/* A tile read through the reader's open cache: one held whole in the
 * tree this snapshot sees, or full (it never changes), is served as held; any other is
 * read as without a cache, but from the end of what is held of it (a
 * prefix of it, the log being append-only), and is then held. A row
 * that is whole, or damaged, is the answer as it is. Nothing past the
 * tree's size is derived or held: rows there are not the tree's yet (an
 * INSERT not committed, or one rolled back and replaced by others), and
 * the witness vouches only for the leaves below it. */
static int get_cached(struct cde_audit_tile_io_sqlite *s, unsigned t, uint64_t idx, uint8_t *buf, size_t *ret_len)
{
	const size_t full = CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN;
	struct cde_audit_tile_cache *c = s->cache;
	struct cde_audit_tile_cached *e = cde_audit_tile_cache_find(c, t, idx);
	size_t held = e ? e->n * CDE_TLOG_HASH_LEN : 0, len = 0, most = bytes_in_tree(c->size, t, idx);
	int r;

	if (e && (e->gen == c->gen || e->n == CDE_AUDIT_TILE_WIDTH)) {
		memcpy(buf, e->hash, held);
		*ret_len = held;
		return 0;
	}
	r = sqlite_get(s, t, idx, buf, full, &len);
	if (r < 0 || len >= full || len % CDE_TLOG_HASH_LEN) {
		if (r == 0)
			*ret_len = len;
		return r;
	}
	/* The row has less than is held (none, or the part retention
	 * stored): the rest of what is held is what derived it then. */
	if (len < held) {
		memcpy(buf, e->hash, held);
		len = held;
	}
	if (len > most)
		len = most;
	r = append_missing(s, t, idx, buf, most, &len);
	if (r == 0 && len && len % CDE_TLOG_HASH_LEN == 0)
		cde_audit_tile_cache_keep(c, t, idx, (const uint8_t (*)[CDE_TLOG_HASH_LEN])buf,
					  len / CDE_TLOG_HASH_LEN);
	if (r == 0)
		*ret_len = len;
	return r;
}

static int sqlite_get_merged(void *ctx, unsigned tile_level, uint64_t idx, uint8_t *buf, size_t cap,
			     size_t *ret_len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	size_t len = 0;
	int r;

	if (s->cache && s->cache->open && cap == CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN &&
	    tile_level < CDE_AUDIT_TILE_LEVELS)
		return get_cached(s, tile_level, idx, buf, ret_len);
	r = sqlite_get(ctx, tile_level, idx, buf, cap, &len);
	if (r == 0 && len < cap)
		r = append_missing(s, tile_level, idx, buf, cap, &len);
	if (r == 0)
		*ret_len = len;
	return r;
}

static int sqlite_put(void *ctx, unsigned tile_level, uint64_t idx, const uint8_t *hashes, size_t len)
{
	struct cde_audit_tile_io_sqlite *s = ctx;
	int rc;

	/* SQLITE_STATIC: the blob is read by the step, before the caller
	 * frees or changes it. */
	sqlite3_bind_int(s->put, 1, (int)tile_level);
	sqlite3_bind_int64(s->put, 2, (sqlite3_int64)idx);
	sqlite3_bind_blob(s->put, 3, hashes, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s->put);
	sqlite3_reset(s->put);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Above retired leaves, the partial tile of each level that holds hashes
 * over them, which the writer does not store until full: stored now (as
 * derived from the rows still there), so that a kept leaf hash edited
 * later disagrees with a stored hash above it, as everywhere else in the
 * tree; derived, it would agree with the edit. Only the leaves of the
 * last block of 16, whose hash of level 4 does not exist yet, stay
 * without one, as with every leaf at the tree's edge. */
static int keep_edge_above(struct cde_audit_tile_io_sqlite *s, uint64_t last, uint8_t *hashes)
{
	const size_t full = CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN;
	int r = 0;

	for (unsigned t = 1; r == 0 && t < CDE_AUDIT_TILE_LEVELS; t++) {
		uint64_t tile = (last >> (CDE_AUDIT_TILE_HEIGHT * t)) / CDE_AUDIT_TILE_WIDTH;
		size_t len = 0;

		r = sqlite_get_merged(s, t, tile, hashes, full, &len);
		/* No hash there yet over the last leaf retired: none above. */
		if (r < 0 || len == 0)
			break;
		if (len < full && len % CDE_TLOG_HASH_LEN == 0)
			r = sqlite_put(s, t, tile, hashes, len);
	}
	return r;
}

int cde_audit_tile_sqlite_keep_leaves(struct cde_audit_tile_io_sqlite *s, uint64_t first, uint64_t last)
{
	uint8_t hashes[CDE_AUDIT_TILE_WIDTH * CDE_TLOG_HASH_LEN];
	int r = 0;

	if (!s->put)
		return -EINVAL;
	if (!s->leaves || first > last)
		return 0;	/* before schema 8 every leaf is in a tile */
	for (uint64_t tile = first / CDE_AUDIT_TILE_WIDTH; r == 0 && tile <= last / CDE_AUDIT_TILE_WIDTH; tile++) {
		size_t len = 0;

		r = sqlite_get_merged(s, 0, tile, hashes, sizeof(hashes), &len);
		/* Hashes already damaged are not copied into a tile: check
		 * then finds them missing, as it found them damaged. */
		if (r == 0 && len && len % CDE_TLOG_HASH_LEN == 0)
			r = sqlite_put(s, 0, tile, hashes, len);
	}
	return r < 0 ? r : keep_edge_above(s, last, hashes);
}

/* The hash of leaf @k as the file holds it: its row's, or the tile's
 * that retention stored when it deleted the row. 1, 0 (not held) or
 * -EIO. */
static int leaf_at(struct cde_audit_tile_io_sqlite *s, uint64_t k, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t tile[CDE_AUDIT_TILE_WIDTH][CDE_TLOG_HASH_LEN];
	size_t len = 0;
	int rc, r = 0;

	if (k > INT64_MAX - CDE_AUDIT_TILE_WIDTH)
		return 0;
	if (bind_leaf_rows(s, k, k + 1) < 0)
		return -EIO;
	while ((rc = sqlite3_step(s->leaves)) == SQLITE_ROW) {
		uint64_t leaf = (uint64_t)sqlite3_column_int64(s->leaves, 0);
		const void *hash = sqlite3_column_blob(s->leaves, 1);

		/* As append_row_leaves reads them: the first row in seq order
		 * that claims the leaf holds it. */
		if (sqlite3_column_type(s->leaves, 0) == SQLITE_NULL || leaf < k)
			continue;
		if (leaf == k && hash && sqlite3_column_bytes(s->leaves, 1) == CDE_TLOG_HASH_LEN) {
			memcpy(out, hash, CDE_TLOG_HASH_LEN);
			r = 1;
		}
		break;
	}
	sqlite3_reset(s->leaves);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	if (r == 0 && (r = sqlite_get(s, 0, k / CDE_AUDIT_TILE_WIDTH, (uint8_t *)tile, sizeof(tile), &len)) == 0 &&
	    len <= sizeof(tile) && len % CDE_TLOG_HASH_LEN == 0 && k % CDE_AUDIT_TILE_WIDTH < len / CDE_TLOG_HASH_LEN) {
		memcpy(out, tile[k % CDE_AUDIT_TILE_WIDTH], CDE_TLOG_HASH_LEN);
		r = 1;
	}
	return r;
}

int cde_audit_tile_io_sqlite_cache(struct cde_audit_tile_io_sqlite *s)
{
	if (!s->leaves || s->cache)
		return 0;
	s->cache = calloc(1, sizeof(*s->cache));
	return s->cache ? 0 : -ENOMEM;
}

/* The cache holds hashes over leaves below c->size only (get_cached
 * derives nothing past it), and the log only grows: while leaf
 * c->size - 1 is the one witnessed, every hash held is still the file's.
 * A file put in the log's place (a backup restored under the daemon,
 * another log) has another leaf there, or none, or fewer leaves: the
 * cache starts again. A row altered behind the daemon's back is verify's
 * to find, as everywhere else in the tree (and a proof's, for its own
 * row: audit_proof.c compares the row's leaf hash too). A connection
 * inside a write transaction sees rows that may yet be rolled back: no
 * cache there, neither served nor witnessed. */
int cde_audit_tile_io_sqlite_open_snapshot(struct cde_audit_tile_io_sqlite *s, uint64_t size)
{
	struct cde_audit_tile_cache *c = s->cache;
	uint8_t h[CDE_TLOG_HASH_LEN];
	int r;

	if (!c)
		return 0;
	c->open = false;
	if (sqlite3_txn_state(sqlite3_db_handle(s->get), "main") == SQLITE_TXN_WRITE)
		return 0;
	if (c->size && size < c->size)
		cde_audit_tile_cache_clear(c);
	if (c->size) {
		r = leaf_at(s, c->size - 1, h);
		if (r < 0)
			return r;
		if (r == 0 || memcmp(h, c->last, sizeof(h)) != 0)
			cde_audit_tile_cache_clear(c);
	}
	/* A tree of the size witnessed has the tiles it had: what was whole
	 * still is. What a larger one adds is over leaves below @size. */
	if (size > c->size) {
		r = leaf_at(s, size - 1, h);
		if (r < 0)
			return r;
		if (r == 0) {
			cde_audit_tile_cache_clear(c);	/* nothing to witness: no cache this time */
			return 0;
		}
		c->size = size;
		memcpy(c->last, h, sizeof(h));
		c->gen++;
	}
	c->open = c->size > 0;
	return 0;
}

void cde_audit_tile_io_sqlite_close_snapshot(struct cde_audit_tile_io_sqlite *s)
{
	if (s->cache)
		s->cache->open = false;
}

/* The statements that read the rows' leaf hashes, on a file of schema 8
 * (one before, read as it is, has no leaf_hash column: none then). */
static int prepare_leaf_rows(struct cde_audit_tile_io_sqlite *s, sqlite3 *db)
{
	bool indexed = cde_sql_int(db, "SELECT count(*) FROM pragma_index_list('events') AS l,"
				   " pragma_index_info(l.name) AS i WHERE i.seqno = 0 AND i.name = 'leaf'", NULL, 0) > 0;

	if (!cde_sql_int(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'leaf_hash'", NULL, 0))
		return 0;
	if (indexed)
		return sqlite3_prepare_v3(db, "SELECT leaf, leaf_hash FROM events WHERE leaf >= ? AND leaf < ?"
					  " ORDER BY leaf, seq", -1, SQLITE_PREPARE_PERSISTENT, &s->leaves,
					  NULL) == SQLITE_OK ? 0 : -EIO;
	return sqlite3_prepare_v3(db, "SELECT leaf, leaf_hash FROM events WHERE seq >= ? ORDER BY seq", -1,
				  SQLITE_PREPARE_PERSISTENT, &s->leaves, NULL) == SQLITE_OK &&
	       sqlite3_prepare_v3(db, "SELECT seq, leaf FROM events WHERE seq >= ? AND leaf IS NOT NULL"
				  " ORDER BY seq LIMIT 1", -1, SQLITE_PREPARE_PERSISTENT, &s->probe, NULL) == SQLITE_OK
		       ? 0 : -EIO;
}

int cde_audit_tile_io_sqlite_init(struct cde_audit_tile_io_sqlite *s, sqlite3 *db, bool writable)
{
	memset(s, 0, sizeof(*s));
	/* Preparing fails on a missing table: a caller's test for tiles. */
	if (sqlite3_prepare_v3(db, "SELECT hashes FROM tree_tiles WHERE tile_level = ? AND idx = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->get, NULL) != SQLITE_OK)
		goto err_release;
	if (writable && sqlite3_prepare_v3(db, "INSERT INTO tree_tiles(tile_level, idx, hashes) VALUES (?, ?, ?)"
					   " ON CONFLICT(tile_level, idx) DO UPDATE SET hashes = excluded.hashes",
					   -1, SQLITE_PREPARE_PERSISTENT, &s->put, NULL) != SQLITE_OK)
		goto err_release;
	if (prepare_leaf_rows(s, db) < 0)
		goto err_release;
	s->io.get = s->leaves ? sqlite_get_merged : sqlite_get;
	s->io.put = writable ? sqlite_put : NULL;
	s->io.ctx = s;
	s->io.leaves_in_rows = s->leaves != NULL;
	return 0;

err_release:
	cde_audit_tile_io_sqlite_release(s);
	return -EIO;
}

void cde_audit_tile_io_sqlite_release(struct cde_audit_tile_io_sqlite *s)
{
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->leaves);
	sqlite3_finalize(s->probe);
	free(s->cache);
	memset(s, 0, sizeof(*s));
}
