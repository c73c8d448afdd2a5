/* Anchoring (gate_anchor.h): which events of a chain a gate with `from`
 * takes as evidence, from each record's principal and chain_via. The
 * event a correlated one joined through is an earlier event of the same
 * chain, and a chain's records arrive in seq order, so the anchored seqs
 * of the chain being read are a sorted array by construction. */

#include "sinks/audit/answers/gate_anchor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/answer_list.h"

struct cde_gate_pending {
	char *chain;			/* NULL once decided */
	uint64_t seq;
};

bool cde_gate_trusts(const struct cde_gate *g, const char *principal)
{
	for (size_t i = 0; i < g->n_from; i++)
		if (principal && strcmp(g->from[i], principal) == 0)
			return true;
	return g->n_from == 0;
}

void cde_gate_anchors_start_chain(struct cde_gate_anchors *a)
{
	a->n = 0;
}

static int compare_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool anchored(const struct cde_gate_anchors *a, uint64_t seq)
{
	return a->n && bsearch(&seq, a->seqs, a->n, sizeof(*a->seqs), compare_seq);
}

int cde_gate_anchors_check(struct cde_gate_anchors *a, const struct cde_audit_record *rec, bool *ret)
{
	uint64_t *grown;

	*ret = a->gate->n_from == 0;
	if (*ret)
		return 0;
	/* A via outside the chain read so far (another chain's, a deleted
	 * row's) anchors nothing. */
	if (!cde_gate_trusts(a->gate, rec->principal) || (rec->chain_via && !anchored(a, rec->chain_via)))
		return 0;
	grown = cde_answer_grow(a->seqs, &a->cap, a->n, sizeof(*a->seqs));
	if (!grown)
		return -ENOMEM;
	a->seqs = grown;
	a->seqs[a->n++] = rec->seq;
	*ret = true;
	return 0;
}

int cde_gate_anchors_defer(struct cde_gate_anchors *a, const char *chain, uint64_t seq)
{
	struct cde_gate_pending *grown = cde_answer_grow(a->pending, &a->cap_pending, a->n_pending,
							 sizeof(*a->pending));
	char *copy;

	if (!grown)
		return -ENOMEM;
	a->pending = grown;
	copy = strdup(chain);
	if (!copy)
		return -ENOMEM;
	a->pending[a->n_pending++] = (struct cde_gate_pending){ .chain = copy, .seq = seq };
	return 0;
}

struct probe {
	struct cde_gate_anchors *a;
	int error;
};

static int on_probe(void *ctx, const struct cde_audit_record *rec)
{
	struct probe *p = ctx;
	bool ignored;
	int r = cde_gate_anchors_check(p->a, rec, &ignored);

	return r < 0 ? (p->error = r) : 0;
}

/* Decides every deferred event of chain @chain from the anchors just read. */
static int decide(struct cde_gate_anchors *a, const char *chain, int (*add)(void *, const char *, uint64_t),
		  void *ctx)
{
	int r = 0;

	for (size_t j = 0; r == 0 && j < a->n_pending; j++) {
		struct cde_gate_pending *p = &a->pending[j];

		if (!p->chain || strcmp(p->chain, chain) != 0)
			continue;
		if (anchored(a, p->seq))
			r = add(ctx, p->chain, p->seq);
		free(p->chain);
		p->chain = NULL;
	}
	return r;
}

int cde_gate_anchors_confirm(struct cde_gate_anchors *a, const struct cde_audit_source *src,
			     bool (*known)(void *ctx, const char *chain),
			     int (*add)(void *ctx, const char *chain, uint64_t seq), void *ctx)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < a->n_pending; i++) {
		char *chain = a->pending[i].chain;
		struct cde_audit_filter f = { .chain_id = chain };
		struct probe p = { .a = a };

		if (!chain)
			continue;
		if (known(ctx, chain)) {
			free(chain);
			a->pending[i].chain = NULL;
			continue;
		}
		if (src->chain_retired) {
			uint64_t cut = 0;

			/* What anchored the event may be among what retention
			 * deleted: not knowing, the chain is taken as the
			 * artifact's, which the gate then denies unjudged. */
			r = src->chain_retired(src->ctx, chain, &cut);
			if (r == 0 && cut)
				r = add(ctx, chain, a->pending[i].seq);
			if (r != 0 || cut)
				continue;	/* the entry is freed with the rest */
		}
		cde_gate_anchors_start_chain(a);
		r = src->query(src->ctx, &f, on_probe, &p);
		if (r == 0)
			r = p.error;
		/* decide() frees @chain with the rest of its kind: a copy first. */
		if (r == 0) {
			char *name = strdup(chain);

			r = name ? decide(a, name, add, ctx) : -ENOMEM;
			free(name);
		}
	}
	return r;
}

void cde_gate_anchors_release(struct cde_gate_anchors *a)
{
	for (size_t i = 0; i < a->n_pending; i++)
		free(a->pending[i].chain);
	free(a->pending);
	free(a->seqs);
	a->pending = NULL;
	a->seqs = NULL;
	a->n = a->cap = a->n_pending = a->cap_pending = 0;
}
