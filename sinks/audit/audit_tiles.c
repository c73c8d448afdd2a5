/* The Merkle tree's hashes as tiles (format in audit_tiles.h): reading a
 * hash from its tile, and the writer's edge, which keeps a transaction's
 * new hashes in memory and writes each tile they touch once, at the
 * flush before the commit. Rows go in and out through the caller's
 * struct cde_audit_tile_io only, so any database can hold them. With groups of about 30 events that is a few
 * row writes per group where one row per hash made about 60.
 *
 * A tile's blob is whole hashes or it is damaged: a reader refuses every
 * hash of a damaged tile (-EBADMSG), so a check names the tile's first
 * index; a tile shorter than the tree needs lacks the hashes past its
 * end (-ENOENT). */

#include "sinks/audit/audit_tiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define H CDE_AUDIT_TILE_HEIGHT
#define W CDE_AUDIT_TILE_WIDTH

int cde_audit_tile_fetch(struct cde_audit_tile *t, const struct cde_audit_tile_io *io, unsigned level,
			 uint64_t idx)
{
	size_t len = 0;
	int r;

	if (t->valid && t->level == level && t->idx == idx)
		return 0;
	t->valid = t->damaged = false;
	t->n = 0;
	r = io->get(io->ctx, level, idx, (uint8_t *)t->hash, sizeof(t->hash), &len);
	if (r < 0)
		return r;
	/* The io copied nothing of a blob past the buffer; a blob of whole
	 * hashes within it is the tile's. */
	t->damaged = len % CDE_TLOG_HASH_LEN || len > sizeof(t->hash);
	t->n = t->damaged ? 0 : len / CDE_TLOG_HASH_LEN;
	t->valid = true;
	t->level = level;
	t->idx = idx;
	return 0;
}

int cde_audit_tile_hash_up(const uint8_t (*hashes)[CDE_TLOG_HASH_LEN], size_t count, uint8_t out[CDE_TLOG_HASH_LEN])
{
	uint8_t acc[W / 2][CDE_TLOG_HASH_LEN];
	int r;

	if (count == 0 || count > W || (count & (count - 1)))
		return -EINVAL;
	if (count == 1) {
		memcpy(out, hashes[0], CDE_TLOG_HASH_LEN);
		return 0;
	}
	for (size_t i = 0; i < count / 2; i++)
		if ((r = cde_tlog_node_hash(hashes[2 * i], hashes[2 * i + 1], acc[i])) < 0)
			return r;
	for (count /= 2; count > 1; count /= 2)
		for (size_t i = 0; i < count / 2; i++)
			if ((r = cde_tlog_node_hash(acc[2 * i], acc[2 * i + 1], acc[i])) < 0)
				return r;
	memcpy(out, acc[0], CDE_TLOG_HASH_LEN);
	return 0;
}

int cde_audit_tile_read(struct cde_audit_tile *t, const struct cde_audit_tile_io *io, unsigned level,
			uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	unsigned k = level % H;
	size_t count = (size_t)1 << k, off;
	uint64_t first;
	int r;

	if (level >= 64 || index >= CDE_TLOG_MAX_SIZE >> level)
		return -ENOENT;
	first = index << k;	/* its first hash, at level level - k */
	r = cde_audit_tile_fetch(t, io, level / H, first / W);
	if (r < 0)
		return r;
	if (t->damaged)
		return -EBADMSG;
	off = (size_t)(first % W);
	if (off + count > t->n)
		return -ENOENT;
	/* Pairs of the tile's hashes, up the k levels to the node. */
	return cde_audit_tile_hash_up((const uint8_t (*)[CDE_TLOG_HASH_LEN])t->hash + off, count, out);
}

static int reader_read(void *ctx, unsigned level, uint64_t index, uint8_t out[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tile_reader *r = ctx;

	return cde_audit_tile_read(&r->tile, &r->io, level, index, out);
}

void cde_audit_tile_reader_init(struct cde_audit_tile_reader *r, const struct cde_audit_tile_io *io)
{
	memset(r, 0, sizeof(*r));
	r->io = *io;
	r->tlog.read = reader_read;
	r->tlog.ctx = r;
}

/* Room in @e's level @t for @need hashes from its base. */
static int edge_room(struct cde_audit_tile_edge *e, unsigned t, size_t need)
{
	size_t cap = e->cap[t] ? e->cap[t] : W;
	void *buf;

	if (need <= e->cap[t])
		return 0;
	while (cap < need)
		cap *= 2;
	buf = realloc(e->buf[t], cap * CDE_TLOG_HASH_LEN);
	if (!buf)
		return -ENOMEM;
	e->buf[t] = buf;
	e->cap[t] = cap;
	return 0;
}

/* The lowest tile level the edge keeps and writes. */
static unsigned edge_first_level(const struct cde_audit_tile_edge *e)
{
	return e->io.leaves_in_rows ? 1 : 0;
}

int cde_audit_tile_edge_init(struct cde_audit_tile_edge *e, const struct cde_audit_tile_io *io, uint64_t size,
			     struct cde_audit_tile *t)
{
	int r = 0;

	memset(e, 0, sizeof(*e));
	e->io = *io;
	for (unsigned level = edge_first_level(e); r == 0 && level < CDE_AUDIT_TILE_LEVELS; level++) {
		uint64_t n = size >> (H * level);
		size_t partial = (size_t)(n % W);

		e->base[level] = n - partial;
		if (!partial)
			continue;
		r = cde_audit_tile_fetch(t, io, level, n / W);
		if (r == 0 && t->damaged)
			r = -EBADMSG;
		else if (r == 0 && t->n < partial)
			r = -ENOENT;
		if (r == 0 && (r = edge_room(e, level, partial)) == 0)
			memcpy(e->buf[level], t->hash, partial * CDE_TLOG_HASH_LEN);
	}
	if (r < 0)
		cde_audit_tile_edge_release(e);
	return r;
}

void cde_audit_tile_edge_release(struct cde_audit_tile_edge *e)
{
	for (unsigned t = 0; t < CDE_AUDIT_TILE_LEVELS; t++) {
		free(e->buf[t]);
		e->buf[t] = NULL;
		e->cap[t] = 0;
	}
}

int cde_audit_tile_edge_keep(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tile_edge *e = ctx;
	unsigned t = level / H;
	int r;

	if (level % H || t < edge_first_level(e))
		return 0;
	if (index < e->base[t])
		return -EINVAL;	/* below the edge: stored already, and final */
	r = edge_room(e, t, (size_t)(index - e->base[t]) + 1);
	if (r == 0)
		memcpy(e->buf[t][index - e->base[t]], hash, CDE_TLOG_HASH_LEN);
	return r;
}

int cde_audit_tile_edge_flush(struct cde_audit_tile_edge *e, uint64_t from, uint64_t size)
{
	for (unsigned t = edge_first_level(e); t < CDE_AUDIT_TILE_LEVELS; t++) {
		uint64_t lo = from >> (H * t), n = size >> (H * t);

		/* No new hash at this level: none above it either. */
		if (n <= lo)
			break;
		for (uint64_t tile = lo / W; tile <= (n - 1) / W; tile++) {
			uint64_t first = tile * W, end = n < first + W ? n : first + W;
			int r;

			/* An io that keeps the leaves in rows derives a partial
			 * tile from the tiles below it: written once, full. */
			if (e->io.leaves_in_rows && end - first < W)
				continue;
			r = e->io.put(e->io.ctx, t, tile, e->buf[t][first - e->base[t]],
				      (size_t)(end - first) * CDE_TLOG_HASH_LEN);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void cde_audit_tile_edge_committed(struct cde_audit_tile_edge *e, uint64_t size)
{
	for (unsigned t = edge_first_level(e); t < CDE_AUDIT_TILE_LEVELS; t++) {
		uint64_t n = size >> (H * t), base = n - n % W;

		if (base <= e->base[t])
			continue;
		if (n > base)
			memmove(e->buf[t], e->buf[t][base - e->base[t]], (size_t)(n - base) * CDE_TLOG_HASH_LEN);
		e->base[t] = base;
	}
}
