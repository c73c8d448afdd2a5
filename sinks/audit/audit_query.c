/* Audit queries. Each filter is one indexed condition (subject, chain,
 * artifact and type have their own index on (column, seq)); pagination is
 * by seq, so a page never skips or repeats a row however many are
 * appended meanwhile. */

#include "sinks/audit/audit_query.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "events/ids.h"
#include "sinks/audit/sql.h"

#define SQL_MAX 1024

static void add_condition(char *sql, size_t size, const char *cond)
{
	size_t n = strlen(sql);

	snprintf(sql + n, size - n, "%s%s", strstr(sql, " WHERE ") ? " AND " : " WHERE ", cond);
}

/* @cond with each '@' replaced by @prefix: "" or "+", which keeps
 * SQLite from serving that column's condition with its index (the
 * value is the same: + changes no text and keeps the collation). */
static void add_column_condition(char *sql, size_t size, const char *cond, const char *prefix)
{
	char out[160];
	size_t n = 0;

	for (; *cond && n + 2 < sizeof(out); cond++)
		if (*cond == '@')
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", prefix);
		else
			out[n++] = *cond;
	out[n] = '\0';
	add_condition(sql, size, out);
}

/* The columns of a record: the event or '' (no_event), chain_via or NULL
 * (a file older than schema 5, read as it is, has none), and chain_id,
 * '' for none: NULL would tell a reader to look in the event. */
#define RECORD_COLUMNS(event, via) \
	"seq, received_at, principal, peer, prev_hash, hash, " event ", " via ", coalesce(chain_id, '')"
#define RECORD_FIELDS 9

static const char *record_columns(const struct cde_audit_store *s, bool event)
{
	if (cde_audit_store_has_chain_via(s))
		return event ? RECORD_COLUMNS("event", "chain_via") : RECORD_COLUMNS("''", "chain_via");
	return event ? RECORD_COLUMNS("event", "NULL") : RECORD_COLUMNS("''", "NULL");
}

/* Runs @st and calls @fn for each row (selected as RECORD_COLUMNS). */
static int each_record(sqlite3_stmt *st, int (*fn)(void *ctx, const struct cde_audit_record *rec),
		       void *ctx)
{
	int rc, r;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cde_audit_record rec = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.received_at = (const char *)sqlite3_column_text(st, 1),
			.principal = (const char *)sqlite3_column_text(st, 2),
			.peer = (const char *)sqlite3_column_text(st, 3),
			.prev_hash = (const char *)sqlite3_column_text(st, 4),
			.hash = (const char *)sqlite3_column_text(st, 5),
			.event = (const char *)sqlite3_column_text(st, 6),
			.chain_via = (uint64_t)sqlite3_column_int64(st, 7),	/* NULL reads 0 */
			.chain_id = (const char *)sqlite3_column_text(st, 8),
			.deliveries = sqlite3_column_count(st) > RECORD_FIELDS
					      ? (const char *)sqlite3_column_text(st, RECORD_FIELDS) : NULL,
		};

		r = fn(ctx, &rec);
		if (r)
			return r;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_query_id(struct cde_audit_store *s, const char *id, uint64_t limit,
		       int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx)
{
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int r;

	/* A lookup by id also tells where the event went: each delivery with
	 * the receiver's receipt (Tekton's eventID). A database the delivery
	 * engine never opened has no deliveries table: then without. */
	snprintf(sql, sizeof(sql), "SELECT %s, (SELECT json_group_array(json_object('sink', d.sink,"
		 " 'deliveredAt', d.delivered_at, 'status', d.status, 'receipt', d.receipt))"
		 " FROM deliveries d WHERE d.seq = events.seq)"
		 " FROM events WHERE id = ? ORDER BY seq LIMIT ?", record_columns(s, true));
	if (sqlite3_prepare_v2(cde_audit_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM events WHERE id = ? ORDER BY seq LIMIT ?",
			 record_columns(s, true));
		if (sqlite3_prepare_v2(cde_audit_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
			return -EIO;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	r = each_record(st, fn, ctx);
	sqlite3_finalize(st);
	return r;
}

/* Types longer than this (none the catalog has) are filtered by range. */
#define TYPE_MAX 256

/* The smallest stored type strictly between @lo and @hi into @out (one
 * seek on the type index): 1; 0 when none; -ENAMETOOLONG when there is
 * one that does not fit @out (it still counts as a version). */
static int first_type_between(sqlite3_stmt *st, const char *lo, const char *hi, char *out, size_t size)
{
	int r = 0;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		r = strlen(t) < size ? 1 : -ENAMETOOLONG;
		if (r == 1)
			snprintf(out, size, "%s", t);
	}
	return r;
}

/* The single stored type that @type names (itself, or itself plus a
 * version), into @out; false when there are none or several. A few seeks
 * on the type index: DISTINCT over the range read every row of the type
 * (50 ms for a type a third of a 1,000,000-event log holds). */
static bool one_version(struct cde_audit_store *s, const char *type, char *out, size_t size)
{
	sqlite3 *db = cde_audit_store_db(s);
	char lo[TYPE_MAX + 2], hi[TYPE_MAX + 2], first[TYPE_MAX + 2],
		second[TYPE_MAX + 2];
	sqlite3_stmt *between = NULL, *equal = NULL;
	bool itself = false;
	int versions = 0, more = 0;

	if (strlen(type) > TYPE_MAX ||
	    sqlite3_prepare_v2(db, "SELECT min(type) FROM events WHERE type > ?1 AND type < ?2", -1, &between,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM events WHERE type = ?1 LIMIT 1", -1, &equal, NULL) != SQLITE_OK) {
		sqlite3_finalize(between);
		return false;
	}
	snprintf(lo, sizeof(lo), "%s.", type);
	snprintf(hi, sizeof(hi), "%s/", type);
	sqlite3_bind_text(equal, 1, type, -1, SQLITE_STATIC);
	itself = sqlite3_step(equal) == SQLITE_ROW;
	versions = first_type_between(between, lo, hi, first, sizeof(first));
	if (versions == 1)
		more = first_type_between(between, first, hi, second, sizeof(second));
	sqlite3_finalize(between);
	sqlite3_finalize(equal);
	/* A version too long to name here is still a version: the range
	 * filter then finds every one. */
	if (versions < 0 || more < 0 || itself + versions + more != 1 || strlen(itself ? type : first) >= size)
		return false;
	snprintf(out, size, "%s", itself ? type : first);
	return true;
}

int cde_audit_parse_seq(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

int cde_audit_query(struct cde_audit_store *s, const struct cde_audit_filter *f,
		    int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx)
{
	char sql[SQL_MAX];
	/* Filters bind as ?1..?9 in the order they are added; the environment,
	 * the page start and the limit have the fixed numbers ?20, ?21, ?22. */
	const char *binds[12];
	char only[256], since[CDE_TIMESTAMP_STR_LEN], until[CDE_TIMESTAMP_STR_LEN];
	int n = 0, r;
	sqlite3_stmt *st;
	/* A chain is a few hundred events, a type or a day of the log a third
	 * of it: with a chain, its index must serve. Else SQLite may plan on
	 * the type's and walk every event of the type above the chain's,
	 * newest first (7 s for one check of GET /v1/chains over 100,000). */
	const char *other = f->chain_id ? "+" : "";

	/* received_at is UTC with microseconds, one width: in that form the
	 * bounds compare as instants, whatever offset they were given in. */
	if ((f->since && cde_timestamp_canonical(f->since, since) < 0) ||
	    (f->until && cde_timestamp_canonical(f->until, until) < 0) ||
	    f->after > INT64_MAX || f->limit > INT64_MAX)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM events", record_columns(s, !f->no_event));

	if (f->subject) {
		add_column_condition(sql, sizeof(sql), "@subject = ?", other);
		binds[n++] = f->subject;
	}
	if (f->type && one_version(s, f->type, only, sizeof(only))) {
		/* One version of the type in the log (the usual case): an
		 * equality, which the (type, seq) index serves in seq order,
		 * so a page costs its own rows, not a sort of all matches. */
		add_column_condition(sql, sizeof(sql), "@type = ?", other);
		binds[n++] = only;
	} else if (f->type) {
		/* The type with or without its version. */
		add_column_condition(sql, sizeof(sql), "(@type = ? OR (@type > ? || '.' AND @type < ? || '/'))", other);
		binds[n++] = f->type;
		binds[n++] = f->type;
		binds[n++] = f->type;
	}
	if (f->source) {
		add_column_condition(sql, sizeof(sql), "@source = ?", other);
		binds[n++] = f->source;
	}
	if (f->chain_id) {
		add_condition(sql, sizeof(sql), "chain_id = ?");
		binds[n++] = f->chain_id;
	}
	if (f->artifact_id) {
		add_column_condition(sql, sizeof(sql), "@artifact_id = ?", other);
		binds[n++] = f->artifact_id;
	}
	if (f->since) {
		add_column_condition(sql, sizeof(sql), "@received_at >= ?", other);
		binds[n++] = since;
	}
	if (f->until) {
		add_column_condition(sql, sizeof(sql), "@received_at < ?", other);
		binds[n++] = until;
	}
	if (f->environment)
		add_condition(sql, sizeof(sql), "json_extract(event, '$.subject.content.environment.id') = ?20");
	if (f->after)
		add_condition(sql, sizeof(sql), f->descending ? "seq < ?21" : "seq > ?21");
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), " ORDER BY seq %s%s",
		 f->descending ? "DESC" : "ASC", f->limit ? " LIMIT ?22" : "");

	if (sqlite3_prepare_v2(cde_audit_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	if (f->environment)
		sqlite3_bind_text(st, 20, f->environment, -1, SQLITE_STATIC);
	if (f->after)
		sqlite3_bind_int64(st, 21, (sqlite3_int64)f->after);
	if (f->limit)
		sqlite3_bind_int64(st, 22, (sqlite3_int64)f->limit);
	r = each_record(st, fn, ctx);
	sqlite3_finalize(st);
	return r;
}

char *cde_audit_record_to_json(const struct cde_audit_record *rec)
{
	static const char key[] = ",\"event\":";
	cJSON *o = cJSON_CreateObject();
	char *head = NULL, *out = NULL;
	size_t hl, el;

	if (!o || !cJSON_AddNumberToObject(o, "seq", (double)rec->seq) ||
	    !cJSON_AddStringToObject(o, "receivedAt", rec->received_at) ||
	    !cJSON_AddStringToObject(o, "principal", rec->principal) ||
	    !cJSON_AddStringToObject(o, "peer", rec->peer) ||
	    !cJSON_AddStringToObject(o, "prevHash", rec->prev_hash) ||
	    !cJSON_AddStringToObject(o, "hash", rec->hash))
		goto out;
	/* How a correlated event got its chain, for whoever asks why a gate
	 * did not count it: the event it joined through. */
	if (rec->chain_via && !cJSON_AddNumberToObject(o, "chainVia", (double)rec->chain_via))
		goto out;
	if (rec->deliveries) {
		cJSON *list = cJSON_Parse(rec->deliveries);

		if (!list || !cJSON_AddItemToObject(o, "deliveries", list)) {
			cJSON_Delete(list);
			goto out;
		}
	}
	head = cJSON_PrintUnformatted(o);
	if (!head)
		goto out;
	/* head is "{...}": the event goes in as stored, byte for byte. */
	hl = strlen(head);
	el = strlen(rec->event);
	out = malloc(hl - 1 + sizeof(key) - 1 + el + 2);
	if (!out)
		goto out;
	memcpy(out, head, hl - 1);
	memcpy(out + hl - 1, key, sizeof(key) - 1);
	memcpy(out + hl - 1 + sizeof(key) - 1, rec->event, el);
	memcpy(out + hl - 1 + sizeof(key) - 1 + el, "}", 2);
out:
	free(head);
	cJSON_Delete(o);
	return out;
}

/* The last seq retention deleted of @key in @table (retired_chains or
 * retired_artifacts, whose key column is @column), 0 when none or when
 * the file, of an older schema read as it is, has no such table. */
static int retired_seq(sqlite3 *db, const char *table, const char *column, const char *key, uint64_t *ret)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	*ret = 0;
	if (!cde_sql_has_table(db, table))
		return 0;
	snprintf(sql, sizeof(sql), "SELECT last_deleted_seq FROM %s WHERE %s = ?", table, column);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int cde_audit_chain_retired(struct cde_audit_store *s, const char *chain, uint64_t *ret)
{
	return retired_seq(cde_audit_store_db(s), "retired_chains", "chain_id", chain, ret);
}

int cde_audit_artifact_retired(struct cde_audit_store *s, const char *artifact, uint64_t *ret)
{
	return retired_seq(cde_audit_store_db(s), "retired_artifacts", "artifact_id", artifact, ret);
}
