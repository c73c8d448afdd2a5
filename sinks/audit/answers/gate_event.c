/* A gate's decision as the event the log keeps of it: a custom CDEvent
 * (dev.cdeventsx.cdeventsd-gate.decided) in the artifact's chain, so the
 * chain of a release shows who asked to promote it where, when, and
 * what the answer rested on. Its shape is the schema shipped in
 * schemas/custom/, which the integration test checks with ajv. */

#include "sinks/audit/answers/gate.h"

#include <stdbool.h>
#include <stdio.h>

static bool add_copy(cJSON *to, const char *name, const cJSON *from)
{
	cJSON *copy = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(from, name), true);

	if (!copy || !cJSON_AddItemToObject(to, name, copy)) {
		cJSON_Delete(copy);
		return false;
	}
	return true;
}

cJSON *cde_gate_decision_event(const cJSON *result, const char *principal, const char *id, const char *source,
			       const char *timestamp)
{
	const char *env = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "environment"));
	const char *artifact = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "artifact"));
	const char *decision = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "decision"));
	const char *chain = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "chainId"));
	cJSON *ev = cJSON_CreateObject(), *ctx, *subject, *content, *environment;
	char subject_id[CDE_GATE_ENV_MAX + 8];
	bool ok;

	if (!env || !artifact || !decision) {
		cJSON_Delete(ev);
		return NULL;
	}
	snprintf(subject_id, sizeof(subject_id), "gates/%s", env);
	ok = ev && (ctx = cJSON_AddObjectToObject(ev, "context")) &&
	     cJSON_AddStringToObject(ctx, "specversion", "0.5.1") && cJSON_AddStringToObject(ctx, "id", id) &&
	     cJSON_AddStringToObject(ctx, "source", source) &&
	     cJSON_AddStringToObject(ctx, "type", CDE_GATE_DECIDED_TYPE) &&
	     cJSON_AddStringToObject(ctx, "timestamp", timestamp) &&
	     (!chain || cJSON_AddStringToObject(ctx, "chainId", chain)) &&
	     cJSON_AddStringToObject(ctx, "schemaUri", CDE_GATE_DECIDED_SCHEMA) &&
	     (subject = cJSON_AddObjectToObject(ev, "subject")) && cJSON_AddStringToObject(subject, "id", subject_id) &&
	     (content = cJSON_AddObjectToObject(subject, "content")) &&
	     (environment = cJSON_AddObjectToObject(content, "environment")) &&
	     cJSON_AddStringToObject(environment, "id", env) && cJSON_AddStringToObject(content, "artifactId", artifact) &&
	     cJSON_AddStringToObject(content, "decision", decision) &&
	     cJSON_AddStringToObject(content, "principal", principal) && add_copy(content, "requirements", result);
	if (!ok) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}
