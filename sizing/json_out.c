/* The sizing result and the remedy as the JSON the API answers. Units
 * are in the names (MiB, Millis) except for CPU requests and limits,
 * which are cores as numbers, the way Spark's *.cores keys count them.
 * Every allocation is checked: a failure frees what was built and
 * returns NULL. */

#include "sizing/sizing_internal.h"

static bool add_num(cJSON *o, const char *name, double v)
{
	return cJSON_AddNumberToObject(o, name, v) != NULL;
}

static bool add_cores(cJSON *o, const char *name, bool set, uint64_t millis)
{
	if (!set)
		return cJSON_AddNullToObject(o, name) != NULL;
	return add_num(o, name, (double)millis / 1000.0);
}

static bool add_bool_or_null(cJSON *o, const char *name, bool known, bool v)
{
	if (!known)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddBoolToObject(o, name, v) != NULL;
}

static bool add_count_or_null(cJSON *o, const char *name, bool known, uint64_t v)
{
	if (!known)
		return cJSON_AddNullToObject(o, name) != NULL;
	return add_num(o, name, (double)v);
}

static bool add_pod(cJSON *parent, const char *name, const struct cde_sizing_pod *pod,
		    bool has_node, bool is_executor, unsigned count)
{
	cJSON *o = cJSON_AddObjectToObject(parent, name);

	if (!o)
		return false;
	if (is_executor && !add_num(o, "count", count))
		return false;
	if (!add_num(o, "heapMiB", (double)pod->heap_mib) ||
	    !add_num(o, "overheadMiB", (double)pod->overhead_mib))
		return false;
	/* null: the overhead was set explicitly, no factor applied. */
	if (pod->overhead_explicit ? !cJSON_AddNullToObject(o, "overheadFactor") :
				     !add_num(o, "overheadFactor", pod->overhead_factor))
		return false;
	if (is_executor && (!add_num(o, "pysparkMiB", (double)pod->pyspark_mib) ||
			    !add_num(o, "offHeapMiB", (double)pod->offheap_mib)))
		return false;
	if (!add_num(o, "memoryRequestMiB", (double)pod->memory_mib) ||
	    !add_num(o, "memoryLimitMiB", (double)pod->memory_mib) ||
	    !add_cores(o, "cpuRequest", true, pod->cpu_request_millis) ||
	    !add_cores(o, "cpuLimit", pod->has_cpu_limit, pod->cpu_limit_millis))
		return false;
	return !has_node || cJSON_AddBoolToObject(o, "fitsNode", pod->fits_node) != NULL;
}

/* The node object and the counts that depend on it, beside it. */
static bool add_node_facts(cJSON *parent, const struct cde_sizing_result *r)
{
	cJSON *o = cJSON_AddObjectToObject(parent, "node");

	return o && add_num(o, "allocatableCpuMillis", (double)r->allocatable_cpu_millis) &&
	       add_num(o, "allocatableMemoryMiB", (double)r->allocatable_memory_mib) &&
	       add_num(parent, "executorsPerNode", r->executors_per_node) &&
	       add_num(parent, "executorsBesideDriver", r->executors_beside_driver) &&
	       add_count_or_null(parent, "executorNodesNeeded", r->has_nodes_needed,
				 r->executor_nodes_needed) &&
	       add_count_or_null(parent, "nodesNeeded", r->has_nodes_needed, r->nodes_needed);
}

static bool add_totals(cJSON *parent, const struct cde_sizing_result *r)
{
	cJSON *o = cJSON_AddObjectToObject(parent, "totals");

	return o && add_num(o, "pods", r->total_pods) &&
	       add_cores(o, "cpuRequest", true, r->total_cpu_request_millis) &&
	       add_num(o, "memoryRequestMiB", (double)r->total_memory_request_mib);
}

static bool add_warnings(cJSON *parent, const struct cde_sizing_result *r)
{
	cJSON *arr = cJSON_AddArrayToObject(parent, "warnings");

	if (!arr)
		return false;
	for (size_t i = 0; i < r->n_warnings; i++) {
		cJSON *w = cJSON_CreateObject();

		if (!w)
			return false;
		if (!cJSON_AddItemToArray(arr, w)) {
			cJSON_Delete(w);
			return false;
		}
		const char *code = cde_sizing_code_name(r->warnings[i].code);

		if (!cJSON_AddStringToObject(w, "code", code) ||
		    !cJSON_AddStringToObject(w, "message", r->warnings[i].message))
			return false;
	}
	return r->dropped_warnings == 0 ||
	       add_num(parent, "warningsDropped", (double)r->dropped_warnings);
}

cJSON *cde_sizing_result_to_json(const struct cde_sizing_result *r)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "rules", r->rules ? r->rules : "") ||
	    !add_pod(o, "executor", &r->executor, r->has_node, true, r->executors) ||
	    !add_pod(o, "driver", &r->driver, r->has_node, false, 0) ||
	    (r->has_node && !add_node_facts(o, r)) ||
	    !add_bool_or_null(o, "fits", r->has_node, r->fits) || !add_totals(o, r) ||
	    !add_warnings(o, r))
		goto err_free_o;
	return o;

err_free_o:
	cJSON_Delete(o);
	return NULL;
}

cJSON *cde_sizing_remedy_to_json(const struct cde_sizing_remedy *r)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "role", cde_sizing_role_name(r->role)) ||
	    !cJSON_AddStringToObject(o, "reason", r->kind == CDE_SIZING_REMEDY_NON_JVM_FACTOR ?
							   "non_jvm_factor" : "double_overhead") ||
	    !cJSON_AddStringToObject(o, "key", r->conf_key) ||
	    !cJSON_AddStringToObject(o, "value", r->conf_value) ||
	    !add_num(o, "oldOverheadMiB", (double)r->old_overhead_mib) ||
	    !add_num(o, "newOverheadMiB", (double)r->new_overhead_mib) ||
	    !add_num(o, "oldMemoryRequestMiB", (double)r->old_memory_mib) ||
	    !add_num(o, "newMemoryRequestMiB", (double)r->new_memory_mib) ||
	    !add_bool_or_null(o, "fitsNode", r->has_node, r->fits_node) ||
	    (r->has_node && r->role == CDE_SIZING_EXECUTOR &&
	     !add_num(o, "executorsPerNode", r->executors_per_node)))
		goto err_free_o;
	return o;

err_free_o:
	cJSON_Delete(o);
	return NULL;
}
