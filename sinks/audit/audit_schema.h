#pragma once
/* The audit database's schema: every table of audit.db is created and
 * migrated here, and only here. */

#include <stddef.h>

#include <sqlite3.h>

/* The schema this code writes, as PRAGMA user_version counts it. */
#define CDE_AUDIT_SCHEMA_VERSION 9

/* Brings the writable database @db to CDE_AUDIT_SCHEMA_VERSION: a new
 * file gets every table, an older one the steps it lacks, each in its own
 * transaction, so a crash leaves it at one version or the next. Returns 0,
 * -EROFS for a file written by a newer cdeventsd (it is left alone), or
 * -EIO; why in @err. */
int cde_audit_schema_migrate(sqlite3 *db, char *err, size_t err_size);

/* The version of @db (0 for a file from before versions were kept, or
 * one with no tables yet), or -EIO. */
int cde_audit_schema_version(sqlite3 *db);
