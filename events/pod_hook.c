/* The pod hook: a Pod (or a List of them) as `kubectl get pod -o json`
 * prints it, optionally wrapped with the facts a Pod does not carry (the
 * environment, the pipeline run, the Spark conf), becomes a
 * taskrun.finished event per pod and, for each pod that failed, an
 * incident.detected event whose customData says what happened and what
 * to change.
 *
 * Invariants: the whole request is checked before anything is returned,
 * so a List with one bad pod is refused as a whole with every error
 * listed; event ids derive from the pod's uid and reason, so a step that
 * posts the same pod twice (a retry) gets 200 duplicate, not a second
 * incident; every event is validated against the catalog before it
 * leaves. */

#include "events/pod_hook.h"
#include "schemas/base/json_strict.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/limits.h"
#include "schemas/base/json_read.h"
#include "sizing/pod_outcome.h"
#include "schemas/formats.h"
#include "schemas/validate.h"
#include "sizing/sizing.h"

#define TEXT_MAX 2048

static const char *const wrapper_fields[] = {
	"pod", "environment", "pipelineRun", "taskName", "chainId", "source", "artifactId",
	"spark", "cluster", NULL,
};

/* What the wrapper says, for every pod of the request. */
struct pod_hook {
	const struct cde_catalog *cat;
	const struct cde_spec *spec;
	const char *source;
	const cJSON *environment, *pipeline_run, *task_name, *chain_id, *artifact_id;
	bool has_spark;
	struct cde_sizing_input spark;
	bool has_cluster;
	struct cde_sizing_cluster cluster;
	struct cde_event **events;
	size_t n;
};

void cde_pod_hook_events_free(struct cde_event **events, size_t n)
{
	for (size_t i = 0; events && i < n; i++)
		cde_event_unref(events[i]);
	free(events);
}

static bool is_wrapper_field(const char *name)
{
	for (size_t i = 0; wrapper_fields[i]; i++)
		if (strcmp(wrapper_fields[i], name) == 0)
			return true;
	return false;
}

/* Starts a walk at @at of what a pod hook's sender wrote: a null there
 * is a wrong value, not an absent member (unlike in the pod itself, which
 * sizing/ reads as kubectl prints it). */
static void hook_reader(struct cde_json_reader *r, const char *at, struct cde_errors *errs)
{
	cde_json_reader_init(r, at, errs);
	r->null_is_a_value = true;
}

/* The string @key of the wrapper, non-empty when given. */
static const cJSON *read_text(struct cde_json_reader *r, const cJSON *payload, const char *key)
{
	return cde_json_read_as(r, payload, key, cJSON_String, CDE_JSON_NON_EMPTY, NULL);
}

/* Not the reader's: a reference is one of two types and its reason names
 * what each stands for in the middle, where the reader puts one type and
 * a hint after it (hooks.c reads references the same way). */
static void check_reference(const cJSON *v, const char *ptr, struct cde_errors *errs)
{
	if (v && !(cJSON_IsString(v) && v->valuestring[0]) && !cJSON_IsObject(v))
		cde_errors_add(errs, ptr, "must be a string (the id) or an object with an id");
}

/* Reads the wrapper's own fields into @h. Returns 0 (errors, if any, in
 * @errs) or -ENOMEM. */
static int read_wrapper(const cJSON *payload, const struct cde_hook_defaults *defaults,
			struct pod_hook *h, struct cde_errors *errs)
{
	const cJSON *c, *spark, *cluster;
	struct cde_json_reader rd;
	int r = 0;

	cJSON_ArrayForEach(c, payload) {
		if (!is_wrapper_field(c->string)) {
			char ptr[CDE_ERROR_POINTER_MAX];

			snprintf(ptr, sizeof(ptr), "/%s", c->string);
			cde_errors_add(errs, ptr, "unknown field for a pod hook (known: pod, environment, "
				       "pipelineRun, taskName, chainId, source, artifactId, spark, cluster)");
		}
	}
	h->environment = cJSON_GetObjectItemCaseSensitive(payload, "environment");
	h->pipeline_run = cJSON_GetObjectItemCaseSensitive(payload, "pipelineRun");
	check_reference(h->environment, "/environment", errs);
	check_reference(h->pipeline_run, "/pipelineRun", errs);
	hook_reader(&rd, "", errs);
	h->task_name = read_text(&rd, payload, "taskName");
	h->chain_id = read_text(&rd, payload, "chainId");
	h->artifact_id = read_text(&rd, payload, "artifactId");
	c = read_text(&rd, payload, "source");
	if (c)
		h->source = c->valuestring;

	spark = cJSON_GetObjectItemCaseSensitive(payload, "spark");
	cluster = cJSON_GetObjectItemCaseSensitive(payload, "cluster");
	if (spark && (r = cde_hook_read_spark(spark, &h->spark, errs)) == 0)
		h->has_spark = true;
	if (r == -ENOMEM)
		return r;
	/* An object, or the name of a cluster of the configuration: the
	 * same "cluster" the deploy hook takes. */
	if (cluster && cde_sizing_cluster_resolve(cluster, "/cluster", defaults->clusters,
						  defaults->n_clusters, &h->cluster, errs) == 0)
		h->has_cluster = true;
	/* One description of the nodes serves the Spark pods (through the
	 * sizing request) and the others alike. */
	if (h->has_spark && h->has_cluster) {
		h->spark.has_cluster = true;
		h->spark.cluster = h->cluster;
	}
	return 0;
}

/* A reference field of a content: a string stands for {"id": string}. */
static int put_reference(cJSON *content, const char *key, const cJSON *v, const char *id)
{
	cJSON *ref = v && cJSON_IsObject(v) ? cJSON_Duplicate(v, true) : cJSON_CreateObject();

	if (!ref)
		return -ENOMEM;
	if (!cJSON_IsObject(v) &&
	    !cJSON_AddStringToObject(ref, "id", cJSON_IsString(v) ? v->valuestring : id)) {
		cJSON_Delete(ref);
		return -ENOMEM;
	}
	if (!cJSON_AddItemToObject(content, key, ref)) {
		cJSON_Delete(ref);
		return -ENOMEM;
	}
	return 0;
}

/* The artifact a container ran, as the package URL the other hooks use
 * ("pkg:oci/etl@sha256%3A..."), from its imageID
 * ("docker-pullable://registry/team/etl@sha256:<64 hex>"). Only a digest
 * identifies an artifact: a tag can move. Returns false when there is
 * none. */
static bool artifact_of_image(const char *image_id, char *buf, size_t size)
{
	const char *at, *name;
	size_t len;

	if (!image_id)
		return false;
	at = strstr(image_id, "@sha256:");
	if (!at || strlen(at + 8) != 64 || strspn(at + 8, "0123456789abcdef") != 64)
		return false;
	name = at;
	while (name > image_id && name[-1] != '/')
		name--;
	len = (size_t)(at - name);
	if (len == 0 || len > 128 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") < len)
		return false;
	return snprintf(buf, size, "pkg:oci/%.*s@sha256%%3A%s", (int)len, name, at + 8) < (int)size;
}

/* Rewrites event pointers to the hook fields they came from, so the
 * sender is told what to fix in what it sent. */
static void map_pointers(struct cde_errors *errs, size_t from)
{
	static const struct {
		const char *event, *hook;
	} map[] = {
		{ "/context/source", "/source" },
		{ "/context/chainId", "/chainId" },
		{ "/subject/content/environment", "/environment" },
		{ "/subject/content/pipelineRun", "/pipelineRun" },
		{ "/subject/content/artifactId", "/artifactId" },
		{ "/subject/content/taskName", "/taskName" },
	};

	for (size_t i = from; i < errs->count; i++) {
		char *p = errs->items[i].pointer;

		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
			size_t n = strlen(map[k].event);
			char tmp[CDE_ERROR_POINTER_MAX];

			if (strncmp(p, map[k].event, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
				snprintf(tmp, sizeof(tmp), "%s%s", map[k].hook, p + n);
				memcpy(p, tmp, sizeof(tmp));
				break;
			}
		}
	}
}

/* Sets the context string @key of @ev in place; the document is the
 * event's only state (events/event.c), so editing it is editing the event. */
static int set_context_string(struct cde_event *ev, const char *key, const char *value)
{
	cJSON *context = cJSON_GetObjectItemCaseSensitive(cde_event_json_mut(ev), "context");
	cJSON *item = cJSON_CreateString(value);

	if (!item || cde_json_put(context, key, item) < 0) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

/* Creates an event of @subject.@predicate for pod @o with the context
 * fields every pod event shares. */
static int new_event(struct pod_hook *h, const struct cde_pod_outcome *o, const char *subject,
		     const char *predicate, const char *id_suffix, struct cde_event **ret)
{
	const struct cde_event_type *type = cde_spec_find_kind(h->spec, subject, predicate);
	/* One byte past the limit: a value cut here is still too long, and
	 * refused whole by cde_event_check_lengths, never stored cut. */
	char subject_id[CDE_EVENT_ID_MAX + 2], id[CDE_EVENT_ID_MAX + 2];
	struct cde_event *ev = NULL;
	int r;

	if (!type)
		return -ENOENT;
	snprintf(subject_id, sizeof(subject_id), "%s/%s", o->ns, o->name);
	r = cde_event_new(h->spec, type->name, h->source, subject_id, &ev);
	if (r < 0)
		return r;
	if (o->uid) {
		snprintf(id, sizeof(id), "%s.%s", o->uid, id_suffix);
		if ((r = set_context_string(ev, "id", id)) < 0)
			goto err_unref;
	}
	/* When it happened, not when the hook was posted, if Kubernetes
	 * recorded it. */
	if (o->verdict != CDE_POD_NOT_FINISHED && o->finished_at &&
	    cde_format_is_date_time(o->finished_at) &&
	    (r = set_context_string(ev, "timestamp", o->finished_at)) < 0)
		goto err_unref;
	if (h->chain_id && (r = cde_event_set_chain_id(ev, h->chain_id->valuestring)) < 0)
		goto err_unref;
	*ret = ev;
	return 0;

err_unref:
	cde_event_unref(ev);
	return r;
}

static int set_pod_outcome(struct cde_event *ev, const struct cde_pod_outcome *o,
			   const struct cde_pod_remedy *m)
{
	cJSON *data = cJSON_CreateObject(), *po = cde_pod_outcome_to_json(o, m);

	if (!data || !po || !cJSON_AddItemToObject(data, "podOutcome", po)) {
		cJSON_Delete(po);
		cJSON_Delete(data);
		return -ENOMEM;
	}
	return cde_event_set_custom_data(ev, data, NULL);
}

/* taskrun.finished (or .started for a pod not finished). */
static int build_taskrun(struct pod_hook *h, const struct cde_pod_outcome *o,
			 struct cde_event **ret)
{
	bool finished = o->verdict != CDE_POD_NOT_FINISHED;
	const char *task = h->task_name ? h->task_name->valuestring :
			   o->spark_app_name ? o->spark_app_name :
			   o->task_name ? o->task_name : o->name;
	char suffix[64], text[TEXT_MAX];
	struct cde_event *ev = NULL;
	cJSON *content;
	int r;

	snprintf(suffix, sizeof(suffix), "%s%s", finished ? "finished." : "started",
		 finished ? cde_pod_reason_name(o->reason) : "");
	r = new_event(h, o, "taskrun", finished ? "finished" : "started", suffix, &ev);
	if (r < 0)
		return r;
	content = cde_event_content(ev);
	if (!content || !cJSON_AddStringToObject(content, "taskName", task))
		goto err_nomem;
	if ((h->pipeline_run || o->pipeline_run) &&
	    put_reference(content, "pipelineRun", h->pipeline_run, o->pipeline_run) < 0)
		goto err_nomem;
	if (finished && !cJSON_AddStringToObject(content, "outcome", cde_pod_verdict_name(o->verdict)))
		goto err_nomem;
	if (finished && o->verdict != CDE_POD_SUCCESS) {
		cde_pod_outcome_summary(o, text, sizeof(text));
		if (!cJSON_AddStringToObject(content, "errors", text))
			goto err_nomem;
	}
	if ((r = set_pod_outcome(ev, o, NULL)) < 0)
		goto err_unref;
	*ret = ev;
	return 0;

err_nomem:
	r = -ENOMEM;
err_unref:
	cde_event_unref(ev);
	return r;
}

/* incident.detected, linked to the task run it was found in. */
static int build_incident(struct pod_hook *h, const struct cde_pod_outcome *o,
			  const struct cde_pod_remedy *m, const struct cde_event *taskrun,
			  struct cde_event **ret)
{
	char suffix[64], text[TEXT_MAX], artifact[256];
	struct cde_event *ev = NULL;
	cJSON *content;
	size_t len;
	int r;

	snprintf(suffix, sizeof(suffix), "incident.%s", cde_pod_reason_name(o->reason));
	r = new_event(h, o, "incident", "detected", suffix, &ev);
	if (r < 0)
		return r;
	content = cde_event_content(ev);
	cde_pod_outcome_summary(o, text, sizeof(text));
	len = strlen(text);
	if (m->text[0] && len + 2 < sizeof(text))
		snprintf(text + len, sizeof(text) - len, ". %s", m->text);
	else if (len + 1 < sizeof(text))
		snprintf(text + len, sizeof(text) - len, ".");
	if (!content || !cJSON_AddStringToObject(content, "description", text) ||
	    put_reference(content, "environment", h->environment, o->ns) < 0)
		goto err_nomem;
	if (h->artifact_id) {
		if (!cJSON_AddStringToObject(content, "artifactId", h->artifact_id->valuestring))
			goto err_nomem;
	} else if (artifact_of_image(o->image_id, artifact, sizeof(artifact)) &&
		   !cJSON_AddStringToObject(content, "artifactId", artifact)) {
		goto err_nomem;
	}
	if ((r = set_pod_outcome(ev, o, m)) < 0 ||
	    (r = cde_event_add_link(ev, CDE_LINK_RELATION, cde_event_id(taskrun), "TRIGGER",
				    NULL)) < 0)
		goto err_unref;
	*ret = ev;
	return 0;

err_nomem:
	r = -ENOMEM;
err_unref:
	cde_event_unref(ev);
	return r;
}

/* Validates @ev and appends it to @h's events, taking the reference. */
static int keep(struct pod_hook *h, struct cde_event *ev, struct cde_errors *errs)
{
	size_t before = errs->count;
	int r = cde_validate(h->cat, cde_event_json(ev), NULL, errs);

	if (r == 0)
		r = cde_event_check_lengths(cde_event_json(ev), errs);
	if (r < 0) {
		map_pointers(errs, before);
		cde_event_unref(ev);
		return r;
	}
	h->events[h->n++] = ev;
	return 0;
}

/* Classifies the pod at @at and builds its events. */
static int one_pod(struct pod_hook *h, const cJSON *pod, const char *at, struct cde_errors *errs)
{
	struct cde_pod_outcome o;
	struct cde_pod_remedy m;
	struct cde_event *taskrun = NULL, *incident = NULL;
	int r;

	r = cde_pod_classify(pod, at, &o, errs);
	if (r < 0 || !cde_errors_empty(errs))
		return r < 0 ? r : 0;	/* keep checking the other pods */
	cde_pod_remedy(&o, h->has_spark ? &h->spark : NULL, h->has_cluster ? &h->cluster : NULL,
		       &m);
	r = build_taskrun(h, &o, &taskrun);
	if (r < 0)
		return r;
	if (o.verdict == CDE_POD_FAILURE || o.verdict == CDE_POD_ERROR_OUTCOME) {
		r = build_incident(h, &o, &m, taskrun, &incident);
		if (r < 0) {
			cde_event_unref(taskrun);
			return r;
		}
	}
	r = keep(h, taskrun, errs);
	if (incident && r == 0)
		r = keep(h, incident, errs);
	else
		cde_event_unref(incident);
	return r;
}

/* The pods of @doc (a Pod or a List) at @at; @kind_required is false
 * inside a wrapper, where "pod" already says what it is. */
static int each_pod(struct pod_hook *h, const cJSON *doc, const char *at, bool kind_required,
		    struct cde_errors *errs)
{
	const cJSON *kind, *items, *item;
	char ptr[CDE_ERROR_POINTER_MAX];
	struct cde_json_reader rd;
	size_t i = 0, count;
	bool invalid = false;
	int r = 0;

	hook_reader(&rd, at, errs);
	/* The reason names what the object stands for, not its JSON type. */
	if (!cJSON_IsObject(doc))
		return cde_json_reader_fail(&rd, NULL, "must be a Pod or a List of Pods, as kubectl "
					    "get pod -o json prints them");
	kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	if (!kind && kind_required)
		return cde_json_reader_fail(&rd, "kind", "required: Pod, PodList or List (the output "
					    "of kubectl get pod -o json), or wrap the pod as "
					    "{\"pod\": ...}");
	/* Not a typed read: the reason quotes the value. */
	if (kind && (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "Pod") != 0 &&
					       strcmp(kind->valuestring, "PodList") != 0 &&
					       strcmp(kind->valuestring, "List") != 0)))
		return cde_json_reader_fail(&rd, "kind", "must be Pod, PodList or List, not %.60s",
					    cJSON_IsString(kind) ? kind->valuestring : "a non-string");
	if (!kind || strcmp(kind->valuestring, "Pod") == 0)
		return one_pod(h, doc, at, errs);

	items = cde_json_read_as(&rd, doc, "items", cJSON_Array, 0, " of Pods");
	if (!cJSON_GetObjectItemCaseSensitive(doc, "items"))
		return cde_json_reader_fail(&rd, "items", "required (the pods)");
	if (!items)
		return -EINVAL;
	count = (size_t)cJSON_GetArraySize(items);
	if (count == 0 || count > CDE_POD_HOOK_PODS_MAX)
		return cde_json_reader_fail(&rd, "items", count ? "at most %d pods in one request" :
					    "no pods: nothing to report (kubectl found none?)",
					    CDE_POD_HOOK_PODS_MAX);
	cJSON_ArrayForEach(item, items) {
		snprintf(ptr, sizeof(ptr), "%s/items/%zu", at, i++);
		r = one_pod(h, item, ptr, errs);
		/* A bad pod does not stop the others from being checked. */
		if (r < 0 && r != -EINVAL)
			return r;
		invalid = invalid || r == -EINVAL;
	}
	return invalid || !cde_errors_empty(errs) ? -EINVAL : 0;
}

/* How many pods @doc holds, to size the events array (bounded: a list
 * over the cap is refused before anything is built). */
static size_t pod_count(const cJSON *doc)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 1;

	return n > 0 && n <= CDE_POD_HOOK_PODS_MAX ? (size_t)n : 1;
}

int cde_pod_hook_translate(const struct cde_catalog *cat, const cJSON *payload,
			   const struct cde_hook_defaults *defaults, struct cde_event ***ret_events,
			   size_t *ret_n, struct cde_errors *errs)
{
	struct pod_hook h;
	const cJSON *doc = payload;
	const char *at = "";
	bool wrapped;
	int r;

	memset(&h, 0, sizeof(h));
	h.cat = cat;
	h.spec = cde_catalog_newest(cat);
	h.source = defaults->source;
	if (!cJSON_IsObject(payload)) {
		cde_errors_add(errs, "", "a pod hook is a Pod or a List of Pods as kubectl get pod "
			       "-o json prints them, or {\"pod\": ...}");
		return -EINVAL;
	}
	/* A Kubernetes object has "kind"; a wrapper has "pod" instead. */
	wrapped = cJSON_GetObjectItemCaseSensitive(payload, "pod") &&
		  !cJSON_GetObjectItemCaseSensitive(payload, "kind");
	if (wrapped) {
		r = read_wrapper(payload, defaults, &h, errs);
		doc = cJSON_GetObjectItemCaseSensitive(payload, "pod");
		at = "/pod";
		if (r < 0)
			return r;
		if (!cde_errors_empty(errs))
			return -EINVAL;
	}
	h.events = calloc(2 * pod_count(doc), sizeof(h.events[0]));
	if (!h.events)
		return -ENOMEM;
	r = each_pod(&h, doc, at, !wrapped, errs);
	if (r == 0 && !cde_errors_empty(errs))
		r = -EINVAL;
	if (r < 0) {
		cde_pod_hook_events_free(h.events, h.n);
		return r;
	}
	*ret_events = h.events;
	*ret_n = h.n;
	return 0;
}
