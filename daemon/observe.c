/* Metrics for GET /metrics. Counters that only the loop thread changes
 * live in the registry; what other threads own (the journal's commits,
 * the delivery engine's sinks) is copied in at each scrape from their
 * stats, which they publish under their own locks. Route labels come
 * from a fixed list, never from the raw path, so a scanner probing random
 * URLs cannot create series. */

#include "daemon/observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "daemon/metrics.h"
#include "daemon/slo.h"
#include "events/hooks.h"

struct cde_observe {
	struct cde_metrics *m;
	struct cde_slo *slo;
	struct cde_metric_family *requests, *latency, *accepted, *duplicates, *rejected;
	struct cde_metric_family *commits, *failed_commits, *rows, *db_bytes, *batch, *commit_seconds,
		*queue, *ready, *retained;
	struct cde_metric_family *sink_delivered, *sink_retries, *sink_dead, *sink_in_flight, *sink_lag,
		*sink_cursor_lag, *sink_lag_seconds, *sink_latency, *sink_upgrades, *sink_upgrade_dropped;
};

static const double request_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
static const double batch_bounds[] = CDE_JOURNAL_BATCH_BOUNDS;
static const double commit_bounds[] = CDE_JOURNAL_SECONDS_BOUNDS;
static const double sink_latency_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct cde_observe *cde_observe_new(const struct cde_observe_config *cfg)
{
	static const char *const route_method_status[] = { "route", "method", "status", NULL };
	static const char *const route[] = { "route", NULL };
	static const char *const type[] = { "type", NULL };
	static const char *const route_status[] = { "route", "status", NULL };
	static const char *const sink[] = { "sink", NULL };
	static const char *const sink_from[] = { "sink", "from", NULL };
	struct cde_observe *o = calloc(1, sizeof(*o));

	if (!o || !(o->m = cde_metrics_new(cfg->max_series ? cfg->max_series : 200)))
		goto err;
	o->requests = cde_metrics_family(o->m, "cdeventsd_http_requests_total", "HTTP requests answered.",
					 CDE_METRIC_COUNTER, route_method_status, NULL, 0);
	o->latency = cde_metrics_family(o->m, "cdeventsd_http_request_duration_seconds",
					"From a request's complete head to its answer (ingest: until committed).",
					CDE_METRIC_HISTOGRAM, route, request_bounds, N(request_bounds));
	o->accepted = cde_metrics_family(o->m, "cdeventsd_events_accepted_total", "Events stored, by type.",
					 CDE_METRIC_COUNTER, type, NULL, 0);
	o->duplicates = cde_metrics_family(o->m, "cdeventsd_events_duplicate_total",
					   "Events sent again (same source and id), answered 200 and not stored.",
					   CDE_METRIC_COUNTER, NULL, NULL, 0);
	o->rejected = cde_metrics_family(o->m, "cdeventsd_events_rejected_total",
					 "Ingest requests refused, by route and status (400 invalid, 401/403 auth,"
					 " 413 too large, 415 media type, 429 replay, 503 busy or failing).",
					 CDE_METRIC_COUNTER, route_status, NULL, 0);
	o->commits = cde_metrics_family(o->m, "cdeventsd_journal_commits_total", "Group commits of the audit log.",
					CDE_METRIC_COUNTER, NULL, NULL, 0);
	o->failed_commits = cde_metrics_family(o->m, "cdeventsd_journal_failed_commits_total",
					       "Commits that failed (their requests got 503).", CDE_METRIC_COUNTER,
					       NULL, NULL, 0);
	o->rows = cde_metrics_family(o->m, "cdeventsd_journal_head_seq", "The last sequence number stored.",
				     CDE_METRIC_GAUGE, NULL, NULL, 0);
	o->db_bytes = cde_metrics_family(o->m, "cdeventsd_journal_size_bytes",
					 "The audit database's files (database and WAL).", CDE_METRIC_GAUGE, NULL,
					 NULL, 0);
	o->batch = cde_metrics_family(o->m, "cdeventsd_journal_commit_events",
				      "Events per group commit.", CDE_METRIC_HISTOGRAM, NULL, batch_bounds,
				      N(batch_bounds));
	o->commit_seconds = cde_metrics_family(o->m, "cdeventsd_journal_commit_duration_seconds",
					       "Time of one group commit, fsync included.", CDE_METRIC_HISTOGRAM,
					       NULL, commit_bounds, N(commit_bounds));
	o->queue = cde_metrics_family(o->m, "cdeventsd_ingest_queue_depth",
				      "Events waiting for the journal.", CDE_METRIC_GAUGE, NULL, NULL, 0);
	o->ready = cde_metrics_family(o->m, "cdeventsd_journal_ready",
				      "1 while the audit log can store events, else 0.", CDE_METRIC_GAUGE, NULL,
				      NULL, 0);
	o->retained = cde_metrics_family(o->m, "cdeventsd_retention_deleted_events_total",
					 "Events deleted by retention.", CDE_METRIC_COUNTER, NULL, NULL, 0);
	o->sink_delivered = cde_metrics_family(o->m, "cdeventsd_sink_delivered_total",
					       "Events delivered, per sink.", CDE_METRIC_COUNTER, sink, NULL, 0);
	o->sink_retries = cde_metrics_family(o->m, "cdeventsd_sink_retries_total", "Failed attempts retried.",
					     CDE_METRIC_COUNTER, sink, NULL, 0);
	o->sink_dead = cde_metrics_family(o->m, "cdeventsd_sink_dead_letters",
					  "Dead letters waiting for a replay.", CDE_METRIC_GAUGE, sink, NULL, 0);
	o->sink_in_flight = cde_metrics_family(o->m, "cdeventsd_sink_in_flight", "Requests in flight.",
					       CDE_METRIC_GAUGE, sink, NULL, 0);
	o->sink_lag = cde_metrics_family(o->m, "cdeventsd_sink_lag_events",
					 "Events stored but not yet settled for the sink.", CDE_METRIC_GAUGE, sink,
					 NULL, 0);
	o->sink_cursor_lag = cde_metrics_family(o->m, "cdeventsd_sink_cursor_lag_events",
						"Events after the sink's cursor, which a restart reads again; more "
						"than the lag while an event waiting for a retry holds the cursor.",
						CDE_METRIC_GAUGE, sink, NULL, 0);
	o->sink_lag_seconds = cde_metrics_family(o->m, "cdeventsd_sink_lag_seconds",
						 "Age of the oldest event not yet settled for the sink.",
						 CDE_METRIC_GAUGE, sink, NULL, 0);
	o->sink_latency = cde_metrics_family(o->m, "cdeventsd_sink_delivery_latency_seconds",
					     "From commit (received) to a 2xx from the receiver.",
					     CDE_METRIC_HISTOGRAM, sink, sink_latency_bounds,
					     N(sink_latency_bounds));
	o->sink_upgrades = cde_metrics_family(o->m, "cdeventsd_sink_upgrades_total",
					      "Events sent upgraded to 0.5.1 (upgrade_to), per sink and received release.",
					      CDE_METRIC_COUNTER, sink_from, NULL, 0);
	o->sink_upgrade_dropped = cde_metrics_family(o->m, "cdeventsd_sink_upgrade_dropped_fields_total",
						     "Fields of upgraded events 0.5.1 had no place for, per sink.",
						     CDE_METRIC_COUNTER, sink, NULL, 0);
	if (!o->sink_upgrades || !o->sink_upgrade_dropped)
		goto err;
	if (!o->requests || !o->latency || !o->accepted || !o->duplicates || !o->rejected || !o->commits ||
	    !o->failed_commits || !o->rows || !o->db_bytes || !o->batch || !o->commit_seconds || !o->queue ||
	    !o->ready || !o->retained || !o->sink_delivered || !o->sink_retries || !o->sink_dead ||
	    !o->sink_in_flight || !o->sink_lag || !o->sink_cursor_lag || !o->sink_lag_seconds || !o->sink_latency)
		goto err;
	o->slo = cde_slo_new(o->m, cfg->price_cpu_hour, cfg->price_gib_hour);
	if (!o->slo)
		goto err;
	return o;
err:
	cde_observe_free(o);
	return NULL;
}

void cde_observe_free(struct cde_observe *o)
{
	if (!o)
		return;
	cde_slo_free(o->slo);
	cde_metrics_free(o->m);
	free(o);
}

/* The route a path belongs to, from a fixed list. */
static const char *route_of(const char *path, bool *ingest)
{
	static const char *const exact[] = { "/healthz", "/readyz", "/metrics", "/v1/events", "/v1/sinks",
					     "/v1/sizing" };
	static char hooks[32][48];	/* "/v1/hooks/<kind>", made once per kind */

	*ingest = false;
	for (size_t i = 0; i < N(exact); i++)
		if (strcmp(path, exact[i]) == 0) {
			*ingest = i == 3;
			return exact[i];
		}
	if (strncmp(path, "/v1/hooks/", 10) == 0) {
		*ingest = true;
		/* The label is one of the known kinds (a bounded set), never
		 * the path as sent. */
		for (size_t i = 0; cde_hook_kinds[i] && i < N(hooks); i++)
			if (strcmp(path + 10, cde_hook_kinds[i]) == 0) {
				if (!hooks[i][0])
					snprintf(hooks[i], sizeof(hooks[i]), "/v1/hooks/%s", cde_hook_kinds[i]);
				return hooks[i];
			}
		if (strcmp(path + 10, "pod") == 0)
			return "/v1/hooks/pod";
		return "/v1/hooks/other";
	}
	if (strncmp(path, "/v1/events/", 11) == 0)
		return "/v1/events/{id}";
	if (strncmp(path, "/v1/chains/", 11) == 0)
		return "/v1/chains/{chainId}";
	return "other";
}

void cde_observe_request(void *arg, const struct cde_http_request *req, int status, double seconds)
{
	struct cde_observe *o = arg;
	bool ingest;
	const char *route = route_of(cde_http_request_path(req), &ingest);
	const char *method = cde_http_request_method_name(req);
	char code[8];
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
	const char *m = "other";

	for (size_t i = 0; i < N(methods); i++)
		if (method && strcmp(method, methods[i]) == 0)
			m = methods[i];
	/* A status has three digits (the server answers 100 to 599). */
	if (status >= 100 && status <= 999)
		memcpy(code, (char[]){ (char)('0' + status / 100), (char)('0' + status / 10 % 10),
				       (char)('0' + status % 10), '\0' }, 4);
	else
		snprintf(code, sizeof(code), "%d", status);
	cde_metric_add(o->requests, 1, (const char *const[]){ route, m, code });
	cde_metric_observe(o->latency, seconds, (const char *const[]){ route });
	if (ingest && status >= 400 && strcmp(m, "POST") == 0)
		cde_metric_add(o->rejected, 1, (const char *const[]){ route, code });
}

void cde_observe_committed(struct cde_observe *o, const struct cde_journal_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (entries[i].duplicate) {
			cde_metric_add(o->duplicates, 1, NULL);
			continue;
		}
		cde_metric_add(o->accepted, 1, (const char *const[]){ cde_event_type(entries[i].event) });
		cde_slo_event(o->slo, cde_event_json(entries[i].event));
	}
}

static double file_size(const char *path, const char *suffix)
{
	char p[1100];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (double)st.st_size : 0;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Only sinks with upgrade_to have these. */
static void copy_upgrades(struct cde_observe *o, const cJSON *s, const char *name)
{
	const cJSON *from;

	if (!cJSON_GetObjectItemCaseSensitive(s, "upgrades"))
		return;
	cJSON_ArrayForEach(from, cJSON_GetObjectItemCaseSensitive(s, "upgrades")) {
		const char *const labels[] = { name, from->string };

		cde_metric_set(o->sink_upgrades, cJSON_IsNumber(from) ? from->valuedouble : 0, labels);
	}
	cde_metric_set(o->sink_upgrade_dropped, num(s, "upgradeDroppedFields"), (const char *const[]){ name });
}

static void copy_sinks(struct cde_observe *o, struct cde_delivery *d)
{
	char *text = cde_delivery_status_json(d);
	cJSON *doc = text ? cJSON_Parse(text) : NULL, *s;

	free(text);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "sinks")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
		const cJSON *lat = cJSON_GetObjectItemCaseSensitive(s, "latency");
		const cJSON *buckets = cJSON_GetObjectItemCaseSensitive(lat, "buckets");
		unsigned long long counts[N(sink_latency_bounds)] = { 0 };
		const char *const labels[] = { cJSON_IsString(name) ? name->valuestring : "" };
		size_t i = 0;
		const cJSON *b;

		cde_metric_set(o->sink_delivered, num(s, "delivered"), labels);
		cde_metric_set(o->sink_retries, num(s, "retries"), labels);
		cde_metric_set(o->sink_dead, num(s, "deadLetters"), labels);
		cde_metric_set(o->sink_in_flight, num(s, "inFlight"), labels);
		cde_metric_set(o->sink_lag, num(s, "lagEvents"), labels);
		cde_metric_set(o->sink_cursor_lag, num(s, "cursorLagEvents"), labels);
		cde_metric_set(o->sink_lag_seconds, num(s, "lagSeconds"), labels);
		copy_upgrades(o, s, labels[0]);
		cJSON_ArrayForEach(b, buckets) {
			if (i < N(counts))
				counts[i++] = (unsigned long long)b->valuedouble;
		}
		cde_metric_set_histogram(o->sink_latency, counts, (unsigned long long)num(lat, "count"),
					 num(lat, "sum"), labels);
	}
	cJSON_Delete(doc);
}

struct cde_metrics *cde_observe_metrics(struct cde_observe *o)
{
	return o->m;
}

char *cde_observe_render(struct cde_observe *o, const struct cde_observe_sources *src)
{
	struct cde_journal_stats st;
	char why[256];

	src->journal->ops->stats(src->journal->impl, &st, why, sizeof(why));
	cde_metric_set(o->commits, (double)st.commits, NULL);
	cde_metric_set(o->failed_commits, (double)st.failed_commits, NULL);
	cde_metric_set(o->rows, (double)st.rows, NULL);
	cde_metric_set(o->db_bytes, file_size(src->db_path, "") + file_size(src->db_path, "-wal"), NULL);
	cde_metric_set_histogram(o->batch, st.batch_buckets, st.commits, (double)st.events, NULL);
	cde_metric_set_histogram(o->commit_seconds, st.seconds_buckets, st.commits, st.seconds_sum, NULL);
	cde_metric_set(o->queue, (double)src->queue_depth, NULL);
	cde_metric_set(o->ready, src->journal->ops->ready(src->journal->impl) ? 1 : 0, NULL);
	cde_metric_set(o->retained, (double)st.retained_rows, NULL);
	if (src->delivery)
		copy_sinks(o, src->delivery);
	return cde_metrics_render(o->m);
}
