#pragma once
/* Dead letters: events a sink refused for good or gave up on, kept in the
 * audit database with why, until someone replays them. Replaying moves a
 * dead letter to the replays table, which the delivery engine of a
 * running daemon (or of the next start) takes from and delivers again. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct cde_dead_letter {
	const char *sink;
	uint64_t seq;
	const char *id;		/* the event's context.id */
	const char *type;
	unsigned attempts;
	const char *error;
	const char *dead_at;
};

/* Calls @fn for each dead letter, oldest first, of @sink (NULL: all
 * sinks) and of the event @id (NULL: all). Returns 0, what @fn returned,
 * or -EIO. */
int cde_dead_letters_list(sqlite3 *db, const char *sink, const char *id,
			  int (*fn)(void *ctx, const struct cde_dead_letter *dl), void *ctx);

/* Moves the matching dead letters (same filters as list) to the replays
 * table, in one transaction. Returns how many, or -EIO. */
int cde_dead_letters_replay(sqlite3 *db, const char *sink, const char *id);

/* The same two on a PostgreSQL connection (the shared log of replicas):
 * whichever replica holds the sink's lease delivers the replays. */
struct pg_conn;
int cde_dead_letters_list_pg(struct pg_conn *c, const char *sink, const char *id,
			     int (*fn)(void *ctx, const struct cde_dead_letter *dl), void *ctx);
int cde_dead_letters_replay_pg(struct pg_conn *c, const char *sink, const char *id);
