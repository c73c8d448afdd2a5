/* Benchmark: what the Merkle tree costs the durable ingest path. The
 * writer thread is the daemon's ceiling (issue 15), so the figure that
 * matters is the tree's share of the writer's time per event:
 *
 *   1. the loop thread's part: each event's entry (strict parse + JCS)
 *      hashed ahead of its seq when it is queued (audit_leaf.h);
 *   2. the store as the writer drives it: N build events (a little
 *      customData, printed once as the loop thread does) appended in
 *      groups of 30 with audit.sync full, events/s and CPU per event;
 *   3. the tree's part of (2), measured alone on the same rows: finishing
 *      each leaf with its seq, then the frontier appending those leaves
 *      into the tiles in groups of 30 (fsync off: the commit's fsync is
 *      paid once whichever rows it holds; and less what each group's
 *      commit of the store's new head costs, which the store pays
 *      anyway), then what the
 *      leaf's hash adds to its row's INSERT (the leaves are kept in the
 *      rows, the tiles start at level 4).
 *
 * The writer's share is (3) / (2). Then the same for hooks: events without
 * a chainId, which the writer correlates and so prints itself: each is
 * hashed ahead as a template on the loop thread (audit_leaf.h), which the
 * writer fills with the chainId; timed next to the leaf made from the
 * event in memory (audit_tree.h) and from text (print, parse, JCS), the
 * ways it was made before. Prints figures and a RESULT line for run.mjs;
 * asserts nothing.
 *
 *   bench_tlog [EVENTS]      (CDEVENTSD_CATALOG: the catalog folder) */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "events/event.h"
#include "schemas/catalog.h"
#include "sinks/audit/audit_leaf.h"
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

static int make_event(const struct cde_catalog *cat, size_t i, bool hook, struct cde_event **ret)
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
	if (r == 0 && !hook)
		r = cde_event_set_chain_id(*ret, "release-bench");
	if (r == 0)
		return cde_event_set_custom_data(*ret, data, NULL);
	cJSON_Delete(data);
	return r;
}

/* @hook: as a hook posts them (the writer gives the chainId and prints);
 * else printed once on the loop thread. */
static int make_rows(const struct cde_catalog *cat, size_t n, bool hook, struct rows *out)
{
	out->e = calloc(n, sizeof(*out->e));
	out->json = calloc(n, sizeof(*out->json));
	out->n = n;
	if (!out->e || !out->json)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct cde_journal_entry *e = &out->e[i];
		int r = make_event(cat, i, hook, &e->event);

		if (r < 0)
			return r;
		e->principal = "jenkins";
		e->peer = "127.0.0.1:40412";
		e->correlate = hook;
		if (hook)
			continue;
		out->json[i] = cde_event_to_json(e->event);
		if (!out->json[i])
			return -ENOMEM;
		e->json = out->json[i];
	}
	return 0;
}

static void free_rows(struct rows *rows)
{
	for (size_t i = 0; rows->e && i < rows->n; i++) {
		cde_audit_leaf_ahead_free(rows->e[i].leaf_ahead);
		cde_event_unref(rows->e[i].event);
		free(rows->json[i]);
	}
	free(rows->e);
	free(rows->json);
}

/* (2): the store's append, as the writer calls it, one group at a time. */
static int time_store(const char *dir, const char *name, struct rows *rows, double *wall, double *cpu)
{
	char path[512], err[256];
	struct cde_audit_store *s;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
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

/* The hooks' templates, as the audit journal makes them when it queues. */
static int time_templates(struct rows *rows, double *cpu)
{
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

	for (size_t i = 0; i < rows->n; i++) {
		struct cde_journal_entry *e = &rows->e[i];
		struct cde_audit_row row = { .received_at = e->received_at, .principal = e->principal, .peer = e->peer };
		int r;

		snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:00.%06zuZ", i % 1000000);
		r = cde_audit_leaf_ahead_new_template(&row, cde_event_json(e->event), &e->leaf_ahead);
		if (r < 0)
			return r;
	}
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	return 0;
}

/* The hooks' leaves on the writer: [0] their templates filled, and (for
 * comparison) [1] from the event in memory, [2] from its printed text. */
static int time_doc_leaves(struct rows *rows, double cpu[3])
{
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	uint8_t leaf[CDE_TLOG_HASH_LEN];
	int r = scratch ? 0 : -ENOMEM;

	for (int pass = 0; pass < 3 && r == 0; pass++) {
		double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

		for (size_t i = 0; r == 0 && i < rows->n; i++) {
			struct cde_journal_entry *e = &rows->e[i];
			struct cde_audit_row row = {
				.seq = e->seq, .received_at = e->received_at, .principal = e->principal, .peer = e->peer,
			};
			char *text = NULL;

			if (pass == 0) {
				r = cde_audit_leaf_ahead_finish_doc(e->leaf_ahead, cde_event_json(e->event), e->seq, scratch,
								    leaf);
			} else if (pass == 1) {
				r = cde_audit_tree_leaf_of_doc(&row, cde_event_json(e->event), leaf);
			} else {
				row.event = text = cde_event_to_json(e->event);
				r = text ? cde_audit_tree_leaf(&row, leaf) : -ENOMEM;
				free(text);
			}
		}
		cpu[pass] = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	}
	EVP_MD_CTX_free(scratch);
	return r;
}

/* (1): what the audit journal does on the loop thread as it queues. */
static int time_ahead(struct rows *rows, double *cpu)
{
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

	for (size_t i = 0; i < rows->n; i++) {
		struct cde_journal_entry *e = &rows->e[i];
		struct cde_audit_row row = {
			.received_at = e->received_at, .principal = e->principal, .peer = e->peer, .event = e->json,
		};
		int r;

		snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:00.%06zuZ", i % 1000000);
		r = cde_audit_leaf_ahead_new(&row, &e->leaf_ahead);
		if (r < 0)
			return r;
	}
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	return 0;
}

/* (3a): each stored row's leaf finished with its seq, as the writer does. */
static int time_finish(struct rows *rows, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], double *cpu)
{
	EVP_MD_CTX *scratch = EVP_MD_CTX_new();
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	int r = scratch ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < rows->n; i++)
		r = cde_audit_leaf_ahead_finish(rows->e[i].leaf_ahead, rows->e[i].seq, scratch, leaves[i]);
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	EVP_MD_CTX_free(scratch);
	return r;
}

/* The store's own meta write of a group (its new head), which the tree's
 * groups below make too, so that the tree is charged only what it adds
 * to a commit the store makes anyway: a page the store dirties already. */
static int store_head(sqlite3_stmt *head, size_t group)
{
	char seq[24];
	int rc;

	snprintf(seq, sizeof(seq), "%zu", group);
	sqlite3_bind_text(head, 1, seq, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(head);
	sqlite3_reset(head);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* (3b): the frontier storing those leaves, in groups as the writer does,
 * on a log of its own (its schema made by opening a store), less the
 * same groups committing the store's head alone. */
static int time_frontier(const char *dir, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], size_t n, double *cpu)
{
	struct cde_audit_tree_writer w;
	struct cde_audit_store *s;
	sqlite3_stmt *head = NULL;
	char path[512], err[256];
	sqlite3 *db;
	int r;

	snprintf(path, sizeof(path), "%s/tree.db", dir);
	r = cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err));
	if (r < 0)
		return r;
	db = cde_audit_store_db(s);
	sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'head_seq'", -1, &head, NULL) != SQLITE_OK)
		r = -EIO;
	if (r == 0)
		r = cde_audit_tree_writer_init(&w, db, err, sizeof(err));
	double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; r == 0 && i < n; i += GROUP) {
		r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
		for (size_t k = i; r == 0 && k < n && k < i + GROUP; k++)
			r = cde_audit_tree_writer_append(&w, leaves[k]);
		if (r == 0)
			r = store_head(head, i);
		if (r == 0)
			r = cde_audit_tree_writer_flush(&w);
		if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			r = -EIO;
		if (r == 0)
			cde_audit_tree_writer_committed(&w);
	}
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; r == 0 && i < n; i += GROUP) {
		r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
		if (r == 0)
			r = store_head(head, i);
		if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			r = -EIO;
	}
	*cpu -= seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (*cpu < 0)
		*cpu = 0;
	sqlite3_finalize(head);
	cde_audit_tree_writer_release(&w);
	cde_audit_store_close(s);
	return r;
}

/* One pass of (3c): @rows' texts into a table of their own in groups,
 * each row with its leaf hash or without. */
static int leaf_column_pass(sqlite3 *db, struct rows *rows, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], bool with,
			    double *cpu)
{
	sqlite3_stmt *st = NULL;
	double c0;
	int r = sqlite3_exec(db, "DROP TABLE IF EXISTS t; CREATE TABLE t(seq INTEGER PRIMARY KEY,"
			     " event TEXT NOT NULL, leaf INTEGER, leaf_hash BLOB)", NULL, NULL, NULL) == SQLITE_OK &&
		sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK ? 0 : -EIO;

	c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t i = 0; r == 0 && i < rows->n; i++) {
		if (i % GROUP == 0 && sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			r = -EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(st, 2, rows->json[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		if (with)
			sqlite3_bind_blob(st, 4, leaves[i], CDE_TLOG_HASH_LEN, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		if (r == 0 && sqlite3_step(st) != SQLITE_DONE)
			r = -EIO;
		sqlite3_reset(st);
	}
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	*cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	sqlite3_finalize(st);
	return r;
}

/* (3c): what keeping each leaf's hash in its row adds to the row's
 * INSERT (the store keeps level 0 there, not in tiles): the same rows
 * stored with and without it, each way twice, the faster of each. */
static int time_leaf_column(const char *dir, struct rows *rows, uint8_t (*leaves)[CDE_TLOG_HASH_LEN], double *cpu)
{
	double best[2] = { 1e9, 1e9 }, t = 0;
	char path[512];
	sqlite3 *db = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/column.db", dir);
	r = sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL, NULL, NULL) == SQLITE_OK ? 0
														  : -EIO;
	for (int pass = 0; r == 0 && pass < 4; pass++) {
		r = leaf_column_pass(db, rows, leaves, pass % 2, &t);
		if (t < best[pass % 2])
			best[pass % 2] = t;
	}
	sqlite3_close(db);
	*cpu = best[1] > best[0] ? best[1] - best[0] : 0;
	return r;
}

static void report(size_t n, double wall, double cpu, double ahead, double finish, double frontier, double column)
{
	double per = cpu / (double)n * 1e6, tree = (finish + frontier + column) / (double)n * 1e6;

	printf("loop thread: entry hashed ahead of its seq, %.1f us per event\n", ahead / (double)n * 1e6);
	printf("store (sync full, groups of %d): %.0f events/s, %.1f us writer CPU per event\n", GROUP,
	       (double)n / wall, per);
	printf("tree inside it: leaf finished %.2f us, stored hashes %.2f us, the leaf hash in its row %.2f us per "
	       "event: %.1f%% of the writer's CPU per event\n", finish / (double)n * 1e6, frontier / (double)n * 1e6,
	       column / (double)n * 1e6, 100.0 * tree / per);
	printf("RESULT {\"tlogIngest\":{\"events\":%zu,\"storeEventsPerSecond\":%.0f,\"storeCpuUs\":%.2f,"
	       "\"aheadUs\":%.2f,\"finishUs\":%.2f,\"treeHashesUs\":%.2f,\"leafColumnUs\":%.2f,"
	       "\"writerTreeSharePercent\":%.1f}}\n",
	       n, (double)n / wall, per, ahead / (double)n * 1e6, finish / (double)n * 1e6,
	       frontier / (double)n * 1e6, column / (double)n * 1e6, 100.0 * tree / per);
}

/* Hooks: the store's CPU per event, and their leaves made two ways. */
/* Hooks; @stored_us: the tree's stored hashes per event, measured above
 * (the same whichever way the leaf was made). */
static int run_hooks(const struct cde_catalog *cat, const char *dir, size_t n, double stored_us)
{
	struct rows rows = { 0 };
	double wall = 0, cpu = 0, ahead = 0, leaf[3] = { 0, 0, 0 }, us = 1e6 / (double)n;
	int r = make_rows(cat, n, true, &rows);

	if (r == 0)
		r = time_templates(&rows, &ahead);
	if (r == 0)
		r = time_store(dir, "hooks.db", &rows, &wall, &cpu);
	if (r == 0)
		r = time_doc_leaves(&rows, leaf);
	if (r == 0) {
		double tree = 100.0 * (leaf[0] * us + stored_us) / (cpu * us);

		printf("hooks (the writer correlates and prints): %.0f events/s, %.1f us writer CPU per event; "
		       "leaf from its template %.2f us (%.1f%% of it; from the event in memory it would be %.2f us, "
		       "from its text %.2f us); the template %.1f us on the loop thread; with the stored hashes "
		       "(%.2f us, as above) the tree is %.1f%% of the writer's CPU per event\n",
		       (double)n / wall, cpu * us, leaf[0] * us, 100.0 * leaf[0] / cpu, leaf[1] * us, leaf[2] * us,
		       ahead * us, stored_us, tree);
		printf("RESULT {\"tlogHooks\":{\"storeEventsPerSecond\":%.0f,\"storeCpuUs\":%.2f,\"leafFromTemplateUs\":%.2f,"
		       "\"leafFromDocUs\":%.2f,\"leafFromTextUs\":%.2f,\"leafSharePercent\":%.1f,\"templateAheadUs\":%.2f,"
		       "\"writerTreeSharePercent\":%.1f}}\n",
		       (double)n / wall, cpu * us, leaf[0] * us, leaf[1] * us, leaf[2] * us, 100.0 * leaf[0] / cpu,
		       ahead * us, tree);
	}
	free_rows(&rows);
	return r;
}

static int run(const struct cde_catalog *cat, const char *dir, size_t n)
{
	struct rows rows = { 0 };
	uint8_t (*leaves)[CDE_TLOG_HASH_LEN] = calloc(n, CDE_TLOG_HASH_LEN);
	double wall = 0, cpu = 0, ahead = 0, finish = 0, frontier = 0, column = 0;
	int r = leaves ? make_rows(cat, n, false, &rows) : -ENOMEM;

	if (r == 0)
		r = time_ahead(&rows, &ahead);
	if (r == 0)
		r = time_store(dir, "store.db", &rows, &wall, &cpu);
	if (r == 0)
		r = time_finish(&rows, leaves, &finish);
	if (r == 0)
		r = time_frontier(dir, leaves, n, &frontier);
	if (r == 0)
		r = time_leaf_column(dir, &rows, leaves, &column);
	if (r == 0)
		report(n, wall, cpu, ahead, finish, frontier, column);
	free_rows(&rows);
	free(leaves);
	return r == 0 ? run_hooks(cat, dir, n, (frontier + column) / (double)n * 1e6) : r;
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
