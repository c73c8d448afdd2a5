/* A sizing request, from JSON to struct cde_sizing_input:
 *
 *   {"sparkVersion": "3.5.1",           optional; default: the newest rules
 *    "language": "jvm" | "python" | "r", required
 *    "conf": {"spark.executor.memory": "8g", ...},  required, may be {}
 *    "cluster": {"provider": "gke" | "eks" | "aks" | "none",  optional
 *                "nodeCpu": "16", "nodeMemory": "64Gi", "nodes": 10,
 *                "maxPods": 110, "aksVersion": "1.29",
 *                "podOverhead": {"cpu": "250m", "memory": "120Mi"}}}
 *
 * Conf values are strings or numbers, read as Spark reads the same text
 * (a bare number is MiB for the spark.*.memory* keys and bytes for
 * spark.memory.offHeap.size); the *.enabled keys also take JSON booleans.
 * Unknown Spark keys are ignored, unknown request or cluster fields are
 * errors: a typo in our fields would silently size the wrong thing.
 * Settings Spark itself refuses (off-heap enabled without a size,
 * minExecutors above maxExecutors) are errors too. Parsing goes on after
 * an error so that one answer lists every problem; the output struct is
 * written only when there was none. */

#include "sizing/sizing_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NODES_MAX 100000
#define MAX_PODS_MAX 10000

static size_t error_total(const struct cde_errors *errs)
{
	return errs->count + errs->dropped;
}

/* Starts @p at an already escaped pointer. */
static void ptr_at(struct cde_ptr *p, const char *at)
{
	size_t len = at ? strlen(at) : 0;

	cde_ptr_init(p);
	if (len >= sizeof(p->buf) / 2)
		len = sizeof(p->buf) / 2;
	memcpy(p->buf, at ? at : "", len);
	p->buf[len] = '\0';
	p->len = len;
}

static void parse_language(const cJSON *v, enum cde_sizing_language *ret,
			   struct cde_errors *errs, const struct cde_ptr *p)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : "";

	if (strcmp(s, "jvm") == 0)
		*ret = CDE_SIZING_JVM;
	else if (strcmp(s, "python") == 0)
		*ret = CDE_SIZING_PYTHON;
	else if (strcmp(s, "r") == 0)
		*ret = CDE_SIZING_R;
	else
		cde_sizing_fail(errs, p, "must be \"jvm\", \"python\" or \"r\"");
}

static void parse_spark_version(const cJSON *v, struct cde_sizing_input *in,
				struct cde_errors *errs, const struct cde_ptr *p)
{
	unsigned major, minor;

	if (!cJSON_IsString(v) || cde_sizing_parse_version(v->valuestring, &major, &minor) < 0) {
		cde_sizing_fail(errs, p, "must be a Spark version such as \"3.5.1\"");
		return;
	}
	if (major < 3) {
		cde_sizing_fail(errs, p, "Spark %u.%u is not covered; the sizing rules start at "
				"3.0", major, minor);
		return;
	}
	in->spark_major = major;
	in->spark_minor = minor;
}

static void parse_memory_field(const cJSON *v, uint64_t min, uint64_t *ret,
			       struct cde_errors *errs, const struct cde_ptr *p)
{
	char buf[64];
	const char *text = cde_sizing_scalar_text(v, buf, sizeof(buf), errs, p), *reason;
	uint64_t bytes;

	if (!text)
		return;
	if (cde_k8s_memory_parse(text, &bytes, &reason) < 0) {
		cde_sizing_fail(errs, p, "\"%.40s\" is not a memory quantity: %s", text, reason);
		return;
	}
	if (bytes < min) {
		cde_sizing_fail(errs, p, "\"%.40s\" is %llu bytes, a bare number is bytes to "
				"Kubernetes; write 64Gi", text, (unsigned long long)bytes);
		return;
	}
	*ret = bytes;
}

static void parse_cpu_field(const cJSON *v, bool positive, uint64_t *ret,
			    struct cde_errors *errs, const struct cde_ptr *p)
{
	char buf[64];
	const char *text = cde_sizing_scalar_text(v, buf, sizeof(buf), errs, p), *reason;
	uint64_t millis;

	if (!text)
		return;
	if (cde_k8s_cpu_parse(text, &millis, &reason) < 0) {
		cde_sizing_fail(errs, p, "\"%.40s\" is not a CPU quantity: %s", text, reason);
		return;
	}
	if (positive && millis == 0) {
		cde_sizing_fail(errs, p, "must be more than 0");
		return;
	}
	*ret = millis;
}

static void parse_pod_overhead(const cJSON *obj, struct cde_sizing_cluster *c, struct cde_ptr *p,
			       struct cde_errors *errs)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj)) {
		cde_sizing_fail(errs, p, "must be an object with cpu and memory");
		return;
	}
	cJSON_ArrayForEach(v, obj) {
		size_t mark = cde_ptr_push(p, v->string);

		if (strcmp(v->string, "cpu") == 0)
			parse_cpu_field(v, false, &c->pod_overhead_cpu_millis, errs, p);
		else if (strcmp(v->string, "memory") == 0)
			parse_memory_field(v, 0, &c->pod_overhead_memory_bytes, errs, p);
		else
			cde_sizing_fail(errs, p, "unknown field (podOverhead has cpu and memory)");
		cde_ptr_pop(p, mark);
	}
}

static void parse_provider(const cJSON *v, enum cde_sizing_provider *ret,
			   struct cde_errors *errs, const struct cde_ptr *p)
{
	static const struct {
		const char *name;
		enum cde_sizing_provider provider;
	} providers[] = {
		{ "gke", CDE_SIZING_GKE }, { "eks", CDE_SIZING_EKS },
		{ "aks", CDE_SIZING_AKS }, { "none", CDE_SIZING_NONE },
	};

	for (size_t i = 0; cJSON_IsString(v) && i < sizeof(providers) / sizeof(providers[0]);
	     i++) {
		if (strcmp(v->valuestring, providers[i].name) == 0) {
			*ret = providers[i].provider;
			return;
		}
	}
	cde_sizing_fail(errs, p, "must be \"gke\", \"eks\", \"aks\" or \"none\"");
}

/* The cluster fields that are required or depend on each other. */
struct cluster_seen {
	bool provider, cpu, memory, aks;
};

/* Reads the cluster member @v (at @p) into @c. */
static void cluster_member(const cJSON *v, struct cde_sizing_cluster *c, struct cluster_seen *seen,
			   struct cde_errors *errs, struct cde_ptr *p)
{
	uint64_t n;

	if (strcmp(v->string, "provider") == 0) {
		seen->provider = true;
		parse_provider(v, &c->provider, errs, p);
	} else if (strcmp(v->string, "nodeCpu") == 0) {
		seen->cpu = true;
		parse_cpu_field(v, true, &c->node_cpu_millis, errs, p);
	} else if (strcmp(v->string, "nodeMemory") == 0) {
		seen->memory = true;
		parse_memory_field(v, CDE_MIB, &c->node_memory_bytes, errs, p);
	} else if (strcmp(v->string, "nodes") == 0) {
		if (cde_sizing_read_count(v, 1, NODES_MAX, &n, errs, p))
			c->nodes = (unsigned)n;
	} else if (strcmp(v->string, "maxPods") == 0) {
		if (cde_sizing_read_count(v, 1, MAX_PODS_MAX, &n, errs, p))
			c->max_pods = (unsigned)n;
	} else if (strcmp(v->string, "aksVersion") == 0) {
		seen->aks = true;
		if (!cJSON_IsString(v) ||
		    cde_sizing_parse_version(v->valuestring, &c->aks_major,
					     &c->aks_minor) < 0 || c->aks_major == 0)
			cde_sizing_fail(errs, p, "must be an AKS version such as \"1.29\"");
	} else if (strcmp(v->string, "podOverhead") == 0) {
		parse_pod_overhead(v, c, p, errs);
	} else {
		cde_sizing_fail(errs, p, "unknown field");
	}
}

/* Adds @reason at member @key of @p. */
static void fail_member(struct cde_errors *errs, struct cde_ptr *p, const char *key,
			const char *reason)
{
	size_t mark = cde_ptr_push(p, key);

	cde_sizing_fail(errs, p, "%s", reason);
	cde_ptr_pop(p, mark);
}

/* Checks what the members say together: the required ones, aksVersion
 * only for aks, maxPods where the provider's reservation needs it. */
static void cluster_check(const struct cde_sizing_cluster *c, const struct cluster_seen *seen,
			  struct cde_errors *errs, struct cde_ptr *p)
{
	if (!seen->provider)
		fail_member(errs, p, "provider", "required");
	if (!seen->cpu)
		fail_member(errs, p, "nodeCpu", "required");
	if (!seen->memory)
		fail_member(errs, p, "nodeMemory", "required");
	if (seen->aks && seen->provider && c->provider != CDE_SIZING_AKS)
		fail_member(errs, p, "aksVersion", "only applies to provider aks");
	/* Both providers reserve memory per pod the node may run, so the
	 * answer would be a guess without it. */
	if (!c->max_pods && seen->provider &&
	    (c->provider == CDE_SIZING_EKS ||
	     (c->provider == CDE_SIZING_AKS &&
	      (c->aks_major == 0 || c->aks_major > 1 || c->aks_minor >= 29))))
		fail_member(errs, p, "maxPods", c->provider == CDE_SIZING_EKS ?
			    "required for provider eks: its memory reservation depends on it" :
			    "required for provider aks from 1.29: its memory reservation "
			    "depends on it");
}

int cde_sizing_cluster_parse(const cJSON *obj, const char *at, struct cde_sizing_cluster *ret,
			     struct cde_errors *errs)
{
	struct cde_sizing_cluster c;
	struct cluster_seen seen = { false, false, false, false };
	struct cde_ptr p;
	size_t before = error_total(errs), mark;
	const cJSON *v;

	memset(&c, 0, sizeof(c));
	ptr_at(&p, at);
	if (!cJSON_IsObject(obj)) {
		cde_sizing_fail(errs, &p, "must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, obj) {
		mark = cde_ptr_push(&p, v->string);
		cluster_member(v, &c, &seen, errs, &p);
		cde_ptr_pop(&p, mark);
	}
	cluster_check(&c, &seen, errs, &p);
	if (error_total(errs) != before)
		return -EINVAL;
	*ret = c;
	return 0;
}

int cde_sizing_input_parse(const cJSON *req, struct cde_sizing_input *ret,
			   struct cde_errors *errs)
{
	struct cde_sizing_input in;
	struct cde_ptr p;
	size_t before = error_total(errs), mark;
	bool has_language = false, has_conf = false;
	const cJSON *v;

	cde_sizing_input_init(&in);
	cde_ptr_init(&p);
	if (!cJSON_IsObject(req)) {
		cde_sizing_fail(errs, &p, "must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, req) {
		mark = cde_ptr_push(&p, v->string);
		if (strcmp(v->string, "sparkVersion") == 0) {
			parse_spark_version(v, &in, errs, &p);
		} else if (strcmp(v->string, "language") == 0) {
			has_language = true;
			parse_language(v, &in.language, errs, &p);
		} else if (strcmp(v->string, "conf") == 0) {
			has_conf = true;
			cde_sizing_parse_conf(v, &in.conf, &p, errs);
		} else if (strcmp(v->string, "cluster") == 0) {
			if (cde_sizing_cluster_parse(v, cde_ptr_str(&p), &in.cluster, errs) == 0)
				in.has_cluster = true;
		} else {
			cde_sizing_fail(errs, &p, "unknown field");
		}
		cde_ptr_pop(&p, mark);
	}
	if (!has_language) {
		mark = cde_ptr_push(&p, "language");
		cde_sizing_fail(errs, &p, "required");
		cde_ptr_pop(&p, mark);
	}
	if (!has_conf) {
		mark = cde_ptr_push(&p, "conf");
		cde_sizing_fail(errs, &p, "required");
		cde_ptr_pop(&p, mark);
	}
	if (error_total(errs) != before)
		return -EINVAL;
	*ret = in;
	return 0;
}
