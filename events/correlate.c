/* Chain correlation as a decision (events/correlate.h): which key wins and
 * when a PATH link is due. No I/O: the log is asked through callbacks, and
 * the caller applies the decision to an event it has not yet shared. */

#include "events/correlate.h"

#include <stdio.h>
#include <string.h>

#include "events/ids.h"

const char *cde_event_artifact_of(const struct cde_event *ev)
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

/* The pipeline run a task run belongs to (subject.content.pipelineRun.id). */
static const char *pipeline_run_of(const struct cde_event *ev)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(content, "pipelineRun");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");

	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* The id of reference @name of @ev's subject content, or NULL. */
static const char *reference_of(const struct cde_event *ev, const char *name)
{
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "subject");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(content, name), "id");

	return cJSON_IsString(id) && id->valuestring[0] ? id->valuestring : NULL;
}

/* Asks @lookup about @key (absent keys are unknown to the log). */
static bool ask(bool (*lookup)(void *, const char *, char *, size_t, uint64_t *), void *ctx,
		const char *key, char *out, size_t size, uint64_t *seq)
{
	return key && lookup(ctx, key, out, size, seq);
}

void cde_correlation_keys_of(const struct cde_event *ev, struct cde_correlation_keys *ret)
{
	ret->run_subject = pipeline_run_of(ev);
	ret->artifact = cde_event_artifact_of(ev);
	ret->subject = cde_event_subject_id(ev);
	/* Only incidents name a service (spec 0.3 to 0.5), and always an
	 * environment: the same service runs a different release in stage
	 * than in prod, and an incident is about the one where it happened. */
	ret->service = reference_of(ev, "service");
	ret->environment = reference_of(ev, "environment");
	if (!ret->service || !ret->environment)
		ret->service = ret->environment = NULL;
}

void cde_correlation_found(const char *chain_id, uint64_t via_seq, const char *latest_id,
			   struct cde_correlation *ret)
{
	ret->new_chain = !chain_id;
	ret->via_seq = chain_id ? via_seq : 0;
	snprintf(ret->chain_id, sizeof(ret->chain_id), "%s", chain_id ? chain_id : "");
	snprintf(ret->path_from, sizeof(ret->path_from), "%s", chain_id && latest_id ? latest_id : "");
}

/* Whether the chain @chain, found by a name other releases reuse (a
 * subject, a service), is barred to an event about artifact @artifact
 * that the log does not know: it is another artifact's release. A chain
 * that names no artifact yet (a build's started, then its finished with
 * the artifact) is still open to it. */
static bool another_release(const struct cde_chain_log *log, const char *artifact, const char *chain)
{
	return artifact && log->chain_names_other_artifact(log->ctx, chain, artifact);
}

void cde_correlate(const struct cde_event *ev, const struct cde_chain_log *log,
		   struct cde_correlation *ret)
{
	char *chain = ret->chain_id;
	size_t size = sizeof(ret->chain_id);
	uint64_t *via = &ret->via_seq;
	struct cde_correlation_keys k;
	bool found;

	cde_correlation_keys_of(ev, &k);
	/* The deployment comes last: an incident's later events (reported,
	 * resolved) stay in the chain its detection joined, even when the
	 * service was deployed again in between. Past the artifact's key,
	 * k.artifact (when set) is one the log does not know. */
	*via = 0;
	found = ask(log->chain_of_subject, log->ctx, k.run_subject, chain, size, via) ||
		ask(log->chain_of_artifact, log->ctx, k.artifact, chain, size, via) ||
		(ask(log->chain_of_subject, log->ctx, k.subject, chain, size, via) &&
		 !another_release(log, k.artifact, chain)) ||
		(k.service && log->chain_of_deployment(log->ctx, k.service, k.environment, chain, size, via) &&
		 !another_release(log, k.artifact, chain));

	ret->new_chain = !found;
	ret->path_from[0] = '\0';
	if (!found) {
		ret->chain_id[0] = '\0';
		*via = 0;
	}
	if (found && !log->latest_of_chain(log->ctx, chain, ret->path_from, sizeof(ret->path_from)))
		ret->path_from[0] = '\0';
}

int cde_correlation_apply(struct cde_event *ev, const struct cde_correlation *c)
{
	int r;

	if (c->new_chain) {
		char id[CDE_UUID_STR_LEN];

		cde_uuid_v7(id);
		return cde_event_set_chain_id(ev, id);
	}
	r = cde_event_set_chain_id(ev, c->chain_id);
	if (r == 0 && c->path_from[0])
		r = cde_event_add_link(ev, CDE_LINK_PATH, c->path_from, NULL, NULL);
	return r;
}
