/* Sinks with `upgrade_to: "0.5.1"`: an event of an older release goes out
 * in 0.5.1 shape (events/upgrade.h); the audit log and every other sink
 * keep it as received. The upgrade of a stored event is done once and
 * kept in a small cache by seq that the sinks share (they read the journal
 * at their own pace, so a sink within UPGRADE_CACHE events of another
 * finds the work done). What could not be kept is said once per sink and
 * event, in a log line naming the sink, the event and each dropped
 * pointer; an event with no 0.5.1 form goes out as received, with a line
 * saying why: a receiver gets every event either way. */

#include "sinks/delivery_upgrade.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/upgrade.h"

#define UPGRADE_CACHE 64

/* One stored event's upgrade, shared by the sinks. */
struct upgrade_entry {
	bool used;
	uint64_t seq;
	struct cde_event *up;	/* NULL: send as received */
	int result;		/* cde_upgrade's */
	char from[16];
	unsigned n_dropped;
	char dropped[512];	/* the dropped pointers, space-separated */
	char refusal[512];
};

static const char *const releases[CDE_UPGRADE_FROM_MAX] = { "0.1.2", "0.2.0", "0.3.0", "0.4.1" };

int cde_delivery_upgrade_setup(struct cde_delivery *d, const struct cde_delivery_options *opts, char *err,
			       size_t err_size)
{
	struct cde_errors errs;
	bool wanted = false;
	int r;

	for (size_t i = 0; i < opts->n_sinks; i++)
		wanted |= opts->sinks[i].upgrade_to[0] != '\0';
	if (!wanted)
		return 0;
	cde_errors_reset(&errs);
	r = cde_catalog_load_dir(opts->catalog_dir ? opts->catalog_dir : cde_catalog_default_dir(), &d->catalog,
				 &errs);
	if (r < 0) {
		snprintf(err, err_size, "upgrade_to: cannot load the catalog: %s%s%s",
			 errs.count ? errs.items[0].pointer : "", errs.count ? " " : "",
			 errs.count ? errs.items[0].reason : strerror(-r));
		return r;
	}
	d->upgrades = calloc(UPGRADE_CACHE, sizeof(*d->upgrades));
	if (!d->upgrades) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void cde_delivery_upgrade_release(struct cde_delivery *d)
{
	for (size_t i = 0; d->upgrades && i < UPGRADE_CACHE; i++)
		cde_event_unref(d->upgrades[i].up);
	free(d->upgrades);
	d->upgrades = NULL;
	d->catalog = cde_catalog_free(d->catalog);
}

/* Upgrades @ev (the row @seq) into @e. */
static void fill(struct cde_delivery *d, struct upgrade_entry *e, uint64_t seq, const struct cde_event *ev)
{
	struct cde_upgrade_notes *notes = malloc(sizeof(*notes));
	const char *from = cde_event_spec_version(ev);
	cJSON *doc = NULL;
	size_t n = 0;

	e->up = cde_event_unref(e->up);
	e->used = true;
	e->seq = seq;
	e->n_dropped = 0;
	e->dropped[0] = e->refusal[0] = '\0';
	snprintf(e->from, sizeof(e->from), "%s", from ? from : "");
	if (!notes) {
		e->result = -ENOMEM;
		snprintf(e->refusal, sizeof(e->refusal), "out of memory");
		return;
	}
	e->result = cde_upgrade(d->catalog, cde_event_json(ev), &doc, notes);
	if (e->result == 0 && (cde_event_from_json(doc, &e->up) < 0 ||
			       cde_event_set_upgraded_from(e->up, e->from) < 0)) {
		e->up = cde_event_unref(e->up);
		e->result = -ENOMEM;
		snprintf(notes->refusal, sizeof(notes->refusal), "out of memory");
	}
	for (size_t i = 0; e->result == 0 && i < notes->dropped.count && n < sizeof(e->dropped); i++)
		n += (size_t)snprintf(e->dropped + n, sizeof(e->dropped) - n, "%s%s", i ? " " : "",
				      notes->dropped.items[i].pointer);
	e->n_dropped = e->result == 0 ? (unsigned)(notes->dropped.count + notes->dropped.dropped) : 0;
	snprintf(e->refusal, sizeof(e->refusal), "%s", notes->refusal);
	free(notes);
}

static void count(struct sink *s, const struct upgrade_entry *e)
{
	for (size_t i = 0; i < CDE_UPGRADE_FROM_MAX; i++)
		if (strcmp(releases[i], e->from) == 0)
			s->upgrades[i]++;
	s->upgrade_dropped += e->n_dropped;
}

static void say(struct sink *s, const struct cde_event *ev, const struct upgrade_entry *e)
{
	const char *id = cde_event_id(ev), *type = cde_event_type(ev);

	if (!s->d->log.fn)
		return;
	if (!e->up) {
		const struct cde_delivery_log_field f[] = {
			{ "sink", s->cfg.name }, { "event", id ? id : "" }, { "type", type ? type : "" },
			{ "from", e->from }, { "reason", e->refusal },
		};

		s->d->log.fn(s->d->log.ctx, CDE_DELIVERY_LOG_WARN, "event sent as received: no 0.5.1 form", f, 5);
	} else if (e->n_dropped) {
		const struct cde_delivery_log_field f[] = {
			{ "sink", s->cfg.name }, { "event", id ? id : "" }, { "from", e->from }, { "dropped", e->dropped },
		};

		s->d->log.fn(s->d->log.ctx, CDE_DELIVERY_LOG_WARN, "event upgraded to 0.5.1 without fields it has no place for",
			     f, 4);
	}
}

struct cde_event *cde_delivery_upgrade(struct sink *s, uint64_t seq, struct cde_event *ev)
{
	struct cde_delivery *d = s->d;
	struct upgrade_entry *e;
	const char *version = cde_event_spec_version(ev);

	if (!s->cfg.upgrade_to[0] || !d->upgrades || !version || strcmp(version, CDE_UPGRADE_TARGET) == 0)
		return ev;
	e = &d->upgrades[seq % UPGRADE_CACHE];
	if (!e->used || e->seq != seq)
		fill(d, e, seq, ev);
	say(s, ev, e);
	if (e->result == -ENOMEM)
		e->used = false; /* try again for the next sink */
	if (!e->up) {
		s->upgrade_refused++;
		return ev;
	}
	count(s, e);
	cde_event_unref(ev);
	return cde_event_ref(e->up);
}

const char *cde_delivery_upgrade_release_name(size_t i)
{
	return i < CDE_UPGRADE_FROM_MAX ? releases[i] : NULL;
}
