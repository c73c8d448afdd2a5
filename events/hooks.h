#pragma once
/* Hooks: the small JSON payloads Jenkins and Tekton steps post to
 * /v1/hooks/{kind}, in CDEvents vocabulary, turned into CDEvents. */

#include <cjson/cJSON.h>

#include "events/event.h"
#include "schemas/catalog.h"
#include "schemas/errors.h"

struct cde_hook_defaults {
	const char *source;	/* context.source when the hook gives none */
};

/* Builds the event a hook of @kind describes ("build", "test", "artifact",
 * "deploy", "pipeline", "task", "environment"), as the newest spec version
 * of @cat, and validates it.
 *
 * The payload: "phase" and "subject" (the subject id) are required;
 * "source", "id", "timestamp", "chainId", "links" and "customData" are
 * optional and go to the context; "level" ("suite" or "case") chooses the
 * test type; every other field is a field of the event type's subject
 * content, by the catalog's name, and a string stands for {"id": string}
 * where the content expects a reference. Unknown fields are an error.
 *
 * Returns 0 and the event in *@ret; -ENOENT for an unknown kind;
 * -EINVAL with errors whose pointers name the hook's own fields; -ENOMEM. */
int cde_hook_translate(const struct cde_catalog *cat, const char *kind, const cJSON *payload,
		       const struct cde_hook_defaults *defaults, struct cde_event **ret,
		       struct cde_errors *errs);

/* The kinds cde_hook_translate knows, NULL-terminated. */
extern const char *const cde_hook_kinds[];
