#pragma once
/* The audit store's handle, shared by the files that make up the store
 * (audit_store.c: open, append, commit; audit_loss.c: loss records;
 * audit_store_sign.c: signed tree checkpoints; audit_wal.c: the WAL's
 * checkpoints). Nothing outside them includes this. */

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sinks/audit/audit_correlate.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_wal.h"
#include "sinks/audit/tlog/note.h"

/* The writer's transaction control, prepared once: sqlite3_exec parsed
 * each of them again, four to six times a group. */
enum cde_audit_tx {
	CDE_AUDIT_TX_BEGIN,
	CDE_AUDIT_TX_COMMIT,
	CDE_AUDIT_TX_ROLLBACK,
	CDE_AUDIT_TX_SAVEPOINT,
	CDE_AUDIT_TX_RELEASE,
	CDE_AUDIT_TX_ROLLBACK_TO,
	CDE_AUDIT_TX_N
};

struct cde_audit_store {
	sqlite3 *db;
	sqlite3_stmt *tx[CDE_AUDIT_TX_N];
	sqlite3_stmt *insert;
	struct cde_audit_lookups lookups;	/* correlation's */
	sqlite3_stmt *checkpoint;
	unsigned every;				/* 0: no checkpoints */
	size_t key_len;
	uint8_t key[CDE_AUDIT_KEY_MAX];
	sqlite3_stmt *set_head;
	sqlite3_stmt *get_head;
	sqlite3_stmt *stored_digest;
	bool read_only;
	bool has_chain_via;			/* events.chain_via exists (schema 5) */
	char *path;
	int head_fd;				/* the head file; -1 when read-only */
	uint64_t head_seq;			/* committed */
	uint8_t head_hash[CDE_HASH_LEN];
	bool in_tx;
	uint64_t work_seq;			/* inside the open transaction */
	uint8_t work_hash[CDE_HASH_LEN];
	struct cde_audit_tree_writer tree;	/* the Merkle tree, next to the chain */
	struct cde_note_signer *signer;		/* NULL: no signed checkpoints */
	unsigned sign_every;			/* leaves between signed checkpoints */
	bool sign_now;				/* the next commit signs if the tree grew */
	uint64_t signed_size;			/* the latest signed checkpoint's size */
	char *work_note;			/* signed in the open transaction */
	uint64_t work_note_size;
	char *fresh_note;			/* committed, not yet taken */
	uint64_t fresh_note_size;
	char sign_error[256];			/* why the last checkpoint failed, "" if it did not */
	struct cde_audit_wal *wal;		/* NULL: SQLite checkpoints on the writer's commits */
};

/* In commit, before COMMIT: signs a checkpoint when one is due. */
int cde_audit_store_sign_due(struct cde_audit_store *s, char *err, size_t err_size);
/* After COMMIT / ROLLBACK: the note signed in the transaction is kept
 * (and offered to cde_audit_store_take_checkpoint) or dropped. */
void cde_audit_store_sign_settled(struct cde_audit_store *s, bool committed);

/* Runs the writer's statement @which: 0, or -EIO with SQLite's message
 * left in the handle. */
int cde_audit_store_tx(struct cde_audit_store *s, enum cde_audit_tx which);

/* "@what: SQLite's message" into @err; returns -EIO. */
int cde_audit_store_fail(sqlite3 *db, char *err, size_t size, const char *what);
/* Binds @s, or NULL for a NULL @s. */
void cde_audit_bind_text(sqlite3_stmt *st, int i, const char *s);
