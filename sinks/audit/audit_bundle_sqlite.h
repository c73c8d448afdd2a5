#pragma once
/* The bundle source (audit_bundle_source.h) of an audit.db store. */

#include <sqlite3.h>

#include "sinks/audit/audit_bundle_source.h"
#include "sinks/audit/audit_proof_sqlite.h"
#include "sinks/audit/audit_store.h"

struct cde_audit_bundle_sqlite {
	struct cde_audit_bundle_source src;	/* ctx is this struct: do not move it */
	struct cde_audit_store *store;
	sqlite3 *db;
	struct cde_audit_proof_sqlite proofs;
};

/* Sets @b up over @s. Release @b before @s closes. */
void cde_audit_bundle_sqlite_init(struct cde_audit_bundle_sqlite *b, struct cde_audit_store *s);
void cde_audit_bundle_sqlite_release(struct cde_audit_bundle_sqlite *b);
