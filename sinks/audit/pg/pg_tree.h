#pragma once
/* The Merkle tree on PostgreSQL: the same tiles as audit.db's
 * (audit_tiles.h) in table tree_tiles, read and written through a
 * cde_audit_tile_io over a libpq connection. */

#include <stdbool.h>

#include <libpq-fe.h>

#include "sinks/audit/audit_tiles.h"

/* Prepares the tile statements on @c (again after a reconnect; not when
 * this session has them already, as the proof source and the tree check
 * may share one) and fills @io for it. 0 or -EIO. */
int cde_pg_tile_io_init(struct cde_audit_tile_io *io, PGconn *c);

/* The writer's tree: the frontier as committed and as worked on in the
 * open transaction, and the tiles' right edge. Another replica may have
 * grown the tree since this one's last group: cde_pg_tree_sync, called
 * with the size the log's head row says (read under its lock), loads the
 * frontier and edge again when they differ. */
struct cde_pg_tree {
	struct cde_audit_tile_io io;
	bool loaded;
	struct cde_tlog_frontier committed, work;
	struct cde_audit_tile_edge edge;
};

/* 0, or -EIO / -EBADMSG (a tile is damaged or missing) with why in @err. */
int cde_pg_tree_sync(struct cde_pg_tree *t, uint64_t size, char *err, size_t err_size);
/* Appends @leaf as leaf t->work.size. 0 or -errno. */
int cde_pg_tree_append(struct cde_pg_tree *t, const uint8_t leaf[CDE_TLOG_HASH_LEN]);
/* Writes the tiles the group touched, inside its transaction. 0 or -EIO. */
int cde_pg_tree_flush(struct cde_pg_tree *t);
void cde_pg_tree_committed(struct cde_pg_tree *t);
void cde_pg_tree_rolled_back(struct cde_pg_tree *t);
/* Forgets what was loaded (a new connection): the next sync loads. */
void cde_pg_tree_release(struct cde_pg_tree *t);
