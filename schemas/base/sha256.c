/* One SHA-256 method for the process. OpenSSL 3 resolves EVP_sha256() to
 * an implementation at every EVP_DigestInit_ex (a lock and a lookup in
 * its provider store), and SHA256() does the same per call: the ingest
 * profile showed that fetch per event on both threads. Fetching once
 * costs a method that lives as long as the process. */

#include "schemas/base/sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include <openssl/evp.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const EVP_MD *fetched;
static pthread_key_t ctx_key;
static bool have_key;

static void free_ctx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void fetch(void)
{
	fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	have_key = pthread_key_create(&ctx_key, free_ctx) == 0;
}

/* Allocating and freeing a context per hash was a third of what storing
 * the Merkle tree's hashes cost the writer thread (bench_tlog). */
EVP_MD_CTX *cde_sha256_thread_ctx(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&once, fetch);
	if (!have_key)
		return NULL;
	ctx = pthread_getspecific(ctx_key);
	if (!ctx && (ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx) != 0) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

const EVP_MD *cde_sha256_md(void)
{
	pthread_once(&once, fetch);
	/* Without a provider to fetch from, the implicit fetch per use. */
	return fetched ? fetched : EVP_sha256();
}

int cde_sha256(const void *data, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *kept = cde_sha256_thread_ctx();
	unsigned n = 0;
	int ok;

	if (!kept)
		return EVP_Digest(data, len, out, &n, cde_sha256_md(), NULL) && n == 32 ? 0 : -ENOMEM;
	ok = EVP_DigestInit_ex(kept, cde_sha256_md(), NULL) && EVP_DigestUpdate(kept, data, len) &&
	     EVP_DigestFinal_ex(kept, out, &n) && n == 32;
	return ok ? 0 : -ENOMEM;
}
