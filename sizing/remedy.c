/* What to do after an OOMKilled pod. The kernel killed the container at
 * its memory limit, which for Spark means the memory outside the heap
 * (overhead: thread stacks, direct buffers, Python or R workers) outgrew
 * its share; the heap itself would have failed with a Java
 * OutOfMemoryError instead. So the remedy raises the overhead, and sets it
 * explicitly so that the answer is the same on every Spark version:
 *   - a Python or R job below the overhead Spark's non-JVM factor 0.4
 *     would give gets exactly that (the factor Spark chose for such jobs);
 *   - anything else gets its overhead doubled, one OOMKill being the only
 *     evidence of how much more it needs.
 * The new pod is checked against the node, since a remedy that makes the
 * pod unschedulable trades a crash for a hang. */

#include "sizing/sizing_internal.h"

#include <stdio.h>

#define NON_JVM_FACTOR 0.4

void cde_sizing_remedy(const struct cde_sizing_input *in, enum cde_sizing_role role,
		       struct cde_sizing_remedy *ret)
{
	struct cde_sizing_input fixed = *in;
	struct cde_sizing_role_conf *rc =
		role == CDE_SIZING_DRIVER ? &fixed.conf.driver : &fixed.conf.executor;
	struct cde_sizing_result before, after;
	const struct cde_sizing_pod *old_pod, *new_pod;
	uint64_t target;

	cde_sizing_compute(in, &before);
	old_pod = role == CDE_SIZING_DRIVER ? &before.driver : &before.executor;
	ret->role = role;
	ret->conf_key = role == CDE_SIZING_DRIVER ? "spark.driver.memoryOverhead" :
						    "spark.executor.memoryOverhead";
	ret->old_overhead_mib = old_pod->overhead_mib;
	ret->old_memory_mib = old_pod->memory_mib;

	target = cde_sizing_factor_overhead_mib(NON_JVM_FACTOR, old_pod->heap_mib,
						cde_sizing_min_overhead_mib(in, role));
	if (in->language != CDE_SIZING_JVM && target > old_pod->overhead_mib) {
		ret->kind = CDE_SIZING_REMEDY_NON_JVM_FACTOR;
	} else {
		ret->kind = CDE_SIZING_REMEDY_DOUBLE_OVERHEAD;
		/* An overhead of 0 (set explicitly) doubles to nothing. */
		target = old_pod->overhead_mib ? old_pod->overhead_mib * 2 : 384;
	}
	rc->overhead_mib.set = true;
	rc->overhead_mib.v = target;

	cde_sizing_compute(&fixed, &after);
	new_pod = role == CDE_SIZING_DRIVER ? &after.driver : &after.executor;
	ret->new_overhead_mib = new_pod->overhead_mib;
	ret->new_memory_mib = new_pod->memory_mib;
	snprintf(ret->conf_value, sizeof(ret->conf_value), "%llum",
		 (unsigned long long)new_pod->overhead_mib);
	ret->has_node = after.has_node;
	ret->fits_node = after.has_node && new_pod->fits_node;
	ret->executors_per_node = after.has_node ? after.executors_per_node : 0;
}
