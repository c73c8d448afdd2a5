#pragma once
/* Route filters: which events a route sends to its sinks. The shape is
 * Knative Eventing's Trigger filters (the "new filters"): a JSON object
 * with exactly one key,
 *
 *   {"exact":  {ATTR: VALUE, ...}}   every ATTR equals its VALUE
 *   {"prefix": {ATTR: VALUE, ...}}   every ATTR starts with its VALUE
 *   {"suffix": {ATTR: VALUE, ...}}   every ATTR ends with its VALUE
 *   {"all": [FILTER, ...]}           every FILTER matches
 *   {"any": [FILTER, ...]}           at least one FILTER matches
 *   {"not": FILTER}                  FILTER does not match
 *
 * ATTR is "type", "source", "subject", "id", "chainId" (the CDEvent's
 * context.type, context.source, subject.id, context.id, context.chainId)
 * or a JSON pointer into the CDEvent ("/customData/sizing/fits"). VALUE
 * is a string, number or boolean; an attribute is compared by its text,
 * so "false" and false both match a boolean false, "42" and 42 the
 * number 42. An attribute that is missing, or an object or an array,
 * never matches. An exact type may leave out the version:
 * "dev.cdevents.service.deployed" matches every
 * "dev.cdevents.service.deployed.<digit>...".
 *
 * A compiled filter is immutable, so one can be matched from several
 * threads at once. */

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

/* Bounds on what one filter may cost per event. */
#define CDE_FILTER_DEPTH_MAX 16		/* filters nested in one another */
#define CDE_FILTER_NODES_MAX 256	/* filters and attribute tests in all */

struct cde_filter;

/* Compiles the filter @spec into a new filter stored in *@ret (free with
 * cde_filter_free). A NULL @spec is "no filter": *@ret = NULL. Each
 * mistake is added to @errs at @pointer_prefix (where the caller found
 * @spec, e.g. "/routes/2/filter"; NULL is "") followed by the mistake's
 * own path, e.g. "/routes/2/filter/all/1/exact/colour". @spec is not
 * kept. Returns 0, -EINVAL (with @errs), or -ENOMEM; on failure *@ret is
 * untouched. */
int cde_filter_compile(const cJSON *spec, const char *pointer_prefix, struct cde_filter **ret,
		       struct cde_errors *errs);

/* Like cde_filter_compile, from JSON text (what cde_route_options.filter
 * holds). NULL or "" is "no filter": *@ret = NULL and 0. Text that is not
 * one JSON document is an error at @pointer_prefix. */
int cde_filter_compile_text(const char *json, const char *pointer_prefix, struct cde_filter **ret,
			    struct cde_errors *errs);

/* True when @event (a CDEvent document: {"context": ..., "subject": ...,
 * "customData": ...}) passes @f. A NULL @f matches every event. */
bool cde_filter_match(const struct cde_filter *f, const cJSON *event);

/* Frees @f; accepts NULL. Returns NULL. */
struct cde_filter *cde_filter_free(struct cde_filter *f);
