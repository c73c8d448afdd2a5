#pragma once
/* Shared between the catalog's loader (catalog_file.c: the file,
 * catalog_load.c: its nodes) and its lookups; not exported. */

#include <stdarg.h>

#include <cjson/cJSON.h>

#include "schemas/base/arena.h"
#include "schemas/base/json_pointer.h"
#include "schemas/catalog.h"

/* Parses the catalog file @path into @spec, allocating from @arena.
 * Returns 0 or -errno with the reason in @errs. */
int cde_catalog_parse_file(struct cde_arena *arena, const char *path, struct cde_spec *spec,
			   struct cde_errors *errs);

/* A definition under "defs", built on first use. */
struct cde_def_slot {
	const cJSON *json;
	const struct cde_node *node;
	bool building;
};

/* One catalog file being read: where errors go and where the reader is. */
struct cde_loader {
	struct cde_arena *arena;
	const char *file;
	struct cde_errors *errs;
	struct cde_ptr ptr;
	const cJSON *defs_json;
	struct cde_def_slot *defs;
	size_t n_defs;
	int error;		/* first -errno seen */
};

/* Records the first error of @l (@error, -errno) and adds the reason at
 * the loader's pointer, with the file name in front. */
void cde_loader_fail(struct cde_loader *l, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The node @j describes, built in the arena; NULL after a failure. */
const struct cde_node *cde_loader_parse_node(struct cde_loader *l, const cJSON *j);

/* The same for the member @key of the document, with the pointer on it. */
const struct cde_node *cde_loader_parse_member(struct cde_loader *l, const char *key,
					       const cJSON *j);

/* The definition @name (without "@"), built on first use. */
const struct cde_node *cde_loader_resolve_def(struct cde_loader *l, const char *name);

/* The first member of @obj whose key is not in @keys, or NULL. */
const cJSON *cde_loader_unknown_key(const cJSON *obj, const char *const *keys, size_t n_keys);
