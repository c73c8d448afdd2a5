/* note_tool: signs and opens signed notes with libcde's tlog layer, so
 * the note-crosscheck test can hold them against Node's crypto. A test
 * helper only (not installed): cdevctl has no command that signs
 * arbitrary text, on purpose.
 *
 *   note_tool sign KEYFILE < text      prints the signed note
 *   note_tool open VKEY... < note      prints the text; on stderr, the
 *                                      names of the keys that signed
 * Exit status: 0 done, 1 refused (the reason on stderr), 2 usage. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/read_file.h"
#include "sinks/audit/tlog/note.h"

static int sign(const char *keyfile, const char *in, size_t len)
{
	struct cde_note_signer *s;
	char err[512], *note;
	size_t n;

	if (cde_note_signer_read(keyfile, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "note_tool: %s\n", err);
		return 1;
	}
	if (cde_note_sign(in, len, s, &note, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "note_tool: %s\n", err);
		cde_note_signer_free(s);
		return 1;
	}
	fwrite(note, 1, n, stdout);
	free(note);
	cde_note_signer_free(s);
	return 0;
}

static int open_note(char **vkeys, int n, const char *in, size_t len)
{
	struct cde_note_verifier **vs = calloc((size_t)n, sizeof(*vs));
	bool *signed_by = calloc((size_t)n, sizeof(bool));
	char err[512], *text = NULL;
	size_t text_len;
	int r = 1;

	if (!vs || !signed_by)
		goto out;
	for (int i = 0; i < n; i++)
		if (cde_note_verifier_parse(vkeys[i], &vs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "note_tool: %s: %s\n", vkeys[i], err);
			goto out;
		}
	if (cde_note_open(in, len, vs, (size_t)n, &text, &text_len, signed_by, err, sizeof(err)) < 0) {
		fprintf(stderr, "note_tool: %s\n", err);
		goto out;
	}
	fwrite(text, 1, text_len, stdout);
	for (int i = 0; i < n; i++)
		if (signed_by[i])
			fprintf(stderr, "signed by %s\n", cde_note_verifier_name(vs[i]));
	r = 0;
out:
	for (int i = 0; vs && i < n; i++)
		cde_note_verifier_free(vs[i]);
	free(vs);
	free(signed_by);
	free(text);
	return r;
}

int main(int argc, char **argv)
{
	char *in;
	size_t len;
	int r;

	if (argc < 3 || (strcmp(argv[1], "sign") != 0 && strcmp(argv[1], "open") != 0) ||
	    (strcmp(argv[1], "sign") == 0 && argc != 3)) {
		fputs("usage: note_tool sign KEYFILE < text | note_tool open VKEY... < note\n", stderr);
		return 2;
	}
	/* Past the cap, so that the library's own size check is what refuses. */
	r = cde_read_file("-", 2 * CDE_NOTE_MAX_SIZE, &in, &len);
	if (r < 0) {
		fprintf(stderr, "note_tool: standard input: %s\n", strerror(-r));
		return 2;
	}
	r = strcmp(argv[1], "sign") == 0 ? sign(argv[2], in, len) : open_note(argv + 2, argc - 2, in, len);
	free(in);
	return r;
}
