/* cdevctl audit: the audit log, read directly from its database file.
 *   verify   walks the hash chain; exit 0 when intact, 1 with the first
 *            broken sequence number otherwise. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "sinks/audit_store.h"

#define DEFAULT_DB "./var/audit.db"

static int verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = DEFAULT_DB;
	struct cde_audit_store *s;
	struct cde_audit_verify v;
	char err[512];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'h':
			printf("usage: cdevctl audit verify [--db PATH]   (default %s)\n", DEFAULT_DB);
			return 0;
		default:
			fprintf(stderr, "usage: cdevctl audit verify [--db PATH]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: cdevctl audit verify [--db PATH]\n");
		return 2;
	}
	r = cde_audit_store_open(db, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify: %s\n", err);
		return 2;
	}
	r = cde_audit_store_verify(s, &v);
	cde_audit_store_close(s);
	if (r == -EBADMSG) {
		printf("%s: broken at seq %llu: %s (%llu rows checked)\n", db,
		       (unsigned long long)v.bad_seq, v.reason, (unsigned long long)v.rows);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify: %s: cannot read the events\n", db);
		return 2;
	}
	printf("%s: intact, %llu events, head seq %llu hash %s\n", db, (unsigned long long)v.rows,
	       (unsigned long long)v.head_seq, v.head_hash);
	return 0;
}

int cde_cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		"usage: cdevctl audit verify [--db PATH]\n"
		"  verify  check the audit log's hash chain: exit 0 when intact,\n"
		"          1 with the first broken sequence number\n");
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
