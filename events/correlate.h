#pragma once
/* Chain correlation: which release an event posted without a chainId
 * belongs to. The rules live here; what the log knows is asked through
 * struct cde_chain_log, so the store answers from its own transaction and
 * a test from a table. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event.h"
#include "events/limits.h"

/* What the log knows. Each lookup copies its answer (at most @size bytes
 * with the terminator) into @out and returns true, or returns false when
 * the log knows nothing of @key. Asked only as far as the rules need.
 * The chain lookups also give the seq of the event they found (*@seq):
 * the event whose chain is joined, which a reader weighs (a gate trusts
 * a chain joined through an untrusted principal's event no more than
 * that event). */
struct cde_chain_log {
	/* The chain of the latest event whose subject is @key. */
	bool (*chain_of_subject)(void *ctx, const char *key, char *out, size_t size, uint64_t *seq);
	/* The chain of the latest event about artifact @key. */
	bool (*chain_of_artifact)(void *ctx, const char *key, char *out, size_t size, uint64_t *seq);
	/* The id of the latest event of chain @key. */
	bool (*latest_of_chain)(void *ctx, const char *key, char *out, size_t size);
	/* The chain of the latest deployment (service deployed, upgraded or
	 * rolled back) of service @service in environment @environment. */
	bool (*chain_of_deployment)(void *ctx, const char *service, const char *environment, char *out,
				    size_t size, uint64_t *seq);
	/* Whether an event of chain @chain names an artifact other than
	 * @artifact (the log's own events, such as gate decisions, aside). */
	bool (*chain_names_other_artifact)(void *ctx, const char *chain, const char *artifact);
	void *ctx;
};

/* The decision for one event. */
struct cde_correlation {
	bool new_chain;				  /* nothing known: start a chain */
	char chain_id[CDE_EVENT_ID_MAX + 1];	  /* the chain to join, unless new_chain */
	char path_from[CDE_EVENT_ID_MAX + 1];	  /* a PATH link from this id; "" for none */
	uint64_t via_seq;			  /* the event whose chain is joined; 0 with new_chain */
};

/* The artifact @ev is about (an artifact event's subject, or the
 * artifactId of builds, deployments and incidents), or NULL. Borrowed
 * from @ev. */
const char *cde_event_artifact_of(const struct cde_event *ev);

/* Decides the chain of @ev from what @log knows: the chain of the pipeline
 * run a task run names, else of the artifact it is about, else of its own
 * subject, else (an incident) of the latest deployment of the service it
 * names in its environment; with none, a new chain. When @ev names an
 * artifact the log does not know, a chain found by its subject or by the
 * deployment counts only if it names no other artifact: those keys are
 * names reused from release to release (a service, a job), and another
 * release's chain is not the new artifact's. A joined chain's latest
 * event, when there is one, is the source of a PATH link, so a consumer
 * can rebuild the graph from the events alone. Fills *@ret; never fails. */
void cde_correlate(const struct cde_event *ev, const struct cde_chain_log *log,
		   struct cde_correlation *ret);

/* The keys cde_correlate asks the log about, in the order it asks: the
 * subject of the pipeline run @ev names, the artifact it is about, its
 * own subject, the service (with its environment) an incident names;
 * each may be NULL (borrowed from @ev), service and environment both or
 * neither. A store that answers the whole question in one query
 * (PostgreSQL: one round trip rather than five) looks them up in this
 * order, skips a subject's or deployment's chain that names an artifact
 * other than a non-NULL @artifact (as cde_correlate does), and fills a
 * cde_correlation with cde_correlation_found. */
struct cde_correlation_keys {
	const char *run_subject;
	const char *artifact;
	const char *subject;
	const char *service;
	const char *environment;
};
void cde_correlation_keys_of(const struct cde_event *ev, struct cde_correlation_keys *ret);

/* The decision when the log's answer is @chain_id (NULL: none), found on
 * the event of seq @via_seq, and that chain's latest event is @latest_id
 * (NULL: none). */
void cde_correlation_found(const char *chain_id, uint64_t via_seq, const char *latest_id,
			   struct cde_correlation *ret);

/* Applies @c to @ev, which is still being built (not yet shared): sets
 * its chainId (a fresh UUIDv4 for a new chain) and adds the PATH link.
 * Returns 0, -EINVAL, -ENOMEM. */
int cde_correlation_apply(struct cde_event *ev, const struct cde_correlation *c);
