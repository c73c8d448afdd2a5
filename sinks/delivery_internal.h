#pragma once
/* The delivery engine's state, shared by its parts (delivery.c: the
 * engine; delivery_recovery.c: failures and recoveries;
 * delivery_checkpoints.c: witnessing; delivery_lease.c: leases of
 * sinks shared by replicas; delivery_status.c: what GET
 * /v1/sinks and /metrics show) and by nothing else. Everything here belongs to the delivery thread, but for
 * `status`, which the lock guards. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "events/event.h"
#include "events/ids.h"
#include "schemas/catalog.h"
#include "sinks/delivery.h"
#include "sinks/delivery_policy.h"
#include "sinks/filter.h"
#include "sinks/sink.h"
#include "sinks/sink_health.h"

struct sink;
struct upgrade_entry;

/* The releases whose upgrades each sink counts (0.1.2, 0.2.0, 0.3.0, 0.4.1). */
#define CDE_UPGRADE_FROM_MAX 4

/* What the engine holds for window entry @idx of its sink. */
struct slot {
	struct sink *sink;
	unsigned idx;
	char why[256];
	struct cde_event *ev;
	int64_t first_ms;
	double received;	/* epoch seconds, for commit-to-delivery latency; 0 unknown */
	struct event *retry;
	int64_t not_before_ms;	/* the receiver's Retry-After, monotonic; 0 none */
	unsigned rushed_after;	/* sent early after this many attempts; 0 never */
};

/* A sink's witnessing (delivery_checkpoints.c): one signed checkpoint at
 * a time, in tree-size order, after a cursor kept in witness_cursors. */
struct witness {
	bool on;		/* checkpoints: true */
	bool busy;		/* a checkpoint is out or waiting for its retry */
	uint64_t cursor;	/* every checkpoint up to this size is settled */
	uint64_t size;		/* the one out */
	char *note;
	unsigned attempts;
	int64_t first_ms;
	struct event *retry;
	int64_t not_before_ms;
	unsigned rushed_after;
	unsigned long long delivered, skipped;
};

/* Commit-to-delivery latency buckets, seconds. */
#define LATENCY_BUCKETS 14

struct sink {
	struct cde_delivery *d;
	struct cde_sink_options cfg;
	const struct cde_sink_ops *ops;
	void *impl;
	struct event *pump;
	size_t n_filters;
	struct cde_filter **filters;	/* one per route naming the sink, at most */
	bool match_all, routed;
	bool leased;		/* this replica holds the sink's lease */
	bool resync;		/* the window waits to start again from the stored cursor */
	uint64_t cursor, stored_cursor;
	int64_t replays_asked_ms;	/* monotonic, when take_replays last ran */
	struct cde_window win;
	struct slot *slots;	/* one per window entry */
	unsigned long long delivered, retried, dead;
	unsigned long long latency_buckets[LATENCY_BUCKETS], latency_count;
	double latency_sum;
	unsigned long long upgrades[CDE_UPGRADE_FROM_MAX];	/* by release, delivery_upgrade.c */
	unsigned long long upgrade_dropped, upgrade_refused;
	/* The last failure while one is outstanding ("" none); once a
	 * delivery succeeds with nothing waiting for a retry, it moves to
	 * recovered_error, and recovered_at says when. */
	char last_error[200];
	char last_error_at[CDE_TIMESTAMP_STR_LEN];
	char recovered_error[200];
	char recovered_error_at[CDE_TIMESTAMP_STR_LEN];
	char recovered_at[CDE_TIMESTAMP_STR_LEN];
	struct cde_sink_health health;
	struct witness wit;
};

struct cde_delivery {
	bool stopping;		/* freeing: results of cancelled calls are ignored */
	struct event_base *base;
	struct event *kick, *tick, *stop, *flush;
	struct cde_http_client *http;
	struct cde_delivery_store *store;
	bool store_up;		/* as the last tick found it */
	struct event *news;	/* the store's socket, when it has one */
	pthread_t thread;
	bool started;
	size_t n_sinks;
	struct sink *sinks;
	pthread_mutex_t lock;
	char *status;		/* under lock */
	struct cde_delivery_log log;
	struct cde_catalog *catalog;		/* only with a sink's upgrade_to */
	struct upgrade_entry *upgrades;		/* their cache, by seq */
};

/* Monotonic milliseconds, which backoffs and outages are measured in. */
static inline int64_t cde_delivery_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline struct timeval cde_delivery_tv(int64_t ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* delivery_recovery.c: @s failed: @what becomes its last error, with the
 * time. */
void cde_delivery_note_error(struct sink *s, const char *what);
/* A delivery (an event or a checkpoint) to @s succeeded: with nothing
 * left waiting for a retry, its last error is recovered from. */
void cde_delivery_note_success(struct sink *s);

/* Moves the pending @retry timer to now, or to @not_before_ms (monotonic;
 * a receiver's Retry-After) if that is later. False when @retry was not
 * pending. */
bool cde_delivery_retry_early(struct event *retry, int64_t not_before_ms);
/* The circuit of @s closed: its events (and checkpoint) waiting for a
 * retry go now, each at most once per backoff. */
void cde_delivery_rush(struct sink *s);

/* Counts a delivery of an event received at @received (epoch seconds, 0
 * unknown) in @s's latency histogram. */
void cde_delivery_observe_latency(struct sink *s, double received);

/* Witnessing (delivery_checkpoints.c): sets up @s's from its cursor,
 * sends the next checkpoint when none is out, lets go. Setup returns 0
 * or -errno with the reason in @err. */
int cde_delivery_witness_setup(struct sink *s, char *err, size_t err_size);
void cde_delivery_witness_pump(struct sink *s);
/* The circuit closed: a checkpoint waiting for its retry goes now. */
void cde_delivery_witness_rush(struct sink *s);
/* The checkpoint out, not in flight (its retry timer stopped or fired),
 * is let go: the sink's lease was lost, and the holder sends it from the
 * witness cursor. */
void cde_delivery_witness_drop(struct sink *s);
void cde_delivery_witness_release(struct sink *s);

/* Leases (delivery_lease.c). Setup watches the store's socket and asks
 * for every lease; check, once a second, reconnects a lost store, asks
 * for the leases not held and resynchronises the sinks just taken; news
 * pumps every sink when other replicas committed rows. */
void cde_delivery_leases_setup(struct cde_delivery *d);
void cde_delivery_leases_check(struct cde_delivery *d);
void cde_delivery_leases_news(struct cde_delivery *d);
void cde_delivery_leases_release(struct cde_delivery *d);
/* What GET /v1/sinks says of @s's lease. */
const char *cde_delivery_lease_name(const struct sink *s);

/* Whether @s may start deliveries now. */
static inline bool cde_delivery_active(const struct sink *s)
{
	return s->leased && !s->resync;
}

/* Rebuilds the JSON that cde_delivery_status_json hands out. */
void cde_delivery_publish_status(struct cde_delivery *d);

/* Compiles the filters of the routes that name sink @idx into @s (its
 * filters array has room for one per route): 0 or -errno, why in @err
 * (delivery_routes.c). */
int cde_delivery_routes_setup(struct sink *s, const struct cde_delivery_options *opts, size_t idx, char *err,
			      size_t err_size);
/* Whether a route gives @ev to @s. */
bool cde_delivery_routes_match(const struct sink *s, const struct cde_event *ev);
