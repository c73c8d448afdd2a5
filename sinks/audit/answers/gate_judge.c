/* A gate's answer from what its reads found (gate_internal.h): each
 * requirement met or not, with its evidence's seq or the reason it is
 * not met, in the configuration's own words; deny unless every one is
 * met, and never judged on part of the evidence (too many rows, or a
 * chain retention has cut). */

#include <stdio.h>
#include <string.h>

#include "sinks/audit/answers/gate_internal.h"

uint64_t cde_gate_events_max(const struct cde_gate *g)
{
	return g->events_max ? g->events_max : CDE_GATE_EVENTS_MAX;
}

/* The test-case requirement @r: met when at least one case of its type
 * ran and the latest run of each has the outcome. */
static void judge_cases(const struct eval *ev, const struct cde_gate_requirement *r, uint64_t *seq,
			char *reason, size_t size)
{
	bool any = false;

	*seq = 0;
	for (size_t i = 0; i < ev->n_cases; i++) {
		const struct case_run *c = &ev->cases[i];

		if (strcmp(c->type, r->name) != 0)
			continue;
		any = true;
		if (strcmp(c->outcome, r->outcome) != 0) {
			*seq = c->seq;
			snprintf(reason, size, "test case %s of type %s: its latest run (seq %llu) finished %s", c->id,
				 r->name, (unsigned long long)c->seq, c->outcome);
			return;
		}
		if (c->seq > *seq)
			*seq = c->seq;
	}
	if (!any)
		snprintf(reason, size, "no test case of type %s finished in the artifact's chains", r->name);
}

/* Why requirement @r is not met (reason "" when it is); @seq is its evidence. */
static void judge(const struct eval *ev, const struct cde_gate_requirement *r, const struct found *f, time_t now,
		  uint64_t *seq, char *reason, size_t size)
{
	long long age;

	*seq = f->seq;
	reason[0] = '\0';
	switch (r->need) {
	case CDE_GATE_BUILD:
		if (!f->seq)
			snprintf(reason, size, "no build.finished names the artifact (artifactId)");
		break;
	case CDE_GATE_SIGNED:
		if (!f->seq)
			snprintf(reason, size, "no artifact.signed of the artifact");
		break;
	case CDE_GATE_SBOM:
		if (!f->seq)
			snprintf(reason, size, "no artifact.packaged of the artifact with an sbom");
		break;
	case CDE_GATE_TESTS:
		if (!f->seq)
			snprintf(reason, size, "no run of test suite %s finished in the artifact's chains", r->name);
		else if (strcmp(f->outcome, r->outcome) != 0)
			snprintf(reason, size, "the latest run of test suite %s (seq %llu) finished %s", r->name,
				 (unsigned long long)f->seq, f->outcome);
		break;
	case CDE_GATE_TEST_CASE:
		judge_cases(ev, r, seq, reason, size);
		break;
	case CDE_GATE_DEPLOYED:
		age = (long long)(now - f->at.tv_sec);
		if (!f->seq)
			snprintf(reason, size, "not deployed to %s", r->name);
		else if (f->how != SOAK_ON)
			snprintf(reason, size, "%s %s at seq %llu, after its deployment at seq %llu",
				 f->how == SOAK_ROLLED_BACK ? "rolled back in" :
				 f->how == SOAK_REPLACED ? "replaced in" : "removed from",
				 r->name, (unsigned long long)f->ended, (unsigned long long)f->seq);
		else if (age < r->window_s)
			snprintf(reason, size, "deployed to %s %llds ago (seq %llu): needs %s without a rollback",
				 r->name, age < 0 ? 0 : age, (unsigned long long)f->seq, r->window);
		break;
	}
}

/* The requirement's own words, as the configuration writes them. */
static bool describe(cJSON *row, const struct cde_gate_requirement *r)
{
	static const char *const words[] = {
		[CDE_GATE_BUILD] = "build", [CDE_GATE_TESTS] = "tests", [CDE_GATE_TEST_CASE] = "test_case",
		[CDE_GATE_SIGNED] = "artifact", [CDE_GATE_SBOM] = "sbom", [CDE_GATE_DEPLOYED] = "deployed",
	};
	if (!cJSON_AddStringToObject(row, "requirement", words[r->need]))
		return false;
	switch (r->need) {
	case CDE_GATE_TESTS:
		return cJSON_AddStringToObject(row, "suite", r->name) &&
		       cJSON_AddStringToObject(row, "outcome", r->outcome);
	case CDE_GATE_TEST_CASE:
		return cJSON_AddStringToObject(row, "type", r->name) &&
		       cJSON_AddStringToObject(row, "outcome", r->outcome);
	case CDE_GATE_SIGNED:
		return cJSON_AddStringToObject(row, "state", "signed");
	case CDE_GATE_DEPLOYED:
		return cJSON_AddStringToObject(row, "environment", r->name) &&
		       cJSON_AddStringToObject(row, "notRolledBackFor", r->window);
	default:
		return true;
	}
}

/* Why @ev is not judged at all (reason "" when it is), in the answer's
 * top-level @reason and in @row_reason for each requirement, so that
 * whoever reads only the rows (a refused deployment's errors) sees it. */
static void unjudged(const struct eval *ev, char *reason, char *row_reason, size_t size)
{
	unsigned long long max = cde_gate_events_max(ev->gate);

	reason[0] = row_reason[0] = '\0';
	if (ev->retired_seq && ev->retired_artifact) {
		snprintf(reason, size, "evidence retired: retention deleted events naming the artifact (up to seq %llu); "
			 "the gate does not judge it", (unsigned long long)ev->retired_seq);
		snprintf(row_reason, size, "not judged: retention deleted events naming the artifact (up to seq %llu)",
			 (unsigned long long)ev->retired_seq);
		return;
	}
	if (ev->retired_seq) {
		snprintf(reason, size, "evidence retired: retention deleted events of chain %s (up to seq %llu); "
			 "the gate does not judge it", ev->retired, (unsigned long long)ev->retired_seq);
		snprintf(row_reason, size, "not judged: retention deleted events of chain %s (up to seq %llu)",
			 ev->retired, (unsigned long long)ev->retired_seq);
		return;
	}
	if (!ev->too_large)
		return;
	snprintf(reason, size, "evidence too large: more than %llu events in the artifact's chains; "
		 "the gate does not judge it", max);
	snprintf(row_reason, size, "not judged: more than %llu events in the artifact's chains", max);
}

/* A reason's room: the longest names a whole chain id. */
#define WHY_MAX (CHAIN_ID_MAX + 160)

cJSON *cde_gate_answer(const struct eval *ev, time_t now)
{
	cJSON *o = cJSON_CreateObject(), *rows = NULL;
	char why[WHY_MAX], row_why[WHY_MAX];
	bool judged = !ev->too_large && !ev->retired_seq, allow = judged, ok;

	unjudged(ev, why, row_why, sizeof(why));
	ok = o && cJSON_AddStringToObject(o, "environment", ev->gate->environment) &&
	     cJSON_AddStringToObject(o, "artifact", ev->artifact) &&
	     cJSON_AddStringToObject(o, "decision", "deny") && (rows = cJSON_AddArrayToObject(o, "requirements")) &&
	     (!ev->chain[0] || cJSON_AddStringToObject(o, "chainId", ev->chain)) &&
	     (!why[0] || cJSON_AddStringToObject(o, "reason", why));
	for (size_t i = 0; ok && i < ev->gate->n; i++) {
		char reason[WHY_MAX];
		uint64_t seq = 0;
		cJSON *row = cJSON_CreateObject();

		if (!row || !cJSON_AddItemToArray(rows, row)) {
			cJSON_Delete(row);
			ok = false;
			break;
		}
		/* never judged on part of the evidence: a read cut short may
		 * have missed the failed run that makes a success stale */
		if (!judged)
			snprintf(reason, sizeof(reason), "%s", row_why);
		else
			judge(ev, &ev->gate->require[i], &ev->found[i], now, &seq, reason, sizeof(reason));
		allow = allow && !reason[0];
		ok = describe(row, &ev->gate->require[i]) && cJSON_AddBoolToObject(row, "met", !reason[0]) &&
		     (!seq || cJSON_AddNumberToObject(row, "seq", (double)seq)) &&
		     (!reason[0] || cJSON_AddStringToObject(row, "reason", reason));
	}
	if (ok && allow)
		ok = cJSON_ReplaceItemInObjectCaseSensitive(o, "decision", cJSON_CreateString("allow"));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

