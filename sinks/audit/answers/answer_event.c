/* One audit record read for an analysis: the stored event text parsed,
 * and what every analysis asks of it (its type's subject and predicate,
 * when it happened) worked out once. The log only holds events that
 * validated when they came in, but an analysis still reads defensively:
 * a record it cannot read is skipped by its caller, never a crash. */

#include "sinks/audit/answers/answer_event.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"

static const char *string_at(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "dev.cdevents.service.deployed.0.2.0" -> "service", "deployed";
 * "dev.cdeventsx.acme-gate.decided.0.1.0" -> "acme-gate", "decided". */
static int split_type(const char *type, struct cde_answer_event *e)
{
	static const char std[] = "dev.cdevents.", ext[] = "dev.cdeventsx.";
	const char *p, *dot1, *dot2;

	if (strncmp(type, std, sizeof(std) - 1) == 0) {
		p = type + sizeof(std) - 1;
	} else if (strncmp(type, ext, sizeof(ext) - 1) == 0) {
		p = type + sizeof(ext) - 1;
		e->custom = true;
	} else {
		return -EINVAL;
	}
	dot1 = strchr(p, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || dot1 == p || dot2 == dot1 + 1 || (size_t)(dot1 - p) >= CDE_ANSWER_WORD_MAX ||
	    (size_t)(dot2 - dot1 - 1) >= CDE_ANSWER_WORD_MAX)
		return -EINVAL;
	snprintf(e->subject_type, sizeof(e->subject_type), "%.*s", (int)(dot1 - p), p);
	snprintf(e->predicate, sizeof(e->predicate), "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
	return 0;
}

static int read_event(struct cde_answer_event *e)
{
	static const cJSON empty = { .type = cJSON_Object };
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(e->event, "context");
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(e->event, "subject");
	const char *type = string_at(context, "type");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");

	if (!type || split_type(type, e) < 0)
		return -EINVAL;
	if (cde_timestamp_read(string_at(context, "timestamp"), &e->time) < 0)
		return -EINVAL;
	e->subject_id = string_at(subject, "id");
	if (!e->subject_id)
		return -EINVAL;
	e->chain_id = string_at(context, "chainId");
	if (!e->chain_id)
		e->chain_id = "";
	e->content = cJSON_IsObject(content) ? content : &empty;
	return 0;
}

bool cde_answer_record_is_own(const struct cde_audit_record *rec)
{
	return rec->peer && strncmp(rec->peer, CDE_OWN_PEER_PREFIX, sizeof(CDE_OWN_PEER_PREFIX) - 1) == 0;
}

int cde_answer_event_read(const struct cde_audit_record *rec, struct cde_answer_event *ret)
{
	struct cde_answer_event e = { .seq = rec->seq, .chain_via = rec->chain_via };
	int r;

	if (cde_timestamp_read(rec->received_at, &e.received) < 0)
		return -EINVAL;
	/* cJSON does not tell a lack of memory from bad text: both skip
	 * the record, which the log only holds as valid JSON anyway. */
	e.event = cJSON_Parse(rec->event);
	if (!e.event)
		return -EINVAL;
	e.principal = strdup(rec->principal ? rec->principal : "");
	r = e.principal ? read_event(&e) : -ENOMEM;
	if (r < 0) {
		cde_answer_event_release(&e);
		return r;
	}
	*ret = e;
	return 0;
}

void cde_answer_event_release(struct cde_answer_event *e)
{
	cJSON_Delete(e->event);
	free(e->principal);
	memset(e, 0, sizeof(*e));
}

const char *cde_answer_content_ref(const cJSON *content, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(content, field);

	if (cJSON_IsString(v))
		return v->valuestring;
	return string_at(v, "id");
}

const char *cde_answer_event_ref(const struct cde_answer_event *e, const char *field)
{
	return cde_answer_content_ref(e->content, field);
}

bool cde_answer_event_is(const struct cde_answer_event *e, const char *subject_type, const char *predicate)
{
	return strcmp(e->subject_type, subject_type) == 0 && strcmp(e->predicate, predicate) == 0;
}
