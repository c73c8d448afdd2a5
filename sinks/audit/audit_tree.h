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
 * {"eventText": TEXT, ...}. The writer stores the hashes the tree's
 * frontier emits, as tiles (audit_tiles.h: the perfect subtrees of every
 * fourth level, 16 to a row), in the transaction that stores the rows,
 * so proofs read O(log n) hashes and a start reads popcount(size) of
 * them; retention deletes rows, never these hashes, so every checkpoint
 * and proof stays checkable. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_tiles.h"
#include "sinks/audit/audit_tiles_sqlite.h"
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

/* A reader of the stored hashes over a connection (any thread's own).
 * It keeps the tile it read last: use it inside one transaction, or
 * while the tree does not change. */
struct cde_audit_tree_reader {
	struct cde_tlog_reader tlog;	/* tiles.tlog's, or one over rows */
	struct cde_audit_tile_io_sqlite sql;
	struct cde_audit_tile_reader tiles;
	sqlite3_stmt *rows;	/* a schema 3 file's one row per hash */
};

/* Prepares @r's statement on @db (0 or -EIO); release it before @db
 * closes, and do not move @r in between. A file of schema 3 opened
 * read-only has one row per hash (tree_hashes) and is read as it is. */
int cde_audit_tree_reader_init(struct cde_audit_tree_reader *r, sqlite3 *db);
void cde_audit_tree_reader_release(struct cde_audit_tree_reader *r);

/* The tree's size as meta records it (0 for a log without one). */
uint64_t cde_audit_tree_size(sqlite3 *db);

/* The writer's side: the frontier as committed and as worked on inside
 * the open transaction. */
struct cde_audit_tree_writer {
	struct cde_tlog_frontier committed;
	struct cde_tlog_frontier work;
	struct cde_audit_tile_io_sqlite sql;	/* the tiles' rows; not to be moved */
	struct cde_audit_tile_edge edge;
	sqlite3_stmt *set_size;
};

/* Loads the frontier of the stored tree and the partial tile at the edge
 * of each level (a few reads; nothing rehashed but inside a tile). 0,
 * -ENOMEM, or -EIO/-EBADMSG with a message in @err (@w is then released). */
int cde_audit_tree_writer_init(struct cde_audit_tree_writer *w, sqlite3 *db, char *err, size_t err_size);
/* Finalizes @w's statements (before @db closes) and frees its edge. */
void cde_audit_tree_writer_release(struct cde_audit_tree_writer *w);

/* Inside a transaction: appends @leaf as leaf number w->work.size,
 * keeping the hashes it completes for the flush. 0 or -errno. Putting
 * w->work back to a smaller tree (a savepoint rolled back) drops what
 * was kept past it. */
int cde_audit_tree_writer_append(struct cde_audit_tree_writer *w, const uint8_t leaf[CDE_TLOG_HASH_LEN]);
/* Writes the tiles the transaction's leaves touched and the worked-on
 * size in meta (before the commit). */
int cde_audit_tree_writer_flush(struct cde_audit_tree_writer *w);
/* After the commit / after a rollback. */
void cde_audit_tree_writer_committed(struct cde_audit_tree_writer *w);
void cde_audit_tree_writer_rolled_back(struct cde_audit_tree_writer *w);

/* Schema step 3, in audit_tree_migrate.c: adds every row without a leaf
 * (a log from before the tree) to the tree, in seq order, one row of
 * tree_hashes per hash as that step stored them, inside the caller's
 * transaction. */
int cde_audit_tree_adopt_rows(sqlite3 *db);
/* Schema step 4: packs tree_hashes into tree_tiles (levels that are
 * multiples of 4; a tile stops at its first missing or damaged hash),
 * inside the caller's transaction. 0 or -EIO. */
int cde_audit_tree_pack_tiles(sqlite3 *db);

/* True when @db stores a tree (tiles, or rows of schema 3). */
bool cde_audit_tree_stored(sqlite3 *db);
