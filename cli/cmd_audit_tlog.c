/* cdevctl audit checkpoint | prove | verify-receipt: the Merkle tree of
 * the audit log, offline. checkpoint and prove read the file (read-only:
 * safe while the daemon runs) or the PostgreSQL database, and print what
 * the HTTP API serves; verify-receipt needs no log at all, only the
 * public key. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "cli/log_source.h"
#include "cli/tlog_cli.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_store.h"

int cde_cli_verifier_load(const char *cmd, const char *key, struct cde_note_verifier **ret)
{
	char *text = NULL, err[256];
	size_t len = 0;
	int r = cde_read_file(key, CDE_NOTE_KEY_MAX, &text, &len);

	/* A readable file holds the key (FILE.pub of keygen); anything
	 * else is the key string itself. */
	if (r == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
			text[--len] = '\0';
		r = cde_note_verifier_parse(text, ret, err, sizeof(err));
	} else {
		r = cde_note_verifier_parse(key, ret, err, sizeof(err));
	}
	free(text);
	if (r < 0)
		fprintf(stderr, "cdevctl audit %s: --pubkey %s: not a verifier key file nor key (%s)\n", cmd, key, err);
	return r;
}

int cde_cli_store_open(const char *cmd, const char *db, struct cde_audit_store **ret)
{
	char err[512];
	int r = cde_audit_store_open(db, true, CDE_AUDIT_SYNC_FULL, ret, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "cdevctl audit %s: %s\n", cmd, err);
	return r;
}

/* Options shared by the commands here: --db, --password-file, --size,
 * --pubkey, --help. */
struct tlog_args {
	const char *db, *password_file, *pubkey;
	uint64_t size;
};

static int tlog_args(const char *cmd, const char *usage, int argc, char **argv, struct tlog_args *a)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 's' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'P': a->password_file = optarg; break;
		case 'k': a->pubkey = optarg; break;
		case 's':
			if (cde_audit_parse_seq(optarg, &a->size) < 0) {
				fprintf(stderr, "cdevctl audit %s: --size %s: a whole number\n", cmd, optarg);
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
	return -1;
}

int cde_cmd_audit_checkpoint(int argc, char **argv)
{
	static const char usage[] =
		"usage: cdevctl audit checkpoint [--db PATH | --db URL [--password-file FILE]]\n"
		"  Prints the latest signed checkpoint stored in the log (a C2SP signed note):\n"
		"  keep it elsewhere, and later check the log against it with\n"
		"  cdevctl audit verify --checkpoint FILE --pubkey KEY.\n";
	struct tlog_args a = { .db = CDE_CLI_DEFAULT_DB };
	struct cde_cli_log_source ls;
	uint64_t size = 0;
	char *note = NULL, err[256] = "";
	int r = tlog_args("checkpoint", usage, argc, argv, &a);

	if (r >= 0)
		return r;
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (cde_cli_log_source_open("checkpoint", a.db, a.password_file, &ls) < 0)
		return 2;
	r = cde_audit_proof_checkpoint_from(ls.src, &size, &note, err, sizeof(err));
	cde_cli_log_source_close(&ls);
	if (r == -ENOENT) {
		fprintf(stderr, "cdevctl audit checkpoint: %s: no signed checkpoint (is audit.signing_key_file set?)\n",
			a.db);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "cdevctl audit checkpoint: %s: %s\n", a.db, err[0] ? err : strerror(-r));
		return 2;
	}
	fputs(note, stdout);
	free(note);
	return 0;
}

static int print_json(cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	if (!text)
		return 2;
	printf("%s\n", text);
	free(text);
	return 0;
}

int cde_cmd_audit_prove(int argc, char **argv)
{
	static const char usage[] =
		"usage: cdevctl audit prove inclusion SEQ [--size N] [--db PATH | --db URL [--password-file FILE]]\n"
		"       cdevctl audit prove consistency FROM [TO] [--db PATH | --db URL [--password-file FILE]]\n"
		"  Prints the proof as JSON, as GET /v1/log/proof/... serves it: inclusion of\n"
		"  the event at SEQ in the tree of N entries (default: the latest signed\n"
		"  checkpoint's; with that checkpoint it is a receipt), or that the tree of TO\n"
		"  entries (default: the latest checkpoint's) extends the tree of FROM.\n";
	struct tlog_args a = { .db = CDE_CLI_DEFAULT_DB };
	uint64_t n1 = 0, n2 = 0;
	struct cde_cli_log_source ls;
	bool inclusion = argc >= 2 && strcmp(argv[1], "inclusion") == 0;
	cJSON *doc = NULL;
	char err[512] = "";
	int r;

	if (argc < 2 || (!inclusion && strcmp(argv[1], "consistency") != 0)) {
		fputs(usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	r = tlog_args("prove", usage, argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	argc -= 1, argv += 1;
	if (optind >= argc || argc - optind > (inclusion ? 1 : 2) || cde_audit_parse_seq(argv[optind], &n1) < 0 ||
	    (argc - optind == 2 && cde_audit_parse_seq(argv[optind + 1], &n2) < 0)) {
		fputs(usage, stderr);
		return 2;
	}
	if (cde_cli_log_source_open("prove", a.db, a.password_file, &ls) < 0)
		return 2;
	if (inclusion)
		r = cde_audit_proof_inclusion_from(ls.src, n1, a.size, &doc, err, sizeof(err));
	else
		r = cde_audit_proof_consistency_from(ls.src, n1, n2, &doc, err, sizeof(err));
	cde_cli_log_source_close(&ls);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit prove: %s: %s\n", a.db, err[0] ? err : strerror(-r));
		return r == -ENOENT || r == -ERANGE || r == -EBADMSG ? 1 : 2;
	}
	return print_json(doc);
}

int cde_cmd_audit_verify_receipt(int argc, char **argv)
{
	static const char usage[] =
		"usage: cdevctl audit verify-receipt --pubkey KEY RECEIPT.json\n"
		"  Checks a receipt (an inclusion proof with its signed checkpoint) with the\n"
		"  log's public key alone: KEY is the verifier key or a file holding it\n"
		"  (FILE.pub of cdevctl audit keygen). Exit 0 when it holds, 1 naming what fails.\n";
	struct tlog_args a = { 0 };
	struct cde_audit_receipt_check check;
	struct cde_note_verifier *v = NULL;
	cJSON *receipt;
	char *text = NULL;
	bool json;
	size_t len;
	int r = tlog_args("verify-receipt", usage, argc, argv, &a);

	if (r >= 0)
		return r;
	if (optind + 1 != argc || !a.pubkey) {
		fputs(usage, stderr);
		return 2;
	}
	if (cde_cli_verifier_load("verify-receipt", a.pubkey, &v) < 0)
		return 2;
	r = cde_read_file(argv[optind], CDE_NOTE_MAX_SIZE * 2, &text, &len);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify-receipt: %s: %s\n", argv[optind], strerror(-r));
		cde_note_verifier_free(v);
		return 2;
	}
	receipt = cJSON_ParseWithLength(text, len);
	free(text);
	json = receipt != NULL;
	r = cde_audit_receipt_verify(receipt, (struct cde_note_verifier *const[]){ v }, 1, &check);
	cJSON_Delete(receipt);
	cde_note_verifier_free(v);
	if (r == -ENOMEM) {
		fprintf(stderr, "cdevctl audit verify-receipt: out of memory\n");
		return 2;
	}
	if (r < 0) {
		printf("%s: fails: %s\n", argv[optind], json ? check.reason : "not JSON");
		return 1;
	}
	printf("%s: holds: leaf %llu is in the tree of %llu entries that %s signed\n", argv[optind],
	       (unsigned long long)check.leaf_index, (unsigned long long)check.tree_size, check.origin);
	return 0;
}
