/* Spark sizes and Kubernetes quantities. Both parsers are exact integer
 * arithmetic: a quantity is read as mantissa * 2^shift * 10^exp and only
 * turned into bytes or millicores at the end, so "1.5Gi" and "0.1" land on
 * the same number the API server computes, with no float in between. */

#include "sizing/units.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
	c = lower(c);
	return c >= 'a' && c <= 'z';
}

/* Java's String.trim(): everything up to and including ' '. */
static void trim(const char **s, size_t *len)
{
	while (*len && (unsigned char)(*s)[0] <= ' ') {
		(*s)++;
		(*len)--;
	}
	while (*len && (unsigned char)(*s)[*len - 1] <= ' ')
		(*len)--;
}

/* The shift of the Spark unit @u (@len bytes: 1 or 2, any case), which
 * Kubernetes' units are not. Returns 0 and *@ret_shift, or -EINVAL. */
static int spark_unit(const char *u, size_t len, unsigned *ret_shift, const char **ret_reason)
{
	static const struct {
		const char *name;
		unsigned shift;
	} units[] = {
		{ "b", 0 }, { "k", 10 }, { "kb", 10 }, { "m", 20 }, { "mb", 20 },
		{ "g", 30 }, { "gb", 30 }, { "t", 40 }, { "tb", 40 }, { "p", 50 }, { "pb", 50 },
	};
	char unit[3];

	if (len == 2 && lower(u[1]) == 'i') {
		*ret_reason = "Kubernetes units (Ki, Mi, Gi) are not Spark sizes; "
			      "write 4g, not 4Gi";
		return -EINVAL;
	}
	if (len > 2) {
		*ret_reason = "unknown unit; use b, k, m, g, t or p";
		return -EINVAL;
	}
	unit[0] = lower(u[0]);
	unit[1] = len == 2 ? lower(u[1]) : '\0';
	unit[2] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].name) == 0) {
			*ret_shift = units[i].shift;
			return 0;
		}
	}
	*ret_reason = "unknown unit; use b, k, m, g, t or p";
	return -EINVAL;
}

int cde_spark_size_parse(const char *s, unsigned bare_shift, uint64_t *ret_bytes,
			 const char **ret_reason)
{
	size_t len = s ? strlen(s) : 0;
	size_t i = 0, unit_at;
	uint64_t n = 0;
	unsigned shift = bare_shift;

	trim(&s, &len);
	if (len == 0) {
		*ret_reason = "empty; write a size such as 4g or 4096m";
		return -EINVAL;
	}
	if (s[0] == '-') {
		*ret_reason = "must not be negative";
		return -EINVAL;
	}
	for (; i < len && is_digit(s[i]); i++) {
		if (n > (UINT64_C(1) << 62) / 10) {
			*ret_reason = "too large";
			return -EINVAL;
		}
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0) {
		*ret_reason = "not a size; write digits and a unit such as 4g or 4096m";
		return -EINVAL;
	}
	if (i < len && s[i] == '.') {
		/* Spark names fractions apart from other junk; so do we. */
		*ret_reason = "fractional values are not supported by Spark; write 1536m, not 1.5g";
		return -EINVAL;
	}
	unit_at = i;
	while (i < len && is_alpha(s[i]))
		i++;
	if (i != len) {
		*ret_reason = "not a size; write digits and a unit such as 4g or 4096m";
		return -EINVAL;
	}
	if (i > unit_at && spark_unit(s + unit_at, i - unit_at, &shift, ret_reason) < 0)
		return -EINVAL;
	if (n > (CDE_SIZING_BYTES_MAX >> shift)) {
		*ret_reason = "too large (the limit is 1 PiB)";
		return -EINVAL;
	}
	*ret_bytes = n << shift;
	return 0;
}

/* mantissa * 2^shift * 10^exp10 */
struct quantity {
	uint64_t mantissa;
	unsigned shift;
	int exp10;
};

#define MANTISSA_DIGITS_MAX 18

static int parse_exponent(const char *s, int *ret)
{
	int sign = 1, e = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		if (e > 100)
			return -EINVAL;
		e = e * 10 + (*s - '0');
	}
	if (*s)
		return -EINVAL;
	*ret = sign * e;
	return 0;
}

/* The grammar of k8s.io/apimachinery's resource.Quantity: a signed
 * decimal, then a binary suffix, a decimal suffix or an exponent. */
/* Reads the digits (with at most one dot) at *@s into @q's mantissa and
 * power of ten, exactly, and moves *@s past them. */
static int quantity_number(const char **s, struct quantity *q, const char **reason)
{
	unsigned digits = 0, significant = 0;
	const char *p = *s;
	bool dot = false;

	for (;; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!is_digit(*p))
			break;
		digits++;
		if (significant == 0 && *p == '0') {
			if (dot)
				q->exp10--;
			continue;
		}
		if (significant >= MANTISSA_DIGITS_MAX) {
			/* Past 18 digits only zeros can be kept exactly. */
			if (*p != '0') {
				*reason = "too many digits";
				return -EINVAL;
			}
			if (!dot)
				q->exp10++;
			continue;
		}
		q->mantissa = q->mantissa * 10 + (uint64_t)(*p - '0');
		significant++;
		if (dot)
			q->exp10--;
	}
	if (digits == 0) {
		*reason = "not a quantity; write digits and a unit such as 64Gi or 500m";
		return -EINVAL;
	}
	*s = p;
	return 0;
}

/* Applies the exponent or unit @s (all that follows the number) to @q. */
static int quantity_unit(const char *s, struct quantity *q, const char **reason)
{
	static const struct {
		const char *name;
		unsigned shift;
		int exp10;
	} suffixes[] = {
		{ "Ki", 10, 0 }, { "Mi", 20, 0 }, { "Gi", 30, 0 }, { "Ti", 40, 0 },
		{ "Pi", 50, 0 }, { "Ei", 60, 0 },
		{ "n", 0, -9 }, { "u", 0, -6 }, { "m", 0, -3 }, { "", 0, 0 }, { "k", 0, 3 },
		{ "M", 0, 6 }, { "G", 0, 9 }, { "T", 0, 12 }, { "P", 0, 15 }, { "E", 0, 18 },
	};

	/* "E" alone is exa and "Ei" exbi; "e3", "E-3" are exponents. */
	if ((*s == 'e' || *s == 'E') &&
	    (is_digit(s[1]) || ((s[1] == '+' || s[1] == '-') && is_digit(s[2])))) {
		int e;

		if (parse_exponent(s + 1, &e) < 0) {
			*reason = "bad exponent";
			return -EINVAL;
		}
		q->exp10 += e;
		return 0;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i].name) == 0) {
			q->shift = suffixes[i].shift;
			q->exp10 += suffixes[i].exp10;
			return 0;
		}
	}
	if (strcmp(s, "g") == 0 || strcmp(s, "gb") == 0 || strcmp(s, "GB") == 0 ||
	    strcmp(s, "Gb") == 0 || strcmp(s, "gi") == 0) {
		*reason = "unknown unit; Kubernetes writes Gi (2^30) or G (10^9), case matters";
		return -EINVAL;
	}
	*reason = "unknown unit; use Ki, Mi, Gi, Ti, k, M, G, T or m";
	return -EINVAL;
}

static int quantity_parse(const char *s, struct quantity *q, const char **reason)
{
	q->mantissa = 0;
	q->shift = 0;
	q->exp10 = 0;
	if (!s || !*s) {
		*reason = "empty; write a quantity such as 64Gi or 500m";
		return -EINVAL;
	}
	if (*s == '-') {
		*reason = "must not be negative";
		return -EINVAL;
	}
	if (*s == '+')
		s++;
	if (quantity_number(&s, q, reason) < 0)
		return -EINVAL;
	return quantity_unit(s, q, reason);
}

/* Scales @q by 10^@extra_exp10 into an integer: rounded up, or refused
 * with -EDOM when @exact and a fraction is left. */
static int quantity_to_u64(const struct quantity *q, int extra_exp10, bool exact, uint64_t max,
			   uint64_t *ret)
{
	uint64_t x = q->mantissa;
	int e = q->exp10 + extra_exp10;

	if (x == 0) {
		*ret = 0;
		return 0;
	}
	if (q->shift >= 64 || x > (UINT64_MAX >> q->shift))
		return -ERANGE;
	x <<= q->shift;
	for (; e > 0; e--)
		if (__builtin_mul_overflow(x, 10, &x))
			return -ERANGE;
	if (e < 0) {
		uint64_t div = 1;
		bool tiny = false;

		for (; e < 0; e++) {
			if (__builtin_mul_overflow(div, 10, &div)) {
				tiny = true;
				break;
			}
		}
		if (tiny) {
			/* Smaller than one unit whatever the mantissa. */
			if (exact)
				return -EDOM;
			x = 1;
		} else {
			uint64_t rem = x % div;

			x /= div;
			if (rem) {
				if (exact)
					return -EDOM;
				x++;
			}
		}
	}
	if (x > max)
		return -ERANGE;
	*ret = x;
	return 0;
}

int cde_k8s_memory_parse(const char *s, uint64_t *ret_bytes, const char **ret_reason)
{
	struct quantity q;
	int r = quantity_parse(s, &q, ret_reason);

	if (r < 0)
		return r;
	r = quantity_to_u64(&q, 0, false, CDE_SIZING_BYTES_MAX, ret_bytes);
	if (r < 0) {
		*ret_reason = "too large (the limit is 1 PiB)";
		return -EINVAL;
	}
	return 0;
}

/* Four million cores: far beyond any node, far from overflowing. */
#define CPU_MILLIS_MAX (UINT64_C(1) << 32)

int cde_k8s_cpu_parse(const char *s, uint64_t *ret_millis, const char **ret_reason)
{
	struct quantity q;
	int r = quantity_parse(s, &q, ret_reason);

	if (r < 0)
		return r;
	r = quantity_to_u64(&q, 3, true, CPU_MILLIS_MAX, ret_millis);
	if (r == -EDOM) {
		*ret_reason = "precision finer than 1m is not allowed";
		return -EINVAL;
	}
	if (r < 0) {
		*ret_reason = "too large";
		return -EINVAL;
	}
	return 0;
}
