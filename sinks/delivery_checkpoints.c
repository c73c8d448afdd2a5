/* Witnessing: every signed checkpoint of the audit log (a row of
 * tree_checkpoints, keyed by tree size) also goes to the sinks configured
 * with `checkpoints: true`, so that a copy lives outside the machine.
 *
 * The rows are the source of truth, as events are for delivery: per sink,
 * a cursor over tree sizes (witness_cursors) says which checkpoints are
 * settled, and the next one past it is sent, one at a time and in order,
 * so a restart or a receiver down for a while only delays them (at least
 * once; a redelivery is the same note). The daemon's checkpoint hook only
 * kicks the engine. Retries follow the sink's policy (backoff, Retry-After,
 * max_attempts, max_age); a checkpoint given up on is passed over with a
 * warning, as the next one covers it (a witness checks consistency between
 * any two). It has its own state beside the event window and never
 * takes a slot of it, so witnessing never holds events back. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "sinks/delivery_internal.h"
#include "sinks/delivery_policy.h"
#include "sinks/delivery_store.h"

static void warn(struct sink *s, const char *msg, const char *error)
{
	char size[24], what[200];
	struct cde_delivery_log_field fields[] = {
		{ "sink", s->cfg.name }, { "checkpoint_size", size }, { "error", error },
	};

	snprintf(size, sizeof(size), "%llu", (unsigned long long)s->wit.size);
	snprintf(what, sizeof(what), "checkpoint %s: %.160s", size, error);
	cde_delivery_note_error(s, what);
	if (s->d->log.fn)
		s->d->log.fn(s->d->log.ctx, CDE_DELIVERY_LOG_WARN, msg, fields, sizeof(fields) / sizeof(fields[0]));
}

/* The checkpoint out is settled: the cursor moves past it. */
static void settle(struct sink *s)
{
	struct witness *w = &s->wit;

	if (cde_delivery_store_set_witness_cursor(s->d->store, s->cfg.name, w->size) < 0) {
		/* Kept out: the next pump sends it again rather than lose it. */
		w->busy = false;
		return;
	}
	w->cursor = w->size;
	free(w->note);
	w->note = NULL;
	w->busy = false;
	event_active(s->pump, EV_READ, 0);
}

static void on_result(void *ctx, const struct cde_sink_result *res);

static void attempt(struct sink *s)
{
	struct witness *w = &s->wit;
	int r;

	w->attempts++;
	r = s->ops->submit_checkpoint(s->impl, w->size, w->note, on_result, s);
	if (r < 0) {
		struct cde_sink_result res = { .outcome = CDE_SINK_RETRY, .retry_after_s = -1 };

		snprintf(res.detail, sizeof(res.detail), "could not send: %s", strerror(-r));
		on_result(s, &res);
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	if (!cde_delivery_active(s)) {
		cde_delivery_witness_drop(s);
		return;
	}
	attempt(s);
}

static void on_result(void *ctx, const struct cde_sink_result *res)
{
	struct sink *s = ctx;
	struct witness *w = &s->wit;
	enum cde_delivery_verdict verdict;
	uint64_t random = 0;
	int64_t ms, floor_ms;
	struct timeval tv;
	char what[200];

	if (s->d->stopping)
		return;
	if (res->outcome == CDE_SINK_DELIVERED) {
		w->delivered++;
		settle(s);
		cde_delivery_note_success(s);
		return;
	}
	verdict = cde_delivery_decide(&s->cfg, res->outcome, w->attempts,
				      cde_delivery_age_s(0, 0, w->first_ms, cde_delivery_now_ms()));
	if (verdict != CDE_DELIVERY_TRY_AGAIN) {
		warn(s, "a signed checkpoint was not witnessed; the next one covers it", res->detail);
		w->skipped++;
		settle(s);
		return;
	}
	snprintf(what, sizeof(what), "checkpoint %llu: %.160s", (unsigned long long)w->size, res->detail);
	cde_delivery_note_error(s, what);
	RAND_bytes((unsigned char *)&random, sizeof(random));
	ms = cde_delivery_backoff_ms(&s->cfg, w->attempts, res->retry_after_s, random);
	floor_ms = cde_delivery_backoff_ms(&s->cfg, w->attempts, res->retry_after_s, 0);
	w->not_before_ms = floor_ms > 0 ? cde_delivery_now_ms() + floor_ms : 0;
	tv = cde_delivery_tv(ms);
	evtimer_add(w->retry, &tv);
}

void cde_delivery_witness_pump(struct sink *s)
{
	struct witness *w = &s->wit;

	if (!w->on || w->busy)
		return;
	if (cde_delivery_store_checkpoint_after(s->d->store, w->cursor, &w->size, &w->note) < 0)
		return; /* none yet, or a busy read: the next kick or tick looks again */
	w->busy = true;
	w->attempts = 0;
	w->rushed_after = 0;
	w->first_ms = cde_delivery_now_ms();
	attempt(s);
}

void cde_delivery_witness_rush(struct sink *s)
{
	struct witness *w = &s->wit;

	if (w->busy && cde_delivery_may_rush(w->attempts, w->rushed_after) &&
	    cde_delivery_retry_early(w->retry, w->not_before_ms))
		w->rushed_after = w->attempts;
}

int cde_delivery_witness_setup(struct sink *s, char *err, size_t err_size)
{
	struct witness *w = &s->wit;

	if (!s->cfg.checkpoints)
		return 0;
	if (!s->ops->submit_checkpoint) {
		snprintf(err, err_size, "sink %s: a %s sink cannot take checkpoints", s->cfg.name, s->ops->name);
		return -EINVAL;
	}
	if (cde_delivery_store_witness_cursor(s->d->store, s->cfg.name, &w->cursor) < 0) {
		snprintf(err, err_size, "sink %s: cannot read its checkpoint cursor", s->cfg.name);
		return -EIO;
	}
	w->retry = evtimer_new(s->d->base, on_retry, s);
	if (!w->retry) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	w->on = true;
	return 0;
}

void cde_delivery_witness_drop(struct sink *s)
{
	struct witness *w = &s->wit;

	free(w->note);
	w->note = NULL;
	w->busy = false;
}

void cde_delivery_witness_release(struct sink *s)
{
	if (s->wit.retry)
		event_free(s->wit.retry);
	free(s->wit.note);
	memset(&s->wit, 0, sizeof(s->wit));
}
