#pragma once
/* SHA-256 as the hot paths use it (the audit chain, Merkle leaves and
 * nodes, request digests). */

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* SHA-256 for EVP_DigestInit_ex, fetched from OpenSSL's providers once per
 * process. Never NULL. */
const EVP_MD *cde_sha256_md(void);

/* A digest context of the calling thread's own, kept for its life (freed
 * when the thread exits): EVP_DigestInit_ex it before each use, and never
 * hand it to another thread or keep it across a call that may use it.
 * NULL when out of memory: make one of your own then. */
EVP_MD_CTX *cde_sha256_thread_ctx(void);

/* SHA-256 of @len bytes at @data into @out. 0 or -ENOMEM. */
int cde_sha256(const void *data, size_t len, uint8_t out[32]);
