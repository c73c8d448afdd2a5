#pragma once
/* Verifying the audit log's hash chain on PostgreSQL. */

#include <libpq-fe.h>

#include "sinks/audit/audit_store.h"

/* Walks the chain in one read-only snapshot: the retention markers' own
 * chain first (their hashes, and with @key their signatures), then every row from the latest marker's seq + 1 (or 1) on, in
 * order, without a missing seq, the first naming the marker's anchor and
 * each the hash of the row before, and hashing to its own
 * (cde_audit_chain_step); then the head row (log_head) must name the last
 * row and its hash, so rows cut from the end show. Fills @out's rows,
 * markers, first_seq, head_seq, head_hash and on a break bad_seq and
 * reason. Returns 0 when intact, -EBADMSG when broken, -EOPNOTSUPP when
 * the log holds accepted losses (not walked here yet: @out->reason says
 * so), -ENOTCONN when the connection is lost, or -EIO. With @key (else
 * NULL) also the keyed checkpoint after every @every-th row: there, its
 * HMAC right and naming the chain's hash (@out->checkpoints counts them),
 * as cde_audit_store_verify checks audit.db's. */
int cde_pg_audit_verify(PGconn *c, const uint8_t *key, size_t key_len, unsigned every, struct cde_audit_verify *out);
