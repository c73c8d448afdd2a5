#pragma once
/* Which events a gate with `from` takes as evidence of a chain (issue 18).
 * An event posted without a chainId joins a chain by correlation, and
 * correlation follows events of any principal (Jenkins builds, Tekton
 * deploys: one release), so a trusted principal's event may sit in a
 * chain only because an untrusted one planted an event there. The log
 * keeps the row each correlated event joined through (chain_via); an
 * event is ANCHORED in its chain when its principal is trusted and it
 * named or started the chain itself (chain_via 0), or joined it through
 * an anchored event. Only anchored events are evidence in a chain, and a
 * chain is the artifact's only when an anchored event there names it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/audit/answers/gate_rules.h"
#include "sinks/audit/audit_reader.h"

struct cde_gate_pending;

struct cde_gate_anchors {
	const struct cde_gate *gate;
	uint64_t *seqs;			/* the current chain's anchored events, ascending */
	size_t n, cap;
	struct cde_gate_pending *pending;	/* events naming the artifact that joined by correlation */
	size_t n_pending, cap_pending;
};

/* @principal is one of @g's `from` (any when it names none). */
bool cde_gate_trusts(const struct cde_gate *g, const char *principal);

/* Before the records of another chain. */
void cde_gate_anchors_start_chain(struct cde_gate_anchors *a);

/* Whether @rec, the next record of the current chain (in seq order), is
 * anchored; remembers it when it is. Without `from` every record is, and
 * nothing is kept. Returns 0 or -ENOMEM. */
int cde_gate_anchors_check(struct cde_gate_anchors *a, const struct cde_audit_record *rec, bool *ret);

/* @seq, an event of chain @chain naming the artifact, joined it by
 * correlation: the chain is the artifact's if @seq is anchored there.
 * Returns 0 or -ENOMEM. */
int cde_gate_anchors_defer(struct cde_gate_anchors *a, const char *chain, uint64_t seq);

/* Reads each chain of a deferred event that @known (asked with @ctx)
 * does not already hold, once, and calls @add(@ctx, chain, seq) for the
 * deferred events anchored there; a chain @src says retention has cut
 * (chain_retired) is not read but added, anchoring there being past
 * knowing. Returns 0, what @add returned, or the source's error. */
int cde_gate_anchors_confirm(struct cde_gate_anchors *a, const struct cde_audit_source *src,
			     bool (*known)(void *ctx, const char *chain),
			     int (*add)(void *ctx, const char *chain, uint64_t seq), void *ctx);

void cde_gate_anchors_release(struct cde_gate_anchors *a);
