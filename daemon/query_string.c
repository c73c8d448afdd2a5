/* Query-string parsing for the GET API. Decoding happens into a bounded
 * stack buffer: a query is at most a header line long. */

#include "daemon/query_string.h"

#include <errno.h>
#include <string.h>

#include "schemas/base/hex.h"

#define QUERY_MAX 2048

/* Decodes @n bytes of @s into @out (NUL-terminated). */
static int decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? cde_hex_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? cde_hex_value(s[i + 2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return 0;
}

int cde_query_parse(const char *query, int (*fn)(void *ctx, const char *name, const char *value),
		    void *ctx)
{
	char buf[QUERY_MAX + 1];

	if (!query)
		return 0;
	if (strlen(query) > QUERY_MAX)
		return -E2BIG;
	for (const char *p = query; *p;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t nl = eq ? (size_t)(eq - p) : len;
		char *name = buf, *value;
		int r;

		if (len == 0) {
			p++;
			continue;
		}
		r = decode(p, nl, name);
		if (r < 0)
			return r;
		value = name + strlen(name) + 1;
		value[0] = '\0';
		if (eq) {
			r = decode(eq + 1, len - nl - 1, value);
			if (r < 0)
				return r;
		}
		r = fn(ctx, name, value);
		if (r)
			return r;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}
