#pragma once
/* The audit log's queries (audit_query.h) on PostgreSQL: the same
 * filters, the same records in the same order, so GET /v1/events and
 * `cdevctl audit query` answer alike from audit.db and from the database
 * every replica shares. */

#include <stdint.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_query.h"

/* Like cde_audit_query, on the connection @c (NULL: a connection that
 * could not be made). Rows arrive one at a time, so a query without a
 * limit holds one row in memory. Returns 0, what @fn returned, -EINVAL
 * for a time or number the filter cannot hold, -ENOTCONN when the
 * connection is lost (the caller connects again; rows already passed to
 * @fn came from the failed attempt), or -EIO (PQerrorMessage(@c) says
 * why). */
int cde_pg_audit_query(PGconn *c, const struct cde_audit_filter *f,
		       int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx);

/* Like cde_audit_query_id (the records of event @id, with their
 * deliveries), on @c. Returns as cde_pg_audit_query. */
int cde_pg_audit_query_id(PGconn *c, const char *id, uint64_t limit,
			  int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx);

/* Like cde_audit_chain_retired, on @c. Returns 0, -ENOTCONN or -EIO. */
int cde_pg_chain_retired(PGconn *c, const char *chain, uint64_t *ret);

/* Like cde_audit_artifact_retired, on @c. Returns 0, -ENOTCONN or -EIO. */
int cde_pg_artifact_retired(PGconn *c, const char *artifact, uint64_t *ret);

/* Runs @sql with the text parameters @values (@n of them) in single-row
 * mode and calls @row for each row; stops calling it once it returns
 * non-zero, and returns that. Returns 0, -ENOTCONN (the connection is
 * lost) or -EIO. For walks over the whole log (queries, verify). */
int cde_pg_each_row(PGconn *c, const char *sql, int n, const char *const *values,
		    int (*row)(void *ctx, const PGresult *res), void *ctx);
