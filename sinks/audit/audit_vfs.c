/* The gathering VFS (see audit_vfs.h): a shim over the default VFS whose
 * files wrap the default's; a WAL file keeps a run of contiguous writes
 * in a buffer and writes it with one call when it must. The buffer is
 * the file's, so one connection's only (a file handle belongs to one
 * connection). When memory runs out the write goes through directly.
 *
 * Nothing stays gathered once the connection lets go of the WAL's write
 * lock: frames a rolled-back transaction spilled before its COMMIT are
 * synced by nobody, and written later they would land on frames another
 * connection committed meanwhile (a database disk image is malformed).
 * The lock is taken on the main file's wal-index, so each WAL file is
 * linked to its main file, whose unlock of the write lock writes them. */

#include "sinks/audit/audit_vfs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define VFS_NAME "cde-gather"
/* The most the default VFS writes in one call (its pwrite takes at most
 * 128 KiB - 1 at a time, and a short write is "disk full"): 31 frames of
 * 4 KiB pages, more than most groups write. */
#define GATHER_MAX ((size_t)0x1ffff)

struct gather_file {
	sqlite3_file base;		/* methods: gather_io */
	sqlite3_file *real;		/* the default VFS's file, right after this */
	bool wal;
	char *buf;
	size_t len, cap;
	sqlite3_int64 at;		/* the file offset of buf[0] */
	struct gather_file *wal_file;	/* a main file: its WAL while open */
	struct gather_file *main_file;	/* a WAL: its main file */
};

static sqlite3_vfs gather_vfs;
static const char *registered;
/* Writes taken into a buffer, for tests: the VFS otherwise falls back
 * on plain writes without a sign. */
static atomic_ullong gathered;

#define REAL(f) (((struct gather_file *)(f))->real)
#define REAL_VFS ((sqlite3_vfs *)gather_vfs.pAppData)

/* Writes what is gathered: SQLITE_OK or the write's error. */
static int flush(struct gather_file *g)
{
	int rc;

	if (!g->len)
		return SQLITE_OK;
	rc = g->real->pMethods->xWrite(g->real, g->buf, (int)g->len, g->at);
	g->len = 0;
	return rc;
}

/* Room for @amt more bytes in @g's buffer. */
static bool room(struct gather_file *g, size_t amt)
{
	size_t want = g->len + amt, cap = g->cap ? g->cap : 64 * 1024;
	char *p;

	if (want > GATHER_MAX)
		return false;
	if (want <= g->cap)
		return true;
	while (cap < want)
		cap *= 2;
	p = realloc(g->buf, cap > GATHER_MAX ? GATHER_MAX : cap);
	if (!p)
		return false;
	g->buf = p;
	g->cap = cap > GATHER_MAX ? GATHER_MAX : cap;
	return true;
}

static int g_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	struct gather_file *g = (struct gather_file *)f;
	int rc;

	if (!g->wal)
		return g->real->pMethods->xWrite(g->real, data, amt, off);
	if (g->len && off == g->at + (sqlite3_int64)g->len && room(g, (size_t)amt)) {
		memcpy(g->buf + g->len, data, (size_t)amt);
		g->len += (size_t)amt;
		atomic_fetch_add_explicit(&gathered, 1, memory_order_relaxed);
		return SQLITE_OK;
	}
	rc = flush(g);
	if (rc != SQLITE_OK)
		return rc;
	if (!room(g, (size_t)amt))
		return g->real->pMethods->xWrite(g->real, data, amt, off);
	memcpy(g->buf, data, (size_t)amt);
	g->len = (size_t)amt;
	g->at = off;
	atomic_fetch_add_explicit(&gathered, 1, memory_order_relaxed);
	return SQLITE_OK;
}

static int g_close(sqlite3_file *f)
{
	struct gather_file *g = (struct gather_file *)f;
	int rc = flush(g), rc2 = g->real->pMethods->xClose(g->real);

	if (g->main_file)
		g->main_file->wal_file = NULL;
	free(g->buf);
	g->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

/* Whatever reads the file, its size, or syncs it sees what was written. */
static int g_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
	int rc = flush((struct gather_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xRead(REAL(f), data, amt, off);
}

static int g_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush((struct gather_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int g_sync(sqlite3_file *f, int flags)
{
	int rc = flush((struct gather_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int g_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush((struct gather_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int g_file_control(sqlite3_file *f, int op, void *arg)
{
	int rc = flush((struct gather_file *)f);

	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

/* The rest as the default VFS does it. */
static int g_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int g_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int g_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int g_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int g_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int g_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

/* The WAL's write lock is the wal-index's lock 0 (SQLite's WAL_WRITE_LOCK,
 * part of the file format): before it is released, by itself or with the
 * others at a close, what the WAL gathered is written. Only frames no
 * commit counts on can be left by then (a commit's are synced first), so
 * the lock is released even if that write fails. */
static int g_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct gather_file *g = (struct gather_file *)f;
	int rc = SQLITE_OK, rc2;

	if ((flags & SQLITE_SHM_UNLOCK) && offset == 0 && n > 0 && g->wal_file)
		rc = flush(g->wal_file);
	rc2 = REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
	return rc != SQLITE_OK ? rc : rc2;
}

static void g_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int g_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int g_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	*out = NULL;
	return REAL(f)->pMethods->iVersion >= 3 ? REAL(f)->pMethods->xFetch(REAL(f), off, amt, out) : SQLITE_OK;
}

static int g_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->iVersion >= 3 ? REAL(f)->pMethods->xUnfetch(REAL(f), off, p) : SQLITE_OK;
}

static const sqlite3_io_methods gather_io = {
	.iVersion = 3,
	.xClose = g_close,
	.xRead = g_read,
	.xWrite = g_write,
	.xTruncate = g_truncate,
	.xSync = g_sync,
	.xFileSize = g_file_size,
	.xLock = g_lock,
	.xUnlock = g_unlock,
	.xCheckReservedLock = g_check_reserved,
	.xFileControl = g_file_control,
	.xSectorSize = g_sector_size,
	.xDeviceCharacteristics = g_device,
	.xShmMap = g_shm_map,
	.xShmLock = g_shm_lock,
	.xShmBarrier = g_shm_barrier,
	.xShmUnmap = g_shm_unmap,
	.xFetch = g_fetch,
	.xUnfetch = g_unfetch,
};

static int g_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct gather_file *g = (struct gather_file *)f;
	int rc;

	(void)vfs;
	memset(g, 0, sizeof(*g));
	g->real = (sqlite3_file *)(g + 1);
	rc = REAL_VFS->xOpen(REAL_VFS, name, g->real, flags, out_flags);
	if (rc != SQLITE_OK || !g->real->pMethods) {
		/* SQLite calls no method of a file that failed to open. */
		g->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	/* The wal-index needs shared-memory methods (version 2). */
	if (g->real->pMethods->iVersion < 2) {
		g->real->pMethods->xClose(g->real);
		g->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	g->wal = (flags & SQLITE_OPEN_WAL) != 0;
	if (g->wal) {
		/* Opened by the pager of a main file of this VFS, which
		 * outlives it (SQLite closes the WAL first). */
		g->main_file = (struct gather_file *)sqlite3_database_file_object(name);
		g->main_file->wal_file = g;
	}
	g->base.pMethods = &gather_io;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return REAL_VFS->xDelete(REAL_VFS, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return REAL_VFS->xAccess(REAL_VFS, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return REAL_VFS->xFullPathname(REAL_VFS, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return REAL_VFS->xDlOpen(REAL_VFS, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	REAL_VFS->xDlError(REAL_VFS, n, out);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return REAL_VFS->xDlSym(REAL_VFS, h, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	REAL_VFS->xDlClose(REAL_VFS, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return REAL_VFS->xRandomness(REAL_VFS, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return REAL_VFS->xSleep(REAL_VFS, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return REAL_VFS->xCurrentTime(REAL_VFS, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return REAL_VFS->xGetLastError(REAL_VFS, n, out);
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	if (REAL_VFS->iVersion >= 2 && REAL_VFS->xCurrentTimeInt64)
		return REAL_VFS->xCurrentTimeInt64(REAL_VFS, out);
	double now;
	int rc = REAL_VFS->xCurrentTime(REAL_VFS, &now);

	*out = (sqlite3_int64)(now * 86400000.0);
	return rc;
}

static void register_once(void)
{
	sqlite3_vfs *real;

	if (sqlite3_initialize() != SQLITE_OK || !(real = sqlite3_vfs_find(NULL)))
		return;
	gather_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct gather_file) + real->szOsFile,
		.mxPathname = real->mxPathname,
		.zName = VFS_NAME,
		.pAppData = real,
		.xOpen = g_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full_pathname,
		.xDlOpen = v_dl_open,
		.xDlError = v_dl_error,
		.xDlSym = v_dl_sym,
		.xDlClose = v_dl_close,
		.xRandomness = v_randomness,
		.xSleep = v_sleep,
		.xCurrentTime = v_current_time,
		.xGetLastError = v_last_error,
		.xCurrentTimeInt64 = v_current_time_int64,
	};
	if (sqlite3_vfs_register(&gather_vfs, 0) == SQLITE_OK)
		registered = VFS_NAME;
}

const char *cde_audit_vfs_gathering(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_once);
	return registered;
}

unsigned long long cde_audit_vfs_gathered(void)
{
	return atomic_load_explicit(&gathered, memory_order_relaxed);
}
