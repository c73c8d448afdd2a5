#pragma once
/* One thread that works a queue off the event loop: the loop submits
 * items, the thread runs them and hands them back to the loop, where they
 * are completed. The audit reader (one query at a time) and the journal's
 * writer (group commit, with a probe and retention as timed chores) are
 * both built on it. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>

/* Embedded in the caller's own item; the worker links items through it. */
struct cde_worker_item {
	struct cde_worker_item *next;
};

/* The caller's item of type @type that embeds @item as @member. */
#define CDE_WORKER_ENTRY(item, type, member) ((type *)((char *)(item) - offsetof(type, member)))

struct cde_worker_ops {
	/* On the thread: runs @items, a list in the order submitted. One
	 * item unless @group, then everything queued since the last run.
	 * The items are handed back to the loop when it returns. */
	void (*run)(void *ctx, struct cde_worker_item *items);
	bool group;
	/* Optional, on the thread with the worker's lock held: the next
	 * instant (CLOCK_MONOTONIC, cde_worker_deadline) the thread has a
	 * chore to do without being woken; false when none. */
	bool (*next_chore)(void *ctx, struct timespec *at);
	/* Optional, on the thread after each wake-up (a run, or a chore's
	 * time come), except once stopping. */
	void (*chores)(void *ctx);
	/* On the loop thread: one item is done; the callee owns it now. */
	void (*complete)(void *ctx, struct cde_worker_item *item);
	/* Optional: the thread's name (at most 15 bytes), which top -H,
	 * perf and /proc/PID/task show, and the benchmark's CPU split reads. */
	const char *name;
};

struct cde_worker;

/* Starts the thread on @base. Returns 0, -ENOMEM, or the -errno of
 * pthread_create. */
int cde_worker_new(struct event_base *base, const struct cde_worker_ops *ops, void *ctx,
		   struct cde_worker **ret);

/* Queues @item (from the loop thread) and wakes the thread. */
void cde_worker_submit(struct cde_worker *w, struct cde_worker_item *item);

/* Like cde_worker_submit, but ahead of everything queued: the next item
 * the thread takes (for a worker that takes one at a time). */
void cde_worker_submit_first(struct cde_worker *w, struct cde_worker_item *item);

/* Stops the thread once it has run everything queued, completes what it
 * handed back (on the calling thread, which must be the loop's) and frees
 * @w. Accepts NULL; returns NULL. */
struct cde_worker *cde_worker_free(struct cde_worker *w);

/* The instant @ms milliseconds from now, on CLOCK_MONOTONIC: a step of
 * the wall clock must not stall a chore. */
struct timespec cde_worker_deadline(unsigned ms);

/* True when @t (from cde_worker_deadline) has come. */
bool cde_worker_due(const struct timespec *t);
