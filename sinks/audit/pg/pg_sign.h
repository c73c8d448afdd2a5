#pragma once
/* Signed checkpoints of the Merkle tree on PostgreSQL: as audit.db's
 * (audit_store_sign.c), inside the commit that brings the tree `every`
 * leaves past the latest checkpoint, or on the writer's timer. Every
 * replica may sign with the key (all load the same one); the latest
 * checkpoint's size is read with the head's lock (pg_store.c's
 * lock_head), so replicas never sign one size twice. */

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_tiles.h"
#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"

struct cde_pg_signing {
	struct cde_note_signer *signer;	/* NULL: no signed checkpoints */
	unsigned every;
	bool sign_now;			/* the next commit signs if the tree grew */
	uint64_t signed_size;		/* the latest checkpoint's size, as last read */
	char *work_note;		/* signed in the open transaction */
	uint64_t work_note_size;
	char *fresh_note;		/* committed, not yet taken */
	uint64_t fresh_note_size;
	char error[256];		/* why the last one failed, "" if it did not */
};

/* Takes @signer (owned from the call on, also on failure) after checking
 * that the latest checkpoint in the database describes the tree of
 * @tree_size leaves readable through @io: -ESTALE when it does not (the
 * entries it covered were changed), why in @err; 0 or -EIO. */
int cde_pg_signing_start(struct cde_pg_signing *g, PGconn *c, const struct cde_audit_tile_io *io,
			 uint64_t tree_size, struct cde_note_signer *signer, unsigned every, char *err,
			 size_t err_size);

/* Inside a group's transaction, before COMMIT: signs the tree @work when
 * a checkpoint is due past g->signed_size, which the caller has read from
 * the database under the head's lock. A checkpoint that cannot be made never fails the
 * group: why is kept in g->error. */
void cde_pg_signing_due(struct cde_pg_signing *g, PGconn *c, const struct cde_tlog_frontier *work);

/* After COMMIT (@committed) or ROLLBACK. */
void cde_pg_signing_settled(struct cde_pg_signing *g, bool committed);

void cde_pg_signing_release(struct cde_pg_signing *g);
