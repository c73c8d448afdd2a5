/* The hash chain's walk on PostgreSQL (cdevctl audit verify --db
 * postgres://...). One REPEATABLE READ snapshot holds the rows and the
 * head still while replicas keep appending, so the head read first
 * names a row the walk will see. The hashing is audit_chain.c's, the
 * same as for audit.db and bundles; with the key, the keyed checkpoints
 * come with their rows (one join, so the rows stream on) and the
 * retention markers' signatures are checked as there. */

#include "sinks/audit/pg/pg_verify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/pg/pg_query.h"

#define ROW_COLUMNS "e.seq, id, source, type, subject, chain_id, artifact_id, timestamp, received_at," \
	" spec_version, principal, peer, event, prev_hash, e.hash, c.hash, c.mac"
#define ROW_FIELDS 17

struct walk {
	struct cde_audit_verify *out;
	uint64_t expect;
	uint8_t prev[CDE_HASH_LEN];
	const uint8_t *key;	/* NULL: no signatures checked */
	size_t key_len;
	unsigned every;
};

static const char *field(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

static int broken(struct cde_audit_verify *out, uint64_t seq, const char *why)
{
	out->bad_seq = seq;
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	return -EBADMSG;
}

/* The keyed checkpoint stored with row @seq (@hash_hex, @mac_hex: NULL
 * when none), against the chain's hash there. */
static int check_checkpoint(struct walk *w, uint64_t seq, const char *hash_hex, const char *mac_hex)
{
	const char *why = cde_audit_checkpoint_check(w->key, w->key_len, seq, hash_hex, mac_hex, w->prev);

	if (why)
		return broken(w->out, seq, why);
	w->out->checkpoints++;
	return 0;
}

static int check_row(void *ctx, const PGresult *res)
{
	struct walk *w = ctx;
	struct cde_audit_row row = {
		.seq = (uint64_t)cde_pg_int(res, 0, 0),
		.id = field(res, 1), .source = field(res, 2), .type = field(res, 3),
		.subject = field(res, 4), .chain_id = field(res, 5), .artifact_id = field(res, 6),
		.timestamp = field(res, 7), .received_at = field(res, 8),
		.spec_version = field(res, 9), .principal = field(res, 10), .peer = field(res, 11),
		.event = field(res, 12),
	};
	const char *why;

	if (PQnfields(res) != ROW_FIELDS)
		return -EIO;
	w->out->rows++;
	if (row.seq != w->expect)
		return broken(w->out, w->expect, "this row is missing (the next row is later)");
	if (cde_audit_chain_step(w->prev, &row, field(res, 13), field(res, 14), &why) < 0)
		return broken(w->out, row.seq, why);
	w->out->head_seq = row.seq;
	w->expect = row.seq + 1;
	if (w->key && w->every && row.seq % w->every == 0)
		return check_checkpoint(w, row.seq, field(res, 15), field(res, 16));
	return 0;
}

/* The head the writers keep, and whether a loss record changed where
 * the chain goes on. */
static int read_head(PGconn *c, uint64_t *seq, char hash[CDE_HASH_HEX_LEN], struct cde_audit_verify *out)
{
	PGresult *res = PQexec(c, "SELECT seq, hash, (SELECT count(*) FROM gaps) FROM log_head");
	int r = 0;

	if (!cde_pg_ok(res, true))
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	if (PQntuples(res) != 1 || strlen(PQgetvalue(res, 0, 1)) != CDE_HASH_HEX_LEN - 1)
		r = -EIO;
	else if (cde_pg_int(res, 0, 2)) {
		snprintf(out->reason, sizeof(out->reason), "the log holds accepted losses, which verify does not"
			 " walk on PostgreSQL yet");
		r = -EOPNOTSUPP;
	} else {
		*seq = (uint64_t)cde_pg_int(res, 0, 0);
		memcpy(hash, PQgetvalue(res, 0, 1), CDE_HASH_HEX_LEN);
	}
	PQclear(res);
	return r;
}

/* The retention markers' own chain (audit_chain.c's step, without the
 * key): the walk of the rows then starts after the latest one, from the
 * anchor it names. */
struct markers {
	struct walk *w;
	uint8_t prev[CDE_HASH_LEN];
	uint64_t last;
};

static int check_marker(void *ctx, const PGresult *res)
{
	struct markers *ms = ctx;
	struct cde_audit_marker m = {
		.seq = (uint64_t)cde_pg_int(res, 0, 0),
		.deleted = (uint64_t)cde_pg_int(res, 0, 1),
		.at = field(res, 2),
		.reason = field(res, 3),
	};
	const struct cde_audit_marker_hex hex = { field(res, 4), field(res, 5), field(res, 6), field(res, 7) };
	const char *why;

	if (PQnfields(res) != 8 || !m.at || !m.reason)
		return -EIO;
	if (cde_audit_marker_step(ms->prev, ms->last, &m, &hex, ms->w->key, ms->w->key_len, &why) < 0)
		return broken(ms->w->out, m.seq, why);
	ms->w->out->markers++;
	ms->last = m.seq;
	memcpy(ms->w->prev, m.anchor, CDE_HASH_LEN);
	ms->w->expect = m.seq + 1;
	return 0;
}

static int walk(PGconn *c, struct walk *wk, struct cde_audit_verify *out)
{
	struct walk w = *wk;
	struct markers ms = { .w = &w };
	char head_hash[CDE_HASH_HEX_LEN], from[24];
	const char *values[1];
	uint64_t head_seq = 0;
	int r = read_head(c, &head_seq, head_hash, out);

	if (r == 0)
		r = cde_pg_each_row(c, "SELECT seq, deleted, at, reason, anchor, prev, hash, mac FROM retention"
				    " ORDER BY seq", 0, NULL, check_marker, &ms);
	if (r < 0)
		return r;
	/* Everything retired: the head is the last marker's row. */
	out->first_seq = w.expect;
	out->head_seq = w.expect - 1;
	values[0] = cde_pg_u64(w.expect, from);
	r = cde_pg_each_row(c, "SELECT " ROW_COLUMNS " FROM events e LEFT JOIN checkpoints c ON c.seq = e.seq"
			    " WHERE e.seq >= $1::bigint ORDER BY e.seq", 1, values, check_row, &w);
	if (r < 0)
		return r;
	cde_hash_to_hex(w.prev, out->head_hash);
	if (out->head_seq != head_seq || (head_seq && strcmp(out->head_hash, head_hash) != 0)) {
		snprintf(out->reason, sizeof(out->reason), "the head names seq %llu, the last row is %llu: rows "
			 "are missing from the end or past the head, or the last was replaced", (unsigned long long)head_seq,
			 (unsigned long long)out->head_seq);
		/* The first row missing, the first one past the head, or the
		 * last one, replaced. */
		out->bad_seq = head_seq > out->head_seq ? out->head_seq + 1
			       : head_seq < out->head_seq ? head_seq + 1 : head_seq;
		return -EBADMSG;
	}
	return 0;
}

int cde_pg_audit_verify(PGconn *c, const uint8_t *key, size_t key_len, unsigned every, struct cde_audit_verify *out)
{
	struct walk w = { .out = out, .expect = 1, .key = key, .key_len = key_len, .every = every };
	char err[256];
	int r;

	memset(out, 0, sizeof(*out));
	out->first_seq = 1;
	if (cde_pg_lost(c))
		return -ENOTCONN;
	if (cde_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, sizeof(err), "verify") < 0)
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	r = walk(c, &w, out);
	if (cde_pg_exec(c, "COMMIT", err, sizeof(err), "verify") < 0 && r == 0)
		r = cde_pg_lost(c) ? -ENOTCONN : -EIO;
	return r;
}
