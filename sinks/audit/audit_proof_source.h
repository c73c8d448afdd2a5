#pragma once
/* What the transparency log's proofs read, in whichever database holds
 * the log: a table of calls over a connection, so that audit.db
 * (audit_proof_sqlite.h) and PostgreSQL (pg/pg_proof.h) give the same
 * proofs, notes and receipts through one code (audit_proof.c).
 *
 * Every call but begin is made between a begin and its end: inside one
 * read snapshot, so that rows, tree hashes and checkpoints are of one
 * state of the log while a writer appends. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/tlog/merkle.h"

/* An event row, as far as a proof needs it: row.seq, id, source,
 * received_at, principal, peer and event are set (the rest NULL); the
 * strings stay valid until the next row call or the end. */
struct cde_audit_proof_row {
	struct cde_audit_row row;
	bool has_leaf;	/* rows stored before the tree have none */
	uint64_t leaf;
	/* The leaf hash the row holds, as stored (any length, valid as the
	 * strings are), when its store keeps one there; NULL otherwise
	 * (rows from before audit.db's schema 8, PostgreSQL). A reader that
	 * caches the tree's hashes would not see it edited otherwise. */
	const void *leaf_hash;
	size_t leaf_hash_len;
};

struct cde_audit_proof_source {
	/* Opens a read snapshot unless the connection is inside a
	 * transaction already; what the tree reader cached before is
	 * dropped, or checked against this snapshot before it is used.
	 * Returns 1 (opened), 0 (the caller's), -ENOTCONN (the connection
	 * is lost) or -EIO, why in @err. */
	int (*begin)(void *ctx, char *err, size_t err_size);
	/* Ends the snapshot begin opened when @opened is 1. */
	void (*end)(void *ctx, int opened);
	/* The tree's size; the latest signed checkpoint's size (0: none);
	 * the highest seq retention deleted (0: none). 0 or -EIO. */
	int (*tree_size)(void *ctx, uint64_t *ret);
	int (*latest_size)(void *ctx, uint64_t *ret);
	int (*deleted_to)(void *ctx, uint64_t *ret);
	/* The stored note of exactly @size leaves into *@ret (malloc'd). 0,
	 * -ENOENT (none), -EIO or -ENOMEM. */
	int (*note)(void *ctx, uint64_t size, char **ret);
	/* The row @seq. 0, -ENOENT (no such row) or -EIO. */
	int (*row)(void *ctx, uint64_t seq, struct cde_audit_proof_row *ret);
	/* The seq of event @source/@id. 0, -ENOENT or -EIO. */
	int (*seq_of)(void *ctx, const char *source, const char *id, uint64_t *ret);
	/* The stored tree's hashes, valid until the end. 0 or -EIO. */
	int (*tree)(void *ctx, const struct cde_tlog_reader **ret);
	void *ctx;
};
