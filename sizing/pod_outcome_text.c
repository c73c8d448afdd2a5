/* Pod outcomes in words and in JSON: the stable names of reasons,
 * verdicts and Spark roles, what an exit code means, Kubernetes
 * quantities printed back, the one-line summary, and the JSON that goes
 * into customData.podOutcome. The classification is in pod_outcome.c. */

#include "sizing/pod_outcome.h"
#include "schemas/base/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

/* How much of a Kubernetes message goes into the JSON: the kubelet's are
 * short, but a termination message can be 4 KiB of stack trace. */
#define MESSAGE_JSON_MAX 1024

/* ---- names ---- */

static const char *const reason_names[CDE_POD_REASON_COUNT] = {
	[CDE_POD_SUCCEEDED] = "Succeeded",
	[CDE_POD_RUNNING] = "Running",
	[CDE_POD_PENDING] = "Pending",
	[CDE_POD_FAILED] = "Failed",
	[CDE_POD_ERROR] = "Error",
	[CDE_POD_OOM_KILLED] = "OOMKilled",
	[CDE_POD_IMAGE_PULL_BACK_OFF] = "ImagePullBackOff",
	[CDE_POD_ERR_IMAGE_PULL] = "ErrImagePull",
	[CDE_POD_CRASH_LOOP_BACK_OFF] = "CrashLoopBackOff",
	[CDE_POD_CREATE_CONTAINER_CONFIG_ERROR] = "CreateContainerConfigError",
	[CDE_POD_UNSCHEDULABLE] = "Unschedulable",
	[CDE_POD_EVICTED] = "Evicted",
	[CDE_POD_DEADLINE_EXCEEDED] = "DeadlineExceeded",
	[CDE_POD_UNKNOWN] = "Unknown",
};

const char *cde_pod_reason_name(enum cde_pod_reason reason)
{
	return (unsigned)reason < CDE_POD_REASON_COUNT ? reason_names[reason] : "Unknown";
}

const char *cde_pod_verdict_name(enum cde_pod_verdict verdict)
{
	switch (verdict) {
	case CDE_POD_SUCCESS: return "success";
	case CDE_POD_FAILURE: return "failure";
	case CDE_POD_ERROR_OUTCOME: return "error";
	case CDE_POD_NOT_FINISHED: return NULL;
	}
	return NULL;
}

const char *cde_pod_spark_role_name(enum cde_pod_spark_role role)
{
	return role == CDE_POD_SPARK_DRIVER ? "driver" :
	       role == CDE_POD_SPARK_EXECUTOR ? "executor" : NULL;
}

const char *cde_pod_exit_code_meaning(int code, enum cde_pod_spark_role role)
{
	/* Spark's own codes (SparkExitCode, ExecutorExitCode) come first:
	 * they are why a Spark container exits below 128. */
	if (role != CDE_POD_SPARK_NONE) {
		switch (code) {
		case 50: return "Spark: an uncaught exception (see the log)";
		case 51: return "Spark: an uncaught exception while handling one";
		case 52: return "Spark: the JVM ran out of heap (java.lang.OutOfMemoryError)";
		case 53: return "Spark: could not create a local directory (spark.local.dir)";
		case 56: return "Spark: the executor lost contact with the driver (heartbeats)";
		default: break;
		}
	}
	switch (code) {
	case 0: return "success";
	case 1: return "an application error";
	case 2: return "misuse of a shell builtin or bad arguments";
	case 126: return "the command is not executable";
	case 127: return "the command was not found in the image";
	case 128: return "the container runtime could not start the command";
	case 130: return "SIGINT: interrupted";
	case 134: return "SIGABRT: the process aborted (a JVM or native crash)";
	case 137: return "SIGKILL: killed by the OOM killer, a failed liveness probe or a forced stop";
	case 139: return "SIGSEGV: a segmentation fault";
	case 143: return "SIGTERM: stopped from outside (pod deleted, preempted, node drained)";
	default: break;
	}
	return code > 128 && code < 160 ? "killed by a signal (the code minus 128)" :
	       code < 0 ? "a container runtime error" : "an application-specific failure";
}

void cde_pod_format_memory(uint64_t bytes, char *buf, size_t size)
{
	if (bytes && bytes % GIB == 0)
		snprintf(buf, size, "%" PRIu64 "Gi", bytes / GIB);
	else if (bytes % MIB == 0)
		snprintf(buf, size, "%" PRIu64 "Mi", bytes / MIB);
	else
		snprintf(buf, size, "%" PRIu64, bytes);
}

void cde_pod_format_cpu(uint64_t millis, char *buf, size_t size)
{
	if (millis % 1000 == 0)
		snprintf(buf, size, "%" PRIu64, millis / 1000);
	else
		snprintf(buf, size, "%" PRIu64 "m", millis);
}

void cde_pod_outcome_summary(const struct cde_pod_outcome *o, char *buf, size_t size)
{
	char q[32];

	if (!size)
		return;
	buf[0] = '\0';
	cde_text_append(buf, size, "%s: pod %s/%s", cde_pod_reason_name(o->reason), o->ns, o->name);
	if (o->spark_role != CDE_POD_SPARK_NONE)
		cde_text_append(buf, size, " (Spark %s%s%s%s%s)", cde_pod_spark_role_name(o->spark_role),
		       o->spark_exec_id ? " " : "", o->spark_exec_id ? o->spark_exec_id : "",
		       o->spark_app_name ? " of " : "", o->spark_app_name ? o->spark_app_name : "");
	if (o->container)
		cde_text_append(buf, size, ", %scontainer %s", o->init_container ? "init " : "", o->container);
	if (o->has_exit_code && o->reason != CDE_POD_SUCCEEDED && !cde_pod_reason_is_pod_level(o->reason))
		cde_text_append(buf, size, ", exit code %d (%s)", o->exit_code,
		       cde_pod_exit_code_meaning(o->exit_code, o->spark_role));
	if (o->last_reason)
		cde_text_append(buf, size, ", last terminated: %s", o->last_reason);
	if (o->restarts)
		cde_text_append(buf, size, ", %u restarts", o->restarts);
	if (o->reason == CDE_POD_OOM_KILLED && o->memory_limit.set) {
		cde_pod_format_memory(o->memory_limit.v, q, sizeof(q));
		cde_text_append(buf, size, ", memory limit %s", q);
	}
	if (o->message && o->verdict != CDE_POD_SUCCESS)
		cde_text_append(buf, size, ": %s", o->message);
	/* Kubernetes messages end in ". " or "."; the caller adds its own. */
	for (size_t len = strlen(buf); len && (buf[len - 1] == ' ' || buf[len - 1] == '.' ||
					       buf[len - 1] == '\n'); len--)
		buf[len - 1] = '\0';
}

/* ---- JSON ---- */

static bool add_str(cJSON *o, const char *key, const char *v)
{
	return !v || cJSON_AddStringToObject(o, key, v);
}

static bool add_num(cJSON *o, const char *key, double v)
{
	return cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* Adds @v cut to MESSAGE_JSON_MAX bytes, on a UTF-8 character boundary
 * so the cut never makes the document invalid. */
static bool add_message(cJSON *o, const char *key, const char *v)
{
	char buf[MESSAGE_JSON_MAX + 4];
	size_t len;

	if (!v)
		return true;
	len = strlen(v);
	if (len <= MESSAGE_JSON_MAX)
		return cJSON_AddStringToObject(o, key, v) != NULL;
	len = MESSAGE_JSON_MAX;
	while (len && ((unsigned char)v[len] & 0xC0) == 0x80)
		len--;
	memcpy(buf, v, len);
	memcpy(buf + len, "...", 4);
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static bool add_memory(cJSON *o, const char *key, const struct cde_pod_quantity *q)
{
	char buf[32];

	if (!q->set)
		return true;
	cde_pod_format_memory(q->v, buf, sizeof(buf));
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static bool add_cpu(cJSON *o, const char *key, const struct cde_pod_quantity *q)
{
	char buf[32];

	if (!q->set)
		return true;
	cde_pod_format_cpu(q->v, buf, sizeof(buf));
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static bool add_unschedulable(cJSON *parent, const struct cde_pod_unschedulable *u)
{
	const struct {
		const char *key;
		unsigned v;
	} counts[] = {
		{ "nodes", u->nodes },
		{ "insufficientCpu", u->insufficient_cpu },
		{ "insufficientMemory", u->insufficient_memory },
		{ "insufficientEphemeralStorage", u->insufficient_storage },
		{ "insufficientOther", u->insufficient_other },
		{ "taint", u->taint },
		{ "nodeSelector", u->node_selector },
		{ "podAffinity", u->pod_affinity },
		{ "tooManyPods", u->too_many_pods },
		{ "volume", u->volume },
		{ "other", u->other },
	};
	cJSON *o = cJSON_AddObjectToObject(parent, "unschedulable");

	if (!o)
		return false;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (counts[i].v && !add_num(o, counts[i].key, counts[i].v))
			return false;
	/* Its own key: "taint" is the count of nodes above. */
	return add_str(o, "untoleratedTaint", u->taint_text[0] ? u->taint_text : NULL) &&
	       add_str(o, "otherResource", u->other_resource[0] ? u->other_resource : NULL);
}

static bool add_remedy(cJSON *parent, const struct cde_pod_remedy *m)
{
	cJSON *o = cJSON_AddObjectToObject(parent, "remedy"), *s;
	bool memory = m->resource && strcmp(m->resource, "cpu") != 0;

	if (!o || !cJSON_AddStringToObject(o, "action", cde_pod_action_name(m->action)) ||
	    !add_str(o, "text", m->text) || !add_str(o, "command", m->command[0] ? m->command : NULL) ||
	    !add_str(o, "key", m->conf_key[0] ? m->conf_key : NULL) ||
	    !add_str(o, "value", m->conf_value[0] ? m->conf_value : NULL) ||
	    !add_str(o, "resource", m->resource) ||
	    !(memory ? add_memory(o, "request", &m->request) : add_cpu(o, "request", &m->request)) ||
	    !(memory ? add_memory(o, "allocatable", &m->allocatable) :
		       add_cpu(o, "allocatable", &m->allocatable)) ||
	    (m->allocatable.set && !cJSON_AddBoolToObject(o, "fitsEmptyNode", m->fits_empty_node)))
		return false;
	if (m->node_memory_that_fits.set) {
		cJSON *n = cJSON_AddObjectToObject(o, "nodeThatFits");

		if (!n || !add_cpu(n, "cpu", &m->node_cpu_that_fits) ||
		    !add_memory(n, "memory", &m->node_memory_that_fits))
			return false;
	}
	if (m->has_sizing) {
		s = cde_sizing_remedy_to_json(&m->sizing);
		if (!s)
			return false;
		if (!cJSON_AddItemToObject(o, "sizing", s)) {
			cJSON_Delete(s);
			return false;
		}
		if (!cJSON_AddBoolToObject(s, "derivedFromPod", m->sizing_from_pod))
			return false;
	}
	return true;
}

cJSON *cde_pod_outcome_to_json(const struct cde_pod_outcome *po,
			       const struct cde_pod_remedy *remedy)
{
	cJSON *o = cJSON_CreateObject();
	const struct cde_pod_unschedulable *u = &po->unschedulable;
	bool has_unsched = po->reason == CDE_POD_UNSCHEDULABLE;

	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "reason", cde_pod_reason_name(po->reason)) ||
	    !add_str(o, "phase", po->phase) || !add_str(o, "namespace", po->ns) ||
	    !add_str(o, "pod", po->name) || !add_str(o, "node", po->node) ||
	    !add_str(o, "podReason", po->pod_reason) || !add_str(o, "container", po->container) ||
	    (po->init_container && !cJSON_AddTrueToObject(o, "initContainer")) ||
	    (po->has_exit_code && !add_num(o, "exitCode", po->exit_code)) ||
	    (po->has_exit_code && !add_str(o, "exitCodeMeaning",
					   cde_pod_exit_code_meaning(po->exit_code, po->spark_role))) ||
	    !add_str(o, "lastReason", po->last_reason) ||
	    (po->restarts && !add_num(o, "restarts", po->restarts)) ||
	    !add_message(o, "message", po->message) || !add_str(o, "image", po->image) ||
	    !add_str(o, "sparkRole", cde_pod_spark_role_name(po->spark_role)) ||
	    !add_str(o, "sparkApp", po->spark_app_name) ||
	    !add_str(o, "sparkAppId", po->spark_app_id) ||
	    !add_str(o, "sparkExecutorId", po->spark_exec_id) ||
	    !add_memory(o, "memoryLimit", &po->memory_limit) ||
	    (has_unsched && !add_unschedulable(o, u)) ||
	    (remedy && !add_remedy(o, remedy)))
		goto err_free_o;
	return o;

err_free_o:
	cJSON_Delete(o);
	return NULL;
}
