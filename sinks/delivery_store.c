/* The delivery engine's store, whichever database holds it: the queue of
 * delivery records and cursors is kept here, the reads and writes are the
 * backend's (delivery_store_sqlite.c, delivery_store_pg.c, through the
 * table of delivery_store_impl.h).
 *
 * Delivery records and cursors are queued and written together, one
 * transaction per flush: written one by one, two transactions per
 * delivery (lock, WAL append, unlock) took a third of the delivery
 * thread's time. A cursor is written with the records of the deliveries
 * it passes, or after them (but for a record dropped when the queue is
 * full and the database stays locked: the record is lost, never the
 * event).
 *
 * Rows of the log are read AHEAD_ROWS at a time and kept until a scan
 * asks for rows they do not cover: a sink takes a few rows per pump (as
 * many as its window has room for), and reading a full batch every time
 * took a read transaction and a copy of each row for every few
 * deliveries. A row once committed does not change, and the seqs after
 * one committed are committed later (one writer; on PostgreSQL, appends
 * hold the log_head row's lock), so what was read is what a new read
 * would give, up to the last row read. */

#include "sinks/delivery_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/store_location.h"
#include "sinks/delivery_store_impl.h"

/* Deliveries queued before a flush is forced. */
#define PENDING_MAX 256
/* Rows read at once, and kept for the next scans. */
#define AHEAD_ROWS 64

/* The rows after @after, in order, as one read found them. */
struct ahead {
	uint64_t after;
	unsigned n;
	struct cde_scan_row rows[AHEAD_ROWS];
};

struct cde_delivery_store {
	const struct cde_delivery_store_ops *ops;
	void *impl;
	bool dirty;		/* something is queued */
	size_t n_sinks, n_pending;
	struct cde_pending_sink *sinks;
	struct cde_pending_delivery pending[PENDING_MAX];
	struct ahead ahead;
	unsigned long long reads;
};

static void ahead_clear(struct ahead *a)
{
	for (unsigned i = 0; i < a->n; i++)
		free(a->rows[i].event);
	a->n = 0;
}

int cde_delivery_store_open_at(const struct cde_store_location *at, struct cde_delivery_store **ret, char *err,
			       size_t err_size)
{
	struct cde_delivery_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->ops = at->postgres ? &cde_delivery_store_pg_ops : &cde_delivery_store_sqlite_ops;
	r = at->postgres ? cde_delivery_store_pg_open(&at->pg, &s->impl, err, err_size)
			 : cde_delivery_store_sqlite_open(at->sqlite_path, at->sqlite_checkpoints_aside, &s->impl,
								 err, err_size);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int cde_delivery_store_open(const char *path, struct cde_delivery_store **ret, char *err, size_t err_size)
{
	struct cde_store_location at = { .sqlite_path = path };

	return cde_delivery_store_open_at(&at, ret, err, err_size);
}

void cde_delivery_store_close(struct cde_delivery_store *s)
{
	if (!s)
		return;
	/* Whatever cannot be written now is delivered again at the next
	 * start: at least once. */
	cde_delivery_store_flush(s);
	for (size_t i = 0; i < s->n_pending; i++)
		free(s->pending[i].receipt);
	for (size_t i = 0; i < s->n_sinks; i++)
		free(s->sinks[i].name);
	free(s->sinks);
	ahead_clear(&s->ahead);
	s->ops->close(s->impl);
	free(s);
}

int cde_delivery_store_lease(struct cde_delivery_store *s, const char *sink, bool *held)
{
	return s->ops->lease(s->impl, sink, held);
}

void cde_delivery_store_watch(struct cde_delivery_store *s, void (*fn)(void *ctx, int fd), void *ctx)
{
	s->ops->watch(s->impl, fn, ctx);
}

bool cde_delivery_store_news(struct cde_delivery_store *s)
{
	return s->ops->news(s->impl);
}

int cde_delivery_store_check(struct cde_delivery_store *s)
{
	return s->ops->check(s->impl);
}

uint64_t cde_delivery_store_head(struct cde_delivery_store *s)
{
	return s->ops->head(s->impl);
}

void cde_delivery_store_received_at(struct cde_delivery_store *s, uint64_t seq, char *out, size_t size)
{
	out[0] = '\0';
	s->ops->received_at(s->impl, seq, out, size);
}

/* The cursor of @kind of @sink, which has none yet: @first (only a sink
 * truly seen for the first time starts there; a failed read must not
 * skip a backlog), unless another replica wrote one meanwhile: the row
 * stored wins. */
static int first_cursor(struct cde_delivery_store *s, enum cde_cursor_kind kind, const char *sink, uint64_t first,
			uint64_t *ret)
{
	int r = s->ops->init_cursor(s->impl, kind, sink, first);

	return r < 0 ? r : s->ops->get_cursor(s->impl, kind, sink, ret);
}

int cde_delivery_store_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_seq)
{
	uint64_t v;
	int r = s->ops->get_cursor(s->impl, CDE_CURSOR_SINK, sink, &v);

	if (r == -ENOENT)
		r = first_cursor(s, CDE_CURSOR_SINK, sink, cde_delivery_store_head(s), &v);
	if (r == 0)
		*ret_seq = v;
	return r;
}

int cde_delivery_store_forget_others(struct cde_delivery_store *s, const char *const *sinks, size_t n)
{
	return s->ops->forget_others(s->impl, sinks, n);
}

/* The first row read ahead after @after, or -1 when the rows read do not
 * cover it: @after before their start, or at or past their last row
 * (what follows may have been committed since). */
static int ahead_find(const struct ahead *a, uint64_t after)
{
	unsigned lo = 0, hi = a->n;

	if (a->n == 0 || after < a->after || after >= a->rows[a->n - 1].seq)
		return -1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (a->rows[mid].seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo;
}

int cde_delivery_store_scan(struct cde_delivery_store *s, uint64_t after, unsigned limit,
			    bool (*fn)(void *ctx, uint64_t seq, const char *event, const char *received_at),
			    void *ctx)
{
	struct ahead *a = &s->ahead;
	int i = ahead_find(a, after);

	if (i < 0) {
		int r;

		/* Read in full before @fn runs: @fn writes (deliveries,
		 * cursors), and on SQLite a write on a connection with a read
		 * still open fails with SQLITE_BUSY_SNAPSHOT as soon as the
		 * journal has committed since the read began. */
		ahead_clear(a);
		s->reads++;
		r = s->ops->scan(s->impl, after, AHEAD_ROWS, a->rows, &a->n);
		if (r < 0) {
			ahead_clear(a);
			return r;
		}
		a->after = after;
		i = 0;
	}
	for (unsigned k = (unsigned)i; k < a->n && limit > 0; k++, limit--)
		if (!fn(ctx, a->rows[k].seq, a->rows[k].event, a->rows[k].received_at))
			break;
	return 0;
}

unsigned long long cde_delivery_store_reads(const struct cde_delivery_store *s)
{
	return s->reads;
}

/* @sink's place among the sinks with queued writes, added if new. */
static int pending_sink(struct cde_delivery_store *s, const char *sink, size_t *ret)
{
	struct cde_pending_sink *more;
	char *name;

	for (size_t i = 0; i < s->n_sinks; i++)
		if (strcmp(s->sinks[i].name, sink) == 0) {
			*ret = i;
			return 0;
		}
	name = strdup(sink);
	more = name ? realloc(s->sinks, (s->n_sinks + 1) * sizeof(*more)) : NULL;
	if (!more) {
		free(name);
		return -ENOMEM;
	}
	s->sinks = more;
	s->sinks[s->n_sinks] = (struct cde_pending_sink){ .name = name };
	*ret = s->n_sinks++;
	return 0;
}

int cde_delivery_store_set_cursor(struct cde_delivery_store *s, const char *sink, uint64_t seq)
{
	size_t k;
	int r = pending_sink(s, sink, &k);

	if (r < 0)
		return r;
	s->sinks[k].cursor = seq;
	s->sinks[k].dirty = true;
	s->dirty = true;
	return 0;
}

int cde_delivery_store_delivered(struct cde_delivery_store *s, const char *sink, uint64_t seq, long status,
				 const char *receipt)
{
	struct cde_pending_delivery *p;
	size_t k;
	int r;

	if (s->n_pending == PENDING_MAX && (r = cde_delivery_store_flush(s)) < 0)
		return r;
	r = pending_sink(s, sink, &k);
	if (r < 0)
		return r;
	p = &s->pending[s->n_pending];
	*p = (struct cde_pending_delivery){ .sink = k, .seq = seq, .status = status };
	if (receipt && *receipt && !(p->receipt = strdup(receipt)))
		return -ENOMEM;
	cde_timestamp_now(p->at);
	s->n_pending++;
	s->dirty = true;
	return 0;
}

bool cde_delivery_store_dirty(const struct cde_delivery_store *s)
{
	return s->dirty;
}

int cde_delivery_store_flush(struct cde_delivery_store *s)
{
	struct cde_delivery_batch b = {
		.deliveries = s->pending, .n_deliveries = s->n_pending, .sinks = s->sinks, .n_sinks = s->n_sinks,
	};
	int r;

	if (!s->dirty)
		return 0;
	r = s->ops->write(s->impl, &b);
	if (r < 0)
		return r; /* kept queued for the next flush */
	for (size_t i = 0; i < s->n_pending; i++)
		free(s->pending[i].receipt);
	for (size_t i = 0; i < s->n_sinks; i++)
		s->sinks[i].dirty = false;
	s->n_pending = 0;
	s->dirty = false;
	return 0;
}

int cde_delivery_store_dead(struct cde_delivery_store *s, const char *sink, uint64_t seq, unsigned attempts,
			    const char *error)
{
	char now[CDE_TIMESTAMP_STR_LEN];

	cde_timestamp_now(now);
	return s->ops->dead(s->impl, sink, seq, attempts, error, now);
}

uint64_t cde_delivery_store_dead_count(struct cde_delivery_store *s, const char *sink)
{
	return s->ops->dead_count(s->impl, sink);
}

int cde_delivery_store_replays(struct cde_delivery_store *s, const char *sink, size_t max, uint64_t *seqs,
			       size_t *ret_n)
{
	return s->ops->replays(s->impl, sink, max, seqs, ret_n);
}

int cde_delivery_store_replay_done(struct cde_delivery_store *s, const char *sink, uint64_t seq)
{
	/* The replay's delivery record first, so a crash cannot keep the
	 * one without the other. */
	if (cde_delivery_store_flush(s) < 0)
		return -EIO;
	return s->ops->replay_done(s->impl, sink, seq);
}

int cde_delivery_store_event(struct cde_delivery_store *s, uint64_t seq, char **ret_json)
{
	return s->ops->event(s->impl, seq, ret_json);
}

int cde_delivery_store_set_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t size)
{
	return s->ops->set_witness_cursor(s->impl, sink, size);
}

int cde_delivery_store_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_size)
{
	uint64_t v, latest;
	int r = s->ops->get_cursor(s->impl, CDE_CURSOR_WITNESS, sink, &v);

	/* A new witness starts with the latest checkpoint, not the history. */
	if (r == -ENOENT) {
		latest = s->ops->latest_checkpoint(s->impl);
		r = first_cursor(s, CDE_CURSOR_WITNESS, sink, latest > 0 ? latest - 1 : 0, &v);
	}
	if (r == 0)
		*ret_size = v;
	return r;
}

int cde_delivery_store_checkpoint_after(struct cde_delivery_store *s, uint64_t after, uint64_t *ret_size,
					char **ret_note)
{
	return s->ops->checkpoint_after(s->impl, after, ret_size, ret_note);
}
