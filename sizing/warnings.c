/* The warnings: each code is a stable API name (sizing.h) and each check
 * below says, in its comment, what the code means and why a data engineer
 * would care. Messages carry the numbers that triggered them so that the
 * warning alone is enough to act on. */

#include "sizing/sizing_internal.h"

#include <stdio.h>

#define CORES_PER_EXECUTOR_MAX 5
#define COMPRESSED_OOPS_MIB 32768	/* 32 GiB */
#define HUGE_HEAP_MIB 204800		/* 200 GiB */
#define SPARK_MIN_HEAP_MIB 450		/* UnifiedMemoryManager: 1.5 * 300 MiB reserved */
#define WASTE_PCT 25
#define NON_JVM_SHARE 0.4		/* Constants.NON_JVM_MEMORY_OVERHEAD_FACTOR */

typedef unsigned long long ull;

/* Cores as Kubernetes writes them: "2", "0.5", "0.25", "1.125". */
static const char *cores(uint64_t millis, char *buf, size_t size)
{
	if (millis % 1000 == 0)
		snprintf(buf, size, "%llu", (ull)(millis / 1000));
	else if (millis % 100 == 0)
		snprintf(buf, size, "%llu.%llu", (ull)(millis / 1000), (ull)(millis % 1000) / 100);
	else if (millis % 10 == 0)
		snprintf(buf, size, "%llu.%02llu", (ull)(millis / 1000), (ull)(millis % 1000) / 10);
	else
		snprintf(buf, size, "%llu.%03llu", (ull)(millis / 1000), (ull)(millis % 1000));
	return buf;
}

static void warn_ignored_keys(const struct cde_sizing_input *in,
			      const struct cde_sizing_rules *rules, enum cde_sizing_role role,
			      struct cde_sizing_result *r)
{
	const struct cde_sizing_role_conf *rc =
		role == CDE_SIZING_DRIVER ? &in->conf.driver : &in->conf.executor;
	const char *name = cde_sizing_role_name(role);

	/* CONF_KEY_IGNORED: a key is set that this Spark version, this
	 * language or another key makes ineffective. The pod is sized without
	 * it, which is rarely what the person who set it expected. */
	if (rc->overhead_factor.set && !rules->role_factors)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.%s.memoryOverheadFactor has no effect before Spark 3.3; "
				"this version reads spark.kubernetes.memoryOverheadFactor", name);
	else if (rc->overhead_factor.set && rc->overhead_mib.set)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.%s.memoryOverheadFactor has no effect: "
				"spark.%s.memoryOverhead is set", name, name);
	if (rc->min_overhead_mib.set && !rules->min_overhead_keys)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.%s.minMemoryOverhead has no effect before Spark 4.0; "
				"the minimum overhead is 384 MiB", name);
	else if (rc->min_overhead_mib.set && rc->overhead_mib.set)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.%s.minMemoryOverhead has no effect: "
				"spark.%s.memoryOverhead is set", name, name);
}

static void warn_role(const struct cde_sizing_input *in, enum cde_sizing_role role,
		      struct cde_sizing_result *r)
{
	const struct cde_sizing_pod *pod = role == CDE_SIZING_DRIVER ? &r->driver : &r->executor;
	const char *name = cde_sizing_role_name(role);
	uint64_t non_jvm = cde_sizing_factor_overhead_mib(NON_JVM_SHARE, pod->heap_mib,
							  cde_sizing_min_overhead_mib(in, role));
	char a[32], b[32];

	/* EXECUTOR_CPU_LIMIT_BELOW_REQUEST, DRIVER_CPU_LIMIT_BELOW_REQUEST:
	 * the API server rejects a pod whose limit is below its request, so
	 * the job fails at submission (driver) or never gets executors. */
	if (pod->has_cpu_limit && pod->cpu_limit_millis < pod->cpu_request_millis)
		cde_sizing_warn(r, role == CDE_SIZING_DRIVER ?
					   CDE_SIZING_DRIVER_CPU_LIMIT_BELOW_REQUEST :
					   CDE_SIZING_EXECUTOR_CPU_LIMIT_BELOW_REQUEST,
				"spark.kubernetes.%s.limit.cores (%s) is below the %s CPU request "
				"(%s): Kubernetes rejects the pod", name,
				cores(pod->cpu_limit_millis, a, sizeof(a)), name,
				cores(pod->cpu_request_millis, b, sizeof(b)));

	/* NON_JVM_OVERHEAD_BELOW_40PCT: Python and R workers live outside the
	 * heap, in the overhead; Spark's own default for such jobs is 40% of
	 * the heap, and less is the usual cause of OOMKilled executors. The
	 * comparison is with what Spark's 0.4 gives (truncated, at least the
	 * minimum), so that the default itself never warns. */
	if (in->language != CDE_SIZING_JVM && pod->overhead_mib < non_jvm)
		cde_sizing_warn(r, CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT,
				"the %s overhead (%llu MiB) is below 40%% of its heap (%llu MiB), "
				"Spark's default for Python and R jobs, whose workers live in "
				"the overhead", name, (ull)pod->overhead_mib, (ull)pod->heap_mib);

	/* HEAP_BELOW_SPARK_MINIMUM: Spark's memory manager refuses to start
	 * with less than 450 MiB of heap (1.5 times its 300 MiB reserve). */
	if (pod->heap_mib < SPARK_MIN_HEAP_MIB)
		cde_sizing_warn(r, CDE_SIZING_HEAP_BELOW_SPARK_MINIMUM,
				"spark.%s.memory is %llu MiB: Spark needs at least 450 MiB of heap "
				"and fails at start with less", name, (ull)pod->heap_mib);
}

void cde_sizing_warn_conf(const struct cde_sizing_input *in, const struct cde_sizing_rules *rules,
			  struct cde_sizing_result *r)
{
	const struct cde_sizing_conf *c = &in->conf;
	uint64_t exec_cores = c->executor.cores.set ? c->executor.cores.v : 1;

	/* EXECUTOR_CORES_GT_5: more than five concurrent tasks per executor
	 * is the point where HDFS/S3 client throughput and GC per JVM stop
	 * scaling; more, smaller executors do better. */
	if (exec_cores > CORES_PER_EXECUTOR_MAX)
		cde_sizing_warn(r, CDE_SIZING_EXECUTOR_CORES_GT_5,
				"spark.executor.cores is %llu: above 5 tasks per executor I/O "
				"throughput and GC stop scaling; prefer more, smaller executors",
				(ull)exec_cores);

	/* EXECUTOR_HEAP_GT_32GIB: above 32 GiB the JVM loses compressed
	 * object pointers, so a heap up to about 48 GiB holds less than a
	 * 31 GiB one. */
	if (r->executor.heap_mib > COMPRESSED_OOPS_MIB)
		cde_sizing_warn(r, CDE_SIZING_EXECUTOR_HEAP_GT_32GIB,
				"the executor heap is %llu MiB: above 32 GiB the JVM loses "
				"compressed pointers; stay at 31g or go well past 48g",
				(ull)r->executor.heap_mib);

	/* EXECUTOR_HEAP_GT_200GIB: garbage collection pauses on such heaps
	 * last long enough to miss heartbeats and lose the executor. */
	if (r->executor.heap_mib > HUGE_HEAP_MIB)
		cde_sizing_warn(r, CDE_SIZING_EXECUTOR_HEAP_GT_200GIB,
				"the executor heap is %llu MiB: above 200 GiB GC pauses risk "
				"heartbeat timeouts; split it into several executors",
				(ull)r->executor.heap_mib);

	/* DRIVER_LARGER_THAN_EXECUTOR: a driver pod bigger than an executor
	 * pod usually hides a collect() of large data, and it is the one pod
	 * whose loss kills the job. */
	if (r->driver.memory_mib > r->executor.memory_mib)
		cde_sizing_warn(r, CDE_SIZING_DRIVER_LARGER_THAN_EXECUTOR,
				"the driver pod (%llu MiB) is larger than an executor pod "
				"(%llu MiB); check that the driver really needs it",
				(ull)r->driver.memory_mib, (ull)r->executor.memory_mib);

	warn_role(in, CDE_SIZING_EXECUTOR, r);
	warn_role(in, CDE_SIZING_DRIVER, r);

	/* DYNAMIC_ALLOCATION_UNBOUNDED: without maxExecutors Spark may ask
	 * for as many executors as there are pending tasks; the sizing uses
	 * the initial target instead, which is not a bound. */
	if (c->dyn_enabled.v && !c->dyn_max.set)
		cde_sizing_warn(r, CDE_SIZING_DYNAMIC_ALLOCATION_UNBOUNDED,
				"spark.dynamicAllocation.maxExecutors is not set, so Spark may "
				"request any number of executors; sized for the initial %u",
				r->executors);

	warn_ignored_keys(in, rules, CDE_SIZING_EXECUTOR, r);
	warn_ignored_keys(in, rules, CDE_SIZING_DRIVER, r);
	if (c->pyspark_mib.set && in->language != CDE_SIZING_PYTHON)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.executor.pyspark.memory has no effect: "
				"the job is not Python");
	if (c->offheap_enabled.v && c->offheap_mib.set && !rules->offheap_in_pod)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"before Spark 3.1 off-heap memory is not added to the executor "
				"pod: raise spark.executor.memoryOverhead by %llu MiB",
				(ull)c->offheap_mib.v);
	if (c->offheap_mib.set && !c->offheap_enabled.v)
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.memory.offHeap.size has no effect: "
				"spark.memory.offHeap.enabled is not true");
	if (!c->dyn_enabled.v && (c->dyn_min.set || c->dyn_max.set || c->dyn_initial.set))
		cde_sizing_warn(r, CDE_SIZING_CONF_KEY_IGNORED,
				"spark.dynamicAllocation.*Executors have no effect: "
				"spark.dynamicAllocation.enabled is not true");
}

static void warn_unschedulable(const struct cde_sizing_input *in, enum cde_sizing_role role,
			       struct cde_sizing_result *r)
{
	const struct cde_sizing_pod *pod = role == CDE_SIZING_DRIVER ? &r->driver : &r->executor;
	const struct cde_sizing_cluster *c = &in->cluster;
	char a[32], b[32];
	struct cde_sizing_demand d;

	if (pod->fits_node)
		return;
	cde_sizing_demand_of(pod, c, true, &d);

	/* EXECUTOR_POD_UNSCHEDULABLE, DRIVER_POD_UNSCHEDULABLE: the pod
	 * requests more than an empty node's allocatable CPU or memory; it
	 * stays Pending for ever (or until an autoscaler finds bigger nodes). */
	cde_sizing_warn(r, role == CDE_SIZING_DRIVER ? CDE_SIZING_DRIVER_POD_UNSCHEDULABLE :
						       CDE_SIZING_EXECUTOR_POD_UNSCHEDULABLE,
			"the %s pod requests %s CPU and %llu MiB (pod overhead included) but "
			"a node has %s CPU and %llu MiB allocatable", cde_sizing_role_name(role),
			cores(d.cpu_millis, a, sizeof(a)),
			(ull)((d.memory_bytes + CDE_MIB - 1) / CDE_MIB),
			cores(r->allocatable_cpu_millis, b, sizeof(b)),
			(ull)r->allocatable_memory_mib);

	/* POD_OVERHEAD_CAUSES_UNSCHEDULABLE: the pod alone would fit; the
	 * RuntimeClass overhead (gVisor, Kata...) added to it by the
	 * scheduler is what tips it over. */
	if (pod->fits_node_without_overhead)
		cde_sizing_warn(r, CDE_SIZING_POD_OVERHEAD_CAUSES_UNSCHEDULABLE,
				"the %s pod fits a node without the RuntimeClass overhead "
				"(%s CPU, %llu MiB) but not with it", cde_sizing_role_name(role),
				cores(c->pod_overhead_cpu_millis, a, sizeof(a)),
				(ull)((c->pod_overhead_memory_bytes + CDE_MIB - 1) / CDE_MIB));
}

static void warn_waste(const struct cde_sizing_input *in, struct cde_sizing_result *r)
{
	struct cde_sizing_demand d;
	uint64_t cpu = r->allocatable_cpu_millis;
	uint64_t mem = r->allocatable_memory_mib * CDE_MIB;
	uint64_t per = r->executors_per_node;
	unsigned cpu_idle = 0, mem_idle = 0;

	/* Only full nodes waste: a job smaller than one node leaves room for
	 * others. */
	if (per == 0 || r->executors < per || cpu == 0 || mem == 0)
		return;
	cde_sizing_demand_of(&r->executor, &in->cluster, true, &d);
	if (d.cpu_millis)
		cpu_idle = (unsigned)((cpu - per * d.cpu_millis) * 100 / cpu);
	mem_idle = (unsigned)((mem - per * d.memory_bytes) * 100 / mem);

	/* EXECUTOR_NODE_WASTE: packing executors onto a node leaves more than
	 * a quarter of its allocatable CPU or memory unrequested: paid for,
	 * never used by this job. The message gives the executor shape that
	 * would use both. */
	if (cpu_idle <= WASTE_PCT && mem_idle <= WASTE_PCT)
		return;
	cde_sizing_warn(r, CDE_SIZING_EXECUTOR_NODE_WASTE,
			"%llu executors per node leave %u%% of its %s unrequested; executors "
			"with about %llu MiB per core would use both", (ull)per,
			mem_idle >= cpu_idle ? mem_idle : cpu_idle,
			mem_idle >= cpu_idle ? "memory" : "CPU",
			(ull)(r->allocatable_memory_mib * 1000 / cpu));
}

void cde_sizing_warn_nodes(const struct cde_sizing_input *in, struct cde_sizing_result *r)
{
	const struct cde_sizing_cluster *c = &in->cluster;
	const struct cde_sizing_conf *conf = &in->conf;

	warn_unschedulable(in, CDE_SIZING_EXECUTOR, r);
	warn_unschedulable(in, CDE_SIZING_DRIVER, r);
	if (!r->fits)
		return;

	/* NOT_ENOUGH_NODES: the pool has fewer nodes than the job's pods need
	 * when packed tightly; the rest stay Pending (or wait for the
	 * autoscaler). */
	if (c->nodes && r->nodes_needed > c->nodes)
		cde_sizing_warn(r, CDE_SIZING_NOT_ENOUGH_NODES,
				"%u executors and the driver need %u nodes; the pool has %u",
				r->executors, r->nodes_needed, c->nodes);

	/* CLUSTER_TOO_SMALL: the pool cannot hold the driver and the least
	 * the job needs to make progress: one executor, or minExecutors under
	 * dynamic allocation. The job hangs rather than runs slowly. */
	if (c->nodes) {
		uint64_t need = conf->dyn_enabled.v && conf->dyn_min.v > 1 ? conf->dyn_min.v : 1;
		uint64_t room = r->executors_beside_driver +
				(uint64_t)(c->nodes - 1) * r->executors_per_node;

		if (r->executors > 0 && room < need)
			cde_sizing_warn(r, CDE_SIZING_CLUSTER_TOO_SMALL,
					"%u nodes hold the driver and at most %llu executors; the "
					"job needs at least %llu to run", c->nodes, (ull)room,
					(ull)need);
	}
	warn_waste(in, r);
}
