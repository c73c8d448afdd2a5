/* The audit reader thread. WAL lets its read-only connection see every
 * committed row while the writer keeps committing, so a long query never
 * delays ingest and ingest never delays a query. Jobs carry copies of
 * their strings: the loop may free the request meanwhile. */

#include "sinks/audit/audit_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

struct cde_audit_reader {
	struct cde_worker *worker;
	struct cde_audit_store *store;	/* used by the worker's thread only */
};

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

static void run(struct cde_audit_reader *rd, struct job *j)
{
	struct page p = { 0 };
	struct cde_audit_filter f = j->req.filter;
	char tail[64];
	int r;

	if (f.limit == 0)
		f.limit = CDE_AUDIT_PAGE_DEFAULT;
	if (f.limit > CDE_AUDIT_PAGE_MAX)
		f.limit = CDE_AUDIT_PAGE_MAX;
	r = page_add(&p, "{\"events\":[", 11);
	if (r == 0)
		r = j->req.id ? cde_audit_query_id(rd->store, j->req.id, CDE_AUDIT_PAGE_MAX, add_record, &p)
			      : cde_audit_query(rd->store, &f, add_record, &p);
	/* A full page may have more after it: say where to continue. */
	if (!j->req.id && p.count == f.limit)
		snprintf(tail, sizeof(tail), "],\"nextAfter\":%llu}", (unsigned long long)p.last_seq);
	else
		snprintf(tail, sizeof(tail), "],\"nextAfter\":null}");
	if (r == 0)
		r = page_add(&p, tail, strlen(tail));
	if (r < 0) {
		free(p.buf);
		j->status = 500;
		j->body = NULL;
		return;
	}
	j->status = p.count == 0 && (j->req.id || j->req.filter.chain_id) ? 404 : 200;
	j->body = p.buf;
}

static void job_free(struct job *j)
{
	for (int i = 0; i < FIELDS; i++)
		free(j->strings[i]);
	free(j);
}

/* On the worker's thread: one query at a time. */
static void reader_run(void *ctx, struct cde_worker_item *item)
{
	run(ctx, CDE_WORKER_ENTRY(item, struct job, item));
}

/* On the loop: answer the query. */
static void reader_complete(void *ctx, struct cde_worker_item *item)
{
	struct job *j = CDE_WORKER_ENTRY(item, struct job, item);

	j->done(j->ctx, j->status, j->body);
	job_free(j);
}

static const struct cde_worker_ops reader_ops = {
	.run = reader_run,
	.complete = reader_complete,
};

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
	cde_worker_submit(rd->worker, &j->item);
	return 0;
}

void cde_audit_reader_free(struct cde_audit_reader *rd)
{
	if (!rd)
		return;
	rd->worker = cde_worker_free(rd->worker);
	cde_audit_store_close(rd->store);
	free(rd);
}

int cde_audit_reader_new(struct event_base *base, const char *path, struct cde_audit_reader **ret,
			 char *err, size_t err_size)
{
	struct cde_audit_reader *rd = calloc(1, sizeof(*rd));
	int r;

	if (!rd)
		return -ENOMEM;
	r = cde_audit_store_open(path, true, CDE_AUDIT_SYNC_FULL, &rd->store, err, err_size);
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
