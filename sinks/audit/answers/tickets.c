/* Change tickets built from the log: what a ticketing adapter behind a
 * webhook sink needs to open a change record for a deployment, and to
 * close it, without a pipeline step of its own. The ticket is named by
 * the deployment it records ("change/ID"), so finding the open ones of a
 * chain is a read of the chain, and a ticket is never opened twice for
 * one deployment by a daemon that restarts between the two events. */

#include "sinks/audit/answers/tickets.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/answer_event.h"
#include "sinks/audit/answers/gate.h"

static const char *text_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "/v1/events/ID" with ID percent-encoded: a uri-reference for any id. */
static bool add_uri(cJSON *content, const char *id)
{
	char uri[3 * 512 + 16];
	size_t n = (size_t)snprintf(uri, sizeof(uri), "/v1/events/");

	for (const unsigned char *p = (const unsigned char *)id; *p && n + 4 < sizeof(uri); p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			uri[n++] = (char)*p;
		else
			n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", *p);
	}
	uri[n] = '\0';
	return cJSON_AddStringToObject(content, "uri", uri) != NULL;
}

static bool add_relation(cJSON *links, const char *kind, const char *context_id)
{
	cJSON *l = cJSON_CreateObject(), *target;

	if (!l || !cJSON_AddItemToArray(links, l)) {
		cJSON_Delete(l);
		return false;
	}
	return cJSON_AddStringToObject(l, "linkType", "RELATION") && cJSON_AddStringToObject(l, "linkKind", kind) &&
	       (target = cJSON_AddObjectToObject(l, "target")) && cJSON_AddStringToObject(target, "contextId", context_id);
}

/* The context and subject every ticket event of ours has. */
static cJSON *skeleton(const char *type, const char *id, const char *source, const char *timestamp, const char *chain,
		       const char *subject_id, cJSON **ret_links, cJSON **ret_content)
{
	cJSON *ev = cJSON_CreateObject(), *ctx, *subject;
	bool ok = ev && (ctx = cJSON_AddObjectToObject(ev, "context")) &&
		  cJSON_AddStringToObject(ctx, "specversion", "0.5.1") && cJSON_AddStringToObject(ctx, "id", id) &&
		  cJSON_AddStringToObject(ctx, "source", source) && cJSON_AddStringToObject(ctx, "type", type) &&
		  cJSON_AddStringToObject(ctx, "timestamp", timestamp) &&
		  (!chain || cJSON_AddStringToObject(ctx, "chainId", chain)) &&
		  (*ret_links = cJSON_AddArrayToObject(ctx, "links")) && (subject = cJSON_AddObjectToObject(ev, "subject")) &&
		  cJSON_AddStringToObject(subject, "id", subject_id) && cJSON_AddStringToObject(subject, "source", source) &&
		  (*ret_content = cJSON_AddObjectToObject(subject, "content"));

	if (!ok) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

static bool add_custom(cJSON *ev, const cJSON *deployment, uint64_t seq, const cJSON *decision)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(deployment, "subject"),
								"content");
	const cJSON *dec_event = cJSON_GetObjectItemCaseSensitive(decision, "event");
	cJSON *custom = cJSON_AddObjectToObject(ev, "customData"), *dep, *gate;

	return custom && (dep = cJSON_AddObjectToObject(custom, "deployment")) &&
	       cJSON_AddStringToObject(dep, "id", text_at(deployment, "context", "id", NULL)) &&
	       cJSON_AddNumberToObject(dep, "seq", (double)seq) &&
	       cJSON_AddStringToObject(dep, "service", text_at(deployment, "subject", "id", NULL)) &&
	       cJSON_AddStringToObject(dep, "environment", cde_answer_content_ref(content, "environment")) &&
	       cJSON_AddStringToObject(dep, "artifactId", cde_answer_content_ref(content, "artifactId")) &&
	       (!decision ? cJSON_AddNullToObject(custom, "gate") != NULL
			  : (gate = cJSON_AddObjectToObject(custom, "gate")) &&
				    cJSON_AddStringToObject(gate, "decision",
							    text_at(dec_event, "subject", "content", "decision")) &&
				    cJSON_AddNumberToObject(gate, "seq", cJSON_GetNumberValue(
									 cJSON_GetObjectItemCaseSensitive(decision, "seq"))) &&
				    cJSON_AddStringToObject(gate, "id", text_at(dec_event, "context", "id", NULL)));
}

cJSON *cde_ticket_created_event(const cJSON *deployment, uint64_t seq, const char *principal, const cJSON *decision,
				const char *id, const char *source, const char *timestamp)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(deployment, "subject"),
								"content");
	const char *dep_id = text_at(deployment, "context", "id", NULL), *service = text_at(deployment, "subject", "id", NULL);
	const char *env = cde_answer_content_ref(content, "environment");
	const char *artifact = cde_answer_content_ref(content, "artifactId");
	const char *verdict = text_at(cJSON_GetObjectItemCaseSensitive(decision, "event"), "subject", "content", "decision");
	char subject[600], summary[1600], gate_label[32];
	cJSON *ev, *links, *body, *labels;
	bool ok;

	if (!dep_id || !service || !env || !artifact)
		return NULL;
	snprintf(subject, sizeof(subject), CDE_TICKET_SUBJECT_PREFIX "%s", dep_id);
	snprintf(summary, sizeof(summary), "Deploy %s (%s) to %s", artifact, service, env);
	snprintf(gate_label, sizeof(gate_label), "gate:%s", verdict ? verdict : "not-asked");
	ev = skeleton(CDE_TICKET_CREATED_TYPE, id, source, timestamp, text_at(deployment, "context", "chainId", NULL),
		      subject, &links, &body);
	ok = ev && add_relation(links, "deployment", dep_id) &&
	     (!verdict || add_relation(links, "gate-decision", text_at(cJSON_GetObjectItemCaseSensitive(decision, "event"),
								     "context", "id", NULL))) &&
	     cJSON_AddStringToObject(body, "summary", summary) && cJSON_AddStringToObject(body, "ticketType", "change") &&
	     cJSON_AddStringToObject(body, "creator", principal && *principal ? principal : "cdeventsd") &&
	     (labels = cJSON_AddArrayToObject(body, "labels")) &&
	     cJSON_AddItemToArray(labels, cJSON_CreateString("deployment")) &&
	     cJSON_AddItemToArray(labels, cJSON_CreateString(gate_label)) && add_uri(body, dep_id) &&
	     add_custom(ev, deployment, seq, decision);
	if (!ok) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

cJSON *cde_ticket_closed_event(const cJSON *created, const cJSON *finished, const char *principal, const char *id,
			       const char *source, const char *timestamp)
{
	const cJSON *was = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(created, "subject"), "content");
	const char *outcome = text_at(finished, "subject", "content", "outcome");
	const char *subject = text_at(created, "subject", "id", NULL);
	cJSON *ev, *links, *body;
	bool ok;

	if (!subject || !text_at(was, "uri", NULL, NULL))
		return NULL;
	ev = skeleton(CDE_TICKET_CLOSED_TYPE, id, source, timestamp, text_at(created, "context", "chainId", NULL),
		      subject, &links, &body);
	ok = ev && add_relation(links, "ticket", text_at(created, "context", "id", NULL)) &&
	     add_relation(links, "pipelinerun", text_at(finished, "context", "id", NULL)) &&
	     cJSON_AddStringToObject(body, "summary", text_at(was, "summary", NULL, NULL)) &&
	     cJSON_AddStringToObject(body, "ticketType", "change") &&
	     cJSON_AddStringToObject(body, "uri", text_at(was, "uri", NULL, NULL)) &&
	     cJSON_AddStringToObject(body, "resolution",
				     !outcome || strcmp(outcome, "success") == 0 ? "completed" : outcome) &&
	     cJSON_AddStringToObject(body, "updatedBy", principal && *principal ? principal : "cdeventsd");
	if (!ok) {
		cJSON_Delete(ev);
		return NULL;
	}
	return ev;
}

/* ---- reading the log ---- */

/* What a decision lookup keeps: the first decision the daemon wrote. */
struct decision_scan {
	const char *source;	/* the daemon's context.source */
	const char *principal;	/* who deployed */
	cJSON *found;
};

/* A decision the daemon wrote itself: with its own peer mark, under its
 * own source, and logged under the principal its content names (the one
 * that asked). One posted from outside (refused at ingest since, but
 * older logs may hold one) is no approval. */
static bool own_decision(const struct decision_scan *s, const struct cde_audit_record *rec, const cJSON *ev)
{
	const char *source = text_at(ev, "context", "source", NULL);
	const char *principal = text_at(ev, "subject", "content", "principal");

	return cde_answer_record_is_own(rec) && source && strcmp(source, s->source) == 0 && principal &&
	       rec->principal && strcmp(principal, rec->principal) == 0 && strcmp(principal, s->principal) == 0;
}

static int on_decision(void *ctx, const struct cde_audit_record *rec)
{
	struct decision_scan *s = ctx;
	cJSON *o, *ev = cJSON_Parse(rec->event);

	if (ev && !own_decision(s, rec, ev)) {
		cJSON_Delete(ev);
		return 0;
	}
	o = cJSON_CreateObject();
	if (!o || !ev || !cJSON_AddNumberToObject(o, "seq", (double)rec->seq) || !cJSON_AddItemToObject(o, "event", ev)) {
		cJSON_Delete(o);
		cJSON_Delete(ev);
		return -ENOMEM;
	}
	s->found = o;
	return 1; /* the latest is enough */
}

int cde_ticket_gate_decision(const struct cde_audit_source *src, const char *source, const char *principal,
			     const char *environment, const char *artifact, cJSON **ret)
{
	struct cde_audit_filter f = { .type = "dev.cdeventsx.cdeventsd-gate.decided", .environment = environment,
				      .artifact_id = artifact, .descending = true };
	struct decision_scan s = { .source = source, .principal = principal };
	int r = src->query(src->ctx, &f, on_decision, &s);

	if (r < 0) {
		cJSON_Delete(s.found);
		return r;
	}
	*ret = s.found;
	return 0;
}

struct open_scan {
	const char *principal;	/* whose run finished */
	cJSON *open;		/* ticket.created events, by subject */
	int error;
};

static int on_chain_record(void *ctx, const struct cde_audit_record *rec)
{
	struct open_scan *s = ctx;
	struct cde_answer_event e;
	int r = cde_answer_event_read(rec, &e);
	bool created, closed;

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return s->error = r;
	/* Only the daemon's own ticket events open or close a ticket: any
	 * principal may post a ticket.* into a chain, under any subject. */
	created = cde_answer_record_is_own(rec) && cde_answer_event_is(&e, "ticket", "created");
	closed = cde_answer_record_is_own(rec) && cde_answer_event_is(&e, "ticket", "closed");
	if ((created || closed) &&
	    strncmp(e.subject_id, CDE_TICKET_SUBJECT_PREFIX, sizeof(CDE_TICKET_SUBJECT_PREFIX) - 1) == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(s->open, e.subject_id);
		/* Only the deploying principal's run closes its ticket: any
		 * principal may post into a chain, and a stranger's run
		 * ending there says nothing of the change. */
		if (created && strcmp(e.principal, s->principal) == 0) {
			cJSON *copy = cJSON_Duplicate(e.event, true);

			if (!copy || !cJSON_AddItemToObject(s->open, e.subject_id, copy)) {
				cJSON_Delete(copy);
				r = s->error = -ENOMEM;
			}
		}
	}
	cde_answer_event_release(&e);
	return r < 0 ? r : 0;
}

int cde_tickets_open(const struct cde_audit_source *src, const char *chain, const char *principal, cJSON **ret)
{
	struct cde_audit_filter f = { .chain_id = chain };
	struct open_scan s = { .principal = principal, .open = cJSON_CreateObject() };
	cJSON *list;
	int r;

	if (!s.open)
		return -ENOMEM;
	r = src->query(src->ctx, &f, on_chain_record, &s);
	if (r == 0)
		r = s.error;
	list = r == 0 ? cJSON_CreateArray() : NULL;
	if (r == 0 && !list)
		r = -ENOMEM;
	while (r == 0 && s.open->child) {
		cJSON *item = cJSON_DetachItemViaPointer(s.open, s.open->child);

		cJSON_AddItemToArray(list, item);
	}
	cJSON_Delete(s.open);
	if (r < 0) {
		cJSON_Delete(list);
		return r;
	}
	*ret = list;
	return 0;
}
