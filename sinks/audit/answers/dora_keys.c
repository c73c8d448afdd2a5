/* The DORA keys of each service and environment from what dora.c read:
 * the lead time of a deployment runs from its chain's change merged, or
 * failing that its chain's first build, to the deployment; the time to
 * restore from an incident's first detected or reported event to its
 * resolution, or failing that to the service's next deployment or
 * rollback there (an incident still open has none yet). Both are
 * medians, as the DORA reports give them. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/dora_internal.h"

static int by_id(const void *pa, const void *pb)
{
	return strcmp(((const struct dora_chain *)pa)->id, ((const struct dora_chain *)pb)->id);
}

static struct dora_chain *chain_of(const struct dora_run *run, const char *id)
{
	struct dora_chain key = { .id = id };

	if (!*id || !run->n_chains)
		return NULL;
	return bsearch(&key, run->chains, run->n_chains, sizeof(key), by_id);
}

static bool earlier(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Keeps nothing: notes the earliest merge and the earliest build of the
 * chain @ctx. */
static bool note_start(const struct cde_answer_event *e, void *ctx)
{
	struct dora_chain *c = ctx;

	if (e->custom)
		return false;
	if (cde_answer_event_is(e, "change", "merged")) {
		if (!c->has_merged || earlier(&e->time, &c->merged))
			c->merged = e->time;
		c->has_merged = true;
	} else if (strcmp(e->subject_type, "build") == 0) {	/* queued, started, finished */
		if (!c->has_built || earlier(&e->time, &c->built))
			c->built = e->time;
		c->has_built = true;
	}
	return false;
}

static int collect_chains(struct dora_run *run)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < run->n_pairs; i++)
		n += run->pairs[i].n;
	if (!n)
		return 0;
	run->chains = calloc(n, sizeof(*run->chains));
	if (!run->chains)
		return -ENOMEM;
	for (size_t i = 0; i < run->n_pairs; i++)
		for (size_t j = 0; j < run->pairs[i].n; j++) {
			const struct cde_answer_event *e = run->pairs[i].v[j].e;

			if (*e->chain_id && !run->pairs[i].v[j].rollback && cde_dora_in_window(run, &e->time))
				run->chains[k++].id = e->chain_id;
		}
	qsort(run->chains, k, sizeof(*run->chains), by_id);
	for (size_t i = 0; i < k; i++)
		if (!run->n_chains || strcmp(run->chains[i].id, run->chains[run->n_chains - 1].id) != 0)
			run->chains[run->n_chains++] = run->chains[i];
	return 0;
}

/* One read per chain, by the log's chain index: a release's chain holds
 * tens of events, where reading every build ever made would grow with
 * the log. */
int cde_dora_read_chains(struct dora_run *run)
{
	struct cde_answer_list none = { 0 };
	int r = collect_chains(run);

	for (size_t i = 0; i < run->n_chains && r == 0; i++) {
		struct cde_audit_filter f = { .chain_id = run->chains[i].id };

		r = cde_answer_list_fill(&none, run->src, &f, note_start, &run->chains[i]);
	}
	cde_answer_list_release(&none);
	return r;
}

static int by_value(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

/* The median of @n values (sorted here), the mean of the middle two
 * when @n is even. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void lead_times(const struct dora_run *run, const struct dora_pair *p, struct cde_dora_keys *k, double *buf)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct dora_deploy *d = &p->v[i];
		const struct dora_chain *c;
		const struct timespec *from;

		if (d->rollback || !cde_dora_in_window(run, &d->e->time))
			continue;
		k->deployments++;
		k->failed += d->failed;
		c = chain_of(run, d->e->chain_id);
		from = !c ? NULL : c->has_merged ? &c->merged : c->has_built ? &c->built : NULL;
		if (from && !earlier(&d->e->time, from))
			buf[n++] = cde_answer_seconds(&d->e->time, from);
	}
	k->lead_samples = (unsigned)n;
	k->lead_median_s = n ? median(buf, n) : 0;
}

/* The end of @inc: its resolution, or the next deployment or rollback of
 * its service after it started; NULL while it is open. */
static const struct timespec *restored_at(const struct dora_incident *inc)
{
	if (inc->resolved)
		return &inc->end;
	for (size_t i = 0; i < inc->pair->n; i++)
		if (earlier(&inc->start, &inc->pair->v[i].e->time))
			return &inc->pair->v[i].e->time;
	return NULL;
}

static void restore_times(const struct dora_run *run, const struct dora_pair *p, struct cde_dora_keys *k,
			  double *buf)
{
	size_t n = 0;

	for (size_t i = 0; i < run->n_incidents; i++) {
		const struct dora_incident *inc = &run->incidents[i];
		const struct timespec *end;

		if (inc->pair != p || !cde_dora_in_window(run, &inc->start))
			continue;
		end = restored_at(inc);
		if (end && end->tv_sec <= run->p->now)
			buf[n++] = cde_answer_seconds(end, &inc->start);
	}
	k->restore_samples = (unsigned)n;
	k->restore_median_s = n ? median(buf, n) : 0;
}

static void band_keys(struct cde_dora_keys *k)
{
	k->band[CDE_DORA_FREQUENCY] = cde_dora_band_of(CDE_DORA_FREQUENCY, k->per_day);
	k->band[CDE_DORA_LEAD_TIME] = k->lead_samples ? cde_dora_band_of(CDE_DORA_LEAD_TIME, k->lead_median_s)
						      : CDE_DORA_NO_BAND;
	k->band[CDE_DORA_FAILURE_RATE] = k->deployments ? cde_dora_band_of(CDE_DORA_FAILURE_RATE,
									   (double)k->failed / k->deployments)
							: CDE_DORA_NO_BAND;
	k->band[CDE_DORA_RESTORE] = k->restore_samples ? cde_dora_band_of(CDE_DORA_RESTORE, k->restore_median_s)
						       : CDE_DORA_NO_BAND;
}

static int by_pair(const void *pa, const void *pb)
{
	const struct cde_dora_keys *a = pa, *b = pb;
	int c = strcmp(a->service, b->service);

	return c ? c : strcmp(a->environment, b->environment);
}

int cde_dora_run_report(struct dora_run *run, struct cde_dora_report *out)
{
	size_t most = run->n_incidents;
	double *buf;

	for (size_t i = 0; i < run->n_pairs; i++)
		most = run->pairs[i].n > most ? run->pairs[i].n : most;
	out->v = calloc(run->n_pairs ? run->n_pairs : 1, sizeof(*out->v));
	buf = malloc((most ? most : 1) * sizeof(*buf));
	if (!out->v || !buf) {
		free(buf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < run->n_pairs; i++, out->n++) {
		struct cde_dora_keys *k = &out->v[i];

		k->service = strdup(run->pairs[i].service);
		k->environment = strdup(run->pairs[i].environment);
		if (!k->service || !k->environment) {
			out->n++;
			free(buf);
			return -ENOMEM;
		}
		lead_times(run, &run->pairs[i], k, buf);
		restore_times(run, &run->pairs[i], k, buf);
		k->per_day = (double)k->deployments * 86400.0 / (double)run->p->window_s;
		band_keys(k);
	}
	free(buf);
	qsort(out->v, out->n, sizeof(*out->v), by_pair);
	return 0;
}

void cde_dora_report_release(struct cde_dora_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].service);
		free(r->v[i].environment);
	}
	free(r->v);
	*r = (struct cde_dora_report){ 0 };
}
