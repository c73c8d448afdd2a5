#pragma once
/* Chain correlation for events posted without a chainId: the store's side
 * (the lookups); the rules are events/correlate.h's. */

#include <sqlite3.h>

#include "events/event.h"

/* Gives @ev, not yet shared, the chainId of the release it belongs to and
 * a PATH link from the chain's latest event, as cde_correlate decides from
 * the store's prepared statements (the latest chain of a subject, of an
 * artifact; the latest event id of a chain). Returns 0, -EINVAL, -ENOMEM. */
int cde_audit_correlate(sqlite3_stmt *chain_of_subject, sqlite3_stmt *chain_of_artifact,
			sqlite3_stmt *chain_head, struct cde_event *ev);
