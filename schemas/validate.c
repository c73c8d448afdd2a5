/* The validator: walks a document and the catalog nodes side by side.
 *
 * It never allocates: pointers are built in a fixed buffer and errors go to
 * a fixed list. Alternatives (anyOf/oneOf) are first tried in counting mode
 * (errs == NULL); when none fits, the closest one is walked again to report
 * its errors, which names the fix a user needs ("from: required property
 * missing" for a PATH link) rather than "matches no alternative". */

#include "schemas/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schemas/catalog_pattern.h"
#include "schemas/formats.h"
#include "schemas/base/json_pointer.h"

struct vctx {
	const struct cde_node *context;	/* what $context stands for */
	const struct cde_node *subject;	/* what $subject stands for */
	struct cde_errors *errs;	/* NULL while only counting */
	size_t count;			/* errors found */
	size_t wrong;			/* of which about a value present */
	struct cde_ptr ptr;
};

static void vreport(struct vctx *v, bool missing, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vreport(struct vctx *v, bool missing, const char *fmt, va_list ap)
{
	v->count++;
	v->wrong += !missing;
	if (v->errs)
		cde_errors_addv(v->errs, cde_ptr_str(&v->ptr), fmt, ap);
}

/* Reports a value that is present and wrong. */
static void report(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(v, false, fmt, ap);
	va_end(ap);
}

/* Reports a required value that is absent. */
static void report_missing(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report_missing(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(v, true, fmt, ap);
	va_end(ap);
}

static const char *kind_name(enum cde_node_kind k)
{
	switch (k) {
	case CDE_NODE_STRING:
	case CDE_NODE_SLOT_TYPE:
		return "a string";
	case CDE_NODE_OBJECT:
	case CDE_NODE_SLOT_CONTEXT:
	case CDE_NODE_SLOT_SUBJECT:
		return "an object";
	case CDE_NODE_ARRAY:
		return "an array";
	case CDE_NODE_NUMBER:
		return "a number";
	case CDE_NODE_INTEGER:
		return "an integer";
	case CDE_NODE_BOOLEAN:
		return "a boolean";
	case CDE_NODE_NULL:
		return "null";
	default:
		return "a value";
	}
}

static bool kind_accepts(enum cde_node_kind k, const cJSON *j)
{
	switch (k) {
	case CDE_NODE_STRING:
		return cJSON_IsString(j);
	case CDE_NODE_OBJECT:
		return cJSON_IsObject(j);
	case CDE_NODE_ARRAY:
		return cJSON_IsArray(j);
	case CDE_NODE_NUMBER:
		return cJSON_IsNumber(j);
	case CDE_NODE_INTEGER:
		return cJSON_IsNumber(j) && j->valuedouble == (double)(long long)j->valuedouble;
	case CDE_NODE_BOOLEAN:
		return cJSON_IsBool(j);
	case CDE_NODE_NULL:
		return cJSON_IsNull(j);
	default:
		return true;
	}
}

/* JSON Schema's minLength counts characters, not bytes; input is already
 * known to be valid UTF-8, so characters are the non-continuation bytes. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void check_string(struct vctx *v, const struct cde_node *n, const char *s)
{
	if (n->min_length && utf8_length(s) < n->min_length) {
		if (n->min_length == 1)
			report(v, "must not be empty");
		else
			report(v, "must be at least %zu characters long", n->min_length);
	}
	switch (n->format) {
	case CDE_FORMAT_NONE:
		break;
	case CDE_FORMAT_DATE_TIME:
		if (!cde_format_is_date_time(s))
			report(v, "must be an RFC 3339 date-time with an offset, e.g. 2025-01-31T12:00:00.000000Z");
		break;
	case CDE_FORMAT_URI:
		if (!cde_format_is_uri(s))
			report(v, "must be an absolute URI (RFC 3986), e.g. https://example.com/x");
		break;
	case CDE_FORMAT_URI_REFERENCE:
		if (!cde_format_is_uri_reference(s))
			report(v, "must be a URI reference (RFC 3986), e.g. /ci/jobs/42 or https://ci.example/42");
		break;
	}
	if (n->pattern_re && !cde_pattern_match(n->pattern_re, s)) {
		if (n->looks_like)
			report(v, "must match %s (%s)", n->pattern, n->looks_like);
		else
			report(v, "must match %s", n->pattern);
	}
	if (n->n_enum) {
		char list[160];
		size_t off = 0;

		for (size_t i = 0; i < n->n_enum; i++)
			if (strcmp(s, n->enum_values[i]) == 0)
				return;
		list[0] = '\0';
		for (size_t i = 0; i < n->n_enum && off < sizeof(list); i++) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					 n->enum_values[i]);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		report(v, "must be one of: %s", list);
	}
}

static void walk(struct vctx *v, const struct cde_node *n, const cJSON *j);

/* The index of @name among @n's fields, or -1. */
static int field_index(const struct cde_node *n, const char *name)
{
	for (size_t i = 0; name && i < n->n_fields; i++)
		if (n->fields[i].name[0] == name[0] && strcmp(n->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct cde_field *find_field(const struct cde_node *n, const char *name)
{
	int i = field_index(n, name);

	return i < 0 ? NULL : &n->fields[i];
}

/* Objects of up to this many fields are matched to the document in one
 * pass over its members (each field looked up in the members was, with
 * each member looked up in the fields, twice the string compares of a
 * hook's validation). */
#define FIELDS_MATCHED 64

static void check_object(struct vctx *v, const struct cde_node *n, const cJSON *j)
{
	const cJSON *c, *given[FIELDS_MATCHED];
	bool matched = n->n_fields <= FIELDS_MATCHED;
	size_t unknown = 0;

	if (matched) {
		memset(given, 0, n->n_fields * sizeof(given[0]));
		cJSON_ArrayForEach(c, j) {
			int i = field_index(n, c->string);

			/* The first of a name, as cJSON's lookup finds it. */
			if (i >= 0 && !given[i])
				given[i] = c;
			unknown += i < 0;
		}
	}
	for (size_t i = 0; i < n->n_fields; i++) {
		const struct cde_field *f = &n->fields[i];
		const cJSON *child = matched ? given[i] : cJSON_GetObjectItemCaseSensitive(j, f->name);
		size_t m;

		if (!child && !f->required)
			continue;
		m = cde_ptr_push(&v->ptr, f->name);
		if (child)
			walk(v, f->node, child);
		else
			report_missing(v, "required property missing");
		cde_ptr_pop(&v->ptr, m);
	}
	if (n->open || (matched && !unknown))
		return;
	cJSON_ArrayForEach(c, j) {
		if (find_field(n, c->string))
			continue;
		size_t m = cde_ptr_push(&v->ptr, c->string);

		if (v->errs) {
			char allowed[128];
			size_t off = 0;

			allowed[0] = '\0';
			for (size_t i = 0; i < n->n_fields && off < sizeof(allowed); i++) {
				int w = snprintf(allowed + off, sizeof(allowed) - off, "%s%s",
						 i ? ", " : "", n->fields[i].name);
				if (w < 0)
					break;
				off += (size_t)w;
			}
			if (n->n_fields)
				report(v, "unknown property (allowed here: %s)", allowed);
			else
				report(v, "unknown property (this object must be empty)");
		} else {
			report(v, "unknown property");
		}
		cde_ptr_pop(&v->ptr, m);
	}
}

/* How badly @j misses @n, counted without reporting. Wrong values weigh
 * more than missing ones: {"linkType": "PATH"} is a PATH link that lacks
 * "from", not an END link with the wrong linkType. */
struct miss {
	size_t wrong;
	size_t count;
};

static struct miss measure(struct vctx *v, const struct cde_node *n, const cJSON *j)
{
	struct cde_errors *saved = v->errs;
	size_t count = v->count, wrong = v->wrong;
	struct miss m;

	v->errs = NULL;
	walk(v, n, j);
	m.count = v->count - count;
	m.wrong = v->wrong - wrong;
	v->count = count;
	v->wrong = wrong;
	v->errs = saved;
	return m;
}

/* Appends @text to @buf (size @size, used @off), truncating. */
static void append(char *buf, size_t size, size_t *off, const char *text)
{
	int w = snprintf(buf + *off, size - *off, "%s", text);

	if (w > 0)
		*off = *off + (size_t)w < size ? *off + (size_t)w : size - 1;
}

/* @n as a noun phrase that tells it from the other alternatives of one
 * kind: "one of (a, b)", "a non-empty URI reference", "a string matching
 * ^x$". */
static void describe(const struct cde_node *n, char *buf, size_t size)
{
	static const char *const nouns[] = {
		[CDE_FORMAT_NONE] = "string", [CDE_FORMAT_DATE_TIME] = "RFC 3339 date-time",
		[CDE_FORMAT_URI] = "absolute URI", [CDE_FORMAT_URI_REFERENCE] = "URI reference",
	};
	const char *noun = nouns[n->format];
	size_t off = 0;

	buf[0] = '\0';
	if (n->kind != CDE_NODE_STRING) {
		append(buf, size, &off, kind_name(n->kind));
		return;
	}
	if (n->n_enum) {
		append(buf, size, &off, "one of (");
		for (size_t i = 0; i < n->n_enum; i++) {
			append(buf, size, &off, i ? ", " : "");
			append(buf, size, &off, n->enum_values[i]);
		}
		append(buf, size, &off, ")");
		return;
	}
	if (n->min_length == 1)
		append(buf, size, &off, "a non-empty ");
	else
		append(buf, size, &off, noun[0] == 'a' ? "an " : "a ");
	append(buf, size, &off, noun);
	if (n->min_length > 1) {
		char more[48];

		snprintf(more, sizeof(more), " of at least %zu characters", n->min_length);
		append(buf, size, &off, more);
	}
	if (n->pattern) {
		append(buf, size, &off, " matching ");
		append(buf, size, &off, n->pattern);
	}
}

/* Reports "must be X or Y" naming the alternatives of @n whose kind takes
 * @j (all of them when @all), each once, by what tells them apart. */
static void report_forms(struct vctx *v, const struct cde_node *n, const cJSON *j, bool all)
{
	char forms[CDE_ERROR_REASON_MAX], seen[CDE_ERROR_REASON_MAX];
	size_t off = 0, n_forms = 0;

	forms[0] = '\0';
	for (size_t i = 0; v->errs && i < n->n_alts; i++) {
		char one[CDE_ERROR_REASON_MAX];
		bool dup = false;

		if (!all && !kind_accepts(n->alts[i]->kind, j))
			continue;
		describe(n->alts[i], one, sizeof(one));
		for (size_t k = 0; k < i && !dup; k++) {
			if (!all && !kind_accepts(n->alts[k]->kind, j))
				continue;
			describe(n->alts[k], seen, sizeof(seen));
			dup = strcmp(one, seen) == 0;
		}
		if (dup)
			continue;
		append(forms, sizeof(forms), &off, n_forms++ ? " or " : "");
		append(forms, sizeof(forms), &off, one);
	}
	report(v, "must be %s", forms);
}

static bool kind_is_scalar(enum cde_node_kind k)
{
	return k != CDE_NODE_OBJECT && k != CDE_NODE_ARRAY && k != CDE_NODE_ANY_OF &&
	       k != CDE_NODE_ONE_OF && k != CDE_NODE_SLOT_CONTEXT && k != CDE_NODE_SLOT_SUBJECT;
}

static void check_alternatives(struct vctx *v, const struct cde_node *n, const cJSON *j)
{
	size_t matches = 0, best = 0, kinds_fit = 0;
	struct miss best_miss = { (size_t)-1, (size_t)-1 };
	bool scalars_only = true;

	for (size_t i = 0; i < n->n_alts; i++) {
		struct miss m = measure(v, n->alts[i], j);

		if (m.count == 0)
			matches++;
		if (m.wrong < best_miss.wrong ||
		    (m.wrong == best_miss.wrong && m.count < best_miss.count)) {
			best_miss = m;
			best = i;
		}
		if (kind_accepts(n->alts[i]->kind, j)) {
			kinds_fit++;
			scalars_only = scalars_only && kind_is_scalar(n->alts[i]->kind);
		}
	}
	if (n->kind == CDE_NODE_ANY_OF ? matches > 0 : matches == 1)
		return;
	if (matches > 1)
		report(v, "matches more than one of the allowed forms");
	else if (kinds_fit == 0)
		report_forms(v, n, j, true);
	else if (kinds_fit > 1 && scalars_only)
		/* Two strings that differ by format or enum: the closest
		 * one's complaint would hide that the other was possible. */
		report_forms(v, n, j, false);
	else
		walk(v, n->alts[best], j);
}

static void walk(struct vctx *v, const struct cde_node *n, const cJSON *j)
{
	switch (n->kind) {
	case CDE_NODE_ANY:
		return;
	case CDE_NODE_SLOT_CONTEXT:
		if (v->context)
			walk(v, v->context, j);
		return;
	case CDE_NODE_SLOT_SUBJECT:
		if (v->subject)
			walk(v, v->subject, j);
		return;
	case CDE_NODE_ANY_OF:
	case CDE_NODE_ONE_OF:
		check_alternatives(v, n, j);
		return;
	case CDE_NODE_SLOT_TYPE:
		/* Which types exist was settled before the walk. */
		if (!cJSON_IsString(j))
			report(v, "must be a string");
		return;
	default:
		break;
	}
	if (!kind_accepts(n->kind, j)) {
		report(v, "must be %s", kind_name(n->kind));
		return;
	}
	if (n->kind == CDE_NODE_STRING)
		check_string(v, n, j->valuestring);
	else if (n->kind == CDE_NODE_OBJECT)
		check_object(v, n, j);
	else if (n->kind == CDE_NODE_ARRAY && n->items) {
		const cJSON *c;
		size_t i = 0;

		cJSON_ArrayForEach(c, j) {
			size_t m = cde_ptr_push_index(&v->ptr, i++);

			walk(v, n->items, c);
			cde_ptr_pop(&v->ptr, m);
		}
	}
}

/* Picks the spec version named in @context; reports why when none fits. */
static const struct cde_spec *select_spec(const struct cde_catalog *cat, const cJSON *context,
					  struct vctx *v)
{
	const struct cde_spec *newest = cde_catalog_newest(cat);
	char why[CDE_ERROR_REASON_MAX];

	for (size_t i = 0; i < cde_catalog_spec_count(cat); i++) {
		const char *field = cde_catalog_spec_at(cat, i)->version_field;
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(context, field);

		if (!val)
			continue;
		size_t m0 = cde_ptr_push(&v->ptr, "context");
		size_t m1 = cde_ptr_push(&v->ptr, field);
		const struct cde_spec *s = NULL;

		if (!cJSON_IsString(val))
			report(v, "must be a string");
		else if (!(s = cde_catalog_find_spec(cat, field, val->valuestring))) {
			cde_catalog_version_refusal(cat, field, val->valuestring, why, sizeof(why));
			report(v, "%s", why);
		}
		cde_ptr_pop(&v->ptr, m1);
		cde_ptr_pop(&v->ptr, m0);
		return s;
	}
	size_t m0 = cde_ptr_push(&v->ptr, "context");
	size_t m1 = cde_ptr_push(&v->ptr, newest->version_field);

	report(v, "required property missing (the CDEvents spec version, e.g. \"%s\")",
	       newest->version);
	cde_ptr_pop(&v->ptr, m1);
	cde_ptr_pop(&v->ptr, m0);
	return NULL;
}

/* Sets the context and subject shapes that @type calls for. An unknown
 * type's subject is not checked: its shape is what the type would have
 * said (0.3.0 and 0.4.1 subjects need a "type", 0.5.1 ones have none), so
 * any complaint about it could contradict the release. */
static void select_type(struct vctx *v, const struct cde_spec *spec, const cJSON *type)
{
	const struct cde_event_type *et = cJSON_IsString(type)
		? cde_spec_find_type(spec, type->valuestring) : NULL;
	static const struct cde_node any_object = { .kind = CDE_NODE_OBJECT, .open = true };
	size_t m0, m1;

	if (et) {
		v->context = et->context;
		v->subject = et->subject;
		return;
	}
	if (cJSON_IsString(type) && cde_type_is_custom(type->valuestring) && spec->custom_subject) {
		/* The release's custom/schema.json, type name pattern included. */
		v->context = spec->custom_context;
		v->subject = spec->custom_subject;
		return;
	}
	v->context = spec->context;
	v->subject = &any_object;
	if (!cJSON_IsString(type))
		return;
	m0 = cde_ptr_push(&v->ptr, "context");
	m1 = cde_ptr_push(&v->ptr, "type");
	if (cde_type_is_custom(type->valuestring))
		report(v, "unknown event type \"%.80s\": spec %s has no custom event types "
		       "(dev.cdeventsx.*)", type->valuestring, spec->version);
	else
		report(v, "unknown event type \"%.80s\" in spec %s", type->valuestring, spec->version);
	cde_ptr_pop(&v->ptr, m1);
	cde_ptr_pop(&v->ptr, m0);
}

int cde_validate(const struct cde_catalog *cat, const cJSON *doc, const struct cde_spec **ret_spec,
		 struct cde_errors *errs)
{
	struct vctx v = { .errs = errs };
	const struct cde_spec *spec;
	const cJSON *context, *type;

	cde_ptr_init(&v.ptr);
	if (!cJSON_IsObject(doc)) {
		report(&v, "a CDEvent must be a JSON object");
		return -EINVAL;
	}
	context = cJSON_GetObjectItemCaseSensitive(doc, "context");
	if (!cJSON_IsObject(context)) {
		size_t m = cde_ptr_push(&v.ptr, "context");

		report(&v, context ? "must be an object" : "required property missing");
		cde_ptr_pop(&v.ptr, m);
		return -EINVAL;
	}
	spec = select_spec(cat, context, &v);
	if (!spec)
		return -EINVAL;
	if (ret_spec)
		*ret_spec = spec;

	type = cJSON_GetObjectItemCaseSensitive(context, "type");
	select_type(&v, spec, type);
	walk(&v, spec->envelope, doc);
	return v.count ? -EINVAL : 0;
}

int cde_validate_node(const struct cde_node *node, const cJSON *value, const char *base,
		      struct cde_errors *errs)
{
	struct vctx v = { .errs = errs };
	size_t len = strlen(base);

	cde_ptr_init(&v.ptr);
	if (len >= sizeof(v.ptr.buf))
		len = sizeof(v.ptr.buf) - 1;
	memcpy(v.ptr.buf, base, len);
	v.ptr.buf[len] = '\0';
	v.ptr.len = len;
	walk(&v, node, value);
	return v.count ? -EINVAL : 0;
}
