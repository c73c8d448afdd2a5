/* cdevctl audit backup: a consistent copy of the audit log while the
 * daemon runs. Copying audit.db with cp is not a backup: the newest
 * events live in audit.db-wal until a checkpoint moves them, so the copy
 * silently lacks them (and a copy taken mid-write may not open). SQLite's
 * VACUUM INTO writes one self-contained file from a single read
 * transaction, WAL included; the copy is then verified like the log. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli/audit_pg.h"
#include "cli/commands.h"
#include "sinks/audit/audit_store.h"

static const char usage[] =
	"usage: cdevctl audit backup [--db PATH] --out FILE\n"
	"  Writes a consistent, self-contained copy of the audit log (WAL included),\n"
	"  safe while the daemon runs, and verifies the copy's chain. FILE must not exist.\n";

static int verify_copy(const char *path, struct cde_audit_verify *v)
{
	struct cde_audit_store *s;
	char err[512];
	int r = cde_audit_store_open(path, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "cdevctl audit backup: %s\n", err);
		return r;
	}
	r = cde_audit_store_verify(s, NULL, 0, 0, v);
	cde_audit_store_close(s);
	return r;
}

static int copy(const char *db, const char *out)
{
	struct cde_audit_store *s;
	sqlite3_stmt *st;
	char err[512];
	int rc;

	if (cde_audit_store_open(db, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "cdevctl audit backup: %s\n", err);
		return 2;
	}
	rc = sqlite3_prepare_v2(cde_audit_store_db(s), "VACUUM INTO ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		fprintf(stderr, "cdevctl audit backup: %s: %s\n", out, sqlite3_errmsg(cde_audit_store_db(s)));
	cde_audit_store_close(s);
	return rc == SQLITE_DONE ? 0 : 2;
}

int cde_cmd_audit_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = CDE_CLI_DEFAULT_DB, *out = NULL;
	struct cde_audit_verify v;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || !out) {
		fputs(usage, stderr);
		return 2;
	}
	/* A log in PostgreSQL is the database's to back up, with the tools
	 * its operators already run; a copy here would be one more. */
	if (cde_cli_is_pg_url(db)) {
		fprintf(stderr, "cdevctl audit backup: %s is a PostgreSQL database: back it up with its own tools "
			"(pg_dump of the database, base backups, point-in-time recovery); "
			"cdevctl audit verify --db URL checks the copy restored\n", db);
		return 2;
	}
	if (access(out, F_OK) == 0) {
		fprintf(stderr, "cdevctl audit backup: %s exists: refusing to overwrite it\n", out);
		return 2;
	}
	r = copy(db, out);
	if (r)
		return r;
	r = verify_copy(out, &v);
	if (r == -EBADMSG) {
		printf("%s: copied, but its chain is broken at seq %llu: %s (so is the log's: cdevctl audit verify)\n",
		       out, (unsigned long long)v.bad_seq, v.reason);
		return 1;
	}
	if (r < 0)
		return 2;
	printf("%s: %llu events, head seq %llu hash %s\n", out, (unsigned long long)v.rows,
	       (unsigned long long)v.head_seq, v.head_hash);
	return 0;
}
