#pragma once
/* Hooks: the small JSON payloads Jenkins and Tekton steps post to
 * /v1/hooks/{kind}, in CDEvents vocabulary, turned into CDEvents. */

#include <cjson/cJSON.h>

#include "events/event.h"
#include "schemas/catalog.h"
#include "schemas/base/errors.h"

struct cde_sizing_named_cluster;

struct cde_hook_defaults {
	const char *source;	/* context.source when the hook gives none */
	const char *id;		/* context.id when the hook gives none (NULL: a new UUID) */
	/* The configured clusters a hook's "cluster" may name (the configuration's
	 * `clusters:`); none when @n_clusters is 0. */
	const struct cde_sizing_named_cluster *clusters;
	size_t n_clusters;
};

/* Builds the event a hook of @kind describes ("build", "test", "artifact",
 * "deploy", "pipeline", "task", "environment", "change", "incident",
 * "ticket", "repository", "branch"), as the newest spec version
 * of @cat, and validates it.
 *
 * The payload: "phase" and "subject" (the subject id) are required;
 * "source", "id", "timestamp", "chainId", "links" and "customData" are
 * optional and go to the context; "level" ("suite" or "case") chooses the
 * test type; every other field is a field of the event type's subject
 * content, by the catalog's name, and a string stands for {"id": string}
 * where the content expects a reference. Unknown fields are an error.
 *
 * A deploy hook (any phase) and a pipeline hook with phase "started" may
 * also carry "spark" ({"sparkVersion"?, "language"? (default "jvm"),
 * "conf"}, as POST /v1/sizing reads them) and "cluster" (a cluster object,
 * or the name of one of @defaults' clusters; only with spark). The sizing
 * computed from them (cde_sizing_result_to_json) goes to
 * customData.sizing, beside what the hook's own customData holds, which
 * must then be an object without a "sizing" key.
 *
 * Returns 0 and the event in *@ret; -ENOENT for an unknown kind;
 * -EINVAL with errors whose pointers name the hook's own fields; -ENOMEM. */
int cde_hook_translate(const struct cde_catalog *cat, const char *kind, const cJSON *payload,
		       const struct cde_hook_defaults *defaults, struct cde_event **ret,
		       struct cde_errors *errs);

/* The kinds cde_hook_translate knows, NULL-terminated. */
extern const char *const cde_hook_kinds[];

struct cde_sizing_input;

/* Reads a hook's "spark" object, a sizing request whose language defaults
 * to the JVM and whose cluster sits beside it (not inside), into *@ret,
 * with errors at the hook's pointers (/spark/conf/...). Shared by the
 * deploy, pipeline and pod hooks. Returns 0, -EINVAL or -ENOMEM. */
int cde_hook_read_spark(const cJSON *spark, struct cde_sizing_input *ret, struct cde_errors *errs);
