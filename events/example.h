#pragma once
/* The smallest valid event of a type. */

#include "events/event.h"

/* Builds a new event of @type (of @spec) whose subject holds the required
 * fields only, with example values from the catalog. Returns 0 and the
 * event in *@ret, or -errno. */
int cde_event_new_example(const struct cde_spec *spec, const struct cde_event_type *type,
			  const char *source, const char *subject_id, struct cde_event **ret);
