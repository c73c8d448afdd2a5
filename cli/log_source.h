#pragma once
/* The transparency log of --db for cdevctl audit checkpoint | prove:
 * audit.db (read-only) or a PostgreSQL database (a read-only session),
 * read through one proof source (audit_proof_source.h); for cdevctl
 * audit export, through one bundle source (audit_bundle_source.h). */

#include "sinks/audit/audit_bundle_sqlite.h"
#include "sinks/audit/audit_proof_sqlite.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_bundle.h"
#include "sinks/audit/pg/pg_proof.h"

struct cde_cli_log_source {
	const struct cde_audit_proof_source *src;
	const struct cde_audit_bundle_source *bundle;	/* opened for bundles only */
	struct cde_audit_store *store;	/* audit.db, or */
	struct cde_audit_proof_sqlite lite;
	struct cde_audit_bundle_sqlite lite_bundle;
	PGconn *pg;			/* PostgreSQL */
	struct cde_pg_proof pg_proof;
	struct cde_pg_bundle pg_bundle;
};

/* Opens the log at @db (a path or a url, cde_cli_is_pg_url; its password
 * in @password_file, or none) into @ls, which must not move until
 * closed. 0, or -errno having said why on stderr, as "cdevctl audit @cmd". */
int cde_cli_log_source_open(const char *cmd, const char *db, const char *password_file,
			    struct cde_cli_log_source *ls);
/* The same, with @ls->bundle set too (and @ls->src its proofs). */
int cde_cli_log_source_open_bundle(const char *cmd, const char *db, const char *password_file,
				   struct cde_cli_log_source *ls);
void cde_cli_log_source_close(struct cde_cli_log_source *ls);
