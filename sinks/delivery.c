/* The delivery engine.
 *
 * Per sink, a window of at most max_in_flight pending events (slots),
 * read from the journal in order; an event no route of the sink matches
 * is passed over. The sink's cursor is the seq below its oldest pending
 * event (or the last seq examined when none is pending): everything up to
 * it is settled (delivered, dead-lettered or not routed there), and it is
 * stored after every change, so a restart resumes from it. Memory is the
 * window, however long a receiver stays down: the backlog waits in the
 * journal, not here.
 *
 * The engine owns retries: exponential backoff with full jitter, capped;
 * a receiver's Retry-After is honoured up to max_retry_after; past
 * max_attempts or max_age an event becomes a dead letter. Sinks only
 * report outcomes. Completions never re-enter the scan: they activate the
 * sink's pump event, which runs next on the loop. */

#include "sinks/delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>

#include "events/event.h"
#include "events/ids.h"
#include "sinks/delivery_store.h"
#include "sinks/filter.h"
#include "sinks/http_client.h"
#include "sinks/sink.h"

#define SCAN_ROWS 64
#define PUMP_SCANS_MAX 16
#define BACKOFF_BASE_MS 500

struct sink;

struct slot {
	struct sink *sink;
	bool used, in_flight;
	bool replay;		/* a dead letter sent again: below the cursor */
	bool dead;		/* given up on; waits until its dead letter is stored */
	char why[256];
	uint64_t seq;
	struct cde_event *ev;
	unsigned attempts;
	int64_t first_ms;
	double received;	/* epoch seconds, for commit-to-delivery latency; 0 unknown */
	struct event *retry;
};

/* Commit-to-delivery latency, seconds. */
static const double latency_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };
#define LATENCY_BUCKETS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

struct sink {
	struct cde_delivery *d;
	struct cde_config_sink cfg;
	const struct cde_sink_ops *ops;
	void *impl;
	struct event *pump;
	size_t n_filters;
	struct cde_filter *filters[CDE_CONFIG_ROUTES_MAX];
	bool match_all, routed;
	uint64_t cursor, stored_cursor, fetched;
	struct slot *slots;
	unsigned n_slots, used;
	unsigned long long delivered, retried, dead;
	unsigned long long latency_buckets[LATENCY_BUCKETS], latency_count;
	double latency_sum;
	char last_error[200];
	char last_error_at[CDE_TIMESTAMP_STR_LEN];
	struct cde_sink_health health;
};

struct cde_delivery {
	bool stopping;		/* freeing: results of cancelled calls are ignored */
	struct event_base *base;
	struct event *kick, *tick, *stop;
	struct cde_http_client *http;
	struct cde_delivery_store *store;
	pthread_t thread;
	bool started;
	size_t n_sinks;
	struct sink *sinks;
	pthread_mutex_t lock;
	char *status;		/* under lock */
	struct cde_delivery_log log;
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void note_error(struct sink *s, const char *what)
{
	snprintf(s->last_error, sizeof(s->last_error), "%s", what);
	cde_timestamp_now(s->last_error_at);
}

/* Writes the line @note calls for, if any. */
static void tell(struct sink *s, enum cde_sink_note note, const struct cde_sink_result *res, int64_t retry_in_ms)
{
	uint64_t head;
	struct cde_sink_note_info info = { .sink = s->cfg.name, .retry_in_ms = retry_in_ms, .now_ms = now_ms() };

	if (note == CDE_SINK_NOTE_NONE || !s->d->log.fn)
		return;
	head = cde_delivery_store_head(s->d->store);
	info.backlog = head > s->cursor ? head - s->cursor : 0;
	info.error = res ? res->detail : s->last_error;
	info.status = res ? res->status : 0;
	cde_sink_health_log(&s->d->log, note, &s->health, &info);
}

static void advance_cursor(struct sink *s)
{
	uint64_t cursor = s->fetched;

	for (unsigned i = 0; i < s->n_slots; i++)
		if (s->slots[i].used && !s->slots[i].replay && s->slots[i].seq - 1 < cursor)
			cursor = s->slots[i].seq - 1;
	s->cursor = cursor;
	if (cursor != s->stored_cursor && cde_delivery_store_set_cursor(s->d->store, s->cfg.name, cursor) == 0)
		s->stored_cursor = cursor;
}

static void settle(struct slot *slot)
{
	struct sink *s = slot->sink;

	if (slot->replay)
		cde_delivery_store_replay_done(s->d->store, s->cfg.name, slot->seq);
	slot->ev = cde_event_unref(slot->ev);
	slot->replay = false;
	slot->dead = false;
	slot->used = false;
	slot->in_flight = false;
	s->used--;
	advance_cursor(s);
	event_active(s->pump, EV_READ, 0);
}

static void on_result(void *ctx, const struct cde_sink_result *res);

static void attempt(struct slot *slot)
{
	struct sink *s = slot->sink;
	int r;

	slot->attempts++;
	slot->in_flight = true;
	r = s->ops->submit(s->impl, slot->ev, slot->seq, on_result, slot);
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

	if (slot->dead)
		bury(slot);
	else
		attempt(slot);
}

/* Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a random delay up to the capped exponential, so that many events that
 * failed together do not come back together. */
static int64_t backoff_ms(const struct sink *s, unsigned attempts, long retry_after_s)
{
	uint64_t cap = s->cfg.max_backoff_ms ? s->cfg.max_backoff_ms : 300000, exp = BACKOFF_BASE_MS, r = 0;
	int64_t delay;

	for (unsigned i = 1; i < attempts && exp < cap; i++)
		exp *= 2;
	if (exp > cap)
		exp = cap;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	delay = (int64_t)(r % (exp + 1));
	if (retry_after_s >= 0) {
		/* Capped before the multiplication: a receiver may send any
		 * number of seconds. */
		int64_t hint = retry_after_s > (long)(s->cfg.max_retry_after_ms / 1000)
				       ? (int64_t)s->cfg.max_retry_after_ms
				       : (int64_t)retry_after_s * 1000;

		if (hint > delay)
			delay = hint;
	}
	return delay;
}

static void on_result(void *ctx, const struct cde_sink_result *res)
{
	struct slot *slot = ctx;
	struct sink *s = slot->sink;
	char why[256];

	if (s->d->stopping)
		return;

	slot->in_flight = false;
	if (res->outcome == CDE_SINK_DELIVERED) {
		cde_delivery_store_delivered(s->d->store, s->cfg.name, slot->seq, res->status, res->receipt);
		s->delivered++;
		if (slot->received > 0 && !slot->replay) {
			struct timespec now;
			double secs;

			clock_gettime(CLOCK_REALTIME, &now);
			secs = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - slot->received;
			if (secs < 0)
				secs = 0;
			for (size_t i = 0; i < LATENCY_BUCKETS; i++)
				if (secs <= latency_bounds[i]) {
					s->latency_buckets[i]++;
					break;
				}
			s->latency_count++;
			s->latency_sum += secs;
		}
		settle(slot);
		tell(s, cde_sink_health_delivered(&s->health, now_ms()), res, -1);
		return;
	}
	note_error(s, res->detail);
	if (res->outcome == CDE_SINK_RETRY) {
		/* Age counts from when the event was received, so that it does
		 * not start again at every restart. */
		double age = slot->received > 0 ? (double)time(NULL) - slot->received
						: (double)(now_ms() - slot->first_ms) / 1000;
		bool too_old = s->cfg.max_age_s && age >= (double)s->cfg.max_age_s;

		if (slot->attempts < s->cfg.max_attempts && !too_old) {
			int64_t ms = backoff_ms(s, slot->attempts, res->retry_after_s);
			struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

			s->retried++;
			evtimer_add(slot->retry, &tv);
			tell(s, cde_sink_health_failed(&s->health, now_ms()), res, ms);
			return;
		}
		snprintf(why, sizeof(why), "%s after %u attempts: %s", too_old ? "too old" : "gave up",
			 slot->attempts, res->detail);
	} else {
		snprintf(why, sizeof(why), "refused: %s", res->detail);
	}
	snprintf(slot->why, sizeof(slot->why), "%s", why);
	tell(s, cde_sink_health_failed(&s->health, now_ms()), res, -1);
	slot->dead = true;
	bury(slot);
}

/* Stores @slot's dead letter, then lets it go; if the store fails, the
 * slot stays (and holds the cursor) and tries again in a while. */
static void bury(struct slot *slot)
{
	struct sink *s = slot->sink;
	struct timeval later = { .tv_sec = 5 };

	if (cde_delivery_store_dead(s->d->store, s->cfg.name, slot->seq, slot->attempts, slot->why) < 0) {
		note_error(s, "cannot store a dead letter; trying again");
		evtimer_add(slot->retry, &later);
		return;
	}
	s->dead++;
	settle(slot);
	tell(s, cde_sink_health_dead(&s->health, now_ms()), NULL, -1);
}

static struct slot *free_slot(struct sink *s)
{
	for (unsigned i = 0; i < s->n_slots; i++)
		if (!s->slots[i].used)
			return &s->slots[i];
	return NULL;
}

static bool matches(const struct sink *s, const struct cde_event *ev)
{
	if (s->match_all)
		return true;
	for (size_t i = 0; i < s->n_filters; i++)
		if (cde_filter_match(s->filters[i], cde_event_json(ev)))
			return true;
	return false;
}

static bool on_row(void *ctx, uint64_t seq, const char *json, const char *received_at)
{
	struct sink *s = ctx;
	struct cde_event *ev = NULL;
	struct slot *slot;

	if (cde_event_parse(json, strlen(json), &ev, NULL) < 0) {
		if (cde_delivery_store_dead(s->d->store, s->cfg.name, seq, 0, "the stored event does not parse") < 0)
			return false; /* not settled: read it again later */
		s->dead++;
		s->fetched = seq;
		return true;
	}
	if (!matches(s, ev)) {
		cde_event_unref(ev);
		s->fetched = seq;
		return true;
	}
	slot = free_slot(s);
	if (!slot) {
		cde_event_unref(ev);
		return false;
	}
	*slot = (struct slot){ .sink = s, .used = true, .seq = seq, .ev = ev, .first_ms = now_ms(),
			       .received = cde_timestamp_parse(received_at), .retry = slot->retry };
	s->used++;
	s->fetched = seq;
	attempt(slot);
	return s->used < s->n_slots;
}

static bool pending(const struct sink *s, uint64_t seq)
{
	for (unsigned i = 0; i < s->n_slots; i++)
		if (s->slots[i].used && s->slots[i].seq == seq)
			return true;
	return false;
}

/* Dead letters queued again with `cdevctl dlq replay` go first: someone
 * is waiting for them. */
static void take_replays(struct sink *s)
{
	uint64_t seqs[64];
	size_t n = 0;

	if (s->used >= s->n_slots ||
	    cde_delivery_store_replays(s->d->store, s->cfg.name, sizeof(seqs) / sizeof(seqs[0]), seqs, &n) < 0)
		return;
	for (size_t i = 0; i < n && s->used < s->n_slots; i++) {
		struct slot *slot;
		struct cde_event *ev = NULL;
		char *json = NULL;
		int r;

		if (pending(s, seqs[i]))
			continue;
		r = cde_delivery_store_event(s->d->store, seqs[i], &json);
		if (r == 0 && cde_event_parse(json, strlen(json), &ev, NULL) < 0)
			r = -EINVAL;
		free(json);
		if (r < 0) {
			/* Deleted by retention since, or unreadable: nothing to send. */
			cde_delivery_store_replay_done(s->d->store, s->cfg.name, seqs[i]);
			note_error(s, "a replayed event is no longer in the audit log");
			continue;
		}
		slot = free_slot(s);
		*slot = (struct slot){ .sink = s, .used = true, .replay = true, .seq = seqs[i], .ev = ev,
				       .first_ms = now_ms(), .retry = slot->retry };
		s->used++;
		attempt(slot);
	}
}

/* Fills the window: replays first, then the journal. */
static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	if (s->routed)
		take_replays(s);

	for (unsigned scans = 0; s->routed && s->used < s->n_slots; scans++) {
		uint64_t before = s->fetched;

		/* A long stretch of rows no route wants is read in bounded
		 * steps, so sockets and timers get their turn in between. */
		if (scans == PUMP_SCANS_MAX) {
			event_active(s->pump, EV_READ, 0);
			break;
		}

		if (cde_delivery_store_scan(s->d->store, s->fetched, SCAN_ROWS, on_row, s) < 0) {
			note_error(s, "cannot read the audit log");
			break;
		}
		if (s->fetched == before)
			break;
	}
	if (!s->routed)
		s->fetched = cde_delivery_store_head(s->d->store);
	advance_cursor(s);
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

static cJSON *sink_status(struct cde_delivery *d, struct sink *s, uint64_t head)
{
	cJSON *o = cJSON_CreateObject();
	unsigned in_flight = 0;
	char at[CDE_TIMESTAMP_STR_LEN];

	for (unsigned i = 0; i < s->n_slots; i++)
		in_flight += s->slots[i].used && s->slots[i].in_flight;
	cJSON_AddStringToObject(o, "name", s->cfg.name);
	cJSON_AddStringToObject(o, "type", s->ops->name);
	cJSON_AddNumberToObject(o, "cursor", (double)s->cursor);
	cJSON_AddNumberToObject(o, "lagEvents", (double)(head > s->cursor ? head - s->cursor : 0));
	cde_delivery_store_received_at(d->store, s->cursor + 1, at, sizeof(at));
	if (head > s->cursor && at[0]) {
		double lag = (double)time(NULL) - cde_timestamp_parse(at);

		cJSON_AddNumberToObject(o, "lagSeconds", lag > 0 ? (double)(long long)lag : 0);
	} else {
		cJSON_AddNumberToObject(o, "lagSeconds", 0);
	}
	cJSON_AddNumberToObject(o, "inFlight", in_flight);
	cJSON_AddNumberToObject(o, "waitingRetry", s->used - in_flight);
	cJSON_AddNumberToObject(o, "delivered", (double)s->delivered);
	cJSON_AddNumberToObject(o, "retries", (double)s->retried);
	cJSON_AddNumberToObject(o, "deadLetters", (double)cde_delivery_store_dead_count(d->store, s->cfg.name));
	{
		cJSON *lat = cJSON_AddObjectToObject(o, "latency");
		cJSON *bounds = cJSON_AddArrayToObject(lat, "bounds"), *buckets = cJSON_AddArrayToObject(lat, "buckets");

		for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
			cJSON_AddItemToArray(bounds, cJSON_CreateNumber(latency_bounds[i]));
			cJSON_AddItemToArray(buckets, cJSON_CreateNumber((double)s->latency_buckets[i]));
		}
		cJSON_AddNumberToObject(lat, "count", (double)s->latency_count);
		cJSON_AddNumberToObject(lat, "sum", s->latency_sum);
	}
	if (s->last_error[0]) {
		cJSON_AddStringToObject(o, "lastError", s->last_error);
		cJSON_AddStringToObject(o, "lastErrorAt", s->last_error_at);
	} else {
		cJSON_AddNullToObject(o, "lastError");
	}
	return o;
}

static void publish_status(struct cde_delivery *d)
{
	cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "sinks");
	uint64_t head = cde_delivery_store_head(d->store);
	char *text;

	for (size_t i = 0; i < d->n_sinks; i++)
		cJSON_AddItemToArray(list, sink_status(d, &d->sinks[i], head));
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return;
	pthread_mutex_lock(&d->lock);
	free(d->status);
	d->status = text;
	pthread_mutex_unlock(&d->lock);
}

/* Once a second: pick up anything a missed kick left, and refresh the
 * status that GET /v1/sinks shows. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cde_delivery *d = arg;
	uint64_t head = cde_delivery_store_head(d->store);

	pump_all(d);
	publish_status(d);
	for (size_t i = 0; i < d->n_sinks; i++) {
		struct sink *s = &d->sinks[i];

		tell(s, cde_sink_health_idle(&s->health, head > s->cursor ? head - s->cursor : 0), NULL, -1);
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

	event_base_dispatch(d->base);
	return NULL;
}

static int setup_sink(struct cde_delivery *d, const struct cde_config *cfg, size_t idx, char *err,
		      size_t err_size)
{
	struct sink *s = &d->sinks[idx];
	struct cde_sink_env env = { .http = d->http };
	struct cde_errors errs;
	char sub[200];
	int r;

	s->d = d;
	s->cfg = cfg->sinks[idx];
	s->ops = cde_sink_ops_of(s->cfg.type);
	s->n_slots = s->cfg.max_in_flight ? s->cfg.max_in_flight : 16;
	s->slots = calloc(s->n_slots, sizeof(*s->slots));
	s->pump = event_new(d->base, -1, 0, on_pump, s);
	if (!s->slots || !s->pump)
		goto err_nomem;
	for (unsigned i = 0; i < s->n_slots; i++) {
		s->slots[i].sink = s;
		s->slots[i].retry = evtimer_new(d->base, on_retry, &s->slots[i]);
		if (!s->slots[i].retry)
			goto err_nomem;
	}
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct cde_config_route *route = &cfg->routes[i];
		bool named = false;

		for (size_t k = 0; k < route->n_sinks; k++)
			named |= route->sinks[k] == idx;
		if (!named)
			continue;
		s->routed = true;
		if (!route->filter[0]) {
			s->match_all = true;
			continue;
		}
		cde_errors_reset(&errs);
		r = cde_filter_compile_text(route->filter, "", &s->filters[s->n_filters], &errs);
		if (r < 0) {
			snprintf(err, err_size, "route %zu: its filter does not compile: %s", i,
				 errs.count ? errs.items[0].reason : strerror(-r));
			return r;
		}
		s->n_filters++;
	}
	r = s->ops->init(&s->cfg, &env, &s->impl, sub, sizeof(sub));
	if (r < 0) {
		snprintf(err, err_size, "sink %s: %s", s->cfg.name, sub);
		return r;
	}
	r = cde_delivery_store_cursor(d->store, s->cfg.name, &s->cursor);
	if (r < 0) {
		snprintf(err, err_size, "sink %s: cannot read its cursor", s->cfg.name);
		return r;
	}
	s->stored_cursor = s->cursor;
	s->fetched = s->cursor;
	return 0;

err_nomem:
	snprintf(err, err_size, "out of memory");
	return -ENOMEM;
}

int cde_delivery_new(const char *db_path, const struct cde_config *cfg, const struct cde_delivery_log *log,
		     struct cde_delivery **ret, char *err, size_t err_size)
{
	struct cde_delivery *d;
	struct timeval second = { .tv_sec = 1 };
	int r;

	*ret = NULL;
	if (cfg->n_sinks == 0) {
		/* Nothing to deliver; only let go of the cursors of sinks that
		 * were configured before, which would hold retention back. */
		struct cde_delivery_store *store;

		r = cde_delivery_store_open(db_path, &store, err, err_size);
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
	d->sinks = calloc(cfg->n_sinks, sizeof(*d->sinks));
	if (!d->base || !d->sinks)
		goto err_nomem;
	d->kick = event_new(d->base, -1, 0, on_kick, d);
	d->stop = event_new(d->base, -1, 0, on_stop, d);
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!d->kick || !d->stop || !d->tick || event_add(d->tick, &second) < 0 ||
	    cde_http_client_new(d->base, &d->http) < 0)
		goto err_nomem;
	r = cde_delivery_store_open(db_path, &d->store, err, err_size);
	if (r < 0)
		goto err_free;
	{
		const char *names[CDE_CONFIG_SINKS_MAX];

		for (size_t i = 0; i < cfg->n_sinks; i++)
			names[i] = cfg->sinks[i].name;
		if (cde_delivery_store_forget_others(d->store, names, cfg->n_sinks) < 0) {
			r = -EIO;
			snprintf(err, err_size, "cannot update the sink cursors");
			goto err_free;
		}
	}
	for (size_t i = 0; i < cfg->n_sinks; i++) {
		d->n_sinks = i + 1;
		r = setup_sink(d, cfg, i, err, err_size);
		if (r < 0)
			goto err_free;
	}
	publish_status(d);
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

char *cde_delivery_status_json(struct cde_delivery *d)
{
	char *text;

	if (!d)
		return strdup("{\"sinks\":[]}");
	pthread_mutex_lock(&d->lock);
	text = d->status ? strdup(d->status) : NULL;
	pthread_mutex_unlock(&d->lock);
	return text;
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

		for (unsigned k = 0; s->slots && k < s->n_slots; k++) {
			cde_event_unref(s->slots[k].ev);
			if (s->slots[k].retry)
				event_free(s->slots[k].retry);
		}
		free(s->slots);
		for (size_t k = 0; k < s->n_filters; k++)
			cde_filter_free(s->filters[k]);
		if (s->pump)
			event_free(s->pump);
		if (s->impl)
			s->ops->release(s->impl);
	}
	free(d->sinks);
	cde_delivery_store_close(d->store);
	if (d->kick)
		event_free(d->kick);
	if (d->stop)
		event_free(d->stop);
	if (d->tick)
		event_free(d->tick);
	if (d->base)
		event_base_free(d->base);
	free(d->status);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
