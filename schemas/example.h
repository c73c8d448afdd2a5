#pragma once
/* Minimal example values built from catalog nodes. */

#include <cjson/cJSON.h>

#include "schemas/catalog.h"

/* Returns a new JSON value that @node accepts, with required fields only:
 * the first enum value, a well-formed string for each format, an empty
 * array, the first alternative. Slots give null. NULL when out of memory. */
cJSON *cde_node_example(const struct cde_node *node);
