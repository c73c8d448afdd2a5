#pragma once
/* The Merkle tree's self check on PostgreSQL (cdevctl audit verify --db
 * postgres://...): the walk of audit_tree_verify.c over the rows and the
 * tiles the PostgreSQL writer stored. */

#include <stdbool.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_tiles.h"
#include "sinks/audit/audit_tree_verify.h"

/* The tree source (audit_tree_verify.h) of a session, inside the
 * transaction the caller holds: rows through a cursor, a batch at a
 * time, so a large log is never all in memory. ctx is this struct: do
 * not move it. */
struct cde_pg_tree_source {
	struct cde_audit_tree_source src;
	PGconn *c;
	PGresult *batch;	/* the rows fetched last */
	int at;			/* the next of them */
	bool declared, done;
	struct cde_audit_tile_io io;
	struct cde_audit_tile_reader tiles;
};

/* Sets @s up over @c (preparing the tile reads). 0 or -EIO. */
int cde_pg_tree_source_init(struct cde_pg_tree_source *s, PGconn *c);
void cde_pg_tree_source_release(struct cde_pg_tree_source *s);

/* cde_audit_tree_self_check on PostgreSQL, in one REPEATABLE READ READ
 * ONLY snapshot (the caller's, if a transaction is open). 0, -EBADMSG
 * (@out says what and where), -ENOTCONN, -EIO, -ENOMEM. */
int cde_pg_audit_tree_self_check(PGconn *c, struct cde_audit_tree_check *out);
/* ... also taking the recomputed heads at @sizes (cde_audit_tree_heads_in). */
int cde_pg_audit_tree_heads(PGconn *c, const uint64_t *sizes, size_t n, uint8_t (*roots)[CDE_TLOG_HASH_LEN],
			    struct cde_audit_tree_check *out);
