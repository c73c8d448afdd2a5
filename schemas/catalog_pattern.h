#pragma once
/* The subset of ECMA-262 regular expressions that catalog patterns may use
 * (JSON Schema's "pattern"), compiled once at load and matched without
 * allocating. */

#include <stdbool.h>
#include <stddef.h>

#include "schemas/base/arena.h"

struct cde_pattern;

/* Compiles @source into @arena. The subset: the anchors ^ and $, literal
 * ASCII characters, escaped punctuation (\.), \d, \w, ".", classes of ASCII
 * characters and ranges ([a-zA-Z0-9], [^-]), each optionally followed by
 * *, +, ?, {n}, {n,} or {n,m}. Anything else (groups, alternation,
 * lookaround, other escapes, non-ASCII) is refused, so that no pattern is
 * ever checked more loosely than written. Returns 0 and the pattern in
 * *@ret, -EINVAL with the offending offset in *@ret_at, or -ENOMEM. */
int cde_pattern_compile(struct cde_arena *arena, const char *source, const struct cde_pattern **ret,
			size_t *ret_at);

/* True when @s (valid UTF-8) matches @p somewhere, as ECMA-262's
 * RegExp.prototype.test with the "u" flag does: unanchored unless the
 * pattern says ^ or $; "." and negated classes take one code point. */
bool cde_pattern_match(const struct cde_pattern *p, const char *s);
