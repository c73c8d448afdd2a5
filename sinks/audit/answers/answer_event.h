#pragma once
/* Analyses over the audit log (promotion gates, DORA keys, what runs
 * where) read its records through a cde_audit_source (audit_reader.h);
 * this is one record as they read it: the event parsed once, its
 * subject type and predicate without the version, and its times. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_query.h"

#define CDE_ANSWER_WORD_MAX 32

/* The peer of an event the daemon wrote itself (a gate's decision, a
 * change ticket), ahead of the peer of the request that caused it. A
 * connection's peer is "ip:port", "[ip6]:port" or "unknown", so no
 * posted event carries this mark, and the peer is in the hashed entry:
 * it tells the daemon's own tickets from a stranger's ticket.* with the
 * same subject, where the type, the source and the principal cannot. */
#define CDE_OWN_PEER_PREFIX "cdeventsd for "

/* @rec was written by the daemon itself (see CDE_OWN_PEER_PREFIX). */
bool cde_answer_record_is_own(const struct cde_audit_record *rec);

struct cde_answer_event {
	uint64_t seq;
	struct timespec time;		/* context.timestamp: when it happened, as its producer says */
	struct timespec received;	/* when the log took it */
	char subject_type[CDE_ANSWER_WORD_MAX];	/* "service" of dev.cdevents.service.deployed.0.2.0 */
	char predicate[CDE_ANSWER_WORD_MAX];	/* "deployed"; a custom type's last word */
	bool custom;			/* a dev.cdeventsx.* type */
	const char *subject_id;		/* borrowed from @event, as below */
	const char *chain_id;		/* "" when the event has none */
	uint64_t chain_via;		/* the record's chain_via: 0, or the earlier row of the chain
					 * whose chain correlation joined it to */
	const cJSON *content;		/* subject.content (an empty object when absent) */
	cJSON *event;			/* the whole event, owned */
	char *principal;		/* who posted it, owned; "" when unknown */
};

/* Reads @rec (as a source passes it: valid during the callback only)
 * into @ret, which owns what it keeps. Returns 0, -EINVAL for a record
 * whose event is not a CDEvent this can read (the analyses skip it), or
 * -ENOMEM. */
int cde_answer_event_read(const struct cde_audit_record *rec, struct cde_answer_event *ret);

/* Frees what @e owns; accepts one already released or zeroed. */
void cde_answer_event_release(struct cde_answer_event *e);

/* The id the field @field of a subject's @content names: the string
 * itself, or a reference's "id" ({"id": "prod", "source": ...}); NULL
 * when absent or neither. */
const char *cde_answer_content_ref(const cJSON *content, const char *field);

/* cde_answer_content_ref of @e's subject content. */
const char *cde_answer_event_ref(const struct cde_answer_event *e, const char *field);

/* @e's subject type and predicate are @subject_type and @predicate. */
bool cde_answer_event_is(const struct cde_answer_event *e, const char *subject_type, const char *predicate);
