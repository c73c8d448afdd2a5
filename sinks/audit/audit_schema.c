/* The audit database's schema and its migrations. audit.db is a
 * tamper-evident file that must outlive upgrades of the daemon, so its
 * shape has a number (PRAGMA user_version) and every change is a numbered
 * step from the one before, never an edit of an older step: a file of
 * any earlier version reaches the current one by the same path.
 *
 *   1  the log as cdeventsd first kept it (f0bca64): events with their
 *      hash chain, meta (the head), keyed checkpoints, retention markers;
 *      sink cursors, deliveries, dead letters and replays
 *   2  accepted losses (gaps, in the chain) and the digest that tells a
 *      re-sent event from a clash
 *   3  the Merkle tree (issue 14), one row per stored hash
 *   4  the tree's hashes packed into tiles of 16
 *   5  events.chain_via: the row whose chain a correlated event joined
 *   6  retired_chains: the chains retention has deleted rows of
 *   7  retired_artifacts: the artifacts retention has deleted rows naming
 *   8  events.leaf_hash: each row's Merkle leaf in its own row
 *   9  events_by_artifact only over rows that name an artifact
 *
 * Files written before versions were kept say 0 with tables in them: they
 * read as version 1 (tests/data/audit/v1-f0bca64.db is one) and get step 1
 * again, which adds what earlier builds lacked. A file newer than the code
 * is refused, never downgraded. */

#include "sinks/audit/audit_schema.h"

#include <errno.h>
#include <stdio.h>

#include "sinks/audit/audit_tree.h"
#include "sinks/audit/sql.h"

static const char step1[] =
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
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('head_seq', '0');"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('head_hash',"
	" '0000000000000000000000000000000000000000000000000000000000000000');"
	"CREATE TABLE IF NOT EXISTS sink_cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS deliveries(sink TEXT NOT NULL, seq INTEGER NOT NULL,"
	" delivered_at TEXT NOT NULL, status INTEGER NOT NULL, receipt TEXT, PRIMARY KEY(sink, seq))"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS dead_letters(sink TEXT NOT NULL, seq INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL, error TEXT NOT NULL, dead_at TEXT NOT NULL, PRIMARY KEY(sink, seq))"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS replays(sink TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(sink, seq))"
	" WITHOUT ROWID;";

/* (The digest column is added by step_2 below, as ALTER TABLE has no IF
 * NOT EXISTS; files from an unreleased build of this step may have it.) */
static const char step2[] =
	"CREATE TABLE IF NOT EXISTS gaps(last INTEGER PRIMARY KEY, first INTEGER NOT NULL,"
	" at TEXT NOT NULL, reason TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT);";

static int step_1(sqlite3 *db)
{
	return sqlite3_exec(db, step1, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int step_2(sqlite3 *db)
{
	if (sqlite3_exec(db, step2, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (cde_sql_int(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'digest'", NULL, 0))
		return 0;
	return sqlite3_exec(db, "ALTER TABLE events ADD COLUMN digest BLOB", NULL, NULL, NULL) == SQLITE_OK ? 0
													      : -EIO;
}

/* The Merkle tree (issue 14): its stored hashes, each row's leaf number,
 * the signed checkpoints. A log from before it gets its rows as the
 * first leaves, in seq order (what retention already deleted is not in
 * the tree: the tree covers what the file had at the upgrade). */
static const char step3[] =
	"CREATE TABLE IF NOT EXISTS tree_hashes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS tree_checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
	" note TEXT NOT NULL, at TEXT NOT NULL);"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('tree_size', '0');";

static int step_3(sqlite3 *db)
{
	if (sqlite3_exec(db, step3, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (!cde_sql_int(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'leaf'", NULL, 0) &&
	    sqlite3_exec(db, "ALTER TABLE events ADD COLUMN leaf INTEGER", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (cde_audit_tree_adopt_rows(db) < 0)
		return -EIO;
	/* After the adoption, which names the leaves row by row. */
	return sqlite3_exec(db, "CREATE UNIQUE INDEX IF NOT EXISTS events_by_leaf ON events(leaf)", NULL, NULL,
			    NULL) == SQLITE_OK ? 0 : -EIO;
}

/* The tree's hashes as tiles (audit_tiles.h): a row per 16 hashes of
 * every fourth level, in place of a row per hash of every level, which
 * cost the writer two INSERTs per event. The levels between are hashed
 * up from the tiles when read; the rows of step 3 are packed, then
 * dropped. */
static const char step4[] =
	"CREATE TABLE IF NOT EXISTS tree_tiles(tile_level INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" hashes BLOB NOT NULL, PRIMARY KEY(tile_level, idx)) WITHOUT ROWID;";

static int step_4(sqlite3 *db)
{
	if (sqlite3_exec(db, step4, NULL, NULL, NULL) != SQLITE_OK || cde_audit_tree_pack_tiles(db) < 0)
		return -EIO;
	return sqlite3_exec(db, "DROP TABLE tree_hashes", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Adds the column @name (@type) to events, unless a file that had it
 * before its step was numbered has it already. */
static int add_column(sqlite3 *db, const char *name, const char *type)
{
	char sql[128];

	if (cde_sql_int(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = ?", name, 0))
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE events ADD COLUMN %s %s", name, type);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* How each row got its chain (issue 18): the seq of the row whose chain
 * the writer's correlation joined it to, NULL when the producer named the
 * chain, when it started one, or for the daemon's own events. A gate
 * weighs a correlated row by the row it followed. Rows stored before this
 * step keep NULL: read as their principal's own claim to the chain, as
 * they were read before. Not hashed: an index the writer keeps, like
 * chain_id's. */
static int step_5(sqlite3 *db)
{
	return add_column(db, "chain_via", "INTEGER");
}

/* The chains retention has cut (issue 18): each chain_id of a row a run
 * deleted, with the last seq deleted of it. A gate denies a chain
 * named here without judging it, as what it would judge is no longer
 * all there (a failed run deleted would turn deny into allow). A file
 * from before this step starts empty, though its retention may already
 * have cut chains: those rows are gone and their chains unknown. */
static const char step6[] =
	"CREATE TABLE IF NOT EXISTS retired_chains(chain_id TEXT PRIMARY KEY,"
	" last_deleted_seq INTEGER NOT NULL) WITHOUT ROWID;";

static int step_6(sqlite3 *db)
{
	return sqlite3_exec(db, step6, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* The artifacts retention has deleted rows naming (issue 18, review 4
 * R1), as step 6 for chains: a chain whose rows naming the artifact were
 * deleted no longer links to it, so the gate would neither read it nor
 * know it was cut. Empty on a file from before this step, as step 6. */
static const char step7[] =
	"CREATE TABLE IF NOT EXISTS retired_artifacts(artifact_id TEXT PRIMARY KEY,"
	" last_deleted_seq INTEGER NOT NULL) WITHOUT ROWID;";

static int step_7(sqlite3 *db)
{
	return sqlite3_exec(db, step7, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Each row's leaf hash in its own row (issue 14: the tree's cost on the
 * writer): the writer then stores no tile of level 0, whose partial edge
 * tile it rewrote two or three times a group. Level 0 is read from the
 * tiles that hold it (rows stored before this step, and what retention
 * deleted: it writes their tiles first) and then from the rows
 * (audit_tiles_sqlite.c). Rows from before this step keep NULL: their
 * tiles hold their leaves. */
static int step_8(sqlite3 *db)
{
	return add_column(db, "leaf_hash", "BLOB");
}

/* The index of artifacts over the rows that name one (issue 15): most
 * hooks name none, and each still put an entry (NULL, seq) in it, one
 * B-tree more written per event and a page or two more per commit on the
 * writer thread. Every lookup by artifact asks for one (artifact_id =
 * ?, which SQLite knows implies IS NOT NULL), and retention's record of
 * the artifacts it cut asks for IS NOT NULL itself. */
static const char step9[] =
	"DROP INDEX IF EXISTS events_by_artifact;"
	"CREATE INDEX events_by_artifact ON events(artifact_id, seq) WHERE artifact_id IS NOT NULL;";

static int step_9(sqlite3 *db)
{
	return sqlite3_exec(db, step9, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int (*const steps[CDE_AUDIT_SCHEMA_VERSION])(sqlite3 *db) = { step_1, step_2, step_3, step_4, step_5,
								       step_6, step_7, step_8, step_9 };

int cde_audit_schema_version(sqlite3 *db)
{
	int64_t v = cde_sql_int(db, "PRAGMA user_version", NULL, -1);

	if (v < 0 || v > 1000000)
		return -EIO;
	if (v == 0 && cde_sql_has_table(db, "events"))
		return 1;
	return (int)v;
}

/* Runs step @n and records it, in one transaction. */
static int run_step(sqlite3 *db, int n, char *err, size_t err_size)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", n);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK && steps[n - 1](db) == 0 &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	/* The reason before the rollback, which would replace it. */
	snprintf(err, err_size, "schema step %d: %s", n, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

int cde_audit_schema_migrate(sqlite3 *db, char *err, size_t err_size)
{
	int v = cde_audit_schema_version(db);
	int64_t stored = cde_sql_int(db, "PRAGMA user_version", NULL, -1);

	if (v < 0 || stored < 0) {
		snprintf(err, err_size, "reading the schema version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	if (v > CDE_AUDIT_SCHEMA_VERSION) {
		snprintf(err, err_size, "written by a newer cdeventsd (schema %d; this one knows up to %d): "
			 "run that version, or restore a backup made by this one", v, CDE_AUDIT_SCHEMA_VERSION);
		return -EROFS;
	}
	/* A file from before versions were kept (0, with tables) runs step 1
	 * too: builds before f0bca64 lacked some of its tables (checkpoints,
	 * retention, replays, the delivery tables), and step 1 creates only
	 * what is missing. */
	for (int n = (int)stored + 1; n <= CDE_AUDIT_SCHEMA_VERSION; n++)
		if (run_step(db, n, err, err_size) < 0)
			return -EIO;
	/* The tree reads its leaves by this index (step 3): one dropped by
	 * whoever edited the file is made again, or the file refused when
	 * two rows claim one leaf. */
	if (sqlite3_exec(db, "CREATE UNIQUE INDEX IF NOT EXISTS events_by_leaf ON events(leaf)", NULL, NULL,
			 NULL) != SQLITE_OK) {
		snprintf(err, err_size, "the index of the rows' Merkle leaves (events_by_leaf) was dropped and cannot "
			 "be made again (%s): two rows claim one leaf, the file was edited", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}
