/* Signed notes (c2sp.org/signed-note) with Ed25519 through libcrypto.
 * Keys are read and written in the string formats of Go's
 * golang.org/x/mod/sumdb/note so either side can check the other's notes.
 * Parsing is strict: a note is accepted only in the one spelling that
 * Sign produces (canonical base64, no repeated lines), because a verifier
 * that repairs input can be shown a note other tools read differently.
 * Signatures by unknown keys are ignored, as the spec requires (key
 * rotation, witness cosignatures); one by a known key must verify. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "schemas/base/read_file.h"
#include "schemas/base/sha256.h"
#include "sinks/audit/tlog/note.h"
#include "sinks/audit/tlog/note_text.h"

#define ALG_ED25519 0x01
#define ED25519_KEY 32
#define ED25519_SIG 64
/* base64(0x01 || 32 bytes) */
#define KEY_B64_LEN CDE_B64_LEN(1 + ED25519_KEY)
#define EM_DASH_SPACE "\xe2\x80\x94 "

/* A signer and a verifier hold the same things; the pkey has the private
 * half only in a signer. */
struct cde_note_key {
	char *name;
	uint32_t id;
	EVP_PKEY *pkey;
};

struct cde_note_signer {
	struct cde_note_key k;
};

struct cde_note_verifier {
	struct cde_note_key k;
};

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	if (size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* SHA-256(name || "\n" || 0x01 || pub)[:4] as a big-endian number. */
static int key_id(const char *name, const uint8_t pub[ED25519_KEY], uint32_t *ret)
{
	static const uint8_t sep[2] = { '\n', ALG_ED25519 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, cde_sha256_md(), NULL) &&
	     EVP_DigestUpdate(ctx, name, strlen(name)) && EVP_DigestUpdate(ctx, sep, sizeof(sep)) &&
	     EVP_DigestUpdate(ctx, pub, ED25519_KEY) && EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	*ret = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	return 0;
}

/* "<name>+<id hex8>+<base64(0x01 || key)>", optionally behind @prefix. */
static int key_string(const char *prefix, const char *name, uint32_t id, const uint8_t key[ED25519_KEY],
		      char **ret)
{
	uint8_t raw[1 + ED25519_KEY] = { ALG_ED25519 };
	char b64[KEY_B64_LEN + 1];
	size_t size = strlen(prefix) + strlen(name) + 1 + 8 + 1 + KEY_B64_LEN + 1;
	char *s = malloc(size);

	memcpy(raw + 1, key, ED25519_KEY);
	cde_b64_encode(b64, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!s) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return -ENOMEM;
	}
	snprintf(s, size, "%s%s+%08x+%s", prefix, name, (unsigned)id, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	*ret = s;
	return 0;
}

static int raw_public(EVP_PKEY *pkey, uint8_t pub[ED25519_KEY])
{
	size_t n = ED25519_KEY;

	return EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 && n == ED25519_KEY ? 0 : -EIO;
}

int cde_note_keygen(const char *name, char **ret_signer, char **ret_verifier)
{
	uint8_t seed[ED25519_KEY], pub[ED25519_KEY];
	size_t n = sizeof(seed);
	char *signer = NULL, *verifier = NULL;
	EVP_PKEY *pkey;
	uint32_t id;
	int r = -EIO;

	if (!cde_note_name_valid(name, strlen(name)))
		return -EINVAL;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey)
		return -EIO;
	if (EVP_PKEY_get_raw_private_key(pkey, seed, &n) != 1 || n != sizeof(seed) || raw_public(pkey, pub) < 0)
		goto out;
	r = key_id(name, pub, &id);
	if (r == 0)
		r = key_string("PRIVATE+KEY+", name, id, seed, &signer);
	if (r == 0)
		r = key_string("", name, id, pub, &verifier);
	if (r < 0) {
		if (signer)
			OPENSSL_cleanse(signer, strlen(signer));
		free(signer);
		goto out;
	}
	*ret_signer = signer;
	*ret_verifier = verifier;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	EVP_PKEY_free(pkey);
	return r;
}

/* Splits "<name>+<hex8>+<base64>" (the base64 may hold '+' itself) and
 * decodes the Ed25519 key material into @key. */
static int split_key(const char *text, char **ret_name, uint32_t *ret_id, uint8_t key[ED25519_KEY],
		     char *err, size_t err_size)
{
	const char *p1 = strchr(text, '+'), *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	uint8_t raw[3 * (KEY_B64_LEN / 4)];
	uint32_t id = 0;
	int n;

	if (!p2)
		return fail(err, err_size, -EINVAL, "not <name>+<key ID>+<key>");
	if (!cde_note_name_valid(text, (size_t)(p1 - text)))
		return fail(err, err_size, -EINVAL, "the key name is empty or holds a space, '+' or a control character");
	if (p2 - p1 - 1 != 8)
		return fail(err, err_size, -EINVAL, "the key ID is not 8 hex digits");
	for (const char *p = p1 + 1; p < p2; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;

		if (d < 0)
			return fail(err, err_size, -EINVAL, "the key ID is not 8 lowercase hex digits");
		id = id << 4 | (uint32_t)d;
	}
	if (strlen(p2 + 1) > KEY_B64_LEN || (n = cde_b64_decode(raw, p2 + 1, strlen(p2 + 1))) < 1)
		return fail(err, err_size, -EINVAL, "the key is not canonical base64 of an Ed25519 key");
	if (raw[0] != ALG_ED25519 || n != 1 + ED25519_KEY) {
		int alg = raw[0];

		/* A signer key's seed may be in there, even if malformed. */
		OPENSSL_cleanse(raw, sizeof(raw));
		if (alg != ALG_ED25519)
			return fail(err, err_size, -EINVAL, "unknown key algorithm 0x%02x (only Ed25519, 0x01)", alg);
		return fail(err, err_size, -EINVAL, "an Ed25519 key is 32 bytes, not %d", n - 1);
	}
	memcpy(key, raw + 1, ED25519_KEY);
	OPENSSL_cleanse(raw, sizeof(raw));
	*ret_name = strndup(text, (size_t)(p1 - text));
	if (!*ret_name)
		return -ENOMEM;
	*ret_id = id;
	return 0;
}

/* Fills @k from a key string; @private says which half it holds. */
static int key_parse(const char *text, bool private, struct cde_note_key *k, char *err, size_t err_size)
{
	uint8_t key[ED25519_KEY], pub[ED25519_KEY];
	uint32_t want;
	int r;

	r = split_key(text, &k->name, &k->id, key, err, err_size);
	if (r < 0)
		return r;
	k->pkey = private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key, sizeof(key))
			  : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	r = k->pkey ? raw_public(k->pkey, pub) : -EIO;
	if (r == 0)
		r = key_id(k->name, pub, &want);
	if (r == 0 && want != k->id)
		r = fail(err, err_size, -EINVAL, "the key ID %08x is not this key's (%08x)", (unsigned)k->id,
			 (unsigned)want);
	if (r == -EIO)
		fail(err, err_size, r, "libcrypto refused the key");
	if (r < 0) {
		EVP_PKEY_free(k->pkey);
		free(k->name);
	}
	return r;
}

int cde_note_signer_parse(const char *text, struct cde_note_signer **ret, char *err, size_t err_size)
{
	static const char prefix[] = "PRIVATE+KEY+";
	struct cde_note_signer *s;
	int r;

	if (strncmp(text, prefix, sizeof(prefix) - 1) != 0)
		return fail(err, err_size, -EINVAL, "a signer key starts with PRIVATE+KEY+");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, err_size, -ENOMEM, "out of memory");
	r = key_parse(text + sizeof(prefix) - 1, true, &s->k, err, err_size);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int cde_note_signer_read(const char *path, struct cde_note_signer **ret, char *err, size_t err_size)
{
	char *text, reason[160];
	size_t len;
	int r = cde_read_secret(path, CDE_NOTE_KEY_MAX, &text, &len);

	if (r < 0)
		return fail(err, err_size, r, "%s: %s", path, cde_read_secret_strerror(r));
	r = cde_note_signer_parse(text, ret, reason, sizeof(reason));
	OPENSSL_cleanse(text, len);
	free(text);
	if (r < 0)
		return fail(err, err_size, r, "%s: not a signer key: %s", path, reason);
	return 0;
}

/* Frees @k and the struct that starts with it. */
static void key_free(struct cde_note_key *k)
{
	if (k) {
		EVP_PKEY_free(k->pkey);
		free(k->name);
		free(k);
	}
}

struct cde_note_signer *cde_note_signer_free(struct cde_note_signer *s)
{
	key_free(s ? &s->k : NULL);
	return NULL;
}

const char *cde_note_signer_name(const struct cde_note_signer *s)
{
	return s->k.name;
}

uint32_t cde_note_signer_key_id(const struct cde_note_signer *s)
{
	return s->k.id;
}

int cde_note_signer_verifier_key(const struct cde_note_signer *s, char **ret)
{
	uint8_t pub[ED25519_KEY];
	int r = raw_public(s->k.pkey, pub);

	return r < 0 ? r : key_string("", s->k.name, s->k.id, pub, ret);
}

int cde_note_verifier_parse(const char *text, struct cde_note_verifier **ret, char *err, size_t err_size)
{
	struct cde_note_verifier *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return fail(err, err_size, -ENOMEM, "out of memory");
	r = key_parse(text, false, &v->k, err, err_size);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	return 0;
}

struct cde_note_verifier *cde_note_verifier_free(struct cde_note_verifier *v)
{
	key_free(v ? &v->k : NULL);
	return NULL;
}

const char *cde_note_verifier_name(const struct cde_note_verifier *v)
{
	return v->k.name;
}

uint32_t cde_note_verifier_key_id(const struct cde_note_verifier *v)
{
	return v->k.id;
}

/* The signature line "— <name> base64(id || sig)\n" for @text. */
static int sign_line(const struct cde_note_key *k, const char *text, size_t len, char **ret, size_t *ret_len)
{
	uint8_t raw[4 + ED25519_SIG] = { k->id >> 24, k->id >> 16, k->id >> 8, k->id };
	char b64[CDE_B64_LEN(sizeof(raw)) + 1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = ED25519_SIG, size;
	int ok;

	/* Ed25519 hashes the message itself: no digest is named. */
	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, raw + 4, &n, (const uint8_t *)text, len) == 1 && n == ED25519_SIG;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	cde_b64_encode(b64, raw, sizeof(raw));
	size = strlen(EM_DASH_SPACE) + strlen(k->name) + 1 + strlen(b64) + 2;
	*ret = malloc(size);
	if (!*ret)
		return -ENOMEM;
	*ret_len = (size_t)snprintf(*ret, size, EM_DASH_SPACE "%s %s\n", k->name, b64);
	return 0;
}

int cde_note_sign(const char *text, size_t len, const struct cde_note_signer *s, char **ret_note,
		  size_t *ret_len, char *err, size_t err_size)
{
	char *line, *note;
	size_t line_len;
	int r;

	if (len == 0 || text[len - 1] != '\n')
		return fail(err, err_size, -EINVAL, "a note's text must end in a newline");
	if (!cde_note_text_valid(text, len))
		return fail(err, err_size, -EINVAL, "a note's text must be UTF-8 without control characters but newline");
	r = sign_line(&s->k, text, len, &line, &line_len);
	if (r < 0)
		return fail(err, err_size, r, r == -ENOMEM ? "out of memory" : "libcrypto could not sign");
	if (len + 1 + line_len > CDE_NOTE_MAX_SIZE) {
		free(line);
		return fail(err, err_size, -EINVAL, "the signed note would be over %d bytes", CDE_NOTE_MAX_SIZE);
	}
	note = malloc(len + 1 + line_len + 1);
	if (!note) {
		free(line);
		return fail(err, err_size, -ENOMEM, "out of memory");
	}
	memcpy(note, text, len);
	note[len] = '\n';
	memcpy(note + len + 1, line, line_len + 1);
	free(line);
	*ret_note = note;
	if (ret_len)
		*ret_len = len + 1 + line_len;
	return 0;
}

/* What cde_note_open carries from one signature line to the next. */
struct open_state {
	const char *text;
	size_t text_len;
	struct cde_note_verifier *const *vs;
	size_t n;
	bool *signed_by;	/* per verifier */
	size_t verified, unknown;
	const char *lines[CDE_NOTE_MAX_SIGNATURES];
	size_t line_lens[CDE_NOTE_MAX_SIGNATURES];
	size_t count;
	uint8_t *raw;		/* room for the longest decoded signature */
};

static bool verify(const struct cde_note_key *k, const char *text, size_t len, const uint8_t *sig, size_t n)
{
	EVP_MD_CTX *ctx;
	bool ok;

	if (n != ED25519_SIG)
		return false;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, n, (const uint8_t *)text, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The verifier in @st for a signature by @name (@name_len) with key ID @id:
 * its index, -1 when none (an unknown key), or -EINVAL when two match. */
static int find_verifier(const struct open_state *st, const char *name, size_t name_len, uint32_t id)
{
	int found = -1;

	for (size_t i = 0; i < st->n; i++) {
		const struct cde_note_key *k = &st->vs[i]->k;

		if (k->id != id || strlen(k->name) != name_len || memcmp(k->name, name, name_len) != 0)
			continue;
		if (found >= 0)
			return -EINVAL;
		found = (int)i;
	}
	return found;
}

/* Checks one signature line (@line, @len bytes, no newline), the @nth. */
static int open_line(struct open_state *st, const char *line, size_t len, char *err, size_t err_size)
{
	size_t dash = strlen(EM_DASH_SPACE), name_len;
	const char *name = line + dash, *sp;
	uint32_t id;
	int n, v;

	if (st->count == CDE_NOTE_MAX_SIGNATURES)
		return fail(err, err_size, -EINVAL, "more than %d signatures", CDE_NOTE_MAX_SIGNATURES);
	for (size_t i = 0; i < st->count; i++)
		if (st->line_lens[i] == len && memcmp(st->lines[i], line, len) == 0)
			return fail(err, err_size, -EINVAL, "signature line %zu repeats line %zu", st->count + 1, i + 1);
	st->lines[st->count] = line;
	st->line_lens[st->count++] = len;
	if (len < dash || memcmp(line, EM_DASH_SPACE, dash) != 0)
		return fail(err, err_size, -EINVAL, "signature line %zu does not start with an em dash and a space",
			    st->count);
	sp = memchr(name, ' ', len - dash);
	name_len = sp ? (size_t)(sp - name) : 0;
	if (!sp || !cde_note_name_valid(name, name_len))
		return fail(err, err_size, -EINVAL, "signature line %zu: not '— <key name> <signature>'", st->count);
	n = cde_b64_decode(st->raw, sp + 1, (size_t)(line + len - sp - 1));
	if (n < 5)
		return fail(err, err_size, -EINVAL, "signature line %zu: the signature is not canonical base64 of "
			    "a key ID and a signature", st->count);
	id = (uint32_t)st->raw[0] << 24 | (uint32_t)st->raw[1] << 16 | (uint32_t)st->raw[2] << 8 | st->raw[3];
	v = find_verifier(st, name, name_len, id);
	if (v == -EINVAL)
		return fail(err, err_size, -EINVAL, "two verifier keys are named %.*s+%08x", (int)name_len, name,
			    (unsigned)id);
	if (v < 0) {
		st->unknown++;
		return 0;
	}
	if (st->signed_by[v])
		return fail(err, err_size, -EINVAL, "two signatures by key %.*s+%08x", (int)name_len, name,
			    (unsigned)id);
	if (!verify(&st->vs[v]->k, st->text, st->text_len, st->raw + 4, (size_t)n - 4))
		return fail(err, err_size, -EBADMSG, "the signature by key %.*s+%08x does not verify",
			    (int)name_len, name, (unsigned)id);
	st->signed_by[v] = true;
	st->verified++;
	return 0;
}

/* Splits @msg into text and signature lines: the text ends at the last
 * blank line. Returns 0 with the signatures' offset in @ret_sigs. */
static int split_note(const char *msg, size_t len, size_t *ret_sigs, char *err, size_t err_size)
{
	size_t i;

	if (len > CDE_NOTE_MAX_SIZE)
		return fail(err, err_size, -EFBIG, "a note is at most %d bytes", CDE_NOTE_MAX_SIZE);
	if (!cde_note_text_valid(msg, len))
		return fail(err, err_size, -EINVAL, "a note is UTF-8 without control characters but newline");
	for (i = len; i >= 2 && !(msg[i - 2] == '\n' && msg[i - 1] == '\n'); i--)
		;
	if (i < 2)
		return fail(err, err_size, -EINVAL, "no blank line before the signatures");
	if (i == len || msg[len - 1] != '\n')
		return fail(err, err_size, -EINVAL, "the signature lines must follow the blank line, each ending "
			    "in a newline");
	*ret_sigs = i;
	return 0;
}

int cde_note_open(const char *msg, size_t len, struct cde_note_verifier *const *vs, size_t n,
		  char **ret_text, size_t *ret_text_len, bool *ret_signed, char *err, size_t err_size)
{
	struct open_state *st;
	size_t at = 0;
	char *text;
	int r = split_note(msg, len, &at, err, err_size);

	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (st) {
		st->signed_by = calloc(n ? n : 1, sizeof(bool));
		st->raw = malloc(len - at);
	}
	if (!st || !st->signed_by || !st->raw) {
		r = fail(err, err_size, -ENOMEM, "out of memory");
		goto out;
	}
	*st = (struct open_state){ .text = msg, .text_len = at - 1, .vs = vs, .n = n,
				   .signed_by = st->signed_by, .raw = st->raw };
	while (at < len && r == 0) {
		const char *nl = memchr(msg + at, '\n', len - at);

		r = open_line(st, msg + at, (size_t)(nl - msg - at), err, err_size);
		at = (size_t)(nl - msg) + 1;
	}
	if (r == 0 && st->verified == 0)
		r = fail(err, err_size, -ENOKEY, "no signature by a known key (%zu by other keys)", st->unknown);
	if (r == 0 && !(text = strndup(msg, st->text_len)))
		r = fail(err, err_size, -ENOMEM, "out of memory");
	if (r == 0) {
		*ret_text = text;
		if (ret_text_len)
			*ret_text_len = st->text_len;
		if (ret_signed)
			memcpy(ret_signed, st->signed_by, n * sizeof(bool));
	}
out:
	if (st) {
		free(st->signed_by);
		free(st->raw);
	}
	free(st);
	return r;
}
