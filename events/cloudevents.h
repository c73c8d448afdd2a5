#pragma once
/* The CloudEvents HTTP binding of CDEvents, both ways.
 *
 * CDEvents' cloudevents-binding: ce-specversion 1.0, ce-id = context.id,
 * ce-source = context.source, ce-type = context.type, ce-subject =
 * subject.id, ce-time = context.timestamp, and the whole CDEvent is the
 * data. Binary mode carries the attributes in ce-* headers and the CDEvent
 * as an application/json body; structured mode sends one
 * application/cloudevents+json object with the CDEvent under "data"; batch
 * mode an application/cloudevents-batch+json array of those. An event a
 * sink upgraded (events/upgrade.h) carries the extension attribute
 * cdeupgradedfrom, the release it was received in. */

#include <stddef.h>

#include "events/event.h"
#include "events/percent.h"
#include "schemas/base/errors.h"

#define CDE_CE_MAX_HEADERS 10

enum cde_ce_mode {
	CDE_CE_BINARY,
	CDE_CE_STRUCTURED,
};

/* An HTTP message ready to send: header names are static strings, values
 * and the body are owned by the message. */
struct cde_ce_message {
	size_t n_headers;
	struct {
		const char *name;
		char *value;
	} headers[CDE_CE_MAX_HEADERS];
	char *body;
	size_t body_len;
};

/* Encodes @ev in @mode into @msg (which the caller releases). Header values
 * are percent-encoded as the binding requires. Returns 0, -EINVAL when the
 * event lacks id, source or type, or -ENOMEM (then @msg holds nothing). */
int cde_ce_encode(const struct cde_event *ev, enum cde_ce_mode mode, struct cde_ce_message *msg);

/* Frees what @msg owns and empties it. */
void cde_ce_message_release(struct cde_ce_message *msg);

/* Looks up a request header by case-insensitive name; NULL when absent. */
typedef const char *(*cde_ce_header_fn)(void *ctx, const char *name);

struct cde_ce_request {
	cde_ce_header_fn header;
	void *ctx;
	const char *body;
	size_t body_len;
};

/* How a request was sent, as cde_ce_decode saw it. */
enum cde_ce_request_mode {
	CDE_CE_REQ_BINARY,
	CDE_CE_REQ_STRUCTURED,
	CDE_CE_REQ_BATCH,
	CDE_CE_REQ_BARE,	/* a CDEvent as plain application/json */
};

/* Decodes the CDEvents carried by @req: binary mode (ce-specversion
 * header), structured, batch, or a bare CDEvent (application/json without
 * ce-* headers). The CloudEvents attributes must be present and agree
 * with the CDEvent (ce-id, ce-source, ce-type), so that a receiver's
 * deduplication by source and id means the same thing at every hop.
 * The CDEvents themselves are not validated here (see cde_validate).
 *
 * Returns 0 with *@ret_events a malloc'd array of *@ret_n events (one
 * reference each; free with cde_ce_events_free) and the mode in *@ret_mode;
 * -ENOTSUP for a content type that carries no CloudEvent (HTTP 415);
 * -EINVAL with the field and reason in @errs (pointers are into the body;
 * headers are named "header ce-id" in the reason); -ENOMEM. */
int cde_ce_decode(const struct cde_ce_request *req, struct cde_event ***ret_events, size_t *ret_n,
		  enum cde_ce_request_mode *ret_mode, struct cde_errors *errs);

/* Drops the references of @events and frees the array; accepts NULL. */
void cde_ce_events_free(struct cde_event **events, size_t n);

/* The lower-cased media type of a Content-Type value without parameters
 * ("Application/JSON; charset=utf-8" -> "application/json"), written to
 * @out. Returns false when it does not fit or @content_type is NULL. */
bool cde_media_type(const char *content_type, char *out, size_t size);
