#pragma once
/* Pod outcomes (issue 6): what became of a Kubernetes Pod, read from the
 * object `kubectl get pod -o json` prints (sizing/pod_outcome.c), and what
 * to do about it (sizing/pod_remedy.c). Pure:
 * no I/O, no logging, no allocation except the cJSON tree
 * cde_pod_outcome_to_json returns. Strings in the results either point
 * into the Pod document (valid while it lives) or are copied into fixed
 * buffers, so a classification never fails for want of memory. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "sizing/sizing.h"

/* The reasons are a stable API: consumers match on the names
 * cde_pod_reason_name() returns, which are Kubernetes' own words. Only
 * ever append. */
enum cde_pod_reason {
	CDE_POD_SUCCEEDED,		/* phase Succeeded */
	CDE_POD_RUNNING,		/* still running */
	CDE_POD_PENDING,		/* not started yet, nothing wrong known */
	CDE_POD_FAILED,			/* phase Failed, a container that could not run */
	CDE_POD_ERROR,			/* a container exited non-zero */
	CDE_POD_OOM_KILLED,
	CDE_POD_IMAGE_PULL_BACK_OFF,
	CDE_POD_ERR_IMAGE_PULL,		/* also InvalidImageName */
	CDE_POD_CRASH_LOOP_BACK_OFF,
	CDE_POD_CREATE_CONTAINER_CONFIG_ERROR,
	CDE_POD_UNSCHEDULABLE,
	CDE_POD_EVICTED,
	CDE_POD_DEADLINE_EXCEEDED,
	CDE_POD_UNKNOWN,		/* phase Unknown: the node stopped reporting */
	CDE_POD_REASON_COUNT,
};

/* What the reason means for the task the pod ran, in CDEvents words:
 * failure when the workload itself failed, error when the platform kept
 * it from running or finishing. */
enum cde_pod_verdict {
	CDE_POD_NOT_FINISHED,
	CDE_POD_SUCCESS,
	CDE_POD_FAILURE,
	CDE_POD_ERROR_OUTCOME,
};

enum cde_pod_spark_role {
	CDE_POD_SPARK_NONE,
	CDE_POD_SPARK_DRIVER,
	CDE_POD_SPARK_EXECUTOR,
};

#define CDE_POD_NAME_MAX 254		/* a DNS subdomain, 253 bytes */
#define CDE_POD_TAINT_MAX 160

/* Why the scheduler placed the pod nowhere, counted from the PodScheduled
 * condition's message ("0/5 nodes are available: 3 Insufficient memory,
 * 2 node(s) had untolerated taint {dedicated: gpu}. preemption: ..."). */
struct cde_pod_unschedulable {
	unsigned nodes;			/* the 5 of "0/5"; 0 when not said */
	unsigned insufficient_cpu;
	unsigned insufficient_memory;
	unsigned insufficient_storage;	/* ephemeral-storage */
	unsigned insufficient_other;	/* GPUs, hugepages...: see other_resource */
	unsigned taint;
	unsigned node_selector;		/* node affinity or nodeSelector */
	unsigned pod_affinity;		/* pod (anti-)affinity */
	unsigned too_many_pods;
	unsigned volume;
	unsigned other;
	char taint_text[CDE_POD_TAINT_MAX];	/* the first "{key: value}" named */
	char other_resource[64];		/* the first other resource named */
};

/* Kubernetes requests: absent is not zero to the scheduler's message
 * reader, so each carries whether it was set. */
struct cde_pod_quantity {
	bool set;
	uint64_t v;			/* bytes, or CPU millicores */
};

struct cde_pod_outcome {
	enum cde_pod_reason reason;
	enum cde_pod_verdict verdict;
	/* From metadata and spec (borrowed; namespace defaults to "default"). */
	const char *ns;
	const char *name;
	const char *uid;			/* NULL when absent */
	const char *phase;
	const char *node;			/* spec.nodeName, NULL when unscheduled */
	enum cde_pod_spark_role spark_role;
	const char *spark_app_name;		/* label spark-app-name */
	const char *spark_app_id;		/* label spark-app-selector */
	const char *spark_version;		/* label spark-version */
	const char *spark_exec_id;		/* label spark-exec-id */
	const char *pipeline_run;		/* label tekton.dev/pipelineRun */
	const char *task_name;			/* label tekton.dev/pipelineTask or tekton.dev/task */

	/* The container the reason is about: NULL for pod-level reasons
	 * (Unschedulable, Evicted, DeadlineExceeded) unless one is named. */
	const char *container;
	bool init_container;
	const char *image;			/* as the spec names it */
	const char *image_id;			/* the digest the node pulled */
	bool has_exit_code;
	int exit_code;
	const char *last_reason;		/* CrashLoopBackOff: the crash's reason */
	const char *pod_reason;			/* status.reason (Evicted, Shutdown...) */
	unsigned restarts;
	const char *finished_at;		/* state.terminated.finishedAt */
	/* The most specific explanation Kubernetes gave: status.message, the
	 * container state's message, or the PodScheduled condition's. */
	const char *message;

	/* The container's resources and, for Spark executors, its heap
	 * (env SPARK_EXECUTOR_MEMORY, which Spark sets on every executor). */
	struct cde_pod_quantity memory_limit, memory_request, cpu_request;
	struct cde_pod_quantity spark_heap;
	/* The pod's effective requests, as the scheduler adds them up:
	 * max(sum of containers, largest init container) + spec.overhead. */
	struct cde_pod_quantity pod_memory_request, pod_cpu_request;

	struct cde_pod_unschedulable unschedulable;
	/* CreateContainerConfigError: what is missing. */
	char config_kind[16];			/* "ConfigMap", "Secret", "" */
	char config_name[CDE_POD_NAME_MAX];
	char config_key[CDE_POD_NAME_MAX];
	/* Evicted: the resource the node ran short of. */
	char evicted_resource[32];
	/* spec.imagePullSecrets: how many, and the first one's name. */
	unsigned pull_secrets;
	const char *pull_secret;
	bool has_deadline;
	uint64_t deadline_seconds;		/* spec.activeDeadlineSeconds */
};

/* Classifies @pod, a Pod object as the API server returns it. @at is the
 * escaped JSON pointer of @pod in its document ("" for the whole body,
 * "/items/3", "/pod"), the prefix of every error.
 *
 * Reads phase, conditions, status.reason and message, every container's
 * state and lastState (init containers first: one that fails holds the
 * others back) and the Spark and Tekton labels. Pod-level reasons win
 * over container states (an evicted pod's containers only show the kill);
 * among containers the most telling state wins (OOMKilled over a back-off
 * over a non-zero exit), the first in order on a tie.
 *
 * Returns 0 and fills *@ret, or -EINVAL with every problem in @errs
 * (missing or mistyped fields, "kind" other than Pod) and *@ret
 * untouched. */
int cde_pod_classify(const cJSON *pod, const char *at, struct cde_pod_outcome *ret,
		     struct cde_errors *errs);

/* True for reasons that belong to the pod as a whole (Evicted,
 * DeadlineExceeded, Unschedulable, Unknown): its containers were only
 * stopped because of them. */
bool cde_pod_reason_is_pod_level(enum cde_pod_reason reason);

/* The stable name of @reason ("OOMKilled"), or "Unknown". */
const char *cde_pod_reason_name(enum cde_pod_reason reason);

/* "success", "failure", "error", or NULL for a pod not finished. */
const char *cde_pod_verdict_name(enum cde_pod_verdict verdict);

/* "driver", "executor", or NULL. */
const char *cde_pod_spark_role_name(enum cde_pod_spark_role role);

/* What exit code @code says, for a container of @role: the signal for
 * 128+n, Spark's own codes (50 uncaught exception, 52 JVM OutOfMemoryError,
 * ...) for Spark pods. A static string. */
const char *cde_pod_exit_code_meaning(int code, enum cde_pod_spark_role role);

/* Writes a Kubernetes quantity into @buf: memory as "64Gi", "4505Mi" or
 * bytes, CPU as "16" or "3920m". Always terminated. */
void cde_pod_format_memory(uint64_t bytes, char *buf, size_t size);
void cde_pod_format_cpu(uint64_t millis, char *buf, size_t size);

/* One line for people: "OOMKilled: container spark-kubernetes-executor,
 * exit code 137, memory limit 4505Mi". Always terminated. */
void cde_pod_outcome_summary(const struct cde_pod_outcome *o, char *buf, size_t size);

/* What to do. The action names are a stable API, like the reasons. */
enum cde_pod_action {
	CDE_POD_ACTION_NONE,			/* succeeded or still running */
	CDE_POD_ACTION_RAISE_MEMORY_OVERHEAD,	/* Spark pod OOMKilled */
	CDE_POD_ACTION_RAISE_MEMORY_LIMIT,	/* other pod OOMKilled */
	CDE_POD_ACTION_RAISE_HEAP,		/* Spark exit 52: the JVM heap */
	CDE_POD_ACTION_LOWER_REQUEST,		/* no node could ever fit the pod */
	CDE_POD_ACTION_ADD_NODES,		/* it fits an empty node: the nodes are full */
	CDE_POD_ACTION_FIX_SCHEDULING,		/* taints, selectors, affinity, volumes */
	CDE_POD_ACTION_CHECK_IMAGE,
	CDE_POD_ACTION_CREATE_CONFIG,		/* a ConfigMap or Secret is missing */
	CDE_POD_ACTION_READ_PREVIOUS_LOGS,	/* CrashLoopBackOff */
	CDE_POD_ACTION_READ_LOGS,		/* a non-zero exit */
	CDE_POD_ACTION_FIX_COMMAND,		/* the container could not start */
	CDE_POD_ACTION_LOCAL_STORAGE,		/* evicted for ephemeral storage */
	CDE_POD_ACTION_NODE_MEMORY,		/* evicted for node memory pressure */
	CDE_POD_ACTION_RAISE_DEADLINE,
	CDE_POD_ACTION_CHECK_NODE,		/* phase Unknown */
	CDE_POD_ACTION_COUNT,
};

#define CDE_POD_REMEDY_TEXT_MAX 640
#define CDE_POD_COMMAND_MAX 320

struct cde_pod_remedy {
	enum cde_pod_action action;
	char text[CDE_POD_REMEDY_TEXT_MAX];	/* what to do and why, for people */
	char command[CDE_POD_COMMAND_MAX];	/* the kubectl command to look first, or "" */
	/* The Spark setting to change and its new value, when one is known
	 * ("spark.executor.memoryOverhead", "1638m"). */
	char conf_key[64];
	char conf_value[32];
	/* OOMKilled Spark pods: the sizing module's answer. */
	bool has_sizing;
	bool sizing_from_pod;		/* derived from the pod, no Spark conf given */
	struct cde_sizing_remedy sizing;
	/* Unschedulable for memory or CPU: the request the scheduler could
	 * not place, what one node of the given cluster offers, and the
	 * smallest node of the same shape that would take the pod. */
	const char *resource;		/* "memory", "cpu", NULL */
	struct cde_pod_quantity request;
	struct cde_pod_quantity allocatable;
	bool fits_empty_node;		/* meaningful when allocatable.set */
	struct cde_pod_quantity node_cpu_that_fits;	/* millicores */
	struct cde_pod_quantity node_memory_that_fits;	/* bytes */
};

/* Computes the remedy for @o. @spark, when not NULL, is the hook's sizing
 * request (its cluster, when it has one, describes the nodes); @cluster,
 * when not NULL, describes the nodes without a Spark conf. The sizing
 * module is used where it applies: OOMKilled Spark pods (the overhead to
 * set, the new pod size, whether it still fits; without @spark, derived
 * from the container's limit and heap) and Unschedulable Spark pods (the
 * heap or CPU request that would fit, or the node that would). */
void cde_pod_remedy(const struct cde_pod_outcome *o, const struct cde_sizing_input *spark,
		    const struct cde_sizing_cluster *cluster, struct cde_pod_remedy *ret);

/* The name of @action ("raise_memory_overhead"), or "none". */
const char *cde_pod_action_name(enum cde_pod_action action);

/* Returns {"reason", "phase", "namespace", "pod", "container",
 * "initContainer", "exitCode", "exitCodeMeaning", "lastReason", "restarts",
 * "message", "node", "sparkRole", "sparkApp", "sparkAppId",
 * "memoryLimitMiB", "unschedulable": {...}, "remedy": {...}} as a new
 * object (caller frees); absent facts are left out. @remedy may be NULL.
 * Returns NULL when out of memory. */
cJSON *cde_pod_outcome_to_json(const struct cde_pod_outcome *o, const struct cde_pod_remedy *remedy);
