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
 * an index on the way down, pop on the way up), errors go to @errs. */
struct cde_json_reader {
	struct cde_errors *errs;
	struct cde_ptr p;
	size_t before;		/* errors in @errs when the walk began */
};

/* Starts a walk at @at (an escaped pointer, NULL or "" for the root, cut
 * to half the pointer buffer so members below it still fit). */
void cde_json_reader_init(struct cde_json_reader *r, const char *at, struct cde_errors *errs);

/* True when the walk has added an error (or had one dropped). */
bool cde_json_reader_failed(const struct cde_json_reader *r);

/* Adds an error at the current place, or at its member @key when not NULL. */
__attribute__((format(printf, 3, 4)))
void cde_json_reader_fail(struct cde_json_reader *r, const char *key, const char *fmt, ...);

/* The member @key of @obj when it has JSON type @type (cJSON_Object,
 * cJSON_Array, cJSON_String, cJSON_Number); NULL when absent or null,
 * and after an error ("must be a string") when it has another type. */
const cJSON *cde_json_read_member(struct cde_json_reader *r, const cJSON *obj, const char *key,
				  int type);

/* Like cde_json_read_member, and an error ("required (@what)") when @key
 * is absent or null. */
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
