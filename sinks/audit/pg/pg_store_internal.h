#pragma once
/* The PostgreSQL store's handle, shared by its files (pg_store.c: the
 * group commit; pg_journal.c: opening it). Nothing else includes this. */

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_sign.h"
#include "sinks/audit/pg/pg_tree.h"

struct cde_pg_store {
	PGconn *c;
	bool in_tx;
	uint64_t work_seq;			/* inside the open transaction */
	uint8_t work_hash[CDE_HASH_LEN];
	uint64_t head_seq;			/* as this replica last committed or read it */
	struct cde_pg_tree tree;		/* the Merkle tree, next to the chain */
	struct cde_pg_signing signing;		/* its signed checkpoints */
	unsigned every;				/* keyed checkpoints: 0 for none */
	size_t key_len;
	uint8_t key[CDE_AUDIT_KEY_MAX];
};

/* Prepares the writer's statements on s->c (again after a reconnect).
 * 0 or -EIO with why in @err. */
int cde_pg_store_prepare(struct cde_pg_store *s, char *err, size_t err_size);

/* Closes @s (a struct cde_pg_store; NULL is fine). */
void cde_pg_store_close(void *s);
