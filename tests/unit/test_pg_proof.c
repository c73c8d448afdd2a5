/* The transparency log served from PostgreSQL answers as from audit.db:
 * the same events written by the real stores to both give the same
 * signed checkpoint notes, the same inclusion and consistency proofs and
 * the same receipts, byte for byte, and each verifies with the public
 * key alone; errors (an unknown row, a size past the tree, a row altered
 * after it was stored) answer alike too; so do analyses submitted as
 * tasks, which outlive a lost session. Runs against the throwaway
 * cluster of tests/pg/cluster. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"
#include "tests/unit/pg_both.h"

#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_reader.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_proof.h"
#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/tlog/note_text.h"

static const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
static char db_path[64];
static struct cde_audit_store *lite;
static struct cde_pg_store *pg;
static struct cde_note_verifier *verifier;
static struct event_base *base;
static struct cde_audit_reader *rd_lite, *rd_pg;

/* Events e-FIRST .. e-(FIRST+N-1), one group, to both stores. */
static void append_both(int first, int n)
{
	pg_both_append(lite, pg, first, n, false);
}

/* Both stores sign their tree now (the writer's timer). */
static void sign_both(void)
{
	char err[256];

	assert_int_equal(cde_audit_store_sign_tree(lite, err, sizeof(err)), 0);
	assert_int_equal(be->sign_tree(pg, err, sizeof(err)), 0);
}

static void exec_pg(const char *sql)
{
	PGconn *c = cde_pg_store_conn(pg);
	char err[256];

	if (cde_pg_exec(c, sql, err, sizeof(err), "test") < 0)
		fail_msg("%s", err);
}

/* Five events (a checkpoint at 5, every 4), three more signed by the
 * timer (8), and two not yet signed: a tree of 10, its latest checkpoint
 * of 8. */
static int setup(void **state)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct cde_store_location at_pg = { .postgres = true, .pg = o };
	struct cde_pg_store_opened opened;
	char err[256];

	assert_int_equal(catalog_setup(state), 0);
	assert_non_null(o.url);
	snprintf(db_path, sizeof(db_path), "/tmp/cde-pg-proof-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &lite, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_signer(lite, pg_both_signer(), 4, err, sizeof(err)), 0);
	if (cde_pg_store_open(&o, NULL, 0, 0, &pg, &opened, err, sizeof(err)) < 0 ||
	    cde_pg_store_set_signer(pg, pg_both_signer(), 4, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	verifier = pg_both_verifier();
	append_both(1, 5);
	append_both(6, 3);
	sign_both();
	append_both(9, 2);
	base = event_base_new();
	assert_int_equal(cde_audit_reader_new(base, db_path, &rd_lite, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_reader_new_at(base, &at_pg, &rd_pg, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	cde_audit_reader_free(rd_lite);
	cde_audit_reader_free(rd_pg);
	event_base_free(base);
	cde_note_verifier_free(verifier);
	pg_both_close(lite, pg, db_path);
	return catalog_teardown(state);
}

struct answer {
	bool done;
	struct cde_audit_log_answer a;
};

static void on_log(void *ctx, struct cde_audit_log_answer *a)
{
	struct answer *got = ctx;

	got->done = true;
	got->a = *a;
}

static struct cde_audit_log_answer ask(struct cde_audit_reader *rd, const struct cde_audit_log_request *q)
{
	struct answer got = { 0 };
	struct timeval tick = { 0, 10000 };

	assert_int_equal(cde_audit_reader_submit_log(rd, q, on_log, &got), 0);
	for (int i = 0; i < 1000 && !got.done; i++) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_true(got.done);
	return got.a;
}

/* Asks both readers @q: the same status, reason and body, which is
 * returned (the PostgreSQL reader's; the caller frees it). */
static char *ask_both(const struct cde_audit_log_request *q, int status)
{
	struct cde_audit_log_answer a = ask(rd_pg, q), b = ask(rd_lite, q);

	if (a.status != status || b.status != status)
		fail_msg("PostgreSQL %d (%s), audit.db %d (%s), want %d", a.status, a.reason, b.status, b.reason,
			 status);
	assert_string_equal(a.reason, b.reason);
	assert_true(a.altered == b.altered);
	assert_true((a.param == NULL) == (b.param == NULL));
	if (a.param)
		assert_string_equal(a.param, b.param);
	if (status == 200)
		assert_string_equal(a.body, b.body);
	free(b.body);
	return a.body;
}

/* The size and root a signed @note names, checked with the key. */
static uint64_t open_note(const char *note, uint8_t root[CDE_TLOG_HASH_LEN])
{
	uint64_t size = 0;
	char err[256];

	if (cde_audit_checkpoint_open(note, &verifier, 1, &size, root, NULL, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return size;
}

static void verify_receipt(const cJSON *receipt, uint64_t seq, uint64_t size)
{
	struct cde_audit_receipt_check check;

	if (cde_audit_receipt_verify(receipt, &verifier, 1, &check) < 0)
		fail_msg("receipt of seq %llu: %s", (unsigned long long)seq, check.reason);
	assert_int_equal(check.tree_size, size);
	assert_int_equal(cJSON_GetObjectItem(receipt, "seq")->valuedouble, (double)seq);
}

static void the_latest_checkpoint_is_the_same_signed_note(void **state)
{
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_CHECKPOINT };
	uint8_t root[CDE_TLOG_HASH_LEN];
	char *note = ask_both(&q, 200);

	(void)state;
	assert_int_equal(open_note(note, root), 8);
	free(note);
}

static void inclusion_proofs_are_receipts_that_verify(void **state)
{
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_INCLUSION };
	cJSON *receipt;
	char *body;

	(void)state;
	/* In the latest checkpoint (8) by default, each a receipt. */
	for (q.seq = 1; q.seq <= 8; q.seq++) {
		body = ask_both(&q, 200);
		receipt = cJSON_Parse(body);
		verify_receipt(receipt, q.seq, 8);
		cJSON_Delete(receipt);
		free(body);
	}
	/* By source and id, in the checkpoint of 5. */
	q = (struct cde_audit_log_request){ .kind = CDE_AUDIT_LOG_INCLUSION, .source = "/ci", .id = "e-4", .size = 5 };
	body = ask_both(&q, 200);
	receipt = cJSON_Parse(body);
	verify_receipt(receipt, 4, 5);
	cJSON_Delete(receipt);
	free(body);
	/* In the whole tree (10), which no checkpoint signed: a proof
	 * without one. */
	q = (struct cde_audit_log_request){ .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 10, .size = 10 };
	body = ask_both(&q, 200);
	receipt = cJSON_Parse(body);
	assert_null(cJSON_GetObjectItem(receipt, "checkpoint"));
	assert_int_equal(cJSON_GetObjectItem(receipt, "leafIndex")->valuedouble, 9);
	cJSON_Delete(receipt);
	free(body);
}

static void consistency_proofs_link_the_signed_roots(void **state)
{
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_CONSISTENCY, .from = 5 };
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN], old_root[CDE_TLOG_HASH_LEN], root[CDE_TLOG_HASH_LEN];
	struct cde_audit_log_request at5 = { .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 1, .size = 5 };
	char *body = ask_both(&q, 200), *first = ask_both(&at5, 200);
	cJSON *doc = cJSON_Parse(body), *receipt = cJSON_Parse(first), *h;
	size_t count = 0;

	(void)state;
	/* From the checkpoint of 5 to the latest (8): both notes signed. */
	assert_int_equal(open_note(cJSON_GetObjectItem(receipt, "checkpoint")->valuestring, old_root), 5);
	assert_int_equal(open_note(cJSON_GetObjectItem(doc, "checkpoint")->valuestring, root), 8);
	assert_int_equal(cJSON_GetObjectItem(doc, "to")->valuedouble, 8);
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(doc, "consistencyProof")) {
		assert_true(count < CDE_TLOG_MAX_PROOF);
		assert_int_equal(cde_b64_decode(proof[count++], h->valuestring, strlen(h->valuestring)),
				 CDE_TLOG_HASH_LEN);
	}
	assert_true(count > 0);
	assert_int_equal(cde_tlog_verify_consistency(5, 8, proof, count, old_root, root), 0);
	cJSON_Delete(doc);
	cJSON_Delete(receipt);
	free(body);
	free(first);
	/* To the whole tree, past every checkpoint. */
	q = (struct cde_audit_log_request){ .kind = CDE_AUDIT_LOG_CONSISTENCY, .from = 3, .to = 10 };
	free(ask_both(&q, 200));
}

static void receipts_of_a_group_come_from_one_snapshot(void **state)
{
	static const uint64_t seqs[] = { 2, 5, 7 };
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_RECEIPTS, .seqs = seqs, .n_seqs = 3, .size = 8 };
	char *body = ask_both(&q, 200);
	cJSON *list = cJSON_Parse(body);

	(void)state;
	assert_int_equal(cJSON_GetArraySize(list), 3);
	for (int i = 0; i < 3; i++)
		verify_receipt(cJSON_GetArrayItem(list, i), seqs[i], 8);
	cJSON_Delete(list);
	free(body);
}

static void errors_answer_alike(void **state)
{
	struct cde_audit_log_request unknown = { .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 99 },
				     unsigned_yet = { .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 9 },
				     past = { .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 1, .size = 11 },
				     no_id = { .kind = CDE_AUDIT_LOG_INCLUSION, .source = "/ci", .id = "nope" },
				     backwards = { .kind = CDE_AUDIT_LOG_CONSISTENCY, .from = 9, .to = 8 },
				     beyond = { .kind = CDE_AUDIT_LOG_CONSISTENCY, .from = 1, .to = 11 };

	(void)state;
	free(ask_both(&unknown, 404));
	free(ask_both(&unsigned_yet, 409));	/* not in the checkpoint of 8 */
	free(ask_both(&past, 400));
	free(ask_both(&no_id, 404));
	free(ask_both(&backwards, 400));
	free(ask_both(&beyond, 400));
}

/* Last: it alters the stores. A row changed after it was stored no
 * longer hashes to its leaf: no proof, and the answer says so. */
static void an_altered_row_gets_no_proof(void **state)
{
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_INCLUSION, .seq = 3 };
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct cde_pg_proof p;
	cJSON *doc = NULL;
	char err[256];
	PGconn *c;

	(void)state;
	exec_pg("UPDATE events SET principal = 'mallory' WHERE seq = 3");
	assert_int_equal(sqlite3_exec(cde_audit_store_db(lite), "UPDATE events SET principal = 'mallory' WHERE seq = 3",
				      NULL, NULL, NULL), SQLITE_OK);
	free(ask_both(&q, 409));
	assert_true(ask(rd_pg, &q).altered);
	/* A source on a session of its own answers the same. */
	assert_int_equal(cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)), 0);
	assert_int_equal(cde_pg_proof_init(&p, c, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_proof_inclusion_from(&p.src, 3, 0, &doc, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "does not hash to its leaf"));
	assert_int_equal(cde_audit_proof_inclusion_from(&p.src, 4, 0, &doc, err, sizeof(err)), 0);
	cJSON_Delete(doc);
	cde_pg_proof_release(&p);
	PQfinish(c);
}

/* ---- analyses submitted to the reader as tasks ---- */

struct count_task {
	int fail_first_with;	/* what the first run returns, 0 for nothing */
	int runs;
	bool done;
	struct cde_audit_task_answer a;
};

static int count_record(void *ctx, const struct cde_audit_record *rec)
{
	(void)rec;
	++*(unsigned *)ctx;
	return 0;
}

/* Counts the log's records, as an analysis reads them. */
static int count_run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct count_task *t = ctx;
	struct cde_audit_filter all = { 0 };
	unsigned n = 0;
	int r;

	if (t->runs++ == 0 && t->fail_first_with)
		return t->fail_first_with;
	r = src->query(src->ctx, &all, count_record, &n);
	if (r < 0)
		return r;
	if (asprintf(&a->body, "%u", n) < 0)
		return -ENOMEM;
	a->status = 200;
	return 0;
}

static void count_done(void *ctx, struct cde_audit_task_answer *a)
{
	struct count_task *t = ctx;

	t->done = true;
	t->a = *a;
}

static struct count_task run_count(struct cde_audit_reader *rd, int fail_first_with)
{
	struct count_task t = { .fail_first_with = fail_first_with };
	struct timeval tick = { 0, 10000 };

	assert_int_equal(cde_audit_reader_submit_task(rd, count_run, count_done, &t), 0);
	for (int i = 0; i < 1000 && !t.done; i++) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_true(t.done);
	return t;
}

static void tasks_read_either_store_alike(void **state)
{
	struct count_task pg_t = run_count(rd_pg, 0), lite_t = run_count(rd_lite, 0);

	(void)state;
	assert_int_equal(pg_t.a.status, 200);
	assert_int_equal(lite_t.a.status, 200);
	assert_string_equal(pg_t.a.body, "10");
	assert_string_equal(lite_t.a.body, "10");
	free(pg_t.a.body);
	free(lite_t.a.body);
}

/* A server restart or a failover ends the reader's session: the task
 * runs again on a new one, from the start, and answers as if nothing
 * happened; a task that keeps failing answers 503 or 500, never a body. */
static void a_task_outlives_a_lost_session(void **state)
{
	struct count_task t;

	(void)state;
	exec_pg("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
		"WHERE application_name = 'cdeventsd reader'");
	t = run_count(rd_pg, 0);
	assert_int_equal(t.a.status, 200);
	assert_string_equal(t.a.body, "10");
	free(t.a.body);
	t = run_count(rd_pg, -ENOTCONN);
	assert_int_equal(t.runs, 2);
	assert_int_equal(t.a.status, 200);
	free(t.a.body);
	t = run_count(rd_lite, -EIO);
	assert_int_equal(t.runs, 1);
	assert_int_equal(t.a.status, 500);
	assert_null(t.a.body);
	assert_string_equal(t.a.reason, "the audit log could not be read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_latest_checkpoint_is_the_same_signed_note),
		cmocka_unit_test(inclusion_proofs_are_receipts_that_verify),
		cmocka_unit_test(consistency_proofs_link_the_signed_roots),
		cmocka_unit_test(receipts_of_a_group_come_from_one_snapshot),
		cmocka_unit_test(errors_answer_alike),
		cmocka_unit_test(tasks_read_either_store_alike),
		cmocka_unit_test(a_task_outlives_a_lost_session),
		cmocka_unit_test(an_altered_row_gets_no_proof),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
