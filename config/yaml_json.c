/* YAML to JSON with libyaml's event API. The tree is built with an
 * explicit stack of open mappings and sequences: every container is
 * attached to its parent as soon as it starts, so the root owns all that
 * was built and one cJSON_Delete undoes it on any error. The only other
 * things to free on the way out are the keys waiting for their values. */

#include "config/yaml_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* An open mapping or sequence. */
struct frame {
	cJSON *container;
	char *key;		/* mapping: the key waiting for its value */
};

struct builder {
	const char *path;
	struct cde_errors *errs;
	cJSON *root;
	struct frame stack[CDE_YAML_DEPTH_MAX];
	size_t depth;
	size_t nodes;
	unsigned documents;
};

static int fail(struct builder *b, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct builder *b, size_t line, const char *fmt, ...)
{
	char reason[CDE_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	cde_errors_add(b->errs, "", "%s:%zu: %s", b->path, line, reason);
	return -EINVAL;
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* A decimal integer that a double holds exactly. "007" is not one: YAML
 * 1.1 would read it as octal, so it stays the string it looks like. */
static bool is_integer(const char *s, double *ret)
{
	const char *d = s + (*s == '-' || *s == '+');
	long long n;

	if (*d < '0' || *d > '9' || (d[0] == '0' && d[1]) || strspn(d, "0123456789") != strlen(d) ||
	    strlen(d) > 16)
		return false;
	n = strtoll(d, NULL, 10);
	if (n > (1ll << 53))
		return false;
	*ret = *s == '-' ? -(double)n : (double)n;
	return true;
}

static cJSON *scalar_value(const yaml_event_t *e)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	const char *s = (const char *)e->data.scalar.value;
	double n;

	if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || e->data.scalar.tag)
		return cJSON_CreateString(s);
	if (is_one_of(s, nulls))
		return cJSON_CreateNull();
	if (is_one_of(s, trues))
		return cJSON_CreateTrue();
	if (is_one_of(s, falses))
		return cJSON_CreateFalse();
	if (is_integer(s, &n))
		return cJSON_CreateNumber(n);
	return cJSON_CreateString(s);
}

/* Gives @value (now owned here) its place: the root, the next element of
 * the open sequence, or the value of the open mapping's waiting key. */
static int attach(struct builder *b, cJSON *value)
{
	struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;
	bool ok;

	if (!value)
		return -ENOMEM;
	if (!top) {
		b->root = value;
		return 0;
	}
	if (cJSON_IsArray(top->container)) {
		ok = cJSON_AddItemToArray(top->container, value);
	} else {
		ok = cJSON_AddItemToObject(top->container, top->key, value);
		free(top->key);
		top->key = NULL;
	}
	if (!ok) {
		cJSON_Delete(value);
		return -ENOMEM;
	}
	return 0;
}

/* True when the next node of the open mapping is a key. */
static bool wants_key(const struct builder *b)
{
	const struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;

	return top && cJSON_IsObject(top->container) && !top->key;
}

static int on_scalar(struct builder *b, const yaml_event_t *e, size_t line)
{
	const char *s = (const char *)e->data.scalar.value;
	const char *tag = (const char *)e->data.scalar.tag;
	struct frame *top;

	if (strlen(s) != e->data.scalar.length)
		return fail(b, line, "a NUL character in a scalar");
	if (tag && strcmp(tag, YAML_STR_TAG) != 0 && strcmp(tag, "!") != 0)
		return fail(b, line, "tag %s is not supported (only !!str)", tag);
	if (!wants_key(b))
		return attach(b, scalar_value(e));
	top = &b->stack[b->depth - 1];
	if (cJSON_GetObjectItemCaseSensitive(top->container, s))
		return fail(b, line, "duplicate key \"%s\"", s);
	top->key = strdup(s);
	return top->key ? 0 : -ENOMEM;
}

static int on_start(struct builder *b, bool mapping, size_t line)
{
	cJSON *c;
	int r;

	if (wants_key(b))
		return fail(b, line, "a key must be a scalar, not a %s", mapping ? "mapping" : "sequence");
	if (b->depth == CDE_YAML_DEPTH_MAX)
		return fail(b, line, "nested deeper than %d levels", CDE_YAML_DEPTH_MAX);
	c = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	r = attach(b, c);
	if (r < 0)
		return r;
	b->stack[b->depth++] = (struct frame){ .container = c };
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *e)
{
	size_t line = e->start_mark.line + 1;

	switch (e->type) {
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++b->nodes > CDE_YAML_NODES_MAX)
			return fail(b, line, "more than %d nodes", CDE_YAML_NODES_MAX);
		if (e->type == YAML_SCALAR_EVENT)
			return on_scalar(b, e, line);
		return on_start(b, e->type == YAML_MAPPING_START_EVENT, line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(b, line, "aliases (*%s) are not allowed", (const char *)e->data.alias.anchor);
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++)
			return fail(b, line, "a second document: the file must hold one");
		return 0;
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		return 0;
	}
	return 0;
}

int cde_yaml_to_json(const char *path, const char *text, size_t len, cJSON **ret, struct cde_errors *errs)
{
	struct builder b = { .path = path, .errs = errs };
	yaml_parser_t parser;
	yaml_event_t e;
	bool end = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!end && r == 0) {
		if (!yaml_parser_parse(&parser, &e)) {
			if (parser.error == YAML_MEMORY_ERROR)
				r = -ENOMEM;
			else if (parser.context)
				r = fail(&b, parser.problem_mark.line + 1, "%s (%s)", parser.problem,
					 parser.context);
			else
				r = fail(&b, parser.problem_mark.line + 1, "%s",
					 parser.problem ? parser.problem : "not YAML");
			break;
		}
		end = e.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &e);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	if (r == 0 && !b.root && !(b.root = cJSON_CreateNull()))
		r = -ENOMEM;
	if (r < 0)
		goto err_free;
	*ret = b.root;
	return 0;

err_free:
	for (size_t i = 0; i < b.depth; i++)
		free(b.stack[i].key);
	cJSON_Delete(b.root);
	return r;
}
