#pragma once
/* cdevctl audit query | verify on the PostgreSQL backend: --db takes the
 * database's url, read from any host that reaches it. */

#include <stdbool.h>

#include "sinks/audit/audit_query.h"

/* True when --db @db names a PostgreSQL database rather than a file:
 * a url (postgres://, postgresql://) or libpq's key=value form (host=,
 * dbname=). */
bool cde_cli_is_pg_url(const char *db);

/* Prints the records matching @f with @print, from the database at @url
 * (its password in @password_file, or none). Returns the exit status:
 * 0, or 2 having said why on stderr. */
int cde_cli_audit_query_pg(const char *url, const char *password_file, const struct cde_audit_filter *f,
			   int (*print)(void *ctx, const struct cde_audit_record *rec));

/* Walks the hash chain in the database at @url and prints the outcome.
 * Returns the exit status: 0 intact, 1 broken (where and why on
 * stdout), 2 when it could not be walked. */
int cde_cli_audit_verify_pg(const char *url, const char *password_file);
