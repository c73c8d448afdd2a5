/* Benchmark: what the Merkle tree costs the durable ingest path. The
 * writer thread is the daemon's ceiling (issue 15), so the figure that
 * matters is the tree's share of the writer's time per event:
 *
 *   1. the store as the writer drives it: N build events (a little
 *      customData, printed once as the loop thread does) appended in
 *      groups of 30 with audit.sync full, events/s and CPU per event;
 *   2. the tree's part of that, measured alone on the same rows: the
 *      entry (strict parse + JCS) and its leaf hash, then the frontier
 *      appending those leaves into the tiles in groups of 30 (fsync
 *      off: the commit's fsync is paid once whichever rows it holds).
 *
 * The share is (2) / (1). Prints figures and a RESULT line for run.mjs;
 * asserts nothing.
 *
 *   bench_tlog [EVENTS]      (CDEVENTSD_CATALOG: the catalog folder) */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "events/event.h"
#include "schemas/catalog.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"

#define GROUP 30

struct rows {
	struct cde_journal_entry *e;
	char **json;
	size_t n;
};

static double seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_event(const struct cde_catalog *cat, size_t i, struct cde_event **ret)
{
	char id[48], subject[48];
	cJSON *data = cJSON_CreateObject();
	int r;

	snprintf(id, sizeof(id), "bench-%zu", i);
	snprintf(subject, sizeof(subject), "etl-build-%zu", i);
	if (!data || !cJSON_AddStringToObject(data, "commit", "4f1c2e9a0b7d") ||
	    !cJSON_AddNumberToObject(data, "attempt", (double)(i % 3))) {
		cJSON_Delete(data);
		return -ENOMEM;
	}
	r = cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/jenkins/etl", subject, ret);
	if (r == 0)
		r = cde_event_set_id(*ret, id);
	if (r == 0)
		r = cde_event_set_chain_id(*ret, "release-bench");
	if (r == 0)
		return cde_event_set_custom_data(*ret, data, NULL);
	cJSON_Delete(data);
	return r;
}

static int make_rows(const struct cde_catalog *cat, size_t n, struct rows *out)
{
	out->e = calloc(n, sizeof(*out->e));
	out->json = calloc(n, sizeof(*out->json));
	out->n = n;
	if (!out->e || !out->json)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct cde_journal_entry *e = &out->e[i];
		int r = make_event(cat, i, &e->event);

		if (r < 0)
			return r;
		out->json[i] = cde_event_to_json(e->event);
		if (!out->json[i])
			return -ENOMEM;
		e->json = out->json[i];
		e->principal = "jenkins";
		e->peer = "127.0.0.1:40412";
	}
	return 0;
}

static void free_rows(struct rows *rows)
{
	for (size_t i = 0; rows->e && i < rows->n; i++) {
		cde_event_unref(rows->e[i].event);
		free(rows->json[i]);
	}
	free(rows->e);
	free(rows->json);
}

/* (1): the store's append, as the writer calls it, one group at a time. */
static int time_store(const char *dir, struct rows *rows, double *wall, double *cpu)
{
	char path[512], err[256];
	struct cde_audit_store *s;
	int r;

	snprintf(path, sizeof(path), "%s/store.db", dir);
	r = cde_audit_store_open(path, false, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench_tlog: %s\n", err);
		return r;
	}
	double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; r == 0 && i < rows->n; i += GROUP) {
		size_t k = rows->n - i < GROUP ? rows->n - i : GROUP;

		r = cde_audit_store_append(s, rows->e + i, k, err, sizeof(err));
	}
	*wall = seconds(CLOCK_MONOTONIC) - w0;
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (r < 0)
		fprintf(stderr, "bench_tlog: %s\n", err);
	cde_audit_store_close(s);
	return r;
}

/* (2a): each stored row's entry and leaf hash, on the rows as stored. */
static int time_leaves(struct rows *rows, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], double *cpu)
{
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

	for (size_t i = 0; i < rows->n; i++) {
		const struct cde_journal_entry *e = &rows->e[i];
		struct cde_audit_row row = {
			.seq = e->seq, .received_at = e->received_at, .principal = e->principal,
			.peer = e->peer, .event = e->json,
		};
		int r = cde_audit_tree_leaf(&row, leaves[i]);

		if (r < 0)
			return r;
	}
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	return 0;
}

/* (2b): the frontier storing those leaves, in groups as the writer does,
 * on a log of its own (its schema made by opening a store). */
static int time_frontier(const char *dir, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], size_t n, double *cpu)
{
	struct cde_audit_tree_writer w;
	struct cde_audit_store *s;
	char path[512], err[256];
	sqlite3 *db;
	int r;

	snprintf(path, sizeof(path), "%s/tree.db", dir);
	r = cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err));
	if (r < 0)
		return r;
	db = cde_audit_store_db(s);
	sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	r = cde_audit_tree_writer_init(&w, db, err, sizeof(err));
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; r == 0 && i < n; i += GROUP) {
		r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
		for (size_t k = i; r == 0 && k < n && k < i + GROUP; k++)
			r = cde_audit_tree_writer_append(&w, leaves[k]);
		if (r == 0)
			r = cde_audit_tree_writer_flush(&w);
		if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			r = -EIO;
		if (r == 0)
			cde_audit_tree_writer_committed(&w);
	}
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	cde_audit_tree_writer_release(&w);
	cde_audit_store_close(s);
	return r;
}

static int run(const struct cde_catalog *cat, const char *dir, size_t n)
{
	struct rows rows = { 0 };
	uint8_t (*leaves)[CDE_TLOG_HASH_LEN] = calloc(n, CDE_TLOG_HASH_LEN);
	double wall, cpu, leaf_cpu = 0, frontier_cpu = 0;
	int r = leaves ? make_rows(cat, n, &rows) : -ENOMEM;

	if (r == 0)
		r = time_store(dir, &rows, &wall, &cpu);
	if (r == 0)
		r = time_leaves(&rows, leaves, &leaf_cpu);
	if (r == 0)
		r = time_frontier(dir, leaves, n, &frontier_cpu);
	if (r == 0) {
		double per = cpu / (double)n * 1e6, tree = (leaf_cpu + frontier_cpu) / (double)n * 1e6;

		printf("store (sync full, groups of %d): %.0f events/s, %.1f us CPU per event\n", GROUP,
		       (double)n / wall, per);
		printf("tree inside it: entry+leaf %.1f us, stored hashes %.1f us per event: %.1f%% of the "
		       "store's CPU per event\n", leaf_cpu / (double)n * 1e6, frontier_cpu / (double)n * 1e6,
		       100.0 * tree / per);
		printf("RESULT {\"tlogIngest\":{\"events\":%zu,\"storeEventsPerSecond\":%.0f,\"storeCpuUs\":%.2f,"
		       "\"treeLeafUs\":%.2f,\"treeHashesUs\":%.2f,\"treeSharePercent\":%.1f}}\n", n,
		       (double)n / wall, per, leaf_cpu / (double)n * 1e6, frontier_cpu / (double)n * 1e6,
		       100.0 * tree / per);
	}
	free_rows(&rows);
	free(leaves);
	return r;
}

int main(int argc, char **argv)
{
	const char *catalog = getenv("CDEVENTSD_CATALOG");
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 30000;
	char dir[] = "/tmp/cde-bench-tlog-XXXXXX", cmd[64];
	struct cde_catalog *cat = NULL;
	struct cde_errors errs;
	int r;

	if (!catalog || n == 0 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: CDEVENTSD_CATALOG=DIR bench_tlog [EVENTS]\n");
		return 2;
	}
	cde_errors_reset(&errs);
	r = cde_catalog_load_dir(catalog, &cat, &errs);
	if (r < 0) {
		fprintf(stderr, "bench_tlog: %s: %s\n", catalog, strerror(-r));
		return 1;
	}
	r = run(cat, dir, n);
	cde_catalog_free(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_tlog: could not remove %s\n", dir);
	if (r < 0)
		fprintf(stderr, "bench_tlog: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
