#pragma once
/* Shared between the catalog's loader and its lookups; not exported. */

#include "schemas/base/arena.h"
#include "schemas/catalog.h"

/* Parses the catalog file @path into @spec, allocating from @arena.
 * Returns 0 or -errno with the reason in @errs. */
int cde_catalog_parse_file(struct cde_arena *arena, const char *path, struct cde_spec *spec,
			   struct cde_errors *errs);
