#pragma once
/* Change tickets from events (`tickets:`): a deployment accepted in a
 * configured environment gets a ticket.created in its chain (summary, the
 * artifact, the gate's decision, links), closed by a ticket.closed when
 * the chain's pipeline run finishes. Pure: the log is read through a
 * cde_audit_source, the events are built, nothing is written. */

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

#define CDE_TICKET_CREATED_TYPE "dev.cdevents.ticket.created.0.2.0"
#define CDE_TICKET_CLOSED_TYPE "dev.cdevents.ticket.closed.0.2.0"
#define CDE_TICKET_SUBJECT_PREFIX "change/"

/* The latest gate decision for @artifact in @environment that the daemon
 * wrote itself (context.source @source, logged under the principal it
 * names) for @principal, the one whose deployment the ticket records, as
 * its record in *@ret ({"seq", "event"}; NULL when that principal asked
 * none): another principal's allow says nothing of this deployment.
 * Returns 0, -ENOMEM, or the source's error. */
int cde_ticket_gate_decision(const struct cde_audit_source *src, const char *source, const char *principal,
			     const char *environment, const char *artifact, cJSON **ret);

/* The ticket.created of the deployment @deployment (its event as stored,
 * at @seq, posted by @principal), with @decision as
 * cde_ticket_gate_decision found it (or NULL), given @id, @source and
 * @timestamp: subject "change/DEPLOYMENT-ID", in the deployment's chain,
 * RELATION links to the deployment and the decision, and the two in
 * customData. NULL when out of memory or @deployment is no deployment. */
cJSON *cde_ticket_created_event(const cJSON *deployment, uint64_t seq, const char *principal, const cJSON *decision,
				const char *id, const char *source, const char *timestamp);

/* The tickets this made in the chain @chain for deployments @principal
 * posted that no ticket.closed has closed: their ticket.created events,
 * in *@ret (a JSON array). Returns 0, -ENOMEM, or the source's error. */
int cde_tickets_open(const struct cde_audit_source *src, const char *chain, const char *principal, cJSON **ret);

/* The ticket.closed of @created when the pipeline run @finished (its
 * pipelinerun.finished event) ended, posted by @principal: resolution
 * "completed" on success, else the run's outcome. NULL when out of
 * memory. */
cJSON *cde_ticket_closed_event(const cJSON *created, const cJSON *finished, const char *principal, const char *id,
			       const char *source, const char *timestamp);
