/* The audit log's writer on PostgreSQL: consecutive seqs and one hash
 * chain, duplicates and clashes told apart, a group all or nothing, and
 * two replicas appending at once to one database never fork the chain
 * or reuse a seq. Runs against the throwaway cluster of tests/pg/cluster. */

#include "tests/unit/helpers.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "events/event.h"
#include "sinks/audit/audit_chain.h"
#include "sinks/audit/pg/pg_query.h"
#include "sinks/audit/pg/pg_schema.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/pg/pg_tree.h"

static const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;

static struct cde_pg_store *open_store(void)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct cde_pg_store_opened opened;
	struct cde_pg_store *s;
	char err[256];

	assert_non_null(o.url);
	if (cde_pg_store_open(&o, NULL, 0, 0, &s, &opened, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return s;
}

static PGconn *connect_test(void)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	char err[256];
	PGconn *c;

	if (cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return c;
}

/* Empties the log between tests (the schema stays). */
static void empty_log(void)
{
	PGconn *c = connect_test();
	char err[256];

	assert_int_equal(cde_pg_schema_migrate(c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_exec(c, "TRUNCATE events, checkpoints, tree_tiles; UPDATE log_head SET seq = 0,"
				     " tree_size = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000'",
				     err, sizeof(err), "empty"), 0);
	PQfinish(c);
}

static void entry(struct cde_journal_entry *e, const char *id, const char *subject, const char *env)
{
	struct cde_event *ev = NULL;

	memset(e, 0, sizeof(*e));
	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0", "/ci",
				       subject, &ev), 0);
	assert_int_equal(cde_event_set_id(ev, id), 0);
	assert_int_equal(cde_event_set_chain_id(ev, "release-1"), 0);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cde_event_content(ev), "environment"), "id", env);
	cJSON_AddStringToObject(cde_event_content(ev), "artifactId", "pkg:oci/etl@1");
	e->event = ev;
	e->principal = "jenkins";
	e->peer = "127.0.0.1:4242";
	e->has_digest = true;
	memset(e->digest, env[0], sizeof(e->digest));	/* other content, other digest */
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:00.000000Z");
}

static void release(struct cde_journal_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cde_event_unref(e[i].event);
}

static int append(struct cde_pg_store *s, struct cde_journal_entry *e, size_t n)
{
	char err[256] = "";
	int r = be->begin(s, err, sizeof(err));

	if (r == 0)
		r = be->add(s, e, n, err, sizeof(err));
	if (r == 0)
		r = be->commit(s, err, sizeof(err));
	if (r < 0) {
		be->rollback(s);
		print_message("append: %s\n", err);
	}
	return r;
}

static int keep_nothing(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CDE_TLOG_HASH_LEN])
{
	(void)ctx, (void)level, (void)index, (void)hash;
	return 0;
}

/* The root of the tree of @size leaves as its stored tiles give it. */
static void stored_root(PGconn *c, uint64_t size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tile_io io;
	struct cde_audit_tile_reader reader;
	struct cde_tlog_frontier f;

	assert_int_equal(cde_pg_tile_io_init(&io, c), 0);
	cde_audit_tile_reader_init(&reader, &io);
	assert_int_equal(cde_tlog_frontier_load(&f, size, &reader.tlog), 0);
	assert_int_equal(cde_tlog_frontier_root(&f, root), 0);
}

/* Walks the rows in seq order: consecutive from 1, each prev_hash the
 * hash before it, each hash recomputed from the row, each the next leaf
 * of the tree; the head names the last, and the tree its tiles hold is
 * the one the rows make. Returns the rows walked. */
static uint64_t verify_chain(void)
{
	PGconn *c = connect_test();
	PGresult *res = PQexec(c, "SELECT seq, id, source, type, subject, chain_id, artifact_id, timestamp,"
			       " received_at, spec_version, principal, peer, event, prev_hash, hash, leaf FROM events"
			       " ORDER BY seq");
	uint8_t prev[CDE_HASH_LEN] = { 0 }, hash[CDE_HASH_LEN], leaf[CDE_TLOG_HASH_LEN], root[2][CDE_TLOG_HASH_LEN];
	struct cde_tlog_frontier tree;
	char hex[CDE_HASH_HEX_LEN];
	int n;

	assert_true(cde_pg_ok(res, true));
	n = PQntuples(res);
	cde_tlog_frontier_init(&tree);
	for (int i = 0; i < n; i++) {
#define F(col) (PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col))
		struct cde_audit_row row = {
			.seq = (uint64_t)cde_pg_int(res, i, 0), .id = F(1), .source = F(2), .type = F(3),
			.subject = F(4), .chain_id = F(5), .artifact_id = F(6), .timestamp = F(7),
			.received_at = F(8), .spec_version = F(9), .principal = F(10), .peer = F(11), .event = F(12),
		};
#undef F
		assert_int_equal(row.seq, (uint64_t)i + 1);
		cde_hash_to_hex(prev, hex);
		assert_string_equal(PQgetvalue(res, i, 13), hex);
		cde_audit_row_hash(&row, prev, hash);
		cde_hash_to_hex(hash, hex);
		assert_string_equal(PQgetvalue(res, i, 14), hex);
		memcpy(prev, hash, CDE_HASH_LEN);
		assert_int_equal(cde_pg_int(res, i, 15), i);
		assert_int_equal(cde_audit_tree_leaf(&row, leaf), 0);
		assert_int_equal(cde_tlog_frontier_append(&tree, leaf, keep_nothing, NULL), 0);
	}
	PQclear(res);
	res = PQexec(c, "SELECT seq, hash, tree_size FROM log_head");
	assert_true(cde_pg_ok(res, true));
	assert_int_equal(cde_pg_int(res, 0, 0), n);
	assert_int_equal(cde_pg_int(res, 0, 2), n);
	cde_hash_to_hex(prev, hex);
	assert_string_equal(PQgetvalue(res, 0, 1), hex);
	PQclear(res);
	if (n) {
		assert_int_equal(cde_tlog_frontier_root(&tree, root[0]), 0);
		stored_root(c, (uint64_t)n, root[1]);
		assert_memory_equal(root[0], root[1], CDE_TLOG_HASH_LEN);
	}
	PQfinish(c);
	return (uint64_t)n;
}

static void appends_get_consecutive_seqs_on_one_chain(void **state)
{
	struct cde_pg_store *s;
	struct cde_journal_entry e[3];

	(void)state;
	empty_log();
	s = open_store();
	entry(&e[0], "a", "svc", "prod");
	entry(&e[1], "b", "svc", "prod");
	entry(&e[2], "c", "svc", "prod");
	assert_int_equal(append(s, e, 2), 0);
	assert_int_equal(append(s, &e[2], 1), 0);
	assert_int_equal(e[0].seq, 1);
	assert_int_equal(e[1].seq, 2);
	assert_int_equal(e[2].seq, 3);
	assert_int_equal(verify_chain(), 3);
	release(e, 3);
	be->close(s);
}

static void a_resend_is_a_duplicate_and_other_content_a_clash(void **state)
{
	struct cde_pg_store *s;
	struct cde_journal_entry e[1], again[1], clash[2];

	(void)state;
	empty_log();
	s = open_store();
	entry(&e[0], "a", "svc", "prod");
	assert_int_equal(append(s, e, 1), 0);
	entry(&again[0], "a", "svc", "prod");
	assert_int_equal(append(s, again, 1), 0);
	assert_true(again[0].duplicate);
	assert_int_equal(again[0].seq, 0);
	/* A request with a new event and a clash stores neither. */
	entry(&clash[0], "b", "svc", "prod");
	entry(&clash[1], "a", "svc", "stage");
	assert_int_equal(append(s, clash, 2), 0);
	assert_true(clash[1].conflict);
	assert_int_equal(clash[1].conflict_seq, 1);
	assert_int_equal(clash[0].seq, 0);
	assert_int_equal(verify_chain(), 1);
	release(e, 1);
	release(again, 1);
	release(clash, 2);
	be->close(s);
}

#define PER_REPLICA 300
#define GROUP 10

static void *replica(void *arg)
{
	const char *name = arg;
	struct cde_pg_store *s = open_store();
	struct cde_journal_entry e[GROUP];
	char id[64];
	int failures = 0;

	for (int g = 0; g < PER_REPLICA / GROUP; g++) {
		for (int i = 0; i < GROUP; i++) {
			snprintf(id, sizeof(id), "%s-%d", name, g * GROUP + i);
			entry(&e[i], id, name, "prod");
		}
		/* The same event from both replicas now and then: one stores it. */
		if (g % 5 == 0) {
			cde_event_unref(e[0].event);
			entry(&e[0], g % 10 ? "shared-odd" : "shared-even", "both", "prod");
		}
		failures += append(s, e, GROUP) < 0;
		release(e, GROUP);
	}
	be->close(s);
	return (void *)(intptr_t)failures;
}

static void two_replicas_at_once_never_fork_the_chain(void **state)
{
	pthread_t a, b;
	void *fa, *fb;
	PGconn *c;
	PGresult *res;

	(void)state;
	empty_log();
	assert_int_equal(pthread_create(&a, NULL, replica, "one"), 0);
	assert_int_equal(pthread_create(&b, NULL, replica, "two"), 0);
	pthread_join(a, &fa);
	pthread_join(b, &fb);
	assert_null(fa);
	assert_null(fb);
	/* Each replica's own events, minus the shared ones it replaced,
	 * plus the two shared events once each. */
	assert_int_equal(verify_chain(), 2 * (PER_REPLICA - PER_REPLICA / GROUP / 5) + 2);
	c = connect_test();
	res = PQexec(c, "SELECT count(*) FROM events WHERE id LIKE 'shared-%'");
	assert_true(cde_pg_ok(res, true));
	assert_int_equal(cde_pg_int(res, 0, 0), 2);
	PQclear(res);
	PQfinish(c);
}

/* The last seq retention deleted of @chain, as the gates read it. */
static uint64_t retired(PGconn *c, const char *chain)
{
	uint64_t seq = 99;

	assert_int_equal(cde_pg_chain_retired(c, chain, &seq), 0);
	return seq;
}

/* The last seq retention deleted of the rows naming @artifact. */
static uint64_t artifact_retired(PGconn *c, const char *artifact)
{
	uint64_t seq = 99;

	assert_int_equal(cde_pg_artifact_retired(c, artifact, &seq), 0);
	return seq;
}

/* Rows older than max_age go as a prefix, behind a marker that anchors
 * the rest of the chain; a sink's cursor holds back what it has yet to
 * deliver. Each chain the prefix cut is named in retired_chains, and each
 * artifact a deleted row named in retired_artifacts, with the last seq
 * deleted of it, in the same transaction. */
static void retention_deletes_a_prefix_on_the_record(void **state)
{
	struct cde_pg_store *s;
	struct cde_journal_entry e[6];
	struct cde_audit_retention policy = { .max_age_s = 86400 };
	struct cde_audit_retention_run run;
	char err[256] = "", id[16];
	PGconn *c;
	PGresult *res;

	(void)state;
	empty_log();
	c = connect_test();
	assert_int_equal(cde_pg_exec(c, "TRUNCATE retention, sink_cursors, retired_chains, retired_artifacts", err,
				     sizeof(err), "truncate"), 0);
	s = open_store();
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "old-%d", i);
		entry(&e[i], id, "svc", "prod");
		/* rows 1-2 in rel-a, 3-6 in rel-b */
		assert_int_equal(cde_event_set_chain_id(e[i].event, i < 2 ? "rel-a" : "rel-b"), 0);
		/* rows 1 and 3 name pkg:x, row 4 pkg:y, the others pkg:oci/etl@1 */
		if (i == 0 || i == 2 || i == 3)
			assert_true(cJSON_ReplaceItemInObjectCaseSensitive(cde_event_content(e[i].event), "artifactId",
									   cJSON_CreateString(i == 3 ? "pkg:y" : "pkg:x")));
		if (i < 4)	/* four old rows, two of today */
			snprintf(e[i].received_at, sizeof(e[i].received_at), "2000-01-01T00:00:00.000000Z");
	}
	assert_int_equal(append(s, e, 6), 0);
	/* A sink that has settled only up to seq 3 keeps row 4. */
	assert_int_equal(cde_pg_exec(c, "INSERT INTO sink_cursors VALUES ('lake', 3)", err, sizeof(err), "cursor"), 0);
	assert_int_equal(cde_pg_retain(s, &policy, (int64_t)time(NULL), &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 3);
	assert_int_equal(run.through_seq, 3);
	assert_non_null(strstr(run.reason, "max_age"));
	/* The marker's anchor is the hash row 4 names as its prev_hash. */
	res = PQexec(c, "SELECT r.anchor = e.prev_hash, r.seq FROM retention r, events e WHERE e.seq = 4");
	assert_true(cde_pg_ok(res, true));
	assert_string_equal(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	assert_int_equal(retired(c, "rel-a"), 2);
	assert_int_equal(retired(c, "rel-b"), 3);
	assert_int_equal(retired(c, "rel-c"), 0);
	assert_int_equal(artifact_retired(c, "pkg:x"), 3);
	assert_int_equal(artifact_retired(c, "pkg:y"), 0);
	assert_int_equal(artifact_retired(c, "pkg:oci/etl@1"), 2);
	assert_int_equal(cde_pg_exec(c, "UPDATE sink_cursors SET seq = 6", err, sizeof(err), "cursor"), 0);
	assert_int_equal(cde_pg_retain(s, &policy, (int64_t)time(NULL), &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 1);
	assert_int_equal(retired(c, "rel-b"), 4);
	assert_int_equal(retired(c, "rel-a"), 2);
	assert_int_equal(artifact_retired(c, "pkg:y"), 4);
	assert_int_equal(artifact_retired(c, "pkg:x"), 3);
	assert_int_equal(cde_pg_retain(s, &policy, (int64_t)time(NULL), &run, err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 0);
	/* The markers chain: the second names the first's hash. */
	res = PQexec(c, "SELECT count(*) FROM retention b JOIN retention a ON b.prev = a.hash");
	assert_true(cde_pg_ok(res, true));
	assert_int_equal(cde_pg_int(res, 0, 0), 1);
	PQclear(res);
	assert_int_equal(cde_pg_exec(c, "TRUNCATE retention, sink_cursors, retired_chains, retired_artifacts", err,
				     sizeof(err), "truncate"), 0);
	release(e, 6);
	be->close(s);
	PQfinish(c);
}

/* The C2SP signed-note test key (a public test vector). */
#define TEST_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"

static struct cde_note_signer *test_signer(void)
{
	struct cde_note_signer *signer;
	char err[256];

	assert_int_equal(cde_note_signer_parse(TEST_SKEY, &signer, err, sizeof(err)), 0);
	return signer;
}

static void append_n(struct cde_pg_store *s, const char *tag, int n)
{
	struct cde_journal_entry e[8];
	char id[32];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%d", tag, i);
		entry(&e[i], id, "svc", "prod");
	}
	assert_int_equal(append(s, e, (size_t)n), 0);
	release(e, (size_t)n);
}

/* Checkpoints are signed in the commit that brings the tree `every`
 * leaves past the latest one, whichever replica signed that; each names
 * the root of the tiles stored with it. */
static void replicas_sign_checkpoints_of_one_tree(void **state)
{
	struct cde_pg_store *a, *b;
	struct cde_note_verifier *v;
	char err[256], *note, *vkey;
	uint8_t root[CDE_TLOG_HASH_LEN], stored[CDE_TLOG_HASH_LEN];
	uint64_t size = 0;
	struct cde_note_signer *signer = test_signer();
	PGconn *c = connect_test();

	(void)state;
	empty_log();
	assert_int_equal(cde_pg_exec(c, "TRUNCATE tree_checkpoints", err, sizeof(err), "truncate"), 0);
	assert_int_equal(cde_note_signer_verifier_key(signer, &vkey), 0);
	assert_int_equal(cde_note_verifier_parse(vkey, &v, err, sizeof(err)), 0);
	a = open_store();
	b = open_store();
	assert_int_equal(cde_pg_store_set_signer(a, signer, 4, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_store_set_signer(b, test_signer(), 4, err, sizeof(err)), 0);
	append_n(a, "a", 5);
	note = be->take_checkpoint(a, &size);
	assert_non_null(note);
	assert_int_equal(size, 5);
	assert_int_equal(cde_audit_checkpoint_open(note, &v, 1, &size, root, NULL, 0, err, sizeof(err)), 0);
	stored_root(c, 5, stored);
	assert_memory_equal(root, stored, CDE_TLOG_HASH_LEN);
	free(note);
	/* b: two more, not yet due; its timer signs them. */
	append_n(b, "b", 2);
	assert_null(be->take_checkpoint(b, &size));
	assert_int_equal(be->sign_tree(b, err, sizeof(err)), 0);
	note = be->take_checkpoint(b, &size);
	assert_non_null(note);
	assert_int_equal(size, 7);
	free(note);
	/* a: two more make 9, 2 past b's checkpoint: not due. */
	append_n(a, "c", 2);
	assert_null(be->take_checkpoint(a, &size));
	assert_int_equal(be->signed_size(a), 7);
	assert_false(be->take_sign_error(a, err, sizeof(err)));
	/* A tree that is not the one the database's checkpoint signed is
	 * refused: a leaf hash changed under the tiles. */
	assert_int_equal(cde_pg_exec(c, "UPDATE tree_tiles SET hashes = overlay(hashes placing '\\x00'::bytea from 1"
				     " for 1) WHERE tile_level = 0 AND idx = 0", err, sizeof(err), "damage"), 0);
	assert_int_equal(cde_pg_store_set_signer(a, test_signer(), 4, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "lost or changed"));
	be->close(a);
	be->close(b);
	cde_note_verifier_free(v);
	free(vkey);
	PQfinish(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends_get_consecutive_seqs_on_one_chain),
		cmocka_unit_test(a_resend_is_a_duplicate_and_other_content_a_clash),
		cmocka_unit_test(two_replicas_at_once_never_fork_the_chain),
		cmocka_unit_test(retention_deletes_a_prefix_on_the_record),
		cmocka_unit_test(replicas_sign_checkpoints_of_one_tree),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
