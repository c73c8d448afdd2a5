/* Hashing audit rows. The canonical form is length-prefixed so that no
 * shift of bytes between fields ("ab"+"c" vs "a"+"bc") and no NULL-versus-
 * empty confusion can give two rows the same hash input. */

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_store.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "schemas/base/read_file.h"
#include "schemas/base/sha256.h"

static void put_text(EVP_MD_CTX *ctx, const char *s)
{
	uint8_t len[4];
	uint32_t n = s ? (uint32_t)strlen(s) : 0xffffffffu;

	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	EVP_DigestUpdate(ctx, len, 4);
	if (s)
		EVP_DigestUpdate(ctx, s, n);
}

static void put_u64(EVP_MD_CTX *ctx, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	EVP_DigestUpdate(ctx, b, sizeof(b));
}

/* A SHA-256 of a record chained to @prev; NULL (and a zero @out) when
 * out of memory: a zero hash then fails verification rather than pass. */
static EVP_MD_CTX *chained(const uint8_t prev[CDE_HASH_LEN], uint8_t out[CDE_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, cde_sha256_md(), NULL)) {
		memset(out, 0, CDE_HASH_LEN);
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	EVP_DigestUpdate(ctx, prev, CDE_HASH_LEN);
	return ctx;
}

static void finish(EVP_MD_CTX *ctx, uint8_t out[CDE_HASH_LEN])
{
	unsigned len = 0;

	if (!EVP_DigestFinal_ex(ctx, out, &len) || len != CDE_HASH_LEN)
		memset(out, 0, CDE_HASH_LEN);
	EVP_MD_CTX_free(ctx);
}

void cde_audit_row_hash(const struct cde_audit_row *row, const uint8_t prev[CDE_HASH_LEN],
			uint8_t out[CDE_HASH_LEN])
{
	EVP_MD_CTX *ctx = chained(prev, out);

	if (!ctx)
		return;
	put_u64(ctx, row->seq);
	put_text(ctx, row->id);
	put_text(ctx, row->source);
	put_text(ctx, row->type);
	put_text(ctx, row->subject);
	put_text(ctx, row->chain_id);
	put_text(ctx, row->artifact_id);
	put_text(ctx, row->timestamp);
	put_text(ctx, row->received_at);
	put_text(ctx, row->spec_version);
	put_text(ctx, row->principal);
	put_text(ctx, row->peer);
	put_text(ctx, row->event);
	finish(ctx, out);
}

static const char marker_label[] = "cdeventsd retention";

int cde_audit_chain_step(uint8_t prev[CDE_HASH_LEN], const struct cde_audit_row *row, const char *prev_hex,
			 const char *hash_hex, const char **ret_why)
{
	uint8_t hash[CDE_HASH_LEN], stored[CDE_HASH_LEN];
	int r = 0;

	if (!prev_hex || cde_hash_from_hex(prev_hex, stored) < 0 || memcmp(stored, prev, CDE_HASH_LEN) != 0) {
		*ret_why = "prev_hash is not the hash of the row before";
		r = -EBADMSG;
	}
	cde_audit_row_hash(row, prev, hash);
	if (r == 0 && (!hash_hex || cde_hash_from_hex(hash_hex, stored) < 0 ||
		       memcmp(stored, hash, CDE_HASH_LEN) != 0)) {
		*ret_why = "the row's content does not match its hash";
		r = -EBADMSG;
	}
	memcpy(prev, hash, CDE_HASH_LEN);
	return r;
}

void cde_audit_marker_hash(const struct cde_audit_marker *m, const uint8_t prev[CDE_HASH_LEN],
			   uint8_t out[CDE_HASH_LEN])
{
	EVP_MD_CTX *ctx = chained(prev, out);

	if (!ctx)
		return;
	put_text(ctx, marker_label);
	put_u64(ctx, m->seq);
	put_u64(ctx, m->deleted);
	put_text(ctx, m->at);
	put_text(ctx, m->reason);
	EVP_DigestUpdate(ctx, m->anchor, CDE_HASH_LEN);
	finish(ctx, out);
}

/* HMAC-SHA256 of @label (at most 31 bytes) and @hash: the label keeps a
 * signature of one kind of record from passing for another. */
static void labelled_mac(const char *label, const uint8_t *key, size_t key_len,
			 const uint8_t hash[CDE_HASH_LEN], uint8_t mac[CDE_HASH_LEN])
{
	uint8_t msg[32 + CDE_HASH_LEN];
	size_t n = strlen(label);
	unsigned len = 0;

	memcpy(msg, label, n);
	memcpy(msg + n, hash, CDE_HASH_LEN);
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, n + CDE_HASH_LEN, mac, &len) || len != CDE_HASH_LEN)
		memset(mac, 0, CDE_HASH_LEN);
}

void cde_audit_marker_mac(const uint8_t *key, size_t key_len, const uint8_t hash[CDE_HASH_LEN],
			  uint8_t mac[CDE_HASH_LEN])
{
	labelled_mac(marker_label, key, key_len, hash, mac);
}

static const char gap_label[] = "cdeventsd gap";

int cde_audit_marker_step(uint8_t prev[CDE_HASH_LEN], uint64_t last, struct cde_audit_marker *m,
			  const struct cde_audit_marker_hex *hex, const uint8_t *key, size_t key_len,
			  const char **ret_why)
{
	uint8_t stored[CDE_HASH_LEN], hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];

	*ret_why = NULL;
	if (m->seq <= last)
		*ret_why = "retention markers out of order";
	else if (!hex->anchor || !hex->prev || cde_hash_from_hex(hex->anchor, m->anchor) < 0 ||
		 cde_hash_from_hex(hex->prev, stored) < 0 || memcmp(stored, prev, CDE_HASH_LEN) != 0)
		*ret_why = "a retention marker does not follow the one before";
	else if (cde_audit_marker_hash(m, prev, hash),
		 !hex->hash || cde_hash_from_hex(hex->hash, stored) < 0 || memcmp(stored, hash, CDE_HASH_LEN) != 0)
		*ret_why = "a retention marker's content does not match its hash";
	else if (key && (cde_audit_marker_mac(key, key_len, hash, mac),
			 !hex->mac || cde_hash_from_hex(hex->mac, stored) < 0 ||
			 CRYPTO_memcmp(stored, mac, CDE_HASH_LEN) != 0))
		*ret_why = "a retention marker is not signed with the key: rows were deleted, not retired";
	if (*ret_why)
		return -EBADMSG;
	memcpy(prev, hash, CDE_HASH_LEN);
	return 0;
}

void cde_audit_gap_hash(const struct cde_audit_gap *g, const uint8_t prev[CDE_HASH_LEN],
			uint8_t out[CDE_HASH_LEN])
{
	EVP_MD_CTX *ctx = chained(prev, out);

	if (!ctx)
		return;
	put_text(ctx, gap_label);
	put_u64(ctx, g->first);
	put_u64(ctx, g->last);
	put_text(ctx, g->at);
	put_text(ctx, g->reason);
	finish(ctx, out);
}

void cde_audit_gap_mac(const uint8_t *key, size_t key_len, const uint8_t hash[CDE_HASH_LEN],
		       uint8_t mac[CDE_HASH_LEN])
{
	labelled_mac(gap_label, key, key_len, hash, mac);
}

void cde_audit_checkpoint_mac(const uint8_t *key, size_t key_len, uint64_t seq,
			      const uint8_t hash[CDE_HASH_LEN], uint8_t mac[CDE_HASH_LEN])
{
	static const char label[] = "cdeventsd checkpoint";
	uint8_t msg[sizeof(label) - 1 + 8 + CDE_HASH_LEN];
	unsigned len = 0;

	memcpy(msg, label, sizeof(label) - 1);
	for (int i = 0; i < 8; i++)
		msg[sizeof(label) - 1 + i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(msg + sizeof(label) - 1 + 8, hash, CDE_HASH_LEN);
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, sizeof(msg), mac, &len) || len != CDE_HASH_LEN)
		memset(mac, 0, CDE_HASH_LEN);
}

const char *cde_audit_checkpoint_check(const uint8_t *key, size_t key_len, uint64_t seq, const char *hash_hex,
				       const char *mac_hex, const uint8_t chain[CDE_HASH_LEN])
{
	uint8_t stored_hash[CDE_HASH_LEN], stored_mac[CDE_HASH_LEN], mac[CDE_HASH_LEN];

	if (!hash_hex)
		return "the checkpoint after this row is missing";
	if (!mac_hex || cde_hash_from_hex(hash_hex, stored_hash) < 0 || cde_hash_from_hex(mac_hex, stored_mac) < 0)
		return "the checkpoint after this row is unreadable";
	cde_audit_checkpoint_mac(key, key_len, seq, stored_hash, mac);
	if (CRYPTO_memcmp(mac, stored_mac, CDE_HASH_LEN) != 0)
		return "the checkpoint's HMAC is wrong: forged, or another key";
	if (memcmp(stored_hash, chain, CDE_HASH_LEN) != 0)
		return "the chain up to here was rewritten: it no longer matches its checkpoint";
	return NULL;
}

void cde_hash_to_hex(const uint8_t hash[CDE_HASH_LEN], char hex[CDE_HASH_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < CDE_HASH_LEN; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 0xf];
	}
	hex[2 * CDE_HASH_LEN] = '\0';
}

int cde_hash_from_hex(const char *hex, uint8_t hash[CDE_HASH_LEN])
{
	if (!hex || strlen(hex) != 2 * CDE_HASH_LEN)
		return -EINVAL;
	for (size_t i = 0; i < CDE_HASH_LEN; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = hex[2 * i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -EINVAL;
		}
		hash[i] = (uint8_t)v;
	}
	return 0;
}

int cde_audit_key_load(const char *path, uint8_t key[CDE_AUDIT_KEY_MAX])
{
	struct stat st;
	char *buf;
	size_t len;
	int r;

	/* Whoever reads the key can sign checkpoints, markers and loss
	 * records: it must be as private as any other secret. */
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && !cde_secret_mode_ok(st.st_mode & 07777, st.st_uid))
		return -EPERM;
	r = cde_read_file(path, CDE_AUDIT_KEY_MAX + 2, &buf, &len);
	if (r < 0)
		return r == -EFBIG ? -EINVAL : r;
	/* Raw bytes, all of them: a random key may well end in 0x0a, and the
	 * daemon and cdevctl read it the same way anyway. */
	if (len < CDE_AUDIT_KEY_MIN || len > CDE_AUDIT_KEY_MAX) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return -EINVAL;
	}
	memcpy(key, buf, len);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (int)len;
}
