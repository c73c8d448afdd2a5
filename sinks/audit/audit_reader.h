#pragma once
/* Audit queries off the loop: a reader thread with its own read-only
 * connection answers them and hands the JSON back to the loop. */

#include <event2/event.h>

#include "sinks/audit/audit_query.h"

#define CDE_AUDIT_PAGE_DEFAULT 100
#define CDE_AUDIT_PAGE_MAX 1000

struct cde_audit_reader;

/* What to answer; strings are copied by submit. */
struct cde_audit_request {
	struct cde_audit_filter filter;	/* limit 0 = CDE_AUDIT_PAGE_DEFAULT */
	const char *id;			/* set: records with this event id */
};

/* Called on the loop thread with 200 and a malloc'd JSON body
 * {"events": [...], "nextAfter": seq|null} (the callee frees it), 404
 * when an id or chain has no record, or 500 with body NULL. */
typedef void (*cde_audit_reader_done_fn)(void *ctx, int status, char *body);

/* Starts the reader on the database at @path. Returns 0 or -errno with
 * the reason in @err. */
int cde_audit_reader_new(struct event_base *base, const char *path, struct cde_audit_reader **ret,
			 char *err, size_t err_size);

/* Queues @req; @done is called later on the loop. Returns 0 or -ENOMEM. */
int cde_audit_reader_submit(struct cde_audit_reader *r, const struct cde_audit_request *req,
			    cde_audit_reader_done_fn done, void *ctx);

/* Stops the thread after the queued queries and frees @r; accepts NULL. */
void cde_audit_reader_free(struct cde_audit_reader *r);
