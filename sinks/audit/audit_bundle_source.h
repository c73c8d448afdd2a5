#pragma once
/* What an evidence bundle reads, in whichever database holds the log: a
 * table of calls, so that audit.db (audit_bundle_sqlite.h) and
 * PostgreSQL (pg/pg_bundle.h) give the same bundle, byte for byte but
 * for its exportedAt, through one writer (audit_bundle_export.c).
 *
 * Every call but head is made between begin and end: inside one read
 * snapshot, so that records, losses, checkpoints and proofs are of one
 * state of the log while a writer appends. */

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "sinks/audit/audit_proof_source.h"
#include "sinks/audit/audit_store.h"

/* One stored record, as text: cols are id, source, type, subject,
 * chain_id, artifact_id, timestamp, received_at, spec_version,
 * principal, peer, prev_hash, hash (NULL where the column is); event is
 * the event exactly as stored. Valid for the callback's duration. */
#define CDE_AUDIT_BUNDLE_COLS 13
struct cde_audit_bundle_row {
	uint64_t seq;
	const char *cols[CDE_AUDIT_BUNDLE_COLS];
	const char *event;
};

/* One accepted loss (gaps table): cols are at, reason, prev, hash, mac. */
struct cde_audit_bundle_gap {
	uint64_t first, last;
	const char *cols[5];
};

struct cde_audit_bundle_source {
	/* The log's head from a full verification of its chain: a bundle
	 * is only cut from a log that holds. 0 or -errno, why in @err. */
	int (*head)(void *ctx, struct cde_audit_verify *ret, char *err, size_t err_size);
	/* Opens the read snapshot; ends it. 0 or -EIO / -ENOTCONN. */
	int (*begin)(void *ctx, char *err, size_t err_size);
	void (*end)(void *ctx);
	/* The lowest and highest seq received in [@since, @until) (NULL:
	 * open); 0 and 0 when none. 0 or -EIO. */
	int (*bounds)(void *ctx, const char *since, const char *until, uint64_t *first, uint64_t *last);
	/* Each record @first..@last in seq order, to @each (which stops
	 * the walk by returning < 0: that is returned). 0 or -errno. */
	int (*records)(void *ctx, uint64_t first, uint64_t last,
		       int (*each)(void *arg, const struct cde_audit_bundle_row *row), void *arg);
	/* Each loss whose last seq is in [@after, @before), by first. */
	int (*gaps)(void *ctx, uint64_t after, uint64_t before,
		    int (*each)(void *arg, const struct cde_audit_bundle_gap *gap), void *arg);
	/* Each keyed checkpoint with seq in @first..@last, in seq order. */
	int (*checkpoints)(void *ctx, uint64_t first, uint64_t last,
			   int (*each)(void *arg, uint64_t seq, const char *hash, const char *mac), void *arg);
	/* The Merkle tree's proofs, read inside the same snapshot. */
	const struct cde_audit_proof_source *proofs;
	void *ctx;
};

/* cde_audit_export (audit_bundle.h) from any source; why it failed in
 * @err: the chain's break, the row that no longer hashes to its leaf,
 * the connection's error. */
long long cde_audit_export_from(const struct cde_audit_bundle_source *src, const char *since, const char *until,
				FILE *out, char *err, size_t err_size);
