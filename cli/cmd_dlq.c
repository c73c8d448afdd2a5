/* cdevctl dlq: the dead letters of the delivery engine, listed, and
 * queued for delivery again. Works on the database file, while the
 * daemon runs or not: a running daemon picks replays up within a second,
 * a stopped one at its next start. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "cli/commands.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/dead_letters.h"


static const char usage[] =
	"usage: cdevctl dlq list [--db PATH] [--sink NAME] [--id EVENT_ID] [--json]\n"
	"       cdevctl dlq replay [--db PATH] (--sink NAME | --id EVENT_ID | --all)\n"
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

int cde_cmd_dlq(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "sink", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db_path = CDE_CLI_DEFAULT_DB, *sink = NULL, *id = NULL, *verb;
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
	r = r < 0 ? r : 0;
	if (r == 0 && replay) {
		r = cde_dead_letters_replay(db, sink, id);
		if (r >= 0)
			printf("%d dead letters queued for delivery\n", r);
	} else if (r == 0) {
		if (!json)
			printf("%-16s %8s  %-36s  %-27s %3s  %s\n", "SINK", "SEQ", "EVENT ID", "DEAD AT", "TRY", "ERROR");
		r = cde_dead_letters_list(db, sink, id, print_row, &json);
	}
	if (r < 0)
		fprintf(stderr, "cdevctl dlq %s: %s: %s\n", verb, db_path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return r < 0 ? 2 : 0;
}
