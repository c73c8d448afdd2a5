#pragma once
/* Audit queries off the loop: a reader thread with its own read-only
 * connection answers them and hands the JSON back to the loop. */

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "sinks/audit/audit_query.h"
#include "sinks/audit/store_location.h"

#define CDE_AUDIT_PAGE_DEFAULT 100
#define CDE_AUDIT_PAGE_MAX 1000

/* The jobs (queries, log reads, tasks) the reader holds at once: past
 * it, a submit is refused with -EBUSY, for a 503, rather than queueing
 * without bound behind one slow answer. Urgent tasks are not counted
 * against it. */
#define CDE_AUDIT_READER_QUEUE_MAX 256

struct cde_audit_reader;

/* What to answer; strings are copied by submit. */
struct cde_audit_request {
	struct cde_audit_filter filter;	/* limit 0 = CDE_AUDIT_PAGE_DEFAULT */
	const char *id;			/* set: records with this event id */
};

/* Called on the loop thread with 200 and a malloc'd JSON body
 * {"events": [...], "nextAfter": seq|null} (the callee frees it), 404
 * when an id or chain has no record, 503 with body NULL when the
 * database cannot be reached (PostgreSQL down or restarting: worth a
 * retry), or 500 with body NULL. */
typedef void (*cde_audit_reader_done_fn)(void *ctx, int status, char *body);

/* Starts the reader on the store @at (audit.db, or PostgreSQL: its own
 * connection, read-only, connected here; the url and password file are
 * copied). Returns 0 or -errno with the reason in @err. */
int cde_audit_reader_new_at(struct event_base *base, const struct cde_store_location *at,
			    struct cde_audit_reader **ret, char *err, size_t err_size);

/* cde_audit_reader_new_at on the database file at @path. */
int cde_audit_reader_new(struct event_base *base, const char *path, struct cde_audit_reader **ret,
			 char *err, size_t err_size);

/* Queues @req; @done is called later on the loop. Returns 0, -ENOMEM,
 * or -EBUSY when CDE_AUDIT_READER_QUEUE_MAX jobs are waiting. */
int cde_audit_reader_submit(struct cde_audit_reader *r, const struct cde_audit_request *req,
			    cde_audit_reader_done_fn done, void *ctx);

/* The transparency log's reads (GET /v1/log/...), answered by the same
 * thread from the same connection, from either store alike. */
enum cde_audit_log_kind {
	CDE_AUDIT_LOG_CHECKPOINT,	/* the latest signed checkpoint's note */
	CDE_AUDIT_LOG_INCLUSION,	/* seq (or source and id), size */
	CDE_AUDIT_LOG_CONSISTENCY,	/* from, to */
	CDE_AUDIT_LOG_RECEIPTS,		/* the inclusion of each of seqs in size */
};

/* What to answer; strings and seqs are copied by submit. 0 stands for
 * "not given" (size, to). */
struct cde_audit_log_request {
	enum cde_audit_log_kind kind;
	uint64_t seq, size, from, to;
	const char *source, *id;
	const uint64_t *seqs;
	size_t n_seqs;
};

/* The answer: @status 200 with @body (malloc'd, the callee frees it: the
 * note, the proof's JSON, or for receipts a JSON array of proofs), else
 * 400 (@param names the parameter at fault), 404, 409 (a row that no
 * longer hashes to its leaf when @altered), 500, or 503 when the
 * database (PostgreSQL) cannot be reached, worth a retry, with @reason. */
struct cde_audit_log_answer {
	int status;
	char *body;
	const char *param;
	bool altered;
	char reason[256];
};

typedef void (*cde_audit_log_done_fn)(void *ctx, struct cde_audit_log_answer *a);

/* Queues @req; @done is called later on the loop. 0, -ENOMEM or -EBUSY. */
int cde_audit_reader_submit_log(struct cde_audit_reader *r, const struct cde_audit_log_request *req,
				cde_audit_log_done_fn done, void *ctx);

/* ---- analyses over the log (gates, DORA, what runs where) ----
 *
 * An analysis runs on the reader's thread and reads the log through a
 * cde_audit_source, so it is written once for audit.db and PostgreSQL
 * alike, and a test can hand it a table of records instead. */

typedef int (*cde_audit_record_fn)(void *ctx, const struct cde_audit_record *rec);

/* The records matching @f (as cde_audit_query: seq order, or reverse;
 * limit 0 = all), passed to @fn until it returns non-zero. Returns 0,
 * what @fn returned, -EINVAL, -ENOTCONN (the database was lost) or -EIO. */
struct cde_audit_source {
	int (*query)(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx);
	void *ctx;
	/* Optional (NULL: a source that never deletes, as tests' tables):
	 * whether retention has deleted rows of @chain, *@ret the last seq
	 * it deleted of it, 0 when none. Returns 0, -ENOTCONN or -EIO. */
	int (*chain_retired)(void *ctx, const char *chain, uint64_t *ret);
	/* Optional likewise: whether retention has deleted rows naming
	 * @artifact (a chain whose rows naming it were deleted no longer
	 * links to it), *@ret as for chain_retired. */
	int (*artifact_retired)(void *ctx, const char *artifact, uint64_t *ret);
};

/* What an analysis answers: @status 200 with @body (malloc'd JSON, the
 * done callback owns it), or a 4xx/5xx with @param (the query parameter
 * at fault, or NULL) and @reason. */
struct cde_audit_task_answer {
	int status;
	char *body;
	const char *param;
	char reason[256];
};

/* On the reader's thread: reads through @src and fills @a. Returning
 * -ENOTCONN makes the reader connect again and run the task once more on
 * a cleared answer (so a task keeps its state in @a or on its stack, not
 * in @ctx); a second -ENOTCONN answers 503, another negative 500. */
typedef int (*cde_audit_task_run_fn)(void *ctx, const struct cde_audit_source *src,
				     struct cde_audit_task_answer *a);

/* On the loop, after the run: answers and frees @ctx and a->body. */
typedef void (*cde_audit_task_done_fn)(void *ctx, struct cde_audit_task_answer *a);

/* Queues an analysis; @ctx is shared by @run (on the thread) and @done
 * (on the loop, after it) and must live until @done. Returns 0, -ENOMEM
 * or -EBUSY. */
int cde_audit_reader_submit_task(struct cde_audit_reader *r, cde_audit_task_run_fn run,
				 cde_audit_task_done_fn done, void *ctx);

/* Like cde_audit_reader_submit_task, ahead of every job waiting and never
 * refused as busy: for what holds a client's write (an enforced gate),
 * which must not wait behind a flood of reads. 0 or -ENOMEM. */
int cde_audit_reader_submit_urgent_task(struct cde_audit_reader *r, cde_audit_task_run_fn run,
					cde_audit_task_done_fn done, void *ctx);

/* Stops the thread after the queued queries and frees @r; accepts NULL. */
void cde_audit_reader_free(struct cde_audit_reader *r);
