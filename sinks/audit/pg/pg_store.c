/* The audit log's writer on PostgreSQL. Several replicas append to one
 * log: each group's transaction first locks the single row of log_head
 * (SELECT ... FOR UPDATE), reads the seq and chain hash there, appends
 * after them and moves them, so the groups of all replicas form one total
 * order and one hash chain; none can fork it or reuse a seq. What that
 * costs: groups commit one at a time across replicas (each holds the row
 * from its first statement to its COMMIT), so replicas add availability,
 * not ingest throughput; group commit per replica keeps the lock held
 * once per group, not per event.
 *
 * Duplicates need no lock of their own: UNIQUE(source, id) decides, and
 * the lock makes the check and the insert of every replica sequential.
 * A COMMIT whose answer is lost (the connection broke) may have committed:
 * the producers get 503 and re-send, and their re-sends are answered as
 * duplicates; a hook has no id of its own, so its re-send is a new event. */

#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/pg/pg_store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/correlate.h"
#include "events/event.h"
#include "sinks/audit/audit_chain.h"
#include "sinks/audit/audit_correlate.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_schema.h"
#include "sinks/audit/pg/pg_sign.h"
#include "sinks/audit/pg/pg_tree.h"
#include "sinks/audit/tlog/note.h"


/* Whether the chain of row r is open to an event about artifact $2 (or
 * about none): none of its latest 1,000 rows but the daemon's own names
 * another, and it has no more (CDE_AUDIT_OTHER_ARTIFACT_SQL). */
#define OPEN_TO_ARTIFACT_2 " ($2 IS NULL OR NOT EXISTS (" CDE_AUDIT_OTHER_ARTIFACT_SQL("r.chain_id", "$2") "))"

static const struct cde_pg_statement statements[] = {
	{ "insert", "INSERT INTO events(seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
		    " received_at, spec_version, principal, peer, event, prev_hash, hash, digest, leaf, chain_via)"
		    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
		    " ON CONFLICT (source, id) DO NOTHING", 18 },
	/* The head, and the latest signed checkpoint's size: another replica
	 * may have signed since (read under the same lock, so no two sign
	 * one size). */
	{ "lock_head", "SELECT seq, hash, tree_size, (SELECT coalesce(max(size), 0) FROM tree_checkpoints)"
		       " FROM log_head FOR UPDATE", 0 },
	{ "set_head", "UPDATE log_head SET seq = $1, hash = $2, tree_size = $3", 3 },
	{ "notify", "SELECT pg_notify('cde_log', $1)", 1 },
	{ "stored", "SELECT digest, seq, leaf FROM events WHERE source = $1 AND id = $2", 2 },
	/* The rules of events/correlate.c in one round trip: the row of
	 * the pipeline run's subject, else of the artifact, else of the
	 * subject, else of the service's latest deployment in the
	 * environment (COALESCE stops at the first); its seq (the new row's
	 * chain_via), its chain, and that chain's latest event. The
	 * subject's and the deployment's row is still the latest, but does
	 * not count for an artifact the log does not know ($2, not found by
	 * the artifact's key) when its chain names another artifact: that is
	 * another release's (chain_names_other_artifact in correlate.h). */
	{ "correlate", "WITH v AS (SELECT COALESCE("
		       "(SELECT seq FROM events WHERE subject = $1 AND chain_id IS NOT NULL" CDE_AUDIT_NOT_OWN_SQL
		       " ORDER BY seq DESC LIMIT 1),"
		       "(SELECT seq FROM events WHERE artifact_id = $2 AND chain_id IS NOT NULL" CDE_AUDIT_NOT_OWN_SQL
		       " ORDER BY seq DESC LIMIT 1),"
		       "(SELECT r.seq FROM (SELECT seq, chain_id FROM events WHERE subject = $3 AND chain_id IS NOT NULL"
		       CDE_AUDIT_NOT_OWN_SQL " ORDER BY seq DESC LIMIT 1) r WHERE" OPEN_TO_ARTIFACT_2 "),"
		       "(SELECT r.seq FROM (" CDE_AUDIT_DEPLOYMENT_SQL("seq, chain_id", "$4", "$5",
								     "event::jsonb #>> '{subject,content,environment,id}'")
		       ") r WHERE" OPEN_TO_ARTIFACT_2 ")) AS seq),"
		       " c AS (SELECT v.seq, (SELECT chain_id FROM events e WHERE e.seq = v.seq) AS chain_id FROM v)"
		       " SELECT chain_id, seq,"
		       " (SELECT id FROM events e WHERE e.chain_id = c.chain_id ORDER BY seq DESC LIMIT 1)"
		       " FROM c", 5 },
	{ "checkpoint", "INSERT INTO checkpoints(seq, hash, mac) VALUES ($1, $2, $3)", 3 },
};

int cde_pg_store_prepare(struct cde_pg_store *s, char *err, size_t err_size)
{
	/* A new session: the tree is loaded again from its tiles. */
	cde_pg_tree_release(&s->tree);
	/* Every statement here is an index lookup or an insert whose best
	 * plan does not depend on its parameters: planned once per session.
	 * Left to choose, the server planned the correlation query afresh at
	 * each execution, about a millisecond each, most of the writer's
	 * time on the server. */
	if (cde_pg_exec(s->c, "SET plan_cache_mode = force_generic_plan", err, err_size, "preparing statements") < 0 ||
	    cde_pg_tile_io_init(&s->tree.io, s->c) < 0)
		return cde_pg_fail(s->c, err, err_size, "preparing statements");
	return cde_pg_prepare(s->c, statements, sizeof(statements) / sizeof(statements[0]), err, err_size,
			      "preparing statements");
}

/* Runs prepared statement @name with text parameters (NULL is SQL NULL). */
static PGresult *run(struct cde_pg_store *s, const char *name, int n, const char *const *values)
{
	return PQexecPrepared(s->c, name, n, values, NULL, NULL, 0);
}

/* A lost connection (the database restarted) is made again before a
 * group; statements are session state and are prepared again. */
static int reconnect(struct cde_pg_store *s, char *err, size_t err_size)
{
	if (!cde_pg_lost(s->c))
		return 0;
	PQreset(s->c);
	if (cde_pg_lost(s->c))
		return cde_pg_fail(s->c, err, err_size, "the database connection was lost; reconnecting");
	return cde_pg_store_prepare(s, err, err_size);
}

static int pg_begin(void *impl, char *err, size_t err_size)
{
	struct cde_pg_store *s = impl;
	PGresult *res;
	uint64_t tree_size;
	int r = reconnect(s, err, err_size);

	if (r == 0)
		r = cde_pg_exec(s->c, "BEGIN", err, err_size, "begin");
	if (r < 0)
		return r;
	s->in_tx = true;
	/* Waits here while another replica's group holds the head. */
	res = run(s, "lock_head", 0, NULL);
	if (!cde_pg_ok(res, true))	/* which cleared it */
		return cde_pg_fail(s->c, err, err_size, "locking the log's head");
	if (PQntuples(res) != 1) {
		PQclear(res);
		snprintf(err, err_size, "the log's head row is missing");
		return -EBADMSG;
	}
	s->work_seq = (uint64_t)cde_pg_int(res, 0, 0);
	tree_size = (uint64_t)cde_pg_int(res, 0, 2);
	s->signing.signed_size = (uint64_t)cde_pg_int(res, 0, 3);
	r = cde_hash_from_hex(PQgetvalue(res, 0, 1), s->work_hash);
	PQclear(res);
	if (r < 0) {
		snprintf(err, err_size, "the log's head hash is unreadable");
		return -EBADMSG;
	}
	/* Another replica may have grown the tree since our last group. */
	return cde_pg_tree_sync(&s->tree, tree_size, err, err_size);
}

/* Which chain @ev joins, asked of the log inside the group's
 * transaction, so events earlier in the group (or just committed by
 * another replica) count; *@via_seq is the row it joins through (0:
 * none). 0, or -EIO (the group fails: an event is never stored on a
 * guess). */
static int correlate(struct cde_pg_store *s, struct cde_event *ev, uint64_t *via_seq)
{
	struct cde_correlation_keys k;
	struct cde_correlation c;
	const char *values[5];
	PGresult *res;

	cde_correlation_keys_of(ev, &k);
	values[0] = k.run_subject;
	values[1] = k.artifact;
	values[2] = k.subject;
	values[3] = k.service;
	values[4] = k.environment;
	res = run(s, "correlate", 5, values);
	if (!cde_pg_ok(res, true))
		return -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -EIO;
	}
	cde_correlation_found(PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
			      PQgetisnull(res, 0, 1) ? 0 : (uint64_t)cde_pg_int(res, 0, 1),
			      PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2), &c);
	PQclear(res);
	*via_seq = c.via_seq;
	return cde_correlation_apply(ev, &c);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Inserts @e as seq @seq after @prev, its chain joined through the row
 * @via (0: none); sets *@inserted and, when it is, the row's chain @hash. */
static int insert_one(struct cde_pg_store *s, struct cde_journal_entry *e, uint64_t seq, uint64_t via,
		      const uint8_t prev[CDE_HASH_LEN], uint8_t hash[CDE_HASH_LEN], bool *inserted)
{
	char *printed = e->json && !e->correlate ? NULL : cde_event_to_json(e->event);
	char seq_s[24], leaf_s[24], via_s[24], prev_hex[CDE_HASH_HEX_LEN], hash_hex[CDE_HASH_HEX_LEN];
	struct cde_audit_row row;
	const char *values[18];
	int lengths[18] = { 0 }, formats[18] = { 0 };
	PGresult *res;

	cde_audit_row_of_entry(e, seq, printed ? printed : e->json, &row);
	if (!row.event)
		return -ENOMEM;
	cde_audit_row_hash(&row, prev, hash);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	values[0] = cde_pg_u64(seq, seq_s);
	values[1] = row.id;
	values[2] = row.source;
	values[3] = row.type;
	values[4] = row.subject;
	values[5] = row.chain_id;
	values[6] = row.artifact_id;
	values[7] = row.timestamp;
	values[8] = row.received_at;
	values[9] = row.spec_version;
	values[10] = row.principal;
	values[11] = row.peer;
	values[12] = row.event;
	values[13] = prev_hex;
	values[14] = hash_hex;
	values[15] = e->has_digest ? (const char *)e->digest : NULL;
	lengths[15] = (int)sizeof(e->digest);
	formats[15] = 1;	/* bytea, as bytes */
	values[16] = cde_pg_u64(s->tree.work.size, leaf_s);
	values[17] = via ? cde_pg_u64(via, via_s) : NULL;
	res = PQexecPrepared(s->c, "insert", 18, values, lengths, formats, 0);
	if (!cde_pg_ok(res, false)) {
		free(printed);
		return -EIO;
	}
	*inserted = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	/* The leaf its INSERT named. An event the writer cannot make an
	 * entry of is not stored: the log would have a row outside its tree. */
	if (*inserted) {
		int r = cde_audit_entry_leaf(&row, e, e->leaf_hash);

		e->leaf = s->tree.work.size;
		e->has_leaf = r == 0;
		if (r == 0)
			r = cde_pg_tree_append(&s->tree, e->leaf_hash);
		free(printed);
		return r;
	}
	free(printed);
	return 0;
}

/* An entry whose (source, id) is stored: a duplicate, or a clash when
 * the stored one came from other content. 0 or -EIO. */
static int mark_not_inserted(struct cde_pg_store *s, struct cde_journal_entry *e)
{
	const char *values[2] = { or_empty(cde_event_source(e->event)), or_empty(cde_event_id(e->event)) };
	PGresult *res = PQexecPrepared(s->c, "stored", 2, values, NULL, NULL, 1);

	if (!cde_pg_ok(res, true))
		return -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -EIO;
	}
	e->duplicate = true;
	/* Binary results: bytea as bytes, bigint as 8 big-endian bytes. */
	if (e->has_digest && !PQgetisnull(res, 0, 0) && PQgetlength(res, 0, 0) == (int)sizeof(e->digest) &&
	    memcmp(PQgetvalue(res, 0, 0), e->digest, sizeof(e->digest)) != 0) {
		const uint8_t *b = (const uint8_t *)PQgetvalue(res, 0, 1);

		e->duplicate = false;
		e->conflict = true;
		e->conflict_seq = 0;
		for (int i = 0; i < 8; i++)
			e->conflict_seq = e->conflict_seq << 8 | b[i];
	} else if (!PQgetisnull(res, 0, 2)) {
		/* A re-send's receipt is the stored event's. */
		const uint8_t *b = (const uint8_t *)PQgetvalue(res, 0, 2);

		e->has_leaf = true;
		e->leaf = 0;
		for (int i = 0; i < 8; i++)
			e->leaf = e->leaf << 8 | b[i];
		memset(e->leaf_hash, 0, sizeof(e->leaf_hash));
	}
	PQclear(res);
	return 0;
}

static int add_checkpoint(struct cde_pg_store *s, uint64_t seq, const uint8_t hash[CDE_HASH_LEN])
{
	uint8_t mac[CDE_HASH_LEN];
	char seq_s[24], hash_hex[CDE_HASH_HEX_LEN], mac_hex[CDE_HASH_HEX_LEN];
	const char *values[3] = { cde_pg_u64(seq, seq_s), hash_hex, mac_hex };
	PGresult *res;

	cde_audit_checkpoint_mac(s->key, s->key_len, seq, hash, mac);
	cde_hash_to_hex(hash, hash_hex);
	cde_hash_to_hex(mac, mac_hex);
	res = run(s, "checkpoint", 3, values);
	if (!cde_pg_ok(res, false))
		return -EIO;
	PQclear(res);
	return 0;
}

static int add_one(struct cde_pg_store *s, struct cde_journal_entry *e)
{
	uint8_t hash[CDE_HASH_LEN];
	uint64_t via = 0;
	bool inserted = false;
	int r = e->correlate && !cde_event_chain_id(e->event) ? correlate(s, e->event, &via) : 0;

	if (r == 0)
		r = insert_one(s, e, s->work_seq + 1, via, s->work_hash, hash, &inserted);
	if (r < 0)
		return r;
	e->seq = inserted ? s->work_seq + 1 : 0;
	if (!inserted)
		return mark_not_inserted(s, e);
	s->work_seq++;
	memcpy(s->work_hash, hash, CDE_HASH_LEN);
	if (s->every && s->work_seq % s->every == 0)
		return add_checkpoint(s, s->work_seq, hash);
	return 0;
}

/* One request's entries all or none (a savepoint in the group), as on
 * SQLite: a clash keeps the whole request out. A request of one event
 * needs no savepoint (a clash stores nothing of it anyway): two round
 * trips fewer for every hook. */
static int pg_add(void *impl, struct cde_journal_entry *entries, size_t n, char *err, size_t err_size)
{
	struct cde_pg_store *s = impl;
	uint64_t seq = s->work_seq;
	uint8_t hash[CDE_HASH_LEN];
	struct cde_tlog_frontier tree = s->tree.work;
	bool clash = false, savepoint = n > 1;
	int r = savepoint ? cde_pg_exec(s->c, "SAVEPOINT batch", err, err_size, "savepoint") : 0;

	memcpy(hash, s->work_hash, CDE_HASH_LEN);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = add_one(s, &entries[i]);
		clash = clash || entries[i].conflict;
	}
	if (r == 0 && clash && savepoint) {
		r = cde_pg_exec(s->c, "ROLLBACK TO SAVEPOINT batch", err, err_size, "rollback to savepoint");
		s->work_seq = seq;
		memcpy(s->work_hash, hash, CDE_HASH_LEN);
		s->tree.work = tree;
		for (size_t i = 0; i < n; i++) {
			entries[i].seq = 0;
			entries[i].has_leaf = false;
		}
	}
	if (r == 0 && savepoint)
		r = cde_pg_exec(s->c, "RELEASE SAVEPOINT batch", err, err_size, "release savepoint");
	if (r == -ENOMEM) {
		snprintf(err, err_size, "out of memory");
		return r;
	}
	return r < 0 && !err[0] ? cde_pg_fail(s->c, err, err_size, "insert") : r;
}

static int pg_commit(void *impl, char *err, size_t err_size)
{
	struct cde_pg_store *s = impl;
	char seq_s[24], size_s[24], hash_hex[CDE_HASH_HEX_LEN];
	const char *values[3] = { cde_pg_u64(s->work_seq, seq_s), hash_hex, cde_pg_u64(s->tree.work.size, size_s) };
	PGresult *res;

	if (cde_pg_tree_flush(&s->tree) < 0)
		return cde_pg_fail(s->c, err, err_size, "storing the Merkle tree's tiles");
	cde_hash_to_hex(s->work_hash, hash_hex);
	res = run(s, "set_head", 3, values);
	if (!cde_pg_ok(res, false))
		return cde_pg_fail(s->c, err, err_size, "recording the chain head");
	PQclear(res);
	/* Delivery on every replica LISTENs: new rows, whoever wrote them. */
	if (s->work_seq != s->head_seq) {
		res = run(s, "notify", 1, values);
		if (!cde_pg_ok(res, true))
			return cde_pg_fail(s->c, err, err_size, "notifying the new head");
		PQclear(res);
	}
	cde_pg_signing_due(&s->signing, s->c, &s->tree.work);
	/* synchronous_commit on (the server's default): the WAL is flushed
	 * before COMMIT returns, and only then do producers get 202. */
	if (cde_pg_exec(s->c, "COMMIT", err, err_size, "commit") < 0)
		return -EIO;
	s->in_tx = false;
	s->head_seq = s->work_seq;
	cde_pg_tree_committed(&s->tree);
	cde_pg_signing_settled(&s->signing, true);
	return 0;
}

static void pg_rollback(void *impl)
{
	struct cde_pg_store *s = impl;
	PGresult *res;

	if (s->in_tx && !cde_pg_lost(s->c)) {
		res = PQexec(s->c, "ROLLBACK");
		PQclear(res);
	}
	s->in_tx = false;
	cde_pg_tree_rolled_back(&s->tree);
	cde_pg_signing_settled(&s->signing, false);
}

static uint64_t pg_tree_size(const void *impl)
{
	return ((const struct cde_pg_store *)impl)->tree.committed.size;
}

static uint64_t pg_signed_size(const void *impl)
{
	return ((const struct cde_pg_store *)impl)->signing.signed_size;
}

/* The writer's timer: a checkpoint of entries none covers yet, in a
 * transaction of its own. */
static int pg_sign_tree(void *impl, char *err, size_t err_size)
{
	struct cde_pg_store *s = impl;
	int r;

	if (!s->signing.signer || s->tree.committed.size <= s->signing.signed_size)
		return 0;
	r = pg_begin(s, err, err_size);
	if (r == 0) {
		s->signing.sign_now = true;
		r = pg_commit(s, err, err_size);
	}
	if (r < 0)
		pg_rollback(s);
	return r;
}

static char *pg_take_checkpoint(void *impl, uint64_t *ret_size)
{
	struct cde_pg_store *s = impl;
	char *note = s->signing.fresh_note;

	*ret_size = s->signing.fresh_note_size;
	s->signing.fresh_note = NULL;
	return note;
}

static bool pg_take_sign_error(void *impl, char *out, size_t size)
{
	struct cde_pg_store *s = impl;

	if (!s->signing.error[0])
		return false;
	snprintf(out, size, "%s", s->signing.error);
	s->signing.error[0] = '\0';
	return true;
}

PGconn *cde_pg_store_conn(struct cde_pg_store *s)
{
	return s->c;
}

const uint8_t *cde_pg_store_key(const struct cde_pg_store *s, size_t *ret_len)
{
	*ret_len = s->key_len;
	return s->key_len ? s->key : NULL;
}

void cde_pg_store_close(void *impl)
{
	struct cde_pg_store *s = impl;

	if (!s)
		return;
	pg_rollback(s);
	cde_pg_tree_release(&s->tree);
	cde_pg_signing_release(&s->signing);
	PQfinish(s->c);
	free(s);
}

const struct cde_audit_backend_ops cde_audit_backend_pg = {
	.name = "postgres",
	.begin = pg_begin,
	.add = pg_add,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.retain = cde_pg_retain,
	.tree_size = pg_tree_size,
	.signed_size = pg_signed_size,
	.sign_tree = pg_sign_tree,
	.take_checkpoint = pg_take_checkpoint,
	.take_sign_error = pg_take_sign_error,
	.close = cde_pg_store_close,
};
