/* Typed members of a parsed JSON document (schemas/base/json_read.h),
 * shared by the parsers of every layer. A reader adds at most one error
 * per member it reads and never allocates: the pointer of the place lives
 * in the reader. */

#include "schemas/base/json_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void cde_json_reader_init(struct cde_json_reader *r, const char *at, struct cde_errors *errs)
{
	size_t len = at ? strlen(at) : 0;

	cde_ptr_init(&r->p);
	/* Half the buffer at most, so the members below still fit. */
	if (len >= sizeof(r->p.buf) / 2)
		len = sizeof(r->p.buf) / 2;
	memcpy(r->p.buf, at ? at : "", len);
	r->p.buf[len] = '\0';
	r->p.len = len;
	r->errs = errs;
	r->before = errs->count + errs->dropped;
	r->file = NULL;
	r->missing = "required";
	r->null_is_a_value = false;
	r->yaml_words = false;
}

bool cde_json_reader_failed(const struct cde_json_reader *r)
{
	return r->errs->count + r->errs->dropped != r->before;
}

int cde_json_reader_fail(struct cde_json_reader *r, const char *key, const char *fmt, ...)
{
	size_t mark = key ? cde_ptr_push(&r->p, key) : r->p.len;
	const char *at = cde_ptr_str(&r->p);
	char reason[CDE_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (r->file)
		cde_errors_add(r->errs, at, "%s: %s: %s", r->file, at, reason);
	else
		cde_errors_add(r->errs, at, "%s", reason);
	cde_ptr_pop(&r->p, mark);
	return -EINVAL;
}

static const char *type_word(const struct cde_json_reader *r, int type, bool non_empty)
{
	switch (type) {
	case cJSON_Object: return r->yaml_words ? "a map" : "an object";
	case cJSON_Array:
		if (non_empty)
			return r->yaml_words ? "a non-empty list" : "a non-empty array";
		return r->yaml_words ? "a list" : "an array";
	case cJSON_String: return non_empty ? "a non-empty string" : "a string";
	case cJSON_Number: return "a number";
	case CDE_JSON_BOOL: return "true or false";
	case CDE_JSON_SCALAR: return "a single value";
	default: return "a value";
	}
}

const cJSON *cde_json_read_value(struct cde_json_reader *r, const cJSON *v, int type, unsigned flags,
				 const char *hint)
{
	bool non_empty = flags & CDE_JSON_NON_EMPTY;

	if (!hint)
		hint = "";
	if (!v || (cJSON_IsNull(v) && !r->null_is_a_value)) {
		if (flags & CDE_JSON_REQUIRED)
			cde_json_reader_fail(r, NULL, "%s%s", r->missing, hint);
		return NULL;
	}
	if (!(v->type & 0xFF & type) || (non_empty && cJSON_IsString(v) && !v->valuestring[0]) ||
	    (non_empty && cJSON_IsArray(v) && !v->child)) {
		cde_json_reader_fail(r, NULL, "must be %s%s", type_word(r, type, non_empty), hint);
		return NULL;
	}
	return v;
}

const cJSON *cde_json_read_as(struct cde_json_reader *r, const cJSON *obj, const char *key, int type,
			      unsigned flags, const char *hint)
{
	size_t mark = cde_ptr_push(&r->p, key);
	const cJSON *v = cde_json_read_value(r, cJSON_GetObjectItemCaseSensitive(obj, key), type,
					     flags, hint);

	cde_ptr_pop(&r->p, mark);
	return v;
}

const cJSON *cde_json_read_member(struct cde_json_reader *r, const cJSON *obj, const char *key,
				  int type)
{
	return cde_json_read_as(r, obj, key, type, 0, NULL);
}

const cJSON *cde_json_read_required(struct cde_json_reader *r, const cJSON *obj, const char *key,
				    int type, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || (cJSON_IsNull(v) && !r->null_is_a_value)) {
		cde_json_reader_fail(r, key, "%s (%s)", r->missing, what);
		return NULL;
	}
	return cde_json_read_member(r, obj, key, type);
}

const char *cde_json_read_string(struct cde_json_reader *r, const cJSON *obj, const char *key)
{
	const cJSON *v = cde_json_read_member(r, obj, key, cJSON_String);

	return v ? v->valuestring : NULL;
}

bool cde_json_read_whole(struct cde_json_reader *r, const cJSON *obj, const char *key, double min,
			 double max, double *ret)
{
	const cJSON *v = cde_json_read_member(r, obj, key, cJSON_Number);

	if (!v)
		return false;
	/* The range first: the whole-number test casts. */
	if (!(v->valuedouble >= min && v->valuedouble <= max) ||
	    !cde_json_is_whole(v->valuedouble)) {
		cde_json_reader_fail(r, key, "must be a whole number from %.0f to %.0f", min, max);
		return false;
	}
	*ret = v->valuedouble;
	return true;
}

bool cde_json_is_whole(double v)
{
	return v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(long long)v == v;
}
