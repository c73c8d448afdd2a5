/* Pod remedies: from what became of a pod (sizing/pod_outcome.c) to the
 * change that fixes it, as text for people and fields for tools.
 *
 * The memory and CPU problems of Spark pods get numbers from the sizing
 * module: an OOMKill is the overhead running out (the heap would have
 * thrown OutOfMemoryError instead), so the remedy is the overhead
 * cde_sizing_remedy computes; an unschedulable pod gets the largest heap
 * or CPU request that fits the given node (a binary search over
 * cde_sizing_compute, which is pure and cheap) and the smallest node of
 * the same shape that would take it (doubling: sizing/pod_remedy_fit.c).
 * Without a Spark conf the numbers come from the pod itself where it
 * tells them.
 *
 * Invariants: pure, no allocation; the output struct is written once,
 * at the end. */

#include "sizing/pod_outcome.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schemas/base/text.h"
#include "sizing/pod_remedy_internal.h"
#include "sizing/units.h"

static const char *const action_names[CDE_POD_ACTION_COUNT] = {
	[CDE_POD_ACTION_NONE] = "none",
	[CDE_POD_ACTION_RAISE_MEMORY_OVERHEAD] = "raise_memory_overhead",
	[CDE_POD_ACTION_RAISE_MEMORY_LIMIT] = "raise_memory_limit",
	[CDE_POD_ACTION_RAISE_HEAP] = "raise_heap",
	[CDE_POD_ACTION_LOWER_REQUEST] = "lower_request",
	[CDE_POD_ACTION_ADD_NODES] = "add_nodes",
	[CDE_POD_ACTION_FIX_SCHEDULING] = "fix_scheduling",
	[CDE_POD_ACTION_CHECK_IMAGE] = "check_image",
	[CDE_POD_ACTION_CREATE_CONFIG] = "create_config",
	[CDE_POD_ACTION_READ_PREVIOUS_LOGS] = "read_previous_logs",
	[CDE_POD_ACTION_READ_LOGS] = "read_logs",
	[CDE_POD_ACTION_FIX_COMMAND] = "fix_command",
	[CDE_POD_ACTION_LOCAL_STORAGE] = "local_storage",
	[CDE_POD_ACTION_NODE_MEMORY] = "node_memory",
	[CDE_POD_ACTION_RAISE_DEADLINE] = "raise_deadline",
	[CDE_POD_ACTION_CHECK_NODE] = "check_node",
};

const char *cde_pod_action_name(enum cde_pod_action action)
{
	return (unsigned)action < CDE_POD_ACTION_COUNT ? action_names[action] : "none";
}

/* The remedy of a container killed at its memory limit that Spark did
 * not make: its limit, or a limit where there is none. */
static void remedy_oom_container(const struct cde_pod_outcome *o, const char *limit,
				 struct cde_pod_remedy *m)
{
	m->action = CDE_POD_ACTION_RAISE_MEMORY_LIMIT;
	if (o->memory_limit.set)
		snprintf(m->text, sizeof(m->text),
			 "The container used more than its memory limit (%s) and the kernel "
			 "killed it: raise resources.limits.memory (and the request with it), "
			 "or make the process use less; a JVM's heap (-Xmx or "
			 "-XX:MaxRAMPercentage) must leave room below the limit.", limit);
	else
		snprintf(m->text, sizeof(m->text),
			 "The node ran out of memory and its OOM killer chose this container, "
			 "which has no memory limit: set resources.requests.memory and "
			 "limits.memory to what it needs so the scheduler reserves it.");
}

/* Says what the overhead remedy @m->sizing of a Spark @role changes, and
 * where its figures came from (@limit: the pod's memory limit, printed). */
static void oom_sizing_text(const struct cde_pod_outcome *o, enum cde_sizing_role role,
			    const char *limit, struct cde_pod_remedy *m)
{
	char q[32];

	snprintf(m->text, sizeof(m->text),
		 "The kernel killed the Spark %s at its memory limit: the memory outside the "
		 "JVM heap outgrew its overhead (%" PRIu64 "Mi). Set %s=%s: the pod grows from "
		 "%" PRIu64 "Mi to %" PRIu64 "Mi",
		 role_name(role), m->sizing.old_overhead_mib, m->conf_key,
		 m->conf_value, m->sizing.old_memory_mib, m->sizing.new_memory_mib);
	if (!m->sizing.has_node)
		cde_text_append(m->text, sizeof(m->text), "%s", ".");
	else if (m->sizing.fits_node && role == CDE_SIZING_EXECUTOR)
		cde_text_append(m->text, sizeof(m->text), " and still fits a node (%u per node).",
		       m->sizing.executors_per_node);
	else if (m->sizing.fits_node)
		cde_text_append(m->text, sizeof(m->text), "%s", " and still fits a node.");
	else
		cde_text_append(m->text, sizeof(m->text), "%s",
		       ", which no longer fits a node: use larger nodes or lower "
		       "the heap (spark.*.memory) by as much.");
	if (m->sizing_from_pod) {
		cde_pod_format_memory(o->spark_heap.v, q, sizeof(q));
		cde_text_append(m->text, sizeof(m->text),
		       " (Derived from the pod: limit %s, heap %s from SPARK_EXECUTOR_MEMORY.)",
		       limit, q);
	} else if (o->memory_limit.set && o->memory_limit.v / MIB != m->sizing.old_memory_mib) {
		cde_text_append(m->text, sizeof(m->text),
		       " Note: the pod's limit was %s, not the %" PRIu64 "Mi the given conf makes: "
		       "check that the conf is the one the job ran with.",
		       limit, m->sizing.old_memory_mib);
	}
}

static void remedy_oom(const struct cde_pod_outcome *o, const struct cde_sizing_input *spark,
		       const struct cde_sizing_cluster *cluster, struct cde_pod_remedy *m)
{
	enum cde_sizing_role role;
	struct cde_sizing_input in;
	char limit[32] = "";

	if (o->memory_limit.set)
		cde_pod_format_memory(o->memory_limit.v, limit, sizeof(limit));
	if (!sizing_role(o, &role)) {
		remedy_oom_container(o, limit, m);
		return;
	}
	m->action = CDE_POD_ACTION_RAISE_MEMORY_OVERHEAD;
	snprintf(m->conf_key, sizeof(m->conf_key), "spark.%s.memoryOverhead",
		 role_name(role));
	if (spark) {
		spark_input(o, spark, &in);
	} else if (role == CDE_SIZING_EXECUTOR && o->spark_heap.set && o->memory_limit.set &&
		   o->memory_limit.v > o->spark_heap.v) {
		/* Spark sets request = limit = heap + overhead (+ PySpark and
		 * off-heap memory, counted here as overhead: doubling them too
		 * errs on the side of the next run surviving). */
		cde_sizing_input_init(&in);
		in.conf.executor.memory_mib.set = true;
		in.conf.executor.memory_mib.v = o->spark_heap.v / MIB;
		in.conf.executor.overhead_mib.set = true;
		in.conf.executor.overhead_mib.v = (o->memory_limit.v - o->spark_heap.v) / MIB;
		m->sizing_from_pod = true;
	} else {
		char was[64] = "";

		if (limit[0])
			snprintf(was, sizeof(was), " (the container limit was %s)", limit);
		snprintf(m->text, sizeof(m->text),
			 "The kernel killed the Spark %s at its memory limit%s: the memory outside "
			 "the JVM heap (thread stacks, direct buffers, Python workers) outgrew its "
			 "share. Raise %s (for instance to twice what the pod got beyond "
			 "spark.%s.memory); give \"spark\" in the hook for the exact value.",
			 role_name(role), was, m->conf_key, role_name(role));
		return;
	}
	if (!in.has_cluster && cluster) {
		in.has_cluster = true;
		in.cluster = *cluster;
	}
	cde_sizing_remedy(&in, role, &m->sizing);
	m->has_sizing = true;
	snprintf(m->conf_value, sizeof(m->conf_value), "%s", m->sizing.conf_value);
	oom_sizing_text(o, role, limit, m);
}

static void remedy_image(const struct cde_pod_outcome *o, struct cde_pod_remedy *m)
{
	const char *msg = o->message ? o->message : "";
	bool auth = strstr(msg, "nauthorized") || strstr(msg, "denied") ||
		    strstr(msg, "authentication required") || strstr(msg, "403") ||
		    strstr(msg, "401");
	bool missing = strstr(msg, "not found") || strstr(msg, "manifest unknown") ||
		       strstr(msg, "NotFound");
	char secrets[CDE_POD_NAME_MAX + 32];

	m->action = CDE_POD_ACTION_CHECK_IMAGE;
	if (o->pull_secrets > 1)
		snprintf(secrets, sizeof(secrets), "%.200s and %u more",
			 o->pull_secret ? o->pull_secret : "?", o->pull_secrets - 1);
	else if (o->pull_secrets)
		snprintf(secrets, sizeof(secrets), "%.200s", o->pull_secret ? o->pull_secret : "?");
	else
		snprintf(secrets, sizeof(secrets), "none");
	snprintf(m->text, sizeof(m->text),
		 "The node could not pull the image %s.%s Check that the name and the tag (or "
		 "digest) exist in the registry, and that spec.imagePullSecrets (%s) hold "
		 "credentials for it (for Spark: spark.kubernetes.container.image and "
		 "spark.kubernetes.container.image.pullSecrets).",
		 o->image ? o->image : "(unnamed)",
		 auth ? " The registry refused the credentials." :
		 missing ? " The registry does not have that name or tag." : "",
		 secrets);
	snprintf(m->command, sizeof(m->command),
		 "kubectl get events -n %s --field-selector involvedObject.name=%s", o->ns, o->name);
}

static void remedy_config(const struct cde_pod_outcome *o, struct cde_pod_remedy *m)
{
	m->action = CDE_POD_ACTION_CREATE_CONFIG;
	if (o->config_kind[0] && o->config_key[0]) {
		snprintf(m->text, sizeof(m->text),
			 "The %s %s/%.100s has no key %.100s, which the container's env or volume "
			 "refers to: add the key, or fix the reference (secretKeyRef/configMapKeyRef).",
			 o->config_kind, o->ns, o->config_name, o->config_key);
		snprintf(m->command, sizeof(m->command), "kubectl describe %s %s -n %s",
			 eq(o->config_kind, "Secret") ? "secret" : "configmap", o->config_name, o->ns);
	} else if (o->config_kind[0]) {
		snprintf(m->text, sizeof(m->text),
			 "The %s %.100s does not exist in namespace %.64s: create it before the pod "
			 "starts (kubectl create %s %.100s -n %.64s ...), or fix its name in the pod "
			 "spec.",
			 o->config_kind, o->config_name, o->ns,
			 eq(o->config_kind, "Secret") ? "secret generic" : "configmap",
			 o->config_name, o->ns);
		snprintf(m->command, sizeof(m->command), "kubectl get %s %s -n %s",
			 eq(o->config_kind, "Secret") ? "secret" : "configmap", o->config_name, o->ns);
	} else {
		snprintf(m->text, sizeof(m->text),
			 "The kubelet could not build the container's configuration: a ConfigMap or "
			 "Secret it refers to is missing, or the security context cannot be met. "
			 "The message says which.");
		snprintf(m->command, sizeof(m->command), "kubectl describe pod %s -n %s", o->name,
			 o->ns);
	}
}

static void remedy_exit(const struct cde_pod_outcome *o, struct cde_pod_remedy *m)
{
	const char *meaning = o->has_exit_code ? cde_pod_exit_code_meaning(o->exit_code, o->spark_role)
					       : "no exit code";
	bool spark_oom = o->spark_role != CDE_POD_SPARK_NONE && o->has_exit_code && o->exit_code == 52;

	if (o->reason == CDE_POD_CRASH_LOOP_BACK_OFF) {
		m->action = CDE_POD_ACTION_READ_PREVIOUS_LOGS;
		snprintf(m->text, sizeof(m->text),
			 "The container keeps crashing (%u restarts); the last run ended with ",
			 o->restarts);
		if (o->has_exit_code)
			cde_text_append(m->text, sizeof(m->text), "exit code %d: %s.", o->exit_code, meaning);
		else
			cde_text_append(m->text, sizeof(m->text), "%s", "no exit code recorded.");
		if (eq(o->last_reason, "OOMKilled"))
			cde_text_append(m->text, sizeof(m->text), "%s",
			       " It was OOMKilled: raise its memory limit.");
		cde_text_append(m->text, sizeof(m->text), "%s",
		       " Read the log of the run that crashed (--previous); 137 is SIGKILL "
		       "(OOM or liveness probe), 143 SIGTERM, 1 an application error.");
		snprintf(m->command, sizeof(m->command), "kubectl logs -n %s %s -c %s --previous",
			 o->ns, o->name, o->container ? o->container : "?");
		return;
	}
	if (o->reason == CDE_POD_FAILED) {
		m->action = o->container ? CDE_POD_ACTION_FIX_COMMAND : CDE_POD_ACTION_CHECK_NODE;
		if (o->container) {
			snprintf(m->text, sizeof(m->text),
				 "The container could not be started%s%s: check the image's entrypoint "
				 "and the pod's command and args (a missing executable, a wrong path, "
				 "a missing mount). The message says which.",
				 o->has_exit_code ? ": " : "", o->has_exit_code ? meaning : "");
			snprintf(m->command, sizeof(m->command), "kubectl describe pod %s -n %s",
				 o->name, o->ns);
		} else {
			snprintf(m->text, sizeof(m->text),
				 "The pod was stopped as a whole%s%s (node shutdown, a node that was "
				 "lost, or the kubelet refusing it): run it again, and check the node "
				 "if it recurs.", o->pod_reason ? ": " : "",
				 o->pod_reason ? o->pod_reason : "");
			if (o->node)
				snprintf(m->command, sizeof(m->command), "kubectl describe node %s",
					 o->node);
		}
		return;
	}
	if (spark_oom) {
		m->action = CDE_POD_ACTION_RAISE_HEAP;
		snprintf(m->conf_key, sizeof(m->conf_key), "spark.%s.memory",
			 o->spark_role == CDE_POD_SPARK_DRIVER ? "driver" : "executor");
		snprintf(m->text, sizeof(m->text),
			 "The JVM heap ran out (Spark exit code 52, java.lang.OutOfMemoryError), not "
			 "the container: raise %s, or spread the data thinner (more partitions: "
			 "spark.sql.shuffle.partitions); a driver collecting results needs "
			 "spark.driver.memory and spark.driver.maxResultSize.", m->conf_key);
	} else {
		m->action = CDE_POD_ACTION_READ_LOGS;
		snprintf(m->text, sizeof(m->text), "The container exited with code %d: %s. ",
			 o->exit_code, meaning);
		if (o->has_exit_code && o->exit_code == 137)
			cde_text_append(m->text, sizeof(m->text), "%s",
			       "Not OOMKilled by its own limit: a failed liveness probe, a forced "
			       "deletion or node memory pressure. ");
		cde_text_append(m->text, sizeof(m->text), "%s",
		       o->spark_role == CDE_POD_SPARK_DRIVER ?
			       "The driver's log has the exception that ended the application." :
			       "Its log says why.");
	}
	snprintf(m->command, sizeof(m->command), "kubectl logs -n %s %s -c %s", o->ns, o->name,
		 o->container ? o->container : "?");
}

static void remedy_evicted(const struct cde_pod_outcome *o, struct cde_pod_remedy *m)
{
	bool spark = o->spark_role != CDE_POD_SPARK_NONE;

	if (eq(o->evicted_resource, "ephemeral-storage")) {
		char who[CDE_POD_NAME_MAX + 48] = "";

		if (o->container)
			snprintf(who, sizeof(who), " (its container %s used the most)", o->container);
		m->action = CDE_POD_ACTION_LOCAL_STORAGE;
		m->resource = "ephemeral-storage";
		snprintf(m->text, sizeof(m->text),
			 "The node ran short of ephemeral storage and evicted the pod%s. %s", who,
			 spark ? "Spark writes shuffle and spill files under spark.local.dir, an "
				 "emptyDir on the node's disk by default: mount a volume named "
				 "spark-local-dir-1 (a PersistentVolumeClaim or a larger disk: "
				 "spark.kubernetes.executor.volumes.persistentVolumeClaim."
				 "spark-local-dir-1.*), or request ephemeral-storage in the pod "
				 "template so the pod lands on a node with room." :
				 "Request and limit ephemeral-storage for what the pod writes, or "
				 "write large files to a volume.");
	} else if (eq(o->evicted_resource, "memory")) {
		m->action = CDE_POD_ACTION_NODE_MEMORY;
		m->resource = "memory";
		snprintf(m->text, sizeof(m->text),
			 "The node ran short of memory and evicted the pod: pods using more than "
			 "they request go first. %s",
			 spark ? "Spark pods request what they may use (request = limit), so other "
				 "pods overcommitted the node: run Spark on its own node pool or set "
				 "requests on the other pods." :
				 "Set the memory request to what the pod uses (equal to the limit for "
				 "Guaranteed QoS).");
	} else {
		m->action = CDE_POD_ACTION_CHECK_NODE;
		snprintf(m->text, sizeof(m->text),
			 "The kubelet evicted the pod because the node ran short of %s: run it "
			 "again elsewhere, and check the node's pressure conditions.",
			 o->evicted_resource[0] ? o->evicted_resource : "a resource");
	}
	if (o->node)
		snprintf(m->command, sizeof(m->command), "kubectl describe node %s", o->node);
}

void cde_pod_remedy(const struct cde_pod_outcome *o, const struct cde_sizing_input *spark,
		    const struct cde_sizing_cluster *cluster, struct cde_pod_remedy *ret)
{
	struct cde_pod_remedy m;

	memset(&m, 0, sizeof(m));
	switch (o->reason) {
	case CDE_POD_SUCCEEDED:
	case CDE_POD_RUNNING:
	case CDE_POD_PENDING:
	case CDE_POD_REASON_COUNT:
		m.action = CDE_POD_ACTION_NONE;
		break;
	case CDE_POD_OOM_KILLED:
		remedy_oom(o, spark, cluster, &m);
		break;
	case CDE_POD_UNSCHEDULABLE:
		cde_pod_remedy_unschedulable(o, spark, cluster, &m);
		break;
	case CDE_POD_IMAGE_PULL_BACK_OFF:
	case CDE_POD_ERR_IMAGE_PULL:
		remedy_image(o, &m);
		break;
	case CDE_POD_CREATE_CONTAINER_CONFIG_ERROR:
		remedy_config(o, &m);
		break;
	case CDE_POD_FAILED:
	case CDE_POD_ERROR:
	case CDE_POD_CRASH_LOOP_BACK_OFF:
		remedy_exit(o, &m);
		break;
	case CDE_POD_EVICTED:
		remedy_evicted(o, &m);
		break;
	case CDE_POD_DEADLINE_EXCEEDED:
		m.action = CDE_POD_ACTION_RAISE_DEADLINE;
		if (o->has_deadline)
			snprintf(m.text, sizeof(m.text),
				 "The pod ran longer than its spec.activeDeadlineSeconds (%" PRIu64
				 " s) and was stopped: raise the deadline or make the job faster "
				 "(for a Tekton TaskRun, its timeout; for a Jenkins agent, the pod "
				 "template's activeDeadlineSeconds).", o->deadline_seconds);
		else
			snprintf(m.text, sizeof(m.text),
				 "The pod ran longer than its activeDeadlineSeconds and was stopped: "
				 "raise the deadline or make the job faster.");
		break;
	case CDE_POD_UNKNOWN:
		m.action = CDE_POD_ACTION_CHECK_NODE;
		snprintf(m.text, sizeof(m.text),
			 "The node%s%s stopped reporting the pod's status (NotReady, or cut off from "
			 "the API server): check the node; the pod's work may or may not have "
			 "finished.", o->node ? " " : "", o->node ? o->node : "");
		if (o->node)
			snprintf(m.command, sizeof(m.command), "kubectl describe node %s", o->node);
		break;
	}
	*ret = m;
}
