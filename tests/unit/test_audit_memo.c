/* The writer's memo of correlation answers (audit_memo.h): it answers as
 * the log would, from the rows the writer stored; the daemon's own
 * events do not move a subject's chain; what is too long is not kept;
 * and a hook correlated after a rollback or after retention deleted the
 * rows is answered by the log, not by what was remembered. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"

#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_memo.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"

static struct cde_catalog *cat;
static char db_path[64];

static void the_latest_row_answers_and_own_events_do_not_move_a_subject(void **state)
{
	struct cde_audit_memo *m = cde_audit_memo_new();
	char out[64], longer[200];
	uint64_t seq = 0;

	(void)state;
	assert_non_null(m);
	assert_false(cde_audit_memo_subject(m, "etl", out, sizeof(out), &seq));
	cde_audit_memo_row(m, "etl", "chain-1", false, "ev-1", 1);
	cde_audit_memo_row(m, "etl", "chain-2", false, "ev-2", 2);
	cde_audit_memo_row(m, "etl", "chain-9", true, "gate-1", 3);
	assert_true(cde_audit_memo_subject(m, "etl", out, sizeof(out), &seq));
	assert_string_equal(out, "chain-2");
	assert_int_equal(seq, 2);
	/* A chain's latest event is any row's, the daemon's own too. */
	assert_true(cde_audit_memo_chain(m, "chain-9", out, sizeof(out)));
	assert_string_equal(out, "gate-1");
	/* A chain too long to keep: the subject's older answer goes. */
	memset(longer, 'c', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cde_audit_memo_row(m, "etl", longer, false, "ev-4", 4);
	assert_false(cde_audit_memo_subject(m, "etl", out, sizeof(out), &seq));
	/* An answer read that was cut to fit is not kept. */
	cde_audit_memo_subject_read(m, "svc", "chain-123456", 8, 5);
	assert_false(cde_audit_memo_subject(m, "svc", out, sizeof(out), &seq));
	cde_audit_memo_forget(m);
	assert_false(cde_audit_memo_chain(m, "chain-9", out, sizeof(out)));
	cde_audit_memo_free(m);
}

/* An event about @subject, in @chain, or (NULL) a hook the writer
 * correlates; its chainId after the append, or "" when not stored. */
static const char *append(struct cde_audit_store *s, const char *id, const char *subject, const char *chain,
			  bool commit, char *out, size_t size)
{
	struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1:4242", .correlate = !chain };
	char err[256];

	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.started.0.3.0", "/ci", subject,
				       &e.event), 0);
	assert_int_equal(cde_event_set_id(e.event, id), 0);
	if (chain)
		assert_int_equal(cde_event_set_chain_id(e.event, chain), 0);
	snprintf(e.received_at, sizeof(e.received_at), "2025-01-01T00:00:00.000000Z");
	assert_int_equal(cde_audit_store_begin(s, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_add(s, &e, 1, err, sizeof(err)), 0);
	if (commit)
		assert_int_equal(cde_audit_store_commit(s, err, sizeof(err)), 0);
	else
		cde_audit_store_rollback(s);
	snprintf(out, size, "%s", commit && cde_event_chain_id(e.event) ? cde_event_chain_id(e.event) : "");
	cde_event_unref(e.event);
	return out;
}

static struct cde_audit_store *fresh_store(void)
{
	struct cde_audit_store *s;
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-audit-memo-%d.db", (int)getpid());
	remove_store(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	return s;
}

static void a_hook_after_a_rollback_joins_the_chain_the_log_has(void **state)
{
	struct cde_audit_store *s = fresh_store();
	char chain[128];

	(void)state;
	append(s, "ev-1", "etl-42", "release-1", true, chain, sizeof(chain));
	append(s, "ev-2", "etl-42", "release-2", false, chain, sizeof(chain));
	assert_string_equal(append(s, "hook-1", "etl-42", NULL, true, chain, sizeof(chain)), "release-1");
	cde_audit_store_close(s);
	remove_store(db_path);
}

static void a_hook_after_retention_deleted_its_subject_starts_a_chain(void **state)
{
	struct cde_audit_store *s = fresh_store();
	struct cde_audit_retention_run run;
	char chain[128], err[256];

	(void)state;
	append(s, "ev-1", "etl-42", "release-1", true, chain, sizeof(chain));
	assert_string_equal(append(s, "hook-1", "etl-42", NULL, true, chain, sizeof(chain)), "release-1");
	/* Every row is older than a day on 2025-01-06. */
	assert_int_equal(cde_audit_retain(s, &(struct cde_audit_retention){ .max_age_s = 86400 }, 1736121600, &run,
					  err, sizeof(err)), 0);
	assert_int_equal(run.deleted, 2);
	append(s, "hook-2", "etl-42", NULL, true, chain, sizeof(chain));
	assert_string_not_equal(chain, "release-1");
	assert_string_not_equal(chain, "");
	cde_audit_store_close(s);
	remove_store(db_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_latest_row_answers_and_own_events_do_not_move_a_subject),
		cmocka_unit_test(a_hook_after_a_rollback_joins_the_chain_the_log_has),
		cmocka_unit_test(a_hook_after_retention_deleted_its_subject_starts_a_chain),
	};
	int r;

	cat = load_catalog();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cde_catalog_free(cat);
	return r;
}
