#pragma once
/* The audit log's Merkle tree (RFC 9162), kept in audit.db next to the
 * hash chain: one leaf per stored event, in the order they were stored.
 *
 * A leaf is SHA-256(0x00 || entry), the entry being the RFC 8785 (JCS)
 * canonical JSON of
 *
 *     {"event": EVENT, "peer": P, "principal": N, "receivedAt": T, "seq": S}
 *
 * with EVENT the event as the row stores it: anyone holding an export can
 * recompute a leaf in any language. A stored text that is not strict JSON
 * (rows from before strict parsing) is there as a string instead,
 * {"eventText": TEXT, ...}. The writer stores every hash the
 * tree's frontier emits (tree_hashes: the perfect subtree at (level, idx))
 * in the transaction that stores the row, so proofs read O(log n) hashes
 * and a start reads popcount(size) of them; retention deletes rows, never
 * these hashes, so every checkpoint and proof stays checkable. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/tlog/merkle.h"

/* The entry bytes of @row (its seq, received_at, principal, peer and
 * event) into a new string *@ret (free()), *@ret_len bytes. Returns 0,
 * -EINVAL (no event, or text JCS cannot express: not UTF-8) or -ENOMEM. */
int cde_audit_tree_entry(const struct cde_audit_row *row, char **ret, size_t *ret_len);

/* The leaf hash of @row. Returns 0 or what cde_audit_tree_entry returns. */
int cde_audit_tree_leaf(const struct cde_audit_row *row, uint8_t leaf[CDE_TLOG_HASH_LEN]);

/* The leaf hash of @row when its stored text is cde_json_print(@event)
 * (row->event is not read): made from @event without printing and
 * parsing it again, the same bytes as cde_audit_tree_leaf. -EINVAL when
 * that text would not be read back as @event (cde_jcs_serialize_as_printed):
 * use cde_audit_tree_leaf on the text. -ENOMEM. */
int cde_audit_tree_leaf_of_doc(const struct cde_audit_row *row, const cJSON *event,
			       uint8_t leaf[CDE_TLOG_HASH_LEN]);

/* A reader of tree_hashes over a connection (any thread's own). */
struct cde_audit_tree_reader {
	struct cde_tlog_reader tlog;
	sqlite3_stmt *get;
};

/* Prepares @r's statement on @db (0 or -EIO); release it before @db
 * closes. */
int cde_audit_tree_reader_init(struct cde_audit_tree_reader *r, sqlite3 *db);
void cde_audit_tree_reader_release(struct cde_audit_tree_reader *r);

/* The tree's size as meta records it (0 for a log without one). */
uint64_t cde_audit_tree_size(sqlite3 *db);

/* The writer's side: the frontier as committed and as worked on inside
 * the open transaction. */
struct cde_audit_tree_writer {
	struct cde_tlog_frontier committed;
	struct cde_tlog_frontier work;
	sqlite3_stmt *put;
	sqlite3_stmt *set_size;
};

/* Loads the frontier of the stored tree (popcount(size) reads, nothing
 * rehashed). 0 or -EIO/-EBADMSG with a message in @err. */
int cde_audit_tree_writer_init(struct cde_audit_tree_writer *w, sqlite3 *db, char *err, size_t err_size);
/* Finalizes @w's statements (before @db closes). */
void cde_audit_tree_writer_release(struct cde_audit_tree_writer *w);

/* Inside a transaction: appends @leaf as leaf number w->work.size,
 * storing the hashes it completes. 0 or -errno. */
int cde_audit_tree_writer_append(struct cde_audit_tree_writer *w, const uint8_t leaf[CDE_TLOG_HASH_LEN]);
/* Records the worked-on size in meta (before the commit). */
int cde_audit_tree_writer_flush(struct cde_audit_tree_writer *w);
/* After the commit / after a rollback. */
void cde_audit_tree_writer_committed(struct cde_audit_tree_writer *w);
void cde_audit_tree_writer_rolled_back(struct cde_audit_tree_writer *w);

/* Adds every row without a leaf (a log from before the tree) to the tree,
 * in seq order, inside the caller's transaction (schema step 3). */
int cde_audit_tree_adopt_rows(sqlite3 *db);
