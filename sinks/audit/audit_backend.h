#pragma once
/* What the journal's writer thread (journal_audit.c) needs of a store:
 * group commit in begin/add/commit, and the chores between groups. The
 * writer owns the thread, the stats, the probe of a failing store and the
 * timers; a backend only stores. Two backends: SQLite (audit_store.c,
 * audit.db) and PostgreSQL (pg/pg_store.c, shared by replicas). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/audit_retention.h"
#include "sinks/audit/journal.h"

struct cde_audit_backend_ops {
	const char *name;
	/* Group commit: see cde_audit_store_begin/add/commit/rollback. An
	 * empty begin + commit is the probe of a store that failed. */
	int (*begin)(void *store, char *err, size_t err_size);
	int (*add)(void *store, struct cde_journal_entry *entries, size_t n, char *err, size_t err_size);
	int (*commit)(void *store, char *err, size_t err_size);
	void (*rollback)(void *store);
	/* Optional (NULL: the backend has no retention yet). */
	int (*retain)(void *store, const struct cde_audit_retention *policy, int64_t now,
		      struct cde_audit_retention_run *out, char *err, size_t err_size);
	/* Signed checkpoints of the Merkle tree; optional as a group (NULL:
	 * none). See cde_audit_store_sign_tree and its neighbours. */
	int (*sign_tree)(void *store, char *err, size_t err_size);
	char *(*take_checkpoint)(void *store, uint64_t *ret_size);
	bool (*take_sign_error)(void *store, char *out, size_t size);
	uint64_t (*tree_size)(const void *store);
	uint64_t (*signed_size)(const void *store);
	void (*close)(void *store);
};

struct cde_audit_backend {
	const struct cde_audit_backend_ops *ops;
	void *store;
};

/* The SQLite store (audit_store.h) as a backend. */
extern const struct cde_audit_backend_ops cde_audit_backend_sqlite;

/* Starts the journal's writer thread over @be, which it owns from the
 * call on (closed on failure too). @o gives retention, the checkpoint
 * timer and the checkpoint callback (its path, keys and signer are the
 * opener's business). 0 or -errno with the reason in @err. */
int cde_journal_writer_new(struct event_base *base, struct cde_audit_backend be,
			   const struct cde_journal_audit_options *o, unsigned long long rows, struct cde_journal *ret,
			   char *err, size_t err_size);
