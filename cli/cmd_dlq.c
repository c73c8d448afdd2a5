/* cdevctl dlq: the dead letters of the delivery engine, listed, and
 * queued for delivery again. Works on the database file, or on the
 * replicas' PostgreSQL database, while the daemon runs or not: a running
 * daemon picks replays up within a second, a stopped one at its next
 * start. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "cli/audit_pg.h"
#include "cli/commands.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/dead_letters.h"


static const char usage[] =
	"usage: cdevctl dlq list [--db PATH|URL] [--password-file FILE] [--sink NAME] [--id EVENT_ID] [--json]\n"
	"       cdevctl dlq replay [--db PATH|URL] [--password-file FILE] (--sink NAME | --id EVENT_ID | --all)\n"
	"  --db    the file, or a PostgreSQL url (postgres://..., host=... dbname=...)\n"
	"  list    the events sinks refused or gave up on, with why\n"
	"  replay  deliver them again (the daemon takes them within a second,\n"
	"          or at its next start); with --sink and --id, one event to one sink\n";

static int print_row(void *ctx, const struct cde_dead_letter *dl)
{
	bool *json = ctx;

	if (*json) {
		cJSON *o = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(o, "sink", dl->sink);
		cJSON_AddNumberToObject(o, "seq", (double)dl->seq);
		cJSON_AddStringToObject(o, "id", dl->id);
		cJSON_AddStringToObject(o, "type", dl->type);
		cJSON_AddNumberToObject(o, "attempts", dl->attempts);
		cJSON_AddStringToObject(o, "error", dl->error);
		cJSON_AddStringToObject(o, "deadAt", dl->dead_at);
		text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!text)
			return -ENOMEM;
		puts(text);
		cJSON_free(text);
	} else {
		printf("%-16s %8llu  %-36s  %-27s %3u  %s\n", dl->sink, (unsigned long long)dl->seq, dl->id,
		       dl->dead_at, dl->attempts, dl->error);
	}
	return 0;
}

/* List or replay, then say what happened; the exit status. */
static int run(bool replay, const char *sink, const char *id, bool json, int (*list)(void *db, const char *sink,
	       const char *id, int (*fn)(void *, const struct cde_dead_letter *), void *ctx),
	       int (*requeue)(void *db, const char *sink, const char *id), void *db)
{
	int r;

	if (replay) {
		r = requeue(db, sink, id);
		if (r >= 0)
			printf("%d dead letters queued for delivery\n", r);
		return r;
	}
	if (!json)
		printf("%-16s %8s  %-36s  %-27s %3s  %s\n", "SINK", "SEQ", "EVENT ID", "DEAD AT", "TRY", "ERROR");
	return list(db, sink, id, print_row, &json);
}

static int list_sqlite(void *db, const char *sink, const char *id,
		       int (*fn)(void *, const struct cde_dead_letter *), void *ctx)
{
	return cde_dead_letters_list(db, sink, id, fn, ctx);
}

static int replay_sqlite(void *db, const char *sink, const char *id)
{
	return cde_dead_letters_replay(db, sink, id);
}

static int list_pg(void *db, const char *sink, const char *id, int (*fn)(void *, const struct cde_dead_letter *),
		   void *ctx)
{
	return cde_dead_letters_list_pg(db, sink, id, fn, ctx);
}

static int replay_pg(void *db, const char *sink, const char *id)
{
	return cde_dead_letters_replay_pg(db, sink, id);
}

/* The shared log of replicas in PostgreSQL. */
static int dlq_pg(const char *verb, const char *url, const char *password_file, const char *sink, const char *id,
		  bool json)
{
	struct cde_pg_options o = { .url = url, .password_file = password_file };
	char err[512];
	PGconn *c;
	int r = cde_pg_connect(&o, "cdevctl dlq", &c, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "cdevctl dlq: %s\n", err);
		return 2;
	}
	r = run(strcmp(verb, "replay") == 0, sink, id, json, list_pg, replay_pg, c);
	if (r < 0)
		cde_pg_fail(c, err, sizeof(err), url);
	if (r < 0)
		fprintf(stderr, "cdevctl dlq %s: %s\n", verb, err);
	PQfinish(c);
	return r < 0 ? 2 : 0;
}

int cde_cmd_dlq(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "sink", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db_path = CDE_CLI_DEFAULT_DB, *sink = NULL, *id = NULL, *verb, *password_file = NULL;
	bool json = false, all = false, replay;
	sqlite3 *db = NULL;
	int c, r;

	if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "replay") != 0)) {
		fputs(usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	verb = argv[1];
	replay = strcmp(verb, "replay") == 0;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'p': password_file = optarg; break;
		case 's': sink = optarg; break;
		case 'i': id = optarg; break;
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (replay && !sink && !id && !all) || (!replay && all)) {
		if (replay && !sink && !id && !all)
			fprintf(stderr, "cdevctl dlq replay: say which: --sink, --id, or --all\n");
		fputs(usage, stderr);
		return 2;
	}
	if (cde_cli_is_pg_url(db_path))
		return dlq_pg(verb, db_path, password_file, sink, id, json);
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "cdevctl dlq: %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 2;
	}
	sqlite3_busy_timeout(db, 5000);
	/* The tables are the daemon's to create and migrate: a file of
	 * another schema is read by the cdeventsd of that schema. */
	r = cde_audit_schema_version(db);
	if (r >= 0 && r != CDE_AUDIT_SCHEMA_VERSION) {
		fprintf(stderr, "cdevctl dlq: %s: schema %d, this cdevctl reads %d: %s\n", db_path, r,
			CDE_AUDIT_SCHEMA_VERSION, r < CDE_AUDIT_SCHEMA_VERSION ? "start this version's cdeventsd once to "
			"upgrade the file" : "use the cdevctl of the cdeventsd that wrote it");
		sqlite3_close(db);
		return 2;
	}
	if (r >= 0)
		r = run(replay, sink, id, json, list_sqlite, replay_sqlite, db);
	if (r < 0)
		fprintf(stderr, "cdevctl dlq %s: %s: %s\n", verb, db_path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return r < 0 ? 2 : 0;
}
