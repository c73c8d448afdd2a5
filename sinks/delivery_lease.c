/* Leases: with several replicas on one PostgreSQL database, each sink is
 * delivered by the one replica holding its lease (delivery_store.h). The
 * delivery thread asks for the leases it lacks once a second (the tick)
 * and at start; SQLite hands every lease out at once.
 *
 * A sink is active only while leased and in step with the store. On
 * taking a lease, the sink is resynchronised: its window starts again
 * from the stored cursor (and witness cursor), which another replica may
 * have moved, once nothing of its own is in flight. On losing one (the
 * connection dropped: the server released the session's locks), its
 * retries stop at once; what is in flight finishes and is recorded (the
 * store only moves cursors forward, and a cursor covers settled rows
 * only), so at worst an event is delivered twice, never skipped.
 *
 * Rows other replicas commit: the store's socket (LISTEN cde_log) is on
 * this thread's loop, and a notification pumps every sink; the tick's
 * pump stays the safety net. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sinks/delivery_internal.h"
#include "sinks/delivery_store.h"

static void pump_all(struct cde_delivery *d)
{
	for (size_t i = 0; i < d->n_sinks; i++)
		event_active(d->sinks[i].pump, EV_READ, 0);
}

/* @s no longer holds its lease: nothing more starts. */
static void lose(struct sink *s)
{
	s->leased = false;
	for (unsigned i = 0; i < s->win.n; i++)
		if (s->win.e[i].used && !s->win.e[i].in_flight)
			evtimer_del(s->slots[i].retry);
	if (s->wit.busy && evtimer_pending(s->wit.retry, NULL)) {
		evtimer_del(s->wit.retry);
		cde_delivery_witness_drop(s);
	}
}

/* Starts @s again from the stored cursors, once nothing of its own is in
 * flight. 0, -EBUSY (later) or -EIO. */
static int resync(struct sink *s)
{
	struct cde_delivery *d = s->d;
	uint64_t cursor;

	if (cde_window_in_flight(&s->win) > 0 || (s->wit.busy && !evtimer_pending(s->wit.retry, NULL)))
		return -EBUSY;
	/* What this replica settled lands first, so the cursor read covers it. */
	if (cde_delivery_store_flush(d->store) < 0 || cde_delivery_store_cursor(d->store, s->cfg.name, &cursor) < 0)
		return -EIO;
	if (s->wit.on && cde_delivery_store_witness_cursor(d->store, s->cfg.name, &s->wit.cursor) < 0)
		return -EIO;
	for (unsigned i = 0; i < s->win.n; i++) {
		evtimer_del(s->slots[i].retry);
		s->slots[i].ev = cde_event_unref(s->slots[i].ev);
	}
	memset(s->win.e, 0, s->win.n * sizeof(*s->win.e));
	s->win.used = 0;
	s->win.fetched = cursor;
	s->cursor = s->stored_cursor = cursor;
	if (s->wit.on) {
		evtimer_del(s->wit.retry);
		cde_delivery_witness_drop(s);
	}
	return 0;
}

static void check_sink(struct sink *s, bool up)
{
	bool held = false;
	uint64_t cursor;

	if (up)
		cde_delivery_store_lease(s->d->store, s->cfg.name, &held);
	if (!held) {
		if (s->leased)
			lose(s);
		s->resync = true;
		/* Shown as the replica that holds it moves it. */
		if (up && cde_delivery_store_cursor(s->d->store, s->cfg.name, &cursor) == 0)
			s->cursor = cursor;
		return;
	}
	s->leased = true;
	if (s->resync && resync(s) == 0) {
		s->resync = false;
		event_active(s->pump, EV_READ, 0);
	}
}

void cde_delivery_leases_check(struct cde_delivery *d)
{
	d->store_up = cde_delivery_store_check(d->store) == 0;
	for (size_t i = 0; i < d->n_sinks; i++)
		check_sink(&d->sinks[i], d->store_up);
}

void cde_delivery_leases_news(struct cde_delivery *d)
{
	if (cde_delivery_store_news(d->store))
		pump_all(d);
}

static void on_news(evutil_socket_t fd, short what, void *arg)
{
	cde_delivery_leases_news(arg);
}

/* The store's socket changed: -1 before it closes (the connection was
 * lost, and the leases with it), then the new one. */
static void on_socket(void *ctx, int fd)
{
	struct cde_delivery *d = ctx;

	if (d->news) {
		event_free(d->news);
		d->news = NULL;
	}
	if (fd < 0) {
		for (size_t i = 0; i < d->n_sinks; i++)
			if (d->sinks[i].leased)
				lose(&d->sinks[i]);
		return;
	}
	d->news = event_new(d->base, fd, EV_READ | EV_PERSIST, on_news, d);
	if (d->news)
		event_add(d->news, NULL);
}

void cde_delivery_leases_setup(struct cde_delivery *d)
{
	for (size_t i = 0; i < d->n_sinks; i++)
		d->sinks[i].resync = true;
	cde_delivery_store_watch(d->store, on_socket, d);
	cde_delivery_leases_check(d);
}

void cde_delivery_leases_release(struct cde_delivery *d)
{
	if (d->store)
		cde_delivery_store_watch(d->store, NULL, NULL);
	if (d->news)
		event_free(d->news);
	d->news = NULL;
}

const char *cde_delivery_lease_name(const struct sink *s)
{
	if (s->leased)
		return "held";
	return s->d->store_up ? "other replica" : "database unreachable";
}
