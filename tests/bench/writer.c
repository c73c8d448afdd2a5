/* Benchmark: the audit writer's CPU per event as the daemon drives it
 * (issue 15), next to how bench_tlog drives it. Under `wrk -c32` on the
 * 200-byte hook the daemon's writer commits about 12 events a group, each
 * hook its own batch (a request), all about one subject, so each joins
 * the chain of the one before; bench_tlog appends groups of 30 in one
 * batch, each event a subject of its own. This program appends hooks
 * (the writer correlates and prints them, their leaves hashed ahead as
 * the loop thread does) shaped either way, sync full, and prints the
 * writer thread's CPU per event and that of the WAL's checkpoint thread
 * (audit_wal.h), so the difference between the two figures can be taken
 * apart one factor at a time:
 *
 *   bench_writer [EVENTS [GROUP [BATCH [SUBJECTS]]]]
 *
 * GROUP events a commit (12), BATCH events a request (1), SUBJECTS
 * "one" (every event about the same subject) or "each" (one apiece).
 * Prints figures and a RESULT line; asserts nothing. (CDEVENTSD_CATALOG:
 * the catalog folder.) */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "events/event.h"
#include "events/ids.h"
#include "schemas/catalog.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_store.h"

static double seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The build hook of tests/bench/ingest.mjs, as the daemon makes it an
 * event, queued as the audit journal queues it (its leaf's template). */
static int make_hook(const struct cde_catalog *cat, size_t i, bool one_subject, struct cde_journal_entry *e)
{
	char subject[48];
	cJSON *data = cJSON_Parse("{\"job\":\"nightly-etl\",\"team\":\"data-platform\",\"branch\":\"main\","
				  "\"commit\":\"4f2a9c1e7b\"}");
	struct cde_audit_row row;
	int r;

	if (!data)
		return -ENOMEM;
	snprintf(subject, sizeof(subject), "etl-build-%06zu", one_subject ? (size_t)42 : i);
	r = cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/hooks/build", subject,
			  &e->event);
	if (r < 0) {
		cJSON_Delete(data);
		return r;
	}
	r = cde_event_set_custom_data(e->event, data, NULL);
	if (r < 0) {
		cJSON_Delete(data);
		return r;
	}
	e->principal = "anonymous";
	e->peer = "127.0.0.1:40412";
	e->correlate = true;
	cde_timestamp_now(e->received_at);
	row = (struct cde_audit_row){ .received_at = e->received_at, .principal = e->principal, .peer = e->peer };
	return cde_audit_leaf_ahead_new_template(&row, cde_event_json(e->event), &e->leaf_ahead);
}

/* Appends @n hooks in groups of @group, @batch to a request; the writer
 * thread's CPU (this one) into *@cpu, the whole process's into *@all. */
static int append(struct cde_audit_store *s, struct cde_journal_entry *e, size_t n, size_t group, size_t batch,
		  double *cpu, double *all, double *wall)
{
	double c0 = seconds(CLOCK_THREAD_CPUTIME_ID), p0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	double w0 = seconds(CLOCK_MONOTONIC);
	char err[256];
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i += group) {
		size_t k = n - i < group ? n - i : group;

		r = cde_audit_store_begin(s, err, sizeof(err));
		for (size_t j = 0; r == 0 && j < k; j += batch)
			r = cde_audit_store_add(s, e + i + j, k - j < batch ? k - j : batch, err, sizeof(err));
		if (r == 0)
			r = cde_audit_store_commit(s, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "bench_writer: %s\n", err);
	}
	*cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
	*all = seconds(CLOCK_PROCESS_CPUTIME_ID) - p0;
	*wall = seconds(CLOCK_MONOTONIC) - w0;
	return r;
}

static int run(const struct cde_catalog *cat, const char *path, size_t n, size_t group, size_t batch, bool one)
{
	struct cde_journal_entry *e = calloc(n, sizeof(*e));
	struct cde_audit_store *s = NULL;
	double cpu = 0, all = 0, wall = 0;
	char err[256];
	int r = e ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = make_hook(cat, i, one, &e[i]);
	if (r == 0 && (r = cde_audit_store_open(path, false, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err))) < 0)
		fprintf(stderr, "bench_writer: %s\n", err);
	/* As the daemon runs it: the WAL copied back by its own thread. */
	if (r == 0 && (r = cde_audit_store_checkpoint_aside(s, err, sizeof(err))) < 0)
		fprintf(stderr, "bench_writer: %s\n", err);
	if (r == 0)
		r = append(s, e, n, group, batch, &cpu, &all, &wall);
	cde_audit_store_close(s);
	if (r == 0) {
		double us = 1e6 / (double)n;

		printf("%zu hooks, groups of %zu, %zu a request, %s subject: writer %.1f us of CPU per event, "
		       "the WAL's checkpoint thread %.1f us, %.0f events/s\n",
		       n, group, batch, one ? "one" : "each its own", cpu * us, (all - cpu) * us, (double)n / wall);
		printf("RESULT {\"writer_%zu_%zu_%s\":{\"events\":%zu,\"writerCpuUs\":%.2f,\"checkpointCpuUs\":%.2f,"
		       "\"eventsPerSecond\":%.0f}}\n",
		       group, batch, one ? "one" : "each", n, cpu * us, (all - cpu) * us, (double)n / wall);
	}
	for (size_t i = 0; e && i < n; i++) {
		cde_audit_leaf_ahead_free(e[i].leaf_ahead);
		cde_event_unref(e[i].event);
	}
	free(e);
	return r;
}

int main(int argc, char **argv)
{
	const char *catalog = getenv("CDEVENTSD_CATALOG");
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	size_t group = argc > 2 ? strtoul(argv[2], NULL, 10) : 12;
	size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	bool one = argc <= 4 || strcmp(argv[4], "each") != 0;
	char dir[] = "/tmp/cde-bench-writer-XXXXXX", path[64], cmd[64];
	struct cde_catalog *cat = NULL;
	struct cde_errors errs;
	int r;

	if (!catalog || n == 0 || group == 0 || batch == 0 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: CDEVENTSD_CATALOG=DIR bench_writer [EVENTS [GROUP [BATCH [one|each]]]]\n");
		return 2;
	}
	cde_errors_reset(&errs);
	r = cde_catalog_load_dir(catalog, &cat, &errs);
	if (r < 0) {
		fprintf(stderr, "bench_writer: %s: %s\n", catalog, strerror(-r));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/audit.db", dir);
	r = run(cat, path, n, group, batch, one);
	cde_catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_writer: could not remove %s\n", dir);
	if (r < 0)
		fprintf(stderr, "bench_writer: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
