#pragma once
/* Proofs from the audit log's Merkle tree as JSON, the form the HTTP API
 * serves, receipts carry, bundles hold and cdevctl checks. Hashes are
 * standard base64 (as in a checkpoint's root line):
 *
 * inclusion (a receipt when "checkpoint" is there):
 *   {"seq", "id", "source", "leafIndex", "leafHash", "entry",
 *    "treeSize", "inclusionProof": [hash...], "checkpoint": NOTE}
 *   entry: the JCS text whose leaf hash is leafHash (audit_tree.h);
 *   checkpoint: a signed note of treeSize leaves, when one is stored.
 * consistency:
 *   {"from", "to", "consistencyProof": [hash...], "checkpoint": NOTE}
 *
 * Reading and checking one needs only the log's public key. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "sinks/audit/audit_proof_source.h"
#include "sinks/audit/tlog/note.h"

/* The proofs from any store (audit_proof_source.h). Each reads inside
 * one snapshot of @src (the caller's, if it holds one). They return as
 * the audit.db forms below, and -ENOTCONN when @src's connection is lost. */
int cde_audit_proof_inclusion_from(const struct cde_audit_proof_source *src, uint64_t seq, uint64_t size,
				   cJSON **ret, char *err, size_t err_size);
int cde_audit_proof_consistency_from(const struct cde_audit_proof_source *src, uint64_t from, uint64_t to,
				     cJSON **ret, char *err, size_t err_size);
/* The latest signed checkpoint: its size and note (malloc'd). 0, -ENOENT
 * when there is none, -EIO, -ENOTCONN or -ENOMEM (why in @err). */
int cde_audit_proof_checkpoint_from(const struct cde_audit_proof_source *src, uint64_t *ret_size, char **ret_note,
				    char *err, size_t err_size);

/* On audit.db (@db's connection, through audit_proof_sqlite.h): */

/* The inclusion proof of the row @seq in the tree of @size leaves (0: the
 * latest signed checkpoint's size, else the whole tree), with the stored
 * checkpoint of exactly that size if there is one. Inside a read
 * transaction of @db, so that rows and hashes agree. *@ret is the JSON.
 * Returns 0; -ENOENT (no such row: deleted by retention, or never), -ERANGE
 * (@size is beyond the tree, or the row is not in the first @size leaves),
 * -EIO, -ENOMEM; why in @err. */
int cde_audit_proof_inclusion(sqlite3 *db, uint64_t seq, uint64_t size, cJSON **ret, char *err, size_t err_size);

/* The row of event @source/@id: its seq (0 and -ENOENT when none). */
int cde_audit_proof_seq_of(sqlite3 *db, const char *source, const char *id, uint64_t *ret_seq);

/* The consistency proof from @from to @to leaves (@to 0: the latest
 * signed checkpoint's size), with the checkpoint of @to if stored. 0,
 * -ERANGE (@from > @to, or @to beyond the tree), -EIO, -ENOMEM. */
int cde_audit_proof_consistency(sqlite3 *db, uint64_t from, uint64_t to, cJSON **ret, char *err, size_t err_size);

/* What checking a receipt found. */
struct cde_audit_receipt_check {
	uint64_t leaf_index, tree_size;
	char origin[128];
	char reason[256];	/* why it failed */
};

/* Checks a receipt (an inclusion proof with a checkpoint) with the
 * public keys @vs alone: the checkpoint's signature by one of them, its
 * size, that the entry hashes to leafHash and holds the receipt's seq and
 * its event's id and source, and the proof from that leaf to the
 * checkpoint's root. Returns 0, -EBADMSG (@out->reason says what does
 * not hold), -EINVAL (not a receipt), -ENOMEM. */
int cde_audit_receipt_verify(const cJSON *receipt, struct cde_note_verifier *const *vs, size_t n,
			     struct cde_audit_receipt_check *out);

/* Opens the signed checkpoint @note with @vs: its size and root. 0,
 * -EBADMSG / -ENOKEY / -EINVAL with the reason in @err. */
int cde_audit_checkpoint_open(const char *note, struct cde_note_verifier *const *vs, size_t n, uint64_t *ret_size,
			      uint8_t root[32], char *origin, size_t origin_size, char *err, size_t err_size);
