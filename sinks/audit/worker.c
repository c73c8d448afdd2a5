/* The worker thread of the audit log (see worker.h). Two lists under one
 * lock: the queue (loop -> thread) and the done list (thread -> loop);
 * event_active wakes the loop, a condition variable on the monotonic
 * clock wakes the thread, for an item or at the time of its next chore.
 * Stopping runs what is queued first, so an accepted item is always
 * answered. */

#include "sinks/audit/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct cde_worker {
	const struct cde_worker_ops *ops;
	void *ctx;
	struct event *completed;	/* activated by the thread, runs on the loop */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct cde_worker_item *queue, **queue_tail;	/* loop -> thread */
	struct cde_worker_item *done, **done_tail;	/* thread -> loop */
	bool stopping;
};

struct timespec cde_worker_deadline(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

bool cde_worker_due(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Under the lock: the whole queue (a group) or its first item. */
static struct cde_worker_item *take_work(struct cde_worker *w)
{
	struct cde_worker_item *work = w->queue;

	if (!work)
		return NULL;
	if (w->ops->group) {
		w->queue = NULL;
	} else {
		w->queue = work->next;
		work->next = NULL;
	}
	if (!w->queue)
		w->queue_tail = &w->queue;
	return work;
}

/* Under the lock: sleeps until there is work, the thread is stopping, or
 * the next chore is due. */
static void wait_for_work(struct cde_worker *w)
{
	struct timespec at;

	while (!w->queue && !w->stopping) {
		if (!w->ops->next_chore || !w->ops->next_chore(w->ctx, &at))
			pthread_cond_wait(&w->wake, &w->lock);
		else if (cde_worker_due(&at) || pthread_cond_timedwait(&w->wake, &w->lock, &at) == ETIMEDOUT)
			break;
	}
}

static void hand_back(struct cde_worker *w, struct cde_worker_item *work)
{
	pthread_mutex_lock(&w->lock);
	*w->done_tail = work;
	while (*w->done_tail)
		w->done_tail = &(*w->done_tail)->next;
	pthread_mutex_unlock(&w->lock);
	event_active(w->completed, EV_READ, 0);
}

static void *worker_main(void *arg)
{
	struct cde_worker *w = arg;

	if (w->ops->name)
		pthread_setname_np(pthread_self(), w->ops->name);
	for (;;) {
		struct cde_worker_item *work;
		bool stopping;

		pthread_mutex_lock(&w->lock);
		wait_for_work(w);
		work = take_work(w);
		stopping = w->stopping;
		pthread_mutex_unlock(&w->lock);

		if (work) {
			w->ops->run(w->ctx, work);
			hand_back(w, work);
		} else if (stopping) {
			break; /* nothing left to run */
		}
		if (!stopping && w->ops->chores)
			w->ops->chores(w->ctx);
	}
	return NULL;
}

/* On the loop: complete what the thread finished. */
static void on_completed(evutil_socket_t fd, short what, void *arg)
{
	struct cde_worker *w = arg;
	/* Read before the completions: one of them may free the worker. */
	void (*complete)(void *, struct cde_worker_item *) = w->ops->complete;
	void *ctx = w->ctx;
	struct cde_worker_item *done;

	pthread_mutex_lock(&w->lock);
	done = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	pthread_mutex_unlock(&w->lock);
	while (done) {
		struct cde_worker_item *next = done->next;

		complete(ctx, done);
		done = next;
	}
}

void cde_worker_submit(struct cde_worker *w, struct cde_worker_item *item)
{
	item->next = NULL;
	pthread_mutex_lock(&w->lock);
	*w->queue_tail = item;
	w->queue_tail = &item->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void cde_worker_submit_first(struct cde_worker *w, struct cde_worker_item *item)
{
	pthread_mutex_lock(&w->lock);
	item->next = w->queue;
	w->queue = item;
	if (w->queue_tail == &w->queue)
		w->queue_tail = &item->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

struct cde_worker *cde_worker_free(struct cde_worker *w)
{
	if (!w)
		return NULL;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		on_completed(-1, 0, w);
	}
	if (w->completed)
		event_free(w->completed);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

int cde_worker_new(struct event_base *base, const struct cde_worker_ops *ops, void *ctx,
		   struct cde_worker **ret)
{
	struct cde_worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int r;

	if (!w)
		return -ENOMEM;
	w->ops = ops;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	w->queue_tail = &w->queue;
	w->done_tail = &w->done;
	w->completed = event_new(base, -1, EV_READ, on_completed, w);
	if (!w->completed) {
		r = -ENOMEM;
		goto err_free;
	}
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0)
		goto err_free;
	w->started = true;
	*ret = w;
	return 0;

err_free:
	cde_worker_free(w);
	return r;
}
