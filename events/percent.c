/* Header value coding for the CloudEvents HTTP binding: attribute values are
 * Unicode, HTTP header values are a narrow ASCII subset, and the binding
 * bridges the two with percent-encoding of UTF-8. */

#include "events/percent.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/hex.h"
#include "schemas/base/json_strict.h"

static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '%';
}

char *cde_pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char *out, *o;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += needs_escape(*p) ? 3 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (needs_escape(*p)) {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

int cde_pct_decode(const char *s, char **ret)
{
	size_t n = strlen(s), len = 0;
	char *out = malloc(n + 1);

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[len++] = s[i];
			continue;
		}
		/* s[i + 1] is at worst the terminator, which stops the read. */
		int hi = cde_hex_value(s[i + 1]);
		int lo = hi >= 0 ? cde_hex_value(s[i + 2]) : -1;

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return -EINVAL;
		}
		out[len++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[len] = '\0';
	if (cde_utf8_check(out, len) != len) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	return 0;
}
