#pragma once
/* The audit store: one SQLite database (WAL) holding every accepted event
 * with its hash chain. A store handle belongs to one thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/journal.h"

enum cde_audit_sync {
	CDE_AUDIT_SYNC_FULL,	/* fsync at every commit: nothing answered is lost on power loss */
	CDE_AUDIT_SYNC_NORMAL,	/* survives a crash of the process, maybe not of the machine */
};

struct cde_audit_store;

/* Opens (and on first use creates) the database at @path. Read-only
 * handles never create or write. Returns 0 or -errno with a message in
 * @err. */
int cde_audit_store_open(const char *path, bool read_only, enum cde_audit_sync sync,
			 struct cde_audit_store **ret, char *err, size_t err_size);

#define CDE_AUDIT_KEY_MIN 32
#define CDE_AUDIT_KEY_MAX 256

/* From now on, after every @every-th row, store a checkpoint: HMAC-SHA256
 * under @key of the row's seq and chain hash. Returns 0 or -EINVAL. */
int cde_audit_store_set_checkpoints(struct cde_audit_store *s, const uint8_t *key, size_t key_len,
				    unsigned every);

/* Reads a checkpoint key file: every byte of it is the key. Returns the
 * key length, -EINVAL when shorter than CDE_AUDIT_KEY_MIN or longer than
 * CDE_AUDIT_KEY_MAX, -EPERM when group or others may read it (see
 * cde_secret_mode_ok), or -errno. */
int cde_audit_key_load(const char *path, uint8_t key[CDE_AUDIT_KEY_MAX]);

struct cde_note_signer;

/* From now on, sign a checkpoint of the Merkle tree (audit_signed.h)
 * whenever @every leaves were added since the last one, in the commit
 * that adds the last of them, and when cde_audit_store_sign_tree asks.
 * First checks that the checkpoints this key signed before (the latest in
 * the database, and the one kept in PATH-checkpoint) describe the tree:
 * -ESTALE when entries they covered were lost or changed (why in @err),
 * since signing those sizes again would fork the log. The store owns
 * @signer from here on, also on failure. 0 or -errno. */
int cde_audit_store_set_signer(struct cde_audit_store *s, struct cde_note_signer *signer, unsigned every,
			       char *err, size_t err_size);

/* Signs a checkpoint of the committed tree now, in its own transaction,
 * if it grew since the last one (the writer's timer: a checkpoint at
 * most some seconds after an entry). 0 (also when nothing to sign, or no
 * signer) or -errno. */
int cde_audit_store_sign_tree(struct cde_audit_store *s, char *err, size_t err_size);

/* Why signing a checkpoint failed since the last call, into @out: true
 * when it did. A failure never fails the commit of the events. */
bool cde_audit_store_take_sign_error(struct cde_audit_store *s, char *out, size_t size);

/* The checkpoint signed by the latest commit, if any and not yet taken:
 * the note (the caller frees it) and its tree size; else NULL. */
char *cde_audit_store_take_checkpoint(struct cde_audit_store *s, uint64_t *ret_size);

/* The tree's size as committed, and that of the latest signed checkpoint. */
uint64_t cde_audit_store_tree_size(const struct cde_audit_store *s);
uint64_t cde_audit_store_signed_size(const struct cde_audit_store *s);

/* From now on the WAL is copied back into the database by a thread of
 * its own (audit_wal.h), not by the commits of @s, the writer's store.
 * 0, or -errno with a message in @err (the commits then go on
 * checkpointing, as before). */
int cde_audit_store_checkpoint_aside(struct cde_audit_store *s, char *err, size_t err_size);

/* Rows are being deleted from @s's log (retention): what the writer
 * remembers of the latest rows (audit_memo.h) is dropped. */
void cde_audit_store_rows_deleted(struct cde_audit_store *s);

/* The checkpoints of the WAL run so far by that thread (@aside) and by
 * the commits of @s at the WAL's bound (@own); false when there is no
 * such thread. */
bool cde_audit_store_wal_counts(const struct cde_audit_store *s, unsigned long long *aside,
				unsigned long long *own);

/* Closes @s; accepts NULL. */
void cde_audit_store_close(struct cde_audit_store *s);

/* Group commit, in three steps: begin a transaction; add any number of
 * entries (each new event gets the next seq and its place in the chain,
 * an event whose source and id are already stored is marked duplicate,
 * and an entry marked correlate gets a chainId and a PATH link, see
 * audit_store.c);
 * commit, which makes all of them durable at once, or roll back, which
 * stores none of them and clears their seq. Each returns 0 or -EIO (or
 * -ENOMEM) with a message in @err. */
int cde_audit_store_begin(struct cde_audit_store *s, char *err, size_t err_size);
int cde_audit_store_add(struct cde_audit_store *s, struct cde_journal_entry *entries, size_t n,
			char *err, size_t err_size);
int cde_audit_store_commit(struct cde_audit_store *s, char *err, size_t err_size);
void cde_audit_store_rollback(struct cde_audit_store *s);

/* begin, add and commit (or roll back) in one call. */
int cde_audit_store_append(struct cde_audit_store *s, struct cde_journal_entry *entries, size_t n,
			   char *err, size_t err_size);

/* Rows stored, and the last seq. */
uint64_t cde_audit_store_head(const struct cde_audit_store *s);

/* The checkpoint key, or NULL when checkpoints are off; retention signs
 * its markers with it. */
const uint8_t *cde_audit_store_key(const struct cde_audit_store *s, size_t *ret_len);

#define CDE_AUDIT_LOST_MAX 4

struct cde_audit_verify {
	uint64_t rows;		/* rows checked */
	uint64_t first_seq;	/* the first row kept (1 unless retention ran) */
	uint64_t markers;	/* retention markers checked */
	uint64_t checkpoints;	/* checkpoints checked (with a key) */
	uint64_t head_seq;	/* the last seq */
	char head_hash[CDE_HASH_HEX_LEN];
	uint64_t bad_seq;	/* the first seq where the chain breaks */
	char reason[200];
	uint64_t n_lost;	/* accepted losses stepped over */
	uint64_t lost_first[CDE_AUDIT_LOST_MAX], lost_last[CDE_AUDIT_LOST_MAX];	/* the first few */
	uint64_t claimed_head;	/* the largest seq anything names (rows, meta, checkpoints, head file) */
	uint64_t head_file_seq;	/* what the head file records, 0 if none */
	bool head_file_damaged;
};

/* Walks the whole chain. Returns 0 when intact, -EBADMSG when it breaks
 * (where and why in @out), or -EIO. After retention the chain starts
 * after the latest marker, from the anchor it names; the markers' own
 * chain is checked too. With @key (else NULL), also checks
 * that there is a checkpoint after every @every-th row and that each one
 * carries the chain's hash and a valid HMAC: a chain rewritten as a whole
 * fails this, which the hashes alone cannot show; and that every retention
 * marker carries a valid signature. */
int cde_audit_store_verify(struct cde_audit_store *s, const uint8_t *key, size_t key_len,
			   unsigned every, struct cde_audit_verify *out);

/* Checks the end of the log before the daemon appends to it: the chain
 * over the last rows (at most 10,000, from the latest retention marker at
 * the earliest), that every checkpoint agrees with the row it names (no
 * MAC is checked, so a key added or rotated does not stop a start), and
 * that nothing names a seq past its last row. Also
 * counts the rows (@out->rows). Returns 0; -ENODATA when rows are missing
 * from the end (the seqs @out->head_seq + 1 to @out->claimed_head, and
 * the evidence in @out->reason): cde_audit_store_accept_loss can record
 * that; -EBADMSG when the chain is broken (@out says where); or -EIO. */
int cde_audit_store_check_tail(struct cde_audit_store *s, struct cde_audit_verify *out);

/* Records in the chain that the rows after @tail->head_seq, up to
 * @tail->claimed_head, are lost (see struct cde_audit_gap), signed with
 * the checkpoint key if there is one, and moves the head past them, so
 * those seqs are never used again. @tail is what check_tail found.
 * Returns 0 or -errno with a message in @err. */
int cde_audit_store_accept_loss(struct cde_audit_store *s, const struct cde_audit_verify *tail,
				char *err, size_t err_size);

/* The value of @key in the meta table into @out. Returns 0 or -ENOENT. */
int cde_audit_store_meta(struct cde_audit_store *s, const char *key, char *out, size_t size);

/* The database's path; the prev_hash of row @seq into @out (0 or -errno). */
const char *cde_audit_store_path(const struct cde_audit_store *s);
int cde_audit_store_prev_hash(struct cde_audit_store *s, uint64_t seq, uint8_t out[CDE_HASH_LEN]);

/* The underlying connection, for queries (sinks/audit/audit_query.c). */
struct sqlite3 *cde_audit_store_db(struct cde_audit_store *s);

/* The events table has chain_via (schema 5): a reader may open an older
 * file as it is, without it. */
bool cde_audit_store_has_chain_via(const struct cde_audit_store *s);
