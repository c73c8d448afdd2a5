/* DORA gauges for /metrics. A round submits the DORA computation to the
 * audit reader (which runs it on its thread through the same code as
 * GET /v1/dora) and, back on the loop, replaces every series at once.
 * The next round is armed only when one ends, so rounds never pile up
 * behind a slow database. Labels are a service and an environment as
 * the log names them: the families cap them (metrics.max_series), and
 * this leaves out the pairs past the cap rather than let the registry
 * fold them into an "other" series whose value would mean nothing. */

#include "daemon/dora_gauges.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "sinks/audit/answers/dora.h"

struct cde_dora_gauges {
	struct event *timer;
	struct cde_audit_reader *reader;
	const struct cde_config_dora *cfg;
	size_t max_pairs;
	struct cde_metric_family *deployments, *per_day, *lead, *failure, *restore, *band, *window, *omitted;
};

struct round {
	struct cde_dora_gauges *g;
	struct cde_dora_params p;
	struct cde_dora_report rep;
	bool done;
};

static int run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct round *r = ctx;
	int e = cde_dora_compute(src, &r->p, &r->rep);

	if (e < 0)
		return e;
	r->done = true;
	a->status = 200;
	return 0;
}

static void publish_pair(struct cde_dora_gauges *g, const struct cde_dora_keys *k)
{
	static const char *const key_names[CDE_DORA_KEYS] = {
		[CDE_DORA_FREQUENCY] = "deployment_frequency", [CDE_DORA_LEAD_TIME] = "lead_time",
		[CDE_DORA_FAILURE_RATE] = "change_failure_rate", [CDE_DORA_RESTORE] = "time_to_restore",
	};
	const char *labels[] = { k->service, k->environment, NULL };

	cde_metric_set(g->deployments, k->deployments, labels);
	cde_metric_set(g->per_day, k->per_day, labels);
	if (k->lead_samples)
		cde_metric_set(g->lead, k->lead_median_s, labels);
	if (k->deployments)
		cde_metric_set(g->failure, (double)k->failed / k->deployments, labels);
	if (k->restore_samples)
		cde_metric_set(g->restore, k->restore_median_s, labels);
	for (int i = 0; i < CDE_DORA_KEYS; i++) {
		labels[2] = key_names[i];
		if (k->band[i] != CDE_DORA_NO_BAND)
			cde_metric_set(g->band, k->band[i], labels);
	}
}

static void publish(struct cde_dora_gauges *g, const struct round *r)
{
	struct cde_metric_family *all[] = { g->deployments, g->per_day, g->lead, g->failure, g->restore, g->band };
	size_t n = r->rep.n < g->max_pairs ? r->rep.n : g->max_pairs;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cde_metric_clear(all[i]);
	for (size_t i = 0; i < n; i++)
		publish_pair(g, &r->rep.v[i]);
	cde_metric_set(g->window, (double)r->p.window_s, NULL);
	cde_metric_set(g->omitted, (double)(r->rep.n - n), NULL);
}

static void arm(struct cde_dora_gauges *g, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(g->timer, &tv);
}

/* A round that failed (the database away) keeps the last values: a
 * gauge that drops to nothing would read as "no deployments". */
static void round_done(void *ctx, struct cde_audit_task_answer *a)
{
	struct round *r = ctx;

	if (r->done)
		publish(r->g, r);
	arm(r->g, r->g->cfg->interval_ms);
	cde_dora_report_release(&r->rep);
	free(a->body);
	free(r);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cde_dora_gauges *g = arg;
	struct round *r = calloc(1, sizeof(*r));

	if (r) {
		r->g = g;
		r->p = (struct cde_dora_params){
			.now = (int64_t)time(NULL), .window_s = (int64_t)g->cfg->window_s,
			.failure_window_s = (int64_t)g->cfg->failure_window_s,
		};
	}
	if (!r || cde_audit_reader_submit_task(g->reader, run, round_done, r) < 0) {
		free(r);
		arm(g, g->cfg->interval_ms);
	}
}

int cde_dora_gauges_new(struct event_base *base, struct cde_audit_reader *reader, struct cde_metrics *m,
			size_t max_series, const struct cde_config_dora *cfg, struct cde_dora_gauges **ret)
{
	static const char *const pair[] = { "service", "environment", NULL };
	static const char *const pair_key[] = { "service", "environment", "key", NULL };
	struct cde_dora_gauges *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->reader = reader;
	g->cfg = cfg;
	/* One series of each family is the registry's "other"; the band
	 * family has one series per key. */
	g->max_pairs = ((max_series ? max_series : 200) - 1) / CDE_DORA_KEYS;
	g->deployments = cde_metrics_family(m, "cdeventsd_dora_deployments",
					    "Deployments (deployed, upgraded) in the DORA window (dora.window).",
					    CDE_METRIC_GAUGE, pair, NULL, 0);
	g->per_day = cde_metrics_family(m, "cdeventsd_dora_deployment_frequency_per_day",
					"DORA deployment frequency: deployments per day over the window.",
					CDE_METRIC_GAUGE, pair, NULL, 0);
	g->lead = cde_metrics_family(m, "cdeventsd_dora_lead_time_seconds",
				     "DORA lead time for changes: median, change merged (or first build) to deployment.",
				     CDE_METRIC_GAUGE, pair, NULL, 0);
	g->failure = cde_metrics_family(m, "cdeventsd_dora_change_failure_ratio",
					"DORA change failure rate: deployments followed within dora.failure_window by a "
					"linked incident or a rollback, over all deployments.", CDE_METRIC_GAUGE, pair,
					NULL, 0);
	g->restore = cde_metrics_family(m, "cdeventsd_dora_time_to_restore_seconds",
					"DORA time to restore: median, incident detected to resolved (or to the next "
					"deployment).", CDE_METRIC_GAUGE, pair, NULL, 0);
	g->band = cde_metrics_family(m, "cdeventsd_dora_band",
				     "DORA performance band per key: 4 elite, 3 high, 2 medium, 1 low.",
				     CDE_METRIC_GAUGE, pair_key, NULL, 0);
	g->window = cde_metrics_family(m, "cdeventsd_dora_window_seconds", "The window of the DORA gauges.",
				       CDE_METRIC_GAUGE, NULL, NULL, 0);
	g->omitted = cde_metrics_family(m, "cdeventsd_dora_omitted_services",
					"Services (per environment) left out of the DORA gauges by metrics.max_series.",
					CDE_METRIC_GAUGE, NULL, NULL, 0);
	g->timer = evtimer_new(base, on_tick, g);
	if (!g->deployments || !g->per_day || !g->lead || !g->failure || !g->restore || !g->band || !g->window ||
	    !g->omitted || !g->timer) {
		cde_dora_gauges_free(g);
		return -ENOMEM;
	}
	arm(g, 0);
	*ret = g;
	return 0;
}

void cde_dora_gauges_free(struct cde_dora_gauges *g)
{
	if (!g)
		return;
	if (g->timer)
		event_free(g->timer);
	free(g);
}
