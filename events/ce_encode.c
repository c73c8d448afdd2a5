/* Encoding a CDEvent as a CloudEvents HTTP message (binary or structured),
 * the form every sink sends. */

#include "events/cloudevents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cde_ce_message_release(struct cde_ce_message *msg)
{
	for (size_t i = 0; i < msg->n_headers; i++)
		free(msg->headers[i].value);
	free(msg->body);
	memset(msg, 0, sizeof(*msg));
}

static int add_header(struct cde_ce_message *msg, const char *name, const char *value, bool encode)
{
	char *v = encode ? cde_pct_encode(value) : strdup(value);

	if (!v)
		return -ENOMEM;
	msg->headers[msg->n_headers].name = name;
	msg->headers[msg->n_headers].value = v;
	msg->n_headers++;
	return 0;
}

static int encode_binary(const struct cde_event *ev, struct cde_ce_message *msg)
{
	const char *subject = cde_event_subject_id(ev), *time = cde_event_timestamp(ev);
	const char *from = cde_event_upgraded_from(ev);

	if (add_header(msg, "Content-Type", "application/json", false) < 0 ||
	    add_header(msg, "ce-specversion", "1.0", false) < 0 ||
	    add_header(msg, "ce-id", cde_event_id(ev), true) < 0 ||
	    add_header(msg, "ce-source", cde_event_source(ev), true) < 0 ||
	    add_header(msg, "ce-type", cde_event_type(ev), true) < 0 ||
	    (subject && add_header(msg, "ce-subject", subject, true) < 0) ||
	    (time && add_header(msg, "ce-time", time, true) < 0) ||
	    (from && add_header(msg, "ce-cdeupgradedfrom", from, true) < 0))
		return -ENOMEM;
	msg->body = cde_event_to_json(ev);
	if (!msg->body)
		return -ENOMEM;
	msg->body_len = strlen(msg->body);
	return 0;
}

/* The envelope's attributes are printed by cJSON and the event is spliced
 * in as "data", so a large event is not copied as a tree first. */
static int encode_structured(const struct cde_event *ev, struct cde_ce_message *msg)
{
	const char *subject = cde_event_subject_id(ev), *time = cde_event_timestamp(ev);
	const char *from = cde_event_upgraded_from(ev);
	cJSON *attrs = cJSON_CreateObject();
	char *head = NULL, *data = NULL;
	int r = -ENOMEM;

	if (!attrs || !cJSON_AddStringToObject(attrs, "specversion", "1.0") ||
	    !cJSON_AddStringToObject(attrs, "id", cde_event_id(ev)) ||
	    !cJSON_AddStringToObject(attrs, "source", cde_event_source(ev)) ||
	    !cJSON_AddStringToObject(attrs, "type", cde_event_type(ev)) ||
	    (subject && !cJSON_AddStringToObject(attrs, "subject", subject)) ||
	    (time && !cJSON_AddStringToObject(attrs, "time", time)) ||
	    (from && !cJSON_AddStringToObject(attrs, "cdeupgradedfrom", from)) ||
	    !cJSON_AddStringToObject(attrs, "datacontenttype", "application/json"))
		goto out;
	head = cJSON_PrintUnformatted(attrs);
	data = cde_event_to_json(ev);
	if (!head || !data)
		goto out;
	size_t hl = strlen(head), dl = strlen(data);
	static const char key[] = ",\"data\":";

	/* head is "{...}": drop its closing brace, add the data member. */
	msg->body = malloc(hl - 1 + sizeof(key) - 1 + dl + 2);
	if (!msg->body)
		goto out;
	memcpy(msg->body, head, hl - 1);
	memcpy(msg->body + hl - 1, key, sizeof(key) - 1);
	memcpy(msg->body + hl - 1 + sizeof(key) - 1, data, dl);
	msg->body_len = hl - 1 + sizeof(key) - 1 + dl + 1;
	msg->body[msg->body_len - 1] = '}';
	msg->body[msg->body_len] = '\0';
	r = add_header(msg, "Content-Type", "application/cloudevents+json", false);
out:
	free(head);
	free(data);
	cJSON_Delete(attrs);
	return r;
}

int cde_ce_encode(const struct cde_event *ev, enum cde_ce_mode mode, struct cde_ce_message *msg)
{
	int r;

	memset(msg, 0, sizeof(*msg));
	if (!cde_event_id(ev) || !cde_event_source(ev) || !cde_event_type(ev))
		return -EINVAL;
	r = mode == CDE_CE_BINARY ? encode_binary(ev, msg) : encode_structured(ev, msg);
	if (r < 0)
		cde_ce_message_release(msg);
	return r;
}
