#pragma once
/* What config.c and config_tree.c share; not for the rest of the tree. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "config/config.h"

/* Value setters: parse @src (NULL: leave *@dst) or add an error at @key,
 * naming @path. Return 0 or -EINVAL. */
int cde_config_copy_bounded(char *dst, size_t size, const char *src, const char *path, const char *key,
			    struct cde_errors *errs);
int cde_config_set_size(size_t *dst, const char *src, const char *path, const char *key,
			struct cde_errors *errs);
int cde_config_set_duration(unsigned *dst, const char *src, const char *path, const char *key,
			    struct cde_errors *errs);

struct cde_json_reader;

/* A reader of the file @path as a JSON tree, at @root ("" or "/schemas"):
 * errors name the file, and YAML's null and words read as written. */
void cde_config_reader_init(struct cde_json_reader *rd, const char *root, const char *path, struct cde_errors *errs);

/* A `principals:` entry as libcyaml reads it: every value a string. */
struct raw_principal {
	char *name;
	char **scopes;
	unsigned scopes_count;
	char *token_file, *token_env, *github_secret_file;
	char **webhook_secret_files;
	unsigned webhook_secret_files_count;
	char **sources;
	unsigned sources_count;
};

/* Checks entry @i of `principals:` in @path and fills @p; @cfg holds the
 * entries before it (names are unique). Returns 0 or -EINVAL. */
int cde_config_apply_principal(const struct raw_principal *rp, size_t i, const char *path,
			       struct cde_config_principal *p, const struct cde_config *cfg,
			       struct cde_errors *errs);

/* A character allowed in names (principals, sinks, clusters). */
bool cde_config_is_name_char(char c);

/* The second pass over the @len bytes at @text, the file @path as read
 * once by cde_config_load_file: reads them as a JSON tree and applies
 * their sinks:, routes: and clusters: to @cfg. Returns 0, -EINVAL (errors
 * in @errs) or -ENOMEM. */
int cde_config_load_tree(const char *path, const char *text, size_t len, struct cde_config *cfg,
			 struct cde_errors *errs);

/* Applies the `schemas:` map of @doc (the file @path as a JSON tree) to
 * @cfg. Returns 0 or -EINVAL (errors in @errs). */
int cde_config_apply_schemas(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Applies the `storage:` map of @doc (the file @path as a JSON tree) to
 * @cfg. Returns 0 or -EINVAL (errors in @errs). */
int cde_config_apply_storage(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Applies the `dora:` map of @doc (the file @path as a JSON tree) to
 * @cfg (dora_key.c). Returns 0 or -EINVAL (errors in @errs). */
int cde_config_apply_dora(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Applies the `clusters:` map of @doc (the file @path as a JSON tree) to
 * @cfg (clusters_key.c). Returns 0, -EINVAL (errors in @errs) or -ENOMEM. */
int cde_config_apply_clusters(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Applies the `gates:` map of @doc (the file @path as a JSON tree) to
 * @cfg as compact JSON (gates_key.c). Returns 0, -EINVAL (errors in
 * @errs) or -ENOMEM. */
int cde_config_apply_tickets(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);

int cde_config_apply_gates(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs);
