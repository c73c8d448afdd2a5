#pragma once
/* Prometheus metrics: a small registry of counters, gauges and
 * histograms with labels, rendered in the text exposition format. Every
 * family caps its number of series; past the cap new label sets are
 * folded into one series whose labels all read "other", so no client can
 * make the daemon's memory or a scrape grow without bound. Loop thread
 * only. */

#include <stdbool.h>
#include <stddef.h>

enum cde_metric_type { CDE_METRIC_COUNTER, CDE_METRIC_GAUGE, CDE_METRIC_HISTOGRAM };

#define CDE_METRIC_LABELS_MAX 3

struct cde_metric_family;
struct cde_metrics;

/* A registry whose families hold at most @max_series series each. */
struct cde_metrics *cde_metrics_new(size_t max_series);
void cde_metrics_free(struct cde_metrics *m);

/* Declares a family; @label_names is NULL-terminated (at most
 * CDE_METRIC_LABELS_MAX); @bounds the histogram's bucket upper bounds,
 * increasing (NULL otherwise). The strings must be static. Returns NULL
 * when out of memory. */
struct cde_metric_family *cde_metrics_family(struct cde_metrics *m, const char *name, const char *help,
					     enum cde_metric_type type, const char *const *label_names,
					     const double *bounds, size_t n_bounds);

/* Adds @v to a counter, sets a gauge to @v, or observes @v in a
 * histogram, for the series of @values (one per label name). */
void cde_metric_add(struct cde_metric_family *f, double v, const char *const *values);
void cde_metric_set(struct cde_metric_family *f, double v, const char *const *values);
void cde_metric_observe(struct cde_metric_family *f, double v, const char *const *values);

/* Sets a histogram series whole, from per-bucket (not cumulative)
 * @buckets (one per bound), the total @count and @sum: for histograms
 * kept elsewhere (another thread's). */
void cde_metric_set_histogram(struct cde_metric_family *f, const unsigned long long *buckets,
			      unsigned long long count, double sum, const char *const *values);

/* Forgets every series of a gauge family (before re-setting them all). */
void cde_metric_clear(struct cde_metric_family *f);

/* The exposition text of every family (the caller frees it), or NULL. */
char *cde_metrics_render(const struct cde_metrics *m);
