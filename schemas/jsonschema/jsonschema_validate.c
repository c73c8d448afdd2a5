/* Validating an instance against a loaded draft 2020-12 schema. Each
 * keyword group is one function; with @errs NULL a function stops at the
 * first failure (anyOf, oneOf, not, if and contains only need a yes or
 * no), otherwise it reports every failure at the instance location. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/jsonschema/jsonschema_internal.h"

/* Deep enough for any real schema; stops a $ref cycle that never consumes
 * the instance ({"$ref": "#"}). */
#define MAX_EVAL_DEPTH 200

struct vctx {
	const struct cde_jsonschema *s;
	unsigned flags;
	unsigned depth;
	struct cde_ptr ptr;
};

#define FAIL(...) do { \
		ok = false; \
		if (!errs) \
			return false; \
		cde_errors_add(errs, cde_ptr_str(&c->ptr), __VA_ARGS__); \
	} while (0)

static bool v_schema(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs);

static const cJSON *kw(const cJSON *sch, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(sch, name);
}

static bool is_integer(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble);
}

static bool has_type(const cJSON *inst, const char *t)
{
	if (!strcmp(t, "integer"))
		return is_integer(inst);
	if (!strcmp(t, "number"))
		return cJSON_IsNumber(inst);
	if (!strcmp(t, "string"))
		return cJSON_IsString(inst);
	if (!strcmp(t, "object"))
		return cJSON_IsObject(inst);
	if (!strcmp(t, "array"))
		return cJSON_IsArray(inst);
	if (!strcmp(t, "boolean"))
		return cJSON_IsBool(inst);
	return cJSON_IsNull(inst);
}

/* JSON equality for enum, const and uniqueItems: numbers by exact value
 * (cJSON_Compare allows a relative epsilon, so 2^53 would equal 2^53 - 1),
 * objects regardless of member order. */
static bool equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsArray(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!equal(x, y))
				return false;
		return !x && !y;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return false;
		for (const cJSON *x = a->child; x; x = x->next) {
			const cJSON *y = kw(b, x->string);
			if (!y || !equal(x, y))
				return false;
		}
	}
	return true;
}

static bool v_generic(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	const cJSON *t = kw(sch, "type");
	if (t) {
		bool match = false;
		if (cJSON_IsString(t))
			match = has_type(inst, t->valuestring);
		for (const cJSON *e = cJSON_IsArray(t) ? t->child : NULL; e && !match; e = e->next)
			match = has_type(inst, e->valuestring);
		if (!match)
			FAIL("must be of type %s", cJSON_IsString(t) ? t->valuestring : "listed in type");
	}
	const cJSON *en = kw(sch, "enum");
	if (en) {
		bool match = false;
		for (const cJSON *e = en->child; e && !match; e = e->next)
			match = equal(e, inst);
		if (!match)
			FAIL("must be one of the values of enum");
	}
	const cJSON *co = kw(sch, "const");
	if (co && !equal(co, inst))
		FAIL("must be the value of const");
	return ok;
}

static bool v_number(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	if (!cJSON_IsNumber(inst))
		return true;
	double x = inst->valuedouble;
	const cJSON *k;
	if ((k = kw(sch, "minimum")) && x < k->valuedouble)
		FAIL("must be at least %.17g", k->valuedouble);
	if ((k = kw(sch, "maximum")) && x > k->valuedouble)
		FAIL("must be at most %.17g", k->valuedouble);
	if ((k = kw(sch, "exclusiveMinimum")) && x <= k->valuedouble)
		FAIL("must be greater than %.17g", k->valuedouble);
	if ((k = kw(sch, "exclusiveMaximum")) && x >= k->valuedouble)
		FAIL("must be less than %.17g", k->valuedouble);
	if ((k = kw(sch, "multipleOf"))) {
		/* Decimal multiples (0.0075 of 0.0001) are inexact in binary:
		 * a quotient within a relative 1e-9 of an integer counts. */
		double q = x / k->valuedouble;
		if (!isfinite(q) || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q)))
			FAIL("must be a multiple of %.17g", k->valuedouble);
	}
	return ok;
}

static size_t code_points(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool v_string(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	if (!cJSON_IsString(inst))
		return true;
	const cJSON *k;
	size_t len = code_points(inst->valuestring);
	if ((k = kw(sch, "minLength")) && len < k->valuedouble)
		FAIL("must be at least %.0f characters long", k->valuedouble);
	if ((k = kw(sch, "maxLength")) && len > k->valuedouble)
		FAIL("must be at most %.0f characters long", k->valuedouble);
	if ((k = kw(sch, "pattern"))) {
		const regex_t *re = cde_js_pattern_find(c->s, k);
		if (re && regexec(re, inst->valuestring, 0, NULL, 0))
			FAIL("must match the pattern %s", k->valuestring);
	}
	if ((c->flags & CDE_JSONSCHEMA_FORMAT_ASSERT) && (k = kw(sch, "format"))
		&& !cde_js_format_ok(k->valuestring, inst->valuestring))
		FAIL("must be a valid %s", k->valuestring);
	return ok;
}

/* Validates @inst[@i] (an array item) against @sch. */
static bool v_item(struct vctx *c, const cJSON *sch, const cJSON *item, size_t i, struct cde_errors *errs)
{
	size_t mark = cde_ptr_push_index(&c->ptr, i);
	bool ok = v_schema(c, sch, item, errs);
	cde_ptr_pop(&c->ptr, mark);
	return ok;
}

static bool v_contains(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	const cJSON *contains = kw(sch, "contains");
	if (!contains)
		return true;
	const cJSON *min = kw(sch, "minContains"), *max = kw(sch, "maxContains");
	double n = 0;
	size_t i = 0;
	for (const cJSON *e = inst->child; e; e = e->next, i++)
		n += v_item(c, contains, e, i, NULL);
	double lo = min ? min->valuedouble : 1;
	if (n < lo)
		FAIL("must contain at least %.0f matching item%s", lo, lo == 1 ? "" : "s");
	if (max && n > max->valuedouble)
		FAIL("must contain at most %.0f matching items", max->valuedouble);
	return ok;
}

static bool v_array(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	if (!cJSON_IsArray(inst))
		return true;
	const cJSON *k, *prefix = kw(sch, "prefixItems"), *items = kw(sch, "items");
	const cJSON *p = prefix ? prefix->child : NULL;
	size_t i = 0, n = (size_t)cJSON_GetArraySize(inst);
	for (const cJSON *e = inst->child; e; e = e->next, i++) {
		const cJSON *s = p ? p : items;
		if (p)
			p = p->next;
		if (s && !v_item(c, s, e, i, errs) && (ok = false, !errs))
			return false;
	}
	if ((k = kw(sch, "minItems")) && n < k->valuedouble)
		FAIL("must have at least %.0f items", k->valuedouble);
	if ((k = kw(sch, "maxItems")) && n > k->valuedouble)
		FAIL("must have at most %.0f items", k->valuedouble);
	if ((k = kw(sch, "uniqueItems")) && cJSON_IsTrue(k)) {
		bool dup = false;
		for (const cJSON *a = inst->child; a && !dup; a = a->next)
			for (const cJSON *b = a->next; b && !dup; b = b->next)
				dup = equal(a, b);
		if (dup)
			FAIL("items must be unique");
	}
	if (!v_contains(c, sch, inst, errs))
		ok = false;
	return ok;
}

static bool matches_pattern_property(struct vctx *c, const cJSON *pp, const char *name)
{
	for (const cJSON *p = pp ? pp->child : NULL; p; p = p->next) {
		const regex_t *re = cde_js_pattern_find(c->s, p);
		if (re && !regexec(re, name, 0, NULL, 0))
			return true;
	}
	return false;
}

/* The subschemas properties, patternProperties and additionalProperties
 * apply to the member @m. */
static bool v_member(struct vctx *c, const cJSON *sch, const cJSON *m, struct cde_errors *errs)
{
	bool ok = true, evaluated = false;
	const cJSON *props = kw(sch, "properties"), *pp = kw(sch, "patternProperties");
	const cJSON *add = kw(sch, "additionalProperties"), *s;
	size_t mark = cde_ptr_push(&c->ptr, m->string);
	if (props && (s = kw(props, m->string))) {
		evaluated = true;
		ok = v_schema(c, s, m, errs);
	}
	for (const cJSON *p = pp ? pp->child : NULL; p && (ok || errs); p = p->next) {
		const regex_t *re = cde_js_pattern_find(c->s, p);
		if (re && !regexec(re, m->string, 0, NULL, 0)) {
			evaluated = true;
			ok = v_schema(c, p, m, errs) && ok;
		}
	}
	if (!evaluated && add && (ok || errs)) {
		if (cJSON_IsFalse(add) && !matches_pattern_property(c, pp, m->string)) {
			ok = false;
			if (errs)
				cde_errors_add(errs, cde_ptr_str(&c->ptr), "property not allowed");
		} else {
			ok = v_schema(c, add, m, errs) && ok;
		}
	}
	cde_ptr_pop(&c->ptr, mark);
	return ok;
}

static bool v_required(struct vctx *c, const cJSON *names, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	for (const cJSON *r = names ? names->child : NULL; r; r = r->next)
		if (!kw(inst, r->valuestring)) {
			size_t mark = cde_ptr_push(&c->ptr, r->valuestring);
			ok = false;
			if (errs)
				cde_errors_add(errs, cde_ptr_str(&c->ptr), "required");
			cde_ptr_pop(&c->ptr, mark);
			if (!errs)
				return false;
		}
	return ok;
}

static bool v_object(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	if (!cJSON_IsObject(inst))
		return true;
	const cJSON *k, *names = kw(sch, "propertyNames");
	size_t n = 0;
	for (const cJSON *m = inst->child; m; m = m->next, n++) {
		if (!v_member(c, sch, m, errs) && (ok = false, !errs))
			return false;
		if (names) {
			cJSON key = { .type = cJSON_String, .valuestring = m->string };
			size_t mark = cde_ptr_push(&c->ptr, m->string);
			bool good = v_schema(c, names, &key, NULL);
			if (!good && errs)
				cde_errors_add(errs, cde_ptr_str(&c->ptr), "property name not allowed by propertyNames");
			cde_ptr_pop(&c->ptr, mark);
			if (!good && (ok = false, !errs))
				return false;
		}
	}
	if (!v_required(c, kw(sch, "required"), inst, errs) && (ok = false, !errs))
		return false;
	for (const cJSON *d = (k = kw(sch, "dependentRequired")) ? k->child : NULL; d; d = d->next)
		if (kw(inst, d->string) && !v_required(c, d, inst, errs) && (ok = false, !errs))
			return false;
	for (const cJSON *d = (k = kw(sch, "dependentSchemas")) ? k->child : NULL; d; d = d->next)
		if (kw(inst, d->string) && !v_schema(c, d, inst, errs) && (ok = false, !errs))
			return false;
	if ((k = kw(sch, "minProperties")) && n < k->valuedouble)
		FAIL("must have at least %.0f properties", k->valuedouble);
	if ((k = kw(sch, "maxProperties")) && n > k->valuedouble)
		FAIL("must have at most %.0f properties", k->valuedouble);
	return ok;
}

static bool v_combine(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	const cJSON *k;
	for (const cJSON *e = (k = kw(sch, "allOf")) ? k->child : NULL; e; e = e->next)
		if (!v_schema(c, e, inst, errs) && (ok = false, !errs))
			return false;
	if ((k = kw(sch, "anyOf"))) {
		bool any = false;
		for (const cJSON *e = k->child; e && !any; e = e->next)
			any = v_schema(c, e, inst, NULL);
		if (!any)
			FAIL("must match at least one schema of anyOf");
	}
	if ((k = kw(sch, "oneOf"))) {
		unsigned n = 0;
		for (const cJSON *e = k->child; e && n < 2; e = e->next)
			n += v_schema(c, e, inst, NULL);
		if (n != 1)
			FAIL(n ? "must match only one schema of oneOf, matches several" : "must match one schema of oneOf");
	}
	if ((k = kw(sch, "not")) && v_schema(c, k, inst, NULL))
		FAIL("must not match the schema of not");
	if ((k = kw(sch, "if"))) {
		const cJSON *branch = kw(sch, v_schema(c, k, inst, NULL) ? "then" : "else");
		if (branch && !v_schema(c, branch, inst, errs) && (ok = false, !errs))
			return false;
	}
	if ((k = kw(sch, "$ref"))) {
		const char *uri = cde_js_ref_find(c->s, k);
		const cJSON *target = uri ? cde_jsonschema_lookup(c->s, uri) : NULL;
		if (!target)
			FAIL("$ref %s does not resolve", uri ? uri : k->valuestring);
		else if (!v_schema(c, target, inst, errs) && (ok = false, !errs))
			return false;
	}
	return ok;
}

static bool v_schema(struct vctx *c, const cJSON *sch, const cJSON *inst, struct cde_errors *errs)
{
	bool ok = true;
	if (cJSON_IsTrue(sch))
		return true;
	if (!cJSON_IsObject(sch))
		FAIL("no value is allowed here");
	else if (c->depth >= MAX_EVAL_DEPTH)
		FAIL("schema references nest too deep");
	if (!ok)
		return false;
	c->depth++;
	static bool (*const groups[])(struct vctx *, const cJSON *, const cJSON *, struct cde_errors *) = {
		v_generic, v_number, v_string, v_array, v_object, v_combine,
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(*groups) && (ok || errs); i++)
		ok = groups[i](c, sch, inst, errs) && ok;
	c->depth--;
	return ok;
}

int cde_jsonschema_validate(const struct cde_jsonschema *s, const cJSON *schema, const cJSON *instance,
	unsigned flags, struct cde_errors *errs)
{
	struct vctx c = { .s = s, .flags = flags };
	cde_ptr_init(&c.ptr);
	return v_schema(&c, schema, instance, errs) ? 0 : -EINVAL;
}
