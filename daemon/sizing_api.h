#pragma once
/* POST /v1/sizing: what Spark's Kubernetes backend will request for a job,
 * and how it fits a cluster. A computation only: nothing is stored or
 * emitted. */

#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "sizing/sizing.h"

/* Reads the sizing request in @body (@len bytes of strict JSON, see
 * sizing/parse.c; its "cluster" may also name one of the @n_clusters
 * configured @clusters) and computes it.
 * Returns 0 and the result (cde_sizing_result_to_json) in *@ret, which the
 * caller frees; -EINVAL with every problem in @errs, each at its JSON
 * pointer; -ENOMEM. */
int cde_sizing_api_compute(const char *body, size_t len, const struct cde_sizing_named_cluster *clusters,
			   size_t n_clusters, cJSON **ret, struct cde_errors *errs);
