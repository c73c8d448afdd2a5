/* Verifying the audit log: the whole chain (cdevctl audit verify), or its
 * tail (every start of the daemon, bounded to TAIL_ROWS rows so a start
 * stays fast on a large log).
 *
 * A chain is intact when every row follows the one before, and when
 * nothing outside the rows names a seq past the last one: the head in
 * meta, a checkpoint, a retention marker or the head file next to the
 * database. Each of those survives a cut of the tail that a hand-edit of
 * meta hides, so each is evidence of rows removed from the end. Accepted
 * losses (the gaps table, see audit_chain.h) take the place of the rows
 * they stand for. */

#include "sinks/audit/audit_store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "sinks/audit/audit_head_file.h"
#include "sinks/audit/sql.h"

#define TAIL_ROWS 10000

struct gap_rec {
	struct cde_audit_gap g;
	uint8_t prev[CDE_HASH_LEN], hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];
	bool has_mac, used;
};

struct gaps {
	size_t n;
	struct gap_rec *v;
};

/* Where the walk is: the seq the next row must have and its prev_hash. */
struct walk {
	uint64_t expect;
	uint8_t prev[CDE_HASH_LEN];
};

static const char *column(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int bad(struct cde_audit_verify *out, uint64_t seq, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct cde_audit_verify *out, uint64_t seq, int r, const char *fmt, ...)
{
	va_list ap;

	out->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return r;
}

static void free_gaps(struct gaps *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free((char *)g->v[i].g.at);
		free((char *)g->v[i].g.reason);
	}
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static int load_gap(sqlite3_stmt *st, struct gap_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->g.first = (uint64_t)sqlite3_column_int64(st, 0);
	r->g.last = (uint64_t)sqlite3_column_int64(st, 1);
	r->g.at = strdup(column(st, 2) ? column(st, 2) : "");
	r->g.reason = strdup(column(st, 3) ? column(st, 3) : "");
	if (!r->g.at || !r->g.reason)
		return -ENOMEM;
	if (cde_hash_from_hex(column(st, 4), r->prev) < 0 || cde_hash_from_hex(column(st, 5), r->hash) < 0)
		return -EBADMSG;
	r->has_mac = cde_hash_from_hex(column(st, 6), r->mac) == 0;
	return 0;
}

/* Reads the gaps table (absent from logs written before it existed). */
static int load_gaps(sqlite3 *db, struct gaps *g, struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	g->n = 0;
	g->v = NULL;
	if (!cde_sql_has_table(db, "gaps"))
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT first, last, at, reason, prev, hash, mac FROM gaps ORDER BY first",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gap_rec *v = realloc(g->v, (g->n + 1) * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			break;
		}
		g->v = v;
		r = load_gap(st, &g->v[g->n++]);
		if (r == -EBADMSG)
			r = bad(out, g->v[g->n - 1].g.last, -EBADMSG, "a loss record is unreadable");
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	if (r < 0)
		free_gaps(g);
	return r;
}

/* Steps over the accepted loss that starts at the walk's next seq, if
 * there is one; @next is the seq of the row that follows it (0: none). */
static int step_gap(struct gaps *g, const uint8_t *key, size_t key_len, uint64_t next, struct walk *w,
		    struct cde_audit_verify *out)
{
	for (size_t i = 0; i < g->n; i++) {
		struct gap_rec *r = &g->v[i];
		uint8_t hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];

		if (r->g.first != w->expect || (next && r->g.last + 1 != next))
			continue;
		cde_audit_gap_hash(&r->g, w->prev, hash);
		if (memcmp(r->prev, w->prev, CDE_HASH_LEN) != 0 || memcmp(r->hash, hash, CDE_HASH_LEN) != 0)
			return bad(out, r->g.first, -EBADMSG, "the loss record of seqs %llu to %llu does not match its hash",
				   (unsigned long long)r->g.first, (unsigned long long)r->g.last);
		if (key && (cde_audit_gap_mac(key, key_len, hash, mac),
			    !r->has_mac || CRYPTO_memcmp(mac, r->mac, CDE_HASH_LEN) != 0))
			return bad(out, r->g.first, -EBADMSG,
				   "the loss record of seqs %llu to %llu is not signed with the key",
				   (unsigned long long)r->g.first, (unsigned long long)r->g.last);
		if (out->n_lost < CDE_AUDIT_LOST_MAX) {
			out->lost_first[out->n_lost] = r->g.first;
			out->lost_last[out->n_lost] = r->g.last;
		}
		out->n_lost++;
		r->used = true;
		memcpy(w->prev, hash, CDE_HASH_LEN);
		w->expect = r->g.last + 1;
		out->head_seq = r->g.last;
		return 0;
	}
	return next ? bad(out, w->expect, -EBADMSG, "seq %llu follows %llu: rows missing or inserted",
			  (unsigned long long)next, (unsigned long long)(w->expect - 1))
		    : 0;
}

/* Checks the checkpoint at @seq against the chain's recomputed @hash. */
static int check_checkpoint(sqlite3 *db, const uint8_t *key, size_t key_len, uint64_t seq,
			    const uint8_t hash[CDE_HASH_LEN], struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	const char *why;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT hash, mac FROM checkpoints WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	why = rc == SQLITE_ROW ? cde_audit_checkpoint_check(key, key_len, seq, column(st, 0) ? column(st, 0) : "",
							     column(st, 1), hash)
			       : cde_audit_checkpoint_check(key, key_len, seq, NULL, NULL, hash);
	sqlite3_finalize(st);
	if (why)
		return bad(out, seq, -EBADMSG, "%s", why);
	out->checkpoints++;
	return 0;
}

/* Walks the retention markers' own chain; leaves in @w the seq and the
 * anchor the first remaining row must follow. */
static int check_markers(sqlite3 *db, const uint8_t *key, size_t key_len, struct walk *w,
			 struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	uint8_t prev[CDE_HASH_LEN] = { 0 };
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
		const struct cde_audit_marker_hex hex = { column(st, 4), column(st, 5), column(st, 6), column(st, 7) };
		const char *why;

		if (cde_audit_marker_step(prev, last, &m, &hex, key, key_len, &why) < 0) {
			r = bad(out, m.seq, -EBADMSG, "%s", why);
			break;
		}
		out->markers++;
		last = m.seq;
		memcpy(w->prev, m.anchor, CDE_HASH_LEN);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	w->expect = last + 1;
	return r;
}

/* Checks one row against the walk and advances it. */
static int check_row(sqlite3_stmt *st, struct walk *w, struct cde_audit_verify *out)
{
	struct cde_audit_row row = {
		.seq = (uint64_t)sqlite3_column_int64(st, 0),
		.id = column(st, 1), .source = column(st, 2), .type = column(st, 3),
		.subject = column(st, 4), .chain_id = column(st, 5), .artifact_id = column(st, 6),
		.timestamp = column(st, 7), .received_at = column(st, 8),
		.spec_version = column(st, 9), .principal = column(st, 10), .peer = column(st, 11),
		.event = column(st, 12),
	};
	const char *why;

	if (cde_audit_chain_step(w->prev, &row, column(st, 13), column(st, 14), &why) < 0)
		return bad(out, row.seq, -EBADMSG, "%s", why);
	out->head_seq = row.seq;
	w->expect = row.seq + 1;
	return 0;
}

/* Walks the rows from @w->expect on, stepping over accepted losses. */
static int walk_rows(sqlite3 *db, struct gaps *g, const uint8_t *key, size_t key_len, unsigned every,
		     struct walk *w, struct cde_audit_verify *out)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
			       " received_at, spec_version, principal, peer, event, prev_hash, hash"
			       " FROM events WHERE seq >= ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)w->expect);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);

		out->rows++;
		if (seq != w->expect && (r = step_gap(g, key, key_len, seq, w, out)) < 0)
			break;
		if ((r = check_row(st, w, out)) < 0)
			break;
		if (key && every && seq % every == 0 &&
		    (r = check_checkpoint(db, key, key_len, seq, w->prev, out)) < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

/* What names a seq past the chain's end: each piece of evidence, in
 * words, and the largest seq named. */
struct claim {
	uint64_t head, seq;
	char text[200];
};

static void claim(struct claim *c, uint64_t seq, const char *what)
{
	size_t n = strlen(c->text);

	if (seq <= c->head)
		return;
	if (seq > c->seq)
		c->seq = seq;
	snprintf(c->text + n, sizeof(c->text) - n, "%s%s names seq %llu", n ? ", " : "", what,
		 (unsigned long long)seq);
}

/* Reads the head file next to the database, if there is one, before the
 * database's snapshot is taken: the daemon writes it after each commit,
 * so a snapshot taken later holds at least what it names. */
static void read_head_file(const char *db_path, struct cde_audit_verify *out)
{
	uint8_t hash[CDE_HASH_LEN];
	uint64_t seq;
	int fd = db_path ? cde_audit_head_file_open_read(db_path) : -ENOENT;
	int r = fd < 0 ? fd : cde_audit_head_file_read(fd, &seq, hash);

	if (fd >= 0)
		close(fd);
	if (r == 0)
		out->head_file_seq = seq;
	else if (r == -EBADMSG)
		out->head_file_damaged = true;
}

/* After the walk: a loss record at the very end, then what else names a
 * seq. Returns 0, -ENODATA when rows are missing from the end (@out says
 * which evidence), or -EBADMSG. */
static int finish(struct cde_audit_store *s, struct gaps *g, const uint8_t *key, size_t key_len,
		  struct walk *w, uint64_t first_kept, struct cde_audit_verify *out)
{
	sqlite3 *db = cde_audit_store_db(s);
	struct claim c = { .head = 0 };
	char meta_hash[80] = "", hex[CDE_HASH_HEX_LEN];
	int64_t meta_seq = cde_sql_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'head_seq'", NULL, -1);
	int r = step_gap(g, key, key_len, 0, w, out);

	if (r < 0)
		return r;
	for (size_t i = 0; i < g->n; i++)
		if (!g->v[i].used && g->v[i].g.last >= first_kept)
			return bad(out, g->v[i].g.first, -EBADMSG, "a loss record (seqs %llu to %llu) does not fit the chain",
				   (unsigned long long)g->v[i].g.first, (unsigned long long)g->v[i].g.last);
	cde_hash_to_hex(w->prev, hex);
	memcpy(out->head_hash, hex, sizeof(hex));
	c.head = out->head_seq;
	cde_audit_store_meta(s, "head_hash", meta_hash, sizeof(meta_hash));
	if (meta_seq >= 0 && (uint64_t)meta_seq < out->head_seq)
		return bad(out, (uint64_t)meta_seq + 1, -EBADMSG,
			   "rows past the recorded head (seq %lld): written by another process?", (long long)meta_seq);
	if (meta_seq >= 0 && (uint64_t)meta_seq == out->head_seq && strcmp(hex, meta_hash) != 0)
		return bad(out, out->head_seq, -EBADMSG, "the recorded head hash is not the chain's");
	claim(&c, (uint64_t)cde_sql_int(db, "SELECT max(seq) FROM checkpoints", NULL, 0), "a checkpoint");
	claim(&c, (uint64_t)cde_sql_int(db, "SELECT max(seq) FROM retention", NULL, 0), "a retention marker");
	claim(&c, meta_seq > 0 ? (uint64_t)meta_seq : 0, "the recorded head (meta)");
	claim(&c, out->head_file_seq, "the head file");
	out->claimed_head = c.seq > out->head_seq ? c.seq : out->head_seq;
	if (c.seq > out->head_seq)
		return bad(out, out->head_seq + 1, -ENODATA,
			   "rows were removed from the end: the chain ends at seq %llu, but %s",
			   (unsigned long long)out->head_seq, c.text);
	return 0;
}

/* Verifies the chain, all of it (@tail_rows 0) or from @tail_rows
 * before its end, trusting the prev_hash of the first row checked. */
static int check(struct cde_audit_store *s, const uint8_t *key, size_t key_len, unsigned every,
		 int64_t tail_rows, struct cde_audit_verify *out)
{
	sqlite3 *db = cde_audit_store_db(s);
	struct gaps g;
	struct walk w = { 0 };
	int64_t last;
	uint64_t from;
	int r;

	memset(out, 0, sizeof(*out));
	read_head_file(cde_audit_store_path(s), out);
	/* One snapshot for every query: the daemon may commit meanwhile,
	 * and a checkpoint newer than the rows walked would pass for rows
	 * cut off the end. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	last = tail_rows ? cde_sql_int(db, "SELECT max(seq) FROM events", NULL, 0) : 0;
	r = load_gaps(db, &g, out);
	if (r < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	r = check_markers(db, key, key_len, &w, out);
	out->first_seq = w.expect;
	if (r == 0 && tail_rows && last > tail_rows && (uint64_t)(last - tail_rows) > w.expect) {
		char text[24];

		snprintf(text, sizeof(text), "%lld", (long long)(last - tail_rows));
		w.expect = (uint64_t)cde_sql_int(db, "SELECT min(seq) FROM events WHERE seq >= CAST(?1 AS INTEGER)",
						 text, 0);
		r = cde_audit_store_prev_hash(s, w.expect, w.prev);
	}
	out->head_seq = w.expect - 1;
	from = w.expect;
	if (r == 0)
		r = walk_rows(db, &g, key, key_len, every, &w, out);
	if (r == 0)
		r = finish(s, &g, key, key_len, &w, from, out);
	free_gaps(&g);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}

int cde_audit_store_verify(struct cde_audit_store *s, const uint8_t *key, size_t key_len,
			   unsigned every, struct cde_audit_verify *out)
{
	int r = check(s, key, key_len, every, 0, out);

	/* For a reader of the whole log, a cut tail is a break like any. */
	return r == -ENODATA ? -EBADMSG : r;
}

/* Fails on a checkpoint at or after @from whose hash is not the row's
 * there (cheap: one checkpoint per checkpoint_every rows). */
static int checkpoints_agree(sqlite3 *db, uint64_t from, struct cde_audit_verify *out)
{
	char text[24];
	int64_t seq;

	snprintf(text, sizeof(text), "%llu", (unsigned long long)from);
	seq = cde_sql_int(db, "SELECT min(c.seq) FROM checkpoints c JOIN events e ON e.seq = c.seq"
			  " WHERE c.seq >= CAST(?1 AS INTEGER) AND c.hash != e.hash", text, 0);
	if (seq > 0)
		return bad(out, (uint64_t)seq, -EBADMSG,
			   "the chain up to here was rewritten: it no longer matches its checkpoint");
	return 0;
}

int cde_audit_store_check_tail(struct cde_audit_store *s, struct cde_audit_verify *out)
{
	/* A start stays fast on a long log, and the end, where a cut or a
	 * lost WAL shows, is covered. No MAC is checked here: a key added
	 * to an old log, a rotated key or a new checkpoint_every must not
	 * stop the daemon (cdevctl audit verify --key checks them); what is
	 * checked is that the checkpoints there agree with the chain. */
	int r = check(s, NULL, 0, 0, TAIL_ROWS, out);

	if (r == 0 || r == -ENODATA) {
		int r2 = checkpoints_agree(cde_audit_store_db(s), 0, out);

		if (r2 < 0)
			r = r2;
	}

	out->rows = (uint64_t)cde_sql_int(cde_audit_store_db(s), "SELECT count(*) FROM events", NULL, 0);
	return r;
}
