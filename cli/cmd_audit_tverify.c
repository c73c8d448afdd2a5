/* cdevctl audit verify --checkpoint FILE --pubkey KEY: the log, as a file
 * or as a running daemon serves it, against a checkpoint kept elsewhere,
 * with the public key only. A file or a PostgreSQL database is recomputed
 * leaf by leaf (audit_tree_verify.h); a daemon, or the database, is asked
 * for its current checkpoint and the consistency proof from the kept one,
 * both checked here. Exit 0 only when everything holds; else 1 and the
 * first bad index. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/audit_pg.h"
#include "cli/commands.h"
#include "cli/log_source.h"
#include "cli/tlog_cli.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_tree_verify.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_tree_verify.h"
#include "sinks/audit/tlog/note_text.h"

static const char usage[] =
	"usage: cdevctl audit verify --checkpoint FILE --pubkey KEY [--db PATH | --db PGURL [--password-file F] |\n"
	"         --url URL [--token-file F]]\n"
	"  Checks the log against a checkpoint kept elsewhere (a signed note, from\n"
	"  cdevctl audit checkpoint or GET /v1/log/checkpoint), with the verifier key\n"
	"  only (KEY: the key or a file holding it, FILE.pub of cdevctl audit keygen).\n"
	"  A file: every leaf recomputed from its row, the tree at the checkpoint's size\n"
	"  against its root, the current tree proven to extend it. A daemon (--url): its\n"
	"  checkpoint and the consistency proof from the kept one; a PostgreSQL database\n"
	"  (--db PGURL) likewise, read directly, and every leaf recomputed from its row.\n"
	"  Exit 0 when all holds, 1 naming what fails and the first bad index.\n";

struct args {
	const char *checkpoint, *pubkey, *db, *url, *token_file, *password_file;
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "db", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->checkpoint = optarg; break;
		case 'k': a->pubkey = optarg; break;
		case 'd': a->db = optarg; break;
		case 'u': a->url = optarg; break;
		case 't': a->token_file = optarg; break;
		case 'P': a->password_file = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || !a->checkpoint || !a->pubkey || (a->url && a->db)) {
		fputs(usage, stderr);
		return 2;
	}
	if (!a->db)
		a->db = CDE_CLI_DEFAULT_DB;
	return -1;
}

/* The kept checkpoint: its size, root and origin. Returns the exit
 * status to stop with, or -1 to go on. */
static int open_kept(const struct args *a, struct cde_note_verifier *v, uint64_t *size, uint8_t root[32],
		     char origin[128])
{
	char *note = NULL, err[256];
	size_t len;
	int r = cde_read_file(a->checkpoint, CDE_NOTE_MAX_SIZE, &note, &len);

	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify: --checkpoint %s: %s\n", a->checkpoint, strerror(-r));
		return 2;
	}
	r = cde_audit_checkpoint_open(note, (struct cde_note_verifier *const[]){ v }, 1, size, root, origin, 128, err,
				      sizeof(err));
	free(note);
	if (r == -ENOMEM)
		return 2;
	if (r < 0) {
		printf("%s: the checkpoint does not verify with the key %s: %s\n", a->checkpoint,
		       cde_note_verifier_name(v), r == -ENOKEY ? "not signed by that key" : err);
		return 1;
	}
	return -1;
}

static void print_fault(const char *where, const struct cde_audit_tree_check *c)
{
	printf("%s: %s: %s\n", where, cde_audit_tree_fault_name(c->fault), c->reason);
	if (c->fault == CDE_AUDIT_TREE_FORKED)
		printf("first bad index: in [%llu, %llu)\n", (unsigned long long)c->bad_index,
		       (unsigned long long)c->bad_end);
	else
		printf("first bad index: %llu\n", (unsigned long long)c->bad_index);
}

/* The exit status for a tree check that returned @r < 0, having said
 * what failed. */
static int tree_status(const char *db, int r, const struct cde_audit_tree_check *c)
{
	if (r == -EBADMSG) {
		print_fault(db, c);
		return 1;
	}
	fprintf(stderr, "cdevctl audit verify: %s: cannot read the tree (%s)\n", db, strerror(-r));
	return 2;
}

/* What the recomputation used besides the rows. */
static void print_counts(const struct cde_audit_tree_check *c)
{
	if (c->retired)
		printf("leaves 0 to %llu: rows deleted by retention, their stored hashes used\n",
		       (unsigned long long)(c->retired - 1));
	if (c->lost)
		printf("%llu leaves: rows lost and recorded as lost, their stored hashes used\n",
		       (unsigned long long)c->lost);
}

static int verify_file(const struct args *a, struct cde_note_verifier *v, uint64_t size, const uint8_t root[32],
		       const char *origin)
{
	struct cde_audit_tree_check c;
	struct cde_audit_store *s;
	int r;

	if (cde_cli_store_open("verify", a->db, &s) < 0)
		return 2;
	r = cde_audit_tree_check_against(cde_audit_store_db(s), size, root, (struct cde_note_verifier *const[]){ v },
					 1, &c);
	cde_audit_store_close(s);
	if (r < 0)
		return tree_status(a->db, r, &c);
	printf("%s: holds against the checkpoint of %llu entries signed by %s: %llu rows recomputed, "
	       "the tree of %llu entries extends it (consistency proof verified)\n", a->db, (unsigned long long)size,
	       origin, (unsigned long long)c.rows, (unsigned long long)c.tree_size);
	print_counts(&c);
	printf("%llu of %llu signed checkpoints stored in the log match the recomputed tree\n",
	       (unsigned long long)c.signed_matching, (unsigned long long)c.signed_stored);
	return 0;
}

/* The database's latest signed checkpoint (*@now, @now_root), opened with
 * @v, and the consistency proof from the kept one (@size, @root) to it.
 * Returns the exit status to stop with, or -1 to go on. */
static int check_pg(const struct cde_audit_proof_source *src, const char *db, struct cde_note_verifier *v,
		    uint64_t size, const uint8_t root[32], uint64_t *now_ret, uint8_t now_root[32])
{
	uint64_t now = 0;
	char *note = NULL, why[256] = "";
	cJSON *proof = NULL;
	int r = cde_audit_proof_checkpoint_from(src, &now, &note, why, sizeof(why));

	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify: %s: %s\n", db, why);
		return r == -ENOENT ? 1 : 2;
	}
	r = cde_audit_checkpoint_open(note, (struct cde_note_verifier *const[]){ v }, 1, &now, now_root, NULL, 0, why,
				      sizeof(why));
	free(note);
	if (r < 0) {
		printf("%s: the log's latest checkpoint does not verify with the key: %s\n", db, why);
		return r == -ENOMEM ? 2 : 1;
	}
	if (now < size) {
		printf("%s: truncated: the log has %llu entries, the checkpoint %llu\nfirst bad index: %llu\n", db,
		       (unsigned long long)now, (unsigned long long)size, (unsigned long long)now);
		return 1;
	}
	r = cde_audit_proof_consistency_from(src, size, now, &proof, why, sizeof(why));
	if (r == 0)
		r = cde_audit_consistency_verify(proof, size, root, now, now_root, why, sizeof(why));
	cJSON_Delete(proof);
	if (r < 0 && r != -EBADMSG) {
		fprintf(stderr, "cdevctl audit verify: %s: %s\n", db, why[0] ? why : strerror(-r));
		return 2;
	}
	if (r < 0) {
		printf("%s: forked: %s\nfirst bad index: in [0, %llu)\n", db, why, (unsigned long long)size);
		return 1;
	}
	*now_ret = now;
	return -1;
}

/* The rows of the database recomputed, in the snapshot of the proof: the
 * heads at the kept size and at the latest signed one must be the signed
 * heads. Returns the exit status. */
static int recompute_pg(PGconn *pc, const char *db, uint64_t size, const uint8_t root[32], uint64_t now,
			const uint8_t now_root[32], const char *origin)
{
	const uint64_t sizes[2] = { size, now };
	uint8_t roots[2][32] = { 0 };
	struct cde_audit_tree_check c;
	int r = cde_pg_audit_tree_heads(pc, sizes, 2, roots, &c);

	if (r < 0)
		return tree_status(db, r, &c);
	if (c.tree_size < now || memcmp(roots[1], now_root, 32) != 0 || memcmp(roots[0], root, 32) != 0) {
		printf("%s: forked: the rows recomputed do not give the heads signed at %llu and %llu entries\n"
		       "first bad index: in [%llu, %llu)\n", db, (unsigned long long)size, (unsigned long long)now,
		       memcmp(roots[0], root, 32) ? 0ULL : (unsigned long long)size, (unsigned long long)now);
		return 1;
	}
	printf("%s: holds against the checkpoint of %llu entries signed by %s: %llu rows recomputed, its signed tree "
	       "of %llu entries extends it (consistency proof verified)\n", db, (unsigned long long)size, origin,
	       (unsigned long long)c.rows, (unsigned long long)now);
	print_counts(&c);
	return 0;
}

static int verify_pg(const struct args *a, struct cde_note_verifier *v, uint64_t size, const uint8_t root[32],
		     const char *origin)
{
	struct cde_cli_log_source ls;
	uint8_t now_root[32];
	uint64_t now = 0;
	char err[256];
	int r;

	if (cde_cli_log_source_open("verify", a->db, a->password_file, &ls) < 0)
		return 2;
	/* One snapshot for the signed checkpoint, its proof and the rows. */
	if (cde_pg_exec(ls.pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, sizeof(err), "verify") < 0) {
		fprintf(stderr, "cdevctl audit verify: %s: %s\n", a->db, err);
		r = 2;
	} else {
		r = check_pg(ls.src, a->db, v, size, root, &now, now_root);
		if (r < 0)
			r = recompute_pg(ls.pg, a->db, size, root, now, now_root, origin);
		PQclear(PQexec(ls.pg, "ROLLBACK"));
	}
	cde_cli_log_source_close(&ls);
	return r;
}

/* The tree's self check on the file or the PostgreSQL database @db. */
static int self_check(const char *db, const char *password_file, struct cde_audit_tree_check *c)
{
	struct cde_audit_store *s;
	PGconn *pc;
	int r;

	if (cde_cli_is_pg_url(db)) {
		pc = cde_cli_pg_open("verify", db, password_file);
		if (!pc)
			return -EALREADY;
		r = cde_pg_audit_tree_self_check(pc, c);
		PQfinish(pc);
		return r;
	}
	if (cde_cli_store_open("verify", db, &s) < 0)
		return -EALREADY;
	r = cde_audit_tree_self_check(cde_audit_store_db(s), c);
	cde_audit_store_close(s);
	return r;
}

int cde_cli_tree_self_check(const char *db, const char *password_file)
{
	struct cde_audit_tree_check c;
	char head[45];
	int r = self_check(db, password_file, &c);

	if (r < 0)
		return r == -EALREADY ? 2 : tree_status(db, r, &c);
	cde_b64_encode(head, c.root, sizeof(c.root));
	printf("Merkle tree: %llu entries, every row hashes to its leaf, head %s\n", (unsigned long long)c.tree_size,
	       head);
	print_counts(&c);
	return 0;
}

int cde_cmd_audit_verify_checkpoint(int argc, char **argv)
{
	struct args a = { 0 };
	struct cde_note_verifier *v = NULL;
	uint8_t root[32];
	uint64_t size = 0;
	char origin[128];
	int r = parse(argc, argv, &a);

	if (r >= 0)
		return r;
	if (cde_cli_verifier_load("verify", a.pubkey, &v) < 0)
		return 2;
	r = open_kept(&a, v, &size, root, origin);
	if (r < 0)
		r = a.url ? cde_cli_verify_remote(a.url, a.token_file, v, size, root)
		    : cde_cli_is_pg_url(a.db) ? verify_pg(&a, v, size, root, origin)
					      : verify_file(&a, v, size, root, origin);
	cde_note_verifier_free(v);
	return r;
}
