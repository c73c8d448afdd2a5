#pragma once
/* cdevctl audit query | verify on the PostgreSQL backend: --db takes the
 * database's url, read from any host that reaches it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_store.h"

/* True when --db @db names a PostgreSQL database rather than a file:
 * a url (postgres://, postgresql://) or libpq's key=value form (host=,
 * dbname=). */
bool cde_cli_is_pg_url(const char *db);

/* A read-only session on @url (its password in @password_file, or
 * none), or NULL having said why on stderr, as "cdevctl audit @cmd". */
PGconn *cde_cli_pg_open(const char *cmd, const char *url, const char *password_file);

/* Prints the records matching @f with @print, from the database at @url
 * (its password in @password_file, or none). Returns the exit status:
 * 0, or 2 having said why on stderr. */
int cde_cli_audit_query_pg(const char *url, const char *password_file, const struct cde_audit_filter *f,
			   int (*print)(void *ctx, const struct cde_audit_record *rec));

/* Walks the hash chain in the database at @url into @v (*@ret_r: 0 intact
 * or -EBADMSG broken, as cde_pg_audit_verify); with @key (else NULL)
 * also the keyed checkpoints every @every rows and the retention markers'
 * signatures. Returns whether it was walked; false having said why on
 * stderr. */
bool cde_cli_audit_verify_pg(const char *url, const char *password_file, const uint8_t *key, size_t key_len,
			     unsigned every, struct cde_audit_verify *v, int *ret_r);
