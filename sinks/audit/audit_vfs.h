#pragma once
/* A SQLite VFS for the writer's connection that writes each commit's WAL
 * frames with one pwrite (issue 15). SQLite writes a frame as two writes
 * (its 24-byte header, then the page), so a group of 12 hooks, which
 * touches about 22 pages of nine B-trees, cost 45 pwrite calls, and as
 * frames are not page-aligned the kernel took each page of the WAL two or
 * three times (a sixth of the writer's time under load). Here writes to
 * the WAL that follow each other are gathered in memory and written at
 * once before anything could read or depend on them: SQLite's sync of the
 * WAL at the commit, any read or size query of the WAL, a write
 * elsewhere in it, the release of its write lock (a rolled-back
 * transaction's frames, else written later over another connection's),
 * its close. Everything else goes to the default VFS
 * unchanged, so the file is the same, byte for byte, and other
 * connections share its locks and wal-index as before.
 *
 * Only for a connection with synchronous=FULL: SQLite then syncs the WAL
 * before it marks a commit's frames as committed in the wal-index, which
 * other connections read. With NORMAL it does not, and they could read
 * frames still in memory here. */

/* The VFS's name for sqlite3_open_v2, registered on first use (not the
 * default); NULL when it could not be (the default VFS then serves). */
const char *cde_audit_vfs_gathering(void);

/* The writes to a WAL taken into a buffer so far, by every connection
 * of the process (for tests and figures). */
unsigned long long cde_audit_vfs_gathered(void);
