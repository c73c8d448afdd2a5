/* Pod analysis: reading the Pod document (with the typed reader of
 * schemas/base/json_read.h): the Kubernetes quantities of a container's
 * resources, and the spec: which container's resources matter and what
 * the whole pod asks of the scheduler. */

#include "sizing/pod_internal.h"

#include <stdio.h>

#include "sizing/units.h"

/* ---- quantities ---- */

static void read_memory(struct cde_json_reader *r, const cJSON *obj, const char *key,
			struct cde_pod_quantity *q)
{
	const char *s = cde_json_read_string(r, obj, key), *reason;
	uint64_t bytes;

	if (!s)
		return;
	if (cde_k8s_memory_parse(s, &bytes, &reason) < 0) {
		cde_json_reader_fail(r, key, "\"%.40s\" is not a memory quantity: %s", s, reason);
		return;
	}
	q->set = true;
	q->v = bytes;
}

static void read_cpu(struct cde_json_reader *r, const cJSON *obj, const char *key,
		     struct cde_pod_quantity *q)
{
	const char *s = cde_json_read_string(r, obj, key), *reason;
	uint64_t millis;

	if (!s)
		return;
	if (cde_k8s_cpu_parse(s, &millis, &reason) < 0) {
		cde_json_reader_fail(r, key, "\"%.40s\" is not a CPU quantity: %s", s, reason);
		return;
	}
	q->set = true;
	q->v = millis;
}

static void read_resources(struct cde_json_reader *r, const cJSON *container,
			   struct cde_pod_resources *res)
{
	const cJSON *resources, *limits, *requests;
	size_t mark;

	memset(res, 0, sizeof(*res));
	resources = cde_json_read_member(r, container, "resources", cJSON_Object);
	if (!resources)
		return;
	mark = cde_ptr_push(&r->p, "resources");
	limits = cde_json_read_member(r, resources, "limits", cJSON_Object);
	requests = cde_json_read_member(r, resources, "requests", cJSON_Object);
	if (limits) {
		size_t m2 = cde_ptr_push(&r->p, "limits");

		read_memory(r, limits, "memory", &res->mem_limit);
		read_cpu(r, limits, "cpu", &res->cpu_limit);
		cde_ptr_pop(&r->p, m2);
	}
	if (requests) {
		size_t m2 = cde_ptr_push(&r->p, "requests");

		read_memory(r, requests, "memory", &res->mem_request);
		read_cpu(r, requests, "cpu", &res->cpu_request);
		cde_ptr_pop(&r->p, m2);
	}
	if (!res->mem_request.set)
		res->mem_request = res->mem_limit;
	if (!res->cpu_request.set)
		res->cpu_request = res->cpu_limit;
	cde_ptr_pop(&r->p, mark);
}

static void add_q(struct cde_pod_quantity *sum, const struct cde_pod_quantity *q)
{
	if (q->set) {
		sum->set = true;
		sum->v += q->v;
	}
}

static void max_q(struct cde_pod_quantity *m, const struct cde_pod_quantity *q)
{
	if (q->set && (!m->set || q->v > m->v))
		*m = *q;
}
/* ---- the spec ---- */

static void read_containers(struct cde_json_reader *r, const cJSON *spec, const char *key,
			    const char *name, bool init, struct cde_pod_spec_facts *f,
			    struct cde_pod_quantity sum[2], struct cde_pod_quantity max_init[2])
{
	const cJSON *list = cde_json_read_member(r, spec, key, cJSON_Array), *c;
	size_t mark, i = 0;

	if (!list)
		return;
	mark = cde_ptr_push(&r->p, key);
	cJSON_ArrayForEach(c, list) {
		size_t m2 = cde_ptr_push_index(&r->p, i++);
		struct cde_pod_resources res;
		const char *cname, *policy;

		if (!cJSON_IsObject(c)) {
			cde_json_reader_fail(r, NULL, "must be an object (a container)");
			cde_ptr_pop(&r->p, m2);
			continue;
		}
		cname = cde_json_read_string(r, c, "name");
		policy = cde_json_read_string(r, c, "restartPolicy");
		cde_json_read_string(r, c, "image");
		read_resources(r, c, &res);
		if (name && eq(cname, name) && !f->container) {
			f->container = c;
			f->res = res;
		}
		if (init && !eq(policy, "Always")) {
			struct cde_pod_quantity m = sum[0], cpu = sum[1];

			/* Runs beside the sidecars already started. */
			add_q(&m, &res.mem_request);
			add_q(&cpu, &res.cpu_request);
			if (res.mem_request.set)
				max_q(&max_init[0], &m);
			if (res.cpu_request.set)
				max_q(&max_init[1], &cpu);
		} else {
			add_q(&sum[0], &res.mem_request);
			add_q(&sum[1], &res.cpu_request);
		}
		cde_ptr_pop(&r->p, m2);
	}
	cde_ptr_pop(&r->p, mark);
}

void cde_pod_read_spec(struct cde_json_reader *r, const cJSON *spec, const char *name,
		       struct cde_pod_spec_facts *f)
{
	struct cde_pod_quantity sum[2] = { { 0 } }, max_init[2] = { { 0 } };
	struct cde_pod_quantity over_mem = { 0 }, over_cpu = { 0 };
	const cJSON *overhead;
	size_t mark;

	memset(f, 0, sizeof(*f));
	if (!spec)
		return;
	mark = cde_ptr_push(&r->p, "spec");
	/* Init containers first: sidecars among them run with the rest. */
	read_containers(r, spec, "initContainers", name, true, f, sum, max_init);
	read_containers(r, spec, "containers", name, false, f, sum, max_init);
	overhead = cde_json_read_member(r, spec, "overhead", cJSON_Object);
	if (overhead) {
		size_t m2 = cde_ptr_push(&r->p, "overhead");

		read_memory(r, overhead, "memory", &over_mem);
		read_cpu(r, overhead, "cpu", &over_cpu);
		cde_ptr_pop(&r->p, m2);
	}
	f->pod_mem = sum[0];
	max_q(&f->pod_mem, &max_init[0]);
	f->pod_cpu = sum[1];
	max_q(&f->pod_cpu, &max_init[1]);
	if (f->pod_mem.set)
		add_q(&f->pod_mem, &over_mem);
	if (f->pod_cpu.set)
		add_q(&f->pod_cpu, &over_cpu);
	cde_ptr_pop(&r->p, mark);
}

/* Spark sets SPARK_EXECUTOR_MEMORY on every executor to the heap it gave
 * the JVM (BasicExecutorFeatureStep), the one fact besides the limit that
 * tells how the pod's memory was split. */
void cde_pod_read_spark_heap(const cJSON *container, struct cde_pod_quantity *heap)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(container, "env"), *e;
	const char *reason;
	uint64_t bytes;

	if (!cJSON_IsArray(env))
		return;
	cJSON_ArrayForEach(e, env) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");

		if (cJSON_IsString(n) && strcmp(n->valuestring, "SPARK_EXECUTOR_MEMORY") == 0 &&
		    cJSON_IsString(v) && cde_spark_size_parse(v->valuestring, 20, &bytes, &reason) == 0) {
			heap->set = true;
			heap->v = bytes;
		}
	}
}
