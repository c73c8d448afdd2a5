#pragma once
/* Inside the tree checks (audit_tree_verify.c, audit_tree_check.c): the
 * walk over the rows in leaf order, and the heads it takes on the way. */

#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_tree_verify.h"

struct cde_audit_tree_walk {
	const struct cde_audit_tree_source *src;
	struct cde_audit_tree_check *out;
	/* The sizes (ascending) at which to take the recomputed head, into
	 * roots[i]; a size past the tree gets none. */
	const uint64_t *sizes;
	size_t n_sizes;
	uint8_t (*roots)[CDE_TLOG_HASH_LEN];
	/* The walk's own. */
	size_t next;
	uint64_t retention;	/* the last seq retention deleted */
	uint64_t head;		/* the chain's head seq */
	const struct cde_tlog_reader *tlog;
	struct cde_tlog_frontier f;
};

/* Walks the whole tree (out->tree_size leaves). 0, -EBADMSG (the first
 * fault in w->out), -EIO, -ENOMEM. */
int cde_audit_tree_walk_run(struct cde_audit_tree_walk *w);

/* Records a fault in @out; returns -EBADMSG. */
int cde_audit_tree_fault(struct cde_audit_tree_check *out, enum cde_audit_tree_fault kind, uint64_t index,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* audit.db's source (audit_tree_verify.c): ctx is this struct, do not
 * move it; release it before the connection closes. */
struct cde_audit_tree_sqlite {
	struct cde_audit_tree_source src;
	sqlite3 *db;
	sqlite3_stmt *rows;
	bool has_reader;
	struct cde_audit_tree_reader reader;
};

void cde_audit_tree_sqlite_init(struct cde_audit_tree_sqlite *s, sqlite3 *db);
void cde_audit_tree_sqlite_release(struct cde_audit_tree_sqlite *s);

/* A read transaction unless one is open: 1 opened, 0 not, -EIO. */
int cde_audit_tree_read_begin(sqlite3 *db);
void cde_audit_tree_read_end(sqlite3 *db, int opened);
