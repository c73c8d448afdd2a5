/* A gate's requirements checked against the log. Three reads: the
 * events naming the artifact, then each of their chains (test runs name
 * no artifact, only their chain ties them to it), then for a deployment
 * what happened to that service in its environment after it. Only the
 * gate's trusted principals (`from`, when it names them) give evidence
 * for the artifact, and in a chain only the events anchored there
 * (gate_anchor.h): a trusted event correlation put in a chain through an
 * untrusted one is not evidence there, nor does it make that chain the
 * artifact's. What ends a deployment's soak (rolled back, replaced,
 * removed) counts whoever posted it, since a stranger can only make the
 * gate deny by it, and a rollback by a tool outside `from` is still one.
 * Every piece of evidence is kept as the latest seen for its key, so a
 * record read twice (by artifact and by chain) changes nothing: the
 * latest by when it happened (context.timestamp, but never later than
 * the log took it, so a run dated in the future cannot outrank the runs
 * after it), seq breaking ties. Deployments alone go by seq: their soak
 * is measured on the log's clock. Test cases and chains are found again
 * through a keyed hash index (answer_index.h), so the work is linear in
 * the rows read; and the rows read are capped (CDE_GATE_EVENTS_MAX, over
 * all the reads): an artifact with more evidence than that is not judged
 * on part of it, the gate denies and says why. So does it when one of
 * the artifact's chains has lost rows to retention (retired_chains):
 * the failed run that would deny may be among them; and when retention
 * has deleted rows naming the artifact (retired_artifacts), since a chain
 * whose rows naming it went is no longer found to be its own. */

#include "sinks/audit/answers/gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/answer_event.h"
#include "sinks/audit/answers/answer_index.h"
#include "sinks/audit/answers/answer_list.h"
#include "sinks/audit/answers/gate_anchor.h"
#include "sinks/audit/answers/gate_internal.h"

static const char *string_at(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* When @e happened, for ordering runs: its timestamp, unless that is
 * later than the log took it. */
static struct timespec when_of(const struct cde_answer_event *e)
{
	const struct timespec *t = &e->time, *r = &e->received;

	if (t->tv_sec > r->tv_sec || (t->tv_sec == r->tv_sec && t->tv_nsec > r->tv_nsec))
		return *r;
	return *t;
}

/* @e is later than the evidence kept as (@when, @seq); seq 0 is none. */
static bool newer(const struct cde_answer_event *e, const struct timespec *when, uint64_t seq)
{
	struct timespec t = when_of(e);

	if (!seq)
		return true;
	if (t.tv_sec != when->tv_sec)
		return t.tv_sec > when->tv_sec;
	if (t.tv_nsec != when->tv_nsec)
		return t.tv_nsec > when->tv_nsec;
	return e->seq > seq;
}

/* The chain @e (naming the artifact) ties to it, or NULL. */
static const char *chain_of(const struct cde_answer_event *e)
{
	size_t n = strlen(e->chain_id);

	return !n || n >= CHAIN_ID_MAX || e->custom ? NULL : e->chain_id;
}

static bool known_chain(void *ctx, const char *chain)
{
	const struct eval *ev = ctx;
	size_t at;

	return cde_answer_index_find(&ev->chain_ix, chain, &at);
}

/* Chain @chain is the artifact's, as event @seq naming it says. */
static int add_chain(void *ctx, const char *chain, uint64_t seq)
{
	struct eval *ev = ctx;
	size_t at;
	char **grown;

	if (seq > ev->chain_seq) {
		ev->chain_seq = seq;
		snprintf(ev->chain, sizeof(ev->chain), "%s", chain);
	}
	if (known_chain(ev, chain))
		return 0;
	grown = cde_answer_grow(ev->chains, &ev->cap_chains, ev->n_chains, sizeof(*ev->chains));
	if (!grown)
		return -ENOMEM;
	ev->chains = grown;
	at = ev->n_chains;
	ev->chains[at] = strdup(chain);
	/* the index borrows the copy, which stays put when chains moves */
	if (!ev->chains[at] || cde_answer_index_add(&ev->chain_ix, ev->chains[at], at) < 0) {
		free(ev->chains[at]);
		return -ENOMEM;
	}
	ev->n_chains++;
	return 0;
}

/* The first read: @e names the artifact. Its chain is the artifact's when
 * @e named or started it; when @e joined it by correlation, only if @e is
 * anchored there (gate_anchor.h), which a read of that chain tells. */
static int collect_chain(struct eval *ev, const struct cde_answer_event *e)
{
	const char *chain = chain_of(e);

	if (!chain)
		return 0;
	if (e->chain_via && ev->gate->n_from)
		return cde_gate_anchors_defer(&ev->anchors, chain, e->seq);
	return add_chain(ev, chain, e->seq);
}

/* Test runs are evidence where anchoring applies, in the chain reads: a
 * run seen in the first read is left to them, unless it has no chain to
 * be read in. */
static bool left_to_chain_reads(const struct eval *ev, const struct cde_answer_event *e)
{
	return ev->by_artifact && chain_of(e);
}

static bool is_test_run(const struct cde_gate_requirement *r)
{
	return r->need == CDE_GATE_TESTS || r->need == CDE_GATE_TEST_CASE;
}

static int note_case(struct eval *ev, const struct cde_answer_event *e)
{
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(e->content, "testCase");
	const char *id = string_at(tc, "id"), *type = string_at(tc, "type");
	const char *outcome = string_at(e->content, "outcome");
	struct case_run *c = NULL;
	size_t at;

	if (!id || !type || !outcome)
		return 0;
	if (cde_answer_index_find(&ev->case_ix, id, &at)) {
		c = &ev->cases[at];
	} else {
		struct case_run *grown = cde_answer_grow(ev->cases, &ev->cap_cases, ev->n_cases, sizeof(*ev->cases));

		if (!grown)
			return -ENOMEM;
		ev->cases = grown;
		c = &ev->cases[ev->n_cases];
		*c = (struct case_run){ 0 };
		c->id = strdup(id);
		c->type = strdup(type);
		/* the index borrows c->id, which stays put when cases moves */
		if (!c->id || !c->type || cde_answer_index_add(&ev->case_ix, c->id, ev->n_cases) < 0) {
			free(c->id);
			free(c->type);
			c->id = c->type = NULL;
			return -ENOMEM;
		}
		ev->n_cases++;
	}
	if (newer(e, &c->when, c->seq)) {
		c->seq = e->seq;
		c->when = when_of(e);
		snprintf(c->outcome, sizeof(c->outcome), "%s", outcome);
		if (strcmp(c->type, type) != 0) {
			char *t = strdup(type);

			if (!t)
				return -ENOMEM;
			free(c->type);
			c->type = t;
		}
	}
	return 0;
}

/* Whether @e is evidence for requirement @r, and if it is newer, keeps it. */
static int note(struct eval *ev, const struct cde_gate_requirement *r, struct found *f,
		const struct cde_answer_event *e)
{
	bool hit = false;
	char *service;

	switch (r->need) {
	case CDE_GATE_BUILD:
		hit = cde_answer_event_is(e, "build", "finished") &&
		      same(cde_answer_event_ref(e, "artifactId"), ev->artifact);
		break;
	case CDE_GATE_SIGNED:
		hit = cde_answer_event_is(e, "artifact", "signed") && same(e->subject_id, ev->artifact);
		break;
	case CDE_GATE_SBOM:
		hit = cde_answer_event_is(e, "artifact", "packaged") && same(e->subject_id, ev->artifact) &&
		      string_at(cJSON_GetObjectItemCaseSensitive(e->content, "sbom"), "uri");
		break;
	case CDE_GATE_TESTS:
		hit = cde_answer_event_is(e, "testsuiterun", "finished") &&
		      same(cde_answer_event_ref(e, "testSuite"), r->name) && string_at(e->content, "outcome");
		if (hit && newer(e, &f->when, f->seq))
			snprintf(f->outcome, sizeof(f->outcome), "%s", string_at(e->content, "outcome"));
		break;
	case CDE_GATE_DEPLOYED:
		hit = (cde_answer_event_is(e, "service", "deployed") || cde_answer_event_is(e, "service", "upgraded")) &&
		      same(cde_answer_event_ref(e, "environment"), r->name) &&
		      same(cde_answer_event_ref(e, "artifactId"), ev->artifact);
		if (!hit || e->seq <= f->seq)
			return 0;
		service = strdup(e->subject_id);
		if (!service)
			return -ENOMEM;
		free(f->service);
		f->service = service;
		f->at = e->received;
		f->seq = e->seq;
		return 0;
	case CDE_GATE_TEST_CASE:
		break;
	}
	if (hit && newer(e, &f->when, f->seq)) {
		f->seq = e->seq;
		f->when = when_of(e);
	}
	return 0;
}

static int on_record(void *ctx, const struct cde_audit_record *rec)
{
	struct eval *ev = ctx;
	struct cde_answer_event e;
	bool evidence = true;
	int r = ev->by_artifact ? 0 : cde_gate_anchors_check(&ev->anchors, rec, &evidence);

	if (r < 0)
		return ev->error = r;
	if (!evidence)
		return 0;	/* in its chain through someone outside `from` */
	/* Known by the row alone: an outsider's events, however large, are
	 * not parsed (each would cost the reader thread its parse). */
	if (!cde_gate_trusts(ev->gate, rec->principal ? rec->principal : ""))
		return 0;
	r = cde_answer_event_read(rec, &e);
	if (r == -EINVAL)
		return 0;	/* not a CDEvent this reads: no evidence */
	if (r < 0)
		return ev->error = r;
	if (ev->by_artifact)
		r = collect_chain(ev, &e);
	for (size_t i = 0; r == 0 && i < ev->gate->n; i++)
		if (!is_test_run(&ev->gate->require[i]) || !left_to_chain_reads(ev, &e))
			r = note(ev, &ev->gate->require[i], &ev->found[i], &e);
	if (r == 0 && !left_to_chain_reads(ev, &e) && cde_answer_event_is(&e, "testcaserun", "finished"))
		r = note_case(ev, &e);
	cde_answer_event_release(&e);
	return r < 0 ? (ev->error = r) : 0;
}

/* The end of the soak of the deployment @f in its environment: the same
 * service placed there again with another artifact (deployed, upgraded,
 * rolled back to it) or removed from there, after it, by anyone: `from`
 * says whose evidence may let an artifact through, and this only ever
 * stops one (an operator's rollback tool need not be trusted to be
 * heard). Until then the artifact is what ran there. */
struct soak_scan {
	const char *artifact;
	struct found *f;
};

static enum soak_end soak_end_of(const struct cde_answer_event *e, const char *artifact)
{
	bool other = !same(cde_answer_event_ref(e, "artifactId"), artifact);

	if (strcmp(e->subject_type, "service") != 0 || e->custom)
		return SOAK_ON;
	if (strcmp(e->predicate, "removed") == 0)
		return SOAK_REMOVED;
	if (strcmp(e->predicate, "rolledback") == 0)
		return other ? SOAK_ROLLED_BACK : SOAK_ON;
	if (strcmp(e->predicate, "deployed") == 0 || strcmp(e->predicate, "upgraded") == 0)
		return other ? SOAK_REPLACED : SOAK_ON;
	return SOAK_ON;
}

static int on_later(void *ctx, const struct cde_audit_record *rec)
{
	struct soak_scan *s = ctx;
	struct cde_answer_event e;
	int r = cde_answer_event_read(rec, &e);
	enum soak_end how = SOAK_ON;

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	if (same(e.subject_id, s->f->service))
		how = soak_end_of(&e, s->artifact);
	if (how != SOAK_ON) {
		s->f->ended = e.seq;
		s->f->how = how;
	}
	cde_answer_event_release(&e);
	return how != SOAK_ON ? 1 : 0;
}

/* One of the gate's reads, each row counted against its events_max. */
struct counted {
	struct eval *ev;
	cde_audit_record_fn fn;
	void *ctx;
	uint64_t last;		/* the seq of the last row read */
	uint64_t in_page;
};

/* Rows a gate reads per query, the first page small and each next one
 * twice as large up to the most: a store that sends a whole result
 * before the first row is looked at (PostgreSQL) sends little past a
 * reader that stops at once (the soak's end is often the first event),
 * and at most PAGE_MAX rows past any stop or events_max. */
#define PAGE_FIRST 16
#define PAGE_MAX 1024

static int count_row(void *ctx, const struct cde_audit_record *rec)
{
	struct counted *c = ctx;

	c->last = rec->seq;
	c->in_page++;
	if (++c->ev->rows > cde_gate_events_max(c->ev->gate)) {
		c->ev->too_large = true;
		return 1;
	}
	return c->fn(c->ctx, rec);
}

/* @f, oldest first, a page at a time; what the last callback returned
 * (1: stopped, by the reader or events_max), 0, or an error. A read the
 * caller bounds itself (a limit, newest first) is one query. */
static int paged_query(struct eval *ev, const struct cde_audit_source *src, const struct cde_audit_filter *f,
		       cde_audit_record_fn fn, void *ctx)
{
	struct counted c = { .ev = ev, .fn = fn, .ctx = ctx, .last = f->after };
	struct cde_audit_filter page = *f;
	int r;

	if (f->limit || f->descending)
		return src->query(src->ctx, f, count_row, &c);
	page.limit = PAGE_FIRST;
	for (;;) {
		page.after = c.last;
		c.in_page = 0;
		r = src->query(src->ctx, &page, count_row, &c);
		if (r != 0 || c.in_page < page.limit)
			return r;
		if (page.limit < PAGE_MAX)
			page.limit *= 2;
	}
}

/* Reads @f through @fn; 0 (also when @fn stopped it, or the gate's
 * events_max did: ev->too_large) or an error. */
static int read_some(struct eval *ev, const struct cde_audit_source *src, const struct cde_audit_filter *f,
		     cde_audit_record_fn fn, void *ctx)
{
	int r = paged_query(ev, src, f, fn, ctx);

	return r > 0 ? 0 : r;
}

/* A source whose reads are counted and paged like read_some's, for
 * readers that take a source (the anchors' confirmation). */
struct counted_source {
	struct eval *ev;
	const struct cde_audit_source *src;
};

static int counted_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	struct counted_source *cs = ctx;
	int r = paged_query(cs->ev, cs->src, f, fn, fn_ctx);

	/* past events_max the read stops as if its reader had stopped it */
	return cs->ev->too_large && r == 1 ? 0 : r;
}

/* Whether retention has cut the artifact (rows naming it: a chain whose
 * build row went no longer links to it, so its later failed run would go
 * unread) or, the first of them, one of its chains, in ev->retired: what
 * is left of it may lack the failed run that would deny (a prefix of the
 * log goes, whatever chain its rows are in), so the gate does not judge
 * it. A source that never deletes has neither method. */
static int find_retired(struct eval *ev, const struct cde_audit_source *src)
{
	uint64_t seq = 0;
	int r;

	if (src->artifact_retired) {
		r = src->artifact_retired(src->ctx, ev->artifact, &seq);
		if (r < 0)
			return r;
		if (seq) {
			ev->retired_seq = seq;
			ev->retired_artifact = true;
			return 0;
		}
	}
	for (size_t i = 0; src->chain_retired && i < ev->n_chains; i++) {
		r = src->chain_retired(src->ctx, ev->chains[i], &seq);
		if (r < 0)
			return r;
		if (seq) {
			ev->retired_seq = seq;
			snprintf(ev->retired, sizeof(ev->retired), "%s", ev->chains[i]);
			return 0;
		}
	}
	return 0;
}

static int counted_chain_retired(void *ctx, const char *chain, uint64_t *ret)
{
	struct counted_source *cs = ctx;

	return cs->src->chain_retired(cs->src->ctx, chain, ret);
}

static int read_log(struct eval *ev, const struct cde_audit_source *src)
{
	struct cde_audit_filter f = { .artifact_id = ev->artifact };
	int r;

	ev->by_artifact = true;
	r = read_some(ev, src, &f, on_record, ev);
	ev->by_artifact = false;
	if (r == 0)
		r = ev->error;
	if (r == 0 && !ev->too_large) {
		/* the anchors' own reads count against events_max too */
		struct counted_source cs = { .ev = ev, .src = src };
		const struct cde_audit_source counted = { .query = counted_query, .ctx = &cs,
							  .chain_retired = src->chain_retired ? counted_chain_retired
											     : NULL };

		r = cde_gate_anchors_confirm(&ev->anchors, &counted, known_chain, add_chain, ev);
	}
	if (r == 0 && !ev->too_large)
		r = find_retired(ev, src);
	for (size_t i = 0; r == 0 && !ev->too_large && !ev->retired_seq && i < ev->n_chains; i++) {
		struct cde_audit_filter c = { .chain_id = ev->chains[i] };

		cde_gate_anchors_start_chain(&ev->anchors);
		r = read_some(ev, src, &c, on_record, ev);
	}
	for (size_t i = 0; r == 0 && !ev->too_large && !ev->retired_seq && i < ev->gate->n; i++) {
		const struct cde_gate_requirement *req = &ev->gate->require[i];
		struct soak_scan s = { .artifact = ev->artifact, .f = &ev->found[i] };
		struct cde_audit_filter later = { .subject = ev->found[i].service, .environment = req->name,
						  .after = ev->found[i].seq };

		if (req->need != CDE_GATE_DEPLOYED || !ev->found[i].seq)
			continue;
		r = read_some(ev, src, &later, on_later, &s);
	}
	/* Again once everything is read: the reads are separate queries, so
	 * a retention run may have cut a chain between the check above and
	 * its read; it records the cut in the transaction that deletes, so a
	 * cut the reads saw is seen here. */
	if (r == 0 && !ev->too_large && !ev->retired_seq)
		r = find_retired(ev, src);
	if (r == 0)
		r = ev->error;
	return r;
}

int cde_gate_evaluate(const struct cde_gate *gate, const char *artifact, time_t now,
		      const struct cde_audit_source *src, cJSON **ret)
{
	struct eval *ev = calloc(1, sizeof(*ev));
	int r;

	if (!ev)
		return -ENOMEM;
	ev->gate = gate;
	ev->artifact = artifact;
	cde_answer_index_init(&ev->case_ix);
	cde_answer_index_init(&ev->chain_ix);
	ev->anchors.gate = gate;
	r = read_log(ev, src);
	if (r == 0) {
		*ret = cde_gate_answer(ev, now);
		r = *ret ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < ev->n_cases; i++) {
		free(ev->cases[i].id);
		free(ev->cases[i].type);
	}
	free(ev->cases);
	cde_answer_index_release(&ev->case_ix);
	cde_answer_index_release(&ev->chain_ix);
	for (size_t i = 0; i < ev->n_chains; i++)
		free(ev->chains[i]);
	free(ev->chains);
	cde_gate_anchors_release(&ev->anchors);
	for (size_t i = 0; i < gate->n; i++)
		free(ev->found[i].service);
	free(ev);
	return r;
}
