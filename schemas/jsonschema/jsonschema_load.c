/* Loading JSON Schema documents into a registry: every keyword is checked
 * against the ones schemas/jsonschema implements (an unknown one refuses
 * the document, so nothing a schema says is silently dropped), $id and
 * $anchor are indexed, $ref strings resolved to absolute URIs and patterns
 * compiled once. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/base/json_strict.h"
#include "schemas/jsonschema/jsonschema_internal.h"

enum kind {
	K_ANNOT,     /* annotation only: accepted, never looked into */
	K_SCHEMA,    /* one subschema */
	K_MAP,       /* object of subschemas */
	K_PATMAP,    /* object of subschemas keyed by patterns */
	K_LIST,      /* non-empty array of subschemas */
	K_NNINT,     /* non-negative integer */
	K_NUMBER,
	K_POSNUM,    /* number > 0 */
	K_STRINGS,   /* array of strings */
	K_BOOL,
	K_ANY,
	K_ARRAY,
	K_TYPE,
	K_PATTERN,
	K_STRING,
	K_DEPREQ,    /* object of arrays of strings */
	K_ID,
	K_ANCHOR,
	K_REF,
	K_DIALECT,   /* $schema: only draft 2020-12 itself */
};

static const struct keyword {
	const char *name;
	enum kind kind;
} keywords[] = {
	{ "$schema", K_DIALECT }, { "title", K_ANNOT }, { "description", K_ANNOT },
	{ "$comment", K_ANNOT }, { "examples", K_ANNOT }, { "default", K_ANNOT },
	{ "deprecated", K_ANNOT }, { "readOnly", K_ANNOT }, { "writeOnly", K_ANNOT },
	/* Draft 2020-12 makes the content vocabulary annotation-only too. */
	{ "contentMediaType", K_ANNOT }, { "contentEncoding", K_ANNOT }, { "contentSchema", K_ANNOT },
	{ "$id", K_ID }, { "$anchor", K_ANCHOR }, { "$ref", K_REF }, { "$defs", K_MAP },
	{ "type", K_TYPE }, { "enum", K_ARRAY }, { "const", K_ANY },
	{ "properties", K_MAP }, { "patternProperties", K_PATMAP }, { "additionalProperties", K_SCHEMA },
	{ "required", K_STRINGS }, { "dependentRequired", K_DEPREQ }, { "dependentSchemas", K_MAP },
	{ "propertyNames", K_SCHEMA }, { "minProperties", K_NNINT }, { "maxProperties", K_NNINT },
	{ "items", K_SCHEMA }, { "prefixItems", K_LIST }, { "contains", K_SCHEMA },
	{ "minContains", K_NNINT }, { "maxContains", K_NNINT }, { "minItems", K_NNINT },
	{ "maxItems", K_NNINT }, { "uniqueItems", K_BOOL },
	{ "minLength", K_NNINT }, { "maxLength", K_NNINT }, { "pattern", K_PATTERN }, { "format", K_STRING },
	{ "minimum", K_NUMBER }, { "maximum", K_NUMBER }, { "exclusiveMinimum", K_NUMBER },
	{ "exclusiveMaximum", K_NUMBER }, { "multipleOf", K_POSNUM },
	{ "allOf", K_LIST }, { "anyOf", K_LIST }, { "oneOf", K_LIST }, { "not", K_SCHEMA },
	{ "if", K_SCHEMA }, { "then", K_SCHEMA }, { "else", K_SCHEMA },
};

#define MAX_SCHEMA_DEPTH 128

struct load {
	struct cde_jsonschema *s;
	struct cde_errors *errs;
	struct cde_ptr ptr;
	int err;
	unsigned depth;
};

static void refuse(struct load *l, const char *reason)
{
	if (!l->err)
		l->err = -EINVAL;
	cde_errors_add(l->errs, cde_ptr_str(&l->ptr), "%s", reason);
}

static void nomem(struct load *l)
{
	l->err = -ENOMEM;
}

struct cde_jsonschema *cde_jsonschema_new(void)
{
	return calloc(1, sizeof(struct cde_jsonschema));
}

/* Drops what was registered past the given counts (a refused document). */
static void truncate_to(struct cde_jsonschema *s, size_t n_res, size_t n_refs, size_t n_pats)
{
	while (s->n_res > n_res)
		free(s->res[--s->n_res].uri);
	while (s->n_refs > n_refs)
		free(s->refs[--s->n_refs].uri);
	while (s->n_pats > n_pats)
		regfree(&s->pats[--s->n_pats].re);
}

struct cde_jsonschema *cde_jsonschema_free(struct cde_jsonschema *s)
{
	if (!s)
		return NULL;
	truncate_to(s, 0, 0, 0);
	for (size_t i = 0; i < s->n_docs; i++)
		cJSON_Delete(s->docs[i]);
	free(s->docs);
	free(s->res);
	free(s->refs);
	free(s->pats);
	free(s);
	return NULL;
}

static const struct cde_js_resource *res_find(const struct cde_jsonschema *s, const char *uri, size_t len)
{
	for (size_t i = 0; i < s->n_res; i++)
		if (strlen(s->res[i].uri) == len && !memcmp(s->res[i].uri, uri, len))
			return &s->res[i];
	return NULL;
}

/* Registers @node under @uri (taken). */
static void add_resource(struct load *l, char *uri, const cJSON *node)
{
	const struct cde_js_resource *old = res_find(l->s, uri, strlen(uri));
	if (old) {
		if (old->node != node)
			refuse(l, "a second schema for a URI already loaded");
		free(uri);
		return;
	}
	if (cde_js_grow((void **)&l->s->res, &l->s->cap_res, l->s->n_res, sizeof(*l->s->res))) {
		free(uri);
		nomem(l);
		return;
	}
	l->s->res[l->s->n_res++] = (struct cde_js_resource){ uri, node };
}

static void add_pattern(struct load *l, const cJSON *node, const char *src)
{
	bool oom;
	char *posix = cde_js_regex_translate(src, &oom);
	if (!posix) {
		oom ? nomem(l) : refuse(l, "pattern has no POSIX extended equivalent");
		return;
	}
	if (cde_js_grow((void **)&l->s->pats, &l->s->cap_pats, l->s->n_pats, sizeof(*l->s->pats))) {
		free(posix);
		nomem(l);
		return;
	}
	struct cde_js_pattern *p = &l->s->pats[l->s->n_pats];
	int rc = regcomp(&p->re, posix, REG_EXTENDED | REG_NOSUB);
	free(posix);
	if (rc) {
		refuse(l, rc == REG_ESPACE ? "pattern too large" : "pattern does not compile as POSIX extended");
		return;
	}
	p->node = node;
	l->s->n_pats++;
}

static void add_ref(struct load *l, const cJSON *node, const char *base)
{
	char *uri = cde_js_uri_resolve(base, node->valuestring);
	if (!uri || cde_js_grow((void **)&l->s->refs, &l->s->cap_refs, l->s->n_refs, sizeof(*l->s->refs))) {
		free(uri);
		nomem(l);
		return;
	}
	l->s->refs[l->s->n_refs++] = (struct cde_js_ref){ node, uri };
}

static bool is_nnint(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble);
}

static bool is_strings(const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return false;
	for (const cJSON *e = v->child; e; e = e->next)
		if (!cJSON_IsString(e))
			return false;
	return true;
}

static bool is_type_name(const cJSON *v)
{
	static const char *const names[] = { "null", "boolean", "object", "array", "number", "string", "integer" };
	if (!cJSON_IsString(v))
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(v->valuestring, names[i]))
			return true;
	return false;
}

static bool type_ok(const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return is_type_name(v);
	for (const cJSON *e = v->child; e; e = e->next)
		if (!is_type_name(e))
			return false;
	return true;
}

static bool anchor_ok(const char *a)
{
	if (!((*a >= 'A' && *a <= 'Z') || (*a >= 'a' && *a <= 'z') || *a == '_'))
		return false;
	return strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == strlen(a);
}

static void walk(struct load *l, const cJSON *node, const char *base);

/* Walks each member of the object @m as a subschema; for K_PATMAP, each
 * key is compiled too. */
static void walk_members(struct load *l, const cJSON *m, const char *base, bool patterns)
{
	if (!cJSON_IsObject(m)) {
		refuse(l, "must be an object of schemas");
		return;
	}
	for (const cJSON *e = m->child; e && l->err != -ENOMEM; e = e->next) {
		size_t mark = cde_ptr_push(&l->ptr, e->string);
		if (patterns)
			add_pattern(l, e, e->string);
		walk(l, e, base);
		cde_ptr_pop(&l->ptr, mark);
	}
}

static void walk_list(struct load *l, const cJSON *m, const char *base)
{
	if (!cJSON_IsArray(m) || !m->child) {
		refuse(l, "must be a non-empty array of schemas");
		return;
	}
	size_t i = 0;
	for (const cJSON *e = m->child; e && l->err != -ENOMEM; e = e->next, i++) {
		size_t mark = cde_ptr_push_index(&l->ptr, i);
		walk(l, e, base);
		cde_ptr_pop(&l->ptr, mark);
	}
}

static void check_dependent_required(struct load *l, const cJSON *m)
{
	if (!cJSON_IsObject(m)) {
		refuse(l, "must be an object of arrays of strings");
		return;
	}
	for (const cJSON *e = m->child; e; e = e->next)
		if (!is_strings(e)) {
			size_t mark = cde_ptr_push(&l->ptr, e->string);
			refuse(l, "must be an array of strings");
			cde_ptr_pop(&l->ptr, mark);
		}
}

/* Checks the value of the keyword @m of kind @k. */
static void check_keyword(struct load *l, const cJSON *m, enum kind k, const char *base)
{
	switch (k) {
	case K_ANNOT: case K_ANY: case K_ID: case K_ANCHOR:
		return;
	case K_SCHEMA:
		walk(l, m, base);
		return;
	case K_MAP: case K_PATMAP:
		walk_members(l, m, base, k == K_PATMAP);
		return;
	case K_LIST:
		walk_list(l, m, base);
		return;
	case K_NNINT:
		if (!is_nnint(m))
			refuse(l, "must be a non-negative integer");
		return;
	case K_NUMBER:
		if (!cJSON_IsNumber(m))
			refuse(l, "must be a number");
		return;
	case K_POSNUM:
		if (!cJSON_IsNumber(m) || !(m->valuedouble > 0))
			refuse(l, "must be a number greater than 0");
		return;
	case K_STRINGS:
		if (!is_strings(m))
			refuse(l, "must be an array of strings");
		return;
	case K_BOOL:
		if (!cJSON_IsBool(m))
			refuse(l, "must be a boolean");
		return;
	case K_ARRAY:
		if (!cJSON_IsArray(m))
			refuse(l, "must be an array");
		return;
	case K_TYPE:
		if (!type_ok(m))
			refuse(l, "must be a type name or an array of type names");
		return;
	case K_PATTERN:
		if (!cJSON_IsString(m))
			refuse(l, "must be a string");
		else
			add_pattern(l, m, m->valuestring);
		return;
	case K_STRING:
		if (!cJSON_IsString(m))
			refuse(l, "must be a string");
		return;
	case K_DEPREQ:
		check_dependent_required(l, m);
		return;
	case K_DIALECT:
		/* Another dialect (a custom metaschema, an older draft) may
		 * mean other keywords or vocabularies: refused, not guessed. */
		if (!cJSON_IsString(m) || (strcmp(m->valuestring, CDE_JSONSCHEMA_DIALECT)
			&& strcmp(m->valuestring, CDE_JSONSCHEMA_DIALECT "#")))
			refuse(l, "dialect not supported (only " CDE_JSONSCHEMA_DIALECT ")");
		return;
	case K_REF:
		if (!cJSON_IsString(m))
			refuse(l, "must be a string");
		else
			add_ref(l, m, base);
		return;
	}
}

/* Registers the $id and $anchor of the object @node; returns the base its
 * keywords resolve against (malloc'd when $id changed it, else NULL). */
static char *register_ids(struct load *l, const cJSON *node, const char *base)
{
	char *own = NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(node, "$id");
	if (id) {
		size_t mark = cde_ptr_push(&l->ptr, "$id");
		if (!cJSON_IsString(id)) {
			refuse(l, "must be a string");
		} else if (!(own = cde_js_uri_resolve(base, id->valuestring))) {
			nomem(l);
		} else {
			char *hash = strchr(own, '#');
			if (hash && hash[1])
				refuse(l, "must not have a fragment (use $anchor)");
			else if (hash)
				*hash = '\0';
			char *copy = strdup(own);
			copy ? add_resource(l, copy, node) : nomem(l);
		}
		cde_ptr_pop(&l->ptr, mark);
	}
	const cJSON *anchor = cJSON_GetObjectItemCaseSensitive(node, "$anchor");
	if (anchor) {
		size_t mark = cde_ptr_push(&l->ptr, "$anchor");
		const char *b = own ? own : base;
		char *uri;
		if (!cJSON_IsString(anchor) || !anchor_ok(anchor->valuestring))
			refuse(l, "must be a name: a letter or _, then letters, digits, _ - .");
		else if (!(uri = malloc(strlen(b) + strlen(anchor->valuestring) + 2)))
			nomem(l);
		else
			add_resource(l, strcat(strcat(strcpy(uri, b), "#"), anchor->valuestring), node);
		cde_ptr_pop(&l->ptr, mark);
	}
	return own;
}

static void walk(struct load *l, const cJSON *node, const char *base)
{
	if (cJSON_IsBool(node))
		return;
	if (!cJSON_IsObject(node)) {
		refuse(l, "a schema must be an object or a boolean");
		return;
	}
	if (++l->depth > MAX_SCHEMA_DEPTH) {
		refuse(l, "schema nested too deep");
		l->depth--;
		return;
	}
	char *own = register_ids(l, node, base);
	for (const cJSON *m = node->child; m && l->err != -ENOMEM; m = m->next) {
		size_t mark = cde_ptr_push(&l->ptr, m->string);
		const struct keyword *kw = NULL;
		for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords) && !kw; i++)
			if (!strcmp(keywords[i].name, m->string))
				kw = &keywords[i];
		if (!kw)
			refuse(l, "keyword not supported by this validator");
		else
			check_keyword(l, m, kw->kind, own ? own : base);
		cde_ptr_pop(&l->ptr, mark);
	}
	free(own);
	l->depth--;
}

int cde_jsonschema_add_doc(struct cde_jsonschema *s, cJSON *doc, const char *base_uri,
	const cJSON **ret_root, struct cde_errors *errs)
{
	char anon[64];
	if (!base_uri) {
		snprintf(anon, sizeof(anon), "https://cde.invalid/jsonschema/%u.json", ++s->anon);
		base_uri = anon;
	}
	struct load l = { .s = s, .errs = errs };
	cde_ptr_init(&l.ptr);
	size_t n_res = s->n_res, n_refs = s->n_refs, n_pats = s->n_pats;
	char *base = strdup(base_uri);
	if (!base || cde_js_grow((void **)&s->docs, &s->cap_docs, s->n_docs, sizeof(*s->docs))) {
		free(base);
		return -ENOMEM;
	}
	char *hash = strchr(base, '#');
	if (hash)
		*hash = '\0';
	char *copy = strdup(base);
	copy ? add_resource(&l, copy, doc) : nomem(&l);
	if (!l.err)
		walk(&l, doc, base);
	free(base);
	if (l.err) {
		truncate_to(s, n_res, n_refs, n_pats);
		return l.err;
	}
	s->docs[s->n_docs++] = doc;
	if (ret_root)
		*ret_root = doc;
	return 0;
}

int cde_jsonschema_add(struct cde_jsonschema *s, const char *buf, size_t len, const char *base_uri,
	const cJSON **ret_root, struct cde_errors *errs)
{
	cJSON *doc;
	int r = cde_json_parse(buf, len, &doc, errs);
	if (r)
		return r;
	r = cde_jsonschema_add_doc(s, doc, base_uri, ret_root, errs);
	if (r)
		cJSON_Delete(doc);
	return r;
}
