/* Values with units, as people write them in a config file: sizes
 * ("1MiB"), durations ("10s") and listen addresses. */

#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_number_unit(const char *s, unsigned long long *num, const char **unit)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*num = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	*unit = end;
	return 0;
}

int cde_config_parse_size(const char *s, size_t *ret)
{
	static const struct {
		const char *unit;
		unsigned long long factor;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
	};
	unsigned long long n;
	const char *unit;

	if (parse_number_unit(s, &n, &unit) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			if (n > SIZE_MAX / units[i].factor)
				return -EINVAL;
			*ret = (size_t)(n * units[i].factor);
			return 0;
		}
	}
	return -EINVAL;
}

int cde_config_parse_duration(const char *s, unsigned *ret_ms)
{
	static const struct {
		const char *unit;
		unsigned long long ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	unsigned long long n;
	const char *unit;

	if (parse_number_unit(s, &n, &unit) < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			if (n > UINT_MAX / units[i].ms)
				return -EINVAL;
			*ret_ms = (unsigned)(n * units[i].ms);
			return 0;
		}
	}
	return -EINVAL;
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
