/* The audit journal: the journal hand-off backed by the audit store, with
 * a writer thread and group commit.
 *
 * The loop thread only queues (append never blocks on disk); the writer
 * thread owns the store's connection, takes every batch queued since its
 * last commit, writes them all in one transaction (one fsync for the
 * group) and hands them back to the loop with event_active, where the
 * producers get their 202. A commit that fails is never retried and then
 * acknowledged: its batches fail (the producers get 503 and retry), the
 * journal reports not ready, and it is ready again after the next commit
 * that succeeds; while it is not, the writer tries an empty commit every
 * few seconds, since a daemon that reports not ready gets no traffic to
 * find out with.
 *
 * Retention runs on the writer too (it needs the write connection), in
 * runs of at most RETENTION_ROWS rows with the queued groups in between,
 * so ingest waits for one bounded run at most. */

#include "sinks/audit/journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/ids.h"
#include "sinks/audit/audit_backend.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/worker.h"

struct batch {
	struct cde_worker_item item;
	struct cde_journal_entry *entries;
	size_t n;
	cde_journal_done_fn done;
	void *ctx;
	int error;
};

#define PROBE_INTERVAL_MS 2000
#define RETENTION_ROWS 10000

struct audit_journal {
	struct cde_worker *writer;	/* groups everything queued since its last commit */
	struct cde_audit_backend be;	/* used by the writer only, after start */
	pthread_mutex_t lock;
	atomic_bool healthy;
	struct cde_audit_retention retention;
	unsigned retention_interval_ms;
	struct timespec next_retention, next_probe;	/* writer only, CLOCK_MONOTONIC */
	unsigned tree_interval_ms;
	bool sign_pending;			/* writer only: entries no checkpoint covers */
	struct timespec next_sign;
	struct event *checkpoint_ev;		/* wakes the loop for a new checkpoint */
	void (*on_checkpoint)(void *ctx, uint64_t size, const char *note);
	void *checkpoint_ctx;
	char *checkpoint_note;			/* under lock: the newest, not yet handed over */
	uint64_t checkpoint_size;
	/* under lock: */
	char last_error[256];
	struct cde_journal_stats stats;
};

static bool retention_on(const struct audit_journal *j)
{
	return j->be.ops->retain && (j->retention.max_age_s || j->retention.max_bytes);
}

static bool earlier(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The next instant the writer has something to do without being woken:
 * a probe of a failing store, else the earlier of a retention run and a
 * checkpoint due. False when none. */
static bool next_chore(void *ctx, struct timespec *at)
{
	const struct audit_journal *j = ctx;
	bool any = false;

	if (!atomic_load(&j->healthy)) {
		*at = j->next_probe;
		return true;
	}
	if (retention_on(j)) {
		*at = j->next_retention;
		any = true;
	}
	if (j->sign_pending && (!any || earlier(&j->next_sign, at))) {
		*at = j->next_sign;
		any = true;
	}
	return any;
}

/* Writer: after a commit, hands a checkpoint it signed to the loop, and
 * arms the timer for entries no checkpoint covers yet. */
static void after_commit(struct audit_journal *j)
{
	uint64_t size = 0;
	const struct cde_audit_backend_ops *ops = j->be.ops;
	char *note = ops->take_checkpoint ? ops->take_checkpoint(j->be.store, &size) : NULL;
	char failed[160];

	if (ops->take_sign_error && ops->take_sign_error(j->be.store, failed, sizeof(failed))) {
		pthread_mutex_lock(&j->lock);
		j->stats.checkpoint_failures++;
		snprintf(j->stats.last_checkpoint_error, sizeof(j->stats.last_checkpoint_error), "%s", failed);
		pthread_mutex_unlock(&j->lock);
	}

	if (note) {
		pthread_mutex_lock(&j->lock);
		free(j->checkpoint_note);
		j->checkpoint_note = note;
		j->checkpoint_size = size;
		pthread_mutex_unlock(&j->lock);
		event_active(j->checkpoint_ev, EV_READ, 0);
	}
	if (!j->checkpoint_ev || ops->tree_size(j->be.store) <= ops->signed_size(j->be.store)) {
		j->sign_pending = false;
	} else if (!j->sign_pending) {
		j->sign_pending = true;
		j->next_sign = cde_worker_deadline(j->tree_interval_ms);
	}
}

/* Loop: the newest checkpoint to whoever asked for them. */
static void checkpoint_made(evutil_socket_t fd, short what, void *ctx)
{
	struct audit_journal *j = ctx;
	uint64_t size;
	char *note;

	pthread_mutex_lock(&j->lock);
	note = j->checkpoint_note;
	size = j->checkpoint_size;
	j->checkpoint_note = NULL;
	pthread_mutex_unlock(&j->lock);
	if (note && j->on_checkpoint)
		j->on_checkpoint(j->checkpoint_ctx, size, note);
	free(note);
}

#define BATCH(it) CDE_WORKER_ENTRY(it, struct batch, item)

static void commit_group(void *ctx, struct cde_worker_item *work)
{
	struct audit_journal *j = ctx;
	static const double batch_bounds[] = CDE_JOURNAL_BATCH_BOUNDS, second_bounds[] = CDE_JOURNAL_SECONDS_BOUNDS;
	char err[256] = "";
	unsigned long long n_events = 0, n_batches = 0;
	struct timespec t0, t1;
	double secs;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = j->be.ops->begin(j->be.store, err, sizeof(err));

	for (struct cde_worker_item *it = work; it && r == 0; it = it->next) {
		struct batch *b = BATCH(it);

		r = j->be.ops->add(j->be.store, b->entries, b->n, err, sizeof(err));
		n_events += b->n;
		n_batches++;
	}
	if (r == 0)
		r = j->be.ops->commit(j->be.store, err, sizeof(err));
	if (r < 0)
		j->be.ops->rollback(j->be.store);
	else
		after_commit(j);
	for (struct cde_worker_item *it = work; it; it = it->next)
		BATCH(it)->error = r;
	atomic_store(&j->healthy, r == 0);

	pthread_mutex_lock(&j->lock);
	if (r == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		for (size_t i = 0; i < CDE_JOURNAL_BUCKETS; i++)
			if ((double)n_events <= batch_bounds[i]) {
				j->stats.batch_buckets[i]++;
				break;
			}
		for (size_t i = 0; i < CDE_JOURNAL_BUCKETS; i++)
			if (secs <= second_bounds[i]) {
				j->stats.seconds_buckets[i]++;
				break;
			}
		j->stats.seconds_sum += secs;
		j->stats.commits++;
		j->stats.events += n_events;
		if (n_batches > j->stats.largest_group)
			j->stats.largest_group = n_batches;
		for (struct cde_worker_item *it = work; it; it = it->next)
			for (size_t i = 0; i < BATCH(it)->n; i++)
				j->stats.rows += BATCH(it)->entries[i].seq != 0;
	} else {
		j->stats.failed_commits++;
		snprintf(j->last_error, sizeof(j->last_error), "%s", err);
		j->next_probe = cde_worker_deadline(PROBE_INTERVAL_MS);
	}
	pthread_mutex_unlock(&j->lock);
}

/* An empty commit: it still writes (the chain head) and syncs, so it
 * shows whether the store can take events again. */
static void probe(struct audit_journal *j)
{
	char err[256] = "";
	int r = j->be.ops->begin(j->be.store, err, sizeof(err));

	if (r == 0)
		r = j->be.ops->commit(j->be.store, err, sizeof(err));
	if (r < 0)
		j->be.ops->rollback(j->be.store);
	atomic_store(&j->healthy, r == 0);
	pthread_mutex_lock(&j->lock);
	if (r < 0)
		snprintf(j->last_error, sizeof(j->last_error), "%s", err);
	pthread_mutex_unlock(&j->lock);
	j->next_probe = cde_worker_deadline(PROBE_INTERVAL_MS);
}

static void run_retention(struct audit_journal *j)
{
	struct cde_audit_retention policy = j->retention;
	struct cde_audit_retention_run run;
	char err[128] = "";
	int r;

	policy.max_rows = RETENTION_ROWS;
	r = j->be.ops->retain(j->be.store, &policy, (int64_t)time(NULL), &run, err, sizeof(err));
	pthread_mutex_lock(&j->lock);
	if (r < 0) {
		j->stats.retention_failures++;
		snprintf(j->stats.last_retention, sizeof(j->stats.last_retention), "%s", err);
	} else if (run.deleted) {
		j->stats.retention_runs++;
		j->stats.retained_rows += run.deleted;
		j->stats.rows -= run.deleted < j->stats.rows ? run.deleted : j->stats.rows;
		j->stats.retained_through = run.through_seq;
		snprintf(j->stats.last_retention, sizeof(j->stats.last_retention), "%s", run.reason);
	}
	pthread_mutex_unlock(&j->lock);
	/* A full run may have left more due: go again right after the
	 * groups queued meanwhile. */
	/* A failed run (the database busy, say) tries again in a minute,
	 * not a whole interval later. */
	j->next_retention = r == 0 && run.deleted == RETENTION_ROWS ? cde_worker_deadline(0)
			    : r < 0 && j->retention_interval_ms > 60000 ? cde_worker_deadline(60000)
									: cde_worker_deadline(j->retention_interval_ms);
}

/* A checkpoint of entries that waited tree_interval_ms for one. */
static void sign_tree(struct audit_journal *j)
{
	char err[256] = "";

	if (j->be.ops->sign_tree(j->be.store, err, sizeof(err)) < 0) {
		pthread_mutex_lock(&j->lock);
		snprintf(j->last_error, sizeof(j->last_error), "signing a checkpoint: %s", err);
		pthread_mutex_unlock(&j->lock);
		j->next_sign = cde_worker_deadline(PROBE_INTERVAL_MS);
		return;
	}
	j->sign_pending = false;
	after_commit(j);
}

/* Between groups: the probe while the store fails, else retention and
 * checkpoints when due. */
static void chores(void *ctx)
{
	struct audit_journal *j = ctx;

	if (!atomic_load(&j->healthy)) {
		if (cde_worker_due(&j->next_probe))
			probe(j);
		return;
	}
	if (retention_on(j) && cde_worker_due(&j->next_retention))
		run_retention(j);
	if (j->sign_pending && cde_worker_due(&j->next_sign))
		sign_tree(j);
}

/* On the loop: deliver what the writer finished. */
static void complete(void *ctx, struct cde_worker_item *item)
{
	struct batch *b = BATCH(item);

	for (size_t i = 0; i < b->n; i++) {
		cde_audit_leaf_ahead_free(b->entries[i].leaf_ahead);
		b->entries[i].leaf_ahead = NULL;
	}
	if (b->error < 0)
		for (size_t i = 0; i < b->n; i++) {
			b->entries[i].seq = 0;
			b->entries[i].has_leaf = false;
		}
	b->done(b->ctx, b->entries, b->n, b->error);
	free(b);
}

static const struct cde_worker_ops writer_ops = {
	.run = commit_group,
	.group = true,
	.next_chore = next_chore,
	.chores = chores,
	.complete = complete,
	.name = "cde-writer",
};

/* The writer is the ceiling of ingest: what does not depend on the seq
 * (the entry's JCS and most of its hash) is done here, on the loop
 * thread. An entry the writer correlates (it gets a chainId and maybe a
 * link there) is made a template with those two places open, which the
 * writer fills. One that cannot be hashed ahead is left to the writer
 * whole. */
static void hash_ahead(struct cde_journal_entry *e)
{
	struct cde_audit_row row = {
		.received_at = e->received_at, .principal = e->principal, .peer = e->peer, .event = e->json,
	};
	int r = -EINVAL;

	e->leaf_ahead = NULL;
	if (e->correlate)
		r = cde_audit_leaf_ahead_new_template(&row, cde_event_json(e->event), &e->leaf_ahead);
	else if (e->json)
		r = cde_audit_leaf_ahead_new(&row, &e->leaf_ahead);
	if (r < 0)
		e->leaf_ahead = NULL;
}

static int audit_append(void *impl, struct cde_journal_entry *entries, size_t n,
			cde_journal_done_fn done, void *ctx)
{
	struct audit_journal *j = impl;
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cde_timestamp_now(entries[i].received_at);
		hash_ahead(&entries[i]);
	}
	b->entries = entries;
	b->n = n;
	b->done = done;
	b->ctx = ctx;
	cde_worker_submit(j->writer, &b->item);
	return 0;
}

static bool audit_ready(void *impl)
{
	struct audit_journal *j = impl;

	return atomic_load(&j->healthy);
}

static void audit_stats(void *impl, struct cde_journal_stats *out, char *why, size_t why_size)
{
	struct audit_journal *j = impl;

	pthread_mutex_lock(&j->lock);
	*out = j->stats;
	snprintf(why, why_size, "%s", atomic_load(&j->healthy) ? "" : j->last_error);
	pthread_mutex_unlock(&j->lock);
}

static void audit_free(void *impl)
{
	struct audit_journal *j = impl;

	/* The writer empties the queue before it leaves, so what was
	 * accepted is committed and answered. */
	j->writer = cde_worker_free(j->writer);
	if (j->checkpoint_ev)
		event_free(j->checkpoint_ev);
	free(j->checkpoint_note);
	if (j->be.ops)
		j->be.ops->close(j->be.store);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static const struct cde_journal_ops audit_ops = {
	.name = "audit",
	.append = audit_append,
	.ready = audit_ready,
	.durable = true,
	.stats = audit_stats,
	.free = audit_free,
};

/* Signed checkpoints: the store signs (its signer is set by the opener),
 * the loop hears of each. */
static int open_signing(struct audit_journal *j, struct event_base *base, const struct cde_journal_audit_options *o,
			char *err, size_t err_size)
{
	j->tree_interval_ms = o->tree_interval_ms ? o->tree_interval_ms : 10000;
	j->on_checkpoint = o->on_checkpoint;
	j->checkpoint_ctx = o->checkpoint_ctx;
	j->checkpoint_ev = event_new(base, -1, 0, checkpoint_made, j);
	if (!j->checkpoint_ev) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	/* Entries from before this start that no checkpoint covers. */
	after_commit(j);
	return 0;
}

int cde_journal_writer_new(struct event_base *base, struct cde_audit_backend be,
			   const struct cde_journal_audit_options *o, unsigned long long rows, struct cde_journal *ret,
			   char *err, size_t err_size)
{
	struct audit_journal *j = calloc(1, sizeof(*j));
	int r;

	if (!j) {
		be.ops->close(be.store);
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	j->be = be;
	pthread_mutex_init(&j->lock, NULL);
	atomic_init(&j->healthy, true);
	j->retention = o->retention;
	j->retention_interval_ms = o->retention_interval_ms ? o->retention_interval_ms : 3600000;
	j->next_retention = cde_worker_deadline(0);
	j->stats.rows = rows;
	if (o->signer && be.ops->sign_tree && (r = open_signing(j, base, o, err, err_size)) < 0)
		goto err_free;
	r = cde_worker_new(base, &writer_ops, j, &j->writer);
	if (r == -ENOMEM) {
		snprintf(err, err_size, "out of memory");
		goto err_free;
	}
	if (r < 0) {
		snprintf(err, err_size, "cannot start the writer thread: %s", strerror(-r));
		goto err_free;
	}
	ret->ops = &audit_ops;
	ret->impl = j;
	return 0;

err_free:
	audit_free(j);
	return r;
}
