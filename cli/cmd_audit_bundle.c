/* cdevctl audit verify-bundle: an evidence bundle checked with the log's
 * public key alone (sinks/audit/audit_bundle_proof.c): its chain, each
 * event's receipt against the bundle's signed checkpoint, and that each
 * receipt's entry is the bundle's own event. What the key cannot vouch
 * for (events newer than the checkpoint) is counted aloud. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/tlog/note.h"

static const char usage[] =
	"usage: cdevctl audit verify-bundle --pubkey KEY BUNDLE\n"
	"  Checks an evidence bundle (cdevctl audit export) with the log's public key\n"
	"  only: every event's inclusion proof against the bundle's signed checkpoint,\n"
	"  and that the proof's entry is the bundle's event. KEY is the verifier key\n"
	"  (name+id+base64) or a file holding it (the FILE.pub of cdevctl audit keygen).\n"
	"  Exit 0 when it holds, 1 with the first bad seq, 2 on usage or I/O errors.\n";

/* The verifier key @arg, given as the key itself or as a file of it. */
static int read_pubkey(const char *arg, struct cde_note_verifier **ret)
{
	char *text = NULL, err[256];
	size_t len = 0;
	int r;

	if (cde_read_file(arg, 4096, &text, &len) == 0)
		text[strcspn(text, "\r\n")] = '\0';
	r = cde_note_verifier_parse(text ? text : arg, ret, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "cdevctl audit verify-bundle: --pubkey %s: %s\n", arg, err);
	free(text);
	return r;
}

static int check(FILE *f, const char *path, struct cde_note_verifier *v)
{
	struct cde_audit_verify out;
	struct cde_audit_bundle_proofs proofs;
	int r = cde_audit_bundle_verify_signed(f, &v, 1, &out, &proofs);

	if (r == -EINVAL) {
		fprintf(stderr, "cdevctl audit verify-bundle: %s: not an evidence bundle\n", path);
		return 2;
	}
	if (r == -EBADMSG) {
		printf("broken at seq %llu: %s\n", (unsigned long long)out.bad_seq, out.reason);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "cdevctl audit verify-bundle: %s: %s\n", path, strerror(-r));
		return 2;
	}
	printf("verified: %llu events proven in %s's signed checkpoint of %llu entries", (unsigned long long)proofs.proven,
	       proofs.origin[0] ? proofs.origin : "the log", (unsigned long long)proofs.tree_size);
	if (proofs.unproven)
		printf("; %llu newer events not proven yet (no checkpoint covers them)",
		       (unsigned long long)proofs.unproven);
	printf("\n");
	return 0;
}

int cde_cmd_audit_verify_bundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cde_note_verifier *v = NULL;
	const char *pubkey = NULL;
	FILE *f;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k') {
			pubkey = optarg;
		} else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!pubkey || optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (read_pubkey(pubkey, &v) < 0)
		return 2;
	f = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
	if (!f) {
		fprintf(stderr, "cdevctl audit verify-bundle: %s: %s\n", argv[optind], strerror(errno));
		cde_note_verifier_free(v);
		return 2;
	}
	rc = check(f, argv[optind], v);
	if (f != stdin)
		fclose(f);
	cde_note_verifier_free(v);
	return rc;
}
