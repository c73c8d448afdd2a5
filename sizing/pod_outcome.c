/* Pod outcomes: a Pod object in, what became of it out (the remedies are
 * in sizing/pod_remedy.c, names, summaries and JSON in pod_outcome_text.c;
 * reading in pod_read.c, container states in pod_status.c, messages in
 * pod_messages.c).
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
#include <string.h>

#include "sizing/pod_internal.h"

static void read_labels(struct cde_json_reader *r, const cJSON *metadata, struct cde_pod_outcome *o)
{
	const cJSON *labels = cde_json_read_member(r, metadata, "labels", cJSON_Object), *l;
	size_t mark;

	if (!labels)
		return;
	mark = cde_ptr_push(&r->p, "labels");
	cJSON_ArrayForEach(l, labels)
		if (!cJSON_IsString(l))
			cde_json_reader_fail(r, l->string, "must be a string (a label value)");
	cde_ptr_pop(&r->p, mark);
	const char *role = cde_json_read_string(r, labels, "spark-role");

	o->spark_role = eq(role, "driver") ? CDE_POD_SPARK_DRIVER :
			eq(role, "executor") ? CDE_POD_SPARK_EXECUTOR : CDE_POD_SPARK_NONE;
	o->spark_app_name = cde_json_read_string(r, labels, "spark-app-name");
	o->spark_app_id = cde_json_read_string(r, labels, "spark-app-selector");
	o->spark_version = cde_json_read_string(r, labels, "spark-version");
	o->spark_exec_id = cde_json_read_string(r, labels, "spark-exec-id");
	o->pipeline_run = cde_json_read_string(r, labels, "tekton.dev/pipelineRun");
	o->task_name = cde_json_read_string(r, labels, "tekton.dev/pipelineTask");
	if (!o->task_name)
		o->task_name = cde_json_read_string(r, labels, "tekton.dev/task");
}

/* status.reason values with which the kubelet fails a whole pod: node
 * shutdown, a lost node, admission refusals. */
static const char *const platform_reasons[] = {
	"Terminated", "Shutdown", "NodeShutdown", "NodeLost", "NodeAffinity", "OutOfcpu",
	"OutOfmemory", "OutOfpods", "UnexpectedAdmissionError", "Preempting", NULL,
};

static const char *const phases[] = { "Pending", "Running", "Succeeded", "Failed", "Unknown", NULL };

/* The PodScheduled condition when it says Unschedulable, else NULL. */
static const cJSON *unschedulable_condition(struct cde_json_reader *r, const cJSON *status)
{
	const cJSON *conds = cde_json_read_member(r, status, "conditions", cJSON_Array);
	const cJSON *c, *found = NULL;
	size_t mark, i = 0;

	if (!conds)
		return NULL;
	mark = cde_ptr_push(&r->p, "conditions");
	cJSON_ArrayForEach(c, conds) {
		size_t m2 = cde_ptr_push_index(&r->p, i++);

		if (!cJSON_IsObject(c)) {
			cde_json_reader_fail(r, NULL, "must be an object (a pod condition)");
		} else {
			const char *type = cde_json_read_string(r, c, "type");
			const char *st = cde_json_read_string(r, c, "status");
			const char *reason = cde_json_read_string(r, c, "reason");

			cde_json_read_string(r, c, "message");
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
static void take_candidate(const struct cde_pod_candidate *c, struct cde_pod_outcome *o)
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

/* Reads metadata: the pod's name, namespace ("default" when none), uid
 * and labels. */
static void read_metadata(struct cde_json_reader *r, const cJSON *metadata,
			  struct cde_pod_outcome *o)
{
	if (metadata) {
		size_t mark = cde_ptr_push(&r->p, "metadata");
		const cJSON *name = cde_json_read_required(r, metadata, "name", cJSON_String,
							   "the pod's name");

		o->name = name ? name->valuestring : NULL;
		if (o->name && !o->name[0])
			cde_json_reader_fail(r, "name", "must not be empty");
		o->ns = cde_json_read_string(r, metadata, "namespace");
		o->uid = cde_json_read_string(r, metadata, "uid");
		read_labels(r, metadata, o);
		cde_ptr_pop(&r->p, mark);
	}
	if (!o->ns || !o->ns[0])
		o->ns = "default";
	if (o->uid && !o->uid[0])
		o->uid = NULL;
}

/* Reads status: phase, reason and message, the Unschedulable condition
 * into *@ret_sched, and the container states into @best and @first. */
static void read_status(struct cde_json_reader *r, const cJSON *status, struct cde_pod_outcome *o,
			const cJSON **ret_sched, struct cde_pod_candidate *best,
			struct cde_pod_candidate *first)
{
	size_t mark = cde_ptr_push(&r->p, "status");
	const cJSON *phase = cde_json_read_required(r, status, "phase", cJSON_String,
						    "Pending, Running, Succeeded, Failed or Unknown");

	o->phase = phase ? phase->valuestring : NULL;
	if (o->phase && !in_list(o->phase, phases))
		cde_json_reader_fail(r, "phase",
				"must be Pending, Running, Succeeded, Failed or Unknown");
	o->pod_reason = cde_json_read_string(r, status, "reason");
	o->message = cde_json_read_string(r, status, "message");
	*ret_sched = unschedulable_condition(r, status);
	cde_pod_read_statuses(r, status, best, first);
	cde_ptr_pop(&r->p, mark);
}

/* Reads what spec says of the pod as a whole: its node, its deadline and
 * its image pull secrets. */
static void read_pod_spec(struct cde_json_reader *r, const cJSON *spec, struct cde_pod_outcome *o)
{
	size_t mark = cde_ptr_push(&r->p, "spec");
	const cJSON *secrets, *s;
	double deadline;

	o->node = cde_json_read_string(r, spec, "nodeName");
	if (cde_json_read_whole(r, spec, "activeDeadlineSeconds", 1, 9007199254740991.0,
			       &deadline)) {
		o->has_deadline = true;
		o->deadline_seconds = (uint64_t)deadline;
	}
	secrets = cde_json_read_member(r, spec, "imagePullSecrets", cJSON_Array);
	cJSON_ArrayForEach(s, secrets) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");

		if (cJSON_IsString(n) && !o->pull_secret)
			o->pull_secret = n->valuestring;
		o->pull_secrets++;
	}
	cde_ptr_pop(&r->p, mark);
}

/* Decides @o's reason from what was read, pod-level reasons first (they
 * explain the container states), and puts in @chosen the container that
 * explains it (none: status NULL). */
static void choose_reason(struct cde_pod_outcome *o, const cJSON *status, const cJSON *sched,
			  const struct cde_pod_candidate *best,
			  const struct cde_pod_candidate *first, struct cde_pod_candidate *chosen)
{
	memset(chosen, 0, sizeof(*chosen));
	if (eq(o->pod_reason, "Evicted")) {
		const cJSON *evicted_status = NULL;
		bool init = false;

		o->reason = CDE_POD_EVICTED;
		cde_pod_parse_eviction(o->message, status, o, &evicted_status, &init);
		/* The container the kubelet named, else none: the others were
		 * only killed along with it. */
		if (evicted_status)
			cde_pod_candidate_for(evicted_status, init, chosen);
	} else if (eq(o->pod_reason, "DeadlineExceeded")) {
		o->reason = CDE_POD_DEADLINE_EXCEEDED;
		*chosen = *first;
	} else if (eq(o->phase, "Failed") && in_list(o->pod_reason, platform_reasons)) {
		/* The node or the kubelet stopped it; its containers' exit
		 * codes are the kill, not the workload's verdict. */
		o->reason = CDE_POD_FAILED;
	} else if (eq(o->phase, "Succeeded")) {
		o->reason = CDE_POD_SUCCEEDED;
		*chosen = *first;
	} else if (sched) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(sched, "message");

		o->reason = CDE_POD_UNSCHEDULABLE;
		o->message = cJSON_IsString(m) ? m->valuestring : o->message;
		cde_pod_parse_unschedulable(o->message, &o->unschedulable);
	} else if (best->rank >= CDE_POD_RANK_EXIT) {
		o->reason = best->reason;
		*chosen = *best;
	} else if (eq(o->phase, "Failed")) {
		/* Stopped as a whole (node shutdown, admission, lost node):
		 * the platform's doing, not the workload's, and no container
		 * to blame. */
		o->reason = CDE_POD_FAILED;
	} else if (eq(o->phase, "Unknown")) {
		o->reason = CDE_POD_UNKNOWN;
	} else if (eq(o->phase, "Running")) {
		o->reason = CDE_POD_RUNNING;
	} else {
		o->reason = CDE_POD_PENDING;
		if (best->rank == CDE_POD_RANK_ALIVE)
			*chosen = *best;
	}
}

/* Fills the resources of @o from the spec of the container chosen. */
static void take_spec(const struct cde_pod_spec_facts *f, struct cde_pod_outcome *o)
{
	if (f->container) {
		const cJSON *img = cJSON_GetObjectItemCaseSensitive(f->container, "image");

		o->memory_limit = f->res.mem_limit;
		o->memory_request = f->res.mem_request;
		o->cpu_request = f->res.cpu_request;
		if (cJSON_IsString(img) && img->valuestring[0])
			o->image = img->valuestring;
		if (o->spark_role == CDE_POD_SPARK_EXECUTOR)
			cde_pod_read_spark_heap(f->container, &o->spark_heap);
	}
	o->pod_memory_request = f->pod_mem;
	o->pod_cpu_request = f->pod_cpu;
}

int cde_pod_classify(const cJSON *pod, const char *at, struct cde_pod_outcome *ret,
		     struct cde_errors *errs)
{
	struct cde_pod_outcome o;
	struct cde_pod_candidate best, first, chosen;
	struct cde_pod_spec_facts spec_facts;
	struct cde_json_reader r;
	const cJSON *metadata, *spec, *status, *sched = NULL;
	const char *kind;

	memset(&o, 0, sizeof(o));
	memset(&best, 0, sizeof(best));
	memset(&first, 0, sizeof(first));
	cde_json_reader_init(&r, at, errs);
	if (!cJSON_IsObject(pod)) {
		cde_json_reader_fail(&r, NULL,
				"must be an object (a Pod, as kubectl get pod -o json prints it)");
		return -EINVAL;
	}
	kind = cde_json_read_string(&r, pod, "kind");
	if (kind && strcmp(kind, "Pod") != 0)
		cde_json_reader_fail(&r, "kind", "must be Pod, not %.60s", kind);
	metadata = cde_json_read_required(&r, pod, "metadata", cJSON_Object, "with the pod's name");
	spec = cde_json_read_member(&r, pod, "spec", cJSON_Object);
	status = cde_json_read_required(&r, pod, "status", cJSON_Object,
				  "the pod's status, as kubectl get pod -o json prints it");
	read_metadata(&r, metadata, &o);
	if (status)
		read_status(&r, status, &o, &sched, &best, &first);
	if (spec)
		read_pod_spec(&r, spec, &o);
	if (cde_json_reader_failed(&r))
		return -EINVAL;

	choose_reason(&o, status, sched, &best, &first, &chosen);
	o.verdict = verdict_of(o.reason);
	if (o.reason == CDE_POD_FAILED && !chosen.status)
		o.verdict = CDE_POD_ERROR_OUTCOME;
	/* A succeeded pod's message is not news; keep the container's own. */
	if (o.reason == CDE_POD_SUCCEEDED || o.reason == CDE_POD_RUNNING)
		o.message = NULL;
	take_candidate(&chosen, &o);
	if (o.reason == CDE_POD_CREATE_CONTAINER_CONFIG_ERROR)
		cde_pod_parse_config_error(o.message, &o);

	/* The spec last: which container's resources matter depends on the
	 * classification. */
	cde_pod_read_spec(&r, spec, o.container, &spec_facts);
	if (cde_json_reader_failed(&r))
		return -EINVAL;
	take_spec(&spec_facts, &o);
	*ret = o;
	return 0;
}
