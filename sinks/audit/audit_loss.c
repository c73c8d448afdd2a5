/* Loss records: when rows the log once acknowledged are missing from its
 * end (audit.db-wal deleted, an older copy put back), a start with
 * --accept-log-loss records the lost seqs in the chain, signed with the
 * checkpoint key, and moves the head past them: those seqs are never used
 * again, and verify reports the loss instead of a break. */

#include <errno.h>
#include <stdio.h>

#include <sqlite3.h>

#include "events/ids.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_store_internal.h"

/* Inserts the loss record of @g after the head @prev; its hash in @hash. */
static int insert_gap(struct cde_audit_store *s, const struct cde_audit_gap *g, const uint8_t prev[CDE_HASH_LEN],
		      uint8_t hash[CDE_HASH_LEN])
{
	char prev_hex[CDE_HASH_HEX_LEN], hash_hex[CDE_HASH_HEX_LEN], mac_hex[CDE_HASH_HEX_LEN];
	uint8_t mac[CDE_HASH_LEN];
	sqlite3_stmt *st;
	int rc;

	cde_audit_gap_hash(g, prev, hash);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	if (s->key_len) {
		cde_audit_gap_mac(s->key, s->key_len, hash, mac);
		cde_hash_to_hex(mac, mac_hex);
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO gaps(first, last, at, reason, prev, hash, mac)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)g->first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)g->last);
	cde_audit_bind_text(st, 3, g->at);
	cde_audit_bind_text(st, 4, g->reason);
	cde_audit_bind_text(st, 5, prev_hex);
	cde_audit_bind_text(st, 6, hash_hex);
	cde_audit_bind_text(st, 7, s->key_len ? mac_hex : NULL);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_store_accept_loss(struct cde_audit_store *s, const struct cde_audit_verify *tail,
				char *err, size_t err_size)
{
	char at[CDE_TIMESTAMP_STR_LEN];
	struct cde_audit_gap g = { .first = tail->head_seq + 1, .last = tail->claimed_head, .at = at,
				   .reason = tail->reason };
	uint8_t prev[CDE_HASH_LEN];

	if (s->read_only || g.last < g.first || cde_hash_from_hex(tail->head_hash, prev) < 0)
		return -EINVAL;
	cde_timestamp_now(at);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return cde_audit_store_fail(s->db, err, err_size, "begin");
	s->in_tx = true;
	/* The head moves past the lost seqs in the same transaction. */
	s->work_seq = g.last;
	if (insert_gap(s, &g, prev, s->work_hash) < 0 || cde_audit_store_commit(s, err, err_size) < 0) {
		cde_audit_store_fail(s->db, err, err_size, "recording the loss");
		cde_audit_store_rollback(s);
		return -EIO;
	}
	return 0;
}

