#pragma once
/* Shared by the pod remedies (pod_remedy.c, pod_remedy_fit.c); not for
 * other folders. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sizing/pod_internal.h"
#include "sizing/pod_outcome.h"

#define MIB (UINT64_C(1) << 20)

/* Spark's smallest heap: 1.5 times its 300 MiB reserved memory
 * (UnifiedMemoryManager refuses less), so no remedy suggests below it. */
#define SPARK_MIN_HEAP_MIB 450
/* Doublings tried when looking for a node that would take a pod: 2^10
 * times the given node is past any machine sold. */
#define NODE_DOUBLINGS_MAX 10

static inline const char *role_name(enum cde_sizing_role role)
{
	return role == CDE_SIZING_DRIVER ? "driver" : "executor";
}

static inline bool sizing_role(const struct cde_pod_outcome *o, enum cde_sizing_role *ret)
{
	if (o->spark_role == CDE_POD_SPARK_NONE)
		return false;
	*ret = o->spark_role == CDE_POD_SPARK_DRIVER ? CDE_SIZING_DRIVER : CDE_SIZING_EXECUTOR;
	return true;
}

/* The hook's sizing request, with the Spark version from the pod's label
 * when the request named none: the pod knows which Spark built it. */
static inline void spark_input(const struct cde_pod_outcome *o, const struct cde_sizing_input *spark,
			struct cde_sizing_input *in)
{
	unsigned major, minor;

	*in = *spark;
	if (!in->spark_major && o->spark_version &&
	    sscanf(o->spark_version, "%u.%u", &major, &minor) == 2 && major >= 3 && major < 100) {
		in->spark_major = major;
		in->spark_minor = minor;
	}
}

static inline struct cde_sizing_role_conf *role_conf(struct cde_sizing_input *in,
							 enum cde_sizing_role role)
{
	return role == CDE_SIZING_DRIVER ? &in->conf.driver : &in->conf.executor;
}

static inline const struct cde_sizing_pod *role_pod(const struct cde_sizing_result *res,
						    enum cde_sizing_role role)
{
	return role == CDE_SIZING_DRIVER ? &res->driver : &res->executor;
}

/* The remedy of an unschedulable pod (pod_remedy_fit.c): the largest
 * Spark setting or node that fits when memory or CPU was short, else what
 * excluded the nodes. */
void cde_pod_remedy_unschedulable(const struct cde_pod_outcome *o,
				  const struct cde_sizing_input *spark,
				  const struct cde_sizing_cluster *cluster,
				  struct cde_pod_remedy *m);
