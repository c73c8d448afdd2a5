/* The DORA keys (dora.h) from the audit log, in three reads: the
 * deployments and rollbacks, the incidents, then the changes and builds
 * of the chains deployed in the window. Every time is when the event
 * happened (context.timestamp), not when the log received it.
 *
 * A failure belongs to one deployment: a rollback to the latest
 * deployment of that service in that environment before it; an incident
 * to the latest deployment of the service it names in its environment,
 * or when it names only an artifact, to the latest deployment of that
 * artifact there. It makes that deployment failed when it came within
 * the failure window. Attributing each failure once keeps a burst of
 * deployments before one incident from counting as many failures. */

#include "sinks/audit/answers/dora.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sinks/audit/answers/answer_list.h"
#include "sinks/audit/answers/dora_internal.h"

static bool before_or_at(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static bool in_window(const struct dora_run *run, const struct timespec *t)
{
	return t->tv_sec > run->p->now - run->p->window_s && t->tv_sec <= run->p->now;
}

static bool keep_deploy(const struct cde_answer_event *e, void *ctx)
{
	const struct dora_run *run = ctx;
	const char *env = cde_answer_event_ref(e, "environment");

	return env && e->time.tv_sec <= run->p->now && cde_answer_event_ref(e, "artifactId") &&
	       (!run->p->service || strcmp(e->subject_id, run->p->service) == 0);
}

static bool keep_incident(const struct cde_answer_event *e, void *ctx)
{
	const struct dora_run *run = ctx;

	return cde_answer_event_ref(e, "environment") && e->time.tv_sec <= run->p->now;
}

/* Fills @l with the records of each of @types (NULL-terminated). */
static int fill_types(struct cde_answer_list *l, const struct dora_run *run, const char *const *types,
		      cde_answer_keep_fn keep)
{
	int r = 0;

	for (size_t i = 0; types[i] && r == 0; i++) {
		struct cde_audit_filter f = { .type = types[i], .environment = run->p->environment,
					      .since = run->since };

		r = cde_answer_list_fill(l, run->src, &f, keep, (void *)run);
	}
	cde_answer_list_sort(l);
	return r;
}

static struct dora_pair *pair_of(struct dora_run *run, const char *service, const char *environment,
				 bool create)
{
	struct dora_pair *grown;

	for (size_t i = 0; i < run->n_pairs; i++)
		if (strcmp(run->pairs[i].service, service) == 0 && strcmp(run->pairs[i].environment, environment) == 0)
			return &run->pairs[i];
	if (!create)
		return NULL;
	grown = cde_answer_grow(run->pairs, &run->cap_pairs, run->n_pairs, sizeof(run->pairs[0]));
	if (!grown)
		return NULL;
	run->pairs = grown;
	run->pairs[run->n_pairs] = (struct dora_pair){ .service = service, .environment = environment };
	return &run->pairs[run->n_pairs++];
}

static int push_deploy(struct dora_pair *p, const struct cde_answer_event *e)
{
	struct dora_deploy *grown;

	grown = cde_answer_grow(p->v, &p->cap, p->n, sizeof(p->v[0]));
	if (!grown)
		return -ENOMEM;
	p->v = grown;
	p->v[p->n++] = (struct dora_deploy){
		.e = e, .artifact = cde_answer_event_ref(e, "artifactId"),
		.rollback = strcmp(e->predicate, "rolledback") == 0,
	};
	return 0;
}

/* The latest deployment (not rollback) of @p at or before @t whose
 * artifact is @artifact (NULL: any), or NULL. */
static struct dora_deploy *latest_before(struct dora_pair *p, const struct timespec *t, const char *artifact)
{
	for (size_t i = p->n; i-- > 0;)
		if (!p->v[i].rollback && before_or_at(&p->v[i].e->time, t) &&
		    (!artifact || strcmp(p->v[i].artifact, artifact) == 0))
			return &p->v[i];
	return NULL;
}

/* Marks @d failed when @signal came within the failure window after it. */
static void blame(const struct dora_run *run, struct dora_deploy *d, const struct timespec *signal)
{
	if (d && cde_answer_seconds(signal, &d->e->time) <= (double)run->p->failure_window_s)
		d->failed = true;
}

static int read_deploys(struct dora_run *run)
{
	static const char *const types[] = {
		"dev.cdevents.service.deployed", "dev.cdevents.service.upgraded", "dev.cdevents.service.rolledback", NULL,
	};
	int r = fill_types(&run->deploys, run, types, keep_deploy);

	for (size_t i = 0; i < run->deploys.n && r == 0; i++) {
		const struct cde_answer_event *e = &run->deploys.v[i];
		struct dora_pair *p = pair_of(run, e->subject_id, cde_answer_event_ref(e, "environment"), true);

		r = p ? push_deploy(p, e) : -ENOMEM;
		if (r == 0 && p->v[p->n - 1].rollback)
			blame(run, latest_before(p, &e->time, NULL), &e->time);
	}
	return r;
}

static struct dora_incident *incident_of(struct dora_run *run, const char *id)
{
	for (size_t i = 0; i < run->n_incidents; i++)
		if (strcmp(run->incidents[i].id, id) == 0)
			return &run->incidents[i];
	return NULL;
}

/* The deployment an incident that starts with @e follows, and its pair. */
static struct dora_deploy *incident_cause(struct dora_run *run, const struct cde_answer_event *e,
					  struct dora_pair **ret_pair, bool *oom)
{
	const char *env = cde_answer_event_ref(e, "environment"), *service = cde_answer_event_ref(e, "service");
	const char *artifact = cde_answer_event_ref(e, "artifactId");
	struct dora_deploy *best = NULL, *d;

	*ret_pair = NULL;
	*oom = false;
	/* An incident in the window naming its service belongs to it there
	 * even when no deployment of it was read (none since the read's
	 * bound): its time to restore still counts. */
	if (service) {
		bool asked = !run->p->service || strcmp(service, run->p->service) == 0;

		bool create = asked && cde_dora_in_window(run, &e->time);

		*ret_pair = pair_of(run, service, env, create);
		*oom = create && !*ret_pair;
		return *ret_pair ? latest_before(*ret_pair, &e->time, NULL) : NULL;
	}
	for (size_t i = 0; artifact && i < run->n_pairs; i++) {
		if (strcmp(run->pairs[i].environment, env) != 0)
			continue;
		d = latest_before(&run->pairs[i], &e->time, artifact);
		if (d && (!best || before_or_at(&best->e->time, &d->e->time))) {
			best = d;
			*ret_pair = &run->pairs[i];
		}
	}
	return best;
}

static int start_incident(struct dora_run *run, const struct cde_answer_event *e)
{
	struct dora_incident *grown;
	struct dora_pair *pair;
	bool oom;
	struct dora_deploy *cause = incident_cause(run, e, &pair, &oom);

	if (oom)
		return -ENOMEM;
	blame(run, cause, &e->time);
	grown = cde_answer_grow(run->incidents, &run->cap_incidents, run->n_incidents, sizeof(run->incidents[0]));
	if (!grown)
		return -ENOMEM;
	run->incidents = grown;
	run->incidents[run->n_incidents++] = (struct dora_incident){
		.id = e->subject_id, .start = e->time, .pair = pair,
	};
	return 0;
}

static int read_incidents(struct dora_run *run)
{
	static const char *const types[] = {
		"dev.cdevents.incident.detected", "dev.cdevents.incident.reported", "dev.cdevents.incident.resolved", NULL,
	};
	int r = fill_types(&run->incident_events, run, types, keep_incident);

	for (size_t i = 0; i < run->incident_events.n && r == 0; i++) {
		const struct cde_answer_event *e = &run->incident_events.v[i];
		struct dora_incident *inc = incident_of(run, e->subject_id);

		if (strcmp(e->predicate, "resolved") == 0) {
			if (inc && !inc->resolved) {
				inc->resolved = true;
				inc->end = e->time;
			}
		} else if (!inc) {
			r = start_incident(run, e);
		}
	}
	return r;
}

void cde_dora_run_release(struct dora_run *run)
{
	for (size_t i = 0; i < run->n_pairs; i++)
		free(run->pairs[i].v);
	free(run->pairs);
	free(run->incidents);
	free(run->chains);
	cde_answer_list_release(&run->deploys);
	cde_answer_list_release(&run->incident_events);
}

/* How far before the window the log is read: a deployment in the
 * failure window before it may be the one a failure in it belongs to,
 * and a day more because the log bounds by when it received an event,
 * the keys by when the producer says it happened. Older history is never
 * read: the work is the window's, not the log's length. */
#define DORA_CLOCK_MARGIN_S 86400

static int set_since(struct dora_run *run)
{
	time_t since = (time_t)(run->p->now - run->p->window_s - run->p->failure_window_s - DORA_CLOCK_MARGIN_S);
	struct tm tm;

	if (since < 0)
		since = 0;
	if (!gmtime_r(&since, &tm) || !strftime(run->since, sizeof(run->since), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -EINVAL;
	return 0;
}

int cde_dora_compute(const struct cde_audit_source *src, const struct cde_dora_params *p,
		     struct cde_dora_report *ret)
{
	struct dora_run run = { .src = src, .p = p };
	struct cde_dora_report out = { 0 };
	int r = set_since(&run);

	if (r == 0)
		r = read_deploys(&run);

	if (r == 0)
		r = read_incidents(&run);
	if (r == 0)
		r = cde_dora_read_chains(&run);
	if (r == 0)
		r = cde_dora_run_report(&run, &out);
	cde_dora_run_release(&run);
	if (r < 0) {
		cde_dora_report_release(&out);
		return r;
	}
	*ret = out;
	return 0;
}

bool cde_dora_in_window(const struct dora_run *run, const struct timespec *t)
{
	return in_window(run, t);
}
