#pragma once
/* The memory of signed requests already accepted (Standard Webhooks ids,
 * GitHub-signed bodies), per principal, kept in the state directory so
 * that a restart does not reopen the replay window. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CDE_REPLAY_FILE "replay.bin"

struct cde_replay;

/* Opens the memory. With @dir, the records of @dir/replay.bin (created
 * when missing) are read, expired and forgotten ones dropped, and the file
 * rewritten compacted and kept open for appending; with @dir NULL the
 * memory lives in RAM only. Each principal holds at most @per_principal
 * keys. Returns 0 and the memory in *@ret, or -errno with the reason in
 * @err ("replay.bin: not a cdeventsd replay file"). */
int cde_replay_open(const char *dir, size_t per_principal, time_t now, struct cde_replay **ret,
		    char *err, size_t err_size);

/* Closes the file and frees @r; accepts NULL; returns NULL. */
struct cde_replay *cde_replay_free(struct cde_replay *r);

/* True when @principal's @key is remembered and has not expired at @now. */
bool cde_replay_seen(struct cde_replay *r, const char *principal, const uint8_t key[32], time_t now);

/* Remembers @principal's @key until @expires, pending (in RAM) until
 * cde_replay_confirm. Returns 0, -EEXIST when it is remembered and
 * confirmed already (a re-send of an answered request), -EBUSY when it is
 * pending (its first copy is still being handled), -ENOSPC when the
 * principal's memory is full of keys that have not expired (a remembered
 * key is never evicted early: that would reopen its replay), or -ENOMEM. */
int cde_replay_remember(struct cde_replay *r, const char *principal, const uint8_t key[32],
			time_t expires, time_t now);

/* The request of @principal's pending @key was answered with success:
 * the key is written to the file, so it outlives a restart. */
void cde_replay_confirm(struct cde_replay *r, const char *principal, const uint8_t key[32], time_t now);

/* Forgets @principal's @key (and records that, if it was written), so
 * that a request refused after authentication can be retried. */
void cde_replay_forget(struct cde_replay *r, const char *principal, const uint8_t key[32]);
