#pragma once
/* Queries over the audit log: the filters of GET /v1/events and
 * `cdevctl audit query`, and the records they return. */

#include <stdbool.h>
#include <stdint.h>

#include "sinks/audit/audit_store.h"

struct cde_audit_filter {
	const char *subject;		/* subject.id */
	const char *type;		/* exact, or without its version: dev.cdevents.service.deployed */
	const char *source;		/* context.source */
	const char *chain_id;
	const char *artifact_id;	/* the artifact an event is about */
	const char *environment;	/* subject.content.environment.id */
	const char *since;		/* received at or after (RFC 3339 with an offset, or a date:
					 * 2025-01-31 is its midnight UTC; cde_timestamp_canonical) */
	const char *until;		/* received before */
	uint64_t after;			/* seq after this one (before it when descending); <= INT64_MAX */
	uint64_t limit;			/* 0: no limit; <= INT64_MAX */
	bool descending;
	bool no_event;			/* records may come with "" for the event: the reader needs the
					 * columns alone, and a 900 KiB event costs a store to read
					 * (the stores then give chain_id) */
};

/* One row as the API returns it. Strings live until the callback returns. */
struct cde_audit_record {
	uint64_t seq;
	const char *received_at;
	const char *principal;
	const char *peer;
	const char *prev_hash;
	const char *hash;
	const char *event;		/* the CDEvent as stored, JSON text */
	const char *chain_id;		/* its context.chainId as the log indexed it, "" for none;
					 * NULL: the source does not say (read the event) */
	uint64_t chain_via;		/* the row whose chain correlation joined it to; 0: none (the
					 * producer named the chain, it started one, the daemon's own
					 * events, rows stored before schema 5) */
	const char *deliveries;		/* lookups by id: a JSON array of {sink, deliveredAt,
					 * status, receipt}; NULL elsewhere */
};

/* Calls @fn for each matching record, in seq order (or reverse); stops
 * when @fn returns non-zero and returns that. Returns 0, -EINVAL for a
 * time or number the filter cannot hold, or -EIO. */
int cde_audit_query(struct cde_audit_store *s, const struct cde_audit_filter *f,
		    int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx);

/* Reads a sequence number or a count as queries take them: decimal
 * digits only (no sign, no space), at most INT64_MAX (SQLite's integers).
 * Returns 0, or -EINVAL with *@ret untouched. */
int cde_audit_parse_seq(const char *s, uint64_t *ret);

/* Calls @fn for each record of the event @id (unique per source, so
 * usually one), at most @limit, in seq order. Returns 0, what @fn
 * returned, or -EIO. */
int cde_audit_query_id(struct cde_audit_store *s, const char *id, uint64_t limit,
		       int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx);

/* Whether retention has deleted rows of chain @chain (audit_retention.c
 * names each chain it cuts): *@ret is the last seq it deleted of it, 0
 * when none (also on a file of a schema before 6, which has no such
 * record). Returns 0 or -EIO. */
int cde_audit_chain_retired(struct cde_audit_store *s, const char *chain, uint64_t *ret);

/* The same for artifact @artifact (retired_artifacts, schema 7): whether
 * retention has deleted rows naming it. Returns 0 or -EIO. */
int cde_audit_artifact_retired(struct cde_audit_store *s, const char *artifact, uint64_t *ret);

/* The record as one line of JSON: {"seq", "receivedAt", "principal",
 * "peer", "prevHash", "hash", ["chainVia",] ["deliveries",] "event"} with
 * the event spliced in exactly as stored; chainVia is the seq of the
 * event a correlated one joined its chain through. Returns a malloc'd string or NULL when out of memory. */
char *cde_audit_record_to_json(const struct cde_audit_record *rec);
