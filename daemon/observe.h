#pragma once
/* What GET /metrics shows: the daemon's requests, events and journal,
 * the delivery engine's sinks, and the pipeline SLOs the events imply. */

#include <stddef.h>

#include "daemon/http/server.h"
#include "sinks/delivery.h"
#include "sinks/audit/journal.h"

struct cde_observe;

struct cde_observe_config {
	size_t max_series;		/* per family; the rest is folded into "other" */
	double price_cpu_hour;		/* 0: no cost metric */
	double price_gib_hour;
};

struct cde_observe *cde_observe_new(const struct cde_observe_config *cfg);
void cde_observe_free(struct cde_observe *o);

/* The HTTP server's observer: pass @o as its argument. */
void cde_observe_request(void *o, const struct cde_http_request *req, int status, double seconds);

/* Counts committed entries: new events by type (and their SLOs), and
 * duplicates. */
void cde_observe_committed(struct cde_observe *o, const struct cde_journal_entry *entries, size_t n);

/* What the scrape reads from elsewhere. */
struct cde_observe_sources {
	struct cde_journal *journal;
	struct cde_delivery *delivery;		/* NULL without sinks */
	const char *db_path;
	unsigned long long queue_depth;
};

/* The registry, for families kept elsewhere (daemon/dora_gauges.c). */
struct cde_metrics *cde_observe_metrics(struct cde_observe *o);

/* The exposition text (the caller frees it), or NULL. */
char *cde_observe_render(struct cde_observe *o, const struct cde_observe_sources *src);
