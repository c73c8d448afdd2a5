/* cdevctl audit keygen: a new Ed25519 key pair for signing the audit
 * log's checkpoints. The signer key goes to a file only its owner can
 * read, created anew (an existing key is never overwritten: losing it
 * would orphan every checkpoint signed with it); the verifier key, which
 * auditors keep, is printed and written next to it as FILE.pub. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"

static const char usage[] =
	"usage: cdevctl audit keygen --name NAME --out FILE\n"
	"  Makes an Ed25519 key pair for signed checkpoints (C2SP signed-note, the\n"
	"  key formats of Go's golang.org/x/mod/sumdb/note). Writes the signer key\n"
	"  to FILE (mode 0600) and the verifier key to FILE.pub, and prints the\n"
	"  verifier key. NAME is the log's name, say example.com/cdeventsd: no\n"
	"  spaces, no '+'. FILE and FILE.pub must not exist.\n";

/* Writes @line and a newline to a new file @path of mode @mode. */
static int write_new(const char *path, const char *line, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t len = strlen(line);
	int r = 0;

	if (fd < 0)
		return -errno;
	/* The umask may only take bits away; the mode is exactly @mode. A
	 * short write sets no errno: clear the one an earlier call left. */
	errno = 0;
	if (fchmod(fd, mode) < 0 || write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

static int write_keys(const char *out, const char *skey, const char *vkey)
{
	size_t n = strlen(out) + sizeof(".pub");
	char *pub = malloc(n);
	int r;

	if (!pub) {
		fprintf(stderr, "cdevctl audit keygen: out of memory\n");
		return 2;
	}
	snprintf(pub, n, "%s.pub", out);
	r = access(pub, F_OK) == 0 ? -EEXIST : write_new(out, skey, 0600);
	if (r < 0) {
		const char *path = r == -EEXIST && access(pub, F_OK) == 0 ? pub : out;

		fprintf(stderr, "cdevctl audit keygen: %s: %s\n", path,
			r == -EEXIST ? "exists: refusing to overwrite a key" : strerror(-r));
		free(pub);
		return 2;
	}
	r = write_new(pub, vkey, 0644);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit keygen: %s: %s\n", pub, strerror(-r));
		unlink(out);
		free(pub);
		return 2;
	}
	fprintf(stderr, "cdevctl audit keygen: signer key in %s, verifier key in %s\n", out, pub);
	free(pub);
	return 0;
}

int cde_cmd_audit_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *name = NULL, *out = NULL;
	char *skey, *vkey;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || !name || !out) {
		fputs(usage, stderr);
		return 2;
	}
	if (!cde_note_name_valid(name, strlen(name))) {
		fprintf(stderr, "cdevctl audit keygen: --name '%s': a key name is non-empty UTF-8 without "
			"spaces, '+' or control characters\n", name);
		return 2;
	}
	r = cde_note_keygen(name, &skey, &vkey);
	if (r < 0) {
		fprintf(stderr, "cdevctl audit keygen: %s\n", strerror(-r));
		return 2;
	}
	r = write_keys(out, skey, vkey);
	if (r == 0)
		printf("%s\n", vkey);
	explicit_bzero(skey, strlen(skey));
	free(skey);
	free(vkey);
	return r;
}
