#pragma once
/* Percent-encoding of HTTP header values (CloudEvents HTTP binding 3.1.3.2). */

#include <stddef.h>

/* Encodes @s for a ce-* header: space, '"', '%' and every byte outside
 * printable ASCII (U+0021..U+007E) become %XX of their UTF-8 bytes.
 * Returns a malloc'd string, or NULL when out of memory. */
char *cde_pct_encode(const char *s);

/* Decodes %XX sequences of @s. Returns 0 and a malloc'd string in *@ret,
 * -EINVAL for a malformed escape, a decoded NUL or a result that is not
 * valid UTF-8, or -ENOMEM. */
int cde_pct_decode(const char *s, char **ret);
