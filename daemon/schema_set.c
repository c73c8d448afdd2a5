/* Loads the `schemas:` directories into one JSON Schema registry, lists
 * what it holds and checks an event against the schema its schemaUri
 * names. A file is refused whole rather than skipped: a schema a user
 * wrote and that silently does not apply would let events through. */

#include "daemon/schema_set.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/read_file.h"
#include "schemas/jsonschema/jsonschema.h"

#define SCHEMA_FILE_MAX (4u << 20)

struct schema_entry {
	char *id;
	char *file;
	const cJSON *root;
};

struct cde_schema_set {
	struct cde_jsonschema *registry;
	size_t n, cap;
	struct schema_entry *entries;
};

struct cde_schema_set *cde_schema_set_free(struct cde_schema_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		free(s->entries[i].id);
		free(s->entries[i].file);
	}
	free(s->entries);
	cde_jsonschema_free(s->registry);
	free(s);
	return NULL;
}

/* Copies @from's errors into @errs as "FILE: POINTER: reason". */
static void add_file_errors(const char *file, const struct cde_errors *from, struct cde_errors *errs)
{
	for (size_t i = 0; i < from->count; i++)
		cde_errors_add(errs, from->items[i].pointer, "%s: %s: %s", file, from->items[i].pointer,
			       from->items[i].reason);
	errs->dropped += from->dropped;
}

static int add_entry(struct cde_schema_set *s, const char *file, const cJSON *root, const char *id)
{
	struct schema_entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct schema_entry *grown = realloc(s->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->entries = grown;
		s->cap = cap;
	}
	e = &s->entries[s->n];
	e->id = strdup(id);
	e->file = strdup(file);
	e->root = root;
	if (!e->id || !e->file) {
		free(e->id);
		free(e->file);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

/* Adds the schema file @file; its $id must be absolute, so that the URI
 * an event names is the one the file declares. */
static int load_file(struct cde_schema_set *s, const char *file, struct cde_errors *errs)
{
	struct cde_errors file_errs;
	const cJSON *root = NULL, *id;
	char *buf = NULL;
	size_t len;
	int r = cde_read_file(file, SCHEMA_FILE_MAX, &buf, &len);

	if (r < 0) {
		cde_errors_add(errs, "", "%s: %s", file, r == -EFBIG ? "larger than 4 MiB" : strerror(-r));
		return r;
	}
	cde_errors_reset(&file_errs);
	r = cde_jsonschema_add(s->registry, buf, len, NULL, &root, &file_errs);
	free(buf);
	if (r < 0) {
		add_file_errors(file, &file_errs, errs);
		return r;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "$id");
	if (!cJSON_IsString(id) || !strchr(id->valuestring, ':') || cde_jsonschema_lookup(s->registry, id->valuestring) != root) {
		cde_errors_add(errs, "/$id", "%s: /$id: must be an absolute URI: an event's schemaUri names a schema by it", file);
		return -EINVAL;
	}
	return add_entry(s, file, root, id->valuestring);
}

static int is_json_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static int load_dir(struct cde_schema_set *s, const char *dir, struct cde_errors *errs)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_json_name, alphasort), r = 0;

	if (n < 0) {
		r = -errno;
		cde_errors_add(errs, "", "%s: %s", dir, strerror(-r));
		return r;
	}
	for (int i = 0; i < n; i++) {
		char file[4096];

		if (r == 0) {
			snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name);
			r = load_file(s, file, errs);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int cde_schema_set_load(const char *const *dirs, size_t n, struct cde_schema_set **ret, struct cde_errors *errs)
{
	struct cde_schema_set *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (s && (s->registry = cde_jsonschema_new()) != NULL) {
		r = 0;
		for (size_t i = 0; i < n && r == 0; i++)
			r = load_dir(s, dirs[i], errs);
		/* A $ref may point at a file loaded after it: checked once all are in. */
		for (size_t i = 0; i < s->n && r == 0; i++) {
			struct cde_errors ref_errs;

			cde_errors_reset(&ref_errs);
			r = cde_jsonschema_check_refs(s->registry, s->entries[i].root, &ref_errs);
			if (r < 0)
				add_file_errors(s->entries[i].file, &ref_errs, errs);
		}
	}
	if (r < 0)
		s = cde_schema_set_free(s);
	*ret = s;
	return r;
}

cJSON *cde_schema_set_list_json(const struct cde_schema_set *s)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list && s && i < s->n; i++) {
		cJSON *item = cJSON_CreateObject();

		if (!item || !cJSON_AddItemToArray(list, item) || !cJSON_AddStringToObject(item, "id", s->entries[i].id) ||
		    !cJSON_AddStringToObject(item, "file", s->entries[i].file)) {
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

int cde_schema_set_check(const struct cde_schema_set *s, bool accept_unknown, const cJSON *event,
			 struct cde_errors *errs)
{
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(event, "context");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(ctx, "schemaUri");
	const cJSON *schema;
	struct cde_errors found;

	if (!cJSON_IsString(uri))
		return 0; /* absent; its type is the CDEvents schema's to check */
	schema = s ? cde_jsonschema_lookup(s->registry, uri->valuestring) : NULL;
	if (!schema) {
		if (accept_unknown)
			return 0;
		cde_errors_add(errs, "/context/schemaUri", "schemaUri %s is not loaded: add it under schemas.dirs, "
			       "or set schemas.unknown_schema_uri: accept", uri->valuestring);
		return -EINVAL;
	}
	cde_errors_reset(&found);
	if (cde_jsonschema_validate(s->registry, schema, event, CDE_JSONSCHEMA_FORMAT_ASSERT, &found) == 0)
		return 0;
	for (size_t i = 0; i < found.count; i++)
		cde_errors_add(errs, found.items[i].pointer, "schema %s: %s", uri->valuestring, found.items[i].reason);
	errs->dropped += found.dropped;
	return -EINVAL;
}
