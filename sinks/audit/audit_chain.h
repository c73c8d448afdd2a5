#pragma once
/* The audit log's hash chain: each row's hash covers the previous row's
 * hash and the row's own content, so editing, deleting, inserting or
 * reordering rows breaks the chain at the first row touched. */

#include <stddef.h>
#include <stdint.h>

#define CDE_HASH_LEN 32
#define CDE_HASH_HEX_LEN 65

/* The content of one audit row, in the order it is hashed. */
struct cde_audit_row {
	uint64_t seq;
	const char *id;
	const char *source;
	const char *type;
	const char *subject;		/* may be NULL */
	const char *chain_id;		/* may be NULL */
	const char *artifact_id;	/* may be NULL; indexed for traces */
	const char *timestamp;
	const char *received_at;
	const char *spec_version;
	const char *principal;
	const char *peer;
	const char *event;		/* the CDEvent as stored (JSON) */
};

/* hash = SHA-256(prev || canonical bytes of @row), where the canonical
 * bytes are the seq as 8 big-endian bytes, then each text field as a
 * 4-byte big-endian length and its bytes (0xffffffff for NULL), in the
 * struct's order. Unambiguous: no two different rows hash the same input. */
void cde_audit_row_hash(const struct cde_audit_row *row, const uint8_t prev[CDE_HASH_LEN],
			uint8_t out[CDE_HASH_LEN]);

/* One step of a walk along the chain: checks that the row @row, stored
 * with the hex hashes @prev_hex and @hash_hex, follows the row whose hash
 * is @prev, and moves @prev to @row's hash. Returns 0, or -EBADMSG with
 * what is wrong in *@ret_why (@prev then moves all the same). */
int cde_audit_chain_step(uint8_t prev[CDE_HASH_LEN], const struct cde_audit_row *row, const char *prev_hex,
			 const char *hash_hex, const char **ret_why);

/* A keyed checkpoint: HMAC-SHA256 under @key of the label "cdeventsd
 * checkpoint", @seq (8 bytes, big-endian) and the chain @hash there. The
 * label keeps the key from meaning anything else. */
void cde_audit_checkpoint_mac(const uint8_t *key, size_t key_len, uint64_t seq,
			      const uint8_t hash[CDE_HASH_LEN], uint8_t mac[CDE_HASH_LEN]);

/* Checks the keyed checkpoint stored after row @seq, its hash and MAC in
 * hex as stored (@hash_hex NULL: none is stored), against @key and the
 * chain's recomputed hash @chain there. NULL when it holds, else why not
 * (a constant string). */
const char *cde_audit_checkpoint_check(const uint8_t *key, size_t key_len, uint64_t seq, const char *hash_hex,
				       const char *mac_hex, const uint8_t chain[CDE_HASH_LEN]);

/* A retention marker: the record that rows 1..@seq were deleted on
 * purpose. @anchor is the hash of row @seq, which the first remaining row
 * names as its prev_hash, so the chain verifies from there on. */
struct cde_audit_marker {
	uint64_t seq;			/* the last row deleted */
	uint64_t deleted;		/* rows this run deleted */
	const char *at;			/* when (RFC 3339) */
	const char *reason;		/* "max_age 90d", "max_size 1GiB" */
	uint8_t anchor[CDE_HASH_LEN];
};

/* Markers form their own chain: hash = SHA-256(@prev marker's hash ||
 * "cdeventsd retention" || canonical bytes of @m), so removing or editing
 * one breaks the markers after it. */
void cde_audit_marker_hash(const struct cde_audit_marker *m, const uint8_t prev[CDE_HASH_LEN],
			   uint8_t out[CDE_HASH_LEN]);

/* A marker's signature: HMAC-SHA256 under the checkpoint key of the label
 * "cdeventsd retention" and the marker's @hash. Without the key nobody can
 * pass a deletion off as retention. */
void cde_audit_marker_mac(const uint8_t *key, size_t key_len, const uint8_t hash[CDE_HASH_LEN],
			  uint8_t mac[CDE_HASH_LEN]);

/* A marker as stored: its hashes and signature in hex (mac may be NULL). */
struct cde_audit_marker_hex {
	const char *anchor, *prev, *hash, *mac;
};

/* One step of a walk along the markers' chain: checks that @m, stored
 * as @hex, comes after the seq @last and follows the marker whose hash is
 * @prev, and with @key (else NULL) that the key signed it; fills
 * @m->anchor and moves @prev to @m's hash. Returns 0, or -EBADMSG with
 * what is wrong in *@ret_why. */
int cde_audit_marker_step(uint8_t prev[CDE_HASH_LEN], uint64_t last, struct cde_audit_marker *m,
			  const struct cde_audit_marker_hex *hex, const uint8_t *key, size_t key_len,
			  const char **ret_why);

/* An accepted loss: rows @first..@last were acknowledged once but are
 * gone (the WAL deleted after a crash, an older copy of the file put
 * back), and an operator said so (--accept-log-loss). The record takes
 * the lost rows' place in the chain, so their seqs are never given to
 * other events and the next row's prev_hash is the record's hash: it
 * cannot be removed or edited without breaking the chain. */
struct cde_audit_gap {
	uint64_t first;
	uint64_t last;
	const char *at;			/* when it was accepted (RFC 3339) */
	const char *reason;		/* what the daemon found */
};

/* hash = SHA-256(@prev || "cdeventsd gap" || canonical bytes of @g). */
void cde_audit_gap_hash(const struct cde_audit_gap *g, const uint8_t prev[CDE_HASH_LEN],
			uint8_t out[CDE_HASH_LEN]);

/* A loss record's signature with the checkpoint key (label "cdeventsd
 * gap"): without the key nobody can pass a deletion off as an accepted
 * loss. */
void cde_audit_gap_mac(const uint8_t *key, size_t key_len, const uint8_t hash[CDE_HASH_LEN],
		       uint8_t mac[CDE_HASH_LEN]);

/* Lower-case hex of @hash into @hex (CDE_HASH_HEX_LEN bytes). */
void cde_hash_to_hex(const uint8_t hash[CDE_HASH_LEN], char hex[CDE_HASH_HEX_LEN]);

/* Parses 64 hex digits. Returns 0 or -EINVAL. */
int cde_hash_from_hex(const char *hex, uint8_t hash[CDE_HASH_LEN]);
