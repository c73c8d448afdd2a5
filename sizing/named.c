/* Named clusters: the `clusters:` of the configuration, so that a sizing
 * request, a deploy hook or a pod hook can say "cluster": "prod-gke"
 * instead of describing the node pool. Sizing's, not the configuration's:
 * the hooks that use them must not depend on the configuration. */

#include "sizing/sizing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cde_sizing_cluster_resolve(const cJSON *v, const char *at, const struct cde_sizing_named_cluster *clusters,
			       size_t n, struct cde_sizing_cluster *ret, struct cde_errors *errs)
{
	char known[256];
	size_t off = 0;

	if (!cJSON_IsString(v))
		return cde_sizing_cluster_parse(v, at, ret, errs);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(clusters[i].name, v->valuestring) == 0) {
			*ret = clusters[i].cluster;
			return 0;
		}
	}
	/* The names help whoever typed one wrong; they are not secrets. */
	known[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(known); i++) {
		int w = snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "", clusters[i].name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (n)
		cde_errors_add(errs, at, "no cluster named \"%.64s\" in the configuration (clusters: %s)",
			       v->valuestring, known);
	else
		cde_errors_add(errs, at, "no cluster named \"%.64s\": the configuration has no clusters "
			       "(give the cluster as an object)", v->valuestring);
	return -EINVAL;
}
