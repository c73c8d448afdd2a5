/* The `schemas:` map: {dirs: [DIR...], unknown_schema_uri: refuse|accept}.
 * config/ keeps the directories as strings; daemon/ loads the schema files
 * (config/ may not depend on the JSON Schema validator). */

#include <errno.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

static int apply_dirs(const cJSON *dirs, struct cde_config *cfg, struct cde_json_reader *rd)
{
	size_t mark = cde_ptr_push(&rd->p, "dirs");
	int r = 0;

	if (!cde_json_read_value(rd, dirs, cJSON_Array, 0, " of directories")) {
		r = -EINVAL;
	} else if (cJSON_GetArraySize(dirs) > CDE_CONFIG_SCHEMA_DIRS_MAX) {
		r = cde_json_reader_fail(rd, NULL, "more than %d directories", CDE_CONFIG_SCHEMA_DIRS_MAX);
	} else {
		for (int i = 0; i < cJSON_GetArraySize(dirs); i++) {
			size_t at = cde_ptr_push_index(&rd->p, (size_t)i);
			const cJSON *d = cde_json_read_value(rd, cJSON_GetArrayItem(dirs, i), cJSON_String,
							     CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY, " (a directory)");

			if (!d || cde_config_copy_bounded(cfg->schema_dirs[i], sizeof(cfg->schema_dirs[i]),
							  d->valuestring, rd->file, cde_ptr_str(&rd->p),
							  rd->errs) < 0)
				r = -EINVAL;
			else
				cfg->n_schema_dirs = (size_t)i + 1;
			cde_ptr_pop(&rd->p, at);
		}
	}
	cde_ptr_pop(&rd->p, mark);
	return r;
}

int cde_config_apply_schemas(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(doc, "schemas"), *item;
	struct cde_json_reader rd;
	int r = 0;

	if (!schemas)
		return 0;
	/* A file that names schemas: replaces the setting as a whole. */
	cfg->n_schema_dirs = 0;
	cfg->schemas_accept_unknown = false;
	cde_config_reader_init(&rd, "/schemas", path, errs);
	if (cJSON_IsNull(schemas))
		return 0;
	if (!cde_json_read_value(&rd, schemas, cJSON_Object, 0, " ({dirs: [DIR...], unknown_schema_uri})"))
		return -EINVAL;
	cJSON_ArrayForEach(item, schemas) {
		if (strcmp(item->string, "dirs") == 0) {
			r |= apply_dirs(item, cfg, &rd);
		} else if (strcmp(item->string, "unknown_schema_uri") == 0) {
			if (cJSON_IsString(item) && strcmp(item->valuestring, "accept") == 0)
				cfg->schemas_accept_unknown = true;
			else if (!cJSON_IsString(item) || strcmp(item->valuestring, "refuse") != 0)
				r |= cde_json_reader_fail(&rd, item->string, "must be refuse or accept");
		} else {
			r |= cde_json_reader_fail(&rd, item->string, "unknown key for schemas (dirs, unknown_schema_uri)");
		}
	}
	return r ? -EINVAL : 0;
}
