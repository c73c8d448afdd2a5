/* The sizing itself: pods from the Spark rules, then, when a cluster is
 * described, how they pack onto its nodes. Everything lands in a
 * fixed-size result, so sizing never allocates and never fails; the
 * warnings say what a data engineer should change.
 *
 * Packing is first-fit on identical empty nodes, counting only our pods:
 * DaemonSet pods and other tenants are not known here, so executorsPerNode
 * and nodesNeeded are best cases. The default scheduler spreads pods
 * rather than packing them, so an autoscaler may add nodes before these
 * counts are reached. */

#include "sizing/sizing_internal.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_INSTANCES 2	/* SchedulerBackendUtils.DEFAULT_NUMBER_EXECUTORS */
#define COUNT_MAX 2147483647u	/* Spark's counts are Ints */

void cde_sizing_input_init(struct cde_sizing_input *in)
{
	/* Zero is every default: newest rules, JVM, nothing set, no cluster. */
	memset(in, 0, sizeof(*in));
}

static const char *const code_names[CDE_SIZING_CODE_COUNT] = {
	[CDE_SIZING_EXECUTOR_CORES_GT_5] = "EXECUTOR_CORES_GT_5",
	[CDE_SIZING_EXECUTOR_HEAP_GT_32GIB] = "EXECUTOR_HEAP_GT_32GIB",
	[CDE_SIZING_EXECUTOR_HEAP_GT_200GIB] = "EXECUTOR_HEAP_GT_200GIB",
	[CDE_SIZING_DRIVER_LARGER_THAN_EXECUTOR] = "DRIVER_LARGER_THAN_EXECUTOR",
	[CDE_SIZING_EXECUTOR_CPU_LIMIT_BELOW_REQUEST] = "EXECUTOR_CPU_LIMIT_BELOW_REQUEST",
	[CDE_SIZING_DRIVER_CPU_LIMIT_BELOW_REQUEST] = "DRIVER_CPU_LIMIT_BELOW_REQUEST",
	[CDE_SIZING_EXECUTOR_POD_UNSCHEDULABLE] = "EXECUTOR_POD_UNSCHEDULABLE",
	[CDE_SIZING_DRIVER_POD_UNSCHEDULABLE] = "DRIVER_POD_UNSCHEDULABLE",
	[CDE_SIZING_POD_OVERHEAD_CAUSES_UNSCHEDULABLE] = "POD_OVERHEAD_CAUSES_UNSCHEDULABLE",
	[CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT] = "NON_JVM_OVERHEAD_BELOW_40PCT",
	[CDE_SIZING_NOT_ENOUGH_NODES] = "NOT_ENOUGH_NODES",
	[CDE_SIZING_CLUSTER_TOO_SMALL] = "CLUSTER_TOO_SMALL",
	[CDE_SIZING_EXECUTOR_NODE_WASTE] = "EXECUTOR_NODE_WASTE",
	[CDE_SIZING_DYNAMIC_ALLOCATION_UNBOUNDED] = "DYNAMIC_ALLOCATION_UNBOUNDED",
	[CDE_SIZING_HEAP_BELOW_SPARK_MINIMUM] = "HEAP_BELOW_SPARK_MINIMUM",
	[CDE_SIZING_CONF_KEY_IGNORED] = "CONF_KEY_IGNORED",
};

const char *cde_sizing_code_name(enum cde_sizing_code code)
{
	if ((unsigned)code >= CDE_SIZING_CODE_COUNT || !code_names[code])
		return "UNKNOWN";
	return code_names[code];
}

void cde_sizing_warn(struct cde_sizing_result *r, enum cde_sizing_code code, const char *fmt, ...)
{
	struct cde_sizing_warning *w;
	va_list ap;

	if (r->n_warnings >= CDE_SIZING_WARNINGS_MAX) {
		r->dropped_warnings++;
		return;
	}
	w = &r->warnings[r->n_warnings++];
	w->code = code;
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
}

static unsigned clamp_count(uint64_t n)
{
	return n > COUNT_MAX ? COUNT_MAX : (unsigned)n;
}

/* How many executors to size for. Under dynamic allocation that is the
 * most Spark may run, maxExecutors; without one it is Spark's initial
 * target, the largest of minExecutors, initialExecutors and
 * spark.executor.instances (Utils.getDynamicAllocationInitialExecutors). */
static unsigned executor_count(const struct cde_sizing_conf *c)
{
	uint64_t n;

	if (!c->dyn_enabled.v)
		return c->instances.set ? clamp_count(c->instances.v) : DEFAULT_INSTANCES;
	if (c->dyn_max.set)
		return clamp_count(c->dyn_max.v);
	n = c->dyn_min.v;
	if (c->dyn_initial.set && c->dyn_initial.v > n)
		n = c->dyn_initial.v;
	if (c->instances.set && c->instances.v > n)
		n = c->instances.v;
	return clamp_count(n);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	uint64_t p;

	return __builtin_mul_overflow(a, b, &p) ? UINT64_MAX : p;
}

static uint64_t div_ceil(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

static void place_on_nodes(const struct cde_sizing_input *in, struct cde_sizing_result *r)
{
	const struct cde_sizing_cluster *c = &in->cluster;
	struct cde_sizing_demand ex, dr, bare;
	uint64_t cpu, mem;

	r->has_node = true;
	cde_sizing_allocatable(c, &r->allocatable_cpu_millis, &r->allocatable_memory_mib);
	cpu = r->allocatable_cpu_millis;
	mem = r->allocatable_memory_mib * CDE_MIB;

	cde_sizing_demand_of(&r->executor, c, true, &ex);
	cde_sizing_demand_of(&r->driver, c, true, &dr);
	r->executors_per_node = cde_sizing_pods_fitting(&ex, cpu, mem, c->max_pods);
	r->executor.fits_node = r->executors_per_node > 0;
	r->driver.fits_node = cde_sizing_pods_fitting(&dr, cpu, mem, c->max_pods) > 0;
	cde_sizing_demand_of(&r->executor, c, false, &bare);
	r->executor.fits_node_without_overhead = cde_sizing_pods_fitting(&bare, cpu, mem, 0) > 0;
	cde_sizing_demand_of(&r->driver, c, false, &bare);
	r->driver.fits_node_without_overhead = cde_sizing_pods_fitting(&bare, cpu, mem, 0) > 0;
	r->fits = r->executor.fits_node && r->driver.fits_node;
	if (!r->fits)
		return;

	/* The driver takes its share of one node; the others carry full
	 * loads of executors. */
	if (c->max_pods != 1)
		r->executors_beside_driver = cde_sizing_pods_fitting(&ex, cpu - dr.cpu_millis,
							mem - dr.memory_bytes,
							c->max_pods ? c->max_pods - 1 : 0);
	r->has_nodes_needed = true;
	r->executor_nodes_needed = clamp_count(div_ceil(r->executors, r->executors_per_node));
	if (r->executors <= r->executors_beside_driver)
		r->nodes_needed = 1;
	else
		r->nodes_needed = clamp_count(
			1 + div_ceil(r->executors - r->executors_beside_driver,
				     r->executors_per_node));
}

static void add_totals(const struct cde_sizing_input *in, struct cde_sizing_result *r)
{
	uint64_t ov_cpu = 0, ov_mem = 0, mem;

	if (in->has_cluster) {
		ov_cpu = in->cluster.pod_overhead_cpu_millis;
		ov_mem = in->cluster.pod_overhead_memory_bytes;
	}
	r->total_pods = clamp_count((uint64_t)r->executors + 1);
	r->total_cpu_request_millis =
		sat_add(sat_mul(r->executors, r->executor.cpu_request_millis + ov_cpu),
			r->driver.cpu_request_millis + ov_cpu);
	mem = sat_add(sat_mul(r->executors, r->executor.memory_mib * CDE_MIB + ov_mem),
		      r->driver.memory_mib * CDE_MIB + ov_mem);
	r->total_memory_request_mib = mem == UINT64_MAX ? UINT64_MAX : div_ceil(mem, CDE_MIB);
}

void cde_sizing_compute(const struct cde_sizing_input *in, struct cde_sizing_result *ret)
{
	struct cde_sizing_rules rules;

	memset(ret, 0, sizeof(*ret));
	cde_sizing_rules_for(in->spark_major, in->spark_minor, &rules);
	ret->rules = rules.name;
	cde_sizing_pods(in, &ret->executor, &ret->driver);
	ret->executors = executor_count(&in->conf);
	cde_sizing_warn_conf(in, &rules, ret);
	if (in->has_cluster) {
		place_on_nodes(in, ret);
		cde_sizing_warn_nodes(in, ret);
	}
	add_totals(in, ret);
}
