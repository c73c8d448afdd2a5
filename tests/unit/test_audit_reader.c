/* The audit reader's queue (sinks/audit/audit_reader.c): it holds at
 * most CDE_AUDIT_READER_QUEUE_MAX jobs, refusing more as busy (a 503 for
 * the client) instead of queueing without bound behind a slow answer; an
 * urgent task (an enforced gate holding a deployment, a change ticket)
 * is never refused and runs before everything waiting. */

#include "tests/unit/helpers.h"

#include <unistd.h>

#include "sinks/audit/audit_reader.h"
#include "sinks/audit/audit_store.h"

static int gate_fd[2];		/* the first task waits on it */
static int started_fd[2];	/* and says here that it holds the thread */
static int ran[CDE_AUDIT_READER_QUEUE_MAX + 8];
static int n_ran, n_done;

struct tagged {
	int tag;
};

/* On the reader's thread, one task at a time: no lock needed. */
static int record_run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct tagged *t = ctx;
	char c;

	(void)src;
	if (t->tag == 0 && (write(started_fd[1], "s", 1) != 1 || read(gate_fd[0], &c, 1) != 1))
		return -EIO;
	ran[n_ran++] = t->tag;
	a->status = 200;
	return 0;
}

static void record_done(void *ctx, struct cde_audit_task_answer *a)
{
	(void)ctx;
	free(a->body);
	n_done++;
}

static void the_queue_is_bounded_and_urgent_tasks_go_first(void **state)
{
	static struct tagged tags[CDE_AUDIT_READER_QUEUE_MAX + 2];
	struct event_base *base = event_base_new();
	char path[64], err[256];
	struct cde_audit_store *store;
	struct cde_audit_reader *rd;
	struct cde_audit_request q = { 0 };
	struct timeval tick = { 0, 10000 };

	(void)state;
	snprintf(path, sizeof(path), "/tmp/cde-reader-%d.db", (int)getpid());
	unlink(path);
	assert_int_equal(pipe(gate_fd), 0);
	assert_int_equal(pipe(started_fd), 0);
	assert_int_equal(cde_audit_store_open(path, false, CDE_AUDIT_SYNC_NORMAL, &store, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_reader_new(base, path, &rd, err, sizeof(err)), 0);
	/* One task holds the thread; the queue fills behind it. */
	for (int i = 0; i < CDE_AUDIT_READER_QUEUE_MAX; i++) {
		char c;

		tags[i].tag = i;
		assert_int_equal(cde_audit_reader_submit_task(rd, record_run, record_done, &tags[i]), 0);
		if (i == 0)
			assert_int_equal(read(started_fd[0], &c, 1), 1);
	}
	assert_int_equal(cde_audit_reader_submit_task(rd, record_run, record_done, &tags[0]), -EBUSY);
	assert_int_equal(cde_audit_reader_submit(rd, &q, NULL, NULL), -EBUSY);
	tags[CDE_AUDIT_READER_QUEUE_MAX].tag = 9999;
	assert_int_equal(cde_audit_reader_submit_urgent_task(rd, record_run, record_done,
							     &tags[CDE_AUDIT_READER_QUEUE_MAX]), 0);
	assert_int_equal(write(gate_fd[1], "g", 1), 1);
	for (int i = 0; i < 2000 && n_done < CDE_AUDIT_READER_QUEUE_MAX + 1; i++) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_int_equal(n_done, CDE_AUDIT_READER_QUEUE_MAX + 1);
	/* the urgent task ran as soon as the thread was free, ahead of the queue */
	assert_int_equal(ran[0], 0);
	assert_int_equal(ran[1], 9999);
	assert_int_equal(ran[2], 1);
	assert_int_equal(ran[CDE_AUDIT_READER_QUEUE_MAX], CDE_AUDIT_READER_QUEUE_MAX - 1);
	/* drained: taken again */
	tags[CDE_AUDIT_READER_QUEUE_MAX + 1].tag = 7;
	assert_int_equal(cde_audit_reader_submit_task(rd, record_run, record_done,
						      &tags[CDE_AUDIT_READER_QUEUE_MAX + 1]), 0);
	cde_audit_reader_free(rd);
	assert_int_equal(n_done, CDE_AUDIT_READER_QUEUE_MAX + 2);
	cde_audit_store_close(store);
	event_base_free(base);
	close(gate_fd[0]);
	close(gate_fd[1]);
	close(started_fd[0]);
	close(started_fd[1]);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_queue_is_bounded_and_urgent_tasks_go_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
