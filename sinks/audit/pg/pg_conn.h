#pragma once
/* Connections to the PostgreSQL backend of the audit log (libpq), and the
 * few helpers its files share. A connection belongs to one thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Where the database is: a libpq connection string (URI or key=value,
 * without a password) and the file holding the password (NULL or "":
 * none; peer, certificate or ~/.pgpass authentication). */
struct cde_pg_options {
	const char *url;
	const char *password_file;
};

/* Connects as @o says, naming @role in application_name ("cdeventsd
 * writer"), with a connect timeout of a few seconds so that a database
 * that is down answers quickly. Returns 0 or -errno with the reason in
 * @err: -EINVAL (the url does not parse), -EPERM (the password file is
 * readable by others), -ECONNREFUSED (the server refused or is
 * unreachable), or what reading the file returned. */
int cde_pg_connect(const struct cde_pg_options *o, const char *role, PGconn **ret, char *err, size_t err_size);

/* A statement to prepare on each new session: its name, text, and how
 * many parameters (all sent as text). */
struct cde_pg_statement {
	const char *name, *sql;
	int n_params;
};

/* Prepares the @n statements of @st on @c. 0, or cde_pg_fail with
 * @what. */
int cde_pg_prepare(PGconn *c, const struct cde_pg_statement *st, size_t n, char *err, size_t err_size,
		   const char *what);

/* "@what: the server's message" into @err (one line); returns -EIO. */
int cde_pg_fail(PGconn *c, char *err, size_t err_size, const char *what);

/* Runs @sql, a command without parameters or rows. 0, or cde_pg_fail. */
int cde_pg_exec(PGconn *c, const char *sql, char *err, size_t err_size, const char *what);

/* True when @res is a result of a command (or query, with @rows) that
 * succeeded; clears @res otherwise. */
bool cde_pg_ok(PGresult *res, bool rows);

/* The 64-bit integer in field @col of row @row of @res (text format). */
int64_t cde_pg_int(const PGresult *res, int row, int col);

/* A decimal string of @v into @buf, for a text parameter. */
const char *cde_pg_u64(uint64_t v, char buf[24]);

/* True when the connection is gone (the server restarted, the network
 * broke): the caller connects again. */
bool cde_pg_lost(PGconn *c);
