/* Signature checks for signed hooks. The body is verified as the raw bytes
 * received, before any parsing, and every comparison of secret-derived
 * bytes is CRYPTO_memcmp so timing says nothing about how much matched. */

#include "daemon/signatures.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

void cde_sig_sha256(const void *s, size_t len, uint8_t out[32])
{
	SHA256(s, len, out);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool cde_sig_github_verify(const uint8_t *secret, size_t secret_len, const char *body, size_t len,
			   const char *header)
{
	uint8_t want[32], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;

	if (!header || strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_value(header[7 + 2 * i]), lo = hex_value(header[8 + 2 * i]);

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

bool cde_sig_standard_verify(const uint8_t *key, size_t key_len, const char *id,
			     const char *timestamp, const char *body, size_t len,
			     const char *signatures)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	size_t il, tl;
	uint8_t *signed_content;
	bool ok = false;

	if (!id || !timestamp || !signatures || strchr(id, '.'))
		return false;
	/* The signed content is "<id>.<timestamp>.<body>". */
	il = strlen(id);
	tl = strlen(timestamp);
	signed_content = malloc(il + tl + 2 + len);
	if (!signed_content)
		return false;
	memcpy(signed_content, id, il);
	signed_content[il] = '.';
	memcpy(signed_content + il + 1, timestamp, tl);
	signed_content[il + 1 + tl] = '.';
	memcpy(signed_content + il + tl + 2, body, len);
	if (!HMAC(EVP_sha256(), key, (int)key_len, signed_content, il + tl + 2 + len, mac, &mac_len))
		mac_len = 0;
	free(signed_content);
	if (mac_len != 32)
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
