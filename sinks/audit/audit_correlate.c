/* Chain correlation: which release an event without a chainId belongs
 * to, looked up in the log inside the writer's transaction. (Issue 12
 * makes this a pure function in events/ that the store calls.) */

#include "sinks/audit/audit_correlate.h"

#include <stdio.h>
#include <string.h>

#include "events/ids.h"
#include "events/limits.h"

/* The artifact an event is about, for "everything that happened to
 * artifact X": an artifact event's subject, or the artifactId field of
 * builds, deployments and incidents. */
const char *cde_audit_artifact_of(const struct cde_event *ev)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(content, "artifactId");
	const char *type = cde_event_type(ev);

	if (cJSON_IsString(a) && a->valuestring[0])
		return a->valuestring;
	if (type && strncmp(type, "dev.cdevents.artifact.", 22) == 0)
		return cde_event_subject_id(ev);
	return NULL;
}

/* Runs @st (already bound) and copies its first text column into @out;
 * returns true when there was a row. */
static bool first_text(sqlite3_stmt *st, char *out, size_t size)
{
	bool found = false;

	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
		found = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

static bool chain_of(sqlite3_stmt *st, const char *key, char *out, size_t size)
{
	if (!key)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return first_text(st, out, size);
}

/* The pipeline run a task run belongs to (subject.content.pipelineRun.id). */
static const char *pipeline_run_of(const struct cde_event *ev)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(content, "pipelineRun");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");

	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* Gives an event without a chainId the chain it belongs to, found in this
 * order: the pipeline run a task run names; the artifact it is about
 * (build.finished -> artifact.* -> service.deployed share an artifact
 * id); its own subject (queued -> started -> finished). Without any, it
 * starts a new chain. It then gets a PATH link from the chain's latest
 * event, so a consumer can rebuild the graph from the events alone.
 * Runs inside the transaction: events earlier in the same group count. */
int cde_audit_correlate(sqlite3_stmt *chain_of_subject, sqlite3_stmt *chain_of_artifact,
			sqlite3_stmt *chain_head, struct cde_event *ev)
{
	char chain[CDE_EVENT_ID_MAX + 1], prev[CDE_EVENT_ID_MAX + 1];
	bool found = chain_of(chain_of_subject, pipeline_run_of(ev), chain, sizeof(chain)) ||
		     chain_of(chain_of_artifact, cde_audit_artifact_of(ev), chain, sizeof(chain)) ||
		     chain_of(chain_of_subject, cde_event_subject_id(ev), chain, sizeof(chain));
	int r;

	if (!found) {
		char id[CDE_UUID_STR_LEN];

		cde_uuid_v4(id);
		return cde_event_set_chain_id(ev, id);
	}
	r = cde_event_set_chain_id(ev, chain);
	if (r == 0 && chain_of(chain_head, chain, prev, sizeof(prev)))
		r = cde_event_add_link(ev, CDE_LINK_PATH, prev, NULL, NULL);
	return r;
}
