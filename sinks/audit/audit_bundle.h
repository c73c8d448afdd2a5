#pragma once
/* Evidence bundles: a range of the audit log that can be checked offline. */

#include <stdint.h>
#include <stdio.h>

#include "sinks/audit/audit_store.h"
#include "sinks/audit/tlog/note.h"

/* Writes the events received in [@since, @until) (either NULL: open) to
 * @out as JSON Lines: a header with the range and the database's chain
 * head; one line per event with every hashed column, prevHash, hash and
 * the event as stored (the last member); an accepted loss (gaps table)
 * where it sits in the chain, as a {"gap": ...} line; then the keyed
 * checkpoints in the range; then the Merkle tree's proofs (checked by audit_bundle_proof.c):
 * the latest signed checkpoint and each event's inclusion proof against
 * it, or why it has none. The range is the contiguous seqs between the first and the
 * last event of the period, so the chain is unbroken, all read in one
 * snapshot. Returns the number of events written, or -errno. From
 * audit.db; cde_audit_export_from (audit_bundle_source.h) writes the same
 * from PostgreSQL too. */
long long cde_audit_export(struct cde_audit_store *s, const char *since, const char *until, FILE *out);

/* Checks a bundle read from @in: every line's hash recomputed, each
 * linked to the one before, seqs consecutive but for the losses recorded
 * in the chain (each one listed in @out), the count and the head in
 * the header; with @key, every checkpoint's HMAC and that one exists
 * after every @every-th row. Returns 0, -EBADMSG (where and why in @out;
 * bad_seq 0 for a problem with the file itself), or -EINVAL for a file
 * that is not a bundle. */
int cde_audit_bundle_verify(FILE *in, const uint8_t *key, size_t key_len, unsigned every,
			    struct cde_audit_verify *out);

/* What the Merkle part of a bundle showed. */
struct cde_audit_bundle_proofs {
	uint64_t tree_size;	/* the signed checkpoint's, 0 without one */
	char origin[128];	/* its origin line: the log's name */
	uint64_t proven;	/* events with a receipt that verifies */
	uint64_t unproven;	/* events the bundle says are newer than it */
};

/* Checks a bundle with the log's public keys @vs alone: the chain as
 * cde_audit_bundle_verify does without a key, then each event's receipt
 * (signed checkpoint, inclusion proof) and that its entry holds the very
 * event, row and seq of the record; every event is proven or said to be
 * newer than the checkpoint. Returns 0, -EBADMSG (where and why in
 * @out), -EINVAL (not a bundle), -ENOMEM. */
int cde_audit_bundle_verify_signed(FILE *in, struct cde_note_verifier *const *vs, size_t n,
				   struct cde_audit_verify *out, struct cde_audit_bundle_proofs *proofs);
