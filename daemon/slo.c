/* SLOs derived from events. A run's start is remembered (its time, its
 * name and its requested resources) until its finish arrives; the table
 * has a fixed size and forgets the oldest start when full, so runs that
 * never finish cannot fill memory. Names become labels, so the metrics
 * registry's cap on series bounds them. */

#include "daemon/slo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/ids.h"
#include "events/limits.h"

#define RUNS_MAX 4096
#define NAME_MAX_LEN 96
#define KEY_MAX_LEN (16 + CDE_EVENT_ID_MAX)	/* a whole subject id: two runs never share a key */

struct run {
	bool used;
	char key[KEY_MAX_LEN];		/* kind '\n' subject id */
	char name[NAME_MAX_LEN];
	double started;
	double cpu_cores, memory_gib;	/* requested, from customData.sizing */
};

struct cde_slo {
	struct cde_metric_family *duration, *runs, *pods, *deploys, *cpu_seconds, *gib_seconds, *cost;
	double price_cpu_hour, price_gib_hour;
	struct run runs_table[RUNS_MAX];
};

static const double duration_bounds[] = { 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400,
					   43200, 86400 };

struct cde_slo *cde_slo_new(struct cde_metrics *m, double price_cpu_hour, double price_gib_hour)
{
	static const char *const kind_name[] = { "kind", "name", NULL };
	static const char *const kind_name_outcome[] = { "kind", "name", "outcome", NULL };
	static const char *const reason_role[] = { "reason", "role", NULL };
	static const char *const env_action[] = { "environment", "action", NULL };
	struct cde_slo *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->price_cpu_hour = price_cpu_hour;
	s->price_gib_hour = price_gib_hour;
	s->duration = cde_metrics_family(m, "cdeventsd_run_duration_seconds",
					 "Pipeline and task runs, started to finished (event timestamps).",
					 CDE_METRIC_HISTOGRAM, kind_name, duration_bounds,
					 sizeof(duration_bounds) / sizeof(duration_bounds[0]));
	s->runs = cde_metrics_family(m, "cdeventsd_runs_total", "Finished pipeline and task runs by outcome.",
				     CDE_METRIC_COUNTER, kind_name_outcome, NULL, 0);
	s->pods = cde_metrics_family(m, "cdeventsd_pod_outcomes_total",
				     "Failed pods reported by the pod hook, by reason and Spark role.",
				     CDE_METRIC_COUNTER, reason_role, NULL, 0);
	s->deploys = cde_metrics_family(m, "cdeventsd_deployments_total",
					"Service deployments by environment and action (deployment frequency).",
					CDE_METRIC_COUNTER, env_action, NULL, 0);
	s->cpu_seconds = cde_metrics_family(m, "cdeventsd_run_cpu_seconds_requested_total",
					    "CPU requested by finished runs (from their sizing) times their duration.",
					    CDE_METRIC_COUNTER, kind_name, NULL, 0);
	s->gib_seconds = cde_metrics_family(m, "cdeventsd_run_memory_gib_seconds_requested_total",
					    "Memory requested by finished runs (from their sizing) times their duration.",
					    CDE_METRIC_COUNTER, kind_name, NULL, 0);
	if (price_cpu_hour > 0 || price_gib_hour > 0)
		s->cost = cde_metrics_family(m, "cdeventsd_run_cost_total",
					     "Estimated cost of finished runs: requested CPU-hours and GiB-hours at the"
					     " configured prices.", CDE_METRIC_COUNTER, kind_name, NULL, 0);
	if (!s->duration || !s->runs || !s->pods || !s->deploys || !s->cpu_seconds || !s->gib_seconds ||
	    ((price_cpu_hour > 0 || price_gib_hour > 0) && !s->cost)) {
		free(s);
		return NULL;
	}
	return s;
}

void cde_slo_free(struct cde_slo *s)
{
	free(s);
}

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The run of @key, or a free (or the oldest) slot for it when @create. */
static struct run *lookup(struct cde_slo *s, const char *key, bool create)
{
	uint32_t h = hash(key);
	struct run *oldest = NULL;

	/* Open addressing over a short probe: a run not found within it is
	 * treated as unknown, a new one takes the oldest slot in it. */
	for (unsigned i = 0; i < 16; i++) {
		struct run *r = &s->runs_table[(h + i) % RUNS_MAX];

		if (r->used && strcmp(r->key, key) == 0)
			return r;
		if (!create)
			continue;
		if (!r->used)
			return r;
		if (!oldest || r->started < oldest->started)
			oldest = r;
	}
	return oldest;
}

static void start_run(struct cde_slo *s, const char *key, const char *name, double at, const cJSON *event)
{
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "customData"), "sizing"),
		"totals");
	struct run *r = lookup(s, key, true);

	*r = (struct run){ .used = true, .started = at };
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(totals, "cpuRequest")))
		r->cpu_cores = cJSON_GetObjectItemCaseSensitive(totals, "cpuRequest")->valuedouble;
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(totals, "memoryRequestMiB")))
		r->memory_gib = cJSON_GetObjectItemCaseSensitive(totals, "memoryRequestMiB")->valuedouble / 1024;
}

static void finish_run(struct cde_slo *s, const char *kind, const char *key, const char *name, double at,
		       const char *outcome)
{
	struct run *r = lookup(s, key, false);
	const char *label = name ? name : r && r->name[0] ? r->name : "unknown";
	const char *const kn[] = { kind, label };
	const char *const kno[] = { kind, label, outcome ? outcome : "unknown" };

	cde_metric_add(s->runs, 1, kno);
	if (!r || at < 0)
		return;
	if (at >= r->started) {
		double secs = at - r->started;

		cde_metric_observe(s->duration, secs, kn);
		if (r->cpu_cores > 0 || r->memory_gib > 0) {
			cde_metric_add(s->cpu_seconds, r->cpu_cores * secs, kn);
			cde_metric_add(s->gib_seconds, r->memory_gib * secs, kn);
			if (s->cost)
				cde_metric_add(s->cost, (r->cpu_cores * s->price_cpu_hour +
							 r->memory_gib * s->price_gib_hour) * secs / 3600, kn);
		}
	}
	r->used = false;
}

void cde_slo_event(struct cde_slo *s, const cJSON *event)
{
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(event, "context");
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(event, "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const char *type = text(context, "type"), *id = text(subject, "id");
	char what[64], key[KEY_MAX_LEN];
	double at;
	size_t n;
	const char *kind;

	if (!type || strncmp(type, "dev.cdevents.", 13) != 0)
		return;
	/* "pipelinerun.started" out of "dev.cdevents.pipelinerun.started.0.2.0" */
	/* Cut to fit, without stdio: every event passes here. */
	n = strnlen(type + 13, sizeof(what) - 1);
	memcpy(what, type + 13, n);
	what[n] = '\0';
	for (char *p = what, dots = 0; *p; p++)
		if (*p == '.' && ++dots == 2)
			*p = '\0';

	if (strncmp(what, "pipelinerun.", 12) == 0 || strncmp(what, "taskrun.", 8) == 0) {
		const char *name = text(content, what[0] == 'p' ? "pipelineName" : "taskName");

		kind = what[0] == 'p' ? "pipeline" : "task";
		if (!id)
			return;
		/* Only runs are timed: read here, not for every event. */
		at = cde_timestamp_parse(text(context, "timestamp"));
		snprintf(key, sizeof(key), "%s\n%s", kind, id);
		if (strstr(what, ".started"))
			start_run(s, key, name, at, event);
		else if (strstr(what, ".finished"))
			finish_run(s, kind, key, name, at, text(content, "outcome"));
	} else if (strncmp(what, "service.", 8) == 0 && strcmp(what, "service.published") != 0) {
		const cJSON *env = cJSON_GetObjectItemCaseSensitive(content, "environment");
		const char *const labels[] = { text(env, "id") ? text(env, "id") : "unknown", what + 8 };

		cde_metric_add(s->deploys, 1, labels);
	} else if (strcmp(what, "incident.detected") == 0) {
		const cJSON *pod = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(event, "customData"), "podOutcome");
		const char *const labels[] = { text(pod, "reason") ? text(pod, "reason") : "unknown",
					       text(pod, "sparkRole") ? text(pod, "sparkRole") : "none" };

		if (pod)
			cde_metric_add(s->pods, 1, labels);
	}
}
