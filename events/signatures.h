#pragma once
/* Request signatures: GitHub's X-Hub-Signature-256 and Standard Webhooks,
 * checked on hooks the daemon receives and made on the webhooks it sends.
 * Pure functions over the raw body; comparisons are constant-time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDE_SIG_KEY_MAX 256

/* GitHub: @header is "sha256=<hex HMAC-SHA256(secret, body)>". */
bool cde_sig_github_verify(const uint8_t *secret, size_t secret_len, const char *body, size_t len,
			   const char *header);

/* Standard Webhooks: decodes a "whsec_<base64>" secret (the prefix is
 * optional) into @key. Returns the key length, or -EINVAL. */
int cde_sig_standard_decode_secret(const char *secret, uint8_t key[CDE_SIG_KEY_MAX]);

/* Standard Webhooks: true when one of the space-separated "v1,<base64>"
 * entries of @signatures is the HMAC-SHA256 of "<id>.<timestamp>.<body>"
 * under @key (several entries allow key rotation). */
bool cde_sig_standard_verify(const uint8_t *key, size_t key_len, const char *id,
			     const char *timestamp, const char *body, size_t len,
			     const char *signatures);

#define CDE_SIG_STANDARD_LEN 48	/* "v1," + 44 base64 digits + NUL */

/* Standard Webhooks, the sending side: writes "v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">" into @out. Returns 0, or -EINVAL when @id
 * holds a '.' (the receiver could not split the signed string). */
int cde_sig_standard_sign(const uint8_t *key, size_t key_len, const char *id, const char *timestamp,
			  const char *body, size_t len, char out[CDE_SIG_STANDARD_LEN]);

/* SHA-256 of @s, for comparing secrets of any length in constant time.
 * 0, or -ENOMEM (@out is then not a digest: never compare it). */
int cde_sig_sha256(const void *s, size_t len, uint8_t out[32]) __attribute__((warn_unused_result));
