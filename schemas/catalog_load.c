/* Catalog loading: turns one catalog data file into immutable nodes in an
 * arena. Files are checked as strictly as the events they describe: an
 * unknown key, a wrong type or a dangling reference is an error naming the
 * file and the JSON pointer, never a silently weaker validator. */

#include "schemas/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"

#define CATALOG_FILE_MAX (8u << 20)

struct def_slot {
	const cJSON *json;
	const struct cde_node *node;
	bool building;
};

struct loader {
	struct cde_arena *arena;
	const char *file;
	struct cde_errors *errs;
	struct cde_ptr ptr;
	const cJSON *defs_json;
	struct def_slot *defs;
	size_t n_defs;
	int error;		/* first -errno seen */
};

__attribute__((format(printf, 3, 4))) static void fail(struct loader *l, int error, const char *fmt, ...)
{
	char reason[CDE_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (!l->error)
		l->error = error;
	cde_errors_add(l->errs, cde_ptr_str(&l->ptr), "%s: %s", l->file, reason);
}

static const struct cde_node *parse_node(struct loader *l, const cJSON *j);

static struct cde_node *new_node(struct loader *l, enum cde_node_kind kind)
{
	struct cde_node *n = cde_arena_alloc(l->arena, sizeof(*n));

	if (!n) {
		fail(l, -ENOMEM, "out of memory");
		return NULL;
	}
	n->kind = kind;
	return n;
}

/* The node at @key of the document, with the pointer on it. */
static const struct cde_node *parse_member(struct loader *l, const char *key, const cJSON *j)
{
	size_t m = cde_ptr_push(&l->ptr, key);
	const struct cde_node *n = parse_node(l, j);

	cde_ptr_pop(&l->ptr, m);
	return n;
}

static const struct cde_node *resolve_def(struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->n_defs; i++) {
		struct def_slot *d = &l->defs[i];

		if (strcmp(d->json->string, name) != 0)
			continue;
		if (d->node)
			return d->node;
		if (d->building) {
			fail(l, -EINVAL, "definition \"%s\" refers to itself", name);
			return NULL;
		}
		/* Errors inside a definition are reported where it is
		 * written, not where it was first used. */
		struct cde_ptr used_at = l->ptr;

		d->building = true;
		cde_ptr_init(&l->ptr);
		cde_ptr_push(&l->ptr, "defs");
		cde_ptr_push(&l->ptr, name);
		d->node = parse_node(l, d->json);
		l->ptr = used_at;
		d->building = false;
		return d->node;
	}
	fail(l, -EINVAL, "unknown definition \"@%s\"", name);
	return NULL;
}

static const struct cde_node *parse_shorthand(struct loader *l, const char *s)
{
	static const struct {
		const char *word;
		enum cde_node_kind kind;
	} words[] = {
		{ "any", CDE_NODE_ANY },	   { "string", CDE_NODE_STRING },
		{ "array", CDE_NODE_ARRAY },	   { "number", CDE_NODE_NUMBER },
		{ "integer", CDE_NODE_INTEGER },   { "boolean", CDE_NODE_BOOLEAN },
		{ "null", CDE_NODE_NULL },	   { "$context", CDE_NODE_SLOT_CONTEXT },
		{ "$subject", CDE_NODE_SLOT_SUBJECT }, { "$eventType", CDE_NODE_SLOT_TYPE },
	};

	if (s[0] == '@')
		return resolve_def(l, s + 1);
	if (strcmp(s, "object") == 0) {
		/* The shorthand is an object that may hold anything. */
		struct cde_node *n = new_node(l, CDE_NODE_OBJECT);

		if (n)
			n->open = true;
		return n;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i].word) == 0)
			return new_node(l, words[i].kind);
	fail(l, -EINVAL, "unknown node \"%s\"", s);
	return NULL;
}

static bool parse_kind(struct loader *l, const char *s, enum cde_node_kind *kind)
{
	static const char *const names[] = {
		[CDE_NODE_ANY] = "any",		[CDE_NODE_STRING] = "string",
		[CDE_NODE_OBJECT] = "object",	[CDE_NODE_ARRAY] = "array",
		[CDE_NODE_NUMBER] = "number",	[CDE_NODE_INTEGER] = "integer",
		[CDE_NODE_BOOLEAN] = "boolean", [CDE_NODE_NULL] = "null",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i] && strcmp(s, names[i]) == 0) {
			*kind = (enum cde_node_kind)i;
			return true;
		}
	}
	fail(l, -EINVAL, "unknown type \"%s\"", s);
	return false;
}

static bool parse_format(struct loader *l, const char *s, enum cde_format *fmt)
{
	if (strcmp(s, "date-time") == 0)
		*fmt = CDE_FORMAT_DATE_TIME;
	else if (strcmp(s, "uri") == 0)
		*fmt = CDE_FORMAT_URI;
	else if (strcmp(s, "uri-reference") == 0)
		*fmt = CDE_FORMAT_URI_REFERENCE;
	else {
		fail(l, -EINVAL, "unsupported format \"%s\"", s);
		return false;
	}
	return true;
}

static const char *const *parse_strings(struct loader *l, const cJSON *arr, size_t *count)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	const char **out;
	const cJSON *c;

	if (!cJSON_IsArray(arr) || n == 0) {
		fail(l, -EINVAL, "must be a non-empty array of strings");
		return NULL;
	}
	out = cde_arena_alloc(l->arena, n * sizeof(*out));
	if (!out) {
		fail(l, -ENOMEM, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c)) {
			fail(l, -EINVAL, "must be a non-empty array of strings");
			return NULL;
		}
		out[i] = cde_arena_strdup(l->arena, c->valuestring);
		if (!out[i++]) {
			fail(l, -ENOMEM, "out of memory");
			return NULL;
		}
	}
	*count = n;
	return out;
}

static bool parse_fields(struct loader *l, struct cde_node *n, const cJSON *fields,
			 const cJSON *required)
{
	size_t count = (size_t)cJSON_GetArraySize(fields), i = 0;
	struct cde_field *out;
	const cJSON *c;

	if (fields && !cJSON_IsObject(fields)) {
		fail(l, -EINVAL, "\"fields\" must be an object");
		return false;
	}
	out = count ? cde_arena_alloc(l->arena, count * sizeof(*out)) : NULL;
	if (count && !out) {
		fail(l, -ENOMEM, "out of memory");
		return false;
	}
	if (fields) {
		size_t m = cde_ptr_push(&l->ptr, "fields");

		cJSON_ArrayForEach(c, fields) {
			out[i].name = cde_arena_strdup(l->arena, c->string);
			out[i].node = parse_member(l, c->string, c);
			if (!out[i].name || !out[i].node) {
				cde_ptr_pop(&l->ptr, m);
				if (!out[i].name)
					fail(l, -ENOMEM, "out of memory");
				return false;
			}
			i++;
		}
		cde_ptr_pop(&l->ptr, m);
	}
	if (required) {
		size_t m = cde_ptr_push(&l->ptr, "required");
		bool ok = cJSON_IsArray(required);

		cJSON_ArrayForEach(c, required) {
			bool found = false;

			for (size_t k = 0; ok && cJSON_IsString(c) && k < count; k++) {
				if (strcmp(out[k].name, c->valuestring) == 0) {
					out[k].required = true;
					found = true;
				}
			}
			if (!found) {
				/* A required name with no field could only ever
				 * be satisfied by an open object: say so early. */
				fail(l, -EINVAL, "required entry is not a string naming a field");
				ok = false;
			}
		}
		cde_ptr_pop(&l->ptr, m);
		if (!ok)
			return false;
	}
	n->fields = out;
	n->n_fields = count;
	return true;
}

static bool parse_alts(struct loader *l, struct cde_node *n, const cJSON *arr, const char *key)
{
	size_t count = (size_t)cJSON_GetArraySize(arr), i = 0;
	const struct cde_node **alts;
	const cJSON *c;
	size_t m = cde_ptr_push(&l->ptr, key);

	if (!cJSON_IsArray(arr) || count == 0) {
		fail(l, -EINVAL, "must be a non-empty array of nodes");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	alts = cde_arena_alloc(l->arena, count * sizeof(*alts));
	if (!alts) {
		fail(l, -ENOMEM, "out of memory");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	cJSON_ArrayForEach(c, arr) {
		size_t m2 = cde_ptr_push_index(&l->ptr, i);

		alts[i] = parse_node(l, c);
		cde_ptr_pop(&l->ptr, m2);
		if (!alts[i++]) {
			cde_ptr_pop(&l->ptr, m);
			return false;
		}
	}
	cde_ptr_pop(&l->ptr, m);
	n->alts = alts;
	n->n_alts = count;
	return true;
}

/* The first member of @obj whose key is not in @keys, or NULL. */
static const cJSON *unknown_key(const cJSON *obj, const char *const *keys, size_t n_keys)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, obj) {
		bool known = false;

		for (size_t i = 0; i < n_keys; i++)
			known = known || strcmp(c->string, keys[i]) == 0;
		if (!known)
			return c;
	}
	return NULL;
}

/* "minLength", "format" and "enum": only on a string. */
static bool parse_string_keys(struct loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "minLength");

	if (c) {
		if (n->kind != CDE_NODE_STRING || !cJSON_IsNumber(c) || c->valuedouble < 0 ||
		    c->valuedouble != (double)(size_t)c->valuedouble) {
			fail(l, -EINVAL, "\"minLength\" is a whole number on a string");
			return false;
		}
		n->min_length = (size_t)c->valuedouble;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "format");
	if (c && (n->kind != CDE_NODE_STRING || !cJSON_IsString(c) ||
		  !parse_format(l, c->valuestring, &n->format))) {
		if (!l->error)
			fail(l, -EINVAL, "\"format\" is a string on a string");
		return false;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "enum");
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, "enum");

		n->enum_values = n->kind == CDE_NODE_STRING ? parse_strings(l, c, &n->n_enum) : NULL;
		if (n->kind != CDE_NODE_STRING)
			fail(l, -EINVAL, "\"enum\" is only for strings");
		cde_ptr_pop(&l->ptr, m);
		if (!n->enum_values)
			return false;
	}
	return true;
}

/* "items": only on an array. */
static bool parse_items(struct loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "items");
	size_t m;

	if (!c)
		return true;
	m = cde_ptr_push(&l->ptr, "items");
	n->items = n->kind == CDE_NODE_ARRAY ? parse_node(l, c) : NULL;
	if (n->kind != CDE_NODE_ARRAY)
		fail(l, -EINVAL, "\"items\" is only for arrays");
	cde_ptr_pop(&l->ptr, m);
	return n->items != NULL;
}

/* "fields", "required" and "open": only on an object. */
static bool parse_object_keys(struct loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	const cJSON *required = cJSON_GetObjectItemCaseSensitive(j, "required");
	const cJSON *open = cJSON_GetObjectItemCaseSensitive(j, "open");

	if ((fields || required || open) && n->kind != CDE_NODE_OBJECT) {
		fail(l, -EINVAL, "\"fields\", \"required\" and \"open\" are only for objects");
		return false;
	}
	if (open && !cJSON_IsBool(open)) {
		fail(l, -EINVAL, "\"open\" is true or false");
		return false;
	}
	n->open = cJSON_IsTrue(open);
	return n->kind != CDE_NODE_OBJECT || parse_fields(l, n, fields, required);
}

static const struct cde_node *parse_node(struct loader *l, const cJSON *j)
{
	static const char *const keys[] = { "type", "fields", "required", "open", "minLength",
					     "format", "enum", "items", "anyOf", "oneOf",
					     "$comment" };
	const cJSON *type, *anyof, *oneof, *c;
	enum cde_node_kind kind;
	struct cde_node *n;

	if (cJSON_IsString(j))
		return parse_shorthand(l, j->valuestring);
	if (!cJSON_IsObject(j)) {
		fail(l, -EINVAL, "a node is a string or an object");
		return NULL;
	}
	c = unknown_key(j, keys, sizeof(keys) / sizeof(keys[0]));
	if (c) {
		fail(l, -EINVAL, "unknown key \"%s\"", c->string);
		return NULL;
	}
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	anyof = cJSON_GetObjectItemCaseSensitive(j, "anyOf");
	oneof = cJSON_GetObjectItemCaseSensitive(j, "oneOf");
	if (!!type + !!anyof + !!oneof != 1) {
		fail(l, -EINVAL, "a node has exactly one of \"type\", \"anyOf\", \"oneOf\"");
		return NULL;
	}
	if (anyof || oneof) {
		n = new_node(l, anyof ? CDE_NODE_ANY_OF : CDE_NODE_ONE_OF);
		return n && parse_alts(l, n, anyof ? anyof : oneof, anyof ? "anyOf" : "oneOf") ? n : NULL;
	}
	if (!cJSON_IsString(type) || !parse_kind(l, type->valuestring, &kind))
		return NULL;
	n = new_node(l, kind);
	return n && parse_string_keys(l, n, j) && parse_items(l, n, j) && parse_object_keys(l, n, j) ? n : NULL;
}

static int cmp_types(const void *a, const void *b)
{
	return strcmp(((const struct cde_event_type *)a)->name,
		      ((const struct cde_event_type *)b)->name);
}

static const cJSON *member(struct loader *l, const cJSON *obj, const char *key, bool required,
			   bool (*is)(const cJSON *const), const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t m = cde_ptr_push(&l->ptr, key);

	if (!c && required)
		fail(l, -EINVAL, "required key missing");
	else if (c && is && !is(c))
		fail(l, -EINVAL, "must be %s", what);
	cde_ptr_pop(&l->ptr, m);
	return c && (!is || is(c)) ? c : NULL;
}

static bool parse_events(struct loader *l, struct cde_spec *spec, const cJSON *events)
{
	size_t count = (size_t)cJSON_GetArraySize(events), i = 0;
	struct cde_event_type *types = cde_arena_alloc(l->arena, (count ? count : 1) * sizeof(*types));
	const cJSON *e;
	size_t m = cde_ptr_push(&l->ptr, "events");

	if (!types) {
		fail(l, -ENOMEM, "out of memory");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	cJSON_ArrayForEach(e, events) {
		size_t m2 = cde_ptr_push(&l->ptr, e->string);
		const cJSON *ctx = member(l, e, "context", true, NULL, NULL);
		const cJSON *subj = member(l, e, "subject", true, NULL, NULL);

		if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !ctx || !subj) {
			if (!l->error)
				fail(l, -EINVAL, "an event entry has exactly \"context\" and \"subject\"");
			cde_ptr_pop(&l->ptr, m2);
			break;
		}
		types[i].name = cde_arena_strdup(l->arena, e->string);
		types[i].context = parse_member(l, "context", ctx);
		types[i].subject = types[i].context ? parse_member(l, "subject", subj) : NULL;
		cde_ptr_pop(&l->ptr, m2);
		if (!types[i].name || !types[i].context || !types[i].subject) {
			if (!l->error)
				fail(l, -ENOMEM, "out of memory");
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
	const cJSON *version, *vfield, *defs, *envelope, *custom, *events;
};

/* Reads and parses @path; a parse error gets the file name in front. */
static int read_doc(struct loader *l, const char *path, cJSON **ret)
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
		fail(l, r, "%s", reason);
	}
	return r;
}

static bool read_top(struct loader *l, const cJSON *doc, struct top *t)
{
	static const char *const top_keys[] = { "specVersion", "versionField", "defs", "envelope",
						"customSubject", "events", "$comment" };
	const cJSON *c;

	if (!cJSON_IsObject(doc)) {
		fail(l, -EINVAL, "a catalog is a JSON object");
		return false;
	}
	c = unknown_key(doc, top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, c->string);

		fail(l, -EINVAL, "unknown key");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	t->version = member(l, doc, "specVersion", true, is_string, "a string");
	t->vfield = member(l, doc, "versionField", true, is_string, "a string");
	t->defs = member(l, doc, "defs", false, is_object, "an object");
	t->envelope = member(l, doc, "envelope", true, NULL, NULL);
	t->custom = member(l, doc, "customSubject", false, NULL, NULL);
	t->events = member(l, doc, "events", true, is_object, "an object");
	return !l->error;
}

/* The definitions, built on first use (resolve_def). */
static bool index_defs(struct loader *l, const cJSON *defs)
{
	const cJSON *c;
	size_t i = 0;

	l->defs_json = defs;
	l->n_defs = (size_t)cJSON_GetArraySize(defs);
	l->defs = l->n_defs ? calloc(l->n_defs, sizeof(*l->defs)) : NULL;
	if (l->n_defs && !l->defs) {
		fail(l, -ENOMEM, "out of memory");
		return false;
	}
	cJSON_ArrayForEach(c, defs)
		l->defs[i++].json = c;
	return true;
}

static void parse_spec(struct loader *l, const struct top *t, struct cde_spec *spec)
{
	spec->version = cde_arena_strdup(l->arena, t->version->valuestring);
	spec->version_field = cde_arena_strdup(l->arena, t->vfield->valuestring);
	if (!spec->version || !spec->version_field) {
		fail(l, -ENOMEM, "out of memory");
		return;
	}
	spec->envelope = parse_member(l, "envelope", t->envelope);
	if (!spec->envelope)
		return;
	if (t->custom) {
		spec->custom_subject = parse_member(l, "customSubject", t->custom);
		spec->custom_context = spec->custom_subject ? resolve_def(l, "context") : NULL;
		if (!spec->custom_context)
			return;
	}
	if (!parse_events(l, spec, t->events))
		return;
	/* Every definition must at least be well formed, used or not. */
	for (size_t i = 0; i < l->n_defs && !l->error; i++)
		resolve_def(l, l->defs[i].json->string);
}

int cde_catalog_parse_file(struct cde_arena *arena, const char *path, struct cde_spec *spec,
			   struct cde_errors *errs)
{
	struct loader l = { .arena = arena, .file = path, .errs = errs };
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
