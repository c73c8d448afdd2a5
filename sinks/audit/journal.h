#pragma once
/* The journal hand-off: where accepted events go before the producer gets
 * its 202. The audit log (SQLite, a writer thread, group commit)
 * implements it; another store would implement the same table. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "events/event.h"
#include "sinks/audit/audit_retention.h"

struct cde_audit_leaf_ahead;

struct cde_journal_entry {
	struct cde_event *event;	/* the entry holds a reference */
	const char *principal;		/* who sent it (borrowed until done) */
	const char *peer;		/* from where */
	char received_at[32];		/* set by the journal when appended */
	bool correlate;			/* no chainId given: the journal assigns one */
	bool has_digest;
	uint8_t digest[32];		/* SHA-256 of what the producer sent: tells a re-send from a clash */
	const char *json;		/* the event already printed, when it is stored unchanged
					 * (not correlate): the writer need not print it again;
					 * NULL: the writer prints it (borrowed until done) */
	struct cde_audit_leaf_ahead *leaf_ahead;	/* the audit journal's, from append to done:
						 * the entry's leaf hashed up to its seq, or (correlate)
						 * a template with its chainId and link open (audit_leaf.h) */
	/* set by the journal before done is called: */
	uint64_t seq;
	bool has_leaf;			/* stored (or a duplicate of a stored one) in the tree: */
	uint64_t leaf;			/* its index in the log's Merkle tree */
	uint8_t leaf_hash[32];		/* its leaf hash (new events only; zero for a duplicate) */
	bool duplicate;			/* same source and id as an earlier event, same content */
	bool conflict;			/* same source and id, other content: none of its batch is stored */
	uint64_t conflict_seq;		/* the event stored first */
};

/* Called on the loop thread when the entries are committed (error 0: each
 * entry has its seq, or duplicate set) or could not be (error < 0: none
 * of them is stored). */
typedef void (*cde_journal_done_fn)(void *ctx, struct cde_journal_entry *entries, size_t n,
				    int error);

/* Histogram bounds of the journal's commits: events per commit, and
 * seconds per commit (the fsync mostly). */
#define CDE_JOURNAL_BATCH_BOUNDS { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 }
#define CDE_JOURNAL_SECONDS_BOUNDS { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1 }
#define CDE_JOURNAL_BUCKETS 11

/* What a journal has done, for logs and metrics. */
struct cde_journal_stats {
	unsigned long long commits;		/* transactions committed */
	unsigned long long events;		/* entries committed (new and duplicate) */
	unsigned long long failed_commits;
	unsigned long long largest_group;	/* most requests in one commit */
	unsigned long long rows;		/* events stored */
	unsigned long long retention_runs;	/* runs that deleted rows */
	unsigned long long retained_rows;	/* rows they deleted */
	unsigned long long retained_through;	/* the last seq deleted */
	unsigned long long retention_failures;
	char last_retention[160];		/* why the last run deleted, or failed */
	unsigned long long checkpoint_failures;	/* signed checkpoints that could not be made */
	char last_checkpoint_error[160];
	/* per bucket, not cumulative; past the last bound counts only in
	 * commits (the +Inf bucket) */
	unsigned long long batch_buckets[CDE_JOURNAL_BUCKETS];
	unsigned long long seconds_buckets[CDE_JOURNAL_BUCKETS];
	double seconds_sum;
};

struct cde_journal_ops {
	const char *name;
	/* Queues @n entries; never blocks; @done is called later, never
	 * from inside append. Returns 0, or -EAGAIN when full (503). */
	int (*append)(void *impl, struct cde_journal_entry *entries, size_t n,
		      cde_journal_done_fn done, void *ctx);
	/* True while appends can be accepted (for /readyz). */
	bool (*ready)(void *impl);
	/* True when what is committed survives a restart. */
	bool durable;
	/* Fills @out; why the journal is not ready, if it is not, in @why. */
	void (*stats)(void *impl, struct cde_journal_stats *out, char *why, size_t why_size);
	void (*free)(void *impl);
};

struct cde_journal {
	const struct cde_journal_ops *ops;
	void *impl;
};

static inline int cde_journal_append(struct cde_journal *j, struct cde_journal_entry *entries,
				     size_t n, cde_journal_done_fn done, void *ctx)
{
	return j->ops->append(j->impl, entries, n, done, ctx);
}

/* How the audit journal keeps its log. */
struct cde_journal_audit_options {
	const char *path;		/* the database file */
	bool sync_full;			/* fsync every commit */
	const uint8_t *key;		/* NULL: no keyed checkpoints */
	size_t key_len;
	unsigned every;			/* rows between checkpoints */
	struct cde_audit_retention retention;	/* all 0: keep everything */
	unsigned retention_interval_ms;
	bool accept_loss;		/* rows missing from the end: record the loss and go on */
	/* Signed checkpoints of the Merkle tree: NULL for none; the journal
	 * owns @signer from the call on. One after @tree_every new entries,
	 * and at most @tree_interval_ms after an entry none covers. */
	struct cde_note_signer *signer;
	unsigned tree_every;
	unsigned tree_interval_ms;
	/* Called on the loop with each new checkpoint (the note as stored). */
	void (*on_checkpoint)(void *ctx, uint64_t size, const char *note);
	void *checkpoint_ctx;
};

/* What the audit journal found when it opened the log. */
struct cde_journal_audit_opened {
	unsigned long long rows;		/* rows counted, not what meta says */
	unsigned long long head_seq;
	unsigned long long lost_first, lost_last;	/* a loss recorded now (accept_loss), or 0 */
	bool head_file_damaged;			/* the head file was unreadable: not checked */
	unsigned long long tree_size;		/* leaves of the Merkle tree */
	/* The WAL copied back by a thread of its own (audit_wal.h); when
	 * it could not start, why (the writer's commits then checkpoint as
	 * SQLite's do, and the log opens all the same). */
	bool checkpoints_aside;
	char checkpoints_why[256];
};

/* The journal of the audit log: the store at @o->path, written by its own
 * thread with group commit, which also runs retention every
 * @o->retention_interval_ms and, while the store fails, tries a write
 * every few seconds so that it is ready again as soon as the disk is.
 * The log's tail is checked first (cde_audit_store_check_tail): a broken
 * chain is refused (-EBADMSG); rows missing from the end are refused
 * (-ENODATA) unless @o->accept_loss, which records the loss in the chain.
 * What was found goes to *@opened. Returns 0 or -errno with the reason in
 * @err. */
int cde_journal_audit_new(struct event_base *base, const struct cde_journal_audit_options *o,
			  struct cde_journal *ret, struct cde_journal_audit_opened *opened,
			  char *err, size_t err_size);

/* Frees what @j holds. The audit journal first commits what is queued
 * and delivers those completions. */
static inline void cde_journal_release(struct cde_journal *j)
{
	if (j->ops)
		j->ops->free(j->impl);
	j->ops = NULL;
	j->impl = NULL;
}
