#pragma once
/* A YAML text as a JSON tree, for the parts of the configuration whose
 * keys are not known in advance (sink headers, route filters, cluster
 * names). */

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

#define CDE_YAML_DEPTH_MAX 32		/* mappings and sequences nested */
#define CDE_YAML_NODES_MAX 10000	/* scalars (keys too), mappings, sequences */

/* Reads the one YAML document in the @len bytes at @text (the file @path,
 * which the loader reads once; @path only names it in errors) into a new
 * cJSON tree in *@ret (caller frees with cJSON_Delete): mappings become objects,
 * sequences arrays, quoted scalars strings. A plain scalar is resolved
 * the YAML core way: true/false (also True, TRUE...) a boolean, null, ~ or
 * nothing null, a decimal integer without leading zeros (and within
 * +/-2^53, where a double is exact) a number, anything else a string.
 * An empty file is a JSON null.
 *
 * Refused, with one error at pointer "" whose reason is "FILE:LINE: ...":
 * YAML syntax errors, a key given twice in one mapping, a key that is not
 * a scalar, aliases, tags other than !!str, a NUL character in a scalar,
 * more than one document, nesting deeper than CDE_YAML_DEPTH_MAX and more
 * than CDE_YAML_NODES_MAX nodes.
 *
 * Returns 0, -EINVAL or -ENOMEM; on failure *@ret is untouched. */
int cde_yaml_to_json(const char *path, const char *text, size_t len, cJSON **ret, struct cde_errors *errs);
