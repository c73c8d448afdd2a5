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

static void fail(struct loader *l, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct loader *l, int error, const char *fmt, ...)
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
			size_t m2 = cde_ptr_push(&l->ptr, c->string);

			out[i].name = cde_arena_strdup(l->arena, c->string);
			out[i].node = parse_node(l, c);
			cde_ptr_pop(&l->ptr, m2);
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

static const struct cde_node *parse_node(struct loader *l, const cJSON *j)
{
	static const char *const keys[] = { "type", "fields", "required", "open", "minLength",
					     "format", "enum", "items", "anyOf", "oneOf",
					     "$comment" };
	const cJSON *type, *anyof, *oneof, *c;
	struct cde_node *n;

	if (cJSON_IsString(j))
		return parse_shorthand(l, j->valuestring);
	if (!cJSON_IsObject(j)) {
		fail(l, -EINVAL, "a node is a string or an object");
		return NULL;
	}
	cJSON_ArrayForEach(c, j) {
		bool known = false;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			known = known || strcmp(c->string, keys[i]) == 0;
		if (!known) {
			fail(l, -EINVAL, "unknown key \"%s\"", c->string);
			return NULL;
		}
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
		if (!n || !parse_alts(l, n, anyof ? anyof : oneof, anyof ? "anyOf" : "oneOf"))
			return NULL;
		return n;
	}
	enum cde_node_kind kind;

	if (!cJSON_IsString(type) || !parse_kind(l, type->valuestring, &kind))
		return NULL;
	n = new_node(l, kind);
	if (!n)
		return NULL;

	c = cJSON_GetObjectItemCaseSensitive(j, "minLength");
	if (c) {
		if (kind != CDE_NODE_STRING || !cJSON_IsNumber(c) || c->valuedouble < 0 ||
		    c->valuedouble != (double)(size_t)c->valuedouble) {
			fail(l, -EINVAL, "\"minLength\" is a whole number on a string");
			return NULL;
		}
		n->min_length = (size_t)c->valuedouble;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "format");
	if (c && (kind != CDE_NODE_STRING || !cJSON_IsString(c) ||
		  !parse_format(l, c->valuestring, &n->format))) {
		if (!l->error)
			fail(l, -EINVAL, "\"format\" is a string on a string");
		return NULL;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "enum");
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, "enum");

		n->enum_values = kind == CDE_NODE_STRING ? parse_strings(l, c, &n->n_enum) : NULL;
		if (kind != CDE_NODE_STRING)
			fail(l, -EINVAL, "\"enum\" is only for strings");
		cde_ptr_pop(&l->ptr, m);
		if (!n->enum_values)
			return NULL;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "items");
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, "items");

		n->items = kind == CDE_NODE_ARRAY ? parse_node(l, c) : NULL;
		if (kind != CDE_NODE_ARRAY)
			fail(l, -EINVAL, "\"items\" is only for arrays");
		cde_ptr_pop(&l->ptr, m);
		if (!n->items)
			return NULL;
	}
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	const cJSON *required = cJSON_GetObjectItemCaseSensitive(j, "required");
	const cJSON *open = cJSON_GetObjectItemCaseSensitive(j, "open");

	if ((fields || required || open) && kind != CDE_NODE_OBJECT) {
		fail(l, -EINVAL, "\"fields\", \"required\" and \"open\" are only for objects");
		return NULL;
	}
	if (open && !cJSON_IsBool(open)) {
		fail(l, -EINVAL, "\"open\" is true or false");
		return NULL;
	}
	n->open = cJSON_IsTrue(open);
	if (kind == CDE_NODE_OBJECT && !parse_fields(l, n, fields, required))
		return NULL;
	return n;
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
		size_t m3 = cde_ptr_push(&l->ptr, "context");

		types[i].context = parse_node(l, ctx);
		cde_ptr_pop(&l->ptr, m3);
		m3 = cde_ptr_push(&l->ptr, "subject");
		types[i].subject = types[i].context ? parse_node(l, subj) : NULL;
		cde_ptr_pop(&l->ptr, m3);
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

int cde_catalog_parse_file(struct cde_arena *arena, const char *path, struct cde_spec *spec,
			   struct cde_errors *errs)
{
	static const char *const top_keys[] = { "specVersion", "versionField", "defs", "envelope",
						"customSubject", "events", "$comment" };
	struct loader l = { .arena = arena, .file = path, .errs = errs };
	char *buf = NULL;
	size_t len = 0;
	cJSON *doc = NULL;
	const cJSON *c, *version, *vfield, *defs, *envelope, *custom, *events;
	int r;

	cde_ptr_init(&l.ptr);
	r = cde_read_file(path, CATALOG_FILE_MAX, &buf, &len);
	if (r < 0) {
		cde_errors_add(errs, "", "%s: %s", path, strerror(-r));
		return r;
	}
	r = cde_json_parse(buf, len, &doc, errs);
	free(buf);
	if (r < 0) {
		/* Re-issue the parser's error with the file name in front. */
		if (errs->count) {
			char reason[CDE_ERROR_REASON_MAX];

			memcpy(reason, errs->items[--errs->count].reason, sizeof(reason));
			fail(&l, r, "%s", reason);
		}
		return r;
	}
	if (!cJSON_IsObject(doc)) {
		fail(&l, -EINVAL, "a catalog is a JSON object");
		goto out;
	}
	cJSON_ArrayForEach(c, doc) {
		bool known = false;

		for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
			known = known || strcmp(c->string, top_keys[i]) == 0;
		if (!known) {
			size_t m = cde_ptr_push(&l.ptr, c->string);

			fail(&l, -EINVAL, "unknown key");
			cde_ptr_pop(&l.ptr, m);
			goto out;
		}
	}
	version = member(&l, doc, "specVersion", true, is_string, "a string");
	vfield = member(&l, doc, "versionField", true, is_string, "a string");
	defs = member(&l, doc, "defs", false, is_object, "an object");
	envelope = member(&l, doc, "envelope", true, NULL, NULL);
	custom = member(&l, doc, "customSubject", false, NULL, NULL);
	events = member(&l, doc, "events", true, is_object, "an object");
	if (l.error)
		goto out;

	l.defs_json = defs;
	l.n_defs = (size_t)cJSON_GetArraySize(defs);
	l.defs = l.n_defs ? calloc(l.n_defs, sizeof(*l.defs)) : NULL;
	if (l.n_defs && !l.defs) {
		fail(&l, -ENOMEM, "out of memory");
		goto out;
	}
	size_t i = 0;

	cJSON_ArrayForEach(c, defs)
		l.defs[i++].json = c;

	spec->version = cde_arena_strdup(arena, version->valuestring);
	spec->version_field = cde_arena_strdup(arena, vfield->valuestring);
	if (!spec->version || !spec->version_field) {
		fail(&l, -ENOMEM, "out of memory");
		goto out;
	}
	size_t m = cde_ptr_push(&l.ptr, "envelope");

	spec->envelope = parse_node(&l, envelope);
	cde_ptr_pop(&l.ptr, m);
	if (!spec->envelope)
		goto out;
	if (custom) {
		m = cde_ptr_push(&l.ptr, "customSubject");
		spec->custom_subject = parse_node(&l, custom);
		cde_ptr_pop(&l.ptr, m);
		if (!spec->custom_subject)
			goto out;
		spec->custom_context = resolve_def(&l, "context");
		if (!spec->custom_context)
			goto out;
	}
	if (!parse_events(&l, spec, events))
		goto out;
	/* Every definition must at least be well formed, used or not. */
	for (i = 0; i < l.n_defs && !l.error; i++)
		resolve_def(&l, l.defs[i].json->string);
out:
	free(l.defs);
	cJSON_Delete(doc);
	return l.error;
}
