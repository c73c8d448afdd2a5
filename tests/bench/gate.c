/* Benchmark: what a promotion gate's evaluation costs as the artifact's
 * chain grows (issue 18: it was quadratic in the test cases, so whoever
 * could post into a chain could make every gate query and every enforced
 * deployment wait on the shared reader thread). The log is a table in
 * memory served as the stores serve it (the artifact's own events, then
 * its chain): a build.finished naming the artifact and N
 * testcaserun.finished of N distinct cases in its chain, the last one
 * failed. Times cde_gate_evaluate (best of a few runs) next to what
 * reading the same rows alone costs (parsing each event once, as the
 * gate must), so the share left to the gate's own work shows. Prints
 * figures and a RESULT line for run.mjs; asserts nothing but the answer.
 *
 *   bench_gate [CASES...]      (default 2000 20000 60000) */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sinks/audit/answers/answer_event.h"
#include "sinks/audit/answers/gate.h"

#define ART "pkg:oci/etl@sha256%3Aabc"
#define RUNS 3

struct table {
	char **events;
	size_t n;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *event_text(size_t i, size_t n)
{
	char buf[640];

	if (i == 0)
		snprintf(buf, sizeof(buf),
			 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e0\",\"source\":\"/ci\","
			 "\"type\":\"dev.cdevents.build.finished.0.3.0\",\"timestamp\":\"2026-03-01T08:00:00Z\","
			 "\"chainId\":\"r-1\"},\"subject\":{\"id\":\"etl-build\",\"content\":{\"artifactId\":\"%s\"}}}",
			 ART);
	else
		snprintf(buf, sizeof(buf),
			 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e%zu\",\"source\":\"/ci\","
			 "\"type\":\"dev.cdevents.testcaserun.finished.0.3.0\",\"timestamp\":\"2026-03-01T08:01:00Z\","
			 "\"chainId\":\"r-1\"},\"subject\":{\"id\":\"run-%zu\",\"content\":{\"environment\":{\"id\":\"ci\"},"
			 "\"testCase\":{\"id\":\"tests/module_%zu/test_case_%zu\",\"type\":\"unit\"},\"outcome\":\"%s\"}}}",
			 i, i, i % 97, i, i == n - 1 ? "failure" : "success");
	return strdup(buf);
}

/* As the stores answer the gate's reads: the artifact's own event (the
 * build), the whole chain, and nothing for a soak (no deployment). */
static int table_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	const struct table *t = ctx;
	size_t n = f->artifact_id ? 1 : f->chain_id ? t->n : 0;

	for (size_t i = 0; i < n; i++) {
		struct cde_audit_record rec = { .seq = i + 1, .received_at = "2026-03-01T08:02:00Z", .principal = "ci",
						.event = t->events[i] };
		int r = fn(fn_ctx, &rec);

		if (r)
			return r;
	}
	return 0;
}

static int read_only(const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct cde_audit_record rec = { .seq = i + 1, .received_at = "2026-03-01T08:02:00Z", .principal = "ci",
						.event = t->events[i] };
		struct cde_answer_event e;
		int r = cde_answer_event_read(&rec, &e);

		if (r < 0)
			return r;
		cde_answer_event_release(&e);
	}
	return 0;
}

static const struct cde_gate *unit_gate(struct cde_gate_set *set)
{
	cJSON *doc = cJSON_Parse("{\"prod\":{\"require\":[{\"build\":true},"
				 "{\"test_case\":{\"type\":\"unit\",\"outcome\":\"success\"}}]}}");
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	r = doc ? cde_gate_set_parse(doc, NULL, set, &errs) : -ENOMEM;
	cJSON_Delete(doc);
	return r == 0 ? cde_gate_set_find(set, "prod") : NULL;
}

/* The best of RUNS evaluations, in seconds; <0 on error or a wrong answer. */
static double time_gate(const struct cde_gate *g, struct table *t)
{
	struct cde_audit_source src = { .query = table_query, .ctx = t };
	double best = -1;

	for (int k = 0; k < RUNS; k++) {
		cJSON *out = NULL;
		double t0 = now_s(), dt;
		int r = cde_gate_evaluate(g, ART, 1772400000, &src, &out);
		const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "decision"));

		dt = now_s() - t0;
		if (r < 0 || !d || strcmp(d, "deny") != 0) {
			fprintf(stderr, "bench_gate: the gate answered %s (%d), not deny\n", d ? d : "nothing", r);
			cJSON_Delete(out);
			return -1;
		}
		cJSON_Delete(out);
		if (best < 0 || dt < best)
			best = dt;
	}
	return best;
}

static int bench(const struct cde_gate *g, size_t cases, char *result, size_t size)
{
	struct table t = { .n = cases + 1 };
	double gate_s, read_s, t0;
	int r = 0;

	t.events = calloc(t.n, sizeof(*t.events));
	for (size_t i = 0; t.events && i < t.n && r == 0; i++)
		r = (t.events[i] = event_text(i, t.n)) ? 0 : -ENOMEM;
	if (!t.events)
		r = -ENOMEM;
	gate_s = r == 0 ? time_gate(g, &t) : -1;
	t0 = now_s();
	if (r == 0 && read_only(&t) < 0)
		r = -EIO;
	read_s = now_s() - t0;
	if (r == 0 && gate_s >= 0) {
		printf("  %6zu test cases: gate %8.1f ms, reading the rows alone %7.1f ms (%.2f us a row in all)\n",
		       cases, gate_s * 1e3, read_s * 1e3, gate_s * 1e6 / (double)t.n);
		snprintf(result, size, "\"%zu\":{\"gateMs\":%.1f,\"readMs\":%.1f}", cases, gate_s * 1e3, read_s * 1e3);
	}
	for (size_t i = 0; t.events && i < t.n; i++)
		free(t.events[i]);
	free(t.events);
	return r < 0 ? r : gate_s < 0 ? -EIO : 0;
}

int main(int argc, char **argv)
{
	static const size_t defaults[] = { 2000, 20000, 60000 };
	struct cde_gate_set set;
	const struct cde_gate *g = unit_gate(&set);
	char all[1024] = "", one[128];
	size_t n = argc > 1 ? (size_t)argc - 1 : sizeof(defaults) / sizeof(defaults[0]);

	if (!g) {
		fprintf(stderr, "bench_gate: the gate does not parse\n");
		return 1;
	}
	printf("gate evaluation, one chain of N test cases (best of %d):\n", RUNS);
	for (size_t i = 0; i < n; i++) {
		size_t cases = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : defaults[i];

		if (cases < 1 || bench(g, cases, one, sizeof(one)) < 0)
			return 1;
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? "," : "", one);
	}
	printf("RESULT {\"gate\":{%s}}\n", all);
	return 0;
}
