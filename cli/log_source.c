/* cdevctl's transparency log source (log_source.h): the same proofs and
 * notes from audit.db and from PostgreSQL. */

#include "cli/log_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/audit_pg.h"
#include "cli/tlog_cli.h"

int cde_cli_log_source_open(const char *cmd, const char *db, const char *password_file,
			    struct cde_cli_log_source *ls)
{
	char err[512];
	int r;

	memset(ls, 0, sizeof(*ls));
	if (!cde_cli_is_pg_url(db)) {
		r = cde_cli_store_open(cmd, db, &ls->store);
		if (r < 0)
			return r;
		cde_audit_proof_sqlite_init(&ls->lite, cde_audit_store_db(ls->store));
		ls->src = &ls->lite.src;
		return 0;
	}
	ls->pg = cde_cli_pg_open(cmd, db, password_file);
	if (!ls->pg)
		return -EIO;
	r = cde_pg_proof_init(&ls->pg_proof, ls->pg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cdevctl audit %s: %s\n", cmd, err);
		cde_cli_log_source_close(ls);
		return r;
	}
	ls->src = &ls->pg_proof.src;
	return 0;
}

void cde_cli_log_source_close(struct cde_cli_log_source *ls)
{
	cde_audit_proof_sqlite_release(&ls->lite);
	cde_audit_store_close(ls->store);
	cde_pg_proof_release(&ls->pg_proof);
	PQfinish(ls->pg);
	memset(ls, 0, sizeof(*ls));
}
