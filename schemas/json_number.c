/* Numbers as I-JSON (RFC 7493) has them: a number is an IEEE 754 double,
 * so a literal that a double cannot hold (past its range, rounding to 0,
 * an integer past 2^53) is refused rather than stored changed; and every
 * double is printed back as the same double. cJSON's own printer tries 15
 * significant digits and keeps them when they are within an epsilon of the
 * value, which is not the same value (0.30000000000000004 prints as 0.3,
 * 2^53 as 9.00719925474099e+15, the largest double as 1.79769313486232e+308,
 * which reads back as infinity). */

#include "schemas/json_strict.h"

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
	return NULL;
}

/* Whether cJSON prints @item as text that reads back as the same double. */
static bool prints_exactly(const cJSON *item)
{
	char buf[64];

	if (!isfinite(item->valuedouble))
		return true; /* JSON has no text for it: cJSON's null stays */
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

/* Turns each number of @node that cJSON would print changed into raw
 * text of its shortest exact form. Returns 0 or -ENOMEM. */
static int make_exact(cJSON *node)
{
	cJSON *c;

	if (cJSON_IsNumber(node) && !prints_exactly(node)) {
		char text[32];
		char *copy;

		for (int digits = 15; digits <= 17; digits++) {
			snprintf(text, sizeof(text), "%.*g", digits, node->valuedouble);
			if (strtod(text, NULL) == node->valuedouble)
				break;
		}
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
