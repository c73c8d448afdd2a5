/* The audit store on SQLite. Rows are appended only by cde_audit_store_append,
 * in one transaction per batch (group commit: one fsync for all the events
 * queued since the last commit). The chain head is kept in memory and in
 * the meta table, updated in the same transaction, so a crash leaves
 * either the whole batch or none of it, chain included. */

#include "sinks/audit_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "events/event.h"
#include "events/ids.h"
#include "events/limits.h"
#include "schemas/read_file.h"
#include "sinks/dead_letters.h"

#define SCHEMA_VERSION "1"

struct cde_audit_store {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *chain_of_subject;
	sqlite3_stmt *chain_of_artifact;
	sqlite3_stmt *chain_head;
	sqlite3_stmt *checkpoint;
	unsigned every;				/* 0: no checkpoints */
	size_t key_len;
	uint8_t key[CDE_AUDIT_KEY_MAX];
	sqlite3_stmt *set_head;
	bool read_only;
	uint64_t head_seq;			/* committed */
	uint8_t head_hash[CDE_HASH_LEN];
	bool in_tx;
	uint64_t work_seq;			/* inside the open transaction */
	uint8_t work_hash[CDE_HASH_LEN];
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS events("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL,"
	" subject TEXT, chain_id TEXT, artifact_id TEXT,"
	" timestamp TEXT NOT NULL, received_at TEXT NOT NULL, spec_version TEXT NOT NULL,"
	" principal TEXT NOT NULL, peer TEXT NOT NULL, event TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL, hash TEXT NOT NULL,"
	" UNIQUE(source, id));"
	"CREATE TABLE IF NOT EXISTS checkpoints(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL,"
	" mac TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS retention(seq INTEGER PRIMARY KEY, deleted INTEGER NOT NULL,"
	" at TEXT NOT NULL, reason TEXT NOT NULL, anchor TEXT NOT NULL, prev TEXT NOT NULL,"
	" hash TEXT NOT NULL, mac TEXT);"
	"CREATE INDEX IF NOT EXISTS events_by_id ON events(id, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_subject ON events(subject, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_chain ON events(chain_id, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_artifact ON events(artifact_id, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_type ON events(type, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_received ON events(received_at);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '" SCHEMA_VERSION "');"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('head_seq', '0');"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('head_hash',"
	" '0000000000000000000000000000000000000000000000000000000000000000');";

static int fail(sqlite3 *db, char *err, size_t size, const char *what)
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

int cde_audit_store_open(const char *path, bool read_only, enum cde_audit_sync sync,
			 struct cde_audit_store **ret, char *err, size_t err_size)
{
	struct cde_audit_store *s = calloc(1, sizeof(*s));
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	char value[80], sql[64];
	int r;

	if (!s)
		return -ENOMEM;
	s->read_only = read_only;
	/* One handle, one thread: SQLite's own locking is not needed. */
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = fail(s->db, err, err_size, path);
		goto err_close;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (!read_only) {
		snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s;",
			 sync == CDE_AUDIT_SYNC_FULL ? "FULL" : "NORMAL");
		/* auto_vacuum only takes on a new file, before its first table:
		 * it lets retention give freed pages back to the file system. */
		if (sqlite3_exec(s->db, "PRAGMA auto_vacuum=INCREMENTAL;", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
		    cde_dead_letters_schema(s->db) < 0) {
			r = fail(s->db, err, err_size, path);
			goto err_close;
		}
	}
	if (read_meta(s->db, "schema", value, sizeof(value)) < 0 || strcmp(value, SCHEMA_VERSION) != 0) {
		snprintf(err, err_size, "%s: not a cdeventsd audit log (schema %s)", path, SCHEMA_VERSION);
		r = -EINVAL;
		goto err_close;
	}
	if (read_meta(s->db, "head_seq", value, sizeof(value)) < 0) {
		r = fail(s->db, err, err_size, "reading the chain head");
		goto err_close;
	}
	s->head_seq = strtoull(value, NULL, 10);
	if (read_meta(s->db, "head_hash", value, sizeof(value)) < 0 ||
	    cde_hash_from_hex(value, s->head_hash) < 0) {
		snprintf(err, err_size, "%s: the chain head is unreadable", path);
		r = -EINVAL;
		goto err_close;
	}
	if (!read_only &&
	    (sqlite3_prepare_v3(s->db,
				"INSERT INTO events(seq, id, source, type, subject, chain_id, artifact_id,"
				" timestamp, received_at, spec_version, principal, peer, event, prev_hash, hash)"
				" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(source, id) DO NOTHING",
				-1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(s->db, "UPDATE meta SET value = ? WHERE key = ?", -1,
				SQLITE_PREPARE_PERSISTENT, &s->set_head, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(s->db,
				"SELECT chain_id FROM events WHERE subject = ? AND chain_id IS NOT NULL"
				" ORDER BY seq DESC LIMIT 1", -1, SQLITE_PREPARE_PERSISTENT,
				&s->chain_of_subject, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(s->db,
				"SELECT chain_id FROM events WHERE artifact_id = ? AND chain_id IS NOT NULL"
				" ORDER BY seq DESC LIMIT 1", -1, SQLITE_PREPARE_PERSISTENT,
				&s->chain_of_artifact, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(s->db, "SELECT id FROM events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1",
				-1, SQLITE_PREPARE_PERSISTENT, &s->chain_head, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(s->db, "INSERT INTO checkpoints(seq, hash, mac) VALUES (?, ?, ?)", -1,
				SQLITE_PREPARE_PERSISTENT, &s->checkpoint, NULL) != SQLITE_OK)) {
		r = fail(s->db, err, err_size, "preparing statements");
		goto err_close;
	}
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
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->set_head);
	sqlite3_finalize(s->chain_of_subject);
	sqlite3_finalize(s->chain_of_artifact);
	sqlite3_finalize(s->chain_head);
	sqlite3_finalize(s->checkpoint);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	sqlite3_close(s->db);
	free(s);
}

struct sqlite3 *cde_audit_store_db(struct cde_audit_store *s)
{
	return s->db;
}

/* The artifact an event is about, for "everything that happened to
 * artifact X": an artifact event's subject, or the artifactId field of
 * builds, deployments and incidents. */
static const char *artifact_of(const struct cde_event *ev)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(content, "artifactId");
	const char *type = cde_event_type(ev);

	if (cJSON_IsString(a) && a->valuestring[0])
		return a->valuestring;
	if (type && strncmp(type, "dev.cdevents.artifact.", 22) == 0)
		return cde_event_subject_id(ev);
	return NULL;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Runs @st (already bound) and copies its first text column into @out;
 * returns true when there was a row. */
static bool first_text(sqlite3_stmt *st, char *out, size_t size)
{
	bool found = false;

	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		found = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

static bool chain_of(sqlite3_stmt *st, const char *key, char *out, size_t size)
{
	if (!key)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return first_text(st, out, size);
}

/* The pipeline run a task run belongs to (subject.content.pipelineRun.id). */
static const char *pipeline_run_of(const struct cde_event *ev)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(content, "pipelineRun");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");

	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* Gives an event without a chainId the chain it belongs to, found in this
 * order: the pipeline run a task run names; the artifact it is about
 * (build.finished -> artifact.* -> service.deployed share an artifact
 * id); its own subject (queued -> started -> finished). Without any, it
 * starts a new chain. It then gets a PATH link from the chain's latest
 * event, so a consumer can rebuild the graph from the events alone.
 * Runs inside the transaction: events earlier in the same group count. */
static int correlate(struct cde_audit_store *s, struct cde_event *ev)
{
	char chain[CDE_EVENT_ID_MAX + 1], prev[CDE_EVENT_ID_MAX + 1];
	bool found = chain_of(s->chain_of_subject, pipeline_run_of(ev), chain, sizeof(chain)) ||
		     chain_of(s->chain_of_artifact, artifact_of(ev), chain, sizeof(chain)) ||
		     chain_of(s->chain_of_subject, cde_event_subject_id(ev), chain, sizeof(chain));
	int r;

	if (!found) {
		char id[CDE_UUID_STR_LEN];

		cde_uuid_v4(id);
		return cde_event_set_chain_id(ev, id);
	}
	r = cde_event_set_chain_id(ev, chain);
	if (r == 0 && chain_of(s->chain_head, chain, prev, sizeof(prev)))
		r = cde_event_add_link(ev, CDE_LINK_PATH, prev, NULL, NULL);
	return r;
}

/* Inserts one entry as seq @seq after @prev; sets *@inserted. */
static int insert_one(struct cde_audit_store *s, struct cde_journal_entry *e, uint64_t seq,
		      const uint8_t prev[CDE_HASH_LEN], uint8_t hash[CDE_HASH_LEN], bool *inserted)
{
	const struct cde_event *ev = e->event;
	char *json = cde_event_to_json(ev);
	char prev_hex[CDE_HASH_HEX_LEN], hash_hex[CDE_HASH_HEX_LEN];
	struct cde_audit_row row = {
		.seq = seq,
		.id = or_empty(cde_event_id(ev)),
		.source = or_empty(cde_event_source(ev)),
		.type = or_empty(cde_event_type(ev)),
		.subject = cde_event_subject_id(ev),
		.chain_id = cde_event_chain_id(ev),
		.artifact_id = artifact_of(ev),
		.timestamp = or_empty(cde_event_timestamp(ev)),
		.received_at = e->received_at,
		.spec_version = or_empty(cde_event_spec_version(ev)),
		.principal = or_empty(e->principal),
		.peer = or_empty(e->peer),
		.event = json,
	};
	sqlite3_stmt *st = s->insert;
	int rc;

	if (!json)
		return -ENOMEM;
	cde_audit_row_hash(&row, prev, hash);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	bind_text(st, 2, row.id);
	bind_text(st, 3, row.source);
	bind_text(st, 4, row.type);
	bind_text(st, 5, row.subject);
	bind_text(st, 6, row.chain_id);
	bind_text(st, 7, row.artifact_id);
	bind_text(st, 8, row.timestamp);
	bind_text(st, 9, row.received_at);
	bind_text(st, 10, row.spec_version);
	bind_text(st, 11, row.principal);
	bind_text(st, 12, row.peer);
	bind_text(st, 13, row.event);
	bind_text(st, 14, prev_hex);
	bind_text(st, 15, hash_hex);
	rc = sqlite3_step(st);
	*inserted = rc == SQLITE_DONE && sqlite3_changes(s->db) == 1;
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	free(json);
	return rc == SQLITE_DONE ? 0 : -EIO;
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

int cde_audit_key_load(const char *path, uint8_t key[CDE_AUDIT_KEY_MAX])
{
	char *buf;
	size_t len;
	int r = cde_read_file(path, CDE_AUDIT_KEY_MAX + 2, &buf, &len);

	if (r < 0)
		return r == -EFBIG ? -EINVAL : r;
	/* Raw bytes, all of them: a random key may well end in 0x0a, and the
	 * daemon and cdevctl read it the same way anyway. */
	if (len < CDE_AUDIT_KEY_MIN || len > CDE_AUDIT_KEY_MAX) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return -EINVAL;
	}
	memcpy(key, buf, len);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (int)len;
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

static int add_checkpoint(struct cde_audit_store *s, uint64_t seq, const uint8_t hash[CDE_HASH_LEN])
{
	uint8_t mac[CDE_HASH_LEN];
	char hash_hex[CDE_HASH_HEX_LEN], mac_hex[CDE_HASH_HEX_LEN];
	int rc;

	cde_audit_checkpoint_mac(s->key, s->key_len, seq, hash, mac);
	cde_hash_to_hex(hash, hash_hex);
	cde_hash_to_hex(mac, mac_hex);
	sqlite3_reset(s->checkpoint);
	sqlite3_bind_int64(s->checkpoint, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(s->checkpoint, 2, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->checkpoint, 3, mac_hex, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->checkpoint);
	sqlite3_reset(s->checkpoint);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

uint64_t cde_audit_store_head(const struct cde_audit_store *s)
{
	return s->head_seq;
}

int cde_audit_store_begin(struct cde_audit_store *s, char *err, size_t err_size)
{
	if (s->read_only)
		return -EROFS;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s->db, err, err_size, "begin");
	s->in_tx = true;
	s->work_seq = s->head_seq;
	memcpy(s->work_hash, s->head_hash, CDE_HASH_LEN);
	return 0;
}

int cde_audit_store_add(struct cde_audit_store *s, struct cde_journal_entry *entries, size_t n,
			char *err, size_t err_size)
{
	uint8_t hash[CDE_HASH_LEN];

	for (size_t i = 0; i < n; i++) {
		bool inserted = false;
		int r = entries[i].correlate && !cde_event_chain_id(entries[i].event)
			? correlate(s, entries[i].event) : 0;

		if (r == 0)
			r = insert_one(s, &entries[i], s->work_seq + 1, s->work_hash, hash, &inserted);

		if (r == -ENOMEM) {
			snprintf(err, err_size, "out of memory");
			return r;
		}
		if (r < 0)
			return fail(s->db, err, err_size, "insert");
		entries[i].duplicate = !inserted;
		entries[i].seq = inserted ? s->work_seq + 1 : 0;
		if (inserted) {
			s->work_seq++;
			memcpy(s->work_hash, hash, CDE_HASH_LEN);
			if (s->every && s->work_seq % s->every == 0 &&
			    add_checkpoint(s, s->work_seq, hash) < 0)
				return fail(s->db, err, err_size, "checkpoint");
		}
	}
	return 0;
}

int cde_audit_store_commit(struct cde_audit_store *s, char *err, size_t err_size)
{
	char buf[CDE_HASH_HEX_LEN];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s->work_seq);
	if (set_meta(s, "head_seq", buf) < 0)
		return fail(s->db, err, err_size, "recording the chain head");
	cde_hash_to_hex(s->work_hash, buf);
	if (set_meta(s, "head_hash", buf) < 0)
		return fail(s->db, err, err_size, "recording the chain head");
	/* With synchronous=FULL this is the one fsync of the group. */
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s->db, err, err_size, "commit");
	s->in_tx = false;
	s->head_seq = s->work_seq;
	memcpy(s->head_hash, s->work_hash, CDE_HASH_LEN);
	return 0;
}

void cde_audit_store_rollback(struct cde_audit_store *s)
{
	if (s->in_tx)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
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
			entries[i].duplicate = false;
		}
	}
	return r;
}

static const char *column(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Checks the checkpoint at @seq against the chain's recomputed @hash. */
static int check_checkpoint(sqlite3 *db, const uint8_t *key, size_t key_len, uint64_t seq,
			    const uint8_t hash[CDE_HASH_LEN], struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	uint8_t stored_hash[CDE_HASH_LEN], stored_mac[CDE_HASH_LEN], mac[CDE_HASH_LEN];
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, "SELECT hash, mac FROM checkpoints WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	out->bad_seq = seq;
	if (rc != SQLITE_ROW) {
		snprintf(out->reason, sizeof(out->reason), "the checkpoint after this row is missing");
		r = -EBADMSG;
	} else if (cde_hash_from_hex((const char *)sqlite3_column_text(st, 0), stored_hash) < 0 ||
		   cde_hash_from_hex((const char *)sqlite3_column_text(st, 1), stored_mac) < 0) {
		snprintf(out->reason, sizeof(out->reason), "the checkpoint after this row is unreadable");
		r = -EBADMSG;
	} else {
		cde_audit_checkpoint_mac(key, key_len, seq, stored_hash, mac);
		if (CRYPTO_memcmp(mac, stored_mac, CDE_HASH_LEN) != 0) {
			snprintf(out->reason, sizeof(out->reason),
				 "the checkpoint's HMAC is wrong: forged, or another key");
			r = -EBADMSG;
		} else if (memcmp(stored_hash, hash, CDE_HASH_LEN) != 0) {
			snprintf(out->reason, sizeof(out->reason),
				 "the chain up to here was rewritten: it no longer matches its checkpoint");
			r = -EBADMSG;
		}
	}
	if (r == 0) {
		out->bad_seq = 0;
		out->checkpoints++;
	}
	sqlite3_finalize(st);
	return r;
}

/* Walks the retention markers' own chain; leaves in @anchor the hash the
 * first remaining row must point to and in *@first that row's seq. */
static int check_markers(sqlite3 *db, const uint8_t *key, size_t key_len, uint8_t anchor[CDE_HASH_LEN],
			 uint64_t *first, struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	uint8_t prev[CDE_HASH_LEN] = { 0 }, stored[CDE_HASH_LEN], hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];
	uint64_t last = 0;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, "SELECT seq, deleted, at, reason, anchor, prev, hash, mac FROM retention"
			       " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_audit_marker m = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.deleted = (uint64_t)sqlite3_column_int64(st, 1),
			.at = column(st, 2),
			.reason = column(st, 3),
		};
		const char *why = NULL;

		if (m.seq <= last)
			why = "retention markers out of order";
		else if (cde_hash_from_hex(column(st, 4), m.anchor) < 0 ||
			 cde_hash_from_hex(column(st, 5), stored) < 0 || memcmp(stored, prev, CDE_HASH_LEN) != 0)
			why = "a retention marker does not follow the one before";
		else if (cde_audit_marker_hash(&m, prev, hash),
			 cde_hash_from_hex(column(st, 6), stored) < 0 || memcmp(stored, hash, CDE_HASH_LEN) != 0)
			why = "a retention marker's content does not match its hash";
		else if (key && (cde_audit_marker_mac(key, key_len, hash, mac),
				 cde_hash_from_hex(column(st, 7), stored) < 0 ||
				 CRYPTO_memcmp(stored, mac, CDE_HASH_LEN) != 0))
			why = "a retention marker is not signed with the key: rows were deleted, not retired";
		if (why) {
			out->bad_seq = m.seq;
			snprintf(out->reason, sizeof(out->reason), "%s", why);
			r = -EBADMSG;
			break;
		}
		out->markers++;
		last = m.seq;
		memcpy(prev, hash, CDE_HASH_LEN);
		memcpy(anchor, m.anchor, CDE_HASH_LEN);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	*first = last + 1;
	return r;
}

int cde_audit_store_verify(struct cde_audit_store *s, const uint8_t *key, size_t key_len,
			   unsigned every, struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	uint8_t prev[CDE_HASH_LEN] = { 0 }, hash[CDE_HASH_LEN], stored[CDE_HASH_LEN];
	char meta_seq[32], meta_hash[80];
	uint64_t expect = 1;
	int rc, r = 0;

	memset(out, 0, sizeof(*out));
	if (read_meta(s->db, "head_seq", meta_seq, sizeof(meta_seq)) < 0 ||
	    read_meta(s->db, "head_hash", meta_hash, sizeof(meta_hash)) < 0)
		return -EIO;
	r = check_markers(s->db, key, key_len, prev, &expect, out);
	if (r < 0)
		return r;
	out->first_seq = expect;
	out->head_seq = expect - 1;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
			       " received_at, spec_version, principal, peer, event, prev_hash, hash"
			       " FROM events ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_audit_row row = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.id = column(st, 1), .source = column(st, 2), .type = column(st, 3),
			.subject = column(st, 4), .chain_id = column(st, 5), .artifact_id = column(st, 6),
			.timestamp = column(st, 7), .received_at = column(st, 8),
			.spec_version = column(st, 9), .principal = column(st, 10), .peer = column(st, 11),
			.event = column(st, 12),
		};

		out->rows++;
		if (row.seq != expect) {
			out->bad_seq = expect < row.seq ? expect : row.seq;
			snprintf(out->reason, sizeof(out->reason), "seq %llu follows %llu: rows missing or inserted",
				 (unsigned long long)row.seq, (unsigned long long)(expect - 1));
			r = -EBADMSG;
			break;
		}
		if (cde_hash_from_hex(column(st, 13), stored) < 0 || memcmp(stored, prev, CDE_HASH_LEN) != 0) {
			out->bad_seq = row.seq;
			snprintf(out->reason, sizeof(out->reason), "prev_hash is not the hash of the row before");
			r = -EBADMSG;
			break;
		}
		cde_audit_row_hash(&row, prev, hash);
		if (cde_hash_from_hex(column(st, 14), stored) < 0 || memcmp(stored, hash, CDE_HASH_LEN) != 0) {
			out->bad_seq = row.seq;
			snprintf(out->reason, sizeof(out->reason), "the row's content does not match its hash");
			r = -EBADMSG;
			break;
		}
		memcpy(prev, hash, CDE_HASH_LEN);
		out->head_seq = row.seq;
		expect++;
		if (key && every && row.seq % every == 0) {
			r = check_checkpoint(s->db, key, key_len, row.seq, hash, out);
			if (r < 0)
				break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	if (r == 0) {
		/* The head in meta catches rows deleted from the end. */
		uint64_t head = strtoull(meta_seq, NULL, 10);
		char hex[CDE_HASH_HEX_LEN];

		cde_hash_to_hex(prev, hex);
		if (head != out->head_seq || strcmp(hex, meta_hash) != 0) {
			out->bad_seq = out->head_seq + 1;
			snprintf(out->reason, sizeof(out->reason),
				 "the recorded head is seq %llu but the chain ends at %llu: rows removed from the end",
				 (unsigned long long)head, (unsigned long long)out->head_seq);
			r = -EBADMSG;
		}
		memcpy(out->head_hash, hex, sizeof(hex));
	}
	return r;
}
