#pragma once
/* Where the audit log and the delivery state live: audit.db (SQLite, the
 * embedded default) or a PostgreSQL database that several replicas share.
 * The journal, the reader and the delivery store each open their own
 * connection from it. */

#include <stdbool.h>

#include "sinks/audit/pg/pg_conn.h"

struct cde_store_location {
	bool postgres;
	const char *sqlite_path;	/* !postgres: the database file */
	/* !postgres: the journal's checkpoint thread copies the WAL back
	 * (audit_wal.h), so the process's other connections that write
	 * leave checkpoints to it below the WAL's bound (theirs would
	 * collide with it and cost their thread two fsyncs). */
	bool sqlite_checkpoints_aside;
	struct cde_pg_options pg;	/* postgres: url and password file */
};

/* What to name the store in messages: the file, or the url (which never
 * holds a password: config/storage_key.c refuses one). */
static inline const char *cde_store_location_name(const struct cde_store_location *l)
{
	return l->postgres ? l->pg.url : l->sqlite_path;
}
