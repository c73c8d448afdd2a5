/* The `clusters:` map: node pools a sizing request or a hook names
 * ("cluster": "prod-gke"), each kept as the compact JSON of its
 * description for sizing/ to read with the request's own parser. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

/* clusters:, a map from names to cluster descriptions as a sizing
 * request gives them ({provider, nodeCpu, nodeMemory, ...}), kept as
 * text for sizing/ to read (daemon/config_load.c). The map's keys are
 * the names, so the YAML reader already refuses one given twice. */
static int apply_cluster(const cJSON *item, size_t i, struct cde_config *cfg,
			 struct cde_json_reader *rd)
{
	struct cde_config_cluster *c = &cfg->clusters[i];
	const char *name = item->string;
	char *text;
	int r = 0;

	memset(c, 0, sizeof(*c));
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		      strlen(name))
		return cde_json_reader_fail(rd, NULL, "\"%s\" is not a cluster name: use letters, digits, "
					    "'-', '_' and '.'", name);
	if (cde_config_copy_bounded(c->name, sizeof(c->name), name, rd->file, cde_ptr_str(&rd->p),
				    rd->errs) < 0)
		return -EINVAL;
	/* "an object", not the file's "a map": a cluster is the JSON object
	 * a sizing request takes, and the reason says so. */
	if (!cJSON_IsObject(item))
		return cde_json_reader_fail(rd, NULL, "must be an object: a cluster ({provider, nodeCpu, "
					    "nodeMemory, ...})");
	text = cJSON_PrintUnformatted(item);
	if (!text)
		return -ENOMEM;
	if (strlen(text) >= sizeof(c->spec))
		r = cde_json_reader_fail(rd, NULL, "longer than %zu characters as JSON", sizeof(c->spec) - 1);
	else
		memcpy(c->spec, text, strlen(text) + 1);
	cJSON_free(text);
	return r;
}

int cde_config_apply_clusters(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(doc, "clusters"), *item;
	struct cde_json_reader reader;
	size_t mark, i = 0;
	int r = 0;

	if (!clusters)
		return 0;
	/* A file that names clusters replaces them as a whole, like sinks. */
	cfg->n_clusters = 0;
	cde_config_reader_init(&reader, "", path, errs);
	mark = cde_ptr_push(&reader.p, "clusters");
	if (cJSON_IsNull(clusters)) {
		r = 0;		/* "clusters:" with everything under it commented out */
	} else if (!cde_json_read_value(&reader, clusters, cJSON_Object, 0, " from cluster names to "
					"clusters ({provider, nodeCpu, nodeMemory, ...})")) {
		r = -EINVAL;
	} else if (cJSON_GetArraySize(clusters) > CDE_CONFIG_CLUSTERS_MAX) {
		r = cde_json_reader_fail(&reader, NULL, "more than %d clusters", CDE_CONFIG_CLUSTERS_MAX);
	} else {
		cJSON_ArrayForEach(item, clusters) {
			size_t at = cde_ptr_push(&reader.p, item->string);

			int e = apply_cluster(item, i, cfg, &reader);

			if (e == -ENOMEM)
				return e;
			r |= e;
			cfg->n_clusters = ++i;
			cde_ptr_pop(&reader.p, at);
		}
	}
	cde_ptr_pop(&reader.p, mark);
	return r ? -EINVAL : 0;
}
