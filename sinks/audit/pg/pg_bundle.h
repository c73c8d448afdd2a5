#pragma once
/* The bundle source (audit_bundle_source.h) of a PostgreSQL session:
 * evidence bundles from the tables the writer fills, the same bundle
 * audit.db gives for the same log. */

#include <stdbool.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_bundle_source.h"
#include "sinks/audit/pg/pg_proof.h"

struct cde_pg_bundle {
	struct cde_audit_bundle_source src;	/* ctx is this struct: do not move it */
	PGconn *c;
	struct cde_pg_proof proofs;
	bool has_gaps;		/* in the snapshot: else no query per record */
};

/* Prepares the statements on @c and sets @b up over it. 0, or -ENOTCONN
 * / -EIO with why in @err. Release @b before @c is finished. */
int cde_pg_bundle_init(struct cde_pg_bundle *b, PGconn *c, char *err, size_t err_size);
void cde_pg_bundle_release(struct cde_pg_bundle *b);
