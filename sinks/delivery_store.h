#pragma once
/* What the delivery engine keeps in the audit database: a cursor per sink
 * (every row up to it is settled for that sink), a record of each
 * delivery (with the receiver's receipt, e.g. Tekton's eventID), and the
 * dead letters. One handle belongs to the delivery thread. The database
 * is audit.db (SQLite) or PostgreSQL, which several replicas share: then
 * each sink is delivered by the one replica holding its lease. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cde_delivery_store;
struct cde_store_location;

/* Opens its own connection to the audit database @at (which the journal
 * has created, and migrated on PostgreSQL). Returns 0, -ENOMEM, or -EIO
 * (or what connecting returned) with the reason in @err. */
int cde_delivery_store_open_at(const struct cde_store_location *at, struct cde_delivery_store **ret, char *err,
			       size_t err_size);
/* The same on the SQLite file at @path. */
int cde_delivery_store_open(const char *path, struct cde_delivery_store **ret, char *err, size_t err_size);
/* Flushes what it can and closes; releases the leases. Accepts NULL. */
void cde_delivery_store_close(struct cde_delivery_store *s);

/* Takes or confirms the lease of @sink: *@held says whether this handle
 * may deliver it now. SQLite: always (the state directory's lock keeps a
 * second daemon out). PostgreSQL: a session advisory lock, which the
 * server releases when this connection ends (the replica died), so
 * another replica asking once a second takes over. Returns 0 or -EIO
 * (the connection is down: *@held false). */
int cde_delivery_store_lease(struct cde_delivery_store *s, const char *sink, bool *held);

/* Rows other replicas commit: @fn(@ctx, fd) is called with the socket to
 * watch for their notifications (now, and after each reconnection), and
 * with -1 before that socket goes away. SQLite: never called (the journal
 * kicks the engine instead). */
void cde_delivery_store_watch(struct cde_delivery_store *s, void (*fn)(void *ctx, int fd), void *ctx);
/* The watched socket is readable: reads it; true when new rows were
 * announced. */
bool cde_delivery_store_news(struct cde_delivery_store *s);
/* Once a second: on PostgreSQL, reconnects a lost connection (with a
 * backoff of a few seconds at most) and checks a live one. Returns 0
 * when connected, -EIO otherwise. */
int cde_delivery_store_check(struct cde_delivery_store *s);

/* The cursor of @sink; a sink seen for the first time starts at the
 * current head, so adding a sink does not replay the whole history.
 * Returns 0 or -EIO. */
int cde_delivery_store_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_seq);
/* Drops the cursors of sinks not in @sinks, so that a sink removed from
 * the configuration no longer holds retention back. Returns 0 or -EIO. */
int cde_delivery_store_forget_others(struct cde_delivery_store *s, const char *const *sinks, size_t n);

/* Queues @sink's new cursor for the next flush. Returns 0 or -ENOMEM. */
int cde_delivery_store_set_cursor(struct cde_delivery_store *s, const char *sink, uint64_t seq);

/* The last seq in the log, and when row @seq was received ("" if gone). */
uint64_t cde_delivery_store_head(struct cde_delivery_store *s);
void cde_delivery_store_received_at(struct cde_delivery_store *s, uint64_t seq, char *out, size_t size);

/* Calls @fn for up to @limit rows after @after, in order, with the event
 * as stored (JSON) and when it was received. Stops early when @fn returns
 * false. Rows are read from the log a batch at a time and kept: a scan
 * that falls within them, before their last, is served from memory, so
 * fewer than @limit rows may come although more are in the log (ask
 * again after the last row given). Returns 0 or -EIO. */
int cde_delivery_store_scan(struct cde_delivery_store *s, uint64_t after, unsigned limit,
			    bool (*fn)(void *ctx, uint64_t seq, const char *event, const char *received_at),
			    void *ctx);

/* How many times the log was read for a scan: rows read ahead serve the
 * scans they cover without a read. */
unsigned long long cde_delivery_store_reads(const struct cde_delivery_store *s);

/* Queues the record of a delivery of row @seq to @sink (the HTTP status
 * and receipt) for the next flush, flushing first when the queue is full.
 * Returns 0, -ENOMEM or -EIO. */
int cde_delivery_store_delivered(struct cde_delivery_store *s, const char *sink, uint64_t seq, long status,
				 const char *receipt);

/* Writes the queued delivery records and cursors in one transaction;
 * on failure they stay queued. Closing flushes too. Returns 0 or -EIO. */
int cde_delivery_store_flush(struct cde_delivery_store *s);
/* True when something is queued. */
bool cde_delivery_store_dirty(const struct cde_delivery_store *s);

/* Moves row @seq to @sink's dead letters, with why. */
int cde_delivery_store_dead(struct cde_delivery_store *s, const char *sink, uint64_t seq, unsigned attempts,
			    const char *error);

/* Dead letters of @sink still waiting for a replay. */
uint64_t cde_delivery_store_dead_count(struct cde_delivery_store *s, const char *sink);

/* Up to @max seqs that `cdevctl dlq replay` queued for @sink, in order.
 * Returns 0 or -EIO. */
int cde_delivery_store_replays(struct cde_delivery_store *s, const char *sink, size_t max, uint64_t *seqs,
			       size_t *ret_n);

/* A replay of row @seq to @sink is settled (delivered, or dead again);
 * what is queued is flushed first. */
int cde_delivery_store_replay_done(struct cde_delivery_store *s, const char *sink, uint64_t seq);

/* The stored event of row @seq (the caller frees it). Returns 0, -ENOENT
 * (retention deleted it) or -EIO. */
int cde_delivery_store_event(struct cde_delivery_store *s, uint64_t seq, char **ret_json);

/* Witnessing: the tree size up to which @sink has every signed checkpoint
 * (a sink seen for the first time starts just below the latest one, so
 * it gets that one). Returns 0 or -EIO. */
int cde_delivery_store_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t *ret_size);
int cde_delivery_store_set_witness_cursor(struct cde_delivery_store *s, const char *sink, uint64_t size);
/* The first signed checkpoint past tree size @after, its note for the
 * caller to free. Returns 0, -ENOENT (none yet), -ENOMEM or -EIO. */
int cde_delivery_store_checkpoint_after(struct cde_delivery_store *s, uint64_t after, uint64_t *ret_size,
					char **ret_note);
