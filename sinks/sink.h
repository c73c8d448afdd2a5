#pragma once
/* The sink interface: where the delivery engine hands an event to go out.
 * One static const table per sink type (Fluent Bit's output plugins);
 * submit never blocks and reports one outcome later. The engine, not the
 * sink, owns cursors, retries, backoff, budgets and dead letters. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "events/event.h"
#include "sinks/http_client.h"
#include "sinks/sink_options.h"

enum cde_sink_outcome {
	CDE_SINK_DELIVERED,
	CDE_SINK_RETRY,		/* a failure that may pass: try again later */
	CDE_SINK_DEAD,		/* a permanent refusal: do not try again */
};

struct cde_sink_result {
	enum cde_sink_outcome outcome;
	long status;		/* the HTTP status, 0 without one */
	long retry_after_s;	/* the receiver's hint, -1 without one */
	char detail[200];	/* for the operator: "503 Service Unavailable: ..." */
	char receipt[128];	/* the receiver's id for the event (Tekton's eventID), or "" */
};

typedef void (*cde_sink_done_fn)(void *ctx, const struct cde_sink_result *res);

/* What sinks share, owned by the engine. */
struct cde_sink_env {
	struct cde_http_client *http;
	struct event_base *base;	/* the engine's loop, where done must run */
};

struct cde_sink_ops {
	const char *name;	/* the `type:` of a sink in the configuration */
	/* The keys of a `sinks:` entry this type reads besides name, type
	 * and the engine's own (cde_sink_engine_keys), NULL-terminated; the
	 * first is required. config/ parses them and the daemon hands them over
	 * in struct cde_sink_options. */
	const char *const *config_keys;
	/* Reads what @cfg names (secret files) and sets up. Returns 0 or
	 * -errno with the reason in @err. */
	int (*init)(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		    char *err, size_t err_size);
	/* Starts delivering @ev, the audit log's row @seq; @done runs exactly
	 * once, on the engine's loop, possibly before submit returns. Returns
	 * 0, or -errno when it could not even start (then done is not
	 * called). */
	int (*submit)(void *impl, const struct cde_event *ev, uint64_t seq, cde_sink_done_fn done, void *ctx);
	/* Witnessing (types that take the `checkpoints` key; NULL for the
	 * others): sends @note, the audit log's signed checkpoint of tree
	 * size @size, the way submit sends an event. */
	int (*submit_checkpoint)(void *impl, uint64_t size, const char *note, cde_sink_done_fn done, void *ctx);
	void (*release)(void *impl);
};

extern const struct cde_sink_ops cde_sink_tekton;
extern const struct cde_sink_ops cde_sink_webhook;
extern const struct cde_sink_ops cde_sink_file;
extern const struct cde_sink_ops cde_sink_nats;

/* The keys every sink type takes, since the engine reads them: window,
 * budgets, backoff. NULL-terminated. */
extern const char *const cde_sink_engine_keys[];

/* The registry (sinks/sink_registry.c): the table of the type named
 * @name (as in `type: webhook`), NULL when no type has that name. */
const struct cde_sink_ops *cde_sink_ops_find(const char *name);
/* The number of registered types; cde_sink_ops_at(i) for i below it
 * lists them in registry order (NULL past it). */
size_t cde_sink_types_count(void);
const struct cde_sink_ops *cde_sink_ops_at(size_t i);
/* True when a sink of @ops's type takes @key (its own or the engine's). */
bool cde_sink_ops_takes_key(const struct cde_sink_ops *ops, const char *key);

/* The engine's rule for an HTTP answer, shared by the HTTP sinks (as in
 * Knative's data plane): 2xx delivered; 404, 408, 409, 429, 5xx and no
 * answer at all retried; any other status dead (sinks/delivery_policy.c). */
enum cde_sink_outcome cde_sink_outcome_of_status(long status);
