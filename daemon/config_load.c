/* The configuration file as the daemon loads it. config/ reads the file
 * and depends on nothing above the base layer, so what needs a layer above
 * it is checked here, with the same "FILE: /key: reason" errors: a route's
 * filter and a named cluster are kept by config/ as JSON text; the filter
 * is compiled here the way the delivery engine will compile it, and the
 * cluster read by sizing's parser, the one requests go through. */

#include "daemon/config_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sinks/filter.h"

static void add_errors_of(const char *path, const struct cde_errors *from, struct cde_errors *errs);

static int check_filters(const char *path, const struct cde_config *cfg, struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		struct cde_errors filter_errs;
		struct cde_filter *f = NULL;
		char at[48];
		int e;

		if (!cfg->routes[i].filter[0])
			continue; /* every event */
		snprintf(at, sizeof(at), "/routes/%zu/filter", i);
		cde_errors_reset(&filter_errs);
		e = cde_filter_compile_text(cfg->routes[i].filter, at, &f, &filter_errs);
		f = cde_filter_free(f);
		if (e == -ENOMEM)
			return e;
		if (e < 0) {
			add_errors_of(path, &filter_errs, errs);
			r = -EINVAL;
		}
	}
	return r;
}

/* Copies @from's errors into @errs, each prefixed with the file @path. */
static void add_errors_of(const char *path, const struct cde_errors *from, struct cde_errors *errs)
{
	for (size_t k = 0; k < from->count; k++) {
		if (path)
			cde_errors_add(errs, from->items[k].pointer, "%s: %s: %s", path, from->items[k].pointer,
				       from->items[k].reason);
		else
			cde_errors_add(errs, from->items[k].pointer, "%s: %s", from->items[k].pointer,
				       from->items[k].reason);
	}
	errs->dropped += from->dropped;
}

int cde_daemon_clusters_read(const struct cde_config *cfg, const char *path, struct cde_sizing_named_cluster *out,
			     struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_clusters; i++) {
		struct cde_errors cluster_errs;
		cJSON *spec = cJSON_Parse(cfg->clusters[i].spec);
		char at[CDE_CONFIG_NAME_MAX + 16];
		int e;

		if (!spec)
			return -ENOMEM; /* config/ wrote it: it is JSON */
		snprintf(out[i].name, sizeof(out[i].name), "%s", cfg->clusters[i].name);
		snprintf(at, sizeof(at), "/clusters/%s", cfg->clusters[i].name);
		cde_errors_reset(&cluster_errs);
		e = cde_sizing_cluster_parse(spec, at, &out[i].cluster, &cluster_errs);
		cJSON_Delete(spec);
		if (e == -ENOMEM)
			return e;
		if (e < 0) {
			add_errors_of(path, &cluster_errs, errs);
			r = -EINVAL;
		}
	}
	return r;
}

int cde_daemon_config_load(const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	/* Built aside (it is large), so that a file with an error changes
	 * nothing. */
	struct cde_config *next = malloc(sizeof(*next));
	struct cde_sizing_named_cluster *clusters = calloc(CDE_CONFIG_CLUSTERS_MAX, sizeof(*clusters));
	int r = -ENOMEM;

	if (next && clusters) {
		*next = *cfg;
		r = cde_config_load_file(path, next, errs);
		if (r == 0)
			r = check_filters(path, next, errs);
		if (r == 0)
			r = cde_daemon_clusters_read(next, path, clusters, errs);
		if (r == 0)
			*cfg = *next;
	}
	free(clusters);
	free(next);
	return r;
}
