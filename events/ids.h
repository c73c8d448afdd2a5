#pragma once
/* Event ids and timestamps. */

#include <stddef.h>
#include <time.h>

#define CDE_UUID_STR_LEN 37	/* 36 characters and the terminator */
#define CDE_TIMESTAMP_STR_LEN 32

/* Writes a random (version 4) UUID in lower case into @out. */
void cde_uuid_v4(char out[CDE_UUID_STR_LEN]);

/* Writes @ts as RFC 3339 UTC with microseconds, e.g.
 * "2025-01-31T12:00:00.123456Z". Returns 0, or -EOVERFLOW for a time
 * outside years 0000-9999. */
int cde_timestamp_format(const struct timespec *ts, char out[CDE_TIMESTAMP_STR_LEN]);

/* The current time, formatted as cde_timestamp_format does. */
int cde_timestamp_now(char out[CDE_TIMESTAMP_STR_LEN]);

/* Seconds since the epoch of an RFC 3339 time, with its fraction
 * ("...Z", "...+02:00"), or -1 when @ts (may be NULL) is not one. */
double cde_timestamp_parse(const char *ts);
