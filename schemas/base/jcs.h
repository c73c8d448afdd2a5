#pragma once
/* The JSON Canonicalization Scheme (RFC 8785, "JCS"): one byte sequence
 * for one JSON value, so that a hash of it can be recomputed from an export
 * in any language. */

#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

/* Containers nested deeper than this are refused: the walk recurses. */
#define CDE_JCS_MAX_DEPTH 128

/* Writes the RFC 8785 canonical form of @json into a new NUL-terminated
 * string *@ret_text (caller frees with free()) of *@ret_len bytes, the
 * terminator not counted: object members sorted by their names as UTF-16
 * code units, no whitespace, strings with only JCS's escapes, numbers as
 * ECMAScript prints the double (valuedouble; -0 as 0).
 *
 * Returns 0; -EINVAL for what JCS cannot express (a number that is not
 * finite, a string or name that is not valid UTF-8, two members of one
 * object with the same name, a raw or invalid cJSON item, nesting deeper
 * than CDE_JCS_MAX_DEPTH); -ENOMEM. The outputs are untouched on failure. */
int cde_jcs_serialize(const cJSON *json, char **ret_text, size_t *ret_len);

/* The same, naming on -EINVAL the JSON pointer of the offending value and
 * the reason in @errs (one error added). */
int cde_jcs_serialize_errors(const cJSON *json, char **ret_text, size_t *ret_len,
			     struct cde_errors *errs);

/* The JCS form of the document that cde_json_parse reads from
 * cde_json_print(@json), computed from @json without printing or parsing:
 * the same bytes as cde_jcs_serialize of that parse. -EINVAL, besides what
 * cde_jcs_serialize refuses, for a document whose printed text that parse
 * would refuse (a number printed as a literal it refuses, deep nesting):
 * then print, parse and canonicalise. -ENOMEM. */
int cde_jcs_serialize_as_printed(const cJSON *json, char **ret_text, size_t *ret_len);

/* The same for @json found inside a document under @depth containers
 * (the document's root is at 0): the bytes JCS writes for it there, with
 * the nesting limits counted as in the whole document. */
int cde_jcs_serialize_as_printed_at(const cJSON *json, unsigned depth, char **ret_text, size_t *ret_len);
