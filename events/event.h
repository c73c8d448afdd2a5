#pragma once
/* The CDEvent model: one event as a JSON document with typed accessors. */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/catalog.h"
#include "schemas/base/errors.h"

/* An event is reference counted; the document it wraps is the event exactly
 * as it will be stored and sent. Events read from producers are kept as
 * received (v0.4.1 ones keep context.version); events cdeventsd builds are
 * of the newest loaded spec. Subject content stays JSON because its shape
 * is data (the catalog), not code. */
struct cde_event;

enum cde_link_type {
	CDE_LINK_END,
	CDE_LINK_PATH,
	CDE_LINK_RELATION,
};

/* Builds a new event of @type in @spec: a fresh UUIDv4 id, the current time,
 * @source and @subject_id, and an empty subject content. Returns 0 and the
 * event in *@ret (one reference), -EINVAL for an empty argument, -ENOMEM. */
int cde_event_new(const struct cde_spec *spec, const char *type, const char *source,
		  const char *subject_id, struct cde_event **ret);

/* Wraps @doc, which must be a JSON object; takes ownership of @doc even on
 * failure. Returns 0, -EINVAL, -ENOMEM. */
int cde_event_from_json(cJSON *doc, struct cde_event **ret);

/* Parses @len bytes of JSON (strictly: see cde_json_parse) into an event.
 * Returns 0, -EINVAL with the reason in @errs, or -ENOMEM. */
int cde_event_parse(const char *buf, size_t len, struct cde_event **ret, struct cde_errors *errs);

/* Takes a reference; returns @ev. */
struct cde_event *cde_event_ref(struct cde_event *ev);

/* Drops a reference (accepts NULL); returns NULL. */
struct cde_event *cde_event_unref(struct cde_event *ev);

/* Accessors: the string at that place of the document, or NULL when absent
 * or not a string. Valid until the event changes or is freed. */
const char *cde_event_spec_version(const struct cde_event *ev); /* specversion or version */
const char *cde_event_id(const struct cde_event *ev);
const char *cde_event_source(const struct cde_event *ev);
const char *cde_event_type(const struct cde_event *ev);
const char *cde_event_timestamp(const struct cde_event *ev);
const char *cde_event_chain_id(const struct cde_event *ev);
const char *cde_event_schema_uri(const struct cde_event *ev);
const char *cde_event_subject_id(const struct cde_event *ev);
const char *cde_event_subject_source(const struct cde_event *ev);

/* The release @ev was upgraded from (events/upgrade.h), for the sinks to
 * tell receivers (CloudEvents attribute cdeupgradedfrom); not part of the
 * document. Set it while building. Returns 0, or -EINVAL for a release
 * longer than 15 characters. The getter returns NULL for an event that
 * was not upgraded. */
int cde_event_set_upgraded_from(struct cde_event *ev, const char *release);
const char *cde_event_upgraded_from(const struct cde_event *ev);

/* The whole document (borrowed). */
const cJSON *cde_event_json(const struct cde_event *ev);

/* The whole document, mutable (borrowed): only for whoever builds @ev, and
 * only while building, before the event is shared (stored, queued or
 * handed to another reference holder); a shared event is read-only. */
cJSON *cde_event_json_mut(struct cde_event *ev);

/* subject.content, created empty when missing; NULL when out of memory or
 * when subject is not an object. Borrowed and mutable: builders fill it. */
cJSON *cde_event_content(struct cde_event *ev);

/* Setters for context and subject strings. Each replaces the value (a NULL
 * @value removes an optional one). Return 0, -EINVAL, -ENOMEM. */
int cde_event_set_id(struct cde_event *ev, const char *value);
int cde_event_set_source(struct cde_event *ev, const char *value);
int cde_event_set_timestamp(struct cde_event *ev, const char *value);
int cde_event_set_chain_id(struct cde_event *ev, const char *value);
int cde_event_set_schema_uri(struct cde_event *ev, const char *value);
int cde_event_set_subject_source(struct cde_event *ev, const char *value);

/* Appends a link to context.links: from @context_id for END and PATH, to
 * @context_id as target for RELATION, which also needs @link_kind. @tags,
 * when not NULL, must be an object and is taken over even on failure.
 * Returns 0, -EINVAL, -ENOMEM. */
int cde_event_add_link(struct cde_event *ev, enum cde_link_type type, const char *context_id,
		       const char *link_kind, cJSON *tags);

/* Sets customData to @data (an object, or a string for encoded data, taken
 * over even on failure) and customDataContentType to @content_type when
 * not NULL. Returns 0, -EINVAL, -ENOMEM. */
int cde_event_set_custom_data(struct cde_event *ev, cJSON *data, const char *content_type);

/* Serializes the event as compact JSON. Returns a malloc'd string the
 * caller frees, or NULL when out of memory. */
char *cde_event_to_json(const struct cde_event *ev);
