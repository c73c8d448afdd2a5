/* Signature checks for signed hooks. The body is verified as the raw bytes
 * received, before any parsing, and every comparison of secret-derived
 * bytes is CRYPTO_memcmp so timing says nothing about how much matched. */

#include "events/signatures.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "schemas/base/hex.h"
#include "schemas/base/sha256.h"

int cde_sig_sha256(const void *s, size_t len, uint8_t out[32])
{
	return cde_sha256(s, len, out);
}

bool cde_sig_github_verify(const uint8_t *secret, size_t secret_len, const char *body, size_t len,
			   const char *header)
{
	uint8_t want[32], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;

	if (!header || strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = cde_hex_value(header[7 + 2 * i]), lo = cde_hex_value(header[8 + 2 * i]);

		if (hi < 0 || lo < 0)
			return false;
		want[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const uint8_t *)body, len, mac, &mac_len) ||
	    mac_len != 32)
		return false;
	return CRYPTO_memcmp(mac, want, 32) == 0;
}

int cde_sig_standard_decode_secret(const char *secret, uint8_t key[CDE_SIG_KEY_MAX])
{
	size_t n;
	int len;

	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	n = strlen(secret);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > CDE_SIG_KEY_MAX)
		return -EINVAL;
	len = EVP_DecodeBlock(key, (const uint8_t *)secret, (int)n);
	if (len < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts padding as bytes: take them back off. */
	if (secret[n - 1] == '=')
		len--;
	if (secret[n - 2] == '=')
		len--;
	return len > 0 ? len : -EINVAL;
}

/* HMAC-SHA256 of "<id>.<timestamp>.<body>", streamed: the body is not
 * copied, however many keys are tried. */
static bool standard_mac(const uint8_t *key, size_t key_len, const char *id, const char *timestamp,
			 const char *body, size_t len, uint8_t mac[32])
{
	/* OSSL_PARAM takes a mutable string; a writable copy, not a cast. */
	char digest_name[] = "SHA256";
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t out = 0;
	bool ok = ctx && EVP_MAC_init(ctx, key, key_len, params) &&
		  EVP_MAC_update(ctx, (const uint8_t *)id, strlen(id)) &&
		  EVP_MAC_update(ctx, (const uint8_t *)".", 1) &&
		  EVP_MAC_update(ctx, (const uint8_t *)timestamp, strlen(timestamp)) &&
		  EVP_MAC_update(ctx, (const uint8_t *)".", 1) &&
		  EVP_MAC_update(ctx, (const uint8_t *)body, len) && EVP_MAC_final(ctx, mac, &out, 32) &&
		  out == 32;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return ok;
}

bool cde_sig_standard_verify(const uint8_t *key, size_t key_len, const char *id,
			     const char *timestamp, const char *body, size_t len,
			     const char *signatures)
{
	uint8_t mac[32];
	bool ok = false;

	if (!id || !timestamp || !signatures || strchr(id, '.') ||
	    !standard_mac(key, key_len, id, timestamp, body, len, mac))
		return false;

	/* Every entry is checked, even after a match, so the time taken
	 * does not tell which entry matched. */
	for (const char *p = signatures; *p;) {
		size_t n = strcspn(p, " ");
		uint8_t sig[64];

		if (n > 3 && n - 3 == 44 && strncmp(p, "v1,", 3) == 0) {
			char b64[45];

			memcpy(b64, p + 3, 44);
			b64[44] = '\0';
			if (EVP_DecodeBlock(sig, (const uint8_t *)b64, 44) == 33 &&
			    CRYPTO_memcmp(sig, mac, 32) == 0)
				ok = true;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return ok;
}

int cde_sig_standard_sign(const uint8_t *key, size_t key_len, const char *id, const char *timestamp,
			  const char *body, size_t len, char out[CDE_SIG_STANDARD_LEN])
{
	uint8_t mac[32];

	if (strchr(id, '.') || !standard_mac(key, key_len, id, timestamp, body, len, mac))
		return -EINVAL;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((uint8_t *)out + 3, mac, 32);
	return 0;
}
