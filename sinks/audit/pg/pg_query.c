/* Audit queries on PostgreSQL, with audit_query.c's semantics:
 *  - types compare as bytes (COLLATE "C"), as SQLite compares them, so a
 *    type without its version is the same range whatever the database's
 *    locale; events_by_type is built in that collation, so the
 *    condition keeps its index;
 *  - received_at is text in one width (UTC, microseconds), and the
 *    bounds are brought to that form first: as strings they compare as
 *    instants, in any collation (the digits differ, in the same places),
 *    so the database's own serves, with events_by_received;
 *  - pages are by seq, like there.
 * Every value is a text parameter ($n); rows come one at a time. */

#include "sinks/audit/pg/pg_query.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/pg/pg_conn.h"

#define SQL_MAX 1024
#define PARAMS_MAX 16

/* chain_id '' for none: NULL would tell a reader to look in the event;
 * the event '' when the reader needs the columns alone (no_event). */
#define RECORD_COLUMNS_OF(event) \
	"seq, received_at, principal, peer, prev_hash, hash, " event ", chain_via, coalesce(chain_id, '')"
#define RECORD_COLUMNS RECORD_COLUMNS_OF("event")
#define RECORD_FIELDS 9

int cde_pg_each_row(PGconn *c, const char *sql, int n, const char *const *values,
		    int (*row)(void *ctx, const PGresult *res), void *ctx)
{
	PGresult *res;
	int r = 0;

	if (cde_pg_lost(c))
		return -ENOTCONN;
	if (!PQsendQueryParams(c, sql, n, NULL, values, NULL, NULL, 0))
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	/* Without single-row mode the rows would arrive all at once: not
	 * read here, so never taken for an empty answer. */
	if (!PQsetSingleRowMode(c))
		r = -EIO;
	/* Every result is read, also after a stop: the connection must be
	 * idle again for the next query. */
	while ((res = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(res);

		if (r == 0 && st == PGRES_SINGLE_TUPLE)
			r = row(ctx, res);
		else if (r == 0 && st != PGRES_TUPLES_OK)
			r = -EIO;
		PQclear(res);
	}
	return r == -EIO && cde_pg_lost(c) ? -ENOTCONN : r;
}

struct records {
	int (*fn)(void *ctx, const struct cde_audit_record *rec);
	void *ctx;
};

static const char *field(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

/* One row selected as RECORD_COLUMNS (and the deliveries) to @fn. */
static int each_record(void *ctx, const PGresult *res)
{
	struct records *rs = ctx;
	struct cde_audit_record rec = {
		.seq = (uint64_t)cde_pg_int(res, 0, 0),
		.received_at = field(res, 1),
		.principal = field(res, 2),
		.peer = field(res, 3),
		.prev_hash = field(res, 4),
		.hash = field(res, 5),
		.event = field(res, 6),
		.chain_via = (uint64_t)cde_pg_int(res, 0, 7),	/* NULL reads 0 */
		.chain_id = field(res, 8),
		.deliveries = PQnfields(res) > RECORD_FIELDS ? field(res, RECORD_FIELDS) : NULL,
	};

	if (PQnfields(res) < RECORD_FIELDS || !rec.received_at || !rec.principal || !rec.peer ||
	    !rec.prev_hash || !rec.hash || !rec.event)
		return -EIO;
	return rs->fn(rs->ctx, &rec);
}

int cde_pg_audit_query_id(PGconn *c, const char *id, uint64_t limit,
			  int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx)
{
	struct records rs = { fn, ctx };
	char n[24];
	const char *values[] = { id, cde_pg_u64(limit > INT64_MAX ? INT64_MAX : limit, n) };

	/* json_agg of no rows is NULL: '[]' as SQLite's json_group_array. */
	return cde_pg_each_row(c, "SELECT " RECORD_COLUMNS ", (SELECT coalesce(json_agg(json_build_object("
			       "'sink', d.sink, 'deliveredAt', d.delivered_at, 'status', d.status,"
			       " 'receipt', d.receipt) ORDER BY d.sink COLLATE \"C\"), '[]') FROM deliveries d"
			       " WHERE d.seq = events.seq)"
			       " FROM events WHERE id = $1 ORDER BY seq LIMIT $2::bigint", 2, values, each_record,
			       &rs);
}

/* Types longer than this (none the catalog has) are filtered by range. */
#define TYPE_MAX 256

/* The single stored type that @type names (itself, or itself plus a
 * version), into @out; false when there are none or several, or on
 * error (the range filter is then right anyway). Three seeks on the
 * type index, in one round trip. */
static bool one_version(PGconn *c, const char *type, char *out, size_t size)
{
	char lo[TYPE_MAX + 2], hi[TYPE_MAX + 2];
	const char *values[] = { type, lo, hi };
	PGresult *res;
	bool itself, ok;
	int versions;

	if (strlen(type) > TYPE_MAX)
		return false;
	snprintf(lo, sizeof(lo), "%s.", type);
	snprintf(hi, sizeof(hi), "%s/", type);
	res = PQexecParams(c, "WITH v AS (SELECT min(type COLLATE \"C\") AS first FROM events"
			   " WHERE type COLLATE \"C\" > $2 AND type COLLATE \"C\" < $3)"
			   " SELECT EXISTS(SELECT 1 FROM events WHERE type COLLATE \"C\" = $1), first,"
			   " (SELECT min(type COLLATE \"C\") FROM events WHERE type COLLATE \"C\" > first"
			   " AND type COLLATE \"C\" < $3) FROM v", 3, NULL, values, NULL, NULL, 0);
	if (!cde_pg_ok(res, true))
		return false;
	ok = PQntuples(res) == 1 && PQnfields(res) == 3;
	itself = ok && PQgetvalue(res, 0, 0)[0] == 't';
	versions = ok ? !PQgetisnull(res, 0, 1) + !PQgetisnull(res, 0, 2) : 0;
	ok = ok && itself + versions == 1 && strlen(itself ? type : PQgetvalue(res, 0, 1)) < size;
	if (ok)
		snprintf(out, size, "%s", itself ? type : PQgetvalue(res, 0, 1));
	PQclear(res);
	return ok;
}

/* The statement being built: its text and its parameters. */
struct query {
	char sql[SQL_MAX];
	const char *values[PARAMS_MAX];
	int n;
	char seq[24], limit[24];
};

/* Adds the condition @cond on the parameter @value, which @cond names
 * as '@' (as often as it needs). */
static void add(struct query *q, const char *cond, const char *value)
{
	char name[16];
	size_t len = strlen(q->sql);

	snprintf(name, sizeof(name), "$%d", q->n + 1);
	q->values[q->n++] = value;
	len += (size_t)snprintf(q->sql + len, sizeof(q->sql) - len, "%s",
				strstr(q->sql, " WHERE ") ? " AND " : " WHERE ");
	/* SQL_MAX holds every filter at once. */
	for (; *cond && len + sizeof(name) < sizeof(q->sql); cond++) {
		if (*cond == '@') {
			memcpy(q->sql + len, name, strlen(name));
			len += strlen(name);
		} else {
			q->sql[len++] = *cond;
		}
	}
	q->sql[len] = '\0';
}

int cde_pg_audit_query(PGconn *c, const struct cde_audit_filter *f,
		       int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx)
{
	struct query q = { .sql = "SELECT " RECORD_COLUMNS " FROM events" };
	struct records rs = { fn, ctx };
	char only[256], since[CDE_TIMESTAMP_STR_LEN], until[CDE_TIMESTAMP_STR_LEN];

	if ((f->since && cde_timestamp_canonical(f->since, since) < 0) ||
	    (f->until && cde_timestamp_canonical(f->until, until) < 0) ||
	    f->after > INT64_MAX || f->limit > INT64_MAX)
		return -EINVAL;
	if (cde_pg_lost(c))
		return -ENOTCONN;
	if (f->no_event)
		snprintf(q.sql, sizeof(q.sql), "SELECT " RECORD_COLUMNS_OF("''") " FROM events");
	if (f->subject)
		add(&q, "subject = @", f->subject);
	/* One version of the type in the log (the usual case): an equality,
	 * which the (type, seq) index serves in seq order. */
	if (f->type && one_version(c, f->type, only, sizeof(only)))
		add(&q, "type COLLATE \"C\" = @", only);
	else if (f->type)
		add(&q, "(type COLLATE \"C\" = @ OR (type COLLATE \"C\" > @::text || '.'"
		    " AND type COLLATE \"C\" < @::text || '/'))", f->type);
	if (f->source)
		add(&q, "source = @", f->source);
	if (f->chain_id)
		add(&q, "chain_id = @", f->chain_id);
	if (f->artifact_id)
		add(&q, "artifact_id = @", f->artifact_id);
	if (f->since)
		add(&q, "received_at >= @", since);
	if (f->until)
		add(&q, "received_at < @", until);
	if (f->environment)
		add(&q, "event::jsonb #>> '{subject,content,environment,id}' = @", f->environment);
	if (f->after)
		add(&q, f->descending ? "seq < @::bigint" : "seq > @::bigint", cde_pg_u64(f->after, q.seq));
	snprintf(q.sql + strlen(q.sql), sizeof(q.sql) - strlen(q.sql), " ORDER BY seq %s",
		 f->descending ? "DESC" : "ASC");
	if (f->limit) {
		q.values[q.n++] = cde_pg_u64(f->limit, q.limit);
		snprintf(q.sql + strlen(q.sql), sizeof(q.sql) - strlen(q.sql), " LIMIT $%d::bigint", q.n);
	}
	return cde_pg_each_row(c, q.sql, q.n, q.values, each_record, &rs);
}

static int retired_seq(PGconn *c, const char *sql, const char *key, uint64_t *ret)
{
	PGresult *res;

	*ret = 0;
	if (!c || cde_pg_lost(c))
		return -ENOTCONN;
	res = PQexecParams(c, sql, 1, NULL, &key, NULL, NULL, 0);
	if (!cde_pg_ok(res, true))
		return cde_pg_lost(c) ? -ENOTCONN : -EIO;
	if (PQntuples(res) == 1)
		*ret = (uint64_t)cde_pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

int cde_pg_chain_retired(PGconn *c, const char *chain, uint64_t *ret)
{
	return retired_seq(c, "SELECT last_deleted_seq FROM retired_chains WHERE chain_id = $1", chain, ret);
}

int cde_pg_artifact_retired(PGconn *c, const char *artifact, uint64_t *ret)
{
	return retired_seq(c, "SELECT last_deleted_seq FROM retired_artifacts WHERE artifact_id = $1", artifact, ret);
}
