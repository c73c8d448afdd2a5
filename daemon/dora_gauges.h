#pragma once
/* The DORA keys as gauges in GET /metrics, computed every dora.interval
 * on the audit reader's thread (never on a scrape, never on the loop). */

#include <stddef.h>

#include <event2/event.h>

#include "config/config.h"
#include "daemon/metrics.h"
#include "sinks/audit/audit_reader.h"

struct cde_dora_gauges;

/* Starts the rounds on @base: a first one at once, then one
 * @cfg->interval_ms after each ends, over @cfg->window_s (@cfg is read at
 * each round, so a reload applies), into families of @m whose series
 * @max_series caps (a service and environment too many is left out, and
 * counted). @reader, @m and @cfg are borrowed and must outlive @ret's
 * rounds: free @reader (which ends them) before @m. Returns 0 or -ENOMEM. */
int cde_dora_gauges_new(struct event_base *base, struct cde_audit_reader *reader, struct cde_metrics *m,
			size_t max_series, const struct cde_config_dora *cfg, struct cde_dora_gauges **ret);

/* Stops the rounds; accepts NULL. */
void cde_dora_gauges_free(struct cde_dora_gauges *g);
