#pragma once
/* Retention of the audit log: deleting the oldest rows by age or size,
 * on the record. */

#include <stddef.h>
#include <stdint.h>

struct cde_audit_store;

/* Retention: which old rows a run may delete. Rows go oldest first, and
 * only a prefix of the chain, so what remains still verifies. */
struct cde_audit_retention {
	uint64_t max_age_s;	/* delete rows received longer ago (0: no limit) */
	uint64_t max_bytes;	/* keep the live data under this size (0: no limit) */
	uint64_t keep_from;	/* never delete this seq or later (0: no bound) */
	uint64_t max_rows;	/* at most this many rows in one run (0: no bound) */
};

struct cde_audit_retention_run {
	uint64_t deleted;	/* rows deleted (0: nothing was due) */
	uint64_t through_seq;	/* the last seq deleted */
	char reason[96];
};

/* Deletes the rows @policy says are due, as of @now (seconds since the
 * epoch), in one transaction that also stores a retention marker (see
 * cde_audit_marker_hash, signed when checkpoints are on) and drops the
 * checkpoints of deleted rows; then gives the freed pages back to the
 * file system. A run deletes nothing when nothing is due. Returns 0 or
 * -EIO with a message in @err. */
int cde_audit_retain(struct cde_audit_store *s, const struct cde_audit_retention *policy,
		     int64_t now, struct cde_audit_retention_run *out, char *err, size_t err_size);

/* The bytes that the database's rows occupy (its pages in use). */
uint64_t cde_audit_live_bytes(struct cde_audit_store *s);
