/* The audit reader thread. WAL lets its read-only connection see every
 * committed row while the writer keeps committing, so a long query never
 * delays ingest and ingest never delays a query. Jobs carry copies of
 * their strings: the loop may free the request meanwhile. The same
 * thread serves the transparency log's checkpoint and proofs
 * (audit_reader_log.c) and the analyses over the log (gates, DORA, what
 * runs where) that daemon/ submits as tasks.
 *
 * On PostgreSQL the thread holds its own read-only session. When the
 * session is lost (the server restarted, a failover), a query connects
 * again once and runs again; when that fails too the answer is 503, and
 * the next query tries again. The transparency log's reads go through
 * the store's proof source (audit_proof_source.h), so they answer alike
 * from either store. */

#include "sinks/audit/audit_reader.h"
#include "sinks/audit/audit_reader_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_proof_sqlite.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_proof.h"
#include "sinks/audit/pg/pg_query.h"
#include "sinks/audit/worker.h"

#define FIELDS 9

struct job {
	struct cde_worker_item item;
	struct cde_audit_request req;
	char *strings[FIELDS];
	cde_audit_reader_done_fn done;
	void *ctx;
	int status;
	char *body;
	/* a transparency log read instead, when log_done is set */
	struct cde_audit_log_request log;
	cde_audit_log_done_fn log_done;
	struct cde_audit_log_answer answer;
	/* an analysis instead, when task_run is set */
	cde_audit_task_run_fn task_run;
	cde_audit_task_done_fn task_done;
	struct cde_audit_task_answer task;
};

struct cde_audit_reader {
	struct cde_worker *worker;
	/* used by the worker's thread only: one of */
	struct cde_audit_store *store;	/* audit.db */
	struct cde_audit_proof_sqlite sqlite_proof;
	PGconn *pg;			/* PostgreSQL; NULL after a failed reconnect */
	struct cde_pg_proof pg_proof;	/* prepared on @pg when pg_proof_ready */
	bool pg_proof_ready;
	bool postgres;
	char *url, *password_file;	/* to connect again */
	unsigned queued;		/* jobs submitted and not completed (the loop's) */
};

#define PG_ROLE "cdeventsd reader"

/* A growing JSON text of the records of one answer. */
struct page {
	char *buf;
	size_t len, cap;
	size_t count;
	uint64_t last_seq;
	int error;
};

static int page_add(struct page *p, const char *s, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		char *b;

		while (cap < p->len + n + 1)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (!b)
			return -ENOMEM;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return 0;
}

static int add_record(void *ctx, const struct cde_audit_record *rec)
{
	struct page *p = ctx;
	char *line = cde_audit_record_to_json(rec);
	int r;

	if (!line)
		return -ENOMEM;
	r = page_add(p, p->count ? "," : "", p->count ? 1 : 0);
	if (r == 0)
		r = page_add(p, line, strlen(line));
	free(line);
	p->count++;
	p->last_seq = rec->seq;
	return r;
}

/* Connects the reader to PostgreSQL, as a read-only session. */
static int pg_connect(struct cde_audit_reader *rd, char *err, size_t err_size)
{
	struct cde_pg_options o = { .url = rd->url, .password_file = rd->password_file };
	int r;

	cde_pg_proof_release(&rd->pg_proof);
	rd->pg_proof_ready = false;
	PQfinish(rd->pg);
	rd->pg = NULL;
	r = cde_pg_connect(&o, PG_ROLE, &rd->pg, err, err_size);
	if (r == 0 && cde_pg_exec(rd->pg, "SET default_transaction_read_only = on", err, err_size,
				  "opening a read-only session") < 0) {
		PQfinish(rd->pg);
		rd->pg = NULL;
		r = -EIO;
	}
	return r;
}

/* The records of @j into @p, from either store. */
static int query(struct cde_audit_reader *rd, const struct job *j, const struct cde_audit_filter *f,
		 struct page *p)
{
	if (!rd->postgres)
		return j->req.id ? cde_audit_query_id(rd->store, j->req.id, CDE_AUDIT_PAGE_MAX, add_record, p)
				 : cde_audit_query(rd->store, f, add_record, p);
	return j->req.id ? cde_pg_audit_query_id(rd->pg, j->req.id, CDE_AUDIT_PAGE_MAX, add_record, p)
			 : cde_pg_audit_query(rd->pg, f, add_record, p);
}

/* A session that is gone is opened again, once: the query runs again
 * on an empty page. */
static int query_again(struct cde_audit_reader *rd, const struct job *j, const struct cde_audit_filter *f,
		       struct page *p, size_t head)
{
	char err[256];

	if (pg_connect(rd, err, sizeof(err)) < 0)
		return -ENOTCONN;
	p->len = head;
	p->buf[head] = '\0';
	p->count = 0;
	p->last_seq = 0;
	return query(rd, j, f, p);
}

/* A page of records, as GET /v1/events answers it. */
static void run_query(struct cde_audit_reader *rd, struct job *j)
{
	static const char head[] = "{\"events\":[";
	struct page p = { 0 };
	struct cde_audit_filter f = j->req.filter;
	char tail[64];
	int r;

	if (f.limit == 0)
		f.limit = CDE_AUDIT_PAGE_DEFAULT;
	if (f.limit > CDE_AUDIT_PAGE_MAX)
		f.limit = CDE_AUDIT_PAGE_MAX;
	r = page_add(&p, head, sizeof(head) - 1);
	if (r == 0)
		r = query(rd, j, &f, &p);
	if (r == -ENOTCONN)
		r = query_again(rd, j, &f, &p, sizeof(head) - 1);
	/* A full page may have more after it: say where to continue. */
	if (!j->req.id && p.count == f.limit)
		snprintf(tail, sizeof(tail), "],\"nextAfter\":%llu}", (unsigned long long)p.last_seq);
	else
		snprintf(tail, sizeof(tail), "],\"nextAfter\":null}");
	if (r == 0)
		r = page_add(&p, tail, strlen(tail));
	if (r < 0) {
		free(p.buf);
		j->status = r == -ENOTCONN ? 503 : 500;
		j->body = NULL;
		return;
	}
	j->status = p.count == 0 && (j->req.id || j->req.filter.chain_id) ? 404 : 200;
	j->body = p.buf;
}


/* The proof source of the reader's PostgreSQL session, connecting (when
 * a reconnect failed before) and preparing it first when needed. */
static int pg_source(struct cde_audit_reader *rd, const struct cde_audit_proof_source **ret)
{
	char err[256];
	int r = rd->pg ? 0 : pg_connect(rd, err, sizeof(err));

	if (r == 0 && !rd->pg_proof_ready && (r = cde_pg_proof_init(&rd->pg_proof, rd->pg, err, sizeof(err))) == 0)
		rd->pg_proof_ready = true;
	*ret = &rd->pg_proof.src;
	return r;
}

/* A log read on PostgreSQL: on a session found lost, connects again once
 * and reads again; 503 when that fails too. */
static void run_log_pg(struct cde_audit_reader *rd, const struct cde_audit_log_request *q,
		       struct cde_audit_log_answer *a)
{
	const struct cde_audit_proof_source *src;
	char err[256];

	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt && pg_connect(rd, err, sizeof(err)) < 0)
			break;
		free(a->body);
		memset(a, 0, sizeof(*a));
		if (pg_source(rd, &src) == 0) {
			cde_audit_reader_run_log(src, q, a);
			if (a->status < 500 || !cde_pg_lost(rd->pg))
				return;
		}
	}
	free(a->body);
	memset(a, 0, sizeof(*a));
	a->status = 503;
	snprintf(a->reason, sizeof(a->reason), "the database cannot be reached: retry shortly");
}

/* ---- analyses ---- */

static int source_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	struct cde_audit_reader *rd = ctx;

	if (!rd->postgres)
		return cde_audit_query(rd->store, f, fn, fn_ctx);
	return rd->pg ? cde_pg_audit_query(rd->pg, f, fn, fn_ctx) : -ENOTCONN;
}

static int source_chain_retired(void *ctx, const char *chain, uint64_t *ret)
{
	struct cde_audit_reader *rd = ctx;

	if (!rd->postgres)
		return cde_audit_chain_retired(rd->store, chain, ret);
	return cde_pg_chain_retired(rd->pg, chain, ret);
}

static int source_artifact_retired(void *ctx, const char *artifact, uint64_t *ret)
{
	struct cde_audit_reader *rd = ctx;

	if (!rd->postgres)
		return cde_audit_artifact_retired(rd->store, artifact, ret);
	return cde_pg_artifact_retired(rd->pg, artifact, ret);
}

/* Runs an analysis; on PostgreSQL a lost session is opened again and the
 * analysis runs again from the start, once. */
static void run_task(struct cde_audit_reader *rd, struct job *j)
{
	struct cde_audit_source src = { .query = source_query, .ctx = rd, .chain_retired = source_chain_retired,
					.artifact_retired = source_artifact_retired };
	struct cde_audit_task_answer *a = &j->task;
	char err[256];
	int r = -ENOTCONN;

	for (int attempt = 0; attempt < 2 && r == -ENOTCONN; attempt++) {
		if (rd->postgres && (attempt || !rd->pg) && pg_connect(rd, err, sizeof(err)) < 0)
			continue;
		free(a->body);
		memset(a, 0, sizeof(*a));
		r = j->task_run(j->ctx, &src, a);
	}
	if (r >= 0 && a->status != 0)
		return;
	free(a->body);
	memset(a, 0, sizeof(*a));
	a->status = r == -ENOTCONN ? 503 : 500;
	snprintf(a->reason, sizeof(a->reason), "%s",
		 r == -ENOTCONN ? "the database cannot be reached: retry shortly"
		 : r == -ENOMEM ? "out of memory" : "the audit log could not be read");
}

static void job_free(struct job *j)
{
	free((uint64_t *)j->log.seqs);
	for (int i = 0; i < FIELDS; i++)
		free(j->strings[i]);
	free(j);
}

/* On the worker's thread: one query at a time. */
static void reader_run(void *ctx, struct cde_worker_item *item)
{
	struct job *j = CDE_WORKER_ENTRY(item, struct job, item);
	struct cde_audit_reader *rd = ctx;

	if (j->task_run)
		run_task(rd, j);
	else if (j->log_done && rd->postgres)
		run_log_pg(rd, &j->log, &j->answer);
	else if (j->log_done)
		cde_audit_reader_run_log(&rd->sqlite_proof.src, &j->log, &j->answer);
	else
		run_query(rd, j);
}

/* On the loop: answer the query. */
static void reader_complete(void *ctx, struct cde_worker_item *item)
{
	struct job *j = CDE_WORKER_ENTRY(item, struct job, item);
	struct cde_audit_reader *rd = ctx;

	rd->queued--;
	if (j->task_done)
		j->task_done(j->ctx, &j->task);
	else if (j->log_done)
		j->log_done(j->ctx, &j->answer);
	else
		j->done(j->ctx, j->status, j->body);
	job_free(j);
}

static const struct cde_worker_ops reader_ops = {
	.run = reader_run,
	.complete = reader_complete,
	.name = "cde-reader",
};

/* Queues @j unless the queue is full. */
static int enqueue(struct cde_audit_reader *rd, struct job *j, bool urgent)
{
	if (!urgent && rd->queued >= CDE_AUDIT_READER_QUEUE_MAX)
		return -EBUSY;
	rd->queued++;
	if (urgent)
		cde_worker_submit_first(rd->worker, &j->item);
	else
		cde_worker_submit(rd->worker, &j->item);
	return 0;
}

/* Copies @s into the job, returning the copy (NULL stays NULL). */
static const char *keep(struct job *j, int slot, const char *s, bool *oom)
{
	if (!s)
		return NULL;
	j->strings[slot] = strdup(s);
	*oom = *oom || !j->strings[slot];
	return j->strings[slot];
}

int cde_audit_reader_submit(struct cde_audit_reader *rd, const struct cde_audit_request *req,
			    cde_audit_reader_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));
	struct cde_audit_filter *f;
	bool oom = false;
	int r;

	if (!j)
		return -ENOMEM;
	j->req = *req;
	f = &j->req.filter;
	f->subject = keep(j, 0, f->subject, &oom);
	f->type = keep(j, 1, f->type, &oom);
	f->source = keep(j, 2, f->source, &oom);
	f->chain_id = keep(j, 3, f->chain_id, &oom);
	f->artifact_id = keep(j, 4, f->artifact_id, &oom);
	f->environment = keep(j, 5, f->environment, &oom);
	f->since = keep(j, 6, f->since, &oom);
	f->until = keep(j, 7, f->until, &oom);
	j->req.id = keep(j, 8, req->id, &oom);
	if (oom) {
		job_free(j);
		return -ENOMEM;
	}
	j->done = done;
	j->ctx = ctx;
	r = enqueue(rd, j, false);
	if (r < 0)
		job_free(j);
	return r;
}

int cde_audit_reader_submit_log(struct cde_audit_reader *rd, const struct cde_audit_log_request *req,
				cde_audit_log_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));
	uint64_t *seqs = NULL;
	bool oom = false;
	int r;

	if (!j)
		return -ENOMEM;
	j->log = *req;
	j->log.source = keep(j, 0, req->source, &oom);
	j->log.id = keep(j, 1, req->id, &oom);
	if (req->n_seqs) {
		seqs = malloc(req->n_seqs * sizeof(*seqs));
		oom = oom || !seqs;
		if (seqs)
			memcpy(seqs, req->seqs, req->n_seqs * sizeof(*seqs));
	}
	j->log.seqs = seqs;
	if (oom) {
		job_free(j);
		return -ENOMEM;
	}
	j->log_done = done;
	j->ctx = ctx;
	r = enqueue(rd, j, false);
	if (r < 0)
		job_free(j);
	return r;
}

static int submit_task(struct cde_audit_reader *rd, cde_audit_task_run_fn run, cde_audit_task_done_fn done,
		       void *ctx, bool urgent)
{
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->task_run = run;
	j->task_done = done;
	j->ctx = ctx;
	r = enqueue(rd, j, urgent);
	if (r < 0)
		free(j);
	return r;
}

int cde_audit_reader_submit_task(struct cde_audit_reader *rd, cde_audit_task_run_fn run,
				 cde_audit_task_done_fn done, void *ctx)
{
	return submit_task(rd, run, done, ctx, false);
}

int cde_audit_reader_submit_urgent_task(struct cde_audit_reader *rd, cde_audit_task_run_fn run,
					cde_audit_task_done_fn done, void *ctx)
{
	return submit_task(rd, run, done, ctx, true);
}

void cde_audit_reader_free(struct cde_audit_reader *rd)
{
	if (!rd)
		return;
	rd->worker = cde_worker_free(rd->worker);
	cde_audit_proof_sqlite_release(&rd->sqlite_proof);
	cde_audit_store_close(rd->store);
	cde_pg_proof_release(&rd->pg_proof);
	PQfinish(rd->pg);
	free(rd->url);
	free(rd->password_file);
	free(rd);
}

/* Opens the reader's own connection to the store @at. */
static int reader_open(struct cde_audit_reader *rd, const struct cde_store_location *at, char *err,
		       size_t err_size)
{
	int r;

	if (!at->postgres) {
		r = cde_audit_store_open(at->sqlite_path, true, CDE_AUDIT_SYNC_FULL, &rd->store, err, err_size);
		if (r == 0)
			cde_audit_proof_sqlite_init(&rd->sqlite_proof, cde_audit_store_db(rd->store));
		return r;
	}
	rd->postgres = true;
	rd->url = strdup(at->pg.url);
	rd->password_file = at->pg.password_file ? strdup(at->pg.password_file) : NULL;
	if (!rd->url || (at->pg.password_file && !rd->password_file))
		return -ENOMEM;
	return pg_connect(rd, err, err_size);
}

int cde_audit_reader_new_at(struct event_base *base, const struct cde_store_location *at,
			    struct cde_audit_reader **ret, char *err, size_t err_size)
{
	struct cde_audit_reader *rd = calloc(1, sizeof(*rd));
	int r;

	if (!rd)
		return -ENOMEM;
	r = reader_open(rd, at, err, err_size);
	if (r < 0)
		goto err_free;
	r = cde_worker_new(base, &reader_ops, rd, &rd->worker);
	if (r < 0) {
		if (r != -ENOMEM)
			snprintf(err, err_size, "cannot start the reader thread: %s", strerror(-r));
		goto err_free;
	}
	*ret = rd;
	return 0;

err_free:
	cde_audit_reader_free(rd);
	return r;
}

int cde_audit_reader_new(struct event_base *base, const char *path, struct cde_audit_reader **ret,
			 char *err, size_t err_size)
{
	struct cde_store_location at = { .sqlite_path = path };

	return cde_audit_reader_new_at(base, &at, ret, err, err_size);
}
