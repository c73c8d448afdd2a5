/* Retention on PostgreSQL, as audit_retention.c does it on SQLite: a run
 * deletes a prefix of the chain (rows first..N) and, in the same
 * transaction, stores a marker naming N and the hash of row N, chained to
 * the markers before it and signed with the checkpoint key when there is
 * one, and names each chain it cut in retired_chains and each artifact a
 * deleted row named in retired_artifacts (with the last seq it deleted
 * of each) for the gates to deny. The run holds the log's head
 * row, as a group does, so the replicas' runs and groups never
 * interleave: two replicas cannot retire overlapping prefixes under two
 * markers.
 *
 * Only max_age applies here: what a PostgreSQL table occupies does not
 * shrink when rows go (VACUUM makes the space reusable, not smaller), so
 * a size limit would delete for ever; cde_journal_pg_new refuses one. */

#include "sinks/audit/pg/pg_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/ids.h"
#include "sinks/audit/audit_chain.h"

/* Records in @table each @column value of the rows up to seq $1, with
 * the last of their seqs deleted (the larger when a later run deletes
 * more). */
#define RETIRE_SQL(table, column)                                                                     \
	"INSERT INTO " table "(" column ", last_deleted_seq) SELECT " column ", max(seq) FROM events"  \
	" WHERE seq <= $1 AND " column " IS NOT NULL AND " column " <> '' GROUP BY " column              \
	" ON CONFLICT (" column ") DO UPDATE SET last_deleted_seq ="                                     \
	" greatest(" table ".last_deleted_seq, excluded.last_deleted_seq)"

/* One value of a one-row query with @n text parameters; @none when NULL
 * or no row, -1 on failure. */
static int64_t one_int(PGconn *c, const char *sql, int n, const char *const *values, int64_t none)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, values, NULL, NULL, 0);
	int64_t v;

	if (!cde_pg_ok(res, true))
		return -1;
	v = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? cde_pg_int(res, 0, 0) : none;
	PQclear(res);
	return v;
}

static int one_hash(PGconn *c, const char *sql, const char *param, uint8_t out[CDE_HASH_LEN])
{
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
	int r = -ENOENT;

	if (!cde_pg_ok(res, true))
		return -EIO;
	if (PQntuples(res) == 1)
		r = cde_hash_from_hex(PQgetvalue(res, 0, 0), out) < 0 ? -EIO : 0;
	PQclear(res);
	return r;
}

/* The last seq due, bounded as on SQLite: max_rows, keep_from, every
 * sink's cursor, the head. 0 when nothing is due; -1 on failure. */
static int64_t due_through(PGconn *c, const struct cde_audit_retention *policy, int64_t now, uint64_t head,
			   char *reason, size_t size)
{
	char cutoff[32];
	const char *p = cutoff;
	time_t t = (time_t)(now - (int64_t)policy->max_age_s);
	struct tm tm;
	int64_t first, through, min;

	gmtime_r(&t, &tm);
	strftime(cutoff, sizeof(cutoff), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	first = one_int(c, "SELECT min(seq) FROM events", 0, NULL, 0);
	through = one_int(c, "SELECT seq FROM events WHERE received_at < $1 ORDER BY received_at DESC, seq DESC LIMIT 1",
			  1, &p, 0);
	min = one_int(c, "SELECT min(seq) FROM sink_cursors", 0, NULL, INT64_MAX);
	if (first < 0 || through < 0 || min < 0)
		return -1;
	if (first == 0 || through == 0)
		return 0;
	snprintf(reason, size, "max_age: received before %s", cutoff);
	if (policy->max_rows && (uint64_t)through >= (uint64_t)first + policy->max_rows)
		through = first + (int64_t)policy->max_rows - 1;
	if (policy->keep_from && (uint64_t)through >= policy->keep_from)
		through = (int64_t)policy->keep_from - 1;
	if (through > min)
		through = min;
	if ((uint64_t)through > head)
		through = (int64_t)head;
	return through < first ? 0 : through;
}

static int store_marker(PGconn *c, const struct cde_audit_marker *m, const uint8_t *key, size_t key_len)
{
	uint8_t prev[CDE_HASH_LEN] = { 0 }, hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];
	char seq_s[24], deleted_s[24], anchor_hex[CDE_HASH_HEX_LEN], prev_hex[CDE_HASH_HEX_LEN],
	     hash_hex[CDE_HASH_HEX_LEN], mac_hex[CDE_HASH_HEX_LEN];
	const char *values[8] = { cde_pg_u64(m->seq, seq_s), cde_pg_u64(m->deleted, deleted_s), m->at, m->reason,
				  anchor_hex, prev_hex, hash_hex, key ? mac_hex : NULL };
	PGresult *res;

	if (one_hash(c, "SELECT hash FROM retention ORDER BY seq DESC LIMIT 1", NULL, prev) == -EIO)
		return -EIO;
	cde_audit_marker_hash(m, prev, hash);
	cde_hash_to_hex(m->anchor, anchor_hex);
	cde_hash_to_hex(prev, prev_hex);
	cde_hash_to_hex(hash, hash_hex);
	if (key) {
		cde_audit_marker_mac(key, key_len, hash, mac);
		cde_hash_to_hex(mac, mac_hex);
	}
	res = PQexecParams(c, "INSERT INTO retention(seq, deleted, at, reason, anchor, prev, hash, mac)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", 8, NULL, values, NULL, NULL, 0);
	if (!cde_pg_ok(res, false))
		return -EIO;
	PQclear(res);
	return 0;
}

/* Inside the run's transaction, the head locked. */
static int retain_locked(struct cde_pg_store *s, const struct cde_audit_retention *policy, int64_t now,
			 struct cde_audit_retention_run *out)
{
	PGconn *c = cde_pg_store_conn(s);
	char seq_s[24], at[CDE_TIMESTAMP_STR_LEN];
	const char *p = seq_s;
	struct cde_audit_marker m = { 0 };
	size_t key_len;
	const uint8_t *key = cde_pg_store_key(s, &key_len);
	int64_t head = one_int(c, "SELECT seq FROM log_head FOR UPDATE", 0, NULL, 0), through;
	PGresult *res;

	if (head < 0)
		return -EIO;
	through = due_through(c, policy, now, (uint64_t)head, out->reason, sizeof(out->reason));
	if (through <= 0)
		return (int)through;
	cde_pg_u64((uint64_t)through, seq_s);
	if (one_hash(c, "SELECT hash FROM events WHERE seq = $1", p, m.anchor) < 0)
		return -EIO;
	/* The chains cut, before their rows go: a gate reading one of them
	 * would judge part of its evidence (gate.c denies it); and the
	 * artifacts they name: a chain whose rows naming the artifact go is
	 * no longer linked to it, so the gate could not find it cut. */
	for (int i = 0; i < 2; i++) {
		res = PQexecParams(c, i ? RETIRE_SQL("retired_artifacts", "artifact_id")
					: RETIRE_SQL("retired_chains", "chain_id"),
				   1, NULL, &p, NULL, NULL, 0);
		if (!cde_pg_ok(res, false))
			return -EIO;
		PQclear(res);
	}
	/* Delivery records go with their events; dead letters stay, as the
	 * record of a failure. */
	res = PQexecParams(c, "DELETE FROM events WHERE seq <= $1", 1, NULL, &p, NULL, NULL, 0);
	if (!cde_pg_ok(res, false))
		return -EIO;
	m.deleted = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	for (int i = 0; i < 2; i++) {
		res = PQexecParams(c, i ? "DELETE FROM deliveries WHERE seq <= $1" : "DELETE FROM checkpoints WHERE seq <= $1",
				   1, NULL, &p, NULL, NULL, 0);
		if (!cde_pg_ok(res, false))
			return -EIO;
		PQclear(res);
	}
	cde_timestamp_now(at);
	m.seq = (uint64_t)through;
	m.at = at;
	m.reason = out->reason;
	if (store_marker(c, &m, key, key_len) < 0)
		return -EIO;
	out->deleted = m.deleted;
	out->through_seq = (uint64_t)through;
	return 0;
}

int cde_pg_retain(void *impl, const struct cde_audit_retention *policy, int64_t now,
		  struct cde_audit_retention_run *out, char *err, size_t err_size)
{
	struct cde_pg_store *s = impl;
	PGconn *c = cde_pg_store_conn(s);
	int r;

	memset(out, 0, sizeof(*out));
	if (!policy->max_age_s)
		return 0;
	if (cde_pg_exec(c, "BEGIN", err, err_size, "retention: begin") < 0)
		return -EIO;
	r = retain_locked(s, policy, now, out);
	if (r == 0 && cde_pg_exec(c, "COMMIT", err, err_size, "retention: commit") == 0)
		return 0;
	if (r < 0)
		cde_pg_fail(c, err, err_size, "retention");
	PQclear(PQexec(c, "ROLLBACK"));
	memset(out, 0, sizeof(*out));
	return -EIO;
}
