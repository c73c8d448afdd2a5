#pragma once
/* A promotion gate evaluated over the audit log: may this artifact go to
 * that environment, and on what evidence. Pure: the log is read through
 * a cde_audit_source, the time is given, nothing is written. */

#include <time.h>

#include <cjson/cJSON.h>

#include "sinks/audit/answers/gate_rules.h"
#include "sinks/audit/audit_reader.h"

#define CDE_GATE_DECIDED_TYPE "dev.cdeventsx.cdeventsd-gate.decided.0.1.0"
#define CDE_GATE_DECIDED_SCHEMA "https://cdeventsd.dev/schemas/cdeventsd-gate.decided.0.1.0.json"

/* Evaluates @gate for @artifact (its purl, as events name it) at @now
 * over @src. The evidence is every event naming the artifact (the log's
 * artifact index: subject of artifact.*, or artifactId) and every event
 * of their chains, posted by one of @gate's `from` principals (any when
 * it names none); what ends a deployment's soak counts from any principal
 * (it can only deny). With `from`, an event that joined its chain by
 * correlation counts only if the event it joined through is itself
 * evidence there (anchored, gate_anchor.h): someone outside `from` cannot
 * steer a trusted event into a chain. Test runs count from the chain
 * reads. Of several runs of one suite or test case the latest
 * (by context.timestamp, at most when the log took it; then seq) counts,
 * so a later failed run makes an earlier success stale. At most
 * @gate->events_max rows are read (0: CDE_GATE_EVENTS_MAX) over all the
 * reads; past them the gate denies without judging, and so it does when
 * @src->chain_retired says retention deleted rows of one of the
 * artifact's chains, or @src->artifact_retired rows naming the artifact. *@ret is
 * {"environment", "artifact", "decision": "allow"|"deny",
 * "requirements": [{"requirement", ..., "met", "seq" and/or "reason"}],
 * "chainId" (the chain of the latest event naming the artifact; absent
 * when none does), "reason" (only when not judged: too many rows, or a
 * chain or the artifact retention has cut; each requirement then unmet with a reason
 * too)}. Returns 0, -ENOMEM, or the
 * source's error (-ENOTCONN, -EIO, -EINVAL). */
int cde_gate_evaluate(const struct cde_gate *gate, const char *artifact, time_t now,
		      const struct cde_audit_source *src, cJSON **ret);

/* The decision @result (as cde_gate_evaluate made it) as the CDEvent the
 * log keeps of it: CDE_GATE_DECIDED_TYPE in spec 0.5.1, in the artifact's
 * chain, subject "gates/ENV", content {environment: {id}, artifactId,
 * decision, principal, requirements}, with @id, @source, @timestamp and
 * schemaUri CDE_GATE_DECIDED_SCHEMA. Returns the event, or NULL when out
 * of memory. */
cJSON *cde_gate_decision_event(const cJSON *result, const char *principal, const char *id, const char *source,
			       const char *timestamp);
