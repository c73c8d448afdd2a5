/* Values with units, as people write them in a config file: sizes
 * ("1MiB"), durations ("10s") and listen addresses. */

#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	unsigned long long factor;
};

/* Parses "<digits>[ ]<unit>" with @unit one of @units, scaled, at most
 * @max. */
static int parse_scaled(const char *s, const struct unit *units, size_t n_units,
			unsigned long long max, unsigned long long *ret)
{
	unsigned long long n;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < n_units; i++) {
		if (strcmp(end, units[i].name) == 0) {
			if (n > max / units[i].factor)
				return -EINVAL;
			*ret = n * units[i].factor;
			return 0;
		}
	}
	return -EINVAL;
}

int cde_config_parse_size(const char *s, size_t *ret)
{
	static const struct unit units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
		{ "TiB", 1ull << 40 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
		{ "TB", 1000000000000ull },
	};
	unsigned long long v;
	int r = parse_scaled(s, units, sizeof(units) / sizeof(units[0]), SIZE_MAX, &v);

	if (r == 0)
		*ret = (size_t)v;
	return r;
}

int cde_config_parse_duration(const char *s, unsigned *ret_ms)
{
	static const struct unit units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	unsigned long long v;
	int r = parse_scaled(s, units, sizeof(units) / sizeof(units[0]), UINT_MAX, &v);

	if (r == 0)
		*ret_ms = (unsigned)v;
	return r;
}

int cde_config_parse_age(const char *s, uint64_t *ret_s)
{
	static const struct unit units[] = {
		{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 7 * 86400 },
	};
	unsigned long long v;
	/* A century is more than any retention rule asks for, and keeps
	 * "now - age" far from overflowing. */
	int r = parse_scaled(s, units, sizeof(units) / sizeof(units[0]), 100ull * 366 * 86400, &v);

	if (r == 0)
		*ret_s = v;
	return r;
}

int cde_config_split_listen(const char *listen, char *host, size_t size, unsigned short *port)
{
	const char *colon = strrchr(listen, ':');
	char *end;
	unsigned long p;
	size_t hl;

	if (!colon || colon == listen || colon[1] == '\0')
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end || errno || p > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	hl = (size_t)(colon - listen);
	if (listen[0] == '[') {
		if (colon[-1] != ']' || hl < 3)
			return -EINVAL;
		listen++;
		hl -= 2;
	} else if (memchr(listen, ':', hl)) {
		return -EINVAL; /* an IPv6 address needs brackets */
	}
	if (hl == 0 || hl >= size)
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	*port = (unsigned short)p;
	return 0;
}

static bool is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

bool cde_config_listen_is_loopback(const char *listen)
{
	char host[256];
	unsigned short port;

	return cde_config_split_listen(listen, host, sizeof(host), &port) == 0 && is_loopback_host(host);
}
