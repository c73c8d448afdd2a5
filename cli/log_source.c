/* cdevctl's transparency log source (log_source.h): the same proofs,
 * notes and evidence bundles from audit.db and from PostgreSQL. */

#include "cli/log_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/audit_pg.h"
#include "cli/tlog_cli.h"

/* Opens the proof source of @ls, or with @bundle its bundle source. */
static int open_source(const char *cmd, const char *db, const char *password_file, bool bundle,
		       struct cde_cli_log_source *ls)
{
	char err[512];
	int r;

	memset(ls, 0, sizeof(*ls));
	if (!cde_cli_is_pg_url(db)) {
		r = cde_cli_store_open(cmd, db, &ls->store);
		if (r < 0)
			return r;
		if (bundle) {
			cde_audit_bundle_sqlite_init(&ls->lite_bundle, ls->store);
			ls->bundle = &ls->lite_bundle.src;
			ls->src = ls->bundle->proofs;
			return 0;
		}
		cde_audit_proof_sqlite_init(&ls->lite, cde_audit_store_db(ls->store));
		ls->src = &ls->lite.src;
		return 0;
	}
	ls->pg = cde_cli_pg_open(cmd, db, password_file);
	if (!ls->pg)
		return -EIO;
	r = bundle ? cde_pg_bundle_init(&ls->pg_bundle, ls->pg, err, sizeof(err))
		   : cde_pg_proof_init(&ls->pg_proof, ls->pg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cdevctl audit %s: %s\n", cmd, err);
		cde_cli_log_source_close(ls);
		return r;
	}
	ls->bundle = bundle ? &ls->pg_bundle.src : NULL;
	ls->src = bundle ? ls->bundle->proofs : &ls->pg_proof.src;
	return 0;
}

int cde_cli_log_source_open(const char *cmd, const char *db, const char *password_file,
			    struct cde_cli_log_source *ls)
{
	return open_source(cmd, db, password_file, false, ls);
}

int cde_cli_log_source_open_bundle(const char *cmd, const char *db, const char *password_file,
				   struct cde_cli_log_source *ls)
{
	return open_source(cmd, db, password_file, true, ls);
}

void cde_cli_log_source_close(struct cde_cli_log_source *ls)
{
	cde_audit_proof_sqlite_release(&ls->lite);
	cde_audit_bundle_sqlite_release(&ls->lite_bundle);
	cde_audit_store_close(ls->store);
	cde_pg_proof_release(&ls->pg_proof);
	cde_pg_bundle_release(&ls->pg_bundle);
	PQfinish(ls->pg);
	memset(ls, 0, sizeof(*ls));
}
