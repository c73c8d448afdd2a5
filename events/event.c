/* The CDEvent model. The document is the single source of truth: accessors
 * read it and setters write it, so what is validated, stored and sent can
 * never drift from a parallel struct. */

#include "events/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "schemas/base/json_strict.h"

struct cde_event {
	unsigned refs;
	cJSON *doc;
	char upgraded_from[16];	/* delivery metadata, never in the document */
};

static const char *str_at(const cJSON *doc, const char *obj, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, obj);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replaces (or with NULL removes) the string @key of the object @obj,
 * creating @obj when needed. */
static int set_str_at(cJSON *doc, const char *obj, const char *key, const char *value)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, obj);
	cJSON *v;

	if (!o) {
		if (!value)
			return 0;
		o = cJSON_AddObjectToObject(doc, obj);
		if (!o)
			return -ENOMEM;
	} else if (!cJSON_IsObject(o)) {
		return -EINVAL;
	}
	if (!value) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
		return 0;
	}
	v = cJSON_CreateString(value);
	if (!v)
		return -ENOMEM;
	if (cde_json_put(o, key, v) < 0) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

int cde_event_from_json(cJSON *doc, struct cde_event **ret)
{
	struct cde_event *ev;

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return -EINVAL;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		cJSON_Delete(doc);
		return -ENOMEM;
	}
	ev->refs = 1;
	ev->doc = doc;
	*ret = ev;
	return 0;
}

int cde_event_parse(const char *buf, size_t len, struct cde_event **ret, struct cde_errors *errs)
{
	cJSON *doc;
	int r = cde_json_parse(buf, len, &doc, errs);

	if (r < 0)
		return r;
	if (!cJSON_IsObject(doc)) {
		cde_errors_add(errs, "", "a CDEvent must be a JSON object");
		cJSON_Delete(doc);
		return -EINVAL;
	}
	return cde_event_from_json(doc, ret);
}

/* Adds @item under @key, a string literal: the name is not copied (an
 * event is built per hook; cJSON would allocate each name). Returns
 * @item, or NULL (@item freed) when it cannot. */
static cJSON *add_const(cJSON *obj, const char *key, cJSON *item)
{
	if (item && cJSON_AddItemToObjectCS(obj, key, item))
		return item;
	cJSON_Delete(item);
	return NULL;
}

int cde_event_new(const struct cde_spec *spec, const char *type, const char *source,
		  const char *subject_id, struct cde_event **ret)
{
	char id[CDE_UUID_STR_LEN], ts[CDE_TIMESTAMP_STR_LEN];
	cJSON *doc, *ctx, *subj;
	int r;

	if (!type || !*type || !source || !*source || !subject_id || !*subject_id)
		return -EINVAL;
	r = cde_timestamp_now(ts);
	if (r < 0)
		return r;
	cde_uuid_v7(id);

	doc = cJSON_CreateObject();
	if (!doc)
		return -ENOMEM;
	/* Key order follows the specification's examples; consumers do not
	 * depend on it, people reading the audit log do. */
	if (!(ctx = add_const(doc, "context", cJSON_CreateObject())) ||
	    !cJSON_AddStringToObject(ctx, spec->version_field, spec->version) ||
	    !add_const(ctx, "id", cJSON_CreateString(id)) ||
	    !add_const(ctx, "source", cJSON_CreateString(source)) ||
	    !add_const(ctx, "type", cJSON_CreateString(type)) ||
	    !add_const(ctx, "timestamp", cJSON_CreateString(ts)) ||
	    !(subj = add_const(doc, "subject", cJSON_CreateObject())) ||
	    !add_const(subj, "id", cJSON_CreateString(subject_id)) ||
	    !add_const(subj, "content", cJSON_CreateObject())) {
		cJSON_Delete(doc);
		return -ENOMEM;
	}
	return cde_event_from_json(doc, ret);
}

struct cde_event *cde_event_ref(struct cde_event *ev)
{
	ev->refs++;
	return ev;
}

struct cde_event *cde_event_unref(struct cde_event *ev)
{
	if (ev && --ev->refs == 0) {
		cJSON_Delete(ev->doc);
		free(ev);
	}
	return NULL;
}

const char *cde_event_spec_version(const struct cde_event *ev)
{
	const char *v = str_at(ev->doc, "context", "specversion");

	return v ? v : str_at(ev->doc, "context", "version");
}

const char *cde_event_id(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "id");
}

const char *cde_event_source(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "source");
}

const char *cde_event_type(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "type");
}

const char *cde_event_timestamp(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "timestamp");
}

const char *cde_event_chain_id(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "chainId");
}

int cde_event_set_upgraded_from(struct cde_event *ev, const char *release)
{
	if (!release || strlen(release) >= sizeof(ev->upgraded_from))
		return -EINVAL;
	memcpy(ev->upgraded_from, release, strlen(release) + 1);
	return 0;
}

const char *cde_event_upgraded_from(const struct cde_event *ev)
{
	return ev->upgraded_from[0] ? ev->upgraded_from : NULL;
}

const char *cde_event_schema_uri(const struct cde_event *ev)
{
	return str_at(ev->doc, "context", "schemaUri");
}

const char *cde_event_subject_id(const struct cde_event *ev)
{
	return str_at(ev->doc, "subject", "id");
}

const char *cde_event_subject_source(const struct cde_event *ev)
{
	return str_at(ev->doc, "subject", "source");
}

const cJSON *cde_event_json(const struct cde_event *ev)
{
	return ev->doc;
}

cJSON *cde_event_json_mut(struct cde_event *ev)
{
	return ev->doc;
}

cJSON *cde_event_content(struct cde_event *ev)
{
	cJSON *subj = cJSON_GetObjectItemCaseSensitive(ev->doc, "subject");
	cJSON *content;

	if (!cJSON_IsObject(subj))
		return NULL;
	content = cJSON_GetObjectItemCaseSensitive(subj, "content");
	if (!content)
		content = cJSON_AddObjectToObject(subj, "content");
	return content;
}

static int set_required(struct cde_event *ev, const char *obj, const char *key, const char *value)
{
	if (!value || !*value)
		return -EINVAL;
	return set_str_at(ev->doc, obj, key, value);
}

int cde_event_set_id(struct cde_event *ev, const char *value)
{
	return set_required(ev, "context", "id", value);
}

int cde_event_set_source(struct cde_event *ev, const char *value)
{
	return set_required(ev, "context", "source", value);
}

int cde_event_set_timestamp(struct cde_event *ev, const char *value)
{
	return set_required(ev, "context", "timestamp", value);
}

int cde_event_set_chain_id(struct cde_event *ev, const char *value)
{
	return set_str_at(ev->doc, "context", "chainId", value);
}

int cde_event_set_schema_uri(struct cde_event *ev, const char *value)
{
	return set_str_at(ev->doc, "context", "schemaUri", value);
}

int cde_event_set_subject_source(struct cde_event *ev, const char *value)
{
	return set_str_at(ev->doc, "subject", "source", value);
}

int cde_event_add_link(struct cde_event *ev, enum cde_link_type type, const char *context_id,
		       const char *link_kind, cJSON *tags)
{
	static const char *const names[] = { "END", "PATH", "RELATION" };
	cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev->doc, "context");
	cJSON *links, *link, *end;
	int r = -ENOMEM;

	if (!cJSON_IsObject(ctx) || !context_id || !*context_id ||
	    (unsigned)type > CDE_LINK_RELATION ||
	    (type == CDE_LINK_RELATION && (!link_kind || !*link_kind)) ||
	    (tags && !cJSON_IsObject(tags))) {
		cJSON_Delete(tags);
		return -EINVAL;
	}
	links = cJSON_GetObjectItemCaseSensitive(ctx, "links");
	if (!links)
		links = cJSON_AddArrayToObject(ctx, "links");
	else if (!cJSON_IsArray(links))
		r = -EINVAL;
	link = cJSON_CreateObject();
	if (!links || !cJSON_IsArray(links) || !link) {
		cJSON_Delete(link);
		cJSON_Delete(tags);
		return r;
	}
	if (!cJSON_AddStringToObject(link, "linkType", names[type]) ||
	    (type == CDE_LINK_RELATION && !cJSON_AddStringToObject(link, "linkKind", link_kind)) ||
	    !(end = cJSON_AddObjectToObject(link, type == CDE_LINK_RELATION ? "target" : "from")) ||
	    !cJSON_AddStringToObject(end, "contextId", context_id)) {
		cJSON_Delete(link);
		cJSON_Delete(tags);
		return -ENOMEM;
	}
	if (tags && !cJSON_AddItemToObject(link, "tags", tags)) {
		cJSON_Delete(link);
		cJSON_Delete(tags);
		return -ENOMEM;
	}
	if (!cJSON_AddItemToArray(links, link)) {
		cJSON_Delete(link);
		return -ENOMEM;
	}
	return 0;
}

int cde_event_set_custom_data(struct cde_event *ev, cJSON *data, const char *content_type)
{
	if (!data || (!cJSON_IsObject(data) && !cJSON_IsString(data))) {
		cJSON_Delete(data);
		return -EINVAL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(ev->doc, "customData");
	if (!cJSON_AddItemToObject(ev->doc, "customData", data)) {
		cJSON_Delete(data);
		return -ENOMEM;
	}
	if (content_type) {
		cJSON_DeleteItemFromObjectCaseSensitive(ev->doc, "customDataContentType");
		if (!cJSON_AddStringToObject(ev->doc, "customDataContentType", content_type))
			return -ENOMEM;
	}
	return 0;
}

char *cde_event_to_json(const struct cde_event *ev)
{
	return cde_json_print(ev->doc);
}
