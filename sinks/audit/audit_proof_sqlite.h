#pragma once
/* The proof source (audit_proof_source.h) of an audit.db connection. */

#include <sqlite3.h>

#include "sinks/audit/audit_proof_source.h"
#include "sinks/audit/audit_tree.h"

struct cde_audit_proof_sqlite {
	struct cde_audit_proof_source src;	/* ctx is this struct: do not move it */
	sqlite3 *db;
	sqlite3_stmt *row;		/* the last row's, until the next */
	/* Its cache of derived tiles lasts as long as @s: one @s serving
	 * many proofs (the reader thread's) reads each snapshot's new
	 * hashes only. */
	struct cde_audit_tree_reader tree;
	bool tree_ready;
	bool snapshot_checked;	/* the cache, against this snapshot */
};

/* Sets @s up over @db (nothing prepared yet: statements are made when
 * used). Release @s before @db closes. */
void cde_audit_proof_sqlite_init(struct cde_audit_proof_sqlite *s, sqlite3 *db);
void cde_audit_proof_sqlite_release(struct cde_audit_proof_sqlite *s);
