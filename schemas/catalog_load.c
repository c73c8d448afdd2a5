/* Catalog loading, the nodes: turns one catalog node (a type description)
 * into an immutable node in the arena. Nodes are checked as strictly as the
 * events they describe: an unknown key, a wrong type or a dangling
 * reference is an error naming the file and the JSON pointer, never a
 * silently weaker validator. (catalog_file.c reads the file around them.) */

#include "schemas/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schemas/catalog_pattern.h"

void cde_loader_fail(struct cde_loader *l, int error, const char *fmt, ...)
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

static struct cde_node *new_node(struct cde_loader *l, enum cde_node_kind kind)
{
	struct cde_node *n = cde_arena_alloc(l->arena, sizeof(*n));

	if (!n) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return NULL;
	}
	n->kind = kind;
	return n;
}

const struct cde_node *cde_loader_parse_member(struct cde_loader *l, const char *key, const cJSON *j)
{
	size_t m = cde_ptr_push(&l->ptr, key);
	const struct cde_node *n = cde_loader_parse_node(l, j);

	cde_ptr_pop(&l->ptr, m);
	return n;
}

const struct cde_node *cde_loader_resolve_def(struct cde_loader *l, const char *name)
{
	for (size_t i = 0; i < l->n_defs; i++) {
		struct cde_def_slot *d = &l->defs[i];

		if (strcmp(d->json->string, name) != 0)
			continue;
		if (d->node)
			return d->node;
		if (d->building) {
			cde_loader_fail(l, -EINVAL, "definition \"%s\" refers to itself", name);
			return NULL;
		}
		/* Errors inside a definition are reported where it is
		 * written, not where it was first used. */
		struct cde_ptr used_at = l->ptr;

		d->building = true;
		cde_ptr_init(&l->ptr);
		cde_ptr_push(&l->ptr, "defs");
		cde_ptr_push(&l->ptr, name);
		d->node = cde_loader_parse_node(l, d->json);
		l->ptr = used_at;
		d->building = false;
		return d->node;
	}
	cde_loader_fail(l, -EINVAL, "unknown definition \"@%s\"", name);
	return NULL;
}

static const struct cde_node *parse_shorthand(struct cde_loader *l, const char *s)
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
		return cde_loader_resolve_def(l, s + 1);
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
	cde_loader_fail(l, -EINVAL, "unknown node \"%s\"", s);
	return NULL;
}

static bool parse_kind(struct cde_loader *l, const char *s, enum cde_node_kind *kind)
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
	cde_loader_fail(l, -EINVAL, "unknown type \"%s\"", s);
	return false;
}

static bool parse_format(struct cde_loader *l, const char *s, enum cde_format *fmt)
{
	if (strcmp(s, "date-time") == 0)
		*fmt = CDE_FORMAT_DATE_TIME;
	else if (strcmp(s, "uri") == 0)
		*fmt = CDE_FORMAT_URI;
	else if (strcmp(s, "uri-reference") == 0)
		*fmt = CDE_FORMAT_URI_REFERENCE;
	else {
		cde_loader_fail(l, -EINVAL, "unsupported format \"%s\"", s);
		return false;
	}
	return true;
}

static const char *const *parse_strings(struct cde_loader *l, const cJSON *arr, size_t *count)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	const char **out;
	const cJSON *c;

	if (!cJSON_IsArray(arr) || n == 0) {
		cde_loader_fail(l, -EINVAL, "must be a non-empty array of strings");
		return NULL;
	}
	out = cde_arena_alloc(l->arena, n * sizeof(*out));
	if (!out) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c)) {
			cde_loader_fail(l, -EINVAL, "must be a non-empty array of strings");
			return NULL;
		}
		out[i] = cde_arena_strdup(l->arena, c->valuestring);
		if (!out[i++]) {
			cde_loader_fail(l, -ENOMEM, "out of memory");
			return NULL;
		}
	}
	*count = n;
	return out;
}

static bool parse_fields(struct cde_loader *l, struct cde_node *n, const cJSON *fields,
			 const cJSON *required)
{
	size_t count = (size_t)cJSON_GetArraySize(fields), i = 0;
	struct cde_field *out;
	const cJSON *c;

	if (fields && !cJSON_IsObject(fields)) {
		cde_loader_fail(l, -EINVAL, "\"fields\" must be an object");
		return false;
	}
	out = count ? cde_arena_alloc(l->arena, count * sizeof(*out)) : NULL;
	if (count && !out) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return false;
	}
	if (fields) {
		size_t m = cde_ptr_push(&l->ptr, "fields");

		cJSON_ArrayForEach(c, fields) {
			out[i].name = cde_arena_strdup(l->arena, c->string);
			out[i].node = cde_loader_parse_member(l, c->string, c);
			if (!out[i].name || !out[i].node) {
				cde_ptr_pop(&l->ptr, m);
				if (!out[i].name)
					cde_loader_fail(l, -ENOMEM, "out of memory");
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
				cde_loader_fail(l, -EINVAL, "required entry is not a string naming a field");
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

static bool parse_alts(struct cde_loader *l, struct cde_node *n, const cJSON *arr, const char *key)
{
	size_t count = (size_t)cJSON_GetArraySize(arr), i = 0;
	const struct cde_node **alts;
	const cJSON *c;
	size_t m = cde_ptr_push(&l->ptr, key);

	if (!cJSON_IsArray(arr) || count == 0) {
		cde_loader_fail(l, -EINVAL, "must be a non-empty array of nodes");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	alts = cde_arena_alloc(l->arena, count * sizeof(*alts));
	if (!alts) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		cde_ptr_pop(&l->ptr, m);
		return false;
	}
	cJSON_ArrayForEach(c, arr) {
		size_t m2 = cde_ptr_push_index(&l->ptr, i);

		alts[i] = cde_loader_parse_node(l, c);
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

const cJSON *cde_loader_unknown_key(const cJSON *obj, const char *const *keys, size_t n_keys)
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

/* "pattern" and "looksLike" (what it takes, in words, for messages). */
static bool parse_pattern(struct cde_loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "pattern");
	const cJSON *like = cJSON_GetObjectItemCaseSensitive(j, "looksLike");
	size_t at = 0;
	int r;

	if (!c && !like)
		return true;
	if (!c || n->kind != CDE_NODE_STRING || !cJSON_IsString(c) || (like && !cJSON_IsString(like))) {
		cde_loader_fail(l, -EINVAL, "\"pattern\" (and \"looksLike\") are strings on a string");
		return false;
	}
	n->pattern = cde_arena_strdup(l->arena, c->valuestring);
	n->looks_like = like ? cde_arena_strdup(l->arena, like->valuestring) : NULL;
	if (!n->pattern || (like && !n->looks_like)) {
		cde_loader_fail(l, -ENOMEM, "out of memory");
		return false;
	}
	r = cde_pattern_compile(l->arena, c->valuestring, &n->pattern_re, &at);
	if (r == -EINVAL) {
		size_t m = cde_ptr_push(&l->ptr, "pattern");

		cde_loader_fail(l, r, "unsupported in a catalog pattern at offset %zu: \"%.40s\"", at,
				c->valuestring + at);
		cde_ptr_pop(&l->ptr, m);
	} else if (r < 0) {
		cde_loader_fail(l, r, "out of memory");
	}
	return r == 0;
}

/* "minLength", "format" and "enum": only on a string. */
static bool parse_string_keys(struct cde_loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "minLength");

	if (c) {
		if (n->kind != CDE_NODE_STRING || !cJSON_IsNumber(c) || c->valuedouble < 0 ||
		    c->valuedouble != (double)(size_t)c->valuedouble) {
			cde_loader_fail(l, -EINVAL, "\"minLength\" is a whole number on a string");
			return false;
		}
		n->min_length = (size_t)c->valuedouble;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "format");
	if (c && (n->kind != CDE_NODE_STRING || !cJSON_IsString(c) ||
		  !parse_format(l, c->valuestring, &n->format))) {
		if (!l->error)
			cde_loader_fail(l, -EINVAL, "\"format\" is a string on a string");
		return false;
	}
	c = cJSON_GetObjectItemCaseSensitive(j, "enum");
	if (c) {
		size_t m = cde_ptr_push(&l->ptr, "enum");

		n->enum_values = n->kind == CDE_NODE_STRING ? parse_strings(l, c, &n->n_enum) : NULL;
		if (n->kind != CDE_NODE_STRING)
			cde_loader_fail(l, -EINVAL, "\"enum\" is only for strings");
		cde_ptr_pop(&l->ptr, m);
		if (!n->enum_values)
			return false;
	}
	return true;
}

/* "items": only on an array. */
static bool parse_items(struct cde_loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "items");
	size_t m;

	if (!c)
		return true;
	m = cde_ptr_push(&l->ptr, "items");
	n->items = n->kind == CDE_NODE_ARRAY ? cde_loader_parse_node(l, c) : NULL;
	if (n->kind != CDE_NODE_ARRAY)
		cde_loader_fail(l, -EINVAL, "\"items\" is only for arrays");
	cde_ptr_pop(&l->ptr, m);
	return n->items != NULL;
}

/* "fields", "required" and "open": only on an object. */
static bool parse_object_keys(struct cde_loader *l, struct cde_node *n, const cJSON *j)
{
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	const cJSON *required = cJSON_GetObjectItemCaseSensitive(j, "required");
	const cJSON *open = cJSON_GetObjectItemCaseSensitive(j, "open");

	if ((fields || required || open) && n->kind != CDE_NODE_OBJECT) {
		cde_loader_fail(l, -EINVAL, "\"fields\", \"required\" and \"open\" are only for objects");
		return false;
	}
	if (open && !cJSON_IsBool(open)) {
		cde_loader_fail(l, -EINVAL, "\"open\" is true or false");
		return false;
	}
	n->open = cJSON_IsTrue(open);
	return n->kind != CDE_NODE_OBJECT || parse_fields(l, n, fields, required);
}

const struct cde_node *cde_loader_parse_node(struct cde_loader *l, const cJSON *j)
{
	static const char *const keys[] = { "type", "fields", "required", "open", "minLength",
					     "format", "enum", "pattern", "looksLike", "items",
					     "anyOf", "oneOf", "$comment" };
	const cJSON *type, *anyof, *oneof, *c;
	enum cde_node_kind kind;
	struct cde_node *n;

	if (cJSON_IsString(j))
		return parse_shorthand(l, j->valuestring);
	if (!cJSON_IsObject(j)) {
		cde_loader_fail(l, -EINVAL, "a node is a string or an object");
		return NULL;
	}
	c = cde_loader_unknown_key(j, keys, sizeof(keys) / sizeof(keys[0]));
	if (c) {
		cde_loader_fail(l, -EINVAL, "unknown key \"%s\"", c->string);
		return NULL;
	}
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	anyof = cJSON_GetObjectItemCaseSensitive(j, "anyOf");
	oneof = cJSON_GetObjectItemCaseSensitive(j, "oneOf");
	if (!!type + !!anyof + !!oneof != 1) {
		cde_loader_fail(l, -EINVAL, "a node has exactly one of \"type\", \"anyOf\", \"oneOf\"");
		return NULL;
	}
	if (anyof || oneof) {
		n = new_node(l, anyof ? CDE_NODE_ANY_OF : CDE_NODE_ONE_OF);
		return n && parse_alts(l, n, anyof ? anyof : oneof, anyof ? "anyOf" : "oneOf") ? n : NULL;
	}
	if (!cJSON_IsString(type) || !parse_kind(l, type->valuestring, &kind))
		return NULL;
	n = new_node(l, kind);
	return n && parse_string_keys(l, n, j) && parse_pattern(l, n, j) && parse_items(l, n, j) &&
	       parse_object_keys(l, n, j) ? n : NULL;
}

