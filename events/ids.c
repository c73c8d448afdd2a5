/* Ids and timestamps for the events cdeventsd builds: UUIDv4 from libuuid
 * (which reads the kernel's random source), and RFC 3339 UTC times with
 * microseconds so that events of one pipeline sort in the order they were
 * made even when several fall in one millisecond. */

#include "events/ids.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

void cde_uuid_v4(char out[CDE_UUID_STR_LEN])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

int cde_timestamp_format(const struct timespec *ts, char out[CDE_TIMESTAMP_STR_LEN])
{
	struct tm tm;

	if (!gmtime_r(&ts->tv_sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	/* Formatted with room to spare, then copied: the compiler cannot see
	 * that the year check above bounds the length. */
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ts->tv_nsec / 1000 % 1000000));

	if (n < 0 || n >= CDE_TIMESTAMP_STR_LEN)
		return -EOVERFLOW;
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

int cde_timestamp_now(char out[CDE_TIMESTAMP_STR_LEN])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	return cde_timestamp_format(&ts, out);
}

double cde_timestamp_parse(const char *ts)
{
	struct tm tm = { 0 };
	const char *rest = ts ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	double t, frac = 0;
	char *end;

	if (!rest)
		return -1;
	t = (double)timegm(&tm);
	if (*rest == '.') {
		frac = strtod(rest, &end);
		rest = end;
	}
	if (*rest == 'Z' || *rest == 'z')
		return t + frac;
	if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
		int h = atoi(rest + 1), m = atoi(rest + 4), sign = *rest == '+' ? 1 : -1;

		return t + frac - sign * (h * 3600 + m * 60);
	}
	return -1;
}
