#pragma once
/* The WAL's checkpoints off the writer's commit (issue 15). SQLite
 * checkpoints on the connection that commits, once the WAL holds 1,000
 * pages: the writer thread then copied pages back into audit.db and
 * synced both files between two groups, while producers waited for their
 * 202. Here a thread of its own, with its own connection, does that copy
 * (PASSIVE: it never waits for the writer's lock, and the writer goes on
 * committing meanwhile), woken by the writer's commits each
 * CDE_AUDIT_WAL_ASIDE pages.
 *
 * A PASSIVE checkpoint copies what was committed when it started, so
 * under steady ingest the WAL is never wholly copied when the writer
 * begins its next group, and SQLite starts the WAL over only then. The
 * writer therefore still checkpoints itself once the WAL holds
 * CDE_AUDIT_WAL_BOUND pages (after the thread's checkpoint, if one is
 * under way): all but the latest few hundred pages are copied by then,
 * the WAL starts over at the next group, and it stays within the bound
 * and a group (as before, a reader holding an old snapshot can keep it
 * from being copied either way). */

#include <stddef.h>

#include <sqlite3.h>

/* Pages added to the WAL between the thread's checkpoints (SQLite's
 * default for the committing connection). */
#define CDE_AUDIT_WAL_ASIDE 1000
/* The WAL's size in pages at which the writer checkpoints itself. */
#define CDE_AUDIT_WAL_BOUND 8000

struct cde_audit_wal;

/* Opens a second connection to @path and starts the thread, then takes
 * over the WAL hook of the writer's connection @writer (which must be in
 * WAL mode and used by one thread). 0, or -errno with a message in @err;
 * on failure @writer keeps SQLite's own checkpoints. */
int cde_audit_wal_start(sqlite3 *writer, const char *path, struct cde_audit_wal **ret, char *err,
			size_t err_size);

/* The checkpoints run so far by the thread (@aside) and by the writer
 * (@own), for tests and figures. */
void cde_audit_wal_counts(const struct cde_audit_wal *w, unsigned long long *aside, unsigned long long *own);

/* Stops the thread (a checkpoint under way finishes first), closes its
 * connection and gives @writer SQLite's own checkpoints back. Call it on
 * the writer's thread, or once it is done; accepts NULL. */
void cde_audit_wal_stop(struct cde_audit_wal *w);
