#pragma once
/* Length limits of the fields that name things in an event. Every buffer
 * that holds one of these values is sized from here, so that nothing at
 * or below a limit is ever cut. */

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

/* Ids, names and chain ids: context.id, context.chainId, subject.id,
 * artifactId, a referenced subject's id, pipelineName, links' contextId... */
#define CDE_EVENT_ID_MAX 512
/* Sources (URI-references): context.source, subject.source. */
#define CDE_EVENT_SOURCE_MAX 1024

/* Adds an error for each field of @doc's context and subject (customData
 * is the sender's own) longer than its limit, in bytes: members named
 * "source" or ending in "Source" at most CDE_EVENT_SOURCE_MAX; "id",
 * "name" and members ending in "Id" or "Name" at most CDE_EVENT_ID_MAX.
 * Returns 0, or -EINVAL when it added any. */
int cde_event_check_lengths(const cJSON *doc, struct cde_errors *errs);
