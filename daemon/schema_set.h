#pragma once
/* The JSON Schemas an event's context.schemaUri may name: every *.json of
 * the configured directories, loaded into one registry by $id, and the
 * check an event gets against the one it names (issue 13, item 5). The
 * daemon and `cdevctl validate --schemas` share it; it never logs. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

struct cde_schema_set;

/* Loads every *.json file of the @n directories @dirs (in name order)
 * into a new set. Refused, with "FILE: POINTER: reason" errors: a file
 * that is not a schema the validator takes, one without an absolute $id,
 * an $id given twice, a $ref that resolves nowhere. Returns 0, -EINVAL,
 * -ENOMEM or another -errno (a directory that cannot be read). */
int cde_schema_set_load(const char *const *dirs, size_t n, struct cde_schema_set **ret, struct cde_errors *errs);

/* Frees @s; accepts NULL, returns NULL. */
struct cde_schema_set *cde_schema_set_free(struct cde_schema_set *s);

/* [{"id": ..., "file": ...}] of the loaded schemas; NULL when out of memory. */
cJSON *cde_schema_set_list_json(const struct cde_schema_set *s);

/* Checks @event (a CDEvent already valid against its CDEvents schema)
 * against the schema its context.schemaUri names in @s (NULL: an empty
 * set). No schemaUri: 0. A schemaUri not loaded: 0 when @accept_unknown,
 * else an error at /context/schemaUri. Violations carry the instance
 * pointer, their reason prefixed with the schema's $id. Returns 0,
 * -EINVAL. */
int cde_schema_set_check(const struct cde_schema_set *s, bool accept_unknown, const cJSON *event,
			 struct cde_errors *errs);
