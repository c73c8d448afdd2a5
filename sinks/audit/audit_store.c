/* The audit store on SQLite. Rows are appended only by cde_audit_store_append,
 * in one transaction per batch (group commit: one fsync for all the events
 * queued since the last commit). The chain head is kept in memory and in
 * the meta table, updated in the same transaction, so a crash leaves
 * either the whole batch or none of it, chain included. What each
 * request's entries add to the open group is audit_store_add.c's. */

#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/hmac.h>
#include <sqlite3.h>

#include "sinks/audit/audit_correlate.h"
#include "sinks/audit/audit_head_file.h"
#include "sinks/audit/audit_schema.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/audit_vfs.h"
#include "sinks/audit/sql.h"

/* meta.schema marks a cdeventsd audit log; it stays "1" (the schema's
 * version is PRAGMA user_version, see audit_schema.c). */
#define LOG_MARK "1"


int cde_audit_store_fail(sqlite3 *db, char *err, size_t size, const char *what)
{
	snprintf(err, size, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return -EIO;
}

static int read_meta(sqlite3 *db, const char *key, char *out, size_t size)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

/* The file's settings, then its tables at this code's version (the
 * writer migrates; a reader refuses a newer file). */
static int open_schema(struct cde_audit_store *s, const char *path, enum cde_audit_sync sync, char *err,
		       size_t err_size)
{
	char why[256], sql[64];
	int r;

	if (s->read_only) {
		int v = cde_audit_schema_version(s->db);

		if (v >= 0 && v <= CDE_AUDIT_SCHEMA_VERSION)
			return 0;
		if (v < 0)
			snprintf(err, err_size, "%s: the schema version is unreadable", path);
		else
			snprintf(err, err_size, "%s: written by a newer cdeventsd (schema %d; this one reads up to %d)",
				 path, v, CDE_AUDIT_SCHEMA_VERSION);
		return v < 0 ? -EIO : -EROFS;
	}
	snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s;", sync == CDE_AUDIT_SYNC_FULL ? "FULL" : "NORMAL");
	/* auto_vacuum only takes on a new file, before its first table:
	 * it lets retention give freed pages back to the file system. */
	if (sqlite3_exec(s->db, "PRAGMA auto_vacuum=INCREMENTAL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return cde_audit_store_fail(s->db, err, err_size, path);
	r = cde_audit_schema_migrate(s->db, why, sizeof(why));
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", path, why);
		return r;
	}
	/* An event's INSERT touches nine B-trees: its statement journal
	 * outgrows SQLite's in-memory spill size and went to a temporary
	 * file, a write and a read per event on the writer thread. Kept in
	 * memory from here; a migration, which may sort a whole table, had
	 * the disk. */
	if (sqlite3_exec(s->db, "PRAGMA temp_store=MEMORY;", NULL, NULL, NULL) != SQLITE_OK)
		return cde_audit_store_fail(s->db, err, err_size, path);
	return 0;
}

/* The log's mark and the chain's committed head, from meta. */
static int read_head(struct cde_audit_store *s, const char *path, char *err, size_t err_size)
{
	char value[256];

	if (read_meta(s->db, "schema", value, sizeof(value)) < 0 || strcmp(value, LOG_MARK) != 0) {
		snprintf(err, err_size, "%s: not a cdeventsd audit log", path);
		return -EINVAL;
	}
	if (read_meta(s->db, "head_seq", value, sizeof(value)) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "reading the chain head");
	s->head_seq = strtoull(value, NULL, 10);
	if (read_meta(s->db, "head_hash", value, sizeof(value)) < 0 ||
	    cde_hash_from_hex(value, s->head_hash) < 0) {
		snprintf(err, err_size, "%s: the chain head is unreadable", path);
		return -EINVAL;
	}
	return 0;
}

int cde_audit_store_tx(struct cde_audit_store *s, enum cde_audit_tx which)
{
	sqlite3_stmt *st = s->tx[which];
	int rc = st ? sqlite3_step(st) : SQLITE_MISUSE;

	/* The reset keeps SQLite's message of a failed step. */
	if (st)
		sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The writer's statements, prepared once for the life of the store. */
static int prepare_writer(struct cde_audit_store *s, char *err, size_t err_size)
{
	const struct {
		const char *sql;
		sqlite3_stmt **stmt;
	} statements[] = {
		{ "BEGIN IMMEDIATE", &s->tx[CDE_AUDIT_TX_BEGIN] },
		{ "COMMIT", &s->tx[CDE_AUDIT_TX_COMMIT] },
		{ "ROLLBACK", &s->tx[CDE_AUDIT_TX_ROLLBACK] },
		{ "SAVEPOINT batch", &s->tx[CDE_AUDIT_TX_SAVEPOINT] },
		{ "RELEASE batch", &s->tx[CDE_AUDIT_TX_RELEASE] },
		{ "ROLLBACK TO batch", &s->tx[CDE_AUDIT_TX_ROLLBACK_TO] },
		{ "INSERT INTO events(seq, id, source, type, subject, chain_id, artifact_id,"
		  " timestamp, received_at, spec_version, principal, peer, event, prev_hash, hash,"
		  " digest, leaf, chain_via, leaf_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		  " ON CONFLICT(source, id) DO NOTHING",
		  &s->insert },
		{ "UPDATE meta SET value = ? WHERE key = ?", &s->set_head },
		{ "SELECT value FROM meta WHERE key = 'head_seq'", &s->get_head },
		{ "SELECT digest, seq, leaf FROM events WHERE source = ? AND id = ?", &s->stored_digest },
		{ "SELECT chain_id, seq FROM events WHERE subject = ? AND chain_id IS NOT NULL" CDE_AUDIT_NOT_OWN_SQL
		  " ORDER BY seq DESC LIMIT 1", &s->lookups.chain_of_subject },
		{ "SELECT chain_id, seq FROM events WHERE artifact_id = ? AND chain_id IS NOT NULL" CDE_AUDIT_NOT_OWN_SQL
		  " ORDER BY seq DESC LIMIT 1", &s->lookups.chain_of_artifact },
		{ "SELECT id FROM events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1", &s->lookups.chain_head },
		{ CDE_AUDIT_DEPLOYMENT_SQL("chain_id, seq", "?1", "?2", "json_extract(event, '$.subject.content.environment.id')"),
		  &s->lookups.chain_of_deployment },
		{ CDE_AUDIT_OTHER_ARTIFACT_SQL("?1", "?2"), &s->lookups.other_artifact },
		{ "INSERT INTO checkpoints(seq, hash, mac) VALUES (?, ?, ?)", &s->checkpoint },
	};

	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
		if (sqlite3_prepare_v3(s->db, statements[i].sql, -1, SQLITE_PREPARE_PERSISTENT, statements[i].stmt,
				       NULL) != SQLITE_OK)
			return cde_audit_store_fail(s->db, err, err_size, "preparing statements");
	/* Without it (no memory) correlation asks SQLite every time. */
	s->lookups.memo = cde_audit_memo_new();
	return cde_audit_tree_writer_init(&s->tree, s->db, err, err_size);
}

int cde_audit_store_open(const char *path, bool read_only, enum cde_audit_sync sync,
			 struct cde_audit_store **ret, char *err, size_t err_size)
{
	struct cde_audit_store *s = calloc(1, sizeof(*s));
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int r;

	if (!s)
		return -ENOMEM;
	s->read_only = read_only;
	s->head_fd = -1;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return -ENOMEM;
	}
	if (!read_only && (s->head_fd = cde_audit_head_file_open(path)) < 0) {
		snprintf(err, err_size, "%s-head: %s", path, strerror(-s->head_fd));
		r = s->head_fd;
		goto err_close;
	}
	/* One handle, one thread: SQLite's own locking is not needed. The
	 * writer's WAL frames are written a commit at a time (audit_vfs.h),
	 * which is safe with synchronous=FULL only. */
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
			    !read_only && sync == CDE_AUDIT_SYNC_FULL ? cde_audit_vfs_gathering() : NULL) != SQLITE_OK) {
		r = cde_audit_store_fail(s->db, err, err_size, path);
		goto err_close;
	}
	sqlite3_busy_timeout(s->db, 5000);
	r = open_schema(s, path, sync, err, err_size);
	if (r == 0)
		r = read_head(s, path, err, err_size);
	s->has_chain_via = r == 0 && cde_sql_int(s->db, "SELECT count(*) FROM pragma_table_info('events')"
						 " WHERE name = 'chain_via'", NULL, 0) > 0;
	if (r == 0 && !read_only)
		r = prepare_writer(s, err, err_size);
	if (r < 0)
		goto err_close;
	*ret = s;
	return 0;

err_close:
	cde_audit_store_close(s);
	return r;
}

void cde_audit_store_close(struct cde_audit_store *s)
{
	if (!s)
		return;
	/* Before the writer's connection closes, which copies what is
	 * left of the WAL when it is the last. */
	cde_audit_wal_stop(s->wal);
	for (size_t i = 0; i < CDE_AUDIT_TX_N; i++)
		sqlite3_finalize(s->tx[i]);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->set_head);
	sqlite3_finalize(s->get_head);
	sqlite3_finalize(s->stored_digest);
	sqlite3_finalize(s->lookups.chain_of_subject);
	sqlite3_finalize(s->lookups.chain_of_artifact);
	sqlite3_finalize(s->lookups.chain_head);
	sqlite3_finalize(s->lookups.chain_of_deployment);
	sqlite3_finalize(s->lookups.other_artifact);
	sqlite3_finalize(s->checkpoint);
	cde_audit_memo_free(s->lookups.memo);
	cde_audit_tree_writer_release(&s->tree);
	cde_note_signer_free(s->signer);
	free(s->work_note);
	free(s->fresh_note);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	sqlite3_close(s->db);
	if (s->head_fd >= 0)
		close(s->head_fd);
	free(s->path);
	free(s);
}

void cde_audit_store_rows_deleted(struct cde_audit_store *s)
{
	cde_audit_memo_forget(s->lookups.memo);
}

struct sqlite3 *cde_audit_store_db(struct cde_audit_store *s)
{
	return s->db;
}

bool cde_audit_store_has_chain_via(const struct cde_audit_store *s)
{
	return s->has_chain_via;
}

const char *cde_audit_store_path(const struct cde_audit_store *s)
{
	return s->path;
}

int cde_audit_store_meta(struct cde_audit_store *s, const char *key, char *out, size_t size)
{
	return read_meta(s->db, key, out, size);
}

int cde_audit_store_prev_hash(struct cde_audit_store *s, uint64_t seq, uint8_t out[CDE_HASH_LEN])
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT prev_hash FROM events WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = cde_hash_from_hex((const char *)sqlite3_column_text(st, 0), out) < 0 ? -EBADMSG : 0;
	sqlite3_finalize(st);
	return r;
}

void cde_audit_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int set_meta(struct cde_audit_store *s, const char *key, const char *value)
{
	int rc;

	sqlite3_reset(s->set_head);
	sqlite3_bind_text(s->set_head, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->set_head, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->set_head);
	sqlite3_reset(s->set_head);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_store_set_checkpoints(struct cde_audit_store *s, const uint8_t *key, size_t key_len,
				    unsigned every)
{
	if (key_len < CDE_AUDIT_KEY_MIN || key_len > CDE_AUDIT_KEY_MAX || every == 0)
		return -EINVAL;
	memcpy(s->key, key, key_len);
	s->key_len = key_len;
	s->every = every;
	return 0;
}

const uint8_t *cde_audit_store_key(const struct cde_audit_store *s, size_t *ret_len)
{
	*ret_len = s->key_len;
	return s->key_len ? s->key : NULL;
}

uint64_t cde_audit_store_head(const struct cde_audit_store *s)
{
	return s->head_seq;
}

int cde_audit_store_begin(struct cde_audit_store *s, char *err, size_t err_size)
{
	if (s->read_only)
		return -EROFS;
	if (cde_audit_store_tx(s, CDE_AUDIT_TX_BEGIN) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "begin");
	s->in_tx = true;
	/* Another process writing the same file (the state directory's
	 * lock keeps daemons out, not a hand-run tool) would have moved the
	 * head: appending from ours would fork the chain, and an empty
	 * commit would write our stale head over its rows. */
	if (sqlite3_step(s->get_head) != SQLITE_ROW ||
	    strtoull((const char *)sqlite3_column_text(s->get_head, 0), NULL, 10) != s->head_seq) {
		sqlite3_reset(s->get_head);
		cde_audit_store_rollback(s);
		snprintf(err, err_size, "the audit log's head moved under this process (another writer?): "
			 "refusing to append; restart to check the log");
		return -ESTALE;
	}
	sqlite3_reset(s->get_head);
	s->work_seq = s->head_seq;
	memcpy(s->work_hash, s->head_hash, CDE_HASH_LEN);
	return 0;
}

int cde_audit_store_commit(struct cde_audit_store *s, char *err, size_t err_size)
{
	char buf[CDE_HASH_HEX_LEN];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s->work_seq);
	if (set_meta(s, "head_seq", buf) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "recording the chain head");
	cde_hash_to_hex(s->work_hash, buf);
	if (set_meta(s, "head_hash", buf) < 0 || cde_audit_tree_writer_flush(&s->tree) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "recording the chain head");
	if (cde_audit_store_sign_due(s, err, err_size) < 0)
		return -EIO;
	/* With synchronous=FULL this is the one fsync of the group. */
	if (cde_audit_store_tx(s, CDE_AUDIT_TX_COMMIT) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "commit");
	s->in_tx = false;
	cde_audit_tree_writer_committed(&s->tree);
	cde_audit_store_sign_settled(s, true);
	s->head_seq = s->work_seq;
	memcpy(s->head_hash, s->work_hash, CDE_HASH_LEN);
	/* After the commit, never before: the head file must not name a seq
	 * the database may not have. Its failure loses no event. */
	if (s->head_fd >= 0)
		cde_audit_head_file_write(s->head_fd, s->head_seq, s->head_hash);
	return 0;
}

void cde_audit_store_rollback(struct cde_audit_store *s)
{
	if (s->in_tx)
		cde_audit_store_tx(s, CDE_AUDIT_TX_ROLLBACK);
	cde_audit_memo_forget(s->lookups.memo);
	s->in_tx = false;
	cde_audit_tree_writer_rolled_back(&s->tree);
	cde_audit_store_sign_settled(s, false);
}

int cde_audit_store_append(struct cde_audit_store *s, struct cde_journal_entry *entries, size_t n,
			   char *err, size_t err_size)
{
	int r = cde_audit_store_begin(s, err, err_size);

	if (r == 0)
		r = cde_audit_store_add(s, entries, n, err, err_size);
	if (r == 0)
		r = cde_audit_store_commit(s, err, err_size);
	if (r < 0) {
		cde_audit_store_rollback(s);
		for (size_t i = 0; i < n; i++) {
			entries[i].seq = 0;
			entries[i].has_leaf = false;
			entries[i].duplicate = false;
		}
	}
	return r;
}
