#pragma once
/* The audit log's schema on PostgreSQL and its migrations. */

#include <libpq-fe.h>

#define CDE_PG_SCHEMA_VERSION 4

/* Advisory lock keys (pg_advisory_lock(key1, key2)): key1 marks them as
 * cdeventsd's, key2 says what they guard. Leases of sinks take key2 =
 * hashtext(sink name) under CDE_PG_LOCK_SINKS. */
#define CDE_PG_LOCK_SPACE 0x63646576	/* "cdev" */
#define CDE_PG_LOCK_MIGRATE 1
#define CDE_PG_LOCK_SINKS 0x73696e6b	/* "sink": key1 of sink leases */

/* The schema version the database is at: 0 for an empty one, or -EIO. */
int cde_pg_schema_version(PGconn *c);

/* Brings the database to CDE_PG_SCHEMA_VERSION, each step in its own
 * transaction under an advisory lock, so replicas that start together
 * migrate once. Returns 0, -EROFS when the database is newer than this
 * code, or -EIO; the reason in @err. */
int cde_pg_schema_migrate(PGconn *c, char *err, size_t err_size);
