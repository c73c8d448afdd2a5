#pragma once
/* URL query strings ("a=1&b=x%20y"). */

/* Calls @fn with each parameter's name and value, percent-decoded ('+' is
 * a space); a parameter without '=' has the value "". Stops at the first
 * non-zero return of @fn and returns it. Returns 0, -EINVAL for a
 * malformed escape (or a decoded NUL), -E2BIG past 2048 bytes, or what
 * @fn returned. */
int cde_query_parse(const char *query, int (*fn)(void *ctx, const char *name, const char *value),
		    void *ctx);
