/* One SHA-256 method for the process. OpenSSL 3 resolves EVP_sha256() to
 * an implementation at every EVP_DigestInit_ex (a lock and a lookup in
 * its provider store), and SHA256() does the same per call: the ingest
 * profile showed that fetch per event on both threads. Fetching once
 * costs a method that lives as long as the process. */

#include "schemas/base/sha256.h"

#include <errno.h>
#include <pthread.h>

#include <openssl/evp.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const EVP_MD *fetched;

static void fetch(void)
{
	fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

const EVP_MD *cde_sha256_md(void)
{
	pthread_once(&once, fetch);
	/* Without a provider to fetch from, the implicit fetch per use. */
	return fetched ? fetched : EVP_sha256();
}

int cde_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned n = 0;

	if (!EVP_Digest(data, len, out, &n, cde_sha256_md(), NULL) || n != 32)
		return -ENOMEM;
	return 0;
}
