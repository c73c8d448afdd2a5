#pragma once
/* Event ids and timestamps. */

#include <stddef.h>
#include <time.h>

#define CDE_UUID_STR_LEN 37	/* 36 characters and the terminator */
#define CDE_TIMESTAMP_STR_LEN 32

/* Writes a time-ordered (version 7, RFC 9562) UUID in lower case into
 * @out: 48 bits of milliseconds, 12 of their fraction, 62 random. */
void cde_uuid_v7(char out[CDE_UUID_STR_LEN]);

/* Writes @ts as RFC 3339 UTC with microseconds, e.g.
 * "2025-01-31T12:00:00.123456Z". Returns 0, or -EOVERFLOW for a time
 * outside years 0000-9999. */
int cde_timestamp_format(const struct timespec *ts, char out[CDE_TIMESTAMP_STR_LEN]);

/* The current time, formatted as cde_timestamp_format does. */
int cde_timestamp_now(char out[CDE_TIMESTAMP_STR_LEN]);

/* Reads the RFC 3339 date-time @ts (may be NULL): "2025-01-31T04:00:00Z",
 * with a fraction and an offset ("...T04:00:00.5+02:00"), 'T' and 'Z' in
 * either case; nothing else around it, and every field in range (the day
 * must exist). Stores the instant in *@ret (the fraction cut to
 * nanoseconds). Returns 0 or -EINVAL. */
int cde_timestamp_read(const char *ts, struct timespec *ret);

/* Seconds since the epoch of an RFC 3339 time as cde_timestamp_read reads
 * it, or -1 when @ts (may be NULL) is not one. */
double cde_timestamp_parse(const char *ts);

/* Writes the RFC 3339 date-time @ts, or the full-date "2025-01-31" (its
 * midnight UTC), as cde_timestamp_format writes times (UTC, microseconds,
 * the form received_at is stored in, so the two compare as strings), a
 * finer fraction rounded up. Returns 0, or -EINVAL when @ts is not such a
 * time or falls outside years 0000-9999 in UTC. */
int cde_timestamp_canonical(const char *ts, char out[CDE_TIMESTAMP_STR_LEN]);
