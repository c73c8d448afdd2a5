#pragma once
/* The daemon's periodic chores (redis's serverCron): a timer on the loop
 * that turns what the journal's thread did into log lines. */

#include <event2/event.h>

#include "sinks/audit/journal.h"

struct cde_housekeeping;

/* Starts the timer on @base, watching @journal (borrowed; it must outlive
 * the housekeeping). Returns 0 or -ENOMEM. */
int cde_housekeeping_new(struct event_base *base, struct cde_journal *journal,
			 struct cde_housekeeping **ret);

/* Stops the timer; accepts NULL. */
void cde_housekeeping_free(struct cde_housekeeping *h);
