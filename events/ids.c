/* Ids and timestamps for the events cdeventsd builds: UUIDv7 (time, then
 * the kernel's random bits), and RFC 3339 UTC times with microseconds so that
 * events of one pipeline sort in the order they were made even when
 * several fall in one millisecond. Times are read as RFC 3339 instants
 * (with their offset) by one strict parser. */

#include "events/ids.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

/* libuuid's uuid_generate_random makes a getrandom call per id and checks
 * for a fork with getpid/getppid/getuid calls, which a profile of ingest
 * showed on the loop thread per event. Each thread draws from its own
 * buffer of kernel randomness instead, refilled 16 ids at a time (a
 * getrandom of at most 256 bytes is never cut short by a signal), and a
 * fork empties the forking thread's buffer in the child, the only thread
 * a child has, so parent and child never hand out the same bytes. */
#define ID_POOL 256

static _Thread_local uint8_t id_pool[ID_POOL];
static _Thread_local size_t id_pool_left;
static pthread_once_t id_pool_once = PTHREAD_ONCE_INIT;

static void id_pool_forget(void)
{
	memset(id_pool, 0, sizeof(id_pool));
	id_pool_left = 0;
}

static void id_pool_setup(void)
{
	pthread_atfork(NULL, NULL, id_pool_forget);
}

/* 16 random bytes into @out: false when the kernel gave none. */
static bool id_pool_take(uint8_t out[16])
{
	uint8_t *p;

	pthread_once(&id_pool_once, id_pool_setup);
	if (id_pool_left < 16) {
		if (getrandom(id_pool, ID_POOL, 0) != ID_POOL)
			return false;
		id_pool_left = ID_POOL;
	}
	p = id_pool + ID_POOL - id_pool_left;
	memcpy(out, p, 16);
	memset(p, 0, 16); /* handed out once: not kept in memory */
	id_pool_left -= 16;
	return true;
}

/* RFC 9562 UUIDv7: 48 bits of Unix milliseconds, then (method 3 of its
 * section 6.2) 12 bits of the millisecond's fraction, then 62 random
 * bits. Ids made later sort later, so the audit log's indexes on ids
 * and chain ids take each new one at their right edge instead of on a
 * random page: a random id cost the writer a page written per index per
 * event (the ingest profile: most of its time was writing such pages). */
void cde_uuid_v7(char out[CDE_UUID_STR_LEN])
{
	struct timespec ts;
	uint64_t ms, frac;
	uuid_t u;

	if (!id_pool_take(u))
		uuid_generate_random(u); /* the kernel gave nothing: its random bits still */
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	frac = (uint64_t)(ts.tv_nsec % 1000000) * 4096u / 1000000u;
	for (int i = 0; i < 6; i++)
		u[i] = (uint8_t)(ms >> (40 - 8 * i));
	u[6] = (uint8_t)(0x70 | (frac >> 8));	/* version 7 */
	u[7] = (uint8_t)frac;
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);	/* RFC 9562 variant */
	uuid_unparse_lower(u, out);
}

/* @n decimal digits of @v at @p. */
static char *put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

int cde_timestamp_format(const struct timespec *ts, char out[CDE_TIMESTAMP_STR_LEN])
{
	/* The calendar of the last second asked for, per thread: three
	 * stamps an event (its timestamp, receivedAt, the log line's) fall
	 * mostly in one second. */
	static _Thread_local time_t last_sec;
	static _Thread_local bool last_valid;	/* no second is free to mean "none" */
	static _Thread_local struct tm last_tm;
	char *p = out;

	if (!last_valid || ts->tv_sec != last_sec) {
		struct tm tm;

		if (!gmtime_r(&ts->tv_sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
			return -EOVERFLOW;
		last_tm = tm;
		last_sec = ts->tv_sec;
		last_valid = true;
	}
	/* "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" without stdio: per event. */
	p = put_digits(p, last_tm.tm_year + 1900, 4);
	*p++ = '-';
	p = put_digits(p, last_tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, last_tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, last_tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, last_tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, last_tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (int)(ts->tv_nsec / 1000 % 1000000), 6);
	*p++ = 'Z';
	*p = '\0';
	return 0;
}

int cde_timestamp_now(char out[CDE_TIMESTAMP_STR_LEN])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	return cde_timestamp_format(&ts, out);
}

/* @n decimal digits at @s into *@ret; false when one is not a digit. */
static bool read_digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* "YYYY-MM-DD" at @s into @tm; false unless that day exists. */
static bool read_date(const char *s, struct tm *tm)
{
	int y, m, d;
	struct tm check;

	if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &m) || s[7] != '-' ||
	    !read_digits(s + 8, 2, &d))
		return false;
	*tm = (struct tm){ .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	/* timegm carries a day past the month's end into the next one. */
	check = *tm;
	timegm(&check);
	return m >= 1 && m <= 12 && check.tm_mon == m - 1 && check.tm_mday == d;
}

/* ".ddd..." at *@p into *@ns (digits past the ninth only set *@finer). */
static bool read_fraction(const char **p, long *ns, bool *finer)
{
	const char *s = *p + 1;
	int n = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n < 9)
			*ns = *ns * 10 + (*s - '0');
		else if (*s != '0')
			*finer = true;
	}
	for (int k = n; k < 9; k++)
		*ns *= 10;
	*p = s;
	return n > 0;
}

/* An instant: seconds, nanoseconds, and whether the text said more
 * than nanoseconds hold. */
struct instant {
	time_t sec;
	long nsec;
	bool finer;
};

/* RFC 3339: YYYY-MM-DD[Tt]HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM), nothing
 * around it; with @date_ok also a bare full-date, read as its midnight
 * UTC. */
static int read_instant(const char *s, bool date_ok, struct instant *ret)
{
	struct instant at = { 0 };
	int hh, mi, ss, oh = 0, om = 0, sign = 0;
	struct tm tm;
	const char *p = s + 10;

	if (strnlen(s, 10) < 10 || !read_date(s, &tm))
		return -EINVAL;
	if (*p == '\0' && date_ok) {
		ret->sec = timegm(&tm);
		ret->nsec = 0;
		ret->finer = false;
		return 0;
	}
	if ((*p != 'T' && *p != 't') || !read_digits(p + 1, 2, &hh) || p[3] != ':' ||
	    !read_digits(p + 4, 2, &mi) || p[6] != ':' || !read_digits(p + 7, 2, &ss) || hh > 23 ||
	    mi > 59 || ss > 60)
		return -EINVAL;
	p += 9;
	if (*p == '.' && !read_fraction(&p, &at.nsec, &at.finer))
		return -EINVAL;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && read_digits(p + 1, 2, &oh) && p[3] == ':' &&
		   read_digits(p + 4, 2, &om) && p[6] == '\0' && oh <= 23 && om <= 59) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -EINVAL;
	}
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss; /* a leap second (:60) is the next minute's :00 */
	at.sec = timegm(&tm) - sign * (oh * 3600 + om * 60);
	*ret = at;
	return 0;
}

int cde_timestamp_read(const char *ts, struct timespec *ret)
{
	struct instant at;

	if (!ts || read_instant(ts, false, &at) < 0)
		return -EINVAL;
	ret->tv_sec = at.sec;
	ret->tv_nsec = at.nsec;
	return 0;
}

double cde_timestamp_parse(const char *ts)
{
	struct timespec at;

	if (cde_timestamp_read(ts, &at) < 0)
		return -1;
	return (double)at.tv_sec + (double)at.tv_nsec / 1e9;
}

int cde_timestamp_canonical(const char *ts, char out[CDE_TIMESTAMP_STR_LEN])
{
	struct instant at;
	struct timespec up;
	long us;

	if (!ts || read_instant(ts, true, &at) < 0)
		return -EINVAL;
	/* Rounded up to the microsecond: stored times have microseconds, and
	 * for them t >= x and t < x hold exactly when they hold for x
	 * rounded up. */
	us = at.nsec / 1000 + (at.nsec % 1000 || at.finer ? 1 : 0);
	up.tv_sec = at.sec + us / 1000000;
	up.tv_nsec = us % 1000000 * 1000;
	return cde_timestamp_format(&up, out) < 0 ? -EINVAL : 0;
}
