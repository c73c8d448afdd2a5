#pragma once
/* A sink's health as the operator reads it in the log: up, failing,
 * dead-lettering, recovered, caught up. The delivery engine feeds it every
 * outcome; it answers which of them is worth a line, so that a receiver
 * down for hours writes a handful of lines, not one per event or attempt.
 * Pure: time comes in as an argument, and lines go out through the log
 * callback the daemon injects (libraries never log themselves). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most one line per sink per this while it stays down (and a sink
 * that flaps between up and down announces a new failure at most this
 * often). */
#define CDE_SINK_HEALTH_REPEAT_MS 60000

/* The circuit opens after this many failed attempts in a row (no delivery
 * between them): the receiver looks down, rather than one event refused
 * now and then among deliveries. */
#define CDE_SINK_CIRCUIT_FAILURES 3

enum cde_delivery_log_level {
	CDE_DELIVERY_LOG_ERROR,
	CDE_DELIVERY_LOG_WARN,
	CDE_DELIVERY_LOG_INFO,
};

/* One key/value of a line; a NULL value leaves the field out. */
struct cde_delivery_log_field {
	const char *key;
	const char *value;
};

/* Writes one line: @msg with @n @fields (the first is always "sink").
 * Called on the delivery thread, not the daemon's loop. */
typedef void (*cde_delivery_log_fn)(void *ctx, enum cde_delivery_log_level level, const char *msg,
				    const struct cde_delivery_log_field *fields, size_t n);

struct cde_delivery_log {
	cde_delivery_log_fn fn;		/* NULL: nothing is written */
	void *ctx;
};

enum cde_sink_note {
	CDE_SINK_NOTE_NONE,
	CDE_SINK_NOTE_FAILING,		/* the first failure after success */
	CDE_SINK_NOTE_STILL_FAILING,	/* a reminder, at most once per CDE_SINK_HEALTH_REPEAT_MS */
	CDE_SINK_NOTE_DEAD_LETTERING,	/* the first event given up on while down */
	CDE_SINK_NOTE_RECOVERED,	/* the first delivery after an announced failure */
	CDE_SINK_NOTE_CAUGHT_UP,	/* nothing left waiting after a recovery */
};

/* Zero-initialized: up, nothing noted yet. Times are monotonic ms. */
struct cde_sink_health {
	bool failing, announced, dead_noted, catching_up, noted_ever;
	int64_t down_since_ms, up_since_ms, last_note_ms;
	unsigned long long failures;	/* failed attempts in this outage */
	unsigned long long dead;	/* events given up on in this outage */
	unsigned long long delivered;	/* since the recovery */
	unsigned long long in_a_row;	/* failed attempts since the last delivery */
};

/* An attempt failed (a retry or a refusal). */
enum cde_sink_note cde_sink_health_failed(struct cde_sink_health *h, int64_t now_ms);
/* An event became a dead letter (after cde_sink_health_failed). */
enum cde_sink_note cde_sink_health_dead(struct cde_sink_health *h, int64_t now_ms);
/* An event was delivered. */
enum cde_sink_note cde_sink_health_delivered(struct cde_sink_health *h, int64_t now_ms);
/* True while the circuit is open: the last CDE_SINK_CIRCUIT_FAILURES
 * attempts or more all failed. The delivery that follows closes it (the
 * engine asks before telling cde_sink_health_delivered), and then the
 * events waiting for a retry need not wait for their timers. */
bool cde_sink_health_circuit_open(const struct cde_sink_health *h);
/* The periodic look: @backlog events wait for the sink. */
enum cde_sink_note cde_sink_health_idle(struct cde_sink_health *h, uint64_t backlog);

/* What a line needs besides the health itself. */
struct cde_sink_note_info {
	const char *sink;
	const char *error;	/* the last failure's detail, or NULL */
	long status;		/* its HTTP status, 0 without one */
	int64_t retry_in_ms;	/* when the failed event is tried again; -1: not */
	uint64_t backlog;	/* events waiting for the sink */
	int64_t now_ms;
};

/* Writes the line for @note (nothing for CDE_SINK_NOTE_NONE or without a
 * callback) through @log. */
void cde_sink_health_log(const struct cde_delivery_log *log, enum cde_sink_note note,
			 const struct cde_sink_health *h, const struct cde_sink_note_info *info);

/* @ms as a short duration for a person: "850ms", "12.3s", "4m05s",
 * "3h20m". Returns @out. */
char *cde_duration_text(int64_t ms, char *out, size_t size);
