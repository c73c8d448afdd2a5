/* Catalog loading, the file: reads one catalog data file (a spec version:
 * its envelope, definitions, custom event shapes and event types) and
 * checks its top level as strictly as catalog_load.c checks its nodes. */

#include "schemas/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"

#define CATALOG_FILE_MAX (8u << 20)

static int cmp_types(const void *a, const void *b)
{
	return strcmp(((const struct cde_event_type *)a)->name,
		      ((const struct cde_event_type *)b)->name);
}

static const cJSON *member(struct cde_loader *l, const cJSON *obj, const char *key, bool required,
			   bool (*is)(const cJSON *const), const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t m = cde_ptr_push(&l->ptr, key);

	if (!c && required)
		cde_loader_fail(l, -EINVAL, "required key missing");
	else if (c && is && !is(c))
		cde_loader_fail(l, -EINVAL, "must be %s", what);
	cde_ptr_pop(&l->ptr, m);
	return c && (!is || is(c)) ? c : NULL;
}

static bool parse_events(struct cde_loader *l, struct cde_spec *spec, const cJSON *events)
{
	size_t count = (size_t)cJSON_GetArraySize(events), i = 0;
	struct cde_event_type *types = cde_arena_alloc(l->arena, (count ? count : 1) * sizeof(*types));
	const cJSON *e;
	size_t m = cde_ptr_push(&l->ptr, "events");

	if (!types) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	cJSON_ArrayForEach(e, events) {
		size_t m2 = cde_ptr_push(&l->ptr, e->string);
		const cJSON *ctx = member(l, e, "context", true, NULL, NULL);
		const cJSON *subj = member(l, e, "subject", true, NULL, NULL);

		if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !ctx || !subj) {
			if (!l->error)
				cde_loader_fail(l, -EINVAL, "an event entry has exactly \"context\" and \"subject\"");
			cde_ptr_pop(&l->ptr, m2);
			break;
		}
		types[i].name = cde_arena_strdup(l->arena, e->string);
		types[i].context = cde_loader_parse_member(l, "context", ctx);
		types[i].subject = types[i].context ? cde_loader_parse_member(l, "subject", subj) : NULL;
		cde_ptr_pop(&l->ptr, m2);
		if (!types[i].name || !types[i].context || !types[i].subject) {
			if (!l->error)
				cde_loader_fail(l, -ENOMEM, "out of memory");
			break;
		}
		i++;
	}
	cde_ptr_pop(&l->ptr, m);
	if (l->error)
		return false;
	qsort(types, count, sizeof(*types), cmp_types);
	spec->types = types;
	spec->n_types = count;
	return true;
}

static bool is_object(const cJSON *const c)
{
	return cJSON_IsObject(c);
}

static bool is_string(const cJSON *const c)
{
	return cJSON_IsString(c);
}

/* The catalog's top-level members, checked for type. */
struct top {
	const cJSON *version, *vfield, *defs, *envelope, *custom_context, *custom_subject, *events;
};

/* Reads and parses @path; a parse error gets the file name in front. */
static int read_doc(struct cde_loader *l, const char *path, cJSON **ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r = cde_read_file(path, CATALOG_FILE_MAX, &buf, &len);

	if (r < 0) {
		cde_errors_add(l->errs, "", "%s: %s", path, strerror(-r));
		return r;
	}
	r = cde_json_parse(buf, len, ret, l->errs);
	free(buf);
	if (r < 0 && l->errs->count) {
		char reason[CDE_ERROR_REASON_MAX];

		memcpy(reason, l->errs->items[--l->errs->count].reason, sizeof(reason));
		cde_loader_fail(l, r, "%s", reason);
	}
	return r;
}

static bool read_top(struct cde_loader *l, const cJSON *doc, struct top *t)
{
	static const char *const top_keys[] = { "specVersion", "versionField", "defs", "envelope",
						"customContext", "customSubject", "events", "$comment" };
	const cJSON *c;

	if (!cJSON_IsObject(doc)) {
		cde_loader_fail(l, -EINVAL, "a catalog is a JSON object");
		return false;
	}
	c = cde_loader_unknown_key(doc, top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, c->string);

		cde_loader_fail(l, -EINVAL, "unknown key");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	t->version = member(l, doc, "specVersion", true, is_string, "a string");
	t->vfield = member(l, doc, "versionField", true, is_string, "a string");
	t->defs = member(l, doc, "defs", false, is_object, "an object");
	t->envelope = member(l, doc, "envelope", true, NULL, NULL);
	/* Both custom shapes or neither. */
	t->custom_context = member(l, doc, "customContext",
				   cJSON_GetObjectItemCaseSensitive(doc, "customSubject") != NULL, NULL, NULL);
	t->custom_subject = member(l, doc, "customSubject", !!t->custom_context, NULL, NULL);
	t->events = member(l, doc, "events", true, is_object, "an object");
	return !l->error;
}

/* The definitions, built on first use (resolve_def). */
static bool index_defs(struct cde_loader *l, const cJSON *defs)
{
	const cJSON *c;
	size_t i = 0;

	l->defs_json = defs;
	l->n_defs = (size_t)cJSON_GetArraySize(defs);
	l->defs = l->n_defs ? calloc(l->n_defs, sizeof(*l->defs)) : NULL;
	if (l->n_defs && !l->defs) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(c, defs)
		l->defs[i++].json = c;
	return true;
}

static void parse_spec(struct cde_loader *l, const struct top *t, struct cde_spec *spec)
{
	spec->version = cde_arena_strdup(l->arena, t->version->valuestring);
	spec->version_field = cde_arena_strdup(l->arena, t->vfield->valuestring);
	if (!spec->version || !spec->version_field) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return;
	}
	spec->envelope = cde_loader_parse_member(l, "envelope", t->envelope);
	if (!spec->envelope)
		return;
	/* Unknown types are checked against the context their release's
	 * types share, when the catalog names one. */
	if (cJSON_GetObjectItemCaseSensitive(t->defs, "context") &&
	    !(spec->context = cde_loader_resolve_def(l, "context")))
		return;
	if (t->custom_subject) {
		spec->custom_context = cde_loader_parse_member(l, "customContext", t->custom_context);
		spec->custom_subject = spec->custom_context
			? cde_loader_parse_member(l, "customSubject", t->custom_subject) : NULL;
		if (!spec->custom_subject)
			return;
	}
	if (!parse_events(l, spec, t->events))
		return;
	/* Every definition must at least be well formed, used or not. */
	for (size_t i = 0; i < l->n_defs && !l->error; i++)
		cde_loader_resolve_def(l, l->defs[i].json->string);
}

int cde_catalog_parse_file(struct cde_arena *arena, const char *path, struct cde_spec *spec,
			   struct cde_errors *errs)
{
	struct cde_loader l = { .arena = arena, .file = path, .errs = errs };
	struct top t;
	cJSON *doc = NULL;
	int r;

	cde_ptr_init(&l.ptr);
	r = read_doc(&l, path, &doc);
	if (r < 0)
		return r;
	if (read_top(&l, doc, &t) && index_defs(&l, t.defs))
		parse_spec(&l, &t, spec);
	free(l.defs);
	cJSON_Delete(doc);
	return l.error;
}
