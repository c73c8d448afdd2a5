#pragma once
/* Chain correlation for events posted without a chainId: the store's side
 * (the lookups); the rules are events/correlate.h's. */

#include <stdint.h>

#include <sqlite3.h>

#include "events/event.h"
#include "sinks/audit/audit_memo.h"

/* The latest chain that deployed service @svc (service deployed,
 * upgraded or rolled back: what runs there now) in environment @env, which
 * @env_expr reads from a row, as the columns @cols of that row: one
 * statement for both stores, each with its own parameter syntax and JSON
 * operator. The subject's index finds the service's events; the few that
 * are deployments are read. */
#define CDE_AUDIT_DEPLOYMENT_SQL(cols, svc, env, env_expr)                                        \
	"SELECT " cols " FROM events WHERE subject = " svc " AND chain_id IS NOT NULL"             \
	" AND (type LIKE 'dev.cdevents.service.deployed.%' OR type LIKE 'dev.cdevents.service.upgraded.%'" \
	" OR type LIKE 'dev.cdevents.service.rolledback.%') AND " env_expr " = " env                \
	" ORDER BY seq DESC LIMIT 1"

/* The rows correlation may follow: not the daemon's own events (gate
 * decisions, tickets, dev.cdeventsx.cdeventsd-*), which name an artifact
 * and a subject (gates/prod) without being evidence of a release, so
 * that one could carry a later hook into another release's chain. */
#define CDE_AUDIT_NOT_OWN_SQL " AND substr(type, 1, 24) <> 'dev.cdeventsx.cdeventsd-'"
#define CDE_AUDIT_OWN_PREFIX "dev.cdeventsx.cdeventsd-"

/* Whether chain ?1 (the stores' parameter syntax: @chain) names an
 * artifact other than @artifact, asked of its latest 1,000 events (the
 * daemon's own aside) only: it runs on the writer for a hook about an
 * artifact the log does not know, and a whole chain could be read each
 * time. A longer chain counts as naming another (its start might): such
 * a hook starts a chain of its own, the safe mistake. One row when it
 * does, none when not. */
#define CDE_AUDIT_OTHER_ARTIFACT_SQL(chain, artifact)                                                \
	"SELECT 1 FROM (SELECT count(*) AS n, sum(CASE WHEN w.artifact_id IS NOT NULL AND w.artifact_id <> " \
	artifact " THEN 1 ELSE 0 END) AS other FROM (SELECT artifact_id FROM events WHERE chain_id = "   \
	chain CDE_AUDIT_NOT_OWN_SQL " ORDER BY seq DESC LIMIT 1001) w) a WHERE a.n > 1000 OR a.other > 0"

/* The store's prepared statements correlation asks, each with the
 * lookup's key(s) bound as parameters 1 (and 2), each selecting the
 * answer and (the chain lookups) the seq of the row it is read from. */
struct cde_audit_lookups {
	sqlite3_stmt *chain_of_subject;		/* subject -> the latest chain */
	sqlite3_stmt *chain_of_artifact;	/* artifact id -> the latest chain */
	sqlite3_stmt *chain_head;		/* chain -> its latest event's id */
	sqlite3_stmt *chain_of_deployment;	/* service, environment -> the latest chain */
	sqlite3_stmt *other_artifact;		/* chain, artifact -> a row if it names another */
	struct cde_audit_memo *memo;		/* the first two answers, when known (NULL: none) */
};

/* Gives @ev, not yet shared, the chainId of the release it belongs to and
 * a PATH link from the chain's latest event, as cde_correlate decides from
 * @l; *@via_seq is the seq of the row whose chain it joined (its
 * chain_via), 0 when it starts a chain. Returns 0, -EINVAL, -ENOMEM. */
int cde_audit_correlate(const struct cde_audit_lookups *l, struct cde_event *ev, uint64_t *via_seq);
