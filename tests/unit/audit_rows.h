#pragma once
/* Shared by the unit tests of leaves hashed ahead: the store's files
 * removed, and a stored row's leaf recomputed as an auditor would, from
 * the row alone. Static inline: each test is one file. */

#include <sqlite3.h>
#include <unistd.h>

#include "sinks/audit/audit_tree.h"

/* Prepare this for recompute_leaf. */
#define LEAF_ROW_SQL "SELECT seq, received_at, principal, peer, event FROM events WHERE leaf = ?"

static inline void remove_store(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-head" };
	char file[96];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		unlink(file);
	}
}

/* The leaf of the row stored as leaf number @index, made from the row by
 * cde_audit_tree_leaf, through @st (LEAF_ROW_SQL); its seq in *@seq. */
static inline void recompute_leaf(sqlite3_stmt *st, uint64_t index, uint64_t *seq, uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_row row = { 0 };

	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	row.seq = (uint64_t)sqlite3_column_int64(st, 0);
	row.received_at = (const char *)sqlite3_column_text(st, 1);
	row.principal = (const char *)sqlite3_column_text(st, 2);
	row.peer = (const char *)sqlite3_column_text(st, 3);
	row.event = (const char *)sqlite3_column_text(st, 4);
	assert_int_equal(cde_audit_tree_leaf(&row, leaf), 0);
	*seq = row.seq;
	sqlite3_reset(st);
}

/* Leaf @index of a tree written by cde_audit_tree_writer alone (no
 * store): the row the store would insert with it, reduced to what the
 * tree reads (its leaf number and hash; the rest is filler). From
 * schema 8 the leaves are read from the rows. 0, -ENOMEM or -EIO. */
static inline int insert_leaf_row(sqlite3 *db, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO events(seq, id, source, type, timestamp, received_at,"
				    " spec_version, principal, peer, event, prev_hash, hash, leaf, leaf_hash)"
				    " VALUES (?1 + 1, 'leaf-' || ?1, 's', 't', '', '', '', '', '', '{}', '', '', ?1, ?2)",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
		sqlite3_bind_blob(st, 2, hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}
