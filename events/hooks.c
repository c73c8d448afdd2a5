/* Hook translation. Each kind names a CDEvents subject and its phases the
 * predicates; which fields a phase takes is read from the catalog (the
 * content fields of the event type), so the vocabulary lives in one
 * place and a new spec version needs no change here.
 *
 * Deploy hooks and started pipeline hooks may also carry a Spark job
 * ("spark", "cluster"): its sizing (sizing/) is computed here and added to
 * the event's customData, so that routes and consumers can act on it
 * (a filter on /customData/sizing/fits). */

#include "events/hooks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "events/hook_kinds.h"
#include "events/limits.h"
#include "schemas/base/json_read.h"
#include "schemas/validate.h"
#include "sizing/sizing.h"

/* Hook fields that are not subject content, and where they go. */
static const struct {
	const char *hook;
	const char *event;	/* pointer prefix in the event */
} common_fields[] = {
	{ "source", "/context/source" },
	{ "id", "/context/id" },
	{ "timestamp", "/context/timestamp" },
	{ "chainId", "/context/chainId" },
	{ "links", "/context/links" },
	{ "customData", "/customData" },
	{ "subject", "/subject/id" },
	{ "phase", NULL },
	{ "level", NULL },
};

static bool is_common(const char *name)
{
	for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++)
		if (strcmp(common_fields[i].hook, name) == 0)
			return true;
	return false;
}

static const struct cde_field *content_field(const struct cde_node *subject, const char *name)
{
	const struct cde_node *content = NULL;

	for (size_t i = 0; i < subject->n_fields; i++)
		if (strcmp(subject->fields[i].name, "content") == 0)
			content = subject->fields[i].node;
	for (size_t i = 0; content && i < content->n_fields; i++)
		if (strcmp(content->fields[i].name, name) == 0)
			return &content->fields[i];
	return NULL;
}

/* True when @n is a reference object: it has an "id" field. */
static bool is_reference(const struct cde_node *n)
{
	if (n->kind != CDE_NODE_OBJECT)
		return false;
	for (size_t i = 0; i < n->n_fields; i++)
		if (strcmp(n->fields[i].name, "id") == 0)
			return true;
	return false;
}

static void list_fields(const struct cde_node *subject, char *buf, size_t size)
{
	const struct cde_node *content = NULL;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < subject->n_fields; i++)
		if (strcmp(subject->fields[i].name, "content") == 0)
			content = subject->fields[i].node;
	for (size_t i = 0; content && i < content->n_fields && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", content->fields[i].name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Rewrites the pointers of @errs from the event's places to the hook's. */
static void map_pointers_to_hook(struct cde_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++) {
		char *p = errs->items[i].pointer;
		char mapped[CDE_ERROR_POINTER_MAX];
		const char *rest = NULL, *to = NULL;

		if (strncmp(p, "/subject/content", 16) == 0) {
			to = "";
			rest = p + 16;
		}
		for (size_t k = 0; !to && k < sizeof(common_fields) / sizeof(common_fields[0]); k++) {
			const char *ev = common_fields[k].event;
			size_t n = ev ? strlen(ev) : 0;

			if (ev && strncmp(p, ev, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
				to = common_fields[k].hook;
				rest = p + n;
			}
		}
		if (!to)
			continue;
		snprintf(mapped, sizeof(mapped), "%s%s%s", *to ? "/" : "", to, rest);
		memcpy(p, mapped, sizeof(mapped));
	}
}

static int set_context_string(struct cde_event *ev, const cJSON *payload, const char *name,
			      int (*set)(struct cde_event *, const char *), struct cde_errors *errs)
{
	struct cde_json_reader rd;
	const cJSON *v;
	int r;

	cde_hook_reader_init(&rd, "", errs);
	v = cde_json_read_as(&rd, payload, name, cJSON_String, CDE_JSON_NON_EMPTY, NULL);
	if (!v)
		return cde_json_reader_failed(&rd) ? -EINVAL : 0;
	r = set(ev, v->valuestring);
	return r == -ENOMEM ? r : 0;
}

/* True when a @kind hook of @phase may carry "spark" and "cluster": the
 * moments a Spark job's pods are about to be scheduled. */
static bool takes_sizing(const char *kind, const char *phase)
{
	return strcmp(kind, "deploy") == 0 ||
	       (strcmp(kind, "pipeline") == 0 && strcmp(phase, "started") == 0);
}

static bool is_sizing_field(const char *name)
{
	return strcmp(name, "spark") == 0 || strcmp(name, "cluster") == 0;
}

/* Copies the errors of @from into @errs with @prefix before each pointer. */
static void add_prefixed(struct cde_errors *errs, const struct cde_errors *from, const char *prefix)
{
	for (size_t i = 0; i < from->count; i++) {
		char ptr[CDE_ERROR_POINTER_MAX];

		snprintf(ptr, sizeof(ptr), "%s%s", prefix, from->items[i].pointer);
		cde_errors_add(errs, ptr, "%s", from->items[i].reason);
	}
	errs->dropped += from->dropped;
}

int cde_hook_read_spark(const cJSON *spark, struct cde_sizing_input *ret, struct cde_errors *errs)
{
	struct cde_errors spark_errs;
	struct cde_json_reader rd;
	cJSON *req;
	int r;

	cde_hook_reader_init(&rd, "/spark", errs);
	if (!cde_json_read_value(&rd, spark, cJSON_Object, CDE_JSON_REQUIRED,
				 ": {sparkVersion, language, conf}"))
		return -EINVAL;
	if (cJSON_GetObjectItemCaseSensitive(spark, "cluster"))
		return cde_json_reader_fail(&rd, "cluster", "unknown field: the cluster goes beside "
					    "spark, not inside it");
	/* The hook's spark is a sizing request whose language defaults to
	 * the JVM, and whose cluster sits beside it. */
	req = cJSON_Duplicate(spark, true);
	if (!req)
		return -ENOMEM;
	if (!cJSON_GetObjectItemCaseSensitive(req, "language") &&
	    !cJSON_AddStringToObject(req, "language", "jvm")) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	cde_errors_reset(&spark_errs);
	r = cde_sizing_input_parse(req, ret, &spark_errs);
	cJSON_Delete(req);
	add_prefixed(errs, &spark_errs, "/spark");
	return r;
}

/* Reads the hook's "spark" and "cluster" into *@ret, with errors at the
 * hook's own pointers (/spark/conf/spark.executor.memory,
 * /cluster/nodeMemory). Returns 0, with *@ret_wanted false when the hook
 * has no spark (and *@ret untouched), -EINVAL or -ENOMEM. */
static int read_sizing(const cJSON *payload, const struct cde_hook_defaults *defaults,
		       struct cde_sizing_input *ret, bool *ret_wanted, struct cde_errors *errs)
{
	const cJSON *spark = cJSON_GetObjectItemCaseSensitive(payload, "spark");
	const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(payload, "cluster");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(payload, "customData");
	struct cde_sizing_input in;
	struct cde_json_reader rd;
	bool parsed = false;
	int r = 0;

	cde_sizing_input_init(&in);
	if (!spark) {
		if (!cluster) {
			*ret_wanted = false;
			return 0;
		}
		cde_errors_add(errs, "/cluster", "only with spark: the job to size on this cluster");
		return -EINVAL;
	}
	r = cde_hook_read_spark(spark, &in, errs);
	if (r == -ENOMEM)
		return r;
	parsed = r == 0;
	if (cluster) {
		struct cde_sizing_cluster c;

		if (cde_sizing_cluster_resolve(cluster, "/cluster", defaults->clusters,
					       defaults->n_clusters, &c, errs) < 0) {
			r = -EINVAL;
		} else if (parsed) {
			in.cluster = c;
			in.has_cluster = true;
		}
	}
	/* The sizing joins the hook's own customData, which must leave it
	 * the place. */
	cde_hook_reader_init(&rd, "/customData", errs);
	if (data && !cde_json_read_value(&rd, data, cJSON_Object, 0, " when spark is given: "
					 "the sizing goes to customData.sizing"))
		r = -EINVAL;
	else if (cJSON_GetObjectItemCaseSensitive(data, "sizing"))
		r = cde_json_reader_fail(&rd, "sizing", "set by cdeventsd from spark and cluster: "
					 "rename this key");
	if (r == 0) {
		*ret = in;
		*ret_wanted = true;
	}
	return r;
}

/* Computes the sizing of @in and adds it to @doc's customData (created
 * when the hook gave none). Returns 0 or -ENOMEM. */
static int add_sizing(cJSON *doc, const struct cde_sizing_input *in)
{
	struct cde_sizing_result res;
	cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "customData"), *sizing;

	if (!data) {
		data = cJSON_AddObjectToObject(doc, "customData");
		if (!data)
			return -ENOMEM;
	}
	cde_sizing_compute(in, &res);
	sizing = cde_sizing_result_to_json(&res);
	if (!sizing)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(data, "sizing", sizing)) {
		cJSON_Delete(sizing);
		return -ENOMEM;
	}
	return 0;
}

/* Copies @v (a payload value) under @key of @obj, detached by copy. */
static int put_copy(cJSON *obj, const char *key, const cJSON *v)
{
	cJSON *copy = cJSON_Duplicate(v, true);

	if (!copy)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (!cJSON_AddItemToObject(obj, key, copy)) {
		cJSON_Delete(copy);
		return -ENOMEM;
	}
	return 0;
}

/* Checks that every field of a @kind @phase hook is one @type knows (or
 * a common one, or spark and cluster when @sizable) and that references
 * are an id or an object; the reasons go to @errs. */
static void check_fields(const cJSON *payload, const struct cde_event_type *type,
			 const char *kind, const char *phase, bool sizable, struct cde_errors *errs)
{
	const cJSON *c;
	char list[256] = "";
	bool listed = false;

	/* Not the reader's reads: a reference is one of two types, and its
	 * reason names what each stands for, in the middle ("a string (the
	 * id) or an object with an id"); the reader's reasons are "must be"
	 * one type and a hint after it. Pointers and the list of known
	 * fields are made for a refusal only: this runs for every hook. */
	cJSON_ArrayForEach(c, payload) {
		bool common = is_common(c->string);
		const struct cde_field *f = common ? NULL : content_field(type->subject, c->string);
		char ptr[CDE_ERROR_POINTER_MAX];

		if (sizable && is_sizing_field(c->string))
			continue;
		if (f && is_reference(f->node) && !cJSON_IsString(c) && !cJSON_IsObject(c)) {
			snprintf(ptr, sizeof(ptr), "/%s", c->string);
			cde_errors_add(errs, ptr, "must be a string (the id) or an object with an id");
		}
		if (common || f)
			continue;
		if (!listed)
			list_fields(type->subject, list, sizeof(list));
		listed = true;
		snprintf(ptr, sizeof(ptr), "/%s", c->string);
		cde_errors_add(errs, ptr, "unknown field for a %s %s hook (known: %s%s%s%s)", kind,
			       phase, list, *list ? ", " : "",
			       "source, id, timestamp, chainId, links, customData",
			       sizable ? ", spark, cluster" : "");
	}
}

/* Copies the hook's subject fields into @content: a reference given as a
 * string ("environment": "prod") stands for {"id": "prod"}. Returns 0 or
 * -ENOMEM. */
static int fill_content(cJSON *content, const cJSON *payload, const struct cde_event_type *type,
			bool sizable)
{
	const cJSON *c;
	int r;

	cJSON_ArrayForEach(c, payload) {
		const struct cde_field *f = is_common(c->string) ? NULL
					    : content_field(type->subject, c->string);

		if (!f || (sizable && is_sizing_field(c->string)))
			continue;
		if (cJSON_IsString(c) && is_reference(f->node)) {
			cJSON *ref = cJSON_CreateObject();

			if (!ref || !cJSON_AddStringToObject(ref, "id", c->valuestring) ||
			    !cJSON_AddItemToObject(content, c->string, ref)) {
				cJSON_Delete(ref);
				return -ENOMEM;
			}
		} else if ((r = put_copy(content, c->string, c)) < 0) {
			return r;
		}
	}
	return 0;
}

/* Sets the context strings the hook gives (or @defaults' id), then its
 * links, customData, the sizing when @sizing is not NULL, and the subject
 * content, on @ev, which is being built. Returns 0, -EINVAL with the
 * reason in @errs, -ENOMEM. */
static int fill_event(struct cde_event *ev, const cJSON *payload, const struct cde_event_type *type,
		      const struct cde_hook_defaults *defaults, bool sizable,
		      const struct cde_sizing_input *sizing, struct cde_errors *errs)
{
	cJSON *doc = cde_event_json_mut(ev);
	cJSON *context = cJSON_GetObjectItemCaseSensitive(doc, "context");
	cJSON *content;
	const cJSON *c;
	int r;

	if ((r = set_context_string(ev, payload, "source", cde_event_set_source, errs)) < 0 ||
	    (r = set_context_string(ev, payload, "id", cde_event_set_id, errs)) < 0 ||
	    (defaults->id && !cJSON_GetObjectItemCaseSensitive(payload, "id") &&
	     (r = cde_event_set_id(ev, defaults->id)) < 0) ||
	    (r = set_context_string(ev, payload, "timestamp", cde_event_set_timestamp, errs)) < 0 ||
	    (r = set_context_string(ev, payload, "chainId", cde_event_set_chain_id, errs)) < 0)
		return r;
	content = cde_event_content(ev);
	if (!content)
		return -ENOMEM;
	c = cJSON_GetObjectItemCaseSensitive(payload, "links");
	if (c && (r = put_copy(context, "links", c)) < 0)
		return r;
	c = cJSON_GetObjectItemCaseSensitive(payload, "customData");
	if (c && (r = put_copy(doc, "customData", c)) < 0)
		return r;
	if (sizing && (r = add_sizing(doc, sizing)) < 0)
		return r;
	return fill_content(content, payload, type, sizable);
}

int cde_hook_translate(const struct cde_catalog *cat, const char *kind, const cJSON *payload,
		       const struct cde_hook_defaults *defaults, struct cde_event **ret,
		       struct cde_errors *errs)
{
	const struct cde_hook_kind *k = cde_hook_kind_find(kind);
	const struct cde_spec *spec = cde_catalog_newest(cat);
	const cJSON *subject, *source;
	const struct cde_event_type *type = NULL;
	const char *phase = NULL;
	struct cde_event *ev = NULL;
	struct cde_sizing_input sizing;
	bool sized = false, sizable;
	int r = 0;

	if (!k)
		return -ENOENT;
	if (!cJSON_IsObject(payload)) {
		cde_errors_add(errs, "", "a hook is a JSON object");
		return -EINVAL;
	}
	r = cde_hook_kind_resolve(k, payload, spec, &type, &phase, errs);
	if (r < 0)
		return r;
	/* Every field must be known before anything is built. */
	sizable = takes_sizing(kind, phase);
	check_fields(payload, type, kind, phase, sizable, errs);
	if (sizable) {
		r = read_sizing(payload, defaults, &sizing, &sized, errs);
		if (r == -ENOMEM)
			return r;
	}
	if (!cde_errors_empty(errs))
		return -EINVAL;

	subject = cJSON_GetObjectItemCaseSensitive(payload, "subject");
	source = cJSON_GetObjectItemCaseSensitive(payload, "source");
	r = cde_event_new(spec, type->name,
			  cJSON_IsString(source) && source->valuestring[0] ? source->valuestring
									   : defaults->source,
			  subject->valuestring, &ev);
	if (r < 0)
		return r;
	r = fill_event(ev, payload, type, defaults, sizable, sized ? &sizing : NULL, errs);
	if (r < 0)
		goto err_unref;
	if (!cde_errors_empty(errs)) {
		r = -EINVAL;
		goto err_unref;
	}
	r = cde_validate(cat, cde_event_json(ev), NULL, errs);
	if (r == 0)
		r = cde_event_check_lengths(cde_event_json(ev), errs);
	if (r < 0) {
		map_pointers_to_hook(errs);
		goto err_unref;
	}
	*ret = ev;
	return 0;

err_unref:
	cde_event_unref(ev);
	return r;
}
