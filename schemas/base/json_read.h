#pragma once
/* Reading typed members out of a parsed JSON document, with the JSON
 * pointer of the place read in every error, so that a parser reports
 * every problem of a document at once and a user can find each one. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "schemas/base/json_pointer.h"

/* A walk over one document: @p is the place being read (push a member or
 * an index on the way down, pop on the way up), errors go to @errs.
 * The last four fields are how the document's author expects to be
 * told; init sets the defaults and a parser may change them. */
struct cde_json_reader {
	struct cde_errors *errs;
	struct cde_ptr p;
	size_t before;		/* errors in @errs when the walk began */
	const char *file;	/* set: every reason starts "FILE: POINTER: ", as a
				 * configuration file's errors read; default NULL */
	const char *missing;	/* the reason for an absent required member;
				 * default "required" */
	bool null_is_a_value;	/* null is a wrong value, not an absent member (a
				 * person's null is a mistake; kubectl prints null
				 * for unset fields); default false */
	bool yaml_words;	/* objects and arrays named "a map" and "a list", as a
				 * YAML file's author knows them; default false */
};

/* JSON types for the @type of the reads besides cJSON's own (cJSON's
 * types are bits, so a read may want one of several). */
#define CDE_JSON_BOOL (cJSON_True | cJSON_False)		/* "true or false" */
#define CDE_JSON_SCALAR (cJSON_String | cJSON_Number | CDE_JSON_BOOL)	/* "a single value" */

/* What a read wants beyond the type (@flags). */
#define CDE_JSON_REQUIRED 1u	/* absent (or null): an error, r->missing */
#define CDE_JSON_NON_EMPTY 2u	/* "" or [] is wrong too ("must be a non-empty string") */

/* Starts a walk at @at (an escaped pointer, NULL or "" for the root, cut
 * to half the pointer buffer so members below it still fit). */
void cde_json_reader_init(struct cde_json_reader *r, const char *at, struct cde_errors *errs);

/* True when the walk has added an error (or had one dropped). */
bool cde_json_reader_failed(const struct cde_json_reader *r);

/* Adds an error at the current place, or at its member @key when not NULL.
 * Returns -EINVAL, so that a parser can return it. */
__attribute__((format(printf, 3, 4)))
int cde_json_reader_fail(struct cde_json_reader *r, const char *key, const char *fmt, ...);

/* The member @key of @obj when it has JSON type @type (cJSON_Object,
 * cJSON_Array, cJSON_String, cJSON_Number); NULL when absent or null
 * (null is a wrong type with r->null_is_a_value), and after an error
 * ("must be a string") when it has another type. */
const cJSON *cde_json_read_member(struct cde_json_reader *r, const cJSON *obj, const char *key,
				  int type);

/* The value @v, read at the current place: @v when it has one of the JSON
 * types @type (cJSON_String, CDE_JSON_BOOL...), NULL otherwise; absent
 * (NULL, or null unless r->null_is_a_value) is an error only with
 * CDE_JSON_REQUIRED. @hint, when not NULL, ends every reason as it is
 * written: "must be a string" + " (the subject's id)", "required" +
 * ": tekton, webhook or file". For parsers that walk a map's members. */
const cJSON *cde_json_read_value(struct cde_json_reader *r, const cJSON *v, int type, unsigned flags,
				 const char *hint);

/* cde_json_read_value on the member @key of @obj, at its pointer. */
const cJSON *cde_json_read_as(struct cde_json_reader *r, const cJSON *obj, const char *key, int type,
			      unsigned flags, const char *hint);

/* Like cde_json_read_member, and an error ("required (@what)", or
 * r->missing for "required") when @key is absent or null. */
const cJSON *cde_json_read_required(struct cde_json_reader *r, const cJSON *obj, const char *key,
				    int type, const char *what);

/* The string member @key, or NULL (after an error when not a string). */
const char *cde_json_read_string(struct cde_json_reader *r, const cJSON *obj, const char *key);

/* The number member @key when it is a whole number in [@min, @max]
 * (both within +-2^53), in *@ret; false when absent, and after an error
 * ("must be a whole number from 1 to 10") when present but not one. */
bool cde_json_read_whole(struct cde_json_reader *r, const cJSON *obj, const char *key, double min,
			 double max, double *ret);

/* The one number format of the readers: true when @v is a whole number
 * of magnitude below 2^53, where every whole double is exact. */
bool cde_json_is_whole(double v);
