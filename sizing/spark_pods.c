/* The driver and executor pods exactly as Spark's Kubernetes backend
 * builds them, in cluster mode. Sources (apache/spark,
 * resource-managers/kubernetes/core/.../features/ and core/.../resource/):
 *
 *   BasicDriverFeatureStep: memory = spark.driver.memory + overhead, where
 *     overhead = spark.driver.memoryOverhead, else
 *     max((factor * memory).toInt, minimum). Nothing else is added to the
 *     driver: no PySpark memory, no off-heap. CPU request =
 *     spark.kubernetes.driver.request.cores, else spark.driver.cores; limit =
 *     spark.kubernetes.driver.limit.cores, absent when unset.
 *   The driver's "default factor" is spark.kubernetes.memoryOverheadFactor
 *     when set, else 0.4 (NON_JVM_MEMORY_OVERHEAD_FACTOR) for Python and R,
 *     0.1 for the JVM; the driver writes it into the executors' conf as
 *     spark.kubernetes.memoryOverheadFactor, which is how executors of a
 *     Python job get 0.4 (and why client mode, not modelled, does not).
 *   BasicExecutorFeatureStep with ResourceProfile.getResourcesForClusterManager
 *     (default profile): memory = spark.executor.memory + overhead
 *     + off-heap (spark.memory.offHeap.size, only when
 *     spark.memory.offHeap.enabled) + spark.executor.pyspark.memory (Python
 *     jobs only, not R). CPU request = spark.kubernetes.executor.request.cores,
 *     else spark.executor.cores.
 *   Memory request and limit are the same quantity for both roles.
 *
 * Version by version (from the sources of 3.2, 3.5 and 4.x, the keys'
 * .version() and the JIRA issues that changed them):
 *   3.0      the factor is spark.kubernetes.memoryOverheadFactor or the
 *            non-JVM 0.4; off-heap is not in the executor pod.
 *   3.1-3.2  off-heap joins the executor pod (SPARK-33288, resource
 *            profiles on Kubernetes).
 *   3.3-3.5  spark.driver.memoryOverheadFactor and
 *            spark.executor.memoryOverheadFactor win over the
 *            spark.kubernetes one when set (SPARK-38194).
 *   4.0+     the 384 MiB minimum becomes spark.driver.minMemoryOverhead and
 *            spark.executor.minMemoryOverhead, default 384m (SPARK-47208).
 * Rounding is Spark's: (factor * heap).toInt truncates toward zero (and
 * saturates at Int.MaxValue), in IEEE doubles, which C's double shares. */

#include "sizing/sizing_internal.h"

#include <stdint.h>
#include <string.h>

#define DEFAULT_MEMORY_MIB 1024		/* spark.{driver,executor}.memory = 1g */
#define MIN_OVERHEAD_MIB 384		/* ResourceProfile.MEMORY_OVERHEAD_MIN_MIB */
#define JVM_FACTOR 0.1			/* spark.kubernetes.memoryOverheadFactor default */
#define NON_JVM_FACTOR 0.4		/* Constants.NON_JVM_MEMORY_OVERHEAD_FACTOR */

void cde_sizing_rules_for(unsigned major, unsigned minor, struct cde_sizing_rules *ret)
{
	unsigned v = major * 100 + minor;

	/* 0.0 means "newest"; versions past the newest known get its rules. */
	if (major == 0)
		v = 400;
	ret->offheap_in_pod = v >= 301;
	ret->role_factors = v >= 303;
	ret->min_overhead_keys = v >= 400;
	ret->name = v >= 400 ? "4.0+" : v >= 303 ? "3.3-3.5" : v >= 301 ? "3.1-3.2" : "3.0";
}

const char *cde_sizing_role_name(enum cde_sizing_role role)
{
	return role == CDE_SIZING_DRIVER ? "driver" : "executor";
}

static const struct cde_sizing_role_conf *role_conf(const struct cde_sizing_input *in,
						     enum cde_sizing_role role)
{
	return role == CDE_SIZING_DRIVER ? &in->conf.driver : &in->conf.executor;
}

uint64_t cde_sizing_factor_overhead_mib(double factor, uint64_t heap_mib, uint64_t min_mib)
{
	double product = factor * (double)heap_mib;
	uint64_t share;

	/* Scala's Double.toInt: truncation, saturating at Int.MaxValue. */
	if (!(product > 0))
		share = 0;
	else if (product >= 2147483647.0)
		share = 2147483647;
	else
		share = (uint64_t)product;
	return share > min_mib ? share : min_mib;
}

double cde_sizing_overhead_factor(const struct cde_sizing_input *in, enum cde_sizing_role role)
{
	struct cde_sizing_rules rules;
	const struct cde_sizing_role_conf *rc = role_conf(in, role);
	double base;

	cde_sizing_rules_for(in->spark_major, in->spark_minor, &rules);
	if (in->conf.k8s_overhead_factor.set)
		base = in->conf.k8s_overhead_factor.v;
	else
		base = in->language == CDE_SIZING_JVM ? JVM_FACTOR : NON_JVM_FACTOR;
	if (rules.role_factors && rc->overhead_factor.set)
		return rc->overhead_factor.v;
	return base;
}

uint64_t cde_sizing_min_overhead_mib(const struct cde_sizing_input *in, enum cde_sizing_role role)
{
	struct cde_sizing_rules rules;
	const struct cde_sizing_role_conf *rc = role_conf(in, role);

	cde_sizing_rules_for(in->spark_major, in->spark_minor, &rules);
	if (rules.min_overhead_keys && rc->min_overhead_mib.set)
		return rc->min_overhead_mib.v;
	return MIN_OVERHEAD_MIB;
}

static uint64_t clamp_mib(uint64_t v)
{
	/* A hand-built input is clamped, not trusted (see sizing.h). */
	uint64_t max = CDE_SIZING_BYTES_MAX / CDE_MIB;

	return v > max ? max : v;
}

static uint64_t clamp_millis(uint64_t v)
{
	uint64_t max = UINT64_C(1) << 40;

	return v > max ? max : v;
}

static void role_pod(const struct cde_sizing_input *in, enum cde_sizing_role role,
		     struct cde_sizing_pod *pod)
{
	const struct cde_sizing_role_conf *rc = role_conf(in, role);

	memset(pod, 0, sizeof(*pod));
	pod->heap_mib = clamp_mib(rc->memory_mib.set ? rc->memory_mib.v : DEFAULT_MEMORY_MIB);
	if (rc->overhead_mib.set) {
		pod->overhead_explicit = true;
		pod->overhead_mib = clamp_mib(rc->overhead_mib.v);
	} else {
		uint64_t min = cde_sizing_min_overhead_mib(in, role);

		pod->overhead_factor = cde_sizing_overhead_factor(in, role);
		pod->overhead_mib = clamp_mib(
			cde_sizing_factor_overhead_mib(pod->overhead_factor, pod->heap_mib, min));
	}
	pod->memory_mib = pod->heap_mib + pod->overhead_mib;
	pod->cpu_request_millis = clamp_millis(rc->request_millis.set ? rc->request_millis.v
			: clamp_millis(rc->cores.set ? rc->cores.v : 1) * 1000);
	pod->has_cpu_limit = rc->limit_millis.set;
	pod->cpu_limit_millis = clamp_millis(rc->limit_millis.v);
}

void cde_sizing_pods(const struct cde_sizing_input *in, struct cde_sizing_pod *executor,
		     struct cde_sizing_pod *driver)
{
	struct cde_sizing_rules rules;

	cde_sizing_rules_for(in->spark_major, in->spark_minor, &rules);
	role_pod(in, CDE_SIZING_DRIVER, driver);
	role_pod(in, CDE_SIZING_EXECUTOR, executor);
	if (rules.offheap_in_pod && in->conf.offheap_enabled.v && in->conf.offheap_mib.set)
		executor->offheap_mib = clamp_mib(in->conf.offheap_mib.v);
	if (in->language == CDE_SIZING_PYTHON && in->conf.pyspark_mib.set)
		executor->pyspark_mib = clamp_mib(in->conf.pyspark_mib.v);
	executor->memory_mib += executor->offheap_mib + executor->pyspark_mib;
}
