#pragma once
/* The proof source (audit_proof_source.h) of a PostgreSQL session: the
 * transparency log's proofs, notes and receipts from the same tables the
 * writer fills (pg_store.c, pg_tree.c, pg_sign.c), so that they answer as
 * audit.db's do. */

#include <stdbool.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_proof_source.h"
#include "sinks/audit/audit_tiles.h"

struct cde_pg_proof {
	struct cde_audit_proof_source src;	/* ctx is this struct: do not move it */
	PGconn *c;
	PGresult *row;		/* the last row's, until the next */
	struct cde_audit_tile_io io;
	struct cde_audit_tile_reader tiles;
};

/* Prepares the statements on @c (again for each new session) and sets @p
 * up over it. 0, or -ENOTCONN (the session is lost) / -EIO with why in
 * @err. Release @p before @c is finished. */
int cde_pg_proof_init(struct cde_pg_proof *p, PGconn *c, char *err, size_t err_size);
void cde_pg_proof_release(struct cde_pg_proof *p);
