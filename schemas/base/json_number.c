/* Numbers as I-JSON (RFC 7493) has them: a number is an IEEE 754 double,
 * so a literal that a double cannot hold (past its range, rounding to 0,
 * an integer past 2^53) is refused rather than stored changed; and every
 * double is printed back as the same double. cJSON's own printer tries 15
 * significant digits and keeps them when they are within an epsilon of the
 * value, which is not the same value (0.30000000000000004 prints as 0.3,
 * 2^53 as 9.00719925474099e+15, the largest double as 1.79769313486232e+308,
 * which reads back as infinity). */

#include "schemas/base/json_strict.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest integer a double holds with all its neighbours: 2^53. */
static const char max_exact_integer[] = "9007199254740992";

static bool has_nonzero_digit(const char *s, size_t len)
{
	for (size_t i = 0; i < len && s[i] != 'e' && s[i] != 'E'; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return true;
	return false;
}

/* A decimal number as 0.D1D2...Dn x 10^exp, without leading or trailing
 * zeros in D (n == 0 for zero), so two texts of one value compare equal.
 * Only as many digits as a double could ever give back are kept: more
 * cannot match a double, which @overlong says. */
struct decimal {
	char d[40];
	size_t n;
	long exp;
	bool overlong;
};

static void read_decimal(const char *s, size_t len, struct decimal *out)
{
	size_t i = s[0] == '-' ? 1 : 0;
	long point = 0, e = 0, esign = 1;
	bool seen_point = false, leading = true;

	memset(out, 0, sizeof(*out));
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			seen_point = true;
			continue;
		}
		if (leading && s[i] == '0') {
			if (seen_point)
				point--;	/* 0.00d: the point moves right */
			continue;
		}
		leading = false;
		if (!seen_point)
			point++;
		if (out->n < sizeof(out->d))
			out->d[out->n++] = s[i];
		else if (s[i] != '0')
			out->overlong = true;
	}
	if (i < len) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			esign = s[i++] == '-' ? -1 : 1;
		for (; i < len && e < 1000000; i++)
			e = e * 10 + (s[i] - '0');
	}
	while (out->n && out->d[out->n - 1] == '0')
		out->n--;
	out->exp = out->n ? point + esign * e : 0;
}

/* Whether @s denotes the very number that the double @value prints as
 * (its shortest form that reads back as @value): else what is stored is
 * not what was sent, as "9007199254740993.0" or "0.1000000000000000000001"
 * would be. */
static bool denotes_its_double(const char *s, size_t len, double value)
{
	struct decimal sent, kept;
	char text[40];
	int p;

	read_decimal(s, len, &sent);
	/* Up to 15 significant digits (DBL_DIG) a normal double gives back
	 * exactly: only longer literals need the search below. */
	if (sent.n <= DBL_DIG && fabs(value) >= DBL_MIN)
		return true;
	for (p = 1; p <= 17; p++) {
		snprintf(text, sizeof(text), "%.*e", p - 1, value);
		if (strtod(text, NULL) == value)
			break;
	}
	read_decimal(text, strlen(text), &kept);
	return !sent.overlong && sent.n == kept.n && (sent.n == 0 || sent.exp == kept.exp) &&
	       memcmp(sent.d, kept.d, sent.n) == 0;
}

const char *cde_json_number_loss(const char *s, size_t len, double value)
{
	size_t digits = len - (s[0] == '-');

	if (isinf(value))
		return "number out of range: too large for a double (I-JSON, RFC 7493)";
	/* JSON integers have no leading zeros: more digits is larger. */
	if (!memchr(s, '.', len) && !memchr(s, 'e', len) && !memchr(s, 'E', len) &&
	    (digits > sizeof(max_exact_integer) - 1 ||
	     (digits == sizeof(max_exact_integer) - 1 &&
	      memcmp(s + len - digits, max_exact_integer, digits) > 0)))
		return "integer beyond 2^53 in magnitude: a double cannot keep it exactly "
		       "(I-JSON, RFC 7493); send it as a string";
	if (value == 0 && has_nonzero_digit(s, len))
		return "number out of range: it rounds to 0 in a double (I-JSON, RFC 7493)";
	if (!denotes_its_double(s, len, value))
		return "number more precise than a double: it would be stored rounded (I-JSON, RFC 7493); "
		       "send it with at most 17 significant digits, or as a string";
	return NULL;
}

/* Whether cJSON prints @item as text that reads back as the same double. */
static bool prints_exactly(const cJSON *item)
{
	char buf[64];

	if (!isfinite(item->valuedouble))
		return true; /* JSON has no text for it: cJSON's null stays */
	/* An integer below 10^15 is printed as its digits ("%d" or
	 * "%1.15g" alike): no need to print it to know. */
	if (fabs(item->valuedouble) < 1e15 && item->valuedouble == trunc(item->valuedouble))
		return true;
	if (!cJSON_PrintPreallocated((cJSON *)item, buf, sizeof(buf), false))
		return false;
	return strtod(buf, NULL) == item->valuedouble;
}

static bool all_print_exactly(const cJSON *node)
{
	const cJSON *c;

	if (cJSON_IsNumber(node))
		return prints_exactly(node);
	cJSON_ArrayForEach(c, node)
		if (!all_print_exactly(c))
			return false;
	return true;
}

/* The shortest %g form of @value that reads back as it: what
 * cde_json_print writes for a number cJSON would print changed. */
static void exact_text(double value, char text[32])
{
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(text, 32, "%.*g", digits, value);
		if (strtod(text, NULL) == value)
			break;
	}
}

int cde_json_number_text(const cJSON *item, char *buf, size_t size)
{
	char text[32];

	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return -EINVAL;
	if (!prints_exactly(item)) {
		exact_text(item->valuedouble, text);
		if (strlen(text) >= size)
			return -ENOBUFS;
		memcpy(buf, text, strlen(text) + 1);
		return 0;
	}
	return cJSON_PrintPreallocated((cJSON *)item, buf, (int)size, false) ? 0 : -ENOBUFS;
}

/* Turns each number of @node that cJSON would print changed into raw
 * text of its shortest exact form. Returns 0 or -ENOMEM. */
static int make_exact(cJSON *node)
{
	cJSON *c;

	if (cJSON_IsNumber(node) && !prints_exactly(node)) {
		char text[32];
		char *copy;

		exact_text(node->valuedouble, text);
		copy = cJSON_malloc(strlen(text) + 1);
		if (!copy)
			return -1;
		memcpy(copy, text, strlen(text) + 1);
		node->type = cJSON_Raw | (node->type & cJSON_StringIsConst);
		node->valuestring = copy;
		return 0;
	}
	cJSON_ArrayForEach(c, node)
		if (make_exact(c) < 0)
			return -1;
	return 0;
}

char *cde_json_print(const cJSON *doc)
{
	cJSON *copy;
	char *text = NULL;

	if (all_print_exactly(doc))
		return cJSON_PrintUnformatted(doc);
	/* Rare: only a copy's numbers are turned into text, so that readers
	 * of @doc keep seeing numbers. */
	copy = cJSON_Duplicate(doc, true);
	if (copy && make_exact(copy) == 0)
		text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return text;
}
