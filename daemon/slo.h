#pragma once
/* Pipeline SLOs from the events themselves: run durations (started to
 * finished) and outcomes per pipeline and task, pod outcomes by reason
 * and Spark role, deployments per environment (DORA's deployment
 * frequency), and the resources a run asked for (from the sizing
 * metadata) times how long it ran, priced when prices are set. */

#include <cjson/cJSON.h>

#include "daemon/metrics.h"

struct cde_slo;

/* Declares the SLO families in @m; prices per CPU-hour and GiB-hour of
 * requests (0: no cost metric). Returns NULL when out of memory. */
struct cde_slo *cde_slo_new(struct cde_metrics *m, double price_cpu_hour, double price_gib_hour);
void cde_slo_free(struct cde_slo *s);

/* Counts what @event (a stored CDEvent) says. */
void cde_slo_event(struct cde_slo *s, const cJSON *event);
