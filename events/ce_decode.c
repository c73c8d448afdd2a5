/* Decoding CloudEvents HTTP requests into CDEvents: binary, structured,
 * batch, or a bare CDEvent. Attribute checks follow the CloudEvents HTTP
 * binding; agreement of the attributes with the CDEvent follows the
 * CDEvents binding. */

#include "events/cloudevents.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/base/json_strict.h"

bool cde_media_type(const char *content_type, char *out, size_t size)
{
	size_t n = 0;
	const char *p = content_type;

	if (!p || size == 0)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
		if (n + 1 >= size)
			return false;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	return n > 0;
}

void cde_ce_events_free(struct cde_event **events, size_t n)
{
	if (!events)
		return;
	for (size_t i = 0; i < n; i++)
		cde_event_unref(events[i]);
	free(events);
}

/* Reports at "<prefix>/context/<field>" when the CDEvent's value differs
 * from the CloudEvents attribute @what. */
static int check_agrees(const struct cde_event *ev, const char *prefix, const char *field,
			const char *attr_value, const char *what, struct cde_errors *errs)
{
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "context");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, field);

	/* A missing or mistyped field is the validator's to report. */
	if (!cJSON_IsString(v) || strcmp(v->valuestring, attr_value) == 0)
		return 0;
	char p[CDE_ERROR_POINTER_MAX];

	snprintf(p, sizeof(p), "%s/context/%s", prefix, field);
	cde_errors_add(errs, p, "\"%.60s\" differs from %s \"%.60s\"", v->valuestring, what,
		       attr_value);
	return -EINVAL;
}

static int check_all_agree(const struct cde_event *ev, const char *prefix, const char *id,
			   const char *source, const char *type, const char *how,
			   struct cde_errors *errs)
{
	char what[32];
	int r = 0;

	snprintf(what, sizeof(what), "%sid", how);
	r |= check_agrees(ev, prefix, "id", id, what, errs);
	snprintf(what, sizeof(what), "%ssource", how);
	r |= check_agrees(ev, prefix, "source", source, what, errs);
	snprintf(what, sizeof(what), "%stype", how);
	r |= check_agrees(ev, prefix, "type", type, what, errs);
	return r ? -EINVAL : 0;
}

static const char *const required_attrs[] = { "id", "source", "type" };

/* Decodes one structured-mode object (taken apart: its data moves into the
 * event). @prefix is the pointer of @ce in the body. */
static int decode_structured(cJSON *ce, const char *prefix, struct cde_event **ret,
			     struct cde_errors *errs)
{
	const cJSON *sv, *dct;
	const char *attrs[3];
	cJSON *data;
	char mt[64];
	int r = 0;

	if (!cJSON_IsObject(ce)) {
		cde_errors_add(errs, prefix, "a CloudEvent in structured mode is a JSON object");
		return -EINVAL;
	}
	sv = cJSON_GetObjectItemCaseSensitive(ce, "specversion");
	if (!cJSON_IsString(sv) || strcmp(sv->valuestring, "1.0") != 0) {
		char p[CDE_ERROR_POINTER_MAX];

		snprintf(p, sizeof(p), "%s/specversion", prefix);
		cde_errors_add(errs, p, sv ? "must be \"1.0\"" : "required property missing");
		r = -EINVAL;
	}
	for (size_t i = 0; i < 3; i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(ce, required_attrs[i]);
		char p[CDE_ERROR_POINTER_MAX];

		attrs[i] = cJSON_IsString(a) && a->valuestring[0] ? a->valuestring : NULL;
		if (!attrs[i]) {
			snprintf(p, sizeof(p), "%s/%s", prefix, required_attrs[i]);
			cde_errors_add(errs, p, a ? "must be a non-empty string"
						  : "required property missing");
			r = -EINVAL;
		}
	}
	dct = cJSON_GetObjectItemCaseSensitive(ce, "datacontenttype");
	if (dct && (!cJSON_IsString(dct) || !cde_media_type(dct->valuestring, mt, sizeof(mt)) ||
		    strcmp(mt, "application/json") != 0)) {
		char p[CDE_ERROR_POINTER_MAX];

		snprintf(p, sizeof(p), "%s/datacontenttype", prefix);
		cde_errors_add(errs, p, "must be application/json: a CDEvent is JSON");
		r = -EINVAL;
	}
	data = cJSON_GetObjectItemCaseSensitive(ce, "data");
	if (!cJSON_IsObject(data)) {
		char p[CDE_ERROR_POINTER_MAX];
		bool b64 = cJSON_GetObjectItemCaseSensitive(ce, "data_base64") != NULL;

		snprintf(p, sizeof(p), "%s/data", prefix);
		cde_errors_add(errs, p, b64 ? "data_base64 is not supported: send the CDEvent as JSON under \"data\""
				       : data ? "must be an object (the CDEvent)"
					      : "required property missing (the CDEvent)");
		r = -EINVAL;
	}
	if (r < 0)
		return r;

	struct cde_event *ev;
	char data_prefix[CDE_ERROR_POINTER_MAX];

	cJSON_DetachItemViaPointer(ce, data);
	r = cde_event_from_json(data, &ev);
	if (r < 0)
		return r;
	snprintf(data_prefix, sizeof(data_prefix), "%s/data", prefix);
	r = check_all_agree(ev, data_prefix, attrs[0], attrs[1], attrs[2], "CloudEvents ", errs);
	if (r < 0) {
		cde_event_unref(ev);
		return r;
	}
	*ret = ev;
	return 0;
}

static int decode_binary(const struct cde_ce_request *req, struct cde_event **ret,
			 struct cde_errors *errs)
{
	static const char *const names[] = { "ce-id", "ce-source", "ce-type" };
	char *values[3] = { NULL, NULL, NULL };
	const char *sv = req->header(req->ctx, "ce-specversion");
	struct cde_event *ev = NULL;
	int r = 0;

	if (strcmp(sv, "1.0") != 0) {
		cde_errors_add(errs, "", "header ce-specversion: must be 1.0");
		r = -EINVAL;
	}
	for (size_t i = 0; i < 3; i++) {
		const char *h = req->header(req->ctx, names[i]);
		int d;

		if (!h || !*h) {
			cde_errors_add(errs, "", "header %s: required", names[i]);
			r = -EINVAL;
			continue;
		}
		d = cde_pct_decode(h, &values[i]);
		if (d == -ENOMEM) {
			r = d;
			goto out;
		}
		if (d < 0) {
			cde_errors_add(errs, "", "header %s: malformed percent-encoding", names[i]);
			r = -EINVAL;
		}
	}
	if (r < 0)
		goto out;
	r = cde_event_parse(req->body, req->body_len, &ev, errs);
	if (r < 0)
		goto out;
	r = check_all_agree(ev, "", values[0], values[1], values[2], "header ce-", errs);
	if (r < 0)
		goto out;
	*ret = ev;
	ev = NULL;
out:
	cde_event_unref(ev);
	for (size_t i = 0; i < 3; i++)
		free(values[i]);
	return r;
}

static int decode_batch(cJSON *arr, struct cde_event ***ret_events, size_t *ret_n,
			struct cde_errors *errs)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	struct cde_event **events;
	cJSON *c;
	int r = 0;

	if (!cJSON_IsArray(arr)) {
		cde_errors_add(errs, "", "a batch is a JSON array of CloudEvents");
		return -EINVAL;
	}
	if (n == 0) {
		cde_errors_add(errs, "", "empty batch");
		return -EINVAL;
	}
	events = calloc(n, sizeof(*events));
	if (!events)
		return -ENOMEM;
	/* Every element is checked so that one reply lists every problem. */
	cJSON_ArrayForEach(c, arr) {
		char prefix[32];
		int e;

		snprintf(prefix, sizeof(prefix), "/%zu", i);
		e = decode_structured(c, prefix, &events[i], errs);
		if (e < 0 && r != -ENOMEM)
			r = e;
		i++;
	}
	if (r < 0) {
		cde_ce_events_free(events, n);
		return r;
	}
	*ret_events = events;
	*ret_n = n;
	return 0;
}

int cde_ce_decode(const struct cde_ce_request *req, struct cde_event ***ret_events, size_t *ret_n,
		  enum cde_ce_request_mode *ret_mode, struct cde_errors *errs)
{
	const char *ct = req->header(req->ctx, "Content-Type");
	struct cde_event *ev = NULL, **one;
	enum cde_ce_request_mode mode;
	char mt[64];
	cJSON *doc = NULL;
	int r;

	if (!cde_media_type(ct, mt, sizeof(mt)))
		mt[0] = '\0';
	if (req->header(req->ctx, "ce-specversion")) {
		if (strcmp(mt, "application/json") != 0) {
			cde_errors_add(errs, "", "binary mode needs Content-Type: application/json (a CDEvent is JSON)");
			return -ENOTSUP;
		}
		mode = CDE_CE_REQ_BINARY;
		r = decode_binary(req, &ev, errs);
	} else if (strcmp(mt, "application/cloudevents+json") == 0 ||
		   strcmp(mt, "application/cloudevents-batch+json") == 0) {
		bool batch = strcmp(mt, "application/cloudevents-batch+json") == 0;

		r = cde_json_parse(req->body, req->body_len, &doc, errs);
		if (r < 0)
			return r;
		if (batch) {
			r = decode_batch(doc, ret_events, ret_n, errs);
			cJSON_Delete(doc);
			if (r == 0)
				*ret_mode = CDE_CE_REQ_BATCH;
			return r;
		}
		mode = CDE_CE_REQ_STRUCTURED;
		r = decode_structured(doc, "", &ev, errs);
		cJSON_Delete(doc);
	} else if (strcmp(mt, "application/json") == 0) {
		mode = CDE_CE_REQ_BARE;
		r = cde_event_parse(req->body, req->body_len, &ev, errs);
	} else {
		cde_errors_add(errs, "", "unsupported Content-Type \"%.60s\": use application/json, application/cloudevents+json or application/cloudevents-batch+json",
			       ct ? ct : "");
		return -ENOTSUP;
	}
	if (r < 0)
		return r;
	one = malloc(sizeof(*one));
	if (!one) {
		cde_event_unref(ev);
		return -ENOMEM;
	}
	one[0] = ev;
	*ret_events = one;
	*ret_n = 1;
	*ret_mode = mode;
	return 0;
}
