/* Change tickets from events (`tickets:`): once a deployment to a
 * configured environment is committed, the latest gate decision for it is
 * read off the loop and a ticket.created joins the deployment's chain;
 * once a pipeline run finishes, the chain's open tickets are read and
 * each gets its ticket.closed. A ticketing adapter subscribed through a
 * webhook sink gets the change record without a pipeline step. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/answers/tickets.h"

/* One ticket job: a committed event (copied) and what it asks for. */
struct ticket_job {
	struct cde_api *api;
	cJSON *event;			/* the deployment, or the pipelinerun.finished */
	uint64_t seq;
	char principal[CDE_CONFIG_NAME_MAX];
	char peer[64];
	char source[CDE_CONFIG_STR_MAX];	/* the daemon's, as its decisions carry it */
	bool closing;			/* a finished run: close the chain's tickets */
};

static const char *text_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void job_free(struct ticket_job *j)
{
	cJSON_Delete(j->event);
	free(j);
}

static int run(void *ctx, const struct cde_audit_source *src, struct cde_audit_task_answer *a)
{
	struct ticket_job *j = ctx;
	cJSON *found = NULL;
	int r = j->closing ? cde_tickets_open(src, text_at(j->event, "context", "chainId"), j->principal, &found)
			   : cde_ticket_gate_decision(src, j->source, j->principal, cde_api_content_ref(j->event, "environment"),
						      cde_api_content_ref(j->event, "artifactId"), &found);

	if (r < 0)
		return r;
	a->body = found ? cJSON_PrintUnformatted(found) : strdup("null");
	cJSON_Delete(found);
	a->status = 200;
	return a->body ? 0 : -ENOMEM;
}

/* Builds and appends one ticket event; logs what could not be. */
static void write_ticket(struct ticket_job *j, const cJSON *found)
{
	char id[CDE_UUID_STR_LEN], now[CDE_TIMESTAMP_STR_LEN];
	const char *source = j->source;
	cJSON *doc = NULL;
	int r = -ENOMEM;

	cde_uuid_v7(id);
	if (cde_timestamp_now(now) == 0)
		doc = j->closing ? cde_ticket_closed_event(found, j->event, j->principal, id, source, now)
				 : cde_ticket_created_event(j->event, j->seq, j->principal, cJSON_IsNull(found) ? NULL : found,
							    id, source, now);
	if (doc)
		r = cde_api_record_own(j->api, doc, j->principal, j->peer, NULL, NULL);
	if (r < 0)
		cde_log(CDE_LOG_ERROR, "a change ticket (%s) of %s was not written: %s",
			j->closing ? "closed" : "created", text_at(j->event, "context", "id"), strerror(-r));
}

static void done(void *ctx, struct cde_audit_task_answer *a)
{
	struct ticket_job *j = ctx;
	cJSON *found = a->status == 200 && a->body ? cJSON_Parse(a->body) : NULL;
	const cJSON *item;

	free(a->body);
	if (!found)
		cde_log(CDE_LOG_ERROR, "change tickets: the audit log could not be read for %s",
			text_at(j->event, "context", "id"));
	else if (!j->closing)
		write_ticket(j, found);
	else
		cJSON_ArrayForEach(item, found)
			write_ticket(j, item);
	cJSON_Delete(found);
	job_free(j);
}

/* What @ev asks of tickets: opening one (a deployment to a ticketed
 * environment), closing its chain's (a finished pipeline run), or
 * nothing. */
static int wants(const struct cde_api *api, const cJSON *ev, bool *ret_closing)
{
	static const char deployed[] = "dev.cdevents.service.deployed.", upgraded[] = "dev.cdevents.service.upgraded.",
			  finished[] = "dev.cdevents.pipelinerun.finished.";
	const char *type = text_at(ev, "context", "type"), *env = cde_api_content_ref(ev, "environment");

	if (!type)
		return 0;
	if (strncmp(type, finished, sizeof(finished) - 1) == 0 && text_at(ev, "context", "chainId")) {
		*ret_closing = true;
		return 1;
	}
	if ((strncmp(type, deployed, sizeof(deployed) - 1) != 0 && strncmp(type, upgraded, sizeof(upgraded) - 1) != 0) ||
	    !env || !cde_api_content_ref(ev, "artifactId"))
		return 0;
	for (size_t i = 0; i < api->n_ticket_envs; i++)
		if (strcmp(api->ticket_envs[i], env) == 0) {
			*ret_closing = false;
			return 1;
		}
	return 0;
}

void cde_api_tickets_committed(struct cde_api *api, const struct cde_journal_entry *entries, size_t n)
{
	for (size_t i = 0; api->n_ticket_envs && i < n; i++) {
		const cJSON *ev = cde_event_json(entries[i].event);
		struct ticket_job *j;
		bool closing = false;

		if (entries[i].duplicate || !wants(api, ev, &closing))
			continue;
		/* At shutdown the journal answers what it still holds after
		 * the reader is gone: the ticket is lost, and said so. */
		if (!api->reader) {
			cde_log(CDE_LOG_ERROR, "change tickets: stopping: none %s for %s",
				closing ? "closed" : "opened", cde_event_id(entries[i].event));
			continue;
		}
		j = calloc(1, sizeof(*j));
		if (j)
			j->event = cJSON_Duplicate(ev, true);
		if (j && j->event) {
			j->api = api;
			j->seq = entries[i].seq;
			j->closing = closing;
			snprintf(j->principal, sizeof(j->principal), "%s", entries[i].principal ? entries[i].principal : "");
			snprintf(j->peer, sizeof(j->peer), "%s", entries[i].peer ? entries[i].peer : "");
			snprintf(j->source, sizeof(j->source), "%s",
				 api->default_source ? api->default_source : "/cdeventsd");
			/* Urgent: a ticket is a record of a committed deployment,
			 * never refused because reads are queued. */
			if (cde_audit_reader_submit_urgent_task(api->reader, run, done, j) == 0)
				continue;
		}
		cde_log(CDE_LOG_ERROR, "change tickets: out of memory: none for %s", cde_event_id(entries[i].event));
		if (j)
			job_free(j);
	}
}
