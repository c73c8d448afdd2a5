#pragma once
/* The audit log's writer on PostgreSQL: the backend of the journal's
 * writer thread (audit_backend.h) when storage.driver is postgres. */

#include "sinks/audit/audit_backend.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/tlog/note.h"

struct cde_pg_store;

/* What the store found when it opened the log. */
struct cde_pg_store_opened {
	unsigned long long rows;	/* events stored */
	unsigned long long head_seq;
	unsigned long long tree_size;	/* leaves of the Merkle tree */
};

/* Connects, brings the schema to this code's version, and reads the
 * log's head. @key (NULL: none) turns on keyed checkpoints every @every
 * rows, as on SQLite. 0 or -errno with the reason in @err. */
int cde_pg_store_open(const struct cde_pg_options *o, const uint8_t *key, size_t key_len, unsigned every,
		      struct cde_pg_store **ret, struct cde_pg_store_opened *opened, char *err, size_t err_size);

extern const struct cde_audit_backend_ops cde_audit_backend_pg;

/* From now on, sign a checkpoint of the tree when @every leaves were
 * added since the latest one (whichever replica signed it), and when the
 * backend's sign_tree asks. Checks first that the latest checkpoint in
 * the database describes the tree (-ESTALE, why in @err). The store owns
 * @signer from the call on, also on failure. 0 or -errno. */
int cde_pg_store_set_signer(struct cde_pg_store *s, struct cde_note_signer *signer, unsigned every, char *err,
			    size_t err_size);

/* The writer's connection, and the checkpoint key (NULL when none), for
 * the files of the store (pg_retention.c). */
PGconn *cde_pg_store_conn(struct cde_pg_store *s);
const uint8_t *cde_pg_store_key(const struct cde_pg_store *s, size_t *ret_len);

/* Retention (pg_retention.c), the backend's retain: max_age only. */
int cde_pg_retain(void *store, const struct cde_audit_retention *policy, int64_t now,
		  struct cde_audit_retention_run *out, char *err, size_t err_size);

/* The journal on PostgreSQL: the store opened as cde_pg_store_open, and
 * its writer thread started (cde_journal_writer_new). @o's path and
 * accept_loss are not used (a database does not lose its tail as a file
 * can); audit.max_size is refused (-EINVAL: a table does not shrink). */
int cde_journal_pg_new(struct event_base *base, const struct cde_pg_options *pg,
		       const struct cde_journal_audit_options *o, struct cde_journal *ret,
		       struct cde_journal_audit_opened *opened, char *err, size_t err_size);
