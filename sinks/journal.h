#pragma once
/* The journal hand-off: where accepted events go before the producer gets
 * its 202. The audit log (SQLite, group commit) implements it; until then
 * cde_journal_memory_new gives a volatile one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "events/event.h"

struct cde_journal_entry {
	struct cde_event *event;	/* the entry holds a reference */
	const char *principal;		/* who sent it (borrowed until done) */
	const char *peer;		/* from where */
	/* set by the journal before done is called: */
	uint64_t seq;
	bool duplicate;			/* same source and id as an earlier event */
};

/* Called on the loop thread when the entries are committed (error 0: each
 * entry has its seq, or duplicate set) or could not be (error < 0: none
 * of them is stored). */
typedef void (*cde_journal_done_fn)(void *ctx, struct cde_journal_entry *entries, size_t n,
				    int error);

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

/* A journal kept in memory: sequence numbers and duplicate detection over
 * the last @window (source, id) pairs, nothing stored beyond them, lost
 * at exit. For running before the audit log exists, and for tests.
 * Returns 0 or -ENOMEM. */
int cde_journal_memory_new(struct event_base *base, size_t window, struct cde_journal *ret);

/* Frees what @j holds (pending completions are dropped). */
void cde_journal_release(struct cde_journal *j);
