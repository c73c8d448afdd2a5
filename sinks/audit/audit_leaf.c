/* Leaves hashed ahead of their seq (audit_leaf.h): the entry made with
 * seq 0, its last two bytes ("0}") cut, hashed with the leaf's 0x00 prefix;
 * finishing appends the seq's digits and "}", which is how JCS writes an
 * integer below 2^53 and an object's end. */

#include "sinks/audit/audit_leaf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "schemas/base/sha256.h"
#include "sinks/audit/audit_tree.h"

struct cde_audit_leaf_ahead {
	EVP_MD_CTX *ctx;	/* SHA-256 of 0x00 || the entry up to its seq */
};

static const char SEQ_TAIL[] = ",\"seq\":0}";

int cde_audit_leaf_ahead_new(const struct cde_audit_row *row, struct cde_audit_leaf_ahead **ret)
{
	struct cde_audit_row zero = *row;
	struct cde_audit_leaf_ahead *a;
	const uint8_t prefix = 0x00;
	size_t len = 0, tail = sizeof(SEQ_TAIL) - 1;
	char *entry = NULL;
	int r;

	zero.seq = 0;
	r = cde_audit_tree_entry(&zero, &entry, &len);
	if (r < 0)
		return r;
	/* "seq" sorts last of the entry's keys; anything else is a bug. */
	if (len < tail || memcmp(entry + len - tail, SEQ_TAIL, tail) != 0) {
		free(entry);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (a)
		a->ctx = EVP_MD_CTX_new();
	if (!a || !a->ctx || !EVP_DigestInit_ex(a->ctx, cde_sha256_md(), NULL) ||
	    !EVP_DigestUpdate(a->ctx, &prefix, 1) || !EVP_DigestUpdate(a->ctx, entry, len - 2)) {
		cde_audit_leaf_ahead_free(a);
		free(entry);
		return -ENOMEM;
	}
	free(entry);
	*ret = a;
	return 0;
}

int cde_audit_leaf_ahead_finish(const struct cde_audit_leaf_ahead *a, uint64_t seq, EVP_MD_CTX *scratch,
				uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu}", (unsigned long long)seq);
	unsigned len = 0;

	/* Past 2^53 JCS writes the seq as a double would round it. */
	if (seq > (1ULL << 53))
		return -ERANGE;
	if (!EVP_MD_CTX_copy_ex(scratch, a->ctx) || !EVP_DigestUpdate(scratch, digits, (size_t)n) ||
	    !EVP_DigestFinal_ex(scratch, leaf, &len) || len != CDE_TLOG_HASH_LEN)
		return -ENOMEM;
	return 0;
}

void cde_audit_leaf_ahead_free(struct cde_audit_leaf_ahead *a)
{
	if (!a)
		return;
	EVP_MD_CTX_free(a->ctx);
	free(a);
}
