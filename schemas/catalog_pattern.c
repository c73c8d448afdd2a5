/* Catalog patterns: a small regular expression subset (see the header).
 *
 * An expression is a sequence of atoms, each a set of characters with a
 * repetition range; without groups or alternation, a greedy match with
 * backtracking over each atom's count is exact and bounded by the atoms'
 * nesting (at most one level per atom). Sets hold ASCII only; "." and
 * negated sets also take any non-ASCII code point, whole. */

#include "schemas/catalog_pattern.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define PATTERN_MAX_ATOMS 64

struct atom {
	uint8_t set[16];	/* ASCII bitmap */
	bool non_ascii;		/* also takes any non-ASCII code point */
	bool dot;		/* "." (no line terminators) */
	unsigned min, max;	/* max UINT_MAX: unbounded */
};

struct cde_pattern {
	bool start, end;	/* anchored by ^ / $ */
	size_t n;
	struct atom atoms[];
};

static void set_add(struct atom *a, unsigned char c)
{
	a->set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static void set_range(struct atom *a, unsigned char lo, unsigned char hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set_add(a, (unsigned char)c);
}

static bool set_has(const struct atom *a, unsigned char c)
{
	return a->set[c >> 3] & (1u << (c & 7));
}

static void set_negate(struct atom *a)
{
	for (size_t i = 0; i < sizeof(a->set); i++)
		a->set[i] = (uint8_t)~a->set[i];
	a->non_ascii = true;
}

static bool is_syntax(char c)
{
	return c && strchr("^$\\.*+?()[]{}|/-", c) != NULL;
}

/* A class escape (\d, \w) or an escaped punctuation character at @s + 1. */
static bool parse_escape(const char *s, struct atom *a)
{
	if (s[1] == 'd')
		set_range(a, '0', '9');
	else if (s[1] == 'w') {
		set_range(a, 'a', 'z');
		set_range(a, 'A', 'Z');
		set_range(a, '0', '9');
		set_add(a, '_');
	} else if (is_syntax(s[1]))
		set_add(a, (unsigned char)s[1]);
	else
		return false;
	return true;
}

/* "[...]" at @s; returns the length taken, or 0 when outside the subset. */
static size_t parse_class(const char *s, struct atom *a)
{
	size_t i = 1;
	bool negate = s[1] == '^';

	i += negate;
	while (s[i] && s[i] != ']') {
		unsigned char lo = (unsigned char)s[i], hi;

		if (lo == '\\') {
			if (!parse_escape(s + i, a))
				return 0;
			i += 2;
			continue;
		}
		if (lo >= 0x80 || lo == '[')
			return 0;
		hi = lo;
		if (s[i + 1] == '-' && s[i + 2] && s[i + 2] != ']') {
			hi = (unsigned char)s[i + 2];
			if (hi >= 0x80 || hi == '\\' || hi == '[' || hi < lo)
				return 0;
			i += 2;
		}
		set_range(a, lo, hi);
		i++;
	}
	if (s[i] != ']')
		return 0;
	if (negate)
		set_negate(a);
	return i + 1;
}

static bool parse_number(const char **s, unsigned *ret)
{
	unsigned long v = 0;

	if (**s < '0' || **s > '9')
		return false;
	for (; **s >= '0' && **s <= '9'; (*s)++) {
		v = v * 10 + (unsigned long)(**s - '0');
		if (v > 1000)
			return false;
	}
	*ret = (unsigned)v;
	return true;
}

/* A quantifier at *@s, if any; false when malformed. */
static bool parse_quantifier(const char **s, struct atom *a)
{
	const char *p = *s;

	a->min = a->max = 1;
	if (*p == '*' || *p == '+' || *p == '?') {
		a->min = *p == '+';
		a->max = *p == '?' ? 1 : UINT_MAX;
		*s = p + 1;
		return true;
	}
	if (*p != '{')
		return true;
	p++;
	if (!parse_number(&p, &a->min))
		return false;
	a->max = a->min;
	if (*p == ',') {
		p++;
		a->max = UINT_MAX;
		if (*p != '}' && (!parse_number(&p, &a->max) || a->max < a->min))
			return false;
	}
	if (*p != '}')
		return false;
	*s = p + 1;
	return true;
}

/* One atom at *@s with its quantifier; false when outside the subset. */
static bool parse_atom(const char **s, struct atom *a)
{
	const char *p = *s;

	if (*p == '.') {
		set_range(a, 0, 0x7f);
		a->set['\n' >> 3] &= (uint8_t)~(1u << ('\n' & 7));
		a->set['\r' >> 3] &= (uint8_t)~(1u << ('\r' & 7));
		a->non_ascii = true;
		a->dot = true;
		p++;
	} else if (*p == '[') {
		size_t n = parse_class(p, a);

		if (!n)
			return false;
		p += n;
	} else if (*p == '\\') {
		if (!parse_escape(p, a))
			return false;
		p += 2;
	} else if ((unsigned char)*p < 0x80 && !strchr("^$*+?()[]{}|", *p)) {
		set_add(a, (unsigned char)*p++);
	} else {
		return false;
	}
	*s = p;
	return parse_quantifier(s, a) && !(**s && strchr("*+?{", **s));
}

int cde_pattern_compile(struct cde_arena *arena, const char *source, const struct cde_pattern **ret,
			size_t *ret_at)
{
	struct atom atoms[PATTERN_MAX_ATOMS];
	struct cde_pattern *p;
	const char *s = source;
	bool start = false, end = false;
	size_t n = 0;

	memset(atoms, 0, sizeof(atoms));
	if (*s == '^') {
		start = true;
		s++;
	}
	while (*s) {
		if (s[0] == '$' && s[1] == '\0') {
			end = true;
			s++;
			break;
		}
		if (n == PATTERN_MAX_ATOMS || !parse_atom(&s, &atoms[n])) {
			*ret_at = (size_t)(s - source);
			return -EINVAL;
		}
		n++;
	}
	p = cde_arena_alloc(arena, sizeof(*p) + n * sizeof(p->atoms[0]));
	if (!p)
		return -ENOMEM;
	p->start = start;
	p->end = end;
	p->n = n;
	memcpy(p->atoms, atoms, n * sizeof(atoms[0]));
	*ret = p;
	return 0;
}

/* Length of the code point at @s that @a takes, or 0. */
static size_t take(const struct atom *a, const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = 1;

	if (!c)
		return 0;
	if (c < 0x80)
		return set_has(a, c);
	if (!a->non_ascii)
		return 0;
	while ((s[n] & 0xc0) == 0x80)
		n++;
	/* "." does not take the line terminators U+2028 and U+2029. */
	if (a->dot && n == 3 && c == 0xe2 && (unsigned char)s[1] == 0x80 &&
	    ((unsigned char)s[2] == 0xa8 || (unsigned char)s[2] == 0xa9))
		return 0;
	return n;
}

static const char *prev_code_point(const char *from, const char *s)
{
	do
		s--;
	while (s > from && (*s & 0xc0) == 0x80);
	return s;
}

static bool match_here(const struct cde_pattern *p, size_t i, const char *s)
{
	const struct atom *a;
	const char *from = s;
	unsigned k = 0;
	size_t len;

	if (i == p->n)
		return !p->end || *s == '\0';
	a = &p->atoms[i];
	while (k < a->max && (len = take(a, s)) > 0) {
		s += len;
		k++;
	}
	for (;;) {
		if (k >= a->min && match_here(p, i + 1, s))
			return true;
		if (k == 0 || k <= a->min)
			return false;
		s = prev_code_point(from, s);
		k--;
	}
}

bool cde_pattern_match(const struct cde_pattern *p, const char *s)
{
	if (p->start)
		return match_here(p, 0, s);
	for (;;) {
		if (match_here(p, 0, s))
			return true;
		if (!*s)
			return false;
		s++;
		while ((*s & 0xc0) == 0x80)
			s++;
	}
}
