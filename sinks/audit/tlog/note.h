#pragma once
/* Signed notes (C2SP signed-note) with Ed25519 keys, in the key string
 * formats of Go's golang.org/x/mod/sumdb/note, so keys and notes pass
 * between this and Go tooling:
 *
 *   signer key    PRIVATE+KEY+<name>+<key ID hex8>+base64(0x01 || seed)
 *   verifier key  <name>+<key ID hex8>+base64(0x01 || public key)
 *   key ID        SHA-256(name || "\n" || 0x01 || public key)[:4], big-endian
 *
 * A note is its text (ending in a newline), a blank line, then lines
 * "— <name> base64(key ID || signature)". Key names are checked with
 * cde_note_name_valid (note_text.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps on what cde_note_open reads: a note past these is refused. */
#define CDE_NOTE_MAX_SIZE (1024 * 1024)
#define CDE_NOTE_MAX_SIGNATURES 100
/* The longest key string (a key file's line) we read. */
#define CDE_NOTE_KEY_MAX 1024

struct cde_note_signer;
struct cde_note_verifier;

/* Makes a new Ed25519 key pair named @name and returns its signer key and
 * verifier key strings (malloc'd; the caller wipes @ret_signer with
 * OPENSSL_cleanse or explicit_bzero before freeing it). Returns 0,
 * -EINVAL for a bad name, -ENOMEM, or -EIO when libcrypto fails. */
int cde_note_keygen(const char *name, char **ret_signer, char **ret_verifier);

/* Parses a signer key string. Returns 0, or -EINVAL with the reason in
 * @err (malformed, unknown algorithm, or a key ID that is not the key's),
 * -ENOMEM or -EIO. The signer is freed with cde_note_signer_free. */
int cde_note_signer_parse(const char *text, struct cde_note_signer **ret, char *err, size_t err_size);

/* Reads a signer key from the file @path (one line). The file must be
 * private to its owner, as cde_read_secret checks: -EPERM otherwise. The
 * reason of any error is in @err. */
int cde_note_signer_read(const char *path, struct cde_note_signer **ret, char *err, size_t err_size);

/* Frees @s (NULL is fine), wiping its key. Returns NULL. */
struct cde_note_signer *cde_note_signer_free(struct cde_note_signer *s);

/* The signer's key name and key ID. */
const char *cde_note_signer_name(const struct cde_note_signer *s);
uint32_t cde_note_signer_key_id(const struct cde_note_signer *s);

/* The verifier key string that goes with @s (malloc'd). Returns 0,
 * -ENOMEM or -EIO. */
int cde_note_signer_verifier_key(const struct cde_note_signer *s, char **ret);

/* Parses a verifier key string. Returns 0 or -EINVAL with the reason in
 * @err, -ENOMEM, -EIO. Freed with cde_note_verifier_free. */
int cde_note_verifier_parse(const char *text, struct cde_note_verifier **ret, char *err, size_t err_size);

/* Frees @v (NULL is fine). Returns NULL. */
struct cde_note_verifier *cde_note_verifier_free(struct cde_note_verifier *v);

const char *cde_note_verifier_name(const struct cde_note_verifier *v);
uint32_t cde_note_verifier_key_id(const struct cde_note_verifier *v);

/* Signs the @len bytes of @text with @s and returns the signed note
 * (malloc'd, NUL-terminated, its length in @ret_len when not NULL). The
 * text must be non-empty, end in a newline, be UTF-8 without control
 * characters other than newline, and leave room for the signature under
 * CDE_NOTE_MAX_SIZE: -EINVAL otherwise, the reason in @err. */
int cde_note_sign(const char *text, size_t len, const struct cde_note_signer *s, char **ret_note,
		  size_t *ret_len, char *err, size_t err_size);

/* Opens the signed note @msg (@len bytes) against the @n verifiers @vs:
 * checks its form, ignores signatures by keys not in @vs (as the spec
 * requires, so a log can rotate keys and witnesses can cosign), verifies
 * the others. On success returns 0, the note's text (malloc'd,
 * NUL-terminated) in @ret_text and its length in @ret_text_len, and when
 * @ret_signed is not NULL sets @ret_signed[i] for each verifier i whose
 * signature verified. Errors, the reason in @err:
 *   -EFBIG     over CDE_NOTE_MAX_SIZE;
 *   -EINVAL    malformed: not UTF-8, a control character, no blank line
 *              before the signatures, a line that is not a signature,
 *              bad base64, more than CDE_NOTE_MAX_SIGNATURES signatures,
 *              one line twice, two signatures by one known key, or two
 *              verifiers in @vs with the same name and key ID;
 *   -EBADMSG   a signature by a known key does not verify;
 *   -ENOKEY    no signature by a key in @vs;
 *   -ENOMEM. */
int cde_note_open(const char *msg, size_t len, struct cde_note_verifier *const *vs, size_t n,
		  char **ret_text, size_t *ret_text_len, bool *ret_signed, char *err, size_t err_size);
