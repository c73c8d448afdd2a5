/* The audit log's tables on PostgreSQL, as numbered steps (table
 * cde_schema records each one applied, with when). Like audit.db's steps
 * (audit_schema.c) a step is never edited once released: a database of
 * any earlier version reaches the current one by the same path.
 *
 *   1  the log as SQLite keeps it at its schema 4 (events with their hash
 *      chain and leaf, keyed checkpoints, retention markers, the Merkle
 *      tree's tiles and signed checkpoints; sink cursors, deliveries, dead
 *      letters, replays, witness cursors), plus the head row every replica
 *      locks to append, and the view audit_log for auditors.
 *   2  events.chain_via, as SQLite's step 5: the row whose chain a
 *      correlated event joined (NULL for rows stored before it), also
 *      in audit_log.
 *   3  retired_chains, as SQLite's step 6: the chains retention has
 *      deleted rows of, each with the last seq deleted of it.
 *   4  retired_artifacts, as SQLite's step 7: the artifacts retention
 *      has deleted rows naming, each with the last seq deleted of them.
 *
 * Rows keep the chain's inputs as SQLite does (text, the event exactly as
 * received), so one verifier and one leaf definition serve both stores:
 * jsonb would reorder keys and change the bytes hashed. */

#include "sinks/audit/pg/pg_schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sinks/audit/pg/pg_conn.h"

static const char step1[] =
	"CREATE TABLE log_head("
	" one boolean PRIMARY KEY DEFAULT true CHECK (one),"
	" seq bigint NOT NULL,"		/* the last seq given */
	" hash text NOT NULL,"		/* the chain's hash there */
	" tree_size bigint NOT NULL);"
	"INSERT INTO log_head VALUES (true, 0,"
	" '0000000000000000000000000000000000000000000000000000000000000000', 0);"
	"CREATE TABLE events("
	" seq bigint PRIMARY KEY,"
	" id text NOT NULL, source text NOT NULL, type text NOT NULL,"
	" subject text, chain_id text, artifact_id text,"
	" timestamp text NOT NULL, received_at text NOT NULL, spec_version text NOT NULL,"
	" principal text NOT NULL, peer text NOT NULL, event text NOT NULL,"
	" prev_hash text NOT NULL, hash text NOT NULL, digest bytea, leaf bigint UNIQUE,"
	" UNIQUE(source, id));"
	"CREATE INDEX events_by_id ON events(id, seq);"
	"CREATE INDEX events_by_subject ON events(subject, seq);"
	"CREATE INDEX events_by_chain ON events(chain_id, seq);"
	"CREATE INDEX events_by_artifact ON events(artifact_id, seq);"
	/* Types in byte order, as SQLite compares: a type's versions are
	 * one range whatever the database's locale (pg_query.c). */
	"CREATE INDEX events_by_type ON events(type COLLATE \"C\", seq);"
	"CREATE INDEX events_by_received ON events(received_at);"
	"CREATE TABLE checkpoints(seq bigint PRIMARY KEY, hash text NOT NULL, mac text NOT NULL);"
	"CREATE TABLE retention(seq bigint PRIMARY KEY, deleted bigint NOT NULL, at text NOT NULL,"
	" reason text NOT NULL, anchor text NOT NULL, prev text NOT NULL, hash text NOT NULL, mac text);"
	"CREATE TABLE gaps(last bigint PRIMARY KEY, first bigint NOT NULL, at text NOT NULL,"
	" reason text NOT NULL, prev text NOT NULL, hash text NOT NULL, mac text);"
	"CREATE TABLE tree_tiles(tile_level integer NOT NULL, idx bigint NOT NULL, hashes bytea NOT NULL,"
	" PRIMARY KEY(tile_level, idx));"
	"CREATE TABLE tree_checkpoints(size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL,"
	" at text NOT NULL);"
	"CREATE TABLE sink_cursors(sink text PRIMARY KEY, seq bigint NOT NULL);"
	"CREATE TABLE witness_cursors(sink text PRIMARY KEY, size bigint NOT NULL);"
	"CREATE TABLE deliveries(sink text NOT NULL, seq bigint NOT NULL, delivered_at text NOT NULL,"
	" status integer NOT NULL, receipt text, PRIMARY KEY(sink, seq));"
	"CREATE TABLE dead_letters(sink text NOT NULL, seq bigint NOT NULL, attempts integer NOT NULL,"
	" error text NOT NULL, dead_at text NOT NULL, PRIMARY KEY(sink, seq));"
	"CREATE TABLE replays(sink text NOT NULL, seq bigint NOT NULL, PRIMARY KEY(sink, seq));"
	/* What an auditor queries: one row per event, typed. The columns
	 * the API filters on keep their indexes through the view. */
	"CREATE VIEW audit_log AS SELECT seq, received_at::timestamptz AS received_at, principal, peer,"
	" source, id, type COLLATE \"C\" AS type, subject, chain_id, artifact_id,"
	" event::jsonb #>> '{subject,content,environment,id}' AS environment,"
	" timestamp::timestamptz AS event_time, spec_version, event::jsonb AS event,"
	" prev_hash, hash, leaf FROM events;"
	"COMMENT ON VIEW audit_log IS 'cdeventsd audit log: one row per stored CDEvent, in seq order';";

/* How each row got its chain (issue 18): see audit_schema.c's step 5.
 * The view gains the column at its end, which CREATE OR REPLACE allows. */
static const char step2[] =
	"ALTER TABLE events ADD COLUMN chain_via bigint;"
	"CREATE OR REPLACE VIEW audit_log AS SELECT seq, received_at::timestamptz AS received_at, principal, peer,"
	" source, id, type COLLATE \"C\" AS type, subject, chain_id, artifact_id,"
	" event::jsonb #>> '{subject,content,environment,id}' AS environment,"
	" timestamp::timestamptz AS event_time, spec_version, event::jsonb AS event,"
	" prev_hash, hash, leaf, chain_via FROM events;";

/* The chains retention has cut (issue 18): see audit_schema.c's step 6. */
static const char step3[] =
	"CREATE TABLE retired_chains(chain_id text PRIMARY KEY, last_deleted_seq bigint NOT NULL);";

/* The artifacts retention has deleted rows naming: audit_schema.c's step 7. */
static const char step4[] =
	"CREATE TABLE retired_artifacts(artifact_id text PRIMARY KEY, last_deleted_seq bigint NOT NULL);";

static const char *const steps[CDE_PG_SCHEMA_VERSION] = { step1, step2, step3, step4 };

static const char *const what[CDE_PG_SCHEMA_VERSION] = {
	"the audit log, the Merkle tree, delivery state",
	"events.chain_via: the row whose chain a correlated event joined",
	"retired_chains: the chains retention has deleted rows of",
	"retired_artifacts: the artifacts retention has deleted rows naming",
};

int cde_pg_schema_version(PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT coalesce(max(version), 0) FROM cde_schema");
	int64_t v;

	if (!cde_pg_ok(res, true)) {
		/* No table yet: an empty database (or one of something else). */
		res = PQexec(c, "SELECT to_regclass('cde_schema') IS NULL");
		if (!cde_pg_ok(res, true))	/* which cleared it */
			return -EIO;
		v = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' ? 0 : -EIO;
		PQclear(res);
		return (int)v;
	}
	v = cde_pg_int(res, 0, 0);
	PQclear(res);
	return v < 0 || v > 1000000 ? -EIO : (int)v;
}

/* Runs step @n and records it; the caller holds the transaction. */
static int run_step(PGconn *c, int n, char *err, size_t err_size)
{
	char sql[256], label[32];

	snprintf(label, sizeof(label), "schema step %d", n);
	if (cde_pg_exec(c, steps[n - 1], err, err_size, label) < 0)
		return -EIO;
	snprintf(sql, sizeof(sql), "INSERT INTO cde_schema(version, description) VALUES (%d, '%s')", n,
		 what[n - 1]);
	return cde_pg_exec(c, sql, err, err_size, label);
}

/* Inside the migration's transaction, under its lock. */
static int migrate_locked(PGconn *c, char *err, size_t err_size)
{
	int v;

	if (cde_pg_exec(c, "CREATE TABLE IF NOT EXISTS cde_schema(version integer PRIMARY KEY,"
			" applied_at timestamptz NOT NULL DEFAULT now(), description text NOT NULL)",
			err, err_size, "creating cde_schema") < 0)
		return -EIO;
	v = cde_pg_schema_version(c);
	if (v < 0)
		return cde_pg_fail(c, err, err_size, "reading the schema version");
	if (v > CDE_PG_SCHEMA_VERSION) {
		snprintf(err, err_size, "the database was written by a newer cdeventsd (schema %d; this one "
			 "knows up to %d): run that version", v, CDE_PG_SCHEMA_VERSION);
		return -EROFS;
	}
	for (int n = v + 1; n <= CDE_PG_SCHEMA_VERSION; n++)
		if (run_step(c, n, err, err_size) < 0)
			return -EIO;
	return 0;
}

int cde_pg_schema_migrate(PGconn *c, char *err, size_t err_size)
{
	char lock[96];
	int r;

	/* One transaction for all steps: DDL is transactional here, so a
	 * failed step leaves the database as it was. */
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d, %d)", CDE_PG_LOCK_SPACE, CDE_PG_LOCK_MIGRATE);
	if (cde_pg_exec(c, "BEGIN", err, err_size, "migrating") < 0)
		return -EIO;
	r = cde_pg_exec(c, lock, err, err_size, "locking the schema");
	if (r == 0)
		r = migrate_locked(c, err, err_size);
	if (r == 0)
		r = cde_pg_exec(c, "COMMIT", err, err_size, "committing the schema");
	if (r < 0) {
		PGresult *res = PQexec(c, "ROLLBACK");

		PQclear(res);
	}
	return r;
}
