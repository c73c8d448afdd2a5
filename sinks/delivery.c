/* The delivery engine.
 *
 * Per sink, a window of at most max_in_flight pending events (slots),
 * read from the journal in order; an event no route of the sink matches
 * is passed over. The sink's cursor is the seq below its oldest pending
 * event (or the last seq examined when none is pending): everything up to
 * it is settled (delivered, dead-lettered or not routed there), and it is
 * stored within FLUSH_MS of every change, in one transaction with the
 * records of the deliveries it passes, so a restart resumes from it (and
 * a crash sends again at most what those last milliseconds settled, at
 * least once as ever). Memory is the
 * window, however long a receiver stays down: the backlog waits in the
 * journal, not here.
 *
 * The engine owns retries: exponential backoff with full jitter, capped;
 * a receiver's Retry-After is honoured up to max_retry_after; past
 * max_attempts or max_age an event becomes a dead letter. Those decisions,
 * and the window's, are in delivery_policy.c; this file does the I/O
 * around them; delivery_recovery.c sends what waits for a retry at once
 * when a receiver comes back. Sinks only report outcomes. Completions
 * never re-enter the scan: they activate the sink's pump event, which
 * runs next on the loop. A sink's state changes go to the injected log
 * through sink_health.c.
 * Signed checkpoints go to witnessing sinks beside the events
 * (delivery_checkpoints.c), woken by the same pump. */

#include "sinks/delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>

#include "events/event.h"
#include "events/ids.h"
#include "sinks/audit/store_location.h"
#include "sinks/delivery_internal.h"
#include "sinks/delivery_policy.h"
#include "sinks/delivery_store.h"
#include "sinks/delivery_upgrade.h"
#include "sinks/filter.h"
#include "sinks/http_client.h"
#include "sinks/sink.h"

#define SCAN_ROWS 64
#define PUMP_SCANS_MAX 16
/* How long delivery records and cursors wait to be written together. */
#define FLUSH_MS 20
/* How often a busy sink asks for dead letters queued again: a pump runs
 * for every few deliveries, and the question was a statement each time.
 * The once-a-second tick pumps every sink, so an idle one asks then. */
#define REPLAYS_EVERY_MS 100

/* Writes the line @note calls for, if any. */
static void tell(struct sink *s, enum cde_sink_note note, const struct cde_sink_result *res, int64_t retry_in_ms)
{
	uint64_t head;
	struct cde_sink_note_info info = { .sink = s->cfg.name, .retry_in_ms = retry_in_ms, .now_ms = cde_delivery_now_ms() };

	if (note == CDE_SINK_NOTE_NONE || !s->d->log.fn)
		return;
	head = cde_delivery_store_head(s->d->store);
	info.backlog = cde_window_unsettled(&s->win, head);
	info.error = res ? res->detail : s->last_error;
	info.status = res ? res->status : 0;
	cde_sink_health_log(&s->d->log, note, &s->health, &info);
}

static struct cde_window_entry *entry(const struct slot *slot)
{
	return &slot->sink->win.e[slot->idx];
}

static void want_flush(struct cde_delivery *d)
{
	struct timeval tv = cde_delivery_tv(FLUSH_MS);

	if (cde_delivery_store_dirty(d->store) && !evtimer_pending(d->flush, NULL))
		evtimer_add(d->flush, &tv);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct cde_delivery *d = arg;

	/* On failure (the journal's writer held the lock past the busy
	 * timeout) it all stays queued for the next try. */
	cde_delivery_store_flush(d->store);
	want_flush(d);
}

static void advance_cursor(struct sink *s)
{
	uint64_t cursor = cde_window_cursor(&s->win);

	s->cursor = cursor;
	if (cursor != s->stored_cursor && cde_delivery_store_set_cursor(s->d->store, s->cfg.name, cursor) == 0)
		s->stored_cursor = cursor;
	want_flush(s->d);
}

static void settle(struct slot *slot)
{
	struct sink *s = slot->sink;

	if (entry(slot)->replay)
		cde_delivery_store_replay_done(s->d->store, s->cfg.name, entry(slot)->seq);
	slot->ev = cde_event_unref(slot->ev);
	cde_window_settle(&s->win, slot->idx);
	advance_cursor(s);
	event_active(s->pump, EV_READ, 0);
}

static void on_result(void *ctx, const struct cde_sink_result *res);

static void attempt(struct slot *slot)
{
	struct sink *s = slot->sink;
	int r;

	entry(slot)->attempts++;
	entry(slot)->in_flight = true;
	r = s->ops->submit(s->impl, slot->ev, entry(slot)->seq, on_result, slot);
	if (r < 0) {
		struct cde_sink_result res = { .outcome = CDE_SINK_RETRY, .retry_after_s = -1 };

		snprintf(res.detail, sizeof(res.detail), "could not send: %s", strerror(-r));
		on_result(slot, &res);
	}
}

static void bury(struct slot *slot);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct slot *slot = arg;

	if (!cde_delivery_active(slot->sink))
		return; /* the lease was lost: the slot goes at the resync */
	if (entry(slot)->dead)
		bury(slot);
	else
		attempt(slot);
}

static void on_result(void *ctx, const struct cde_sink_result *res)
{
	struct slot *slot = ctx;
	struct sink *s = slot->sink;
	struct cde_window_entry *e = entry(slot);
	enum cde_delivery_verdict verdict;

	if (s->d->stopping)
		return;

	e->in_flight = false;
	if (res->outcome == CDE_SINK_DELIVERED) {
		bool closing = cde_sink_health_circuit_open(&s->health);

		cde_delivery_store_delivered(s->d->store, s->cfg.name, e->seq, res->status, res->receipt);
		s->delivered++;
		if (!e->replay)
			cde_delivery_observe_latency(s, slot->received);
		settle(slot);
		tell(s, cde_sink_health_delivered(&s->health, cde_delivery_now_ms()), res, -1);
		if (closing)
			cde_delivery_rush(s);
		cde_delivery_note_success(s);
		return;
	}
	cde_delivery_note_error(s, res->detail);
	verdict = cde_delivery_decide(&s->cfg, res->outcome, e->attempts,
				      cde_delivery_age_s(slot->received, (double)time(NULL), slot->first_ms, cde_delivery_now_ms()));
	if (verdict == CDE_DELIVERY_TRY_AGAIN) {
		uint64_t random = 0;
		int64_t ms, floor_ms;
		struct timeval tv;

		RAND_bytes((unsigned char *)&random, sizeof(random));
		ms = cde_delivery_backoff_ms(&s->cfg, e->attempts, res->retry_after_s, random);
		/* With no randomness, the backoff is the Retry-After alone. */
		floor_ms = cde_delivery_backoff_ms(&s->cfg, e->attempts, res->retry_after_s, 0);
		slot->not_before_ms = floor_ms > 0 ? cde_delivery_now_ms() + floor_ms : 0;
		tv = cde_delivery_tv(ms);
		s->retried++;
		evtimer_add(slot->retry, &tv);
		tell(s, cde_sink_health_failed(&s->health, cde_delivery_now_ms()), res, ms);
		return;
	}
	if (verdict == CDE_DELIVERY_REFUSED)
		snprintf(slot->why, sizeof(slot->why), "refused: %s", res->detail);
	else
		snprintf(slot->why, sizeof(slot->why), "%s after %u attempts: %s",
			 verdict == CDE_DELIVERY_TOO_OLD ? "too old" : "gave up", e->attempts, res->detail);
	tell(s, cde_sink_health_failed(&s->health, cde_delivery_now_ms()), res, -1);
	e->dead = true;
	bury(slot);
}

/* Stores @slot's dead letter, then lets it go; if the store fails, the
 * slot stays (and holds the cursor) and tries again in a while. */
static void bury(struct slot *slot)
{
	struct sink *s = slot->sink;
	struct timeval later = { .tv_sec = 5 };

	if (cde_delivery_store_dead(s->d->store, s->cfg.name, entry(slot)->seq, entry(slot)->attempts, slot->why) < 0) {
		cde_delivery_note_error(s, "cannot store a dead letter; trying again");
		evtimer_add(slot->retry, &later);
		return;
	}
	s->dead++;
	settle(slot);
	tell(s, cde_sink_health_dead(&s->health, cde_delivery_now_ms()), NULL, -1);
}

/* Takes a window entry for @seq and starts delivering @ev (whose
 * reference it takes), or its upgrade when the sink asks for one, there.
 * False when the window is full (then the caller keeps its reference). */
static bool start(struct sink *s, uint64_t seq, bool replay, struct cde_event *ev, double received)
{
	int i = cde_window_take(&s->win, seq, replay);
	struct slot *slot;

	if (i < 0)
		return false;
	slot = &s->slots[i];
	slot->ev = cde_delivery_upgrade(s, seq, ev);
	slot->first_ms = cde_delivery_now_ms();
	slot->received = received;
	slot->not_before_ms = 0;
	slot->rushed_after = 0;
	attempt(slot);
	return true;
}

static bool on_row(void *ctx, uint64_t seq, const char *json, const char *received_at)
{
	struct sink *s = ctx;
	struct cde_event *ev = NULL;

	if (!cde_delivery_active(s))
		return false;
	if (cde_event_parse(json, strlen(json), &ev, NULL) < 0) {
		if (cde_delivery_store_dead(s->d->store, s->cfg.name, seq, 0, "the stored event does not parse") < 0)
			return false; /* not settled: read it again later */
		s->dead++;
		cde_window_pass(&s->win, seq);
		return true;
	}
	if (!cde_delivery_routes_match(s, ev)) {
		cde_event_unref(ev);
		cde_window_pass(&s->win, seq);
		return true;
	}
	if (!start(s, seq, false, ev, cde_timestamp_parse(received_at))) {
		cde_event_unref(ev);
		return false;
	}
	return !cde_window_full(&s->win);
}

/* Dead letters queued again with `cdevctl dlq replay` go first: someone
 * is waiting for them. */
static void take_replays(struct sink *s)
{
	uint64_t seqs[64];
	size_t n = 0;

	if (cde_window_full(&s->win) ||
	    cde_delivery_store_replays(s->d->store, s->cfg.name, sizeof(seqs) / sizeof(seqs[0]), seqs, &n) < 0)
		return;
	for (size_t i = 0; i < n && !cde_window_full(&s->win); i++) {
		struct cde_event *ev = NULL;
		char *json = NULL;
		int r;

		if (cde_window_pending(&s->win, seqs[i]))
			continue;
		r = cde_delivery_store_event(s->d->store, seqs[i], &json);
		if (r == 0 && cde_event_parse(json, strlen(json), &ev, NULL) < 0)
			r = -EINVAL;
		free(json);
		if (r < 0) {
			/* Deleted by retention since, or unreadable: nothing to send. */
			cde_delivery_store_replay_done(s->d->store, s->cfg.name, seqs[i]);
			cde_delivery_note_error(s, "a replayed event is no longer in the audit log");
			continue;
		}
		if (!start(s, seqs[i], true, ev, 0))
			cde_event_unref(ev);
	}
}

/* Fills the window: replays first, then the journal. */
static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	if (!cde_delivery_active(s))
		return;
	if (s->routed && cde_delivery_now_ms() - s->replays_asked_ms >= REPLAYS_EVERY_MS) {
		s->replays_asked_ms = cde_delivery_now_ms();
		take_replays(s);
	}

	for (unsigned scans = 0; s->routed && cde_delivery_active(s) && !cde_window_full(&s->win); scans++) {
		uint64_t before = s->win.fetched;

		/* A long stretch of rows no route wants is read in bounded
		 * steps, so sockets and timers get their turn in between. */
		if (scans == PUMP_SCANS_MAX) {
			event_active(s->pump, EV_READ, 0);
			break;
		}

		if (cde_delivery_store_scan(s->d->store, s->win.fetched, SCAN_ROWS, on_row, s) < 0) {
			cde_delivery_note_error(s, "cannot read the audit log");
			break;
		}
		if (s->win.fetched == before)
			break;
	}
	if (!s->routed)
		cde_window_pass(&s->win, cde_delivery_store_head(s->d->store));
	advance_cursor(s);
	if (cde_delivery_active(s))
		cde_delivery_witness_pump(s);
	/* Announced while this pump read, and so not on the socket any more. */
	cde_delivery_leases_news(s->d);
}

static void pump_all(struct cde_delivery *d)
{
	for (size_t i = 0; i < d->n_sinks; i++)
		event_active(d->sinks[i].pump, EV_READ, 0);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	pump_all(arg);
}

/* Once a second: pick up anything a missed kick left, and refresh the
 * status that GET /v1/sinks shows. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cde_delivery *d = arg;
	uint64_t head;

	cde_delivery_leases_check(d);
	head = cde_delivery_store_head(d->store);
	pump_all(d);
	cde_delivery_publish_status(d);
	for (size_t i = 0; i < d->n_sinks; i++) {
		struct sink *s = &d->sinks[i];

		if (s->leased)
			tell(s, cde_sink_health_idle(&s->health, cde_window_unsettled(&s->win, head)), NULL, -1);
	}
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct cde_delivery *d = arg;

	event_base_loopbreak(d->base);
}

static void *delivery_main(void *arg)
{
	struct cde_delivery *d = arg;

	pthread_setname_np(pthread_self(), "cde-delivery");
	event_base_dispatch(d->base);
	return NULL;
}

static int setup_sink(struct cde_delivery *d, const struct cde_delivery_options *opts, size_t idx, char *err,
		      size_t err_size)
{
	struct sink *s = &d->sinks[idx];
	struct cde_sink_env env = { .http = d->http, .base = d->base };
	char sub[200];
	int r;

	s->d = d;
	s->cfg = opts->sinks[idx];
	s->ops = cde_sink_ops_find(s->cfg.type);
	if (!s->ops) {
		snprintf(err, err_size, "sink %s: no sink type is named \"%s\"", s->cfg.name, s->cfg.type);
		return -EINVAL;
	}
	r = cde_delivery_store_cursor(d->store, s->cfg.name, &s->cursor);
	if (r < 0) {
		snprintf(err, err_size, "sink %s: cannot read its cursor", s->cfg.name);
		return r;
	}
	s->stored_cursor = s->cursor;
	if (cde_window_init(&s->win, s->cfg.max_in_flight, s->cursor) < 0)
		goto err_nomem;
	s->slots = calloc(s->win.n, sizeof(*s->slots));
	s->filters = calloc(opts->n_routes ? opts->n_routes : 1, sizeof(*s->filters));
	s->pump = event_new(d->base, -1, 0, on_pump, s);
	if (!s->slots || !s->filters || !s->pump)
		goto err_nomem;
	for (unsigned i = 0; i < s->win.n; i++) {
		s->slots[i].sink = s;
		s->slots[i].idx = i;
		s->slots[i].retry = evtimer_new(d->base, on_retry, &s->slots[i]);
		if (!s->slots[i].retry)
			goto err_nomem;
	}
	r = cde_delivery_routes_setup(s, opts, idx, err, err_size);
	if (r < 0)
		return r;
	r = s->ops->init(&s->cfg, &env, &s->impl, sub, sizeof(sub));
	if (r < 0) {
		snprintf(err, err_size, "sink %s: %s", s->cfg.name, sub);
		return r;
	}
	return cde_delivery_witness_setup(s, err, err_size);

err_nomem:
	snprintf(err, err_size, "out of memory");
	return -ENOMEM;
}

/* Lets go of the cursors of sinks no longer configured, which would hold
 * retention back. */
static int forget_others(struct cde_delivery *d, const struct cde_delivery_options *opts, char *err,
			 size_t err_size)
{
	const char **names = calloc(opts->n_sinks, sizeof(*names));
	int r;

	if (!names) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < opts->n_sinks; i++)
		names[i] = opts->sinks[i].name;
	r = cde_delivery_store_forget_others(d->store, names, opts->n_sinks);
	free(names);
	if (r < 0) {
		snprintf(err, err_size, "cannot update the sink cursors");
		return -EIO;
	}
	return 0;
}

int cde_delivery_new(const char *db_path, const struct cde_delivery_options *opts, const struct cde_delivery_log *log,
		     struct cde_delivery **ret, char *err, size_t err_size)
{
	struct cde_store_location at = { .sqlite_path = db_path };

	return cde_delivery_new_at(&at, opts, log, ret, err, err_size);
}

int cde_delivery_new_at(const struct cde_store_location *at, const struct cde_delivery_options *opts,
			const struct cde_delivery_log *log, struct cde_delivery **ret, char *err, size_t err_size)
{
	struct cde_delivery *d;
	struct timeval second = { .tv_sec = 1 };
	int r;

	*ret = NULL;
	if (opts->n_sinks == 0) {
		/* Nothing to deliver; only let go of the cursors of sinks that
		 * were configured before, which would hold retention back. */
		struct cde_delivery_store *store;

		r = cde_delivery_store_open_at(at, &store, err, err_size);
		if (r == 0) {
			r = cde_delivery_store_forget_others(store, NULL, 0);
			cde_delivery_store_close(store);
			if (r < 0)
				snprintf(err, err_size, "cannot update the sink cursors");
		}
		return r;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	if (log)
		d->log = *log;
	d->base = event_base_new();
	d->sinks = calloc(opts->n_sinks, sizeof(*d->sinks));
	if (!d->base || !d->sinks)
		goto err_nomem;
	d->kick = event_new(d->base, -1, 0, on_kick, d);
	d->stop = event_new(d->base, -1, 0, on_stop, d);
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->flush = evtimer_new(d->base, on_flush, d);
	if (!d->kick || !d->stop || !d->tick || !d->flush || event_add(d->tick, &second) < 0 ||
	    cde_http_client_new(d->base, &d->http) < 0)
		goto err_nomem;
	r = cde_delivery_store_open_at(at, &d->store, err, err_size);
	if (r < 0)
		goto err_free;
	r = forget_others(d, opts, err, err_size);
	if (r == 0)
		r = cde_delivery_upgrade_setup(d, opts, err, err_size);
	if (r < 0)
		goto err_free;
	for (size_t i = 0; i < opts->n_sinks; i++) {
		d->n_sinks = i + 1;
		r = setup_sink(d, opts, i, err, err_size);
		if (r < 0)
			goto err_free;
	}
	cde_delivery_leases_setup(d);
	cde_delivery_publish_status(d);
	pump_all(d);
	r = -pthread_create(&d->thread, NULL, delivery_main, d);
	if (r < 0) {
		snprintf(err, err_size, "cannot start the delivery thread: %s", strerror(-r));
		goto err_free;
	}
	d->started = true;
	*ret = d;
	return 0;

err_nomem:
	r = -ENOMEM;
	snprintf(err, err_size, "out of memory");
err_free:
	cde_delivery_free(d);
	return r;
}

void cde_delivery_kick(struct cde_delivery *d)
{
	if (d)
		event_active(d->kick, EV_READ, 0);
}

void cde_delivery_free(struct cde_delivery *d)
{
	if (!d)
		return;
	if (d->started) {
		event_active(d->stop, EV_READ, 0);
		pthread_join(d->thread, NULL);
	}
	/* The HTTP client first: it cancels the calls that point at slots,
	 * whose results on_result then ignores. */
	d->stopping = true;
	cde_http_client_free(d->http);
	for (size_t i = 0; i < d->n_sinks; i++) {
		struct sink *s = &d->sinks[i];

		for (unsigned k = 0; s->slots && k < s->win.n; k++) {
			cde_event_unref(s->slots[k].ev);
			if (s->slots[k].retry)
				event_free(s->slots[k].retry);
		}
		free(s->slots);
		cde_window_release(&s->win);
		for (size_t k = 0; k < s->n_filters; k++)
			cde_filter_free(s->filters[k]);
		free(s->filters);
		if (s->pump)
			event_free(s->pump);
		cde_delivery_witness_release(s);
		if (s->impl)
			s->ops->release(s->impl);
	}
	free(d->sinks);
	cde_delivery_leases_release(d);
	cde_delivery_upgrade_release(d);
	cde_delivery_store_close(d->store);
	if (d->kick)
		event_free(d->kick);
	if (d->stop)
		event_free(d->stop);
	if (d->tick)
		event_free(d->tick);
	if (d->flush)
		event_free(d->flush);
	if (d->base)
		event_base_free(d->base);
	free(d->status);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
