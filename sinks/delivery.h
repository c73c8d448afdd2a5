#pragma once
/* The delivery engine: every committed event, routed to the sinks whose
 * routes match it, delivered at least once. It runs on its own thread
 * with its own event loop (libcurl's multi handle on it) and its own
 * connection to the audit database, so neither a slow receiver nor a
 * read of the backlog ever holds up ingest. */

#include <stddef.h>

#include "sinks/sink_health.h"
#include "sinks/sink_options.h"

struct cde_delivery;
struct cde_store_location;

/* Starts the engine for @opts's sinks (copied) and routes on the audit
 * database at @db_path. A sink's state changes (failing, dead-lettering,
 * recovered) go to @log (copied; NULL: silent), called on the delivery
 * thread. With no sinks it starts nothing and *@ret is NULL. Returns 0 or
 * -errno with the reason in @err. */
int cde_delivery_new(const char *db_path, const struct cde_delivery_options *opts,
		     const struct cde_delivery_log *log, struct cde_delivery **ret, char *err, size_t err_size);
/* The same on the database @at (audit.db or PostgreSQL, whose replicas
 * share the sinks through leases). */
int cde_delivery_new_at(const struct cde_store_location *at, const struct cde_delivery_options *opts,
			const struct cde_delivery_log *log, struct cde_delivery **ret, char *err, size_t err_size);

/* Tells the engine that new events are committed. Any thread; accepts
 * NULL. */
void cde_delivery_kick(struct cde_delivery *d);

/* The state of every sink as a JSON text {"sinks": [...]} (the caller
 * frees it; NULL when out of memory), at most a second old. Any thread;
 * with NULL, an empty list. */
char *cde_delivery_status_json(struct cde_delivery *d);

/* Stops the thread and frees @d; deliveries in flight are abandoned and
 * happen again after the next start (their cursor did not move). Accepts
 * NULL. */
void cde_delivery_free(struct cde_delivery *d);
