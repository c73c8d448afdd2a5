/* RFC 8785 canonical JSON. The audit log hashes these bytes, and an auditor
 * recomputes the hash elsewhere, so every rule here is the RFC's and nothing
 * is left to the platform: member order compares UTF-16 code units (not
 * bytes: U+1F600 sorts before U+FB33, as its lead surrogate D83D does), and
 * numbers are printed as ECMAScript's Number::toString prints them.
 *
 * Numbers: cJSON keeps a parsed number only as a double (valuedouble; its
 * valueint is a clamped copy we ignore), so JCS prints that double, which
 * is what RFC 8785 asks. A document read by cde_json_parse cannot lose
 * anything on the way: that parser refuses every literal a double does not
 * keep as sent (cde_json_number_loss: integers past 2^53, digits beyond the
 * double's shortest form, overflow, underflow to 0), so the digits printed
 * here are the digits that were sent, only the notation changes ("1.50" is
 * 1.5, "1E3" is 1000). cde_json_print also prints the shortest form that
 * reads back as the same double, but in cJSON's notation, which is not
 * JCS's: hash these bytes, not those. */

#include "schemas/base/jcs.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/base/json_strict.h"

struct jcs {
	char *data;
	size_t len, cap;
	bool as_printed;	/* also refuse what cde_json_parse refuses in cde_json_print's text */
	struct cde_ptr ptr;
	struct cde_errors *errs;
};

/* Makes room for @n more bytes and the final NUL. */
static int grow(struct jcs *j, size_t n)
{
	size_t cap = j->cap ? j->cap : 1024;	/* an audit entry (the common text) is under 1 KiB */
	char *p;

	while (n >= cap - j->len) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(j->data, cap);
	if (!p)
		return -ENOMEM;
	j->data = p;
	j->cap = cap;
	return 0;
}

/* The text is terminated once, when it is complete (serialize): there is
 * always room left for the NUL. */
static inline int put(struct jcs *j, const char *s, size_t n)
{
	if (n >= j->cap - j->len) {
		int r = grow(j, n);

		if (r < 0)
			return r;
	}
	memcpy(j->data + j->len, s, n);
	j->len += n;
	return 0;
}

static int put_str(struct jcs *j, const char *s)
{
	return put(j, s, strlen(s));
}

static int refuse(struct jcs *j, const char *reason)
{
	if (j->errs)
		cde_errors_add(j->errs, cde_ptr_str(&j->ptr), "%s", reason);
	return -EINVAL;
}

/* The decimal digits of a positive double as ECMA-262 Number::toString
 * defines them: value = 0.D1..Dk x 10^n with k as small as possible (the
 * shortest string that reads back as the same double) and, among those,
 * the one nearest the value. */
struct digits {
	char d[20];
	int k, n;
};

/* Reads "D.DDDe[+-]X" as printf's %e writes it. */
static void read_e(const char *text, struct digits *out)
{
	const char *e = strchr(text, 'e');

	out->k = 0;
	for (const char *c = text; c < e; c++)
		if (*c != '.')
			out->d[out->k++] = *c;
	out->n = atoi(e + 1) + 1;
}

static bool reads_back(const struct digits *g, double value)
{
	char text[40];
	int o = 0;

	text[o++] = g->d[0];
	text[o++] = '.';
	memcpy(text + o, g->d + 1, (size_t)g->k - 1);
	o += g->k - 1;
	snprintf(text + o, sizeof(text) - (size_t)o, "e%d", g->n - 1);
	return strtod(text, NULL) == value;
}

/* Moves @g to the next decimal of as many digits above or below it
 * (999 up is 1.00e3, 100 down is 99.9). */
static void step(struct digits *g, bool up)
{
	int i = g->k - 1;

	if (up) {
		while (i >= 0 && g->d[i] == '9')
			g->d[i--] = '0';
		if (i >= 0) {
			g->d[i]++;
		} else {
			g->d[0] = '1';
			g->n++;
		}
		return;
	}
	while (g->d[i] == '0')
		g->d[i--] = '9';
	g->d[i]--;
	if (g->d[0] == '0') {
		/* Below 1.00e5 the three-digit neighbour is 9.99e4. */
		g->d[0] = '9';
		g->n--;
	}
}

static void shortest_digits(double value, struct digits *out)
{
	char text[40];

	for (int p = 1; p <= 17; p++) {
		snprintf(text, sizeof(text), "%.*e", p - 1, value);
		read_e(text, out);
		if (strtod(text, NULL) == value)
			break;
		/* At a power of two the doubles below are closer together than
		 * those above, so the p-digit decimal nearest the value may not
		 * read back while the one on its other side does (2^-1017 is
		 * 7.120236347223045e-307, whose nearest 16 digits end in ...044).
		 * The one on the other side is the only other candidate. */
		struct digits other = *out;

		step(&other, strtod(text, NULL) < value);
		if (reads_back(&other, value)) {
			*out = other;
			break;
		}
	}
	while (out->k > 1 && out->d[out->k - 1] == '0')
		out->k--;
}

/* ECMA-262 Number::toString(x) for a finite @value, into @buf (>= 32). */
static void format_number(double value, char *buf)
{
	struct digits g;
	char *o = buf;
	int k, n;

	if (value == 0) { /* and -0 */
		strcpy(buf, "0");
		return;
	}
	if (value < 0) {
		*o++ = '-';
		value = -value;
	}
	/* The common case, quickly: below 2^53 an integer's own digits are
	 * the shortest that read back (its neighbours are at most 1 away). */
	if (value < 9007199254740992.0 && value == (double)(int64_t)value) {
		char rev[20];
		int64_t v = (int64_t)value;
		int len = 0;

		do
			rev[len++] = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		while (len > 0)
			*o++ = rev[--len];
		*o = '\0';
		return;
	}
	shortest_digits(value, &g);
	k = g.k;
	n = g.n;
	if (k <= n && n <= 21) {
		memcpy(o, g.d, (size_t)k);
		memset(o + k, '0', (size_t)(n - k));
		o[n] = '\0';
	} else if (0 < n && n <= 21) {
		memcpy(o, g.d, (size_t)n);
		o[n] = '.';
		memcpy(o + n + 1, g.d + n, (size_t)(k - n));
		o[k + 1] = '\0';
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		memset(o, '0', (size_t)-n);
		memcpy(o - n, g.d, (size_t)k);
		o[k - n] = '\0';
	} else {
		*o++ = g.d[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, g.d + 1, (size_t)k - 1);
			o += k - 1;
		}
		sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
}

static int put_number(struct jcs *j, const cJSON *item)
{
	double value = item->valuedouble;
	char text[40];

	if (!isfinite(value))
		return refuse(j, "a number that is not finite has no JSON form (RFC 8785, I-JSON)");
	/* The strict parser pairs each literal of the text with the double
	 * cJSON read from it; cde_json_print's literal reads back as @value,
	 * so this is the very call that parse would make. */
	/* An integer below 10^15 is printed as its digits (by "%d" or
	 * "%1.15g" alike), which that parse keeps: no need to print it. */
	if (j->as_printed && !(fabs(value) < 1e15 && value == trunc(value)) &&
	    (cde_json_number_text(item, text, sizeof(text)) < 0 || cde_json_number_loss(text, strlen(text), value)))
		return refuse(j, "a number whose printed text the strict parser refuses");
	format_number(value, text);
	return put_str(j, text);
}

/* A string with JCS's escapes: the two-character ones JSON has for \b \t
 * \n \f \r " and \, \u00xx in lower case for the other control characters,
 * and every other character as its own UTF-8 bytes ('/' and U+2028 too). */
static int put_string(struct jcs *j, const char *s)
{
	size_t len = strlen(s), run = 0;
	int r;

	/* Most strings are printable ASCII with nothing to escape (names,
	 * ids, types): valid UTF-8 as they are, written in one piece. */
	if (cde_json_plain_prefix(s, len) == len) {
		if (len + 2 >= j->cap - j->len && (r = grow(j, len + 2)) < 0)
			return r;
		j->data[j->len] = '"';
		memcpy(j->data + j->len + 1, s, len);
		j->data[j->len + 1 + len] = '"';
		j->len += len + 2;
		return 0;
	}
	if (cde_utf8_check(s, len) != len)
		return refuse(j, "a string that is not valid UTF-8 (RFC 8785, I-JSON)");
	if ((r = put(j, "\"", 1)) < 0)
		return r;
	for (size_t i = 0; i < len; i++) {
		char esc[6];
		size_t n = cde_json_escape((unsigned char)s[i], esc);

		if (!n)
			continue;
		if ((r = put(j, s + run, i - run)) < 0 || (r = put(j, esc, n)) < 0)
			return r;
		run = i + 1;
	}
	if ((r = put(j, s + run, len - run)) < 0)
		return r;
	return put(j, "\"", 1);
}

/* The code point that starts at @s (valid UTF-8), 0 at the end. */
static uint32_t code_point(const unsigned char *s)
{
	if (s[0] < 0x80)
		return s[0];
	if (s[0] < 0xe0)
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	if (s[0] < 0xf0)
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* The first UTF-16 code unit of @cp: its lead surrogate above U+FFFF. */
static uint32_t first_unit(uint32_t cp)
{
	return cp > 0xffff ? 0xd800 + ((cp - 0x10000) >> 10) : cp;
}

/* Orders two member names (valid UTF-8) as arrays of UTF-16 code units.
 * UTF-8 bytes order as code points do; the two orders part only where one
 * name has a character above U+FFFF and the other one in U+E000..U+FFFF. */
static int compare_names(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)(*(const cJSON *const *)pa)->string;
	const unsigned char *b = (const unsigned char *)(*(const cJSON *const *)pb)->string;
	size_t i = 0;
	uint32_t ca, cb;

	while (a[i] && a[i] == b[i])
		i++;
	while (i > 0 && (a[i] & 0xc0) == 0x80)
		i--;
	ca = code_point(a + i);
	cb = code_point(b + i);
	if (ca == cb)
		return 0;
	if ((ca > 0xffff) == (cb > 0xffff))
		return ca < cb ? -1 : 1;
	return first_unit(ca) < first_unit(cb) ? -1 : 1;
}

static int put_value(struct jcs *j, const cJSON *item, unsigned depth);

/* Objects of up to this many members sort in an array on the stack. */
#define JCS_SMALL 16

/* A member name is valid UTF-8: plain ASCII is, without decoding it. */
static bool name_ok(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	while ((unsigned char)name[n] >= 0x20 && (unsigned char)name[n] < 0x80)
		n++;
	if (!name[n])
		return true;
	n += strlen(name + n);
	return cde_utf8_check(name, n) == n;
}

/* The members of @obj in JCS order, in @small (JCS_SMALL items) or a new
 * array, *@ret, of *@ret_n items. */
static int sorted_members(struct jcs *j, const cJSON *obj, const cJSON **small, const cJSON ***ret,
			  size_t *ret_n)
{
	const cJSON **members, *c;
	size_t n = 0;
	int r = 0;

	cJSON_ArrayForEach(c, obj)
		n++;
	members = n <= JCS_SMALL ? small : malloc(n * sizeof(*members));
	if (!members)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(c, obj) {
		if (!name_ok(c->string)) {
			r = refuse(j, "a member name that is missing or not valid UTF-8 (RFC 8785, I-JSON)");
			break;
		}
		members[n++] = c;
	}
	/* Insertion sort for the few members of most objects: qsort's
	 * merge sort and indirect calls were a visible part of the loop
	 * thread's JCS of each entry. */
	if (r == 0 && n <= JCS_SMALL) {
		for (size_t i = 1; i < n; i++) {
			const cJSON *m = members[i];
			size_t k = i;

			for (; k > 0 && compare_names(&members[k - 1], &m) > 0; k--)
				members[k] = members[k - 1];
			members[k] = m;
		}
	} else if (r == 0) {
		qsort(members, n, sizeof(*members), compare_names);
	}
	for (size_t i = 1; r == 0 && i < n; i++) {
		if (compare_names(&members[i - 1], &members[i]) == 0) {
			size_t mark = cde_ptr_push(&j->ptr, members[i]->string);

			r = refuse(j, "duplicate property: JCS has one order only for distinct names");
			cde_ptr_pop(&j->ptr, mark);
		}
	}
	if (r < 0) {
		if (members != small)
			free(members);
		return r;
	}
	*ret = members;
	*ret_n = n;
	return 0;
}

static int put_object(struct jcs *j, const cJSON *obj, unsigned depth)
{
	const cJSON *small[JCS_SMALL], **members;
	size_t n;
	int r;

	if ((r = sorted_members(j, obj, small, &members, &n)) < 0)
		return r;
	r = put(j, "{", 1);
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t mark;

		if (i > 0 && (r = put(j, ",", 1)) < 0)
			break;
		if ((r = put_string(j, members[i]->string)) < 0 || (r = put(j, ":", 1)) < 0)
			break;
		/* The pointer only names a refusal: kept when someone reads it. */
		mark = j->errs ? cde_ptr_push(&j->ptr, members[i]->string) : 0;
		r = put_value(j, members[i], depth);
		if (j->errs)
			cde_ptr_pop(&j->ptr, mark);
	}
	if (members != small)
		free(members);
	return r < 0 ? r : put(j, "}", 1);
}

static int put_array(struct jcs *j, const cJSON *arr, unsigned depth)
{
	const cJSON *c;
	size_t index = 0;
	int r;

	if ((r = put(j, "[", 1)) < 0)
		return r;
	cJSON_ArrayForEach(c, arr) {
		size_t mark;

		if (index > 0 && (r = put(j, ",", 1)) < 0)
			return r;
		mark = j->errs ? cde_ptr_push_index(&j->ptr, index) : 0;
		index++;
		r = put_value(j, c, depth);
		if (j->errs)
			cde_ptr_pop(&j->ptr, mark);
		if (r < 0)
			return r;
	}
	return put(j, "]", 1);
}

static int put_value(struct jcs *j, const cJSON *item, unsigned depth)
{
	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		if (depth >= CDE_JCS_MAX_DEPTH)
			return refuse(j, "nesting deeper than 128 levels");
		/* Well inside every limit of the strict parser (refusing more
		 * only sends the caller to the text). */
		if (j->as_printed && depth >= CDE_JSON_MAX_DEPTH / 2)
			return refuse(j, "nested deeper than the strict parser's limits allow here");
		return cJSON_IsObject(item) ? put_object(j, item, depth + 1) : put_array(j, item, depth + 1);
	}
	if (cJSON_IsString(item))
		return item->valuestring ? put_string(j, item->valuestring)
					 : refuse(j, "a string item without its text");
	if (cJSON_IsNumber(item))
		return put_number(j, item);
	if (cJSON_IsTrue(item))
		return put_str(j, "true");
	if (cJSON_IsFalse(item))
		return put_str(j, "false");
	if (cJSON_IsNull(item))
		return put_str(j, "null");
	return refuse(j, "not a JSON value (a raw or invalid cJSON item)");
}

static int serialize(struct jcs *j, const cJSON *json, unsigned depth, char **ret_text, size_t *ret_len)
{
	int r;

	if (!json)
		return -EINVAL;
	cde_ptr_init(&j->ptr);
	r = put_value(j, json, depth);
	if (r == 0 && !j->data)
		r = grow(j, 0);	/* nothing written: cannot happen, a value has text */
	if (r < 0) {
		free(j->data);
		return r;
	}
	j->data[j->len] = '\0';
	*ret_text = j->data;
	*ret_len = j->len;
	return 0;
}

int cde_jcs_serialize_as_printed(const cJSON *json, char **ret_text, size_t *ret_len)
{
	return cde_jcs_serialize_as_printed_at(json, 0, ret_text, ret_len);
}

int cde_jcs_serialize_as_printed_at(const cJSON *json, unsigned depth, char **ret_text, size_t *ret_len)
{
	struct jcs j = { .as_printed = true };

	return serialize(&j, json, depth, ret_text, ret_len);
}

int cde_jcs_serialize_errors(const cJSON *json, char **ret_text, size_t *ret_len,
			     struct cde_errors *errs)
{
	struct jcs j = { .errs = errs };

	return serialize(&j, json, 0, ret_text, ret_len);
}

int cde_jcs_serialize(const cJSON *json, char **ret_text, size_t *ret_len)
{
	return cde_jcs_serialize_errors(json, ret_text, ret_len, NULL);
}
