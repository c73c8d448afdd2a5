#pragma once
/* What the two halves of evidence bundles share: audit_bundle.c (the
 * chain: records, losses, keyed checkpoints) and audit_bundle_proof.c
 * (the Merkle tree: signed checkpoint, inclusion proofs). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_store.h"

/* What a walk over a bundle hands on besides the chain's own checks. */
struct cde_audit_bundle_hooks {
	void *ctx;
	/* Each record whose chain hash holds, in order. 0 or -errno. */
	int (*record)(void *ctx, const struct cde_audit_row *row);
	/* Each proof line (cde_audit_bundle_is_proof). 0 or -errno. */
	int (*proof)(void *ctx, const cJSON *line);
};

/* cde_audit_bundle_verify with @hooks (NULL: proof lines passed over). */
int cde_audit_bundle_walk(FILE *in, const uint8_t *key, size_t key_len, unsigned every,
			  const struct cde_audit_bundle_hooks *hooks, struct cde_audit_verify *out);

/* True for the lines audit_bundle_proof.c writes. */
bool cde_audit_bundle_is_proof(const cJSON *line);
