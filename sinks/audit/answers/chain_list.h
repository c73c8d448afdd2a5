#pragma once
/* The chains (releases) of the log, newest first, a page at a time: what
 * a list of releases reads instead of every event. Pure: the log is read
 * through a cde_audit_source. */

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

#define CDE_CHAIN_LIST_DEFAULT 25
#define CDE_CHAIN_LIST_MAX 100
/* Events read at most for one page: a page of chains that are each one
 * event among millions of others' is cut there, and says where to go on. */
#define CDE_CHAIN_LIST_SCAN_MAX 20000

struct cde_chain_list_params {
	/* Events that place a chain: its latest such event orders it. Any
	 * filter of GET /v1/events but chain_id; after, descending and
	 * limit are this list's own. */
	struct cde_audit_filter filter;
	uint64_t after;		/* chains whose latest matching event is before this seq (0: any) */
	uint64_t head;		/* the head the first page answered: events after it are not
				 * read, so a chain that gets one while a client pages keeps
				 * its place (0: no bound) */
	uint64_t limit;		/* chains a page: 1 to CDE_CHAIN_LIST_MAX */
	uint64_t scan_max;	/* rows read at most, the checks' too (0: CDE_CHAIN_LIST_SCAN_MAX) */
};

/* The page of chains @p asks for: *@ret is {"chains": [{"chainId",
 * "matchedSeq" (its latest matching event), "firstSeq",
 * "firstReceivedAt", "lastSeq", "lastReceivedAt"}], "nextAfter": seq or
 * null, "head": seq or null, "scanned": rows read}, ordered by
 * matchedSeq, newest first. "head" is @p->head, or on a first page
 * without one the latest matching event (null: none): the next pages
 * pass it with nextAfter. A page cut by scan_max has fewer chains and a
 * nextAfter to go on from. Returns 0, -EINVAL (a limit out of range, a
 * head below after), -ENOMEM, or the source's error. */
int cde_chain_list(const struct cde_audit_source *src, const struct cde_chain_list_params *p, cJSON **ret);
