/* cdevctl audit on PostgreSQL: the same queries and the same chain walk
 * as on audit.db (sinks/audit/pg), over a read-only session. */

#include "cli/audit_pg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_query.h"
#include "sinks/audit/pg/pg_verify.h"

bool cde_cli_is_pg_url(const char *db)
{
	return strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0 ||
	       strstr(db, "host=") || strstr(db, "dbname=");
}

PGconn *cde_cli_pg_open(const char *cmd, const char *url, const char *password_file)
{
	struct cde_pg_options o = { .url = url, .password_file = password_file };
	char err[512];
	PGconn *c = NULL;

	if (cde_pg_connect(&o, "cdevctl", &c, err, sizeof(err)) < 0 ||
	    cde_pg_exec(c, "SET default_transaction_read_only = on", err, sizeof(err), "opening the session") < 0) {
		fprintf(stderr, "cdevctl audit %s: %s\n", cmd, err);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* "what: the server's message" on stderr for -EIO (one line). */
static void say_failed(const char *cmd, PGconn *c, const char *what)
{
	char err[512];

	cde_pg_fail(c, err, sizeof(err), what);
	fprintf(stderr, "cdevctl audit %s: %s\n", cmd, err);
}

int cde_cli_audit_query_pg(const char *url, const char *password_file, const struct cde_audit_filter *f,
			   int (*print)(void *ctx, const struct cde_audit_record *rec))
{
	PGconn *c = cde_cli_pg_open("query", url, password_file);
	int r;

	if (!c)
		return 2;
	r = cde_pg_audit_query(c, f, print, NULL);
	if (r < 0)
		say_failed("query", c, r == -ENOMEM ? "out of memory" : "reading the events");
	PQfinish(c);
	return r < 0 ? 2 : 0;
}

bool cde_cli_audit_verify_pg(const char *url, const char *password_file, const uint8_t *key, size_t key_len,
			     unsigned every, struct cde_audit_verify *v, int *ret_r)
{
	PGconn *c = cde_cli_pg_open("verify", url, password_file);
	int r;

	if (!c)
		return false;
	r = cde_pg_audit_verify(c, key, key_len, every, v);
	if (r == -EIO || r == -ENOTCONN)
		say_failed("verify", c, "reading the events");
	else if (r == -EOPNOTSUPP)
		fprintf(stderr, "cdevctl audit verify: %s: %s\n", url, v->reason);
	else if (r < 0 && r != -EBADMSG)
		fprintf(stderr, "cdevctl audit verify: %s: %s\n", url, strerror(-r));
	PQfinish(c);
	*ret_r = r;
	return r == 0 || r == -EBADMSG;
}
