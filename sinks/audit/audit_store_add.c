/* One request's entries added to the writer's open group (see
 * cde_audit_store_add): each correlated, made a row with its leaf and
 * its link in the hash chain, inserted, and a keyed checkpoint where one
 * falls due; an entry whose (source, id) is stored already is told a
 * re-send from a clash by its digest. audit_store.c opens, begins and
 * commits the group. */

#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "events/event.h"
#include "sinks/audit/audit_correlate.h"
#include "sinks/audit/audit_leaf.h"
#include "sinks/audit/audit_memo.h"
#include "sinks/audit/audit_tree.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The row's leaf, in e->leaf_hash, as leaf number s->tree.work.size
 * (which its INSERT names), appended to the tree once the row is in. */
static int tree_append(struct cde_audit_store *s, struct cde_journal_entry *e)
{
	e->leaf = s->tree.work.size;
	e->has_leaf = true;
	return cde_audit_tree_writer_append(&s->tree, e->leaf_hash);
}

/* Inserts one entry as seq @seq after @prev, its chain joined through
 * the row @via (0: none); sets *@inserted. */
static int insert_one(struct cde_audit_store *s, struct cde_journal_entry *e, uint64_t seq, uint64_t via,
		      const uint8_t prev[CDE_HASH_LEN], uint8_t hash[CDE_HASH_LEN], bool *inserted)
{
	char *printed = e->json && !e->correlate ? NULL : cde_event_to_json(e->event);
	const char *json = printed ? printed : e->json;
	char prev_hex[CDE_HASH_HEX_LEN], hash_hex[CDE_HASH_HEX_LEN];
	struct cde_audit_row row;
	sqlite3_stmt *st = s->insert;
	int rc, r;

	if (!json)
		return -ENOMEM;
	cde_audit_row_of_entry(e, seq, json, &row);
	/* An event the writer cannot make an entry of (JCS refuses it) is
	 * not stored: the log would have a row outside its tree. */
	r = cde_audit_entry_leaf(&row, e, e->leaf_hash);
	if (r < 0) {
		free(printed);
		return r;
	}
	cde_audit_row_hash(&row, prev, hash);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	cde_audit_bind_text(st, 2, row.id);
	cde_audit_bind_text(st, 3, row.source);
	cde_audit_bind_text(st, 4, row.type);
	cde_audit_bind_text(st, 5, row.subject);
	cde_audit_bind_text(st, 6, row.chain_id);
	cde_audit_bind_text(st, 7, row.artifact_id);
	cde_audit_bind_text(st, 8, row.timestamp);
	cde_audit_bind_text(st, 9, row.received_at);
	cde_audit_bind_text(st, 10, row.spec_version);
	cde_audit_bind_text(st, 11, row.principal);
	cde_audit_bind_text(st, 12, row.peer);
	cde_audit_bind_text(st, 13, row.event);
	cde_audit_bind_text(st, 14, prev_hex);
	cde_audit_bind_text(st, 15, hash_hex);
	if (e->has_digest)
		sqlite3_bind_blob(st, 16, e->digest, sizeof(e->digest), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 16);
	sqlite3_bind_int64(st, 17, (sqlite3_int64)s->tree.work.size);
	if (via)
		sqlite3_bind_int64(st, 18, (sqlite3_int64)via);
	else
		sqlite3_bind_null(st, 18);
	sqlite3_bind_blob(st, 19, e->leaf_hash, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*inserted = rc == SQLITE_DONE && sqlite3_changes(s->db) == 1;
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	r = rc == SQLITE_DONE ? 0 : -EIO;
	if (r == 0 && *inserted) {
		cde_audit_memo_row(s->lookups.memo, row.subject, row.chain_id,
				   strncmp(row.type, CDE_AUDIT_OWN_PREFIX, strlen(CDE_AUDIT_OWN_PREFIX)) == 0, row.id, seq);
		r = tree_append(s, e);
	}
	free(printed);
	return r;
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

/* An entry that was not inserted: the same (source, id) is stored. Sets
 * its conflict flag when the stored one came from other content. Returns
 * 0, or -EIO when the stored one cannot be read (never taken for a
 * duplicate). */
static int mark_not_inserted(struct cde_audit_store *s, struct cde_journal_entry *e)
{
	sqlite3_stmt *st = s->stored_digest;
	int r = 0;

	e->duplicate = true;
	cde_audit_bind_text(st, 1, or_empty(cde_event_source(e->event)));
	cde_audit_bind_text(st, 2, or_empty(cde_event_id(e->event)));
	if (sqlite3_step(st) == SQLITE_ROW) {
		const void *d = sqlite3_column_blob(st, 0);

		/* Rows from before digests were kept, and pod observations,
		 * have none: they cannot be compared. */
		if (e->has_digest && d && sqlite3_column_bytes(st, 0) == (int)sizeof(e->digest) &&
		    memcmp(d, e->digest, sizeof(e->digest)) != 0) {
			e->conflict = true;
			e->duplicate = false;
			e->conflict_seq = (uint64_t)sqlite3_column_int64(st, 1);
		} else if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			/* A re-send's receipt is the stored event's. */
			e->has_leaf = true;
			e->leaf = (uint64_t)sqlite3_column_int64(st, 2);
			memset(e->leaf_hash, 0, sizeof(e->leaf_hash));
		}
	} else {
		r = -EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int add_one(struct cde_audit_store *s, struct cde_journal_entry *e)
{
	uint8_t hash[CDE_HASH_LEN];
	uint64_t via = 0;
	bool inserted = false;
	int r = e->correlate && !cde_event_chain_id(e->event) ? cde_audit_correlate(&s->lookups, e->event, &via)
							       : 0;

	if (r == 0)
		r = insert_one(s, e, s->work_seq + 1, via, s->work_hash, hash, &inserted);
	if (r < 0)
		return r;
	e->seq = inserted ? s->work_seq + 1 : 0;
	if (!inserted)
		return mark_not_inserted(s, e);
	s->work_seq++;
	memcpy(s->work_hash, hash, CDE_HASH_LEN);
	if (s->every && s->work_seq % s->every == 0 && add_checkpoint(s, s->work_seq, hash) < 0)
		return -EIO;
	return 0;
}

/* One request's entries are stored all or none (a savepoint inside the
 * group's transaction): an event that clashes with a stored one (same
 * source and id, other content) keeps the whole batch out, so that the
 * producer's corrected retry does not find half of it already there.
 * A batch of one (every hook) needs no savepoint: a clash stores nothing
 * of it anyway, and a savepoint copied each page its INSERT touched (nine
 * B-trees) to the statement journal. */
int cde_audit_store_add(struct cde_audit_store *s, struct cde_journal_entry *entries, size_t n,
			char *err, size_t err_size)
{
	uint64_t seq = s->work_seq;
	uint8_t hash[CDE_HASH_LEN];
	struct cde_tlog_frontier tree = s->tree.work;
	bool clash = false, savepoint = n > 1;
	int r = 0;

	memcpy(hash, s->work_hash, CDE_HASH_LEN);
	if (savepoint && cde_audit_store_tx(s, CDE_AUDIT_TX_SAVEPOINT) < 0)
		return cde_audit_store_fail(s->db, err, err_size, "savepoint");
	for (size_t i = 0; i < n && r == 0; i++) {
		r = add_one(s, &entries[i]);
		clash = clash || entries[i].conflict;
	}
	if (r == 0 && clash) {
		if (savepoint && cde_audit_store_tx(s, CDE_AUDIT_TX_ROLLBACK_TO) < 0)
			r = -EIO;
		cde_audit_memo_forget(s->lookups.memo);
		s->work_seq = seq;
		memcpy(s->work_hash, hash, CDE_HASH_LEN);
		s->tree.work = tree;
		for (size_t i = 0; i < n; i++) {
			entries[i].seq = 0;
			entries[i].has_leaf = false;
		}
	}
	if (r == 0 && savepoint && cde_audit_store_tx(s, CDE_AUDIT_TX_RELEASE) < 0)
		r = -EIO;
	if (r == -ENOMEM) {
		snprintf(err, err_size, "out of memory");
		return r;
	}
	return r < 0 ? cde_audit_store_fail(s->db, err, err_size, "insert") : 0;
}
