#pragma once
/* Checking audit.db's Merkle tree against its own rows and against a
 * signed checkpoint kept elsewhere, with the public key alone: what an
 * auditor runs (cdevctl audit verify --checkpoint) and what the daemon
 * could run. Every leaf is recomputed from its row (audit_tree.h); a leaf
 * without a row is accepted only where a retention marker or a recorded
 * loss says why, and then its stored hash stands in for it.
 *
 * What each fault localizes:
 *   truncated  the tree has fewer leaves than the checkpoint: the first
 *              bad index is the log's size;
 *   altered    a row no longer hashes to its stored leaf: that leaf;
 *   missing    leaves without a row and without a reason: the first one;
 *   hashes     the stored tree disagrees with itself (a stored hash
 *              missing, the head of the stored hashes not the head of the
 *              leaves, rows past meta's tree size);
 *   forked     rows and stored hashes agree, but the tree at the
 *              checkpoint's size is not the one signed: both were
 *              rewritten. The rewritten entries lie in [bad_index,
 *              bad_end): bad_index is the largest size that a signed
 *              checkpoint stored in the log still matches (0 if none),
 *              bad_end the smallest larger signed size that does not. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"

enum cde_audit_tree_fault {
	CDE_AUDIT_TREE_OK,
	CDE_AUDIT_TREE_TRUNCATED,
	CDE_AUDIT_TREE_ALTERED,
	CDE_AUDIT_TREE_MISSING,
	CDE_AUDIT_TREE_HASHES,
	CDE_AUDIT_TREE_FORKED,
};

struct cde_audit_tree_check {
	uint64_t tree_size;	/* the log's tree, as meta records it */
	uint64_t rows;		/* rows whose leaf was recomputed */
	uint64_t retired;	/* leaves [0, retired): rows deleted by retention, stored hashes used */
	uint64_t lost;		/* other leaves whose rows a recorded loss covers, stored hashes used */
	uint8_t root[CDE_TLOG_HASH_LEN];	/* the head of the recomputed tree */
	uint64_t signed_stored;	/* checkpoints stored in the log that the keys verify */
	uint64_t signed_matching;	/* ... and that the recomputed tree matches */
	enum cde_audit_tree_fault fault;
	uint64_t bad_index;	/* the first bad leaf index */
	uint64_t bad_end;	/* forked: the end of the range */
	uint64_t bad_seq;	/* altered: the row's seq */
	char reason[256];
};

/* The fault's name ("truncated", "altered", ...; "intact" when none). */
const char *cde_audit_tree_fault_name(enum cde_audit_tree_fault f);

/* The tree against its own rows: each row's leaf recomputed and compared
 * with the stored one, leaves without rows, the head of the stored hashes
 * against the head of the leaves. One read transaction. Returns 0 (@out
 * has the counts and the head), -EBADMSG (@out says what and where),
 * -EIO, -ENOMEM. */
int cde_audit_tree_self_check(sqlite3 *db, struct cde_audit_tree_check *out);

/* A row with a leaf, as the tree walk reads it: row.seq, received_at,
 * principal, peer and event set (what cde_audit_tree_leaf hashes). */
struct cde_audit_tree_row {
	struct cde_audit_row row;
	uint64_t leaf;
};

/* What the self check reads, in whichever database holds the log
 * (audit.db: audit_tree_walk.h; PostgreSQL: pg/pg_tree_verify.h), all
 * inside one read snapshot the caller holds. */
struct cde_audit_tree_source {
	/* Whether the log stores a tree (false: a file from before it), its
	 * size, the last seq retention deleted (0: none) and the chain's
	 * head seq. 0 or -EIO. */
	int (*bounds)(void *ctx, bool *stored, uint64_t *tree_size, uint64_t *retired_to, uint64_t *head_seq);
	/* The rows with a leaf in seq order, one at a time: 1 (*@ret valid
	 * until the next call), 0 (no more), -EIO or -ENOMEM. */
	int (*next_row)(void *ctx, struct cde_audit_tree_row *ret);
	/* Ends the rows (before all were read, too). */
	void (*rows_end)(void *ctx);
	/* Whether one recorded loss covers seqs @lo to @hi. */
	bool (*lost)(void *ctx, uint64_t lo, uint64_t hi);
	/* The stored hashes (after bounds said a tree is stored). */
	const struct cde_tlog_reader *(*tree)(void *ctx);
	void *ctx;
};

/* The self check over @src, inside the caller's snapshot: as
 * cde_audit_tree_self_check. */
int cde_audit_tree_self_check_in(const struct cde_audit_tree_source *src, struct cde_audit_tree_check *out);
/* ... also taking the head recomputed from the leaves at each of the @n
 * ascending @sizes, into @roots (a size past the tree gets none). */
int cde_audit_tree_heads_in(const struct cde_audit_tree_source *src, const uint64_t *sizes, size_t n,
			    uint8_t (*roots)[CDE_TLOG_HASH_LEN], struct cde_audit_tree_check *out);

/* The log against the checkpoint (@size, @root), which the caller opened
 * with the keys @vs (cde_audit_checkpoint_open): the self check, the
 * log's size, the head at @size recomputed from the leaves, and that the
 * stored tree extends it (a consistency proof from @size to the log's
 * size, generated from the stored hashes and verified against the
 * checkpoint and the recomputed head). @vs also verify the checkpoints
 * stored in the log, which bound a fork. Returns 0, -EBADMSG, -EIO,
 * -ENOMEM as above. */
int cde_audit_tree_check_against(sqlite3 *db, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN],
				 struct cde_note_verifier *const *vs, size_t n, struct cde_audit_tree_check *out);

/* Verifies the consistency proof JSON @proof (audit_proof.h) between the
 * trees (@old_size, @old_root) and (@size, @root): its from and to must be
 * those sizes. 0, -EBADMSG (@why says what), -EINVAL (not a consistency
 * proof), -ENOMEM. */
int cde_audit_consistency_verify(const cJSON *proof, uint64_t old_size, const uint8_t old_root[CDE_TLOG_HASH_LEN],
				 uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN], char *why, size_t why_size);
