/* Connecting to PostgreSQL. The password never appears in the url the
 * configuration and the logs show: it is read from its own file, checked
 * to be private like every other secret of the daemon, handed to libpq as
 * a parameter and wiped. */

#include "sinks/audit/pg/pg_conn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "schemas/base/read_file.h"

#define PASSWORD_MAX 1024

/* libpq's messages end with a newline and may span lines: one line. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

int cde_pg_fail(PGconn *c, char *err, size_t err_size, const char *what)
{
	snprintf(err, err_size, "%s: %s", what, c ? PQerrorMessage(c) : "out of memory");
	one_line(err);
	return -EIO;
}

/* Checks that @url parses, without connecting. */
static int check_url(const char *url, char *err, size_t err_size)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &why);

	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	snprintf(err, err_size, "storage url: %s", why ? why : "out of memory");
	one_line(err);
	PQfreemem(why);
	return why ? -EINVAL : -ENOMEM;
}

static int read_password(const char *path, char **ret, char *err, size_t err_size)
{
	size_t len;
	int r;

	*ret = NULL;
	if (!path || !*path)
		return 0;
	r = cde_read_secret(path, PASSWORD_MAX, ret, &len);
	if (r < 0)
		snprintf(err, err_size, "storage password_file %s: %s", path, cde_read_secret_strerror(r));
	return r;
}

static void ignore_notice(void *ctx, const char *message)
{
	(void)ctx, (void)message;
}

int cde_pg_connect(const struct cde_pg_options *o, const char *role, PGconn **ret, char *err, size_t err_size)
{
	/* expand_dbname: the url's own keys first, then these; a password
	 * is passed only when the file gives one (NULL ends the list). */
	const char *keys[] = { "dbname", "application_name", "connect_timeout", "password", NULL };
	const char *values[] = { o->url, role, "5", NULL, NULL };
	char *password = NULL;
	PGconn *c;
	int r = check_url(o->url, err, err_size);

	*ret = NULL;
	if (r == 0)
		r = read_password(o->password_file, &password, err, err_size);
	if (r < 0)
		return r;
	values[3] = password;
	if (!password)
		keys[3] = NULL;
	c = PQconnectdbParams(keys, values, 1);
	if (password) {
		OPENSSL_cleanse(password, strlen(password));
		free(password);
	}
	if (!c || PQstatus(c) != CONNECTION_OK) {
		cde_pg_fail(c, err, err_size, "connecting to the database");
		PQfinish(c);
		return c ? -ECONNREFUSED : -ENOMEM;
	}
	/* The server's notices ("already exists, skipping") are not errors,
	 * and a library never writes to stderr. */
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	*ret = c;
	return 0;
}

int cde_pg_exec(PGconn *c, const char *sql, char *err, size_t err_size, const char *what)
{
	PGresult *res = PQexec(c, sql);

	if (!cde_pg_ok(res, false))
		return cde_pg_fail(c, err, err_size, what);
	PQclear(res);
	return 0;
}

int cde_pg_prepare(PGconn *c, const struct cde_pg_statement *st, size_t n, char *err, size_t err_size,
		   const char *what)
{
	for (size_t i = 0; i < n; i++) {
		PGresult *res = PQprepare(c, st[i].name, st[i].sql, st[i].n_params, NULL);

		if (!cde_pg_ok(res, false))
			return cde_pg_fail(c, err, err_size, what);
		PQclear(res);
	}
	return 0;
}

bool cde_pg_ok(PGresult *res, bool rows)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == (rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK) || (!rows && st == PGRES_TUPLES_OK))
		return true;
	PQclear(res);
	return false;
}

int64_t cde_pg_int(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *cde_pg_u64(uint64_t v, char buf[24])
{
	snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

bool cde_pg_lost(PGconn *c)
{
	return !c || PQstatus(c) != CONNECTION_OK;
}
