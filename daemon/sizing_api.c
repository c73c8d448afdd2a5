/* The body of POST /v1/sizing, from request text to result JSON. The HTTP
 * side (method, media type, authorization, the one reply) stays with the
 * other routes in api.c; this file only reads and computes, so it can be
 * tested without a server. A request's "cluster" may be the name of a
 * configured cluster, which the pure sizing parser knows nothing about:
 * it is taken out of the request and resolved against the configuration
 * here, with the same pointer (/cluster) either way. */

#include "daemon/sizing_api.h"

#include <errno.h>

#include "schemas/base/json_strict.h"
#include "sizing/sizing.h"

int cde_sizing_api_compute(const char *body, size_t len, const struct cde_sizing_named_cluster *clusters,
			   size_t n_clusters, cJSON **ret, struct cde_errors *errs)
{
	struct cde_sizing_input in;
	struct cde_sizing_cluster c;
	struct cde_sizing_result res;
	cJSON *req = NULL, *cluster = NULL, *out;
	bool parsed, has_cluster = false, resolved = false;
	int r;

	r = cde_json_parse(body, len, &req, errs);
	if (r < 0)
		return r;
	if (cJSON_IsObject(req))
		cluster = cJSON_DetachItemFromObjectCaseSensitive(req, "cluster");
	has_cluster = cluster != NULL;
	parsed = cde_sizing_input_parse(req, &in, errs) == 0;
	if (cluster)
		resolved = cde_sizing_cluster_resolve(cluster, "/cluster", clusters, n_clusters, &c,
						      errs) == 0;
	cJSON_Delete(cluster);
	cJSON_Delete(req);
	if (!parsed || (has_cluster && !resolved))
		return -EINVAL;
	if (has_cluster) {
		in.cluster = c;
		in.has_cluster = true;
	}
	cde_sizing_compute(&in, &res);
	out = cde_sizing_result_to_json(&res);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}
