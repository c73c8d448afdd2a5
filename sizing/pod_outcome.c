/* Pod outcomes: a Pod object in, what became of it out (the remedies are
 * in sizing/pod_remedy.c, names, summaries and JSON in pod_outcome_text.c).
 *
 * Kubernetes spreads a pod's fate over several places, and each reason
 * lives in a different one: Evicted and DeadlineExceeded in status.reason
 * (the containers then only show the kill), Unschedulable in the
 * PodScheduled condition, everything else in a container's state or, for a
 * container that restarted, its lastState. So the classification reads all
 * of them and ranks what it finds (see cde_pod_classify's comment).
 *
 * Invariants: nothing here allocates but the JSON output; strings in a
 * struct cde_pod_outcome point into the Pod document or into the struct's
 * own arrays; the output struct is written only on success. */

#include "sizing/pod_outcome.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "sizing/units.h"


/* ---- reading the document ---- */

struct reader {
	struct cde_errors *errs;
	struct cde_ptr p;
	size_t before;
};

static void reader_init(struct reader *r, const char *at, struct cde_errors *errs)
{
	size_t len = at ? strlen(at) : 0;

	cde_ptr_init(&r->p);
	/* Half the buffer at most, so the fields below still fit. */
	if (len >= sizeof(r->p.buf) / 2)
		len = sizeof(r->p.buf) / 2;
	memcpy(r->p.buf, at ? at : "", len);
	r->p.buf[len] = '\0';
	r->p.len = len;
	r->errs = errs;
	r->before = errs->count + errs->dropped;
}

static bool reader_failed(const struct reader *r)
{
	return r->errs->count + r->errs->dropped != r->before;
}

__attribute__((format(printf, 3, 4)))
static void fail_at(struct reader *r, const char *key, const char *fmt, ...)
{
	size_t mark = key ? cde_ptr_push(&r->p, key) : r->p.len;
	va_list ap;

	va_start(ap, fmt);
	cde_errors_addv(r->errs, cde_ptr_str(&r->p), fmt, ap);
	va_end(ap);
	cde_ptr_pop(&r->p, mark);
}

static const char *type_word(int type)
{
	switch (type) {
	case cJSON_Object: return "an object";
	case cJSON_Array: return "an array";
	case cJSON_String: return "a string";
	case cJSON_Number: return "a number";
	default: return "a value";
	}
}

/* The member @key of @obj when it has JSON type @type; NULL when absent or
 * null (kubectl prints null for some unset fields), and after an error
 * when it has another type. */
static const cJSON *member(struct reader *r, const cJSON *obj, const char *key, int type)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return NULL;
	if ((v->type & 0xFF) != type) {
		fail_at(r, key, "must be %s", type_word(type));
		return NULL;
	}
	return v;
}

/* Like member(), and an error when @key is absent or null. */
static const cJSON *required(struct reader *r, const cJSON *obj, const char *key, int type,
			     const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		fail_at(r, key, "required (%s)", what);
		return NULL;
	}
	return member(r, obj, key, type);
}

static const char *string_member(struct reader *r, const cJSON *obj, const char *key)
{
	const cJSON *v = member(r, obj, key, cJSON_String);

	return v ? v->valuestring : NULL;
}

/* A whole number in [@min, @max], or false (after an error when present
 * but wrong). */
static bool int_member(struct reader *r, const cJSON *obj, const char *key, double min,
		       double max, double *ret)
{
	const cJSON *v = member(r, obj, key, cJSON_Number);

	if (!v)
		return false;
	/* The range first: casting a double beyond int64_t is undefined. */
	if (!(v->valuedouble >= min && v->valuedouble <= max) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		fail_at(r, key, "must be a whole number from %.0f to %.0f", min, max);
		return false;
	}
	*ret = v->valuedouble;
	return true;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Copies at most @n bytes of @s into @buf (size @size), terminated. */
static void copy_n(char *buf, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* ---- quantities ---- */

static void read_memory(struct reader *r, const cJSON *obj, const char *key,
			struct cde_pod_quantity *q)
{
	const char *s = string_member(r, obj, key), *reason;
	uint64_t bytes;

	if (!s)
		return;
	if (cde_k8s_memory_parse(s, &bytes, &reason) < 0) {
		fail_at(r, key, "\"%.40s\" is not a memory quantity: %s", s, reason);
		return;
	}
	q->set = true;
	q->v = bytes;
}

static void read_cpu(struct reader *r, const cJSON *obj, const char *key, struct cde_pod_quantity *q)
{
	const char *s = string_member(r, obj, key), *reason;
	uint64_t millis;

	if (!s)
		return;
	if (cde_k8s_cpu_parse(s, &millis, &reason) < 0) {
		fail_at(r, key, "\"%.40s\" is not a CPU quantity: %s", s, reason);
		return;
	}
	q->set = true;
	q->v = millis;
}

/* What one container asks of the scheduler. A limit without a request is
 * a request of the same size (the API server defaults it so). */
struct resources {
	struct cde_pod_quantity mem_limit, mem_request, cpu_limit, cpu_request;
};

static void read_resources(struct reader *r, const cJSON *container, struct resources *res)
{
	const cJSON *resources, *limits, *requests;
	size_t mark;

	memset(res, 0, sizeof(*res));
	resources = member(r, container, "resources", cJSON_Object);
	if (!resources)
		return;
	mark = cde_ptr_push(&r->p, "resources");
	limits = member(r, resources, "limits", cJSON_Object);
	requests = member(r, resources, "requests", cJSON_Object);
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

/* Reads the containers of spec: checks their shape, finds the one named
 * @name (for its resources, env and image) and adds up the pod's
 * requests the way the scheduler does: regular containers and sidecars
 * (init containers with restartPolicy Always) run together, each other
 * init container runs alone beside the sidecars started before it. */
struct spec_facts {
	const cJSON *container;		/* the spec of the container @name, or NULL */
	struct resources res;		/* its resources */
	struct cde_pod_quantity pod_mem, pod_cpu;
};

static void read_containers(struct reader *r, const cJSON *spec, const char *key,
			    const char *name, bool init, struct spec_facts *f,
			    struct cde_pod_quantity sum[2], struct cde_pod_quantity max_init[2])
{
	const cJSON *list = member(r, spec, key, cJSON_Array), *c;
	size_t mark, i = 0;

	if (!list)
		return;
	mark = cde_ptr_push(&r->p, key);
	cJSON_ArrayForEach(c, list) {
		size_t m2 = cde_ptr_push_index(&r->p, i++);
		struct resources res;
		const char *cname, *policy;

		if (!cJSON_IsObject(c)) {
			fail_at(r, NULL, "must be an object (a container)");
			cde_ptr_pop(&r->p, m2);
			continue;
		}
		cname = string_member(r, c, "name");
		policy = string_member(r, c, "restartPolicy");
		string_member(r, c, "image");
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

static void read_spec(struct reader *r, const cJSON *spec, const char *name, struct spec_facts *f)
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
	overhead = member(r, spec, "overhead", cJSON_Object);
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
static void read_spark_heap(const cJSON *container, struct cde_pod_quantity *heap)
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

/* ---- container states ---- */

/* How telling a container's state is: the highest wins. */
enum rank {
	RANK_NONE = 0,
	RANK_DONE = 5,			/* terminated with exit code 0 */
	RANK_ALIVE = 10,		/* running, or waiting to start */
	RANK_EXIT = 60,			/* terminated non-zero */
	RANK_CANNOT_RUN = 65,		/* could not be created or started */
	RANK_CONFIG = 70,		/* image or configuration missing */
	RANK_BACK_OFF = 80,		/* crashing again and again */
	RANK_OOM = 90,
};

struct candidate {
	enum rank rank;
	enum cde_pod_reason reason;
	const cJSON *status;		/* the containerStatuses item */
	bool init;
	const char *message;
	bool has_exit_code;
	int exit_code;
	const char *last_reason;
	const char *finished_at;
};

static const char *const image_pull_reasons[] = {
	"ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "ImageInspectError", NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Reads state.terminated (or lastState.terminated) @t into @c. */
static void read_terminated(struct reader *r, const cJSON *t, struct candidate *c)
{
	double code;
	const char *reason = string_member(r, t, "reason");

	c->message = string_member(r, t, "message");
	c->finished_at = string_member(r, t, "finishedAt");
	if (!required(r, t, "exitCode", cJSON_Number, "a terminated container has one") ||
	    !int_member(r, t, "exitCode", -2147483648.0, 2147483647.0, &code))
		return;
	c->has_exit_code = true;
	c->exit_code = (int)code;
	c->last_reason = reason;
	if (eq(reason, "OOMKilled")) {
		c->rank = RANK_OOM;
		c->reason = CDE_POD_OOM_KILLED;
	} else if (c->exit_code == 0) {
		c->rank = RANK_DONE;
		c->reason = CDE_POD_SUCCEEDED;
	} else if (eq(reason, "ContainerCannotRun") || eq(reason, "StartError")) {
		c->rank = RANK_CANNOT_RUN;
		c->reason = CDE_POD_FAILED;
	} else {
		c->rank = RANK_EXIT;
		c->reason = CDE_POD_ERROR;
	}
}

static void read_waiting(struct reader *r, const cJSON *w, struct candidate *c)
{
	const char *reason = string_member(r, w, "reason");

	c->message = string_member(r, w, "message");
	c->last_reason = reason;
	if (eq(reason, "CrashLoopBackOff")) {
		c->rank = RANK_BACK_OFF;
		c->reason = CDE_POD_CRASH_LOOP_BACK_OFF;
	} else if (eq(reason, "ImagePullBackOff")) {
		c->rank = RANK_CONFIG;
		c->reason = CDE_POD_IMAGE_PULL_BACK_OFF;
	} else if (in_list(reason, image_pull_reasons)) {
		c->rank = RANK_CONFIG;
		c->reason = CDE_POD_ERR_IMAGE_PULL;
	} else if (eq(reason, "CreateContainerConfigError")) {
		c->rank = RANK_CONFIG;
		c->reason = CDE_POD_CREATE_CONTAINER_CONFIG_ERROR;
	} else if (eq(reason, "CreateContainerError") || eq(reason, "RunContainerError")) {
		c->rank = RANK_CANNOT_RUN;
		c->reason = CDE_POD_FAILED;
	} else {
		c->rank = RANK_ALIVE;
		c->reason = CDE_POD_PENDING;
	}
}

/* Reads one containerStatuses item into @c. */
static void read_container_status(struct reader *r, const cJSON *st, bool init,
				  struct candidate *c)
{
	const cJSON *state, *last, *t, *w;
	double restarts;

	memset(c, 0, sizeof(*c));
	c->status = st;
	c->init = init;
	required(r, st, "name", cJSON_String, "the container's name");
	string_member(r, st, "image");
	string_member(r, st, "imageID");
	int_member(r, st, "restartCount", 0, 2147483647.0, &restarts);
	state = member(r, st, "state", cJSON_Object);
	last = member(r, st, "lastState", cJSON_Object);
	if (state) {
		size_t mark = cde_ptr_push(&r->p, "state");

		t = member(r, state, "terminated", cJSON_Object);
		w = member(r, state, "waiting", cJSON_Object);
		if (member(r, state, "running", cJSON_Object)) {
			c->rank = RANK_ALIVE;
			c->reason = CDE_POD_RUNNING;
		}
		if (t) {
			size_t m2 = cde_ptr_push(&r->p, "terminated");

			read_terminated(r, t, c);
			cde_ptr_pop(&r->p, m2);
		} else if (w) {
			size_t m2 = cde_ptr_push(&r->p, "waiting");

			read_waiting(r, w, c);
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
	if (last) {
		size_t mark = cde_ptr_push(&r->p, "lastState");

		t = member(r, last, "terminated", cJSON_Object);
		member(r, last, "waiting", cJSON_Object);
		member(r, last, "running", cJSON_Object);
		if (t) {
			struct candidate prev;
			size_t m2 = cde_ptr_push(&r->p, "terminated");

			memset(&prev, 0, sizeof(prev));
			read_terminated(r, t, &prev);
			/* A crash loop is explained by the run that crashed,
			 * whose message (the tail of its log, with
			 * FallbackToLogsOnError) beats "back-off 5m0s". */
			if (c->reason == CDE_POD_CRASH_LOOP_BACK_OFF) {
				c->has_exit_code = prev.has_exit_code;
				c->exit_code = prev.exit_code;
				c->last_reason = prev.last_reason;
				c->finished_at = prev.finished_at;
				if (prev.message && prev.message[0])
					c->message = prev.message;
			}
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
}

/* Reads initContainerStatuses then containerStatuses; keeps in @best the
 * most telling state (the first on a tie) and in @first the first regular
 * container, which names a pod that succeeded or was stopped as a whole. */
static void read_statuses(struct reader *r, const cJSON *status, struct candidate *best,
			  struct candidate *first)
{
	static const struct {
		const char *key;
		bool init;
	} lists[] = { { "initContainerStatuses", true }, { "containerStatuses", false } };

	memset(best, 0, sizeof(*best));
	memset(first, 0, sizeof(*first));
	for (size_t l = 0; l < 2; l++) {
		const cJSON *list = member(r, status, lists[l].key, cJSON_Array), *st;
		size_t mark, i = 0;

		if (!list)
			continue;
		mark = cde_ptr_push(&r->p, lists[l].key);
		cJSON_ArrayForEach(st, list) {
			size_t m2 = cde_ptr_push_index(&r->p, i++);
			struct candidate c;

			if (!cJSON_IsObject(st)) {
				fail_at(r, NULL, "must be an object (a container status)");
			} else {
				read_container_status(r, st, lists[l].init, &c);
				if (c.rank > best->rank)
					*best = c;
				if (!lists[l].init && !first->status)
					*first = c;
			}
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
}

/* The containerStatuses item named @name (from a message), or NULL. */
static const cJSON *status_named(const cJSON *status, const char *name, size_t len, bool *init)
{
	static const char *const keys[] = { "initContainerStatuses", "containerStatuses" };

	for (size_t l = 0; l < 2; l++) {
		const cJSON *st;

		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(status, keys[l])) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(st, "name");

			if (cJSON_IsString(n) && strlen(n->valuestring) == len &&
			    strncmp(n->valuestring, name, len) == 0) {
				*init = l == 0;
				return st;
			}
		}
	}
	return NULL;
}

/* The candidate of one status item, read again: its errors, if any, were
 * reported by read_statuses already. */
static void candidate_for(const cJSON *st, bool init, struct candidate *c)
{
	struct cde_errors scratch;
	struct reader r;

	cde_errors_reset(&scratch);
	reader_init(&r, "", &scratch);
	read_container_status(&r, st, init, c);
}

/* ---- messages ---- */

/* Counts one item of the scheduler's list ("3 Insufficient memory",
 * "2 node(s) had untolerated taint {dedicated: gpu}"). */
static void count_item(const char *item, size_t len, struct cde_pod_unschedulable *u)
{
	char text[256];
	unsigned n = 0;
	size_t i = 0;
	const char *brace;

	copy_n(text, sizeof(text), item, len);
	while (text[i] >= '0' && text[i] <= '9' && n < 1000000)
		n = n * 10 + (unsigned)(text[i++] - '0');
	if (i == 0)
		n = 1;
	while (text[i] == ' ')
		i++;
	const char *what = text + i;

	if (starts_with(what, "Insufficient cpu")) {
		u->insufficient_cpu += n;
	} else if (starts_with(what, "Insufficient memory")) {
		u->insufficient_memory += n;
	} else if (starts_with(what, "Insufficient ephemeral-storage")) {
		u->insufficient_storage += n;
	} else if (starts_with(what, "Insufficient ")) {
		u->insufficient_other += n;
		if (!u->other_resource[0])
			snprintf(u->other_resource, sizeof(u->other_resource), "%s", what + 13);
	} else if (strstr(what, "taint")) {
		u->taint += n;
		brace = strchr(what, '{');
		if (brace && !u->taint_text[0]) {
			const char *end = strchr(brace, '}');

			copy_n(u->taint_text, sizeof(u->taint_text), brace,
			       end ? (size_t)(end - brace + 1) : strlen(brace));
		}
	} else if (strstr(what, "node affinity/selector") || strstr(what, "node selector") ||
		   strstr(what, "node(s) didn't match Pod's node affinity")) {
		u->node_selector += n;
	} else if (strstr(what, "volume") || strstr(what, "PersistentVolumeClaim")) {
		/* Before affinity: "volume node affinity conflict" is a volume's. */
		u->volume += n;
	} else if (strstr(what, "affinity")) {
		u->pod_affinity += n;
	} else if (strstr(what, "Too many pods")) {
		u->too_many_pods += n;
	} else {
		u->other += n;
	}
}

/* Parses "0/5 nodes are available: 3 Insufficient memory, 2 node(s) had
 * untolerated taint {a: b}. preemption: ...". Items are separated by ", "
 * followed by a count, so the ", that the pod didn't tolerate" of older
 * releases stays inside its item; braces are never split. The list ends
 * at ". " or at the end. */
static void parse_unschedulable(const char *msg, struct cde_pod_unschedulable *u)
{
	const char *p, *item;
	unsigned avail = 0, total = 0;
	int depth = 0;

	memset(u, 0, sizeof(*u));
	if (!msg)
		return;
	if (sscanf(msg, "%u/%u nodes are available", &avail, &total) == 2)
		u->nodes = total;
	p = strstr(msg, "nodes are available:");
	if (!p) {
		/* "pod has unbound immediate PersistentVolumeClaims" and the like. */
		if (strstr(msg, "PersistentVolumeClaim") || strstr(msg, "volume"))
			u->volume = 1;
		else
			u->other = 1;
		return;
	}
	p += strlen("nodes are available:");
	while (*p == ' ')
		p++;
	item = p;
	for (;; p++) {
		bool end = *p == '\0' || (depth == 0 && *p == '.' && (p[1] == ' ' || p[1] == '\0'));
		bool sep = depth == 0 && p[0] == ',' && p[1] == ' ' && p[2] >= '0' && p[2] <= '9';

		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		if (end || sep) {
			if (p > item)
				count_item(item, (size_t)(p - item), u);
			if (end)
				break;
			item = p + 2;
			p++;
		}
	}
}

/* "configmap \"spark-conf\" not found", "secret \"s3\" not found",
 * "couldn't find key AWS_KEY in Secret ns/s3": the kubelet's words. */
static void parse_config_error(const char *msg, struct cde_pod_outcome *o)
{
	static const struct {
		const char *prefix, *kind;
	} missing[] = { { "configmap \"", "ConfigMap" }, { "secret \"", "Secret" } };
	const char *p;

	if (!msg)
		return;
	for (size_t i = 0; i < 2; i++) {
		p = strstr(msg, missing[i].prefix);
		if (p) {
			const char *name = p + strlen(missing[i].prefix), *end = strchr(name, '"');

			if (end) {
				snprintf(o->config_kind, sizeof(o->config_kind), "%s", missing[i].kind);
				copy_n(o->config_name, sizeof(o->config_name), name, (size_t)(end - name));
				return;
			}
		}
	}
	p = strstr(msg, "couldn't find key ");
	if (p) {
		const char *key = p + strlen("couldn't find key "), *in = strstr(key, " in ");

		if (!in)
			return;
		copy_n(o->config_key, sizeof(o->config_key), key, (size_t)(in - key));
		in += 4;
		if (starts_with(in, "Secret "))
			snprintf(o->config_kind, sizeof(o->config_kind), "Secret");
		else if (starts_with(in, "ConfigMap "))
			snprintf(o->config_kind, sizeof(o->config_kind), "ConfigMap");
		else
			return;
		in = strchr(in, ' ') + 1;
		/* "ns/name": the name is after the slash. */
		const char *slash = strchr(in, '/');
		const char *name = slash ? slash + 1 : in;
		size_t len = strcspn(name, " ,;:");

		copy_n(o->config_name, sizeof(o->config_name), name, len);
	}
}

/* "The node was low on resource: ephemeral-storage. ... Container x was
 * using 25Gi, ..." or "Pod ephemeral local storage usage exceeds ..." or
 * "Usage of EmptyDir volume \"x\" exceeds the limit". */
static void parse_eviction(const char *msg, const cJSON *status, struct cde_pod_outcome *o,
			   const cJSON **ret_container, bool *ret_init)
{
	const char *p;

	if (!msg)
		return;
	p = strstr(msg, "low on resource: ");
	if (p) {
		p += strlen("low on resource: ");
		copy_n(o->evicted_resource, sizeof(o->evicted_resource), p, strcspn(p, ". ,"));
	} else if (strstr(msg, "ephemeral") || strstr(msg, "EmptyDir")) {
		snprintf(o->evicted_resource, sizeof(o->evicted_resource), "ephemeral-storage");
	}
	p = strstr(msg, "Container ");
	if (p) {
		p += strlen("Container ");
		*ret_container = status_named(status, p, strcspn(p, " "), ret_init);
	}
}

/* ---- classification ---- */

static void read_labels(struct reader *r, const cJSON *metadata, struct cde_pod_outcome *o)
{
	const cJSON *labels = member(r, metadata, "labels", cJSON_Object), *l;
	size_t mark;

	if (!labels)
		return;
	mark = cde_ptr_push(&r->p, "labels");
	cJSON_ArrayForEach(l, labels)
		if (!cJSON_IsString(l))
			fail_at(r, l->string, "must be a string (a label value)");
	cde_ptr_pop(&r->p, mark);
	const char *role = string_member(r, labels, "spark-role");

	o->spark_role = eq(role, "driver") ? CDE_POD_SPARK_DRIVER :
			eq(role, "executor") ? CDE_POD_SPARK_EXECUTOR : CDE_POD_SPARK_NONE;
	o->spark_app_name = string_member(r, labels, "spark-app-name");
	o->spark_app_id = string_member(r, labels, "spark-app-selector");
	o->spark_version = string_member(r, labels, "spark-version");
	o->spark_exec_id = string_member(r, labels, "spark-exec-id");
	o->pipeline_run = string_member(r, labels, "tekton.dev/pipelineRun");
	o->task_name = string_member(r, labels, "tekton.dev/pipelineTask");
	if (!o->task_name)
		o->task_name = string_member(r, labels, "tekton.dev/task");
}

/* status.reason values with which the kubelet fails a whole pod: node
 * shutdown, a lost node, admission refusals. */
static const char *const platform_reasons[] = {
	"Terminated", "Shutdown", "NodeShutdown", "NodeLost", "NodeAffinity", "OutOfcpu",
	"OutOfmemory", "OutOfpods", "UnexpectedAdmissionError", "Preempting", NULL,
};

static const char *const phases[] = { "Pending", "Running", "Succeeded", "Failed", "Unknown", NULL };

/* The PodScheduled condition when it says Unschedulable, else NULL. */
static const cJSON *unschedulable_condition(struct reader *r, const cJSON *status)
{
	const cJSON *conds = member(r, status, "conditions", cJSON_Array), *c, *found = NULL;
	size_t mark, i = 0;

	if (!conds)
		return NULL;
	mark = cde_ptr_push(&r->p, "conditions");
	cJSON_ArrayForEach(c, conds) {
		size_t m2 = cde_ptr_push_index(&r->p, i++);

		if (!cJSON_IsObject(c)) {
			fail_at(r, NULL, "must be an object (a pod condition)");
		} else {
			const char *type = string_member(r, c, "type");
			const char *st = string_member(r, c, "status");
			const char *reason = string_member(r, c, "reason");

			string_member(r, c, "message");
			if (!found && eq(type, "PodScheduled") && eq(st, "False") &&
			    eq(reason, "Unschedulable"))
				found = c;
		}
		cde_ptr_pop(&r->p, m2);
	}
	cde_ptr_pop(&r->p, mark);
	return found;
}

static enum cde_pod_verdict verdict_of(enum cde_pod_reason reason)
{
	switch (reason) {
	case CDE_POD_SUCCEEDED:
		return CDE_POD_SUCCESS;
	case CDE_POD_RUNNING:
	case CDE_POD_PENDING:
	case CDE_POD_REASON_COUNT:
		return CDE_POD_NOT_FINISHED;
	case CDE_POD_FAILED:
	case CDE_POD_ERROR:
	case CDE_POD_OOM_KILLED:
	case CDE_POD_CRASH_LOOP_BACK_OFF:
	case CDE_POD_DEADLINE_EXCEEDED:
		return CDE_POD_FAILURE;
	case CDE_POD_IMAGE_PULL_BACK_OFF:
	case CDE_POD_ERR_IMAGE_PULL:
	case CDE_POD_CREATE_CONTAINER_CONFIG_ERROR:
	case CDE_POD_UNSCHEDULABLE:
	case CDE_POD_EVICTED:
	case CDE_POD_UNKNOWN:
		return CDE_POD_ERROR_OUTCOME;
	}
	return CDE_POD_ERROR_OUTCOME;
}

bool cde_pod_reason_is_pod_level(enum cde_pod_reason reason)
{
	return reason == CDE_POD_EVICTED || reason == CDE_POD_DEADLINE_EXCEEDED ||
	       reason == CDE_POD_UNSCHEDULABLE || reason == CDE_POD_UNKNOWN;
}

/* Fills the container facts of @o from the candidate @c. */
static void take_candidate(const struct candidate *c, struct cde_pod_outcome *o)
{
	const cJSON *v;

	if (!c->status)
		return;
	v = cJSON_GetObjectItemCaseSensitive(c->status, "name");
	o->container = cJSON_IsString(v) ? v->valuestring : NULL;
	o->init_container = c->init;
	v = cJSON_GetObjectItemCaseSensitive(c->status, "image");
	o->image = cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
	v = cJSON_GetObjectItemCaseSensitive(c->status, "imageID");
	o->image_id = cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
	v = cJSON_GetObjectItemCaseSensitive(c->status, "restartCount");
	o->restarts = cJSON_IsNumber(v) ? (unsigned)v->valuedouble : 0;
	o->has_exit_code = c->has_exit_code;
	o->exit_code = c->exit_code;
	o->finished_at = c->finished_at;
	/* The crash's reason for a loop, the waiting reason while pending
	 * ("ContainerCreating"). */
	if (c->reason == CDE_POD_CRASH_LOOP_BACK_OFF || c->reason == CDE_POD_PENDING)
		o->last_reason = c->last_reason;
	/* A pod-level reason's message says why; the container's only
	 * describes the kill. */
	if (c->message && c->message[0] && !(o->message && cde_pod_reason_is_pod_level(o->reason)))
		o->message = c->message;
}

int cde_pod_classify(const cJSON *pod, const char *at, struct cde_pod_outcome *ret,
		     struct cde_errors *errs)
{
	struct cde_pod_outcome o;
	struct candidate best, first, chosen;
	struct spec_facts spec_facts;
	struct reader r;
	const cJSON *metadata, *spec, *status, *sched = NULL, *evicted_status = NULL;
	const char *kind;
	double deadline;
	size_t mark;

	memset(&o, 0, sizeof(o));
	memset(&best, 0, sizeof(best));
	memset(&first, 0, sizeof(first));
	reader_init(&r, at, errs);
	if (!cJSON_IsObject(pod)) {
		fail_at(&r, NULL, "must be an object (a Pod, as kubectl get pod -o json prints it)");
		return -EINVAL;
	}
	kind = string_member(&r, pod, "kind");
	if (kind && strcmp(kind, "Pod") != 0)
		fail_at(&r, "kind", "must be Pod, not %.60s", kind);
	metadata = required(&r, pod, "metadata", cJSON_Object, "with the pod's name");
	spec = member(&r, pod, "spec", cJSON_Object);
	status = required(&r, pod, "status", cJSON_Object,
			  "the pod's status, as kubectl get pod -o json prints it");
	if (metadata) {
		mark = cde_ptr_push(&r.p, "metadata");
		o.name = required(&r, metadata, "name", cJSON_String, "the pod's name") ?
				 cJSON_GetObjectItemCaseSensitive(metadata, "name")->valuestring : NULL;
		if (o.name && !o.name[0])
			fail_at(&r, "name", "must not be empty");
		o.ns = string_member(&r, metadata, "namespace");
		o.uid = string_member(&r, metadata, "uid");
		read_labels(&r, metadata, &o);
		cde_ptr_pop(&r.p, mark);
	}
	if (!o.ns || !o.ns[0])
		o.ns = "default";
	if (o.uid && !o.uid[0])
		o.uid = NULL;
	if (status) {
		mark = cde_ptr_push(&r.p, "status");
		o.phase = required(&r, status, "phase", cJSON_String,
				   "Pending, Running, Succeeded, Failed or Unknown") ?
				  cJSON_GetObjectItemCaseSensitive(status, "phase")->valuestring : NULL;
		if (o.phase && !in_list(o.phase, phases))
			fail_at(&r, "phase", "must be Pending, Running, Succeeded, Failed or Unknown");
		o.pod_reason = string_member(&r, status, "reason");
		o.message = string_member(&r, status, "message");
		sched = unschedulable_condition(&r, status);
		read_statuses(&r, status, &best, &first);
		cde_ptr_pop(&r.p, mark);
	}
	if (spec) {
		mark = cde_ptr_push(&r.p, "spec");
		o.node = string_member(&r, spec, "nodeName");
		if (int_member(&r, spec, "activeDeadlineSeconds", 1, 9007199254740991.0, &deadline)) {
			o.has_deadline = true;
			o.deadline_seconds = (uint64_t)deadline;
		}
		const cJSON *secrets = member(&r, spec, "imagePullSecrets", cJSON_Array), *s;

		cJSON_ArrayForEach(s, secrets) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");

			if (cJSON_IsString(n) && !o.pull_secret)
				o.pull_secret = n->valuestring;
			o.pull_secrets++;
		}
		cde_ptr_pop(&r.p, mark);
	}
	if (reader_failed(&r))
		return -EINVAL;

	/* Pod-level reasons first: they explain the container states. */
	memset(&chosen, 0, sizeof(chosen));
	if (eq(o.pod_reason, "Evicted")) {
		bool init = false;

		o.reason = CDE_POD_EVICTED;
		parse_eviction(o.message, status, &o, &evicted_status, &init);
		/* The container the kubelet named, else none: the others were
		 * only killed along with it. */
		if (evicted_status)
			candidate_for(evicted_status, init, &chosen);
	} else if (eq(o.pod_reason, "DeadlineExceeded")) {
		o.reason = CDE_POD_DEADLINE_EXCEEDED;
		chosen = first;
	} else if (eq(o.phase, "Failed") && in_list(o.pod_reason, platform_reasons)) {
		/* The node or the kubelet stopped it; its containers' exit
		 * codes are the kill, not the workload's verdict. */
		o.reason = CDE_POD_FAILED;
	} else if (eq(o.phase, "Succeeded")) {
		o.reason = CDE_POD_SUCCEEDED;
		chosen = first;
	} else if (sched) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(sched, "message");

		o.reason = CDE_POD_UNSCHEDULABLE;
		o.message = cJSON_IsString(m) ? m->valuestring : o.message;
		parse_unschedulable(o.message, &o.unschedulable);
	} else if (best.rank >= RANK_EXIT) {
		o.reason = best.reason;
		chosen = best;
	} else if (eq(o.phase, "Failed")) {
		/* Stopped as a whole (node shutdown, admission, lost node):
		 * the platform's doing, not the workload's, and no container
		 * to blame. */
		o.reason = CDE_POD_FAILED;
	} else if (eq(o.phase, "Unknown")) {
		o.reason = CDE_POD_UNKNOWN;
	} else if (eq(o.phase, "Running")) {
		o.reason = CDE_POD_RUNNING;
	} else {
		o.reason = CDE_POD_PENDING;
		chosen = best.rank == RANK_ALIVE ? best : chosen;
	}
	o.verdict = verdict_of(o.reason);
	if (o.reason == CDE_POD_FAILED && !chosen.status)
		o.verdict = CDE_POD_ERROR_OUTCOME;
	/* A succeeded pod's message is not news; keep the container's own. */
	if (o.reason == CDE_POD_SUCCEEDED || o.reason == CDE_POD_RUNNING)
		o.message = NULL;
	take_candidate(&chosen, &o);
	if (o.reason == CDE_POD_CREATE_CONTAINER_CONFIG_ERROR)
		parse_config_error(o.message, &o);

	/* The spec last: which container's resources matter depends on the
	 * classification. */
	read_spec(&r, spec, o.container, &spec_facts);
	if (reader_failed(&r))
		return -EINVAL;
	if (spec_facts.container) {
		const cJSON *img = cJSON_GetObjectItemCaseSensitive(spec_facts.container, "image");

		o.memory_limit = spec_facts.res.mem_limit;
		o.memory_request = spec_facts.res.mem_request;
		o.cpu_request = spec_facts.res.cpu_request;
		if (cJSON_IsString(img) && img->valuestring[0])
			o.image = img->valuestring;
		if (o.spark_role == CDE_POD_SPARK_EXECUTOR)
			read_spark_heap(spec_facts.container, &o.spark_heap);
	}
	o.pod_memory_request = spec_facts.pod_mem;
	o.pod_cpu_request = spec_facts.pod_cpu;
	*ret = o;
	return 0;
}
