#pragma once
/* What the loader, the URI helpers and the validator of schemas/jsonschema
 * share. */

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/jsonschema/jsonschema.h"

/* A schema (or an anchor: uri ends in #name) a URI names. */
struct cde_js_resource {
	char *uri;
	const cJSON *node;
};

/* A $ref string node and the absolute URI it resolved to at load. */
struct cde_js_ref {
	const cJSON *node;
	char *uri;
};

/* A compiled pattern: the "pattern" string or the patternProperties member. */
struct cde_js_pattern {
	const cJSON *node;
	regex_t re;
};

struct cde_jsonschema {
	cJSON **docs;
	size_t n_docs, cap_docs;
	struct cde_js_resource *res;
	size_t n_res, cap_res;
	struct cde_js_ref *refs;
	size_t n_refs, cap_refs;
	struct cde_js_pattern *pats;
	size_t n_pats, cap_pats;
	unsigned anon;
};

/* Grows the array *@arr of @elem-byte items so it holds one more than @n.
 * Returns 0 or -ENOMEM. */
int cde_js_grow(void **arr, size_t *cap, size_t n, size_t elem);

/* Resolves the URI reference @ref against the absolute @base (RFC 3986,
 * section 5.2). Returns a malloc'd string or NULL when out of memory. */
char *cde_js_uri_resolve(const char *base, const char *ref);

/* Decodes %XX escapes of @s in place; false when one is malformed. */
bool cde_js_percent_decode(char *s);

/* Translates the ECMA-262 pattern @src into a POSIX extended one
 * (\d \w \s and their negations); NULL when it has no POSIX equivalent or
 * out of memory (*@ret_nomem tells which). */
char *cde_js_regex_translate(const char *src, bool *ret_nomem);

/* The compiled regex stored for @node, or NULL. */
const regex_t *cde_js_pattern_find(const struct cde_jsonschema *s, const cJSON *node);

/* The URI the $ref string @node resolved to, or NULL. */
const char *cde_js_ref_find(const struct cde_jsonschema *s, const cJSON *node);

/* True when @str is valid for the format @format (unknown formats: true). */
bool cde_js_format_ok(const char *format, const char *str);
