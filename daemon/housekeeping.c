/* Housekeeping: once a second, compare the journal's counters with the
 * last look and log what changed: the store failing or recovering (with
 * the store's own reason, so an operator sees "disk full" rather than
 * "I/O error"), and retention runs. Library code never logs; this is how
 * its news reaches the log. */

#include "daemon/housekeeping.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon/log.h"

struct cde_housekeeping {
	struct event *timer;
	struct cde_journal *journal;
	struct cde_journal_stats last;
	bool was_ready;
};

static void look(struct cde_housekeeping *h)
{
	struct cde_journal *j = h->journal;
	struct cde_journal_stats now;
	char why[256] = "";
	bool ready = j->ops->ready(j->impl);

	j->ops->stats(j->impl, &now, why, sizeof(why));
	if (h->was_ready && !ready)
		cde_log(CDE_LOG_ERROR, "audit log cannot store events: %s; answering 503 and not ready"
			" until it can", why[0] ? why : "unknown reason");
	else if (!h->was_ready && ready)
		cde_log(CDE_LOG_INFO, "audit log stores events again; ready");
	if (now.retention_runs != h->last.retention_runs)
		cde_log(CDE_LOG_INFO, "retention: %llu events deleted, the chain now starts after seq %llu (%s)",
			now.retained_rows - h->last.retained_rows, now.retained_through, now.last_retention);
	if (now.retention_failures != h->last.retention_failures)
		cde_log(CDE_LOG_WARN, "retention failed, will try again: %s", now.last_retention);
	if (now.checkpoint_failures != h->last.checkpoint_failures)
		cde_log(CDE_LOG_ERROR, "audit log: a signed checkpoint could not be made (the events are stored; "
			"tried again at the next interval): %s", now.last_checkpoint_error);
	h->last = now;
	h->was_ready = ready;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	look(arg);
}

int cde_housekeeping_new(struct event_base *base, struct cde_journal *journal,
			 struct cde_housekeeping **ret)
{
	struct cde_housekeeping *h = calloc(1, sizeof(*h));
	struct timeval second = { .tv_sec = 1 };

	if (!h)
		return -ENOMEM;
	h->journal = journal;
	h->was_ready = true;
	h->timer = event_new(base, -1, EV_PERSIST, on_tick, h);
	if (!h->timer || event_add(h->timer, &second) < 0) {
		cde_housekeeping_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

void cde_housekeeping_free(struct cde_housekeeping *h)
{
	if (!h)
		return;
	if (h->timer)
		event_free(h->timer);
	free(h);
}
