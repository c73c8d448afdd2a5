#pragma once
/* Validation of a parsed CDEvent against the catalog of its own version. */

#include <cjson/cJSON.h>

#include "schemas/catalog.h"
#include "schemas/base/errors.h"

/* Checks @doc against the spec version named in its context (specversion,
 * or version for v0.4 and older) with every structural rule the official
 * schemas express: required fields, JSON types, closed objects, enums,
 * minLength, formats, patterns, links, customData. Types in dev.cdeventsx.*
 * get the release's custom event shape (its custom/schema.json), or an
 * error when the release has none; other unknown types are an error, and
 * their subject is not checked (its shape depends on the type).
 *
 * Returns 0 when valid, -EINVAL with each problem as a JSON pointer and a
 * reason in @errs otherwise. When the version was recognized, *@ret_spec
 * (if not NULL) is set to it either way. */
int cde_validate(const struct cde_catalog *cat, const cJSON *doc, const struct cde_spec **ret_spec,
		 struct cde_errors *errs);

/* Checks @value against one catalog @node; pointers in @errs start at
 * @base. Slots ($context, $subject, $eventType) accept anything. For
 * validating parts of documents (hook payloads) against catalog shapes.
 * Returns 0 or -EINVAL. */
int cde_validate_node(const struct cde_node *node, const cJSON *value, const char *base,
		      struct cde_errors *errs);
