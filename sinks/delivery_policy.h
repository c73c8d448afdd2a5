#pragma once
/* The delivery engine's decisions, apart from its I/O so that they can be
 * tested alone: the in-flight window and the cursor it allows, the
 * backoff before a retry, and when an event becomes a dead letter. Pure:
 * no clock, no randomness, no database; the engine passes them in. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/sink.h"

#define CDE_DELIVERY_BACKOFF_BASE_MS 500
#define CDE_DELIVERY_MAX_BACKOFF_MS 300000	/* when max_backoff is 0 */
#define CDE_DELIVERY_WINDOW_DEFAULT 16		/* when max_in_flight is 0 */

/* One place in a sink's window: an event taken from the journal (or a
 * dead letter replayed) and not settled yet. */
struct cde_window_entry {
	bool used;
	bool in_flight;		/* submitted, no outcome yet */
	bool replay;		/* a dead letter sent again: below the cursor */
	bool dead;		/* given up on; waits until its dead letter is stored */
	uint64_t seq;
	unsigned attempts;
};

/* A sink's window: at most @n events pending, and how far the journal has
 * been read. Everything up to the cursor is settled. */
struct cde_window {
	struct cde_window_entry *e;
	unsigned n, used;
	uint64_t fetched;	/* the last seq examined */
};

/* Sets @w up for @n entries (0: the default) with the journal read up to
 * @cursor. Returns 0 or -ENOMEM. */
int cde_window_init(struct cde_window *w, unsigned n, uint64_t cursor);
void cde_window_release(struct cde_window *w);

/* Takes a free entry for row @seq (a @replay of a dead letter, or the
 * next row of the journal, which then counts as fetched). Returns its
 * index, or -1 when the window is full. */
int cde_window_take(struct cde_window *w, uint64_t seq, bool replay);
/* Row @seq needs no entry (not routed to the sink, or dead-lettered at
 * once): the journal is read past it. */
void cde_window_pass(struct cde_window *w, uint64_t seq);
/* Entry @i is settled (delivered, or its dead letter stored): frees it. */
void cde_window_settle(struct cde_window *w, unsigned i);
bool cde_window_full(const struct cde_window *w);
/* True when row @seq holds an entry. */
bool cde_window_pending(const struct cde_window *w, uint64_t seq);
unsigned cde_window_in_flight(const struct cde_window *w);
/* The seq below the oldest unsettled row of the journal (replays do not
 * count: they are below it already), or the last row examined when none
 * is pending. */
uint64_t cde_window_cursor(const struct cde_window *w);

/* Whether an event waiting for its retry after @attempts attempts may go
 * early now that the receiver is back, when it last went early after
 * @rushed_after attempts (0: never). Once per backoff at most: its own
 * timer must have fired in between, so an event the receiver keeps
 * failing is not sent at every recovery. */
bool cde_delivery_may_rush(unsigned attempts, unsigned rushed_after);

/* Events not settled yet for a sink whose journal ends at @head: those
 * pending in @w (but replays, which are settled already) and the rows
 * not examined yet. Not head - cursor: an event waiting for a retry
 * holds the cursor while the rows after it get delivered. */
uint64_t cde_window_unsettled(const struct cde_window *w, uint64_t head);

/* The delay before trying again an event that failed @attempts times:
 * full jitter (a value from 0 to the exponential from
 * CDE_DELIVERY_BACKOFF_BASE_MS, capped by max_backoff) drawn with
 * @random, but never less than the receiver's Retry-After @retry_after_s
 * (-1: none), itself capped by max_retry_after. */
int64_t cde_delivery_backoff_ms(const struct cde_sink_options *cfg, unsigned attempts, long retry_after_s,
				uint64_t random);

enum cde_delivery_verdict {
	CDE_DELIVERY_TRY_AGAIN,
	CDE_DELIVERY_REFUSED,		/* the receiver refused it for good */
	CDE_DELIVERY_GAVE_UP,		/* max_attempts reached */
	CDE_DELIVERY_TOO_OLD,		/* max_age reached */
};

/* What becomes of an event whose attempt number @attempts ended with
 * @outcome (not CDE_SINK_DELIVERED), @age_s seconds after it was
 * received. */
enum cde_delivery_verdict cde_delivery_decide(const struct cde_sink_options *cfg, enum cde_sink_outcome outcome,
					      unsigned attempts, double age_s);

/* An event's age: from when it was received (epoch seconds, 0 unknown),
 * so that it does not start again at every restart; else from when the
 * engine first took it (monotonic ms). */
double cde_delivery_age_s(double received, double now, int64_t first_ms, int64_t now_ms);
