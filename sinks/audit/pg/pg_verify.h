#pragma once
/* Verifying the audit log's hash chain on PostgreSQL. */

#include <libpq-fe.h>

#include "sinks/audit/audit_store.h"

/* Walks the chain in one read-only snapshot: the retention markers' own
 * chain first (their hashes; their signatures need the key, not checked
 * here), then every row from the latest marker's seq + 1 (or 1) on, in
 * order, without a missing seq, the first naming the marker's anchor and
 * each the hash of the row before, and hashing to its own
 * (cde_audit_chain_step); then the head row (log_head) must name the last
 * row and its hash, so rows cut from the end show. Fills @out's rows,
 * markers, first_seq, head_seq, head_hash and on a break bad_seq and
 * reason. Returns 0 when intact, -EBADMSG when broken, -EOPNOTSUPP when
 * the log holds accepted losses (not walked here yet: @out->reason says
 * so), -ENOTCONN when the connection is lost, or -EIO. Keyed checkpoints
 * are not checked. */
int cde_pg_audit_verify(PGconn *c, struct cde_audit_verify *out);
