/* Route filters (see filter.h). Compiling does all the checking: every
 * attribute becomes a JSON pointer split into its unescaped tokens and
 * every value its text, so that matching an event allocates nothing,
 * cannot fail, and costs at most CDE_FILTER_NODES_MAX tests. A filter
 * lives in one arena, freed at once. */

#include "sinks/filter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/arena.h"
#include "schemas/base/json_pointer.h"
#include "schemas/base/json_strict.h"

enum op { OP_EXACT, OP_PREFIX, OP_SUFFIX, OP_ALL, OP_ANY, OP_NOT };

static const char *const op_names[] = { "exact", "prefix", "suffix", "all", "any", "not" };

/* One attribute compared with one value. */
struct test {
	const char *const *tokens;	/* the attribute's pointer, unescaped */
	size_t n_tokens;
	const char *value;
	size_t value_len;
	bool versionless;		/* exact "type": a version may follow */
};

struct node {
	enum op op;
	size_t n;			/* tests, or filters */
	struct test *tests;		/* exact, prefix, suffix */
	const struct node **kids;	/* all, any, not */
};

struct cde_filter {
	struct cde_arena arena;		/* holds this struct too */
	const struct node *root;
};

/* The context attributes by name, and where a CDEvent keeps them. */
static const struct {
	const char *name;
	const char *tokens[2];
} attributes[] = {
	{ "type", { "context", "type" } },
	{ "source", { "context", "source" } },
	{ "subject", { "subject", "id" } },
	{ "id", { "context", "id" } },
	{ "chainId", { "context", "chainId" } },
};

struct compiler {
	struct cde_arena *arena;
	const char *prefix;		/* the caller's pointer to the filter */
	struct cde_ptr ptr;		/* where we are inside the filter */
	struct cde_errors *errs;
	size_t nodes;
	int r;
};

static void fail(struct compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct compiler *c, const char *fmt, ...)
{
	char pointer[CDE_ERROR_POINTER_MAX];
	va_list ap;

	snprintf(pointer, sizeof(pointer), "%s%s", c->prefix, cde_ptr_str(&c->ptr));
	va_start(ap, fmt);
	cde_errors_addv(c->errs, pointer, fmt, ap);
	va_end(ap);
	if (c->r == 0)
		c->r = -EINVAL;
}

static void *alloc(struct compiler *c, size_t size)
{
	void *p = cde_arena_alloc(c->arena, size);

	if (!p)
		c->r = -ENOMEM;
	return p;
}

/* The text a scalar is compared by: a string as is, a number, a boolean
 * or null as its JSON text (in @buf). NULL for anything else. */
static const char *scalar_text(const cJSON *v, char *buf, size_t size)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsTrue(v))
		return "true";
	if (cJSON_IsFalse(v))
		return "false";
	if (cJSON_IsNull(v))
		return "null";
	/* cJSON only reads the item; its signature predates const. */
	if (cJSON_IsNumber(v) && cJSON_PrintPreallocated((cJSON *)v, buf, (int)size, false))
		return buf;
	return NULL;
}

/* Splits the JSON pointer @s ("/a/b~1c") into unescaped tokens kept in
 * the arena. Returns 0, -EINVAL for a '~' not followed by 0 or 1, or
 * -ENOMEM. */
static int split_pointer(struct compiler *c, const char *s, struct test *t)
{
	size_t n = 0, k = 0;
	const char **tokens;
	char *out;

	for (const char *p = s; *p; p++)
		n += *p == '/';
	tokens = alloc(c, n * sizeof(*tokens));
	/* Unescaping never lengthens, and each '/' becomes a terminator. */
	out = alloc(c, strlen(s) + 1);
	if (!tokens || !out)
		return -ENOMEM;
	for (const char *p = s; *p;) {
		tokens[k++] = out;
		for (p++; *p && *p != '/'; p++) {
			if (*p != '~')
				*out++ = *p;
			else if (p[1] == '0' || p[1] == '1')
				*out++ = *++p == '0' ? '~' : '/';
			else
				return -EINVAL;
		}
		*out++ = '\0';
	}
	t->tokens = tokens;
	t->n_tokens = n;
	return 0;
}

/* Compiles one "ATTR: VALUE" of an exact, prefix or suffix filter. The
 * pointer is at ATTR. */
static void compile_test(struct compiler *c, enum op op, const cJSON *item, struct test *t)
{
	const char *name = item->string;
	char buf[64], *value;
	const char *text;
	int r;

	if (name[0] == '/') {
		r = split_pointer(c, name, t);
		if (r == -EINVAL)
			fail(c, "invalid JSON pointer: '~' must be followed by 0 or 1");
		if (r < 0)
			return;
	} else {
		for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]); i++) {
			if (strcmp(name, attributes[i].name) == 0) {
				t->tokens = attributes[i].tokens;
				t->n_tokens = 2;
				t->versionless = op == OP_EXACT && strcmp(name, "type") == 0;
			}
		}
		if (!t->tokens) {
			fail(c, "unknown attribute (type, source, subject, id, chainId, or a JSON pointer)");
			return;
		}
	}
	text = cJSON_IsNull(item) ? NULL : scalar_text(item, buf, sizeof(buf));
	if (!text) {
		fail(c, "must be a string, a number or a boolean");
		return;
	}
	if (op != OP_EXACT && !*text) {
		fail(c, "must not be empty: it would match every event");
		return;
	}
	t->value_len = strlen(text);
	value = alloc(c, t->value_len + 1);
	if (value)
		memcpy(value, text, t->value_len + 1);
	t->value = value;
}

static const struct node *compile_node(struct compiler *c, const cJSON *spec, unsigned depth);

static void compile_tests(struct compiler *c, struct node *n, const cJSON *map)
{
	const cJSON *item;
	size_t i = 0;

	if (!cJSON_IsObject(map) || !map->child) {
		fail(c, "must be a non-empty object of attributes and values");
		return;
	}
	n->n = (size_t)cJSON_GetArraySize(map);
	n->tests = alloc(c, n->n * sizeof(*n->tests));
	if (!n->tests)
		return;
	cJSON_ArrayForEach(item, map) {
		size_t mark = cde_ptr_push(&c->ptr, item->string);

		if (++c->nodes > CDE_FILTER_NODES_MAX) {
			fail(c, "more than %d filters and attribute tests", CDE_FILTER_NODES_MAX);
			return;
		}
		compile_test(c, n->op, item, &n->tests[i++]);
		cde_ptr_pop(&c->ptr, mark);
		if (c->r == -ENOMEM)
			return;
	}
}

static void compile_kids(struct compiler *c, struct node *n, const cJSON *list, unsigned depth)
{
	const cJSON *item;
	size_t i = 0;

	if (n->op == OP_NOT) {
		n->n = 1;
	} else if (!cJSON_IsArray(list) || !list->child) {
		fail(c, "must be a non-empty array of filters");
		return;
	} else {
		n->n = (size_t)cJSON_GetArraySize(list);
	}
	n->kids = alloc(c, n->n * sizeof(*n->kids));
	if (!n->kids)
		return;
	if (n->op == OP_NOT) {
		n->kids[0] = compile_node(c, list, depth + 1);
		return;
	}
	cJSON_ArrayForEach(item, list) {
		size_t mark = cde_ptr_push_index(&c->ptr, i);

		n->kids[i++] = compile_node(c, item, depth + 1);
		cde_ptr_pop(&c->ptr, mark);
		if (c->r == -ENOMEM || c->nodes > CDE_FILTER_NODES_MAX)
			return;
	}
}

/* Compiles the filter @spec found at the pointer. Returns NULL, with
 * c->r set, on a mistake or out of memory. Depth is bounded, so is the
 * recursion. */
static const struct node *compile_node(struct compiler *c, const cJSON *spec, unsigned depth)
{
	struct node *n;
	const char *key;
	size_t mark;
	int op = -1;

	if (depth > CDE_FILTER_DEPTH_MAX) {
		fail(c, "filters nested deeper than %d levels", CDE_FILTER_DEPTH_MAX);
		return NULL;
	}
	if (++c->nodes > CDE_FILTER_NODES_MAX) {
		fail(c, "more than %d filters and attribute tests", CDE_FILTER_NODES_MAX);
		return NULL;
	}
	if (!cJSON_IsObject(spec)) {
		fail(c, "a filter is an object with one key: exact, prefix, suffix, all, any or not");
		return NULL;
	}
	if (!spec->child) {
		fail(c, "empty filter: give one of exact, prefix, suffix, all, any, not");
		return NULL;
	}
	if (spec->child->next) {
		fail(c, "a filter has exactly one key, this one has %d (combine filters with all or any)",
		     cJSON_GetArraySize(spec));
		return NULL;
	}
	key = spec->child->string;
	for (int i = 0; i < (int)(sizeof(op_names) / sizeof(op_names[0])); i++)
		if (strcmp(key, op_names[i]) == 0)
			op = i;
	mark = cde_ptr_push(&c->ptr, key);
	if (op < 0) {
		fail(c, "unknown operator (exact, prefix, suffix, all, any, not)");
		cde_ptr_pop(&c->ptr, mark);
		return NULL;
	}
	n = alloc(c, sizeof(*n));
	if (n) {
		n->op = (enum op)op;
		if (op <= OP_SUFFIX)
			compile_tests(c, n, spec->child);
		else
			compile_kids(c, n, spec->child, depth);
	}
	cde_ptr_pop(&c->ptr, mark);
	return c->r < 0 ? NULL : n;
}

int cde_filter_compile(const cJSON *spec, const char *pointer_prefix, struct cde_filter **ret,
		       struct cde_errors *errs)
{
	struct cde_arena arena = { 0 };
	struct compiler c = {
		.arena = &arena,
		.prefix = pointer_prefix ? pointer_prefix : "",
		.errs = errs,
	};
	struct cde_filter *f;
	const struct node *root;

	if (!spec) {
		*ret = NULL;
		return 0;
	}
	cde_ptr_init(&c.ptr);
	f = alloc(&c, sizeof(*f));
	if (!f)
		return -ENOMEM;
	root = compile_node(&c, spec, 1);
	if (c.r < 0) {
		cde_arena_release(&arena);
		return c.r;
	}
	f->root = root;
	f->arena = arena;
	*ret = f;
	return 0;
}

int cde_filter_compile_text(const char *json, const char *pointer_prefix, struct cde_filter **ret,
			    struct cde_errors *errs)
{
	struct cde_errors parse_errs;
	cJSON *doc;
	int r;

	if (!json || !*json) {
		*ret = NULL;
		return 0;
	}
	cde_errors_reset(&parse_errs);
	r = cde_json_parse(json, strlen(json), &doc, &parse_errs);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		cde_errors_add(errs, pointer_prefix ? pointer_prefix : "", "not a filter: %s",
			       parse_errs.count ? parse_errs.items[0].reason : "invalid JSON");
		return -EINVAL;
	}
	r = cde_filter_compile(doc, pointer_prefix, ret, errs);
	cJSON_Delete(doc);
	return r;
}

/* An array element named by a pointer token: "0", or digits without a
 * leading zero. */
static const cJSON *array_item(const cJSON *array, const char *token)
{
	unsigned long i = 0;

	if (!*token || (token[0] == '0' && token[1]))
		return NULL;
	for (const char *p = token; *p; p++) {
		if (*p < '0' || *p > '9' || i > 100000000)
			return NULL;
		i = i * 10 + (unsigned long)(*p - '0');
	}
	return cJSON_GetArrayItem(array, (int)i);
}

static const cJSON *resolve(const cJSON *doc, const struct test *t)
{
	for (size_t i = 0; i < t->n_tokens && doc; i++) {
		if (cJSON_IsObject(doc))
			doc = cJSON_GetObjectItemCaseSensitive(doc, t->tokens[i]);
		else if (cJSON_IsArray(doc))
			doc = array_item(doc, t->tokens[i]);
		else
			return NULL;
	}
	return doc;
}

static bool test_match(const struct test *t, enum op op, const cJSON *event)
{
	char buf[64];
	const char *text = scalar_text(resolve(event, t), buf, sizeof(buf));
	size_t len, vlen = t->value_len;

	if (!text)
		return false;
	len = strlen(text);
	if (len < vlen)
		return false;
	if (op == OP_PREFIX)
		return memcmp(text, t->value, vlen) == 0;
	if (op == OP_SUFFIX)
		return memcmp(text + len - vlen, t->value, vlen) == 0;
	if (len == vlen)
		return memcmp(text, t->value, vlen) == 0;
	/* "dev.cdevents.service.deployed" is every version of it. */
	return t->versionless && memcmp(text, t->value, vlen) == 0 && text[vlen] == '.' &&
	       text[vlen + 1] >= '0' && text[vlen + 1] <= '9';
}

static bool node_match(const struct node *n, const cJSON *event)
{
	switch (n->op) {
	case OP_EXACT:
	case OP_PREFIX:
	case OP_SUFFIX:
		for (size_t i = 0; i < n->n; i++)
			if (!test_match(&n->tests[i], n->op, event))
				return false;
		return true;
	case OP_ALL:
		for (size_t i = 0; i < n->n; i++)
			if (!node_match(n->kids[i], event))
				return false;
		return true;
	case OP_ANY:
		for (size_t i = 0; i < n->n; i++)
			if (node_match(n->kids[i], event))
				return true;
		return false;
	case OP_NOT:
		return !node_match(n->kids[0], event);
	}
	return false;
}

bool cde_filter_match(const struct cde_filter *f, const cJSON *event)
{
	return !f || node_match(f->root, event);
}

struct cde_filter *cde_filter_free(struct cde_filter *f)
{
	if (f) {
		struct cde_arena arena = f->arena;

		cde_arena_release(&arena);
	}
	return NULL;
}
