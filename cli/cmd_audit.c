/* cdevctl audit: the audit log, read directly from its database file
 * or its PostgreSQL database (read-only: safe while the daemon runs).
 *   verify   walks the hash chain; exit 0 when intact, 1 with the first
 *            broken sequence number otherwise.
 *   query    prints the records that match, as JSON Lines or a table. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli/audit_pg.h"
#include "cli/audit_remote.h"
#include "cli/commands.h"
#include "cli/log_source.h"
#include "cli/tlog_cli.h"
#include "events/ids.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_bundle_source.h"
#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_store.h"


struct verify_args {
	const char *db, *key_file, *bundle, *password_file;
	unsigned long every;
};

/* Reads verify's options into @a. Returns -1 to go on, else the exit
 * status (0 after --help, 2 for a bad option). */
static int verify_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "every", required_argument, NULL, 'e' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char usage[] =
		"usage: cdevctl audit verify [--db PATH | --db URL [--password-file FILE] | --bundle FILE]\n"
		"         [--key FILE [--every N]]\n"
		"  --db     the file, or a PostgreSQL url (postgres://..., host=... dbname=...)\n"
		"  --bundle the evidence bundle of cdevctl audit export, checked offline\n"
		"  --key    the audit.hmac_key_file: also check the keyed checkpoints, which\n"
		"           show a chain rewritten as a whole (--every: audit.checkpoint_every, 1000)\n";
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'k':
			a->key_file = optarg;
			break;
		case 'b':
			a->bundle = optarg;
			break;
		case 'P':
			a->password_file = optarg;
			break;
		case 'e':
			a->every = strtoul(optarg, &end, 10);
			if (*end || a->every == 0 || a->every > 1000000) {
				fprintf(stderr, "cdevctl audit verify: --every %s: a count from 1 to 1000000\n", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}

/* Walks the chain of the bundle or the database @a names, into @v; the
 * walk's result goes to *@ret_r. Returns false, having said why, when
 * there was nothing to walk. */
static bool verify_walk(struct verify_args *a, const uint8_t *key, size_t key_len, struct cde_audit_verify *v,
			int *ret_r)
{
	struct cde_audit_store *s;
	char err[512];
	int r;

	if (a->bundle) {
		FILE *f = strcmp(a->bundle, "-") == 0 ? stdin : fopen(a->bundle, "r");

		if (!f) {
			fprintf(stderr, "cdevctl audit verify: %s: %s\n", a->bundle, strerror(errno));
			return false;
		}
		r = cde_audit_bundle_verify(f, key, key_len, (unsigned)a->every, v);
		if (f != stdin)
			fclose(f);
		if (r == -EINVAL) {
			fprintf(stderr, "cdevctl audit verify: %s: not an evidence bundle\n", a->bundle);
			return false;
		}
		a->db = a->bundle;
	} else if (cde_cli_is_pg_url(a->db)) {
		return cde_cli_audit_verify_pg(a->db, a->password_file, key, key_len, (unsigned)a->every, v, ret_r);
	} else {
		r = cde_audit_store_open(a->db, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "cdevctl audit verify: %s\n", err);
			return false;
		}
		r = cde_audit_store_verify(s, key, key_len, (unsigned)a->every, v);
		cde_audit_store_close(s);
	}
	*ret_r = r;
	return true;
}

/* What an intact chain holds: its head, the losses accepted, the rows
 * retention retired, the checkpoints checked. */
static void verify_print_intact(const char *db, const struct cde_audit_verify *v, bool keyed)
{
	printf("%s: intact, %llu events, head seq %llu hash %s, %s\n", db, (unsigned long long)v->rows,
	       (unsigned long long)v->head_seq, v->head_hash,
	       keyed ? "checkpoints verified" : "checkpoints not checked (no --key)");
	for (uint64_t i = 0; i < v->n_lost && i < CDE_AUDIT_LOST_MAX; i++)
		printf("seqs %llu to %llu lost: acknowledged once, gone since; the loss was accepted and recorded%s\n",
		       (unsigned long long)v->lost_first[i], (unsigned long long)v->lost_last[i],
		       keyed ? " (signed)" : "");
	if (v->n_lost > CDE_AUDIT_LOST_MAX)
		printf("%llu accepted losses in all\n", (unsigned long long)v->n_lost);
	if (v->markers)
		printf("rows 1 to %llu retired by retention (%llu markers%s)\n",
		       (unsigned long long)(v->first_seq - 1), (unsigned long long)v->markers,
		       keyed ? ", each signed" : "; --key checks their signatures");
	if (keyed)
		printf("%llu keyed checkpoints verified\n", (unsigned long long)v->checkpoints);
}

static int verify(int argc, char **argv)
{
	struct verify_args a = { .db = CDE_CLI_DEFAULT_DB, .every = 1000 };
	uint8_t key[CDE_AUDIT_KEY_MAX];
	int key_len = 0, r, status = verify_args(argc, argv, &a);
	struct cde_audit_verify v;

	if (status >= 0)
		return status;
	if (a.key_file) {
		key_len = cde_audit_key_load(a.key_file, key);
		if (key_len < 0) {
			fprintf(stderr, "cdevctl audit verify: --key %s: %s\n", a.key_file,
				key_len == -EINVAL ? "a key is 32 to 256 bytes"
				: key_len == -EPERM ? "group or others may read it: chmod 600 it" : strerror(-key_len));
			return 2;
		}
	}
	if (!verify_walk(&a, a.key_file ? key : NULL, (size_t)(key_len > 0 ? key_len : 0), &v, &r))
		return 2;
	if (r == -EBADMSG) {
		printf("%s: broken at seq %llu: %s (%llu rows checked)\n", a.db,
		       (unsigned long long)v.bad_seq, v.reason, (unsigned long long)v.rows);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify: %s: cannot read the events\n", a.db);
		return 2;
	}
	verify_print_intact(a.db, &v, a.key_file);
	return a.bundle ? 0 : cde_cli_tree_self_check(a.db, a.password_file);
}

static const char query_usage[] =
	"usage: cdevctl audit query [--db PATH | --db PGURL [--password-file FILE] |\n"
	"         --url URL [--token-file FILE]] [--subject ID]\n"
	"         [--type TYPE] [--source SRC]\n"
	"         [--chain ID] [--artifact ID] [--environment ID] [--since TIME] [--until TIME]\n"
	"         [--after SEQ] [--limit N] [--order asc|desc] [--table]\n"
	"  Prints the matching records, oldest first, as JSON Lines\n"
	"  {seq, receivedAt, principal, peer, prevHash, hash, event}, or an aligned table.\n"
	"  --type takes a full type or one without its version (dev.cdevents.service.deployed);\n"
	"  --since/--until compare with the time received: RFC 3339 with an offset\n"
	"  (2025-01-31T04:00:00+02:00) or a date (2025-01-31, its midnight UTC).\n"
	"  --db takes the file or a PostgreSQL url (postgres://..., host=... dbname=...),\n"
	"  its password in --password-file (never in the url);\n"
	"  --url asks a running daemon (GET /v1/events) instead of reading the file; the\n"
	"  token is read from --token-file or $CDEVENTSD_TOKEN, never from the command line.\n";

static int print_jsonl(void *ctx, const struct cde_audit_record *rec)
{
	char *line = cde_audit_record_to_json(rec);

	if (!line)
		return -ENOMEM;
	printf("%s\n", line);
	free(line);
	return 0;
}

static int print_row(void *ctx, const struct cde_audit_record *rec)
{
	cJSON *ev = cJSON_Parse(rec->event);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev, "context");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(ev, "subject");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(sub, "id");
	const char *t = cJSON_IsString(type) ? type->valuestring : "?";

	if (strncmp(t, "dev.cdevents.", 13) == 0)
		t += 13;
	printf("%8llu  %-27s  %-36s  %-24s  %s\n", (unsigned long long)rec->seq, rec->received_at, t,
	       cJSON_IsString(sid) ? sid->valuestring : "?", rec->principal);
	cJSON_Delete(ev);
	return 0;
}

/* Reads the time of --@name for `cdevctl audit @cmd` into @out, as the
 * stored times are written; says what is wrong on stderr. */
static int time_option(const char *cmd, const char *name, const char *value,
		       char out[CDE_TIMESTAMP_STR_LEN])
{
	if (cde_timestamp_canonical(value, out) == 0)
		return 0;
	fprintf(stderr, "cdevctl audit %s: --%s %s: expected an RFC 3339 time with an offset "
		"(2025-01-31T04:00:00Z, 2025-01-31T06:00:00+02:00) or a date (2025-01-31)\n", cmd, name,
		value);
	return -EINVAL;
}

struct query_args {
	struct cde_audit_filter f;	/* its since and until point into this */
	const char *db, *url, *token_file, *password_file;
	bool table;
	char since[CDE_TIMESTAMP_STR_LEN], until[CDE_TIMESTAMP_STR_LEN];
};

/* Reads query's options into @a. Returns -1 to go on, else the exit
 * status (0 after --help, 2 for a bad option). */
static int query_args(int argc, char **argv, struct query_args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "subject", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'S' },
		{ "chain", required_argument, NULL, 'c' },
		{ "artifact", required_argument, NULL, 'a' },
		{ "environment", required_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "after", required_argument, NULL, 'A' },
		{ "limit", required_argument, NULL, 'l' },
		{ "order", required_argument, NULL, 'o' },
		{ "table", no_argument, NULL, 'T' },
		{ "url", required_argument, NULL, 'U' },
		{ "token-file", required_argument, NULL, 'K' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cde_audit_filter *f = &a->f;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 's': f->subject = optarg; break;
		case 't': f->type = optarg; break;
		case 'S': f->source = optarg; break;
		case 'c': f->chain_id = optarg; break;
		case 'a': f->artifact_id = optarg; break;
		case 'e': f->environment = optarg; break;
		case 'f':
		case 'u':
			if (time_option("query", c == 'f' ? "since" : "until", optarg,
					c == 'f' ? a->since : a->until) < 0)
				return 2;
			*(c == 'f' ? &f->since : &f->until) = c == 'f' ? a->since : a->until;
			break;
		case 'T': a->table = true; break;
		case 'U': a->url = optarg; break;
		case 'K': a->token_file = optarg; break;
		case 'P': a->password_file = optarg; break;
		case 'A':
		case 'l':
			if (cde_audit_parse_seq(optarg, c == 'A' ? &f->after : &f->limit) < 0) {
				fprintf(stderr, "cdevctl audit query: --%s %s: expected a whole number "
					"(digits, at most %lld)\n", c == 'A' ? "after" : "limit", optarg,
					(long long)INT64_MAX);
				return 2;
			}
			break;
		case 'o':
			if (strcmp(optarg, "asc") != 0 && strcmp(optarg, "desc") != 0) {
				fprintf(stderr, "cdevctl audit query: --order %s: asc or desc\n", optarg);
				return 2;
			}
			f->descending = optarg[0] == 'd';
			break;
		case 'h':
			fputs(query_usage, stdout);
			return 0;
		default:
			fputs(query_usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(query_usage, stderr);
		return 2;
	}
	return -1;
}

/* --url: asks the daemon, with the token of --token-file or
 * $CDEVENTSD_TOKEN. Returns the exit status. */
static int query_remote(const struct query_args *a,
			int (*print)(void *ctx, const struct cde_audit_record *rec))
{
	char *token = NULL, err[512];
	size_t len;
	int r;

	if (a->token_file) {
		r = cde_read_secret(a->token_file, 4096, &token, &len);
		if (r < 0) {
			fprintf(stderr, "cdevctl audit query: --token-file %s: %s\n", a->token_file,
				cde_read_secret_strerror(r));
			return 2;
		}
	} else if (getenv("CDEVENTSD_TOKEN")) {
		token = strdup(getenv("CDEVENTSD_TOKEN"));
	}
	r = cde_cli_audit_remote(a->url, token, &a->f, print, NULL, err, sizeof(err));
	free(token);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit query: %s\n", err);
		return 2;
	}
	return 0;
}

static int query(int argc, char **argv)
{
	struct query_args a = { .db = CDE_CLI_DEFAULT_DB };
	int (*print)(void *ctx, const struct cde_audit_record *rec);
	struct cde_audit_store *s;
	char err[512];
	int r = query_args(argc, argv, &a);

	if (r >= 0)
		return r;
	print = a.table ? print_row : print_jsonl;
	if (a.table)
		printf("%8s  %-27s  %-36s  %-24s  %s\n", "SEQ", "RECEIVED", "TYPE", "SUBJECT", "PRINCIPAL");
	if (a.url)
		return query_remote(&a, print);
	if (cde_cli_is_pg_url(a.db))
		return cde_cli_audit_query_pg(a.db, a.password_file, &a.f, print);
	r = cde_audit_store_open(a.db, true, CDE_AUDIT_SYNC_FULL, &s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cdevctl audit query: %s\n", err);
		return 2;
	}
	r = cde_audit_query(s, &a.f, print, NULL);
	cde_audit_store_close(s);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit query: %s: cannot read the events\n", a.db);
		return 2;
	}
	return 0;
}

static int export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char usage[] =
		"usage: cdevctl audit export [--db PATH | --db URL [--password-file FILE]] [--since TIME]\n"
		"                            [--until TIME] [--out FILE]\n"
		"  Writes an evidence bundle: the events received in [since, until) with their\n"
		"  hashes, the chain head, the keyed checkpoints and the Merkle proofs, as JSON\n"
		"  Lines, the same from audit.db or PostgreSQL; check it offline with\n"
		"  cdevctl audit verify --bundle FILE [--key FILE].\n";
	const char *db = CDE_CLI_DEFAULT_DB, *since = NULL, *until = NULL, *path = NULL, *password_file = NULL;
	char since_at[CDE_TIMESTAMP_STR_LEN], until_at[CDE_TIMESTAMP_STR_LEN];
	struct cde_cli_log_source ls;
	char err[512];
	FILE *out = stdout;
	long long n;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'P': password_file = optarg; break;
		case 's':
			if (time_option("export", "since", optarg, since_at) < 0)
				return 2;
			since = since_at;
			break;
		case 'u':
			if (time_option("export", "until", optarg, until_at) < 0)
				return 2;
			until = until_at;
			break;
		case 'o': path = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (cde_cli_log_source_open_bundle("export", db, password_file, &ls) < 0)
		return 2;
	if (path && !(out = fopen(path, "w"))) {
		fprintf(stderr, "cdevctl audit export: %s: %s\n", path, strerror(errno));
		cde_cli_log_source_close(&ls);
		return 2;
	}
	n = cde_audit_export_from(ls.bundle, since, until, out, err, sizeof(err));
	cde_cli_log_source_close(&ls);
	if (out != stdout && fclose(out) != 0 && n >= 0) {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
		n = -EIO;
	}
	if (n < 0) {
		fprintf(stderr, "cdevctl audit export: %s: cannot export: %s\n", db, err);
		return 2;
	}
	fprintf(stderr, "cdevctl audit export: %lld events\n", n);
	return 0;
}

/* verify --checkpoint checks the Merkle tree against a kept checkpoint. */
static bool has_checkpoint_option(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--checkpoint") == 0 || strncmp(argv[i], "--checkpoint=", 13) == 0)
			return true;
	return false;
}

int cde_cmd_audit(int argc, char **argv)
{
	bool help = argc >= 2 && strcmp(argv[1], "--help") == 0;

	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return has_checkpoint_option(argc, argv) ? cde_cmd_audit_verify_checkpoint(argc - 1, argv + 1)
							 : verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify-receipt") == 0)
		return cde_cmd_audit_verify_receipt(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "checkpoint") == 0)
		return cde_cmd_audit_checkpoint(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "prove") == 0)
		return cde_cmd_audit_prove(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "query") == 0)
		return query(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return export(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "backup") == 0)
		return cde_cmd_audit_backup(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return cde_cmd_audit_keygen(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify-bundle") == 0)
		return cde_cmd_audit_verify_bundle(argc - 1, argv + 1);
	fprintf(help ? stdout : stderr,
		"usage: cdevctl audit verify|query|export|backup|keygen|verify-bundle|checkpoint|prove|verify-receipt\n"
		"       [--db PATH] ...\n"
		"  verify  check the audit log's hash chain and Merkle tree: exit 0 when intact,\n"
		"          1 with the first broken sequence number; with --checkpoint FILE\n"
		"          --pubkey KEY, against a signed checkpoint kept elsewhere\n"
		"  query   print the events that match filters (cdevctl audit query --help)\n"
		"  export  write an evidence bundle, checked offline by verify --bundle\n"
		"  backup  a consistent copy of the log (WAL included), safe while it runs\n"
		"  keygen  an Ed25519 key pair for signed checkpoints (cdevctl audit keygen --help)\n"
		"  verify-bundle   check a bundle's proofs with the public key only (--help)\n"
		"  checkpoint      print the latest signed checkpoint\n"
		"  prove           an inclusion or consistency proof as JSON (cdevctl audit prove --help)\n"
		"  verify-receipt  check a receipt with the public key alone\n");
	return help ? 0 : 2;
}
