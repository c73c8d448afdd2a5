#pragma once
/* A JSON Schema draft 2020-12 validator: a registry of schema documents
 * indexed by $id and $anchor, and validation of an instance against one of
 * them. Keywords it does not implement are refused when a schema is loaded,
 * never ignored, so a schema it accepts means what it says. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

struct cde_jsonschema;

/* The one $schema value accepted (draft 2020-12 with all its vocabularies). */
#define CDE_JSONSCHEMA_DIALECT "https://json-schema.org/draft/2020-12/schema"

/* Options of cde_jsonschema_validate. */
enum {
	/* Make `format` assert date-time, uri, uri-reference and email (by
	 * default, as draft 2020-12 says, format is an annotation only). */
	CDE_JSONSCHEMA_FORMAT_ASSERT = 1u << 0,
};

/* Returns an empty registry, or NULL when out of memory. */
struct cde_jsonschema *cde_jsonschema_new(void);

/* Frees @s and every document in it; accepts NULL, returns NULL. */
struct cde_jsonschema *cde_jsonschema_free(struct cde_jsonschema *s);

/* Parses @len bytes of @buf (cde_json_parse) and adds the document as
 * cde_jsonschema_add_doc does. */
int cde_jsonschema_add(struct cde_jsonschema *s, const char *buf, size_t len, const char *base_uri,
	const cJSON **ret_root, struct cde_errors *errs);

/* Adds the schema document @doc, retrieved from the absolute URI @base_uri
 * (NULL: a URI private to this registry), taking it on success only. Its
 * $id, $anchor and $ref are resolved against that base. Refused, with the
 * schema pointer in @errs: an unsupported keyword, a keyword with a value
 * of the wrong kind, a pattern <regex.h> cannot compile, a second schema
 * for one URI. $ref targets are looked up when validating (a document may
 * point at one added after it); cde_jsonschema_check_refs finds the ones
 * that do not resolve. Stores the root in *@ret_root (may be NULL).
 * Returns 0, -EINVAL or -ENOMEM. */
int cde_jsonschema_add_doc(struct cde_jsonschema *s, cJSON *doc, const char *base_uri,
	const cJSON **ret_root, struct cde_errors *errs);

/* Checks that every $ref of the document whose root is @root resolves in
 * @s. Returns 0, or -ENOENT with the $ref's schema pointer in @errs. */
int cde_jsonschema_check_refs(const struct cde_jsonschema *s, const cJSON *root, struct cde_errors *errs);

/* The schema the absolute URI @uri (with an optional fragment: a JSON
 * pointer or an anchor) names in @s, or NULL. */
const cJSON *cde_jsonschema_lookup(const struct cde_jsonschema *s, const char *uri);

/* Validates @instance against @schema (a root or subschema of a document
 * in @s), with CDE_JSONSCHEMA_* @flags. Returns 0 when valid, -EINVAL with
 * errors in @errs (the pointer is the instance location); validating
 * allocates nothing. */
int cde_jsonschema_validate(const struct cde_jsonschema *s, const cJSON *schema, const cJSON *instance,
	unsigned flags, struct cde_errors *errs);
