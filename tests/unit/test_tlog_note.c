/* Signed notes and checkpoints (sinks/audit/tlog/): Go's published key
 * pair and notes (golang.org/x/mod/sumdb/note's tests) and the C2SP
 * spec's example are facts we must reproduce byte for byte; every
 * malformed key, note or checkpoint is refused with a reason. */

#include "tests/unit/helpers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"

#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define TEXT "If you think cryptography is the answer to your problem,\n" \
	     "then you don't know what your problem is.\n"
#define PETER_SIG "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_SIG "\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
/* PETER_SIG with "ABCD" in its base64: still base64, no longer the signature. */
#define PETER_BAD "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqABCDdngotpRZb6KE6RyyBwJnAM=\n"

static struct cde_note_verifier *verifier(const char *vkey)
{
	struct cde_note_verifier *v = NULL;
	char err[256];

	assert_int_equal(cde_note_verifier_parse(vkey, &v, err, sizeof(err)), 0);
	return v;
}

static struct cde_note_signer *signer(const char *skey)
{
	struct cde_note_signer *s = NULL;
	char err[256];

	assert_int_equal(cde_note_signer_parse(skey, &s, err, sizeof(err)), 0);
	return s;
}

static void go_published_key_pair_parses_and_matches(void **state)
{
	struct cde_note_signer *s = signer(PETER_SKEY);
	struct cde_note_verifier *v = verifier(PETER_VKEY);
	char *vkey;

	assert_string_equal(cde_note_signer_name(s), "PeterNeumann");
	assert_int_equal(cde_note_signer_key_id(s), 0xc74f20a3);
	assert_string_equal(cde_note_verifier_name(v), "PeterNeumann");
	assert_int_equal(cde_note_verifier_key_id(v), 0xc74f20a3);
	assert_int_equal(cde_note_signer_verifier_key(s, &vkey), 0);
	assert_string_equal(vkey, PETER_VKEY);
	free(vkey);
	cde_note_signer_free(s);
	cde_note_verifier_free(v);
}

static void signing_go_published_text_gives_go_published_note(void **state)
{
	struct cde_note_signer *s = signer(PETER_SKEY);
	char *note, err[256];
	size_t len;

	assert_int_equal(cde_note_sign(TEXT, strlen(TEXT), s, &note, &len, err, sizeof(err)), 0);
	assert_string_equal(note, TEXT "\n" PETER_SIG);
	assert_int_equal(len, strlen(note));
	free(note);
	cde_note_signer_free(s);
}

static void go_published_note_opens_with_known_keys_and_ignores_others(void **state)
{
	struct cde_note_verifier *vs[2] = { verifier(PETER_VKEY), verifier(ENOCH_VKEY) };
	const char *msg = TEXT "\n" PETER_SIG ENOCH_SIG;
	bool signed_by[2] = { false, false };
	char *text, err[256];
	size_t len;

	/* Enoch's key unknown: his signature is ignored. */
	assert_int_equal(cde_note_open(msg, strlen(msg), vs, 1, &text, &len, signed_by, err, sizeof(err)), 0);
	assert_string_equal(text, TEXT);
	assert_int_equal(len, strlen(TEXT));
	assert_true(signed_by[0]);
	free(text);
	assert_int_equal(cde_note_open(msg, strlen(msg), vs, 2, &text, NULL, signed_by, err, sizeof(err)), 0);
	assert_true(signed_by[0] && signed_by[1]);
	free(text);
	/* Only Enoch known: Peter's signature is the ignored one. */
	assert_int_equal(cde_note_open(msg, strlen(msg), vs + 1, 1, &text, NULL, signed_by, err, sizeof(err)), 0);
	free(text);
	cde_note_verifier_free(vs[0]);
	cde_note_verifier_free(vs[1]);
}

static void c2sp_spec_example_note_opens(void **state)
{
	struct cde_note_verifier *v = verifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
	const char *msg = "This is an example message.\n\n\xe2\x80\x94 example.com/foo "
			  "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
	char *text, err[256];

	assert_int_equal(cde_note_open(msg, strlen(msg), &v, 1, &text, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(text, "This is an example message.\n");
	free(text);
	cde_note_verifier_free(v);
}

/* Go's own test: every proper substring and every one-byte change of a
 * key string is refused. */
static void every_mangled_key_string_is_refused(void **state)
{
	const char *keys[] = { PETER_VKEY, PETER_SKEY };

	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(keys[k]);
		char *b = strdup(keys[k]), *sub = malloc(n + 1), err[256];

		for (size_t i = 0; i <= n; i++) {
			for (size_t j = i + 1; j <= n; j++) {
				struct cde_note_verifier *v = NULL;
				struct cde_note_signer *s = NULL;

				if (i == 0 && j == n)
					continue;
				memcpy(sub, keys[k] + i, j - i);
				sub[j - i] = '\0';
				assert_int_equal(k ? cde_note_signer_parse(sub, &s, err, sizeof(err))
						   : cde_note_verifier_parse(sub, &v, err, sizeof(err)), -EINVAL);
				assert_true(err[0] != '\0');
			}
		}
		for (size_t i = 0; i < n; i++) {
			struct cde_note_verifier *v = NULL;
			struct cde_note_signer *s = NULL;

			b[i]++;
			assert_int_equal(k ? cde_note_signer_parse(b, &s, err, sizeof(err))
					   : cde_note_verifier_parse(b, &v, err, sizeof(err)), -EINVAL);
			b[i]--;
		}
		free(b);
		free(sub);
	}
}

static void bad_key_strings_are_refused_with_the_reason(void **state)
{
	static const struct {
		const char *key, *reason;
	} cases[] = {
		/* Go's: a key of the wrong length, and an unknown algorithm, each with a matching key ID. */
		{ "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "canonical base64" },
		{ "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "unknown key algorithm 0x65" },
		{ "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not this key's (c74f20a3)" },
		{ "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex" },
		{ "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name" },
		{ "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name" },
		{ "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T=", "canonical base64" },
		{ "PeterNeumann+c74f20a3", "not <name>+<key ID>+<key>" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cde_note_verifier *v = NULL;

		assert_int_equal(cde_note_verifier_parse(cases[i].key, &v, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].reason))
			fail_msg("%s: '%s' does not say '%s'", cases[i].key, err, cases[i].reason);
		assert_null(v);
	}
	assert_int_equal(cde_note_verifier_parse(PETER_SKEY, &(struct cde_note_verifier *){ NULL }, err,
						 sizeof(err)), -EINVAL);
	assert_int_equal(cde_note_signer_parse(PETER_VKEY, &(struct cde_note_signer *){ NULL }, err,
					       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "PRIVATE+KEY+"));
}

static void malformed_notes_are_refused_with_the_reason(void **state)
{
	static const struct {
		const char *name, *msg;
		int r;
		const char *reason;
	} cases[] = {
		{ "text only", TEXT, -EINVAL, "no blank line" },
		{ "no signature after the blank line", TEXT "\n", -EINVAL, "must follow the blank line" },
		{ "last signature without its newline", TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", -EINVAL, "each ending in a newline" },
		{ "a control character", "\x01" TEXT "\n" PETER_SIG, -EINVAL, "control characters" },
		{ "a carriage return", "a\r\n\n" PETER_SIG, -EINVAL, "control characters" },
		{ "not UTF-8", "\xff" TEXT "\n" PETER_SIG, -EINVAL, "UTF-8" },
		{ "an overlong UTF-8 slash", "\xc0\xaf\n\n" PETER_SIG, -EINVAL, "UTF-8" },
		{ "a name with a space", TEXT "\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", -EINVAL, "signature line 1" },
		{ "a name with a plus", TEXT "\n\xe2\x80\x94 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", -EINVAL, "signature line 1" },
		{ "a hyphen for the em dash", TEXT "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", -EINVAL, "em dash" },
		{ "a line after the signatures", TEXT "\n" PETER_SIG "Unexpected line.\n", -EINVAL, "signature line 2 does not start" },
		{ "non-canonical base64", TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n", -EINVAL, "canonical base64" },
		{ "base64 without padding", TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n", -EINVAL, "canonical base64" },
		{ "a signature too short for a key ID", TEXT "\n\xe2\x80\x94 PeterNeumann AAAA\n", -EINVAL, "canonical base64" },
		{ "one line twice", TEXT "\n" PETER_SIG PETER_SIG, -EINVAL, "line 2 repeats line 1" },
		{ "an unknown key only", TEXT "\n" ENOCH_SIG, -ENOKEY, "no signature by a known key (1 by other keys)" },
		{ "the known name with another key ID", TEXT "\n\xe2\x80\x94 PeterNeumann xxxxo/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", -ENOKEY, "no signature by a known key" },
		{ "a known key's bad signature", TEXT "\n" PETER_BAD, -EBADMSG, "PeterNeumann+c74f20a3 does not verify" },
		{ "a bad signature next to a good one", TEXT "\n" ENOCH_SIG PETER_BAD, -EBADMSG, "does not verify" },
		{ "the signature of another text", "If you think cryptography is the answer to your problem.\n\n" PETER_SIG, -EBADMSG, "does not verify" },
		{ "two signatures by one known key", TEXT "\n" PETER_SIG PETER_BAD, -EINVAL, "two signatures by key PeterNeumann+c74f20a3" },
	};
	struct cde_note_verifier *v = verifier(PETER_VKEY);
	char *text = NULL, err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int r = cde_note_open(cases[i].msg, strlen(cases[i].msg), &v, 1, &text, NULL, NULL, err, sizeof(err));

		if (r != cases[i].r || !strstr(err, cases[i].reason))
			fail_msg("%s: %d '%s', want %d '%s'", cases[i].name, r, err, cases[i].r, cases[i].reason);
		assert_null(text);
	}
	cde_note_verifier_free(v);
}

static void notes_past_the_caps_are_refused(void **state)
{
	struct cde_note_verifier *v[2] = { verifier(PETER_VKEY), NULL };
	size_t size = CDE_NOTE_MAX_SIZE + 1, at;
	char *msg = malloc(size + 1), *text = NULL, err[256];

	/* Over 1 MiB. */
	memset(msg, 'a', size);
	memcpy(msg + size - strlen("\n\n" PETER_SIG), "\n\n" PETER_SIG, strlen("\n\n" PETER_SIG));
	assert_int_equal(cde_note_open(msg, size, v, 1, &text, NULL, NULL, err, sizeof(err)), -EFBIG);
	/* 101 signatures, all different (unknown keys), then Peter's. */
	at = (size_t)sprintf(msg, TEXT "\n");
	for (int i = 0; i < 101; i++)
		at += (size_t)sprintf(msg + at, "\xe2\x80\x94 k%d AAAAAAAA\n", i);
	at += (size_t)sprintf(msg + at, PETER_SIG);
	assert_int_equal(cde_note_open(msg, at, v, 1, &text, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 100 signatures"));
	/* Two verifiers with one name and key ID: which one is meant? */
	v[1] = verifier(PETER_VKEY);
	strcpy(msg, TEXT "\n" PETER_SIG);
	assert_int_equal(cde_note_open(msg, strlen(msg), v, 2, &text, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "two verifier keys are named PeterNeumann+c74f20a3"));
	assert_null(text);
	/* As in Go: a pair that no signature names does not matter. */
	struct cde_note_verifier *three[3] = { verifier(ENOCH_VKEY), v[0], verifier(ENOCH_VKEY) };
	assert_int_equal(cde_note_open(msg, strlen(msg), three, 3, &text, NULL, NULL, err, sizeof(err)), 0);
	free(text);
	cde_note_verifier_free(three[0]);
	cde_note_verifier_free(three[2]);
	free(msg);
	cde_note_verifier_free(v[0]);
	cde_note_verifier_free(v[1]);
}

static void signing_refuses_a_text_a_note_cannot_carry(void **state)
{
	static const char *texts[] = { "", "abc", "a\x01\n", "\xff\n", "a\tb\n" };
	struct cde_note_signer *s = signer(PETER_SKEY);
	char *note = NULL, err[256];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		err[0] = '\0';
		assert_int_equal(cde_note_sign(texts[i], strlen(texts[i]), s, &note, NULL, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
		assert_null(note);
	}
	cde_note_signer_free(s);
}

static void generated_keys_sign_and_open_and_refuse_bad_names(void **state)
{
	static const char *bad[] = { "", "a+b", "a b", "a\tb", "a\xc2\xa0" "b", "a\xe3\x80\x80" "b", "\xff" };
	struct cde_note_verifier *v;
	struct cde_note_signer *s;
	char *skey, *vkey, *note, *text, *again, err[256];
	bool signed_by = false;

	assert_int_equal(cde_note_keygen("cdeventsd.example/log", &skey, &vkey), 0);
	assert_true(strncmp(skey, "PRIVATE+KEY+cdeventsd.example/log+", strlen("PRIVATE+KEY+cdeventsd.example/log+")) == 0);
	assert_true(strncmp(vkey, "cdeventsd.example/log+", strlen("cdeventsd.example/log+")) == 0);
	s = signer(skey);
	v = verifier(vkey);
	assert_int_equal(cde_note_signer_verifier_key(s, &again), 0);
	assert_string_equal(again, vkey);
	assert_int_equal(cde_note_sign("hello\n", 6, s, &note, NULL, err, sizeof(err)), 0);
	assert_int_equal(cde_note_open(note, strlen(note), &v, 1, &text, NULL, &signed_by, err, sizeof(err)), 0);
	assert_string_equal(text, "hello\n");
	assert_true(signed_by);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cde_note_keygen(bad[i], &(char *){ NULL }, &(char *){ NULL }), -EINVAL);
	free(skey), free(vkey), free(again), free(note), free(text);
	cde_note_signer_free(s);
	cde_note_verifier_free(v);
}

static void a_signer_key_file_others_can_read_is_refused(void **state)
{
	char path[] = "/tmp/test_tlog_note_XXXXXX", err[256];
	struct cde_note_signer *s = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, PETER_SKEY "\n", strlen(PETER_SKEY) + 1), (ssize_t)strlen(PETER_SKEY) + 1);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cde_note_signer_read(path, &s, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cde_note_signer_read(path, &s, err, sizeof(err)), 0);
	assert_int_equal(cde_note_signer_key_id(s), 0xc74f20a3);
	s = cde_note_signer_free(s);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, PETER_VKEY "\n", strlen(PETER_VKEY) + 1), (ssize_t)strlen(PETER_VKEY) + 1);
	close(fd);
	assert_int_equal(cde_note_signer_read(path, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a signer key"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(go_published_key_pair_parses_and_matches),
		cmocka_unit_test(signing_go_published_text_gives_go_published_note),
		cmocka_unit_test(go_published_note_opens_with_known_keys_and_ignores_others),
		cmocka_unit_test(c2sp_spec_example_note_opens),
		cmocka_unit_test(every_mangled_key_string_is_refused),
		cmocka_unit_test(bad_key_strings_are_refused_with_the_reason),
		cmocka_unit_test(malformed_notes_are_refused_with_the_reason),
		cmocka_unit_test(notes_past_the_caps_are_refused),
		cmocka_unit_test(signing_refuses_a_text_a_note_cannot_carry),
		cmocka_unit_test(generated_keys_sign_and_open_and_refuse_bad_names),
		cmocka_unit_test(a_signer_key_file_others_can_read_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
