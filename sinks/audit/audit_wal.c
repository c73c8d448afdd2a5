/* The WAL's checkpoints on a thread of their own (see audit_wal.h). The
 * writer's WAL hook, called by SQLite after each commit with the WAL's
 * size in pages, wakes the thread each CDE_AUDIT_WAL_ASIDE pages and
 * checkpoints itself only at CDE_AUDIT_WAL_BOUND, after the thread's
 * checkpoint under way if any (a second one would fail at once, and the
 * WAL grow on). The thread sleeps on a condition variable between
 * checkpoints; a wake-up while it copies is kept for when it is done,
 * never queued twice. */

#include "sinks/audit/audit_wal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/audit_store_internal.h"
#include "sinks/audit/sql.h"

struct cde_audit_wal {
	sqlite3 *writer;		/* the writer's connection, whose hook this is */
	sqlite3 *db;			/* the thread's own */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	bool due, running, stopping;	/* under lock */
	int woken_at;			/* writer only: the WAL's size at the last wake-up, */
	unsigned char woken_in[12];	/* in the WAL of this header (sequence, salts) */
	atomic_ullong aside, own;	/* checkpoints run by the thread, by the writer */
};

static void *checkpoints(void *arg)
{
	struct cde_audit_wal *w = arg;

	pthread_setname_np(pthread_self(), "cde-checkpoint");
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->due && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping)
			break;
		w->due = false;
		w->running = true;
		pthread_mutex_unlock(&w->lock);
		/* SQLITE_BUSY (a reader's snapshot in the way) leaves it to the
		 * next wake-up. */
		if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
			atomic_fetch_add(&w->aside, 1);
		pthread_mutex_lock(&w->lock);
		w->running = false;
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The WAL's checkpoint sequence and salts (its header's bytes 12 to 23,
 * SQLite's file format): they change each time it starts over, by any
 * connection. A WAL that started over and grew past woken_at before the
 * writer's next commit is only told apart by them. */
static void wal_generation(sqlite3 *db, unsigned char out[12])
{
	sqlite3_file *f = NULL;
	unsigned char hdr[24];

	memset(out, 0, 12);
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) == SQLITE_OK && f && f->pMethods &&
	    f->pMethods->xRead(f, hdr, sizeof(hdr), 0) == SQLITE_OK)
		memcpy(out, hdr + 12, 12);
}

/* On the writer, after each commit: @pages is the WAL's size. */
static int on_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
	struct cde_audit_wal *w = ctx;
	unsigned char in[12];

	(void)name;
	if (pages >= CDE_AUDIT_WAL_BOUND) {
		/* Two checkpoints cannot run at once: the thread's, if it is
		 * copying, finishes first (it has copied most of the WAL by
		 * then), and none starts until this one is done. */
		pthread_mutex_lock(&w->lock);
		w->due = false;
		while (w->running)
			pthread_cond_wait(&w->idle, &w->lock);
		pthread_mutex_unlock(&w->lock);
		if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_OK)
			atomic_fetch_add(&w->own, 1);
		w->woken_at = 0;
		memset(w->woken_in, 0, sizeof(w->woken_in));
		return SQLITE_OK;
	}
	wal_generation(db, in);
	if (pages < w->woken_at || memcmp(in, w->woken_in, sizeof(in)) != 0) {
		w->woken_at = 0;	/* the WAL started over */
		memcpy(w->woken_in, in, sizeof(in));
	}
	if (pages - w->woken_at >= CDE_AUDIT_WAL_ASIDE) {
		w->woken_at = pages;
		pthread_mutex_lock(&w->lock);
		w->due = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
	}
	return SQLITE_OK;
}

int cde_audit_wal_start(sqlite3 *writer, const char *path, struct cde_audit_wal **ret, char *err,
			size_t err_size)
{
	struct cde_audit_wal *w = calloc(1, sizeof(*w));
	int r;

	if (!w) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	w->writer = writer;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	/* One handle, one thread, as the writer's. Until it has read the
	 * file it does not know of the WAL, and its checkpoints do nothing. */
	if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    cde_sql_int(w->db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'", NULL, 0) != 1 ||
	    /* A checkpoint syncs the WAL before it copies and the database
	     * after, whatever the build's default. */
	    sqlite3_exec(w->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, err_size, "%s: a connection for checkpoints: %s", path,
			 w->db ? sqlite3_errmsg(w->db) : "out of memory");
		r = -EIO;
		goto err_free;
	}
	r = -pthread_create(&w->thread, NULL, checkpoints, w);
	if (r < 0) {
		snprintf(err, err_size, "cannot start the checkpoint thread: %s", strerror(-r));
		goto err_free;
	}
	sqlite3_wal_hook(writer, on_commit, w);
	*ret = w;
	return 0;

err_free:
	sqlite3_close(w->db);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return r;
}

void cde_audit_wal_counts(const struct cde_audit_wal *w, unsigned long long *aside, unsigned long long *own)
{
	*aside = atomic_load(&w->aside);
	*own = atomic_load(&w->own);
}

void cde_audit_wal_stop(struct cde_audit_wal *w)
{
	if (!w)
		return;
	sqlite3_wal_autocheckpoint(w->writer, CDE_AUDIT_WAL_ASIDE);
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	sqlite3_close(w->db);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* The store's side (audit_store.h). */
int cde_audit_store_checkpoint_aside(struct cde_audit_store *s, char *err, size_t err_size)
{
	if (s->read_only)
		return -EROFS;
	if (s->wal)
		return 0;
	return cde_audit_wal_start(s->db, s->path, &s->wal, err, err_size);
}

bool cde_audit_store_wal_counts(const struct cde_audit_store *s, unsigned long long *aside,
				unsigned long long *own)
{
	if (!s->wal)
		return false;
	cde_audit_wal_counts(s->wal, aside, own);
	return true;
}
