#pragma once
/* Sizing for Spark on Kubernetes (issue 6): what Spark's Kubernetes
 * scheduler backend will request for the driver and executor pods, what a
 * node of a managed cluster can give, and how the two meet. Pure: no I/O,
 * no logging, no allocation except the cJSON trees the *_to_json functions
 * return.
 *
 * The pod rules follow Spark's BasicDriverFeatureStep,
 * BasicExecutorFeatureStep and ResourceProfile.getResourcesForClusterManager
 * for Spark 3.0 to 4.x in cluster mode (the driver runs in a pod and hands
 * its overhead factor to the executors); sizing/spark_pods.c says which
 * version changed what. The node rules are GKE's, EKS's and AKS's published
 * reservations; sizing/node.c gives the formulas. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

enum cde_sizing_language {
	CDE_SIZING_JVM,
	CDE_SIZING_PYTHON,
	CDE_SIZING_R,
};

enum cde_sizing_provider {
	CDE_SIZING_NONE,	/* allocatable = capacity */
	CDE_SIZING_GKE,
	CDE_SIZING_EKS,
	CDE_SIZING_AKS,
};

enum cde_sizing_role {
	CDE_SIZING_EXECUTOR,
	CDE_SIZING_DRIVER,
};

/* A Spark setting as SparkConf sees it: @set is SparkConf.contains(), the
 * defaults are applied when sizing, so "unset" and "set to the default"
 * stay distinguishable (they differ: an explicit overhead wins over any
 * factor, a set spark.kubernetes.memoryOverheadFactor wins over the
 * non-JVM 0.4). */
struct cde_sizing_u64 {
	bool set;
	uint64_t v;
};

struct cde_sizing_f64 {
	bool set;
	double v;
};

struct cde_sizing_bool {
	bool set;
	bool v;
};

/* The keys that differ between the driver and the executors. */
struct cde_sizing_role_conf {
	struct cde_sizing_u64 memory_mib;	/* spark.<role>.memory, default 1g */
	struct cde_sizing_u64 overhead_mib;	/* spark.<role>.memoryOverhead */
	struct cde_sizing_f64 overhead_factor;	/* spark.<role>.memoryOverheadFactor (3.3+) */
	struct cde_sizing_u64 min_overhead_mib;	/* spark.<role>.minMemoryOverhead (4.0+) */
	struct cde_sizing_u64 cores;		/* spark.<role>.cores, default 1 */
	struct cde_sizing_u64 request_millis;	/* spark.kubernetes.<role>.request.cores */
	struct cde_sizing_u64 limit_millis;	/* spark.kubernetes.<role>.limit.cores */
};

struct cde_sizing_conf {
	struct cde_sizing_role_conf executor;
	struct cde_sizing_role_conf driver;
	/* spark.kubernetes.memoryOverheadFactor */
	struct cde_sizing_f64 k8s_overhead_factor;
	struct cde_sizing_u64 pyspark_mib;		/* spark.executor.pyspark.memory */
	struct cde_sizing_bool offheap_enabled;		/* spark.memory.offHeap.enabled */
	struct cde_sizing_u64 offheap_mib;		/* spark.memory.offHeap.size */
	struct cde_sizing_u64 instances;		/* spark.executor.instances, default 2 */
	struct cde_sizing_bool dyn_enabled;		/* spark.dynamicAllocation.enabled */
	struct cde_sizing_u64 dyn_min;		/* ...minExecutors, default 0 */
	struct cde_sizing_u64 dyn_max;		/* ...maxExecutors, default unbounded */
	struct cde_sizing_u64 dyn_initial;	/* ...initialExecutors */
};

/* A node pool: every node alike. */
struct cde_sizing_cluster {
	enum cde_sizing_provider provider;
	uint64_t node_cpu_millis;
	uint64_t node_memory_bytes;
	unsigned nodes;			/* 0: not given */
	unsigned max_pods;		/* 0: not given (required for eks, aks >= 1.29) */
	unsigned aks_major, aks_minor;	/* 0.0: not given, newest rules */
	uint64_t pod_overhead_cpu_millis;	/* RuntimeClass overhead, added to every pod */
	uint64_t pod_overhead_memory_bytes;
};

struct cde_sizing_input {
	unsigned spark_major, spark_minor;	/* the rules to apply; 0.0: newest */
	enum cde_sizing_language language;
	struct cde_sizing_conf conf;
	bool has_cluster;
	struct cde_sizing_cluster cluster;
};

/* Warning codes are a stable API: clients match on the names
 * cde_sizing_code_name() returns. Only ever append. What each means is
 * documented next to its check in sizing/warnings.c. */
enum cde_sizing_code {
	CDE_SIZING_EXECUTOR_CORES_GT_5,
	CDE_SIZING_EXECUTOR_HEAP_GT_32GIB,
	CDE_SIZING_EXECUTOR_HEAP_GT_200GIB,
	CDE_SIZING_DRIVER_LARGER_THAN_EXECUTOR,
	CDE_SIZING_EXECUTOR_CPU_LIMIT_BELOW_REQUEST,
	CDE_SIZING_DRIVER_CPU_LIMIT_BELOW_REQUEST,
	CDE_SIZING_EXECUTOR_POD_UNSCHEDULABLE,
	CDE_SIZING_DRIVER_POD_UNSCHEDULABLE,
	CDE_SIZING_POD_OVERHEAD_CAUSES_UNSCHEDULABLE,
	CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT,
	CDE_SIZING_NOT_ENOUGH_NODES,
	CDE_SIZING_CLUSTER_TOO_SMALL,
	CDE_SIZING_EXECUTOR_NODE_WASTE,
	CDE_SIZING_DYNAMIC_ALLOCATION_UNBOUNDED,
	CDE_SIZING_HEAP_BELOW_SPARK_MINIMUM,
	CDE_SIZING_CONF_KEY_IGNORED,
	CDE_SIZING_CODE_COUNT,
};

#define CDE_SIZING_WARNINGS_MAX 32
#define CDE_SIZING_MESSAGE_MAX 192

struct cde_sizing_warning {
	enum cde_sizing_code code;
	char message[CDE_SIZING_MESSAGE_MAX];
};

/* One pod as Spark builds it. Memory request and limit are always equal
 * (Spark sets both to the same quantity). */
struct cde_sizing_pod {
	uint64_t heap_mib;
	uint64_t overhead_mib;
	bool overhead_explicit;		/* spark.<role>.memoryOverhead was used */
	double overhead_factor;		/* the factor used when not explicit */
	uint64_t pyspark_mib;		/* executors of Python jobs only */
	uint64_t offheap_mib;		/* executors only, Spark 3.1+ */
	uint64_t memory_mib;		/* request = limit */
	uint64_t cpu_request_millis;
	bool has_cpu_limit;
	uint64_t cpu_limit_millis;
	bool fits_node;			/* on an empty node, pod overhead included */
	bool fits_node_without_overhead;
};

struct cde_sizing_result {
	const char *rules;		/* "3.0", "3.1-3.2", "3.3-3.5" or "4.0+" */
	struct cde_sizing_pod executor;
	struct cde_sizing_pod driver;
	unsigned executors;		/* instances, or maxExecutors under dynamic allocation */
	bool has_node;			/* false without a cluster description */
	uint64_t allocatable_cpu_millis;	/* kube-reserved and eviction removed, floored */
	uint64_t allocatable_memory_mib;
	unsigned executors_per_node;	/* on an empty node; 0 when one does not fit */
	unsigned executors_beside_driver;	/* on the node that runs the driver */
	bool has_nodes_needed;		/* false when a pod fits no node */
	unsigned executor_nodes_needed;	/* ceil(executors / executors_per_node) */
	unsigned nodes_needed;		/* the same with the driver placed too */
	bool fits;			/* driver and an executor each fit an empty node */
	unsigned total_pods;
	uint64_t total_cpu_request_millis;	/* pod overhead included */
	uint64_t total_memory_request_mib;	/* pod overhead included, rounded up */
	size_t n_warnings;
	size_t dropped_warnings;
	struct cde_sizing_warning warnings[CDE_SIZING_WARNINGS_MAX];
};

/* Sets @in to Spark's defaults: newest rules, a JVM job, no key set, no
 * cluster. */
void cde_sizing_input_init(struct cde_sizing_input *in);

/* Parses a sizing request (see sizing/parse.c for the document) into
 * *@ret. Every problem is added to @errs with its JSON pointer, so one call
 * reports them all. Unknown top-level and cluster fields are errors;
 * unknown Spark keys are ignored (Spark has hundreds).
 * Returns 0, or -EINVAL with *@ret untouched. */
int cde_sizing_input_parse(const cJSON *req, struct cde_sizing_input *ret,
			   struct cde_errors *errs);

/* Parses a cluster description object alone (a request's "cluster", or a
 * named cluster of the configuration). @at is the escaped JSON pointer of
 * @obj in its document ("/cluster", "/clusters/etl"), used as the prefix
 * of every error. Returns 0, or -EINVAL with *@ret untouched. */
int cde_sizing_cluster_parse(const cJSON *obj, const char *at, struct cde_sizing_cluster *ret,
			     struct cde_errors *errs);

/* Computes the pods, the node facts and the warnings for @in into *@ret.
 * Cannot fail: an input cde_sizing_input_parse accepted is always sizable,
 * and out-of-range values in a hand-built input are clamped, not trusted. */
void cde_sizing_compute(const struct cde_sizing_input *in, struct cde_sizing_result *ret);

/* Returns the result as a new JSON object (caller frees):
 *   "rules": the Spark rule set applied ("3.3-3.5"),
 *   "executor", "driver": heapMiB, overheadMiB, overheadFactor (null when
 *     the overhead was explicit), memoryRequestMiB, memoryLimitMiB,
 *     cpuRequest and cpuLimit in cores (cpuLimit null when unset),
 *     fitsNode; the executor also count, pysparkMiB, offHeapMiB,
 *   "node": allocatableCpuMillis, allocatableMemoryMiB,
 *   "executorsPerNode", "executorsBesideDriver", "executorNodesNeeded",
 *   "nodesNeeded" (null when a pod fits no node),
 *   "fits", "totals" (pods, cpuRequest, memoryRequestMiB, pod overhead
 *   included) and "warnings" ([{"code", "message"}], with
 *   "warningsDropped" beside it when some did not fit).
 * Without a cluster, "node", the counts and fitsNode are absent and
 * "fits" is null: nothing is known about nodes, and unknown is not "no".
 * Returns NULL when out of memory. */
cJSON *cde_sizing_result_to_json(const struct cde_sizing_result *r);

/* The stable name of @code ("EXECUTOR_CORES_GT_5"), or "UNKNOWN". */
const char *cde_sizing_code_name(enum cde_sizing_code code);

/* What to change after a pod of @role was OOMKilled: more overhead, set
 * explicitly so that it does not depend on the Spark version's factor
 * rules. */
enum cde_sizing_remedy_kind {
	CDE_SIZING_REMEDY_DOUBLE_OVERHEAD,	/* the general case */
	CDE_SIZING_REMEDY_NON_JVM_FACTOR,	/* Python or R below Spark's non-JVM 0.4 */
};

struct cde_sizing_remedy {
	enum cde_sizing_role role;
	enum cde_sizing_remedy_kind kind;
	const char *conf_key;		/* "spark.executor.memoryOverhead" */
	char conf_value[24];		/* "1638m": what to set it to */
	uint64_t old_overhead_mib;
	uint64_t new_overhead_mib;
	uint64_t old_memory_mib;	/* pod memory request = limit */
	uint64_t new_memory_mib;
	bool has_node;			/* false without a cluster description */
	bool fits_node;			/* the new pod still fits an empty node */
	unsigned executors_per_node;	/* for executors, with the new size */
};

/* Computes the remedy for an OOMKilled pod of @role sized from @in: raise
 * a Python or R job's overhead to what Spark's non-JVM factor 0.4 gives
 * when it is below that, else double it. */
void cde_sizing_remedy(const struct cde_sizing_input *in, enum cde_sizing_role role,
		       struct cde_sizing_remedy *ret);

/* Returns @r as a new JSON object (caller frees), or NULL when out of
 * memory. */
cJSON *cde_sizing_remedy_to_json(const struct cde_sizing_remedy *r);

#define CDE_SIZING_NAME_MAX 64

/* A node pool named in the configuration's `clusters:` map. Parsed by
 * the loader with the same parser as a request's cluster
 * (cde_sizing_cluster_parse), so a file and a request cannot read a key
 * two ways. */
struct cde_sizing_named_cluster {
	char name[CDE_SIZING_NAME_MAX];
	struct cde_sizing_cluster cluster;
};

/* Reads a request's "cluster" value @v, at the escaped JSON pointer @at:
 * an object is a cluster description (cde_sizing_cluster_parse), a string
 * the name of one of the @n @clusters. Returns 0 and the cluster in
 * *@ret, or -EINVAL with the errors in @errs (*@ret untouched). */
int cde_sizing_cluster_resolve(const cJSON *v, const char *at, const struct cde_sizing_named_cluster *clusters,
			       size_t n, struct cde_sizing_cluster *ret, struct cde_errors *errs);
