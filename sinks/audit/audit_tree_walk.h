#pragma once
/* Inside the tree checks (audit_tree_verify.c, audit_tree_check.c): the
 * walk over the rows in leaf order, and the heads it takes on the way. */

#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_tree_verify.h"

struct cde_audit_tree_walk {
	sqlite3 *db;
	struct cde_audit_tree_check *out;
	/* The sizes (ascending) at which to take the recomputed head, into
	 * roots[i]; a size past the tree gets none. */
	const uint64_t *sizes;
	size_t n_sizes;
	uint8_t (*roots)[CDE_TLOG_HASH_LEN];
	/* The walk's own. */
	size_t next;
	uint64_t retention;	/* the last seq retention deleted */
	struct cde_audit_tree_reader reader;
	struct cde_tlog_frontier f;
};

/* Walks the whole tree (out->tree_size leaves). 0, -EBADMSG (the first
 * fault in w->out), -EIO, -ENOMEM. */
int cde_audit_tree_walk_run(struct cde_audit_tree_walk *w);

/* Records a fault in @out; returns -EBADMSG. */
int cde_audit_tree_fault(struct cde_audit_tree_check *out, enum cde_audit_tree_fault kind, uint64_t index,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A read transaction unless one is open: 1 opened, 0 not, -EIO. */
int cde_audit_tree_read_begin(sqlite3 *db);
void cde_audit_tree_read_end(sqlite3 *db, int opened);
