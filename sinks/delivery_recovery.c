/* A sink's failures and recoveries, as the delivery engine handles them
 * beside its I/O: the last error GET /v1/sinks shows, cleared once
 * nothing waits for a retry any more, and the early retries when a
 * receiver comes back (the circuit of sink_health.c closes).
 *
 * Sending what waits at once, rather than when each backoff ends, keeps a
 * long outage from ending with a cursor held for minutes by the events
 * that happened to fail last. Two limits keep it from undoing backoff: a
 * receiver's Retry-After still holds, and an event goes early at most once
 * per backoff (cde_delivery_may_rush), so one the receiver keeps failing
 * among deliveries is not retried at every delivery. */

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "sinks/delivery_internal.h"
#include "sinks/delivery_policy.h"

void cde_delivery_note_error(struct sink *s, const char *what)
{
	snprintf(s->last_error, sizeof(s->last_error), "%s", what);
	cde_timestamp_now(s->last_error_at);
	s->recovered_error[0] = s->recovered_error_at[0] = s->recovered_at[0] = '\0';
}

void cde_delivery_note_success(struct sink *s)
{
	if (!s->last_error[0] || s->win.used > cde_window_in_flight(&s->win) ||
	    (s->wit.busy && evtimer_pending(s->wit.retry, NULL)))
		return;
	memcpy(s->recovered_error, s->last_error, sizeof(s->recovered_error));
	memcpy(s->recovered_error_at, s->last_error_at, sizeof(s->recovered_error_at));
	cde_timestamp_now(s->recovered_at);
	s->last_error[0] = s->last_error_at[0] = '\0';
}

bool cde_delivery_retry_early(struct event *retry, int64_t not_before_ms)
{
	int64_t now = cde_delivery_now_ms();
	struct timeval tv;

	if (!evtimer_pending(retry, NULL))
		return false;
	evtimer_del(retry);
	if (not_before_ms > now) {
		tv = cde_delivery_tv(not_before_ms - now);
		evtimer_add(retry, &tv);
	} else {
		event_active(retry, EV_TIMEOUT, 1);
	}
	return true;
}

void cde_delivery_rush(struct sink *s)
{
	for (unsigned i = 0; i < s->win.n; i++) {
		struct slot *slot = &s->slots[i];

		if (s->win.e[i].used && cde_delivery_may_rush(s->win.e[i].attempts, slot->rushed_after) &&
		    cde_delivery_retry_early(slot->retry, slot->not_before_ms))
			slot->rushed_after = s->win.e[i].attempts;
	}
	cde_delivery_witness_rush(s);
}
