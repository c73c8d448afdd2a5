#pragma once
/* Chain correlation for events posted without a chainId. */

#include <sqlite3.h>

#include "events/event.h"

/* The artifact an event is about (an artifact event's subject, or the
 * artifactId of builds, deployments and incidents), or NULL. */
const char *cde_audit_artifact_of(const struct cde_event *ev);

/* Gives @ev the chainId of the release it belongs to, found with the
 * store's prepared statements (the latest chain of a subject, of an
 * artifact; the latest event id of a chain), or a new one, and a PATH
 * link from the chain's latest event. Returns 0 or -ENOMEM. */
int cde_audit_correlate(sqlite3_stmt *chain_of_subject, sqlite3_stmt *chain_of_artifact,
			sqlite3_stmt *chain_head, struct cde_event *ev);
