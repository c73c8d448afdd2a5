#pragma once
/* The pod hook: POST /v1/hooks/pod turns Kubernetes Pods into CDEvents. */

#include <stddef.h>

#include <cjson/cJSON.h>

#include "events/event.h"
#include "events/hooks.h"
#include "schemas/catalog.h"
#include "schemas/base/errors.h"

/* At most this many pods in one request: each becomes up to two events,
 * and the journal's queue is finite. */
#define CDE_POD_HOOK_PODS_MAX 256

/* Builds the events for a pod hook, as the newest spec version of @cat,
 * and validates each.
 *
 * @payload is what `kubectl get pod -o json` prints: a Pod, or a List
 * (kind List or PodList) of them; or a wrapper object
 *   {"pod": <a Pod or a List>, "environment": id or {"id", "source"},
 *    "pipelineRun": id or {"id", "source"}, "taskName", "chainId",
 *    "source", "artifactId",
 *    "spark": {"sparkVersion"?, "language"? (default "jvm"), "conf"},
 *    "cluster": a cluster object, or the name of one of @defaults' clusters}
 * whose fields apply to every pod. "spark" and "cluster" feed the remedies
 * (sizing/): the overhead an OOMKilled Spark pod needs, the heap or node
 * that would let an unschedulable one fit. Per pod: taskrun.finished (outcome
 * success, failure or error; taskrun.started for a pod still pending or
 * running) and, for a failure or an error, incident.detected with
 * customData.podOutcome (see cde_pod_outcome_to_json) and a remedy.
 *
 * Returns 0 with a malloc'd array of *@ret_n events in *@ret_events (one
 * reference each; free with cde_pod_hook_events_free); -EINVAL with every
 * problem in @errs, each a JSON pointer into @payload; -ENOMEM. */
int cde_pod_hook_translate(const struct cde_catalog *cat, const cJSON *payload,
			   const struct cde_hook_defaults *defaults, struct cde_event ***ret_events,
			   size_t *ret_n, struct cde_errors *errs);

/* Drops the references of @events and frees the array (accepts NULL). */
void cde_pod_hook_events_free(struct cde_event **events, size_t n);
