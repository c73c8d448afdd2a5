/* The delivery engine's decisions, without its I/O (see delivery.c for
 * how they are used).
 *
 * Invariants of the window: the cursor never passes an entry of the
 * journal that is not settled, so a restart sends it again; an entry given
 * up on stays (dead) until its dead letter is stored, so the cursor never
 * passes an event that is neither delivered nor a dead letter. Replays of
 * dead letters are below the cursor already and never hold it. */

#include "sinks/delivery_policy.h"

#include <errno.h>
#include <stdlib.h>

int cde_window_init(struct cde_window *w, unsigned n, uint64_t cursor)
{
	*w = (struct cde_window){ .n = n ? n : CDE_DELIVERY_WINDOW_DEFAULT, .fetched = cursor };
	w->e = calloc(w->n, sizeof(*w->e));
	return w->e ? 0 : -ENOMEM;
}

void cde_window_release(struct cde_window *w)
{
	free(w->e);
	w->e = NULL;
}

int cde_window_take(struct cde_window *w, uint64_t seq, bool replay)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->e[i].used)
			continue;
		w->e[i] = (struct cde_window_entry){ .used = true, .replay = replay, .seq = seq };
		w->used++;
		if (!replay)
			w->fetched = seq;
		return (int)i;
	}
	return -1;
}

void cde_window_pass(struct cde_window *w, uint64_t seq)
{
	w->fetched = seq;
}

void cde_window_settle(struct cde_window *w, unsigned i)
{
	if (!w->e[i].used)
		return;
	w->e[i] = (struct cde_window_entry){ 0 };
	w->used--;
}

bool cde_window_full(const struct cde_window *w)
{
	return w->used >= w->n;
}

bool cde_window_pending(const struct cde_window *w, uint64_t seq)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->e[i].used && w->e[i].seq == seq)
			return true;
	return false;
}

unsigned cde_window_in_flight(const struct cde_window *w)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->n; i++)
		n += w->e[i].used && w->e[i].in_flight;
	return n;
}

uint64_t cde_window_cursor(const struct cde_window *w)
{
	uint64_t cursor = w->fetched;

	for (unsigned i = 0; i < w->n; i++)
		if (w->e[i].used && !w->e[i].replay && w->e[i].seq - 1 < cursor)
			cursor = w->e[i].seq - 1;
	return cursor;
}

uint64_t cde_window_unsettled(const struct cde_window *w, uint64_t head)
{
	uint64_t n = head > w->fetched ? head - w->fetched : 0;

	for (unsigned i = 0; i < w->n; i++)
		n += w->e[i].used && !w->e[i].replay;
	return n;
}

bool cde_delivery_may_rush(unsigned attempts, unsigned rushed_after)
{
	/* The early attempt is rushed_after + 1; a timer of its own fired
	 * for the next one. */
	return rushed_after == 0 || attempts >= rushed_after + 2;
}

/* Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a random delay up to the capped exponential, so that many events that
 * failed together do not come back together. */
int64_t cde_delivery_backoff_ms(const struct cde_sink_options *cfg, unsigned attempts, long retry_after_s,
				uint64_t random)
{
	uint64_t cap = cfg->max_backoff_ms ? cfg->max_backoff_ms : CDE_DELIVERY_MAX_BACKOFF_MS;
	uint64_t exp = CDE_DELIVERY_BACKOFF_BASE_MS;
	int64_t delay;

	for (unsigned i = 1; i < attempts && exp < cap; i++)
		exp *= 2;
	if (exp > cap)
		exp = cap;
	delay = (int64_t)(random % (exp + 1));
	if (retry_after_s >= 0) {
		/* Capped before the multiplication: a receiver may send any
		 * number of seconds. */
		int64_t hint = retry_after_s > (long)(cfg->max_retry_after_ms / 1000)
				       ? (int64_t)cfg->max_retry_after_ms
				       : (int64_t)retry_after_s * 1000;

		if (hint > delay)
			delay = hint;
	}
	return delay;
}

enum cde_delivery_verdict cde_delivery_decide(const struct cde_sink_options *cfg, enum cde_sink_outcome outcome,
					      unsigned attempts, double age_s)
{
	if (outcome != CDE_SINK_RETRY)
		return CDE_DELIVERY_REFUSED;
	if (cfg->max_age_s && age_s >= (double)cfg->max_age_s)
		return CDE_DELIVERY_TOO_OLD;
	if (attempts >= cfg->max_attempts)
		return CDE_DELIVERY_GAVE_UP;
	return CDE_DELIVERY_TRY_AGAIN;
}

double cde_delivery_age_s(double received, double now, int64_t first_ms, int64_t now_ms)
{
	return received > 0 ? now - received : (double)(now_ms - first_ms) / 1000;
}

enum cde_sink_outcome cde_sink_outcome_of_status(long status)
{
	if (status >= 200 && status < 300)
		return CDE_SINK_DELIVERED;
	if (status == 0 || status == 404 || status == 408 || status == 409 || status == 429 || status >= 500)
		return CDE_SINK_RETRY;
	return CDE_SINK_DEAD;
}
