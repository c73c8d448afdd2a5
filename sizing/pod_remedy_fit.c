/* Pod remedies for a pod no node would take: with memory or CPU short,
 * the largest heap or CPU request that fits the given node (a binary
 * search over cde_sizing_compute, which is pure and cheap) and the
 * smallest node of the same shape that would take the pod (doubling);
 * else what excluded the nodes (taints, selectors, affinity, volumes). */

#include "sizing/pod_remedy_internal.h"

#include <inttypes.h>
#include <string.h>

#include "schemas/base/text.h"
#include "sizing/units.h"

/* The largest heap in MiB (@memory) or CPU request in millicores, from
 * @lowest to @from, with which @role's pod fits an empty node of @in's
 * cluster, or 0 when even @lowest does not. A binary search: a larger
 * heap or request never fits where a smaller one did not. */
static uint64_t largest_fitting(const struct cde_sizing_input *in, enum cde_sizing_role role,
				bool memory, uint64_t from, uint64_t lowest)
{
	struct cde_sizing_input t = *in;
	struct cde_sizing_role_conf *rc = role_conf(&t, role);
	struct cde_sizing_result res;
	uint64_t lo = lowest, hi = from;

	if (lo > hi)
		return 0;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (memory) {
			rc->memory_mib.set = true;
			rc->memory_mib.v = mid;
		} else {
			rc->request_millis.set = true;
			rc->request_millis.v = mid;
		}
		cde_sizing_compute(&t, &res);
		if (role_pod(&res, role)->fits_node)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (memory) {
		rc->memory_mib.set = true;
		rc->memory_mib.v = lo;
	} else {
		rc->request_millis.set = true;
		rc->request_millis.v = lo;
	}
	cde_sizing_compute(&t, &res);
	return role_pod(&res, role)->fits_node ? lo : 0;
}

/* Doubles the memory (@memory) or the CPU of @in's node until the pod
 * fits it (Spark's pod for @role when @spark, else @request plus the pod
 * overhead) and puts that node in @m; leaves @m alone when no node up to
 * 2^NODE_DOUBLINGS_MAX times larger does. */
static void node_that_fits(const struct cde_sizing_input *in, bool spark, enum cde_sizing_role role,
			   bool memory, const struct cde_pod_quantity *request,
			   struct cde_pod_remedy *m)
{
	struct cde_sizing_input t = *in;
	struct cde_sizing_result res;

	for (int i = 0; i < NODE_DOUBLINGS_MAX; i++) {
		bool fits;

		if (memory) {
			if (t.cluster.node_memory_bytes > CDE_SIZING_BYTES_MAX / 2)
				return;
			t.cluster.node_memory_bytes *= 2;
		} else {
			if (t.cluster.node_cpu_millis > UINT64_C(1) << 40)
				return;
			t.cluster.node_cpu_millis *= 2;
		}
		cde_sizing_compute(&t, &res);
		if (spark)
			fits = role_pod(&res, role)->fits_node;
		else if (memory)
			fits = request->v + t.cluster.pod_overhead_memory_bytes <=
			       res.allocatable_memory_mib * MIB;
		else
			fits = request->v + t.cluster.pod_overhead_cpu_millis <=
			       res.allocatable_cpu_millis;
		if (fits) {
			m->node_cpu_that_fits.set = m->node_memory_that_fits.set = true;
			m->node_cpu_that_fits.v = t.cluster.node_cpu_millis;
			m->node_memory_that_fits.v = t.cluster.node_memory_bytes;
			return;
		}
	}
}

/* The sizing of the cluster (and of the Spark pod when @use_spark) that
 * an unschedulable pod's remedy compares with, in *@in and *@res; with
 * Spark, @m->request becomes what the conf asks. */
static void unschedulable_sizing(const struct cde_pod_outcome *o,
				 const struct cde_sizing_input *spark,
				 const struct cde_sizing_cluster *cluster, bool use_spark,
				 enum cde_sizing_role role, bool memory, struct cde_sizing_input *in,
				 struct cde_sizing_result *res, struct cde_pod_remedy *m)
{
	if (use_spark) {
		spark_input(o, spark, in);
		if (!in->has_cluster && cluster) {
			in->has_cluster = true;
			in->cluster = *cluster;
		}
		cde_sizing_compute(in, res);
		/* What the conf asks: the pod as Spark would build it. */
		m->request.set = true;
		m->request.v = memory ? role_pod(res, role)->memory_mib * MIB :
					role_pod(res, role)->cpu_request_millis;
	} else {
		cde_sizing_input_init(in);
		if (cluster) {
			in->has_cluster = true;
			in->cluster = *cluster;
		}
		cde_sizing_compute(in, res);
	}
}

/* Without the nodes' size (or the request): lower the request or add
 * nodes, and ask for "cluster". */
static void unschedulable_unknown_nodes(const struct cde_pod_outcome *o, bool memory,
					const char *req, struct cde_pod_remedy *m)
{
	const struct cde_pod_unschedulable *u = &o->unschedulable;
	const char *what = memory ? "memory" : "CPU";
	unsigned short_nodes = memory ? u->insufficient_memory : u->insufficient_cpu;

	m->action = CDE_POD_ACTION_LOWER_REQUEST;
	snprintf(m->text, sizeof(m->text),
		 "No node had %s %s free for the pod (%u of %u nodes short of %s). Lower the "
		 "pod's %s request%s, or add nodes or larger ones; give \"cluster\" in the "
		 "hook to learn whether the pod fits a node at all.",
		 req, what, short_nodes, u->nodes, what, what,
		 o->spark_role == CDE_POD_SPARK_NONE ? " (resources.requests)" :
		 memory ? " (spark.*.memory and memoryOverhead)" :
			  " (spark.kubernetes.*.request.cores)");
	if (o->spark_role != CDE_POD_SPARK_NONE)
		snprintf(m->conf_key, sizeof(m->conf_key), memory ? "spark.%s.memory" :
			 "spark.kubernetes.%s.request.cores",
			 o->spark_role == CDE_POD_SPARK_DRIVER ? "driver" : "executor");
}

/* A pod larger than any node: the largest Spark setting that fits, or a
 * node size that fits it. */
static void unschedulable_too_big(const struct cde_sizing_input *in,
				  const struct cde_sizing_result *res, bool use_spark,
				  enum cde_sizing_role role, bool memory, const char *req,
				  const char *alloc, struct cde_pod_remedy *m)
{
	const char *what = memory ? "memory" : "CPU";
	char node_cpu[32], node_mem[32];

	m->action = CDE_POD_ACTION_LOWER_REQUEST;
	node_that_fits(in, use_spark, role, memory, &m->request, m);
	if (use_spark) {
		const struct cde_sizing_pod *pod = role_pod(res, role);
		uint64_t v = memory ? largest_fitting(in, role, true, pod->heap_mib, SPARK_MIN_HEAP_MIB) :
				      largest_fitting(in, role, false, pod->cpu_request_millis, 1);

		if (v && memory) {
			snprintf(m->conf_key, sizeof(m->conf_key), "spark.%s.memory",
				 role_name(role));
			snprintf(m->conf_value, sizeof(m->conf_value), "%" PRIu64 "m", v);
		} else if (v) {
			snprintf(m->conf_key, sizeof(m->conf_key), "spark.kubernetes.%s.request.cores",
				 role_name(role));
			snprintf(m->conf_value, sizeof(m->conf_value), "%" PRIu64 "m", v);
		}
	}
	snprintf(m->text, sizeof(m->text),
		 "The pod asks %s %s, more than any node offers (%s allocatable): it can never "
		 "be scheduled there.", req, what, alloc);
	if (m->conf_value[0])
		cde_text_append(m->text, sizeof(m->text), " Set %s=%s to fit the nodes", m->conf_key,
		       m->conf_value);
	else
		cde_text_append(m->text, sizeof(m->text), " Lower the pod's %s request", what);
	if (m->node_memory_that_fits.set) {
		cde_pod_format_cpu(m->node_cpu_that_fits.v, node_cpu, sizeof(node_cpu));
		cde_pod_format_memory(m->node_memory_that_fits.v, node_mem, sizeof(node_mem));
		cde_text_append(m->text, sizeof(m->text), ", or use nodes of %s CPU and %s memory.",
		       node_cpu, node_mem);
	} else {
		cde_text_append(m->text, sizeof(m->text), "%s", ".");
	}
}

static void remedy_unschedulable_resource(const struct cde_pod_outcome *o,
					  const struct cde_sizing_input *spark,
					  const struct cde_sizing_cluster *cluster, bool memory,
					  struct cde_pod_remedy *m)
{
	struct cde_sizing_input in;
	struct cde_sizing_result res;
	enum cde_sizing_role role = CDE_SIZING_EXECUTOR;
	bool use_spark = spark && sizing_role(o, &role);
	const char *what = memory ? "memory" : "CPU";
	char req[32] = "?", alloc[32];

	m->resource = memory ? "memory" : "cpu";
	m->request = memory ? o->pod_memory_request : o->pod_cpu_request;
	unschedulable_sizing(o, spark, cluster, use_spark, role, memory, &in, &res, m);
	if (m->request.set) {
		if (memory)
			cde_pod_format_memory(m->request.v, req, sizeof(req));
		else
			cde_pod_format_cpu(m->request.v, req, sizeof(req));
	}
	if (!in.has_cluster || !m->request.set) {
		unschedulable_unknown_nodes(o, memory, req, m);
		return;
	}
	m->allocatable.set = true;
	m->allocatable.v = memory ? res.allocatable_memory_mib * MIB : res.allocatable_cpu_millis;
	if (memory)
		cde_pod_format_memory(m->allocatable.v, alloc, sizeof(alloc));
	else
		cde_pod_format_cpu(m->allocatable.v, alloc, sizeof(alloc));
	if (use_spark)
		m->fits_empty_node = role_pod(&res, role)->fits_node;
	else
		m->fits_empty_node = m->request.set &&
				     m->request.v + (memory ? in.cluster.pod_overhead_memory_bytes :
							       in.cluster.pod_overhead_cpu_millis) <=
				     m->allocatable.v;
	if (!m->fits_empty_node) {
		unschedulable_too_big(&in, &res, use_spark, role, memory, req, alloc, m);
		return;
	}
	m->action = CDE_POD_ACTION_ADD_NODES;
	snprintf(m->text, sizeof(m->text),
		 "The pod (%s %s) fits an empty node (%s allocatable), but no node had that "
		 "much free: the cluster is full. Add nodes (raise the node pool's autoscaling "
		 "maximum)%s.",
		 req, what, alloc,
		 o->spark_role == CDE_POD_SPARK_EXECUTOR ?
			 " or run fewer executors at once (spark.executor.instances, "
			 "spark.dynamicAllocation.maxExecutors)" :
			 " or wait for other pods to finish");
}

void cde_pod_remedy_unschedulable(const struct cde_pod_outcome *o,
				  const struct cde_sizing_input *spark,
				  const struct cde_sizing_cluster *cluster, struct cde_pod_remedy *m)
{
	const struct cde_pod_unschedulable *u = &o->unschedulable;
	char more[CDE_POD_REMEDY_TEXT_MAX] = "";

	if (u->insufficient_memory || u->insufficient_cpu) {
		remedy_unschedulable_resource(o, spark, cluster,
					      u->insufficient_memory >= u->insufficient_cpu, m);
		/* Other causes still matter: the pod needs a node free of all. */
		if (u->taint || u->node_selector)
			cde_text_append(m->text, sizeof(m->text),
			       " Besides, %u node(s) are excluded by taints or node selectors.",
			       u->taint + u->node_selector);
		return;
	}
	if (u->insufficient_storage || u->insufficient_other) {
		m->action = CDE_POD_ACTION_LOWER_REQUEST;
		m->resource = u->insufficient_storage ? "ephemeral-storage" : u->other_resource;
		snprintf(m->text, sizeof(m->text),
			 "No node had enough %s free for the pod: lower its %s request or add nodes "
			 "that have it.", m->resource, m->resource);
		return;
	}
	m->action = CDE_POD_ACTION_FIX_SCHEDULING;
	if (u->taint)
		cde_text_append(more, sizeof(more),
		       " %u node(s) have a taint %s the pod does not tolerate: add a toleration "
		       "(for Spark, in the pod template: spark.kubernetes.%s.podTemplateFile) or "
		       "run where the pod may go.",
		       u->taint, u->taint_text[0] ? u->taint_text : "", o->spark_role ==
		       CDE_POD_SPARK_DRIVER ? "driver" : "executor");
	if (u->node_selector)
		cde_text_append(more, sizeof(more),
		       " %u node(s) do not match the pod's nodeSelector or node affinity "
		       "(spark.kubernetes.node.selector.*): check the labels (kubectl get nodes "
		       "--show-labels).", u->node_selector);
	if (u->pod_affinity)
		cde_text_append(more, sizeof(more),
		       " %u node(s) break the pod's (anti-)affinity rules.", u->pod_affinity);
	if (u->too_many_pods)
		cde_text_append(more, sizeof(more),
		       " %u node(s) run their maximum number of pods: add nodes.", u->too_many_pods);
	if (u->volume)
		cde_text_append(more, sizeof(more),
		       " A volume cannot be attached where the pod could run: check its "
		       "PersistentVolumeClaims (zone, binding).");
	if (!more[0])
		snprintf(more, sizeof(more), " %s", "Read the scheduler's events: kubectl describe pod.");
	snprintf(m->text, sizeof(m->text), "The scheduler found no node for the pod.%s", more);
}

