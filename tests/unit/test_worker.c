/* The audit log's worker thread (sinks/audit/worker.c), on which the
 * reader and the journal's writer are built: items run on the thread in
 * order, one at a time or as a group, come back to the loop, and are all
 * answered when the worker stops; chores run when due without an item.
 * The journal's use of it is store.mjs's, crash.mjs's and lifecycle.mjs's. */

#include "tests/unit/helpers.h"

#include <pthread.h>
#include <stdatomic.h>

#include <event2/thread.h>

#include "sinks/audit/worker.h"

#define MAX_ITEMS 16

struct item {
	struct cde_worker_item link;
	int id;
	bool ran_off_loop;
};

/* What the worker did, as a test sees it. */
struct record {
	pthread_t loop;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t run_sizes[MAX_ITEMS];	/* items per run, in order */
	size_t runs;
	bool gate_closed;		/* run waits while true */
	bool running;
	int completed[MAX_ITEMS];	/* ids in completion order */
	size_t n_completed;
	bool completed_on_loop;
	atomic_int chores;
	unsigned chore_ms;		/* 0: no chores due */
};

static void run(void *ctx, struct cde_worker_item *items)
{
	struct record *rec = ctx;
	size_t n = 0;

	for (struct cde_worker_item *it = items; it; it = it->next, n++)
		CDE_WORKER_ENTRY(it, struct item, link)->ran_off_loop = !pthread_equal(pthread_self(), rec->loop);
	pthread_mutex_lock(&rec->lock);
	rec->running = true;
	pthread_cond_broadcast(&rec->changed);
	while (rec->gate_closed)
		pthread_cond_wait(&rec->changed, &rec->lock);
	rec->run_sizes[rec->runs++] = n;
	pthread_mutex_unlock(&rec->lock);
}

static void complete(void *ctx, struct cde_worker_item *it)
{
	struct record *rec = ctx;
	struct item *item = CDE_WORKER_ENTRY(it, struct item, link);

	assert_true(item->ran_off_loop);
	rec->completed_on_loop = rec->completed_on_loop && pthread_equal(pthread_self(), rec->loop);
	rec->completed[rec->n_completed++] = item->id;
}

static bool next_chore(void *ctx, struct timespec *at)
{
	struct record *rec = ctx;

	if (!rec->chore_ms)
		return false;
	*at = cde_worker_deadline(rec->chore_ms);
	return true;
}

static void chores(void *ctx)
{
	struct record *rec = ctx;

	atomic_fetch_add(&rec->chores, 1);
}

static const struct cde_worker_ops single_ops = { .run = run, .complete = complete };
static const struct cde_worker_ops group_ops = { .run = run, .group = true, .complete = complete };
static const struct cde_worker_ops chore_ops = {
	.run = run, .group = true, .next_chore = next_chore, .chores = chores, .complete = complete,
};

struct fixture {
	struct event_base *base;
	struct record rec;
	struct item items[MAX_ITEMS];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->rec.loop = pthread_self();
	pthread_mutex_init(&f->rec.lock, NULL);
	pthread_cond_init(&f->rec.changed, NULL);
	f->rec.completed_on_loop = true;
	for (int i = 0; i < MAX_ITEMS; i++)
		f->items[i].id = i;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	event_base_free(f->base);
	pthread_cond_destroy(&f->rec.changed);
	pthread_mutex_destroy(&f->rec.lock);
	free(f);
	return 0;
}

/* Runs the loop until @n items are completed (or 10 s pass). */
static void loop_until_completed(struct fixture *f, size_t n)
{
	struct timespec end = cde_worker_deadline(10000);

	while (f->rec.n_completed < n && !cde_worker_due(&end)) {
		struct timeval tick = { 0, 10000 };

		event_base_loopexit(f->base, &tick);
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	assert_int_equal(f->rec.n_completed, n);
}

static void wait_until_running(struct record *rec)
{
	pthread_mutex_lock(&rec->lock);
	while (!rec->running)
		pthread_cond_wait(&rec->changed, &rec->lock);
	pthread_mutex_unlock(&rec->lock);
}

static void open_gate(struct record *rec)
{
	pthread_mutex_lock(&rec->lock);
	rec->gate_closed = false;
	pthread_cond_broadcast(&rec->changed);
	pthread_mutex_unlock(&rec->lock);
}

static void items_run_off_the_loop_and_complete_on_it_in_order(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	assert_int_equal(cde_worker_new(f->base, &single_ops, &f->rec, &w), 0);
	for (int i = 0; i < 3; i++)
		cde_worker_submit(w, &f->items[i].link);
	loop_until_completed(f, 3);
	assert_int_equal(f->rec.completed[0], 0);
	assert_int_equal(f->rec.completed[1], 1);
	assert_int_equal(f->rec.completed[2], 2);
	assert_true(f->rec.completed_on_loop);
	assert_null(cde_worker_free(w));
}

/* Submits item 0, holds the thread in its run, queues 1 to 3 meanwhile. */
static void queue_behind_a_running_item(struct fixture *f, struct cde_worker *w)
{
	f->rec.gate_closed = true;
	cde_worker_submit(w, &f->items[0].link);
	wait_until_running(&f->rec);
	for (int i = 1; i < 4; i++)
		cde_worker_submit(w, &f->items[i].link);
	open_gate(&f->rec);
	loop_until_completed(f, 4);
}

static void a_group_worker_takes_everything_queued_since_its_last_run(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	assert_int_equal(cde_worker_new(f->base, &group_ops, &f->rec, &w), 0);
	queue_behind_a_running_item(f, w);
	assert_int_equal(f->rec.runs, 2);
	assert_int_equal(f->rec.run_sizes[0], 1);
	assert_int_equal(f->rec.run_sizes[1], 3);
	for (int i = 0; i < 4; i++)
		assert_int_equal(f->rec.completed[i], i);
	cde_worker_free(w);
}

static void a_single_worker_runs_queued_items_one_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	assert_int_equal(cde_worker_new(f->base, &single_ops, &f->rec, &w), 0);
	queue_behind_a_running_item(f, w);
	assert_int_equal(f->rec.runs, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f->rec.run_sizes[i], 1);
		assert_int_equal(f->rec.completed[i], i);
	}
	cde_worker_free(w);
}

static void stopping_runs_and_completes_everything_queued(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	assert_int_equal(cde_worker_new(f->base, &single_ops, &f->rec, &w), 0);
	for (int i = 0; i < MAX_ITEMS; i++)
		cde_worker_submit(w, &f->items[i].link);
	cde_worker_free(w);
	assert_int_equal(f->rec.runs, MAX_ITEMS);
	assert_int_equal(f->rec.n_completed, MAX_ITEMS);
	for (int i = 0; i < MAX_ITEMS; i++)
		assert_int_equal(f->rec.completed[i], i);
	assert_true(f->rec.completed_on_loop);
}

/* Polls until the thread has done @n chores (or 10 s pass). */
static int wait_for_chores(struct record *rec, int n)
{
	struct timespec end = cde_worker_deadline(10000);

	while (atomic_load(&rec->chores) < n && !cde_worker_due(&end))
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	return atomic_load(&rec->chores);
}

static void a_due_chore_wakes_the_thread_without_an_item(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	f->rec.chore_ms = 20;
	assert_int_equal(cde_worker_new(f->base, &chore_ops, &f->rec, &w), 0);
	assert_true(wait_for_chores(&f->rec, 3) >= 3);
	assert_int_equal(f->rec.runs, 0);
	cde_worker_free(w);
}

static void chores_follow_each_run(void **state)
{
	struct fixture *f = *state;
	struct cde_worker *w = NULL;

	assert_int_equal(cde_worker_new(f->base, &chore_ops, &f->rec, &w), 0);
	cde_worker_submit(w, &f->items[0].link);
	loop_until_completed(f, 1);
	assert_int_equal(wait_for_chores(&f->rec, 1), 1);
	cde_worker_free(w);
}

static void a_deadline_is_due_once_it_has_passed(void **state)
{
	struct timespec now = cde_worker_deadline(0), later = cde_worker_deadline(60000);

	assert_true(cde_worker_due(&now));
	assert_false(cde_worker_due(&later));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(items_run_off_the_loop_and_complete_on_it_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(a_group_worker_takes_everything_queued_since_its_last_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_single_worker_runs_queued_items_one_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(stopping_runs_and_completes_everything_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(a_due_chore_wakes_the_thread_without_an_item, setup, teardown),
		cmocka_unit_test_setup_teardown(chores_follow_each_run, setup, teardown),
		cmocka_unit_test(a_deadline_is_due_once_it_has_passed),
	};

	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
