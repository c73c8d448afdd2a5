#pragma once
/* The audit store: one SQLite database (WAL) holding every accepted event
 * with its hash chain. A store handle belongs to one thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit_chain.h"
#include "sinks/journal.h"

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

struct cde_audit_verify {
	uint64_t rows;		/* rows checked */
	uint64_t head_seq;	/* the last seq */
	char head_hash[CDE_HASH_HEX_LEN];
	uint64_t bad_seq;	/* the first seq where the chain breaks */
	char reason[160];
};

/* Walks the whole chain. Returns 0 when intact, -EBADMSG when it breaks
 * (where and why in @out), or -EIO. */
int cde_audit_store_verify(struct cde_audit_store *s, struct cde_audit_verify *out);

/* The underlying connection, for queries (sinks/audit_query.c). */
struct sqlite3 *cde_audit_store_db(struct cde_audit_store *s);
