/* Strict JSON: cJSON does the parsing, this file adds the checks that make
 * one byte sequence mean one document (see json_strict.h for the list). */

#include "schemas/base/json_strict.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"

/* Eight bytes at @s, in any order (the tests below look at every byte). */
static uint64_t word_at(const void *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when a byte of @w is below @n (@n <= 128), or has its high bit. */
static uint64_t any_below_or_high(uint64_t w, unsigned n)
{
	return ((w - ONES * n) & ~w & HIGHS) | (w & HIGHS);
}

/* Nonzero when a byte of @w is @c. */
static uint64_t any_byte(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (ONES * c);

	return (x - ONES) & ~x & HIGHS;
}

/* Eight bytes at a time, then one by one where a word has another:
 * strings of a large body are mostly plain, and each byte was looked at
 * alone. */
size_t cde_json_plain_prefix(const char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = word_at(s + i);

		if (any_below_or_high(w, 0x20) | any_byte(w, '"') | any_byte(w, '\\'))
			break;
	}
	while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

size_t cde_json_escape(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x20 && c != '"' && c != '\\')
		return 0;
	out[0] = '\\';
	switch (c) {
	case '\b': out[1] = 'b'; return 2;
	case '\t': out[1] = 't'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\f': out[1] = 'f'; return 2;
	case '\r': out[1] = 'r'; return 2;
	case '"': case '\\': out[1] = (char)c; return 2;
	default:
		memcpy(out + 1, "u00", 3);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 0xf];
		return 6;
	}
}

size_t cde_utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned int cp;

		/* ASCII, eight bytes at a time. */
		if (i + 8 <= len && !(word_at(s + i) & HIGHS)) {
			i += 8;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i;
		i += n + 1;
	}
	return len;
}

/* Finds "\u0000" that is a real escape, i.e. preceded by an even number of
 * backslashes. Returns its offset or @len. */
static size_t find_nul_escape(const char *s, size_t len)
{
	size_t i = 0;

	while (i + 6 <= len) {
		const char *b = memchr(s + i, '\\', len - i);

		if (!b || (size_t)(b - s) + 6 > len)
			break;
		i = (size_t)(b - s);
		if (s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
			return i;
		i += 2; /* past the escaped character, whatever it is */
	}
	return len;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Returns the first property name that occurs twice in @obj, or NULL;
 * sets *oom on allocation failure. */
static const char *find_duplicate(const cJSON *obj, bool *oom)
{
	size_t n = 0;
	const cJSON *c;

	cJSON_ArrayForEach(c, obj)
		n++;
	if (n < 2)
		return NULL;
	if (n <= 16) {
		for (const cJSON *a = obj->child; a; a = a->next)
			for (const cJSON *b = a->next; b; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return a->string;
		return NULL;
	}

	/* Large objects: sort the names so the check stays O(n log n). */
	const char **names = malloc(n * sizeof(*names));
	const char *dup = NULL;
	size_t i = 0;

	if (!names) {
		*oom = true;
		return NULL;
	}
	cJSON_ArrayForEach(c, obj)
		names[i++] = c->string;
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 1; i < n; i++) {
		if (strcmp(names[i - 1], names[i]) == 0) {
			dup = names[i];
			break;
		}
	}
	free(names);
	return dup;
}

static bool skip_string(const char *buf, size_t len, size_t *pos);
static bool skip_number(const char *buf, size_t len, size_t *pos);

/* The number literals of the text, in order: cJSON keeps only the double,
 * and whether it was written as an integer, or had non-zero digits, is in
 * the text. The tree is walked in document order, so its n-th number is
 * the text's n-th literal. */
struct literals {
	const char *buf;
	size_t len, pos;
};

static bool next_literal(struct literals *l, const char **ret, size_t *ret_len)
{
	while (l->pos < l->len) {
		char c = l->buf[l->pos];
		size_t start = l->pos;

		if (c == '"') {
			if (!skip_string(l->buf, l->len, &l->pos))
				return false;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (!skip_number(l->buf, l->len, &l->pos))
				return false;
			*ret = l->buf + start;
			*ret_len = l->pos - start;
			return true;
		} else {
			l->pos++;
		}
	}
	return false;
}

static int check_number(const cJSON *node, struct literals *lits, const struct cde_ptr *ptr,
			struct cde_errors *errs)
{
	const char *text, *why;
	size_t len;

	if (!next_literal(lits, &text, &len)) {
		/* Cannot happen on well-formed text; if it did, no number
		 * after this one would be checked. */
		cde_errors_add(errs, cde_ptr_str(ptr), "a number the parser and the text disagree on");
		return -EINVAL;
	}
	why = cde_json_number_loss(text, len, node->valuedouble);
	if (!why)
		return 0;
	cde_errors_add(errs, cde_ptr_str(ptr), "%s", why);
	return -EINVAL;
}

static int check_tree(const cJSON *node, struct cde_ptr *ptr, unsigned depth,
		      struct literals *lits, struct cde_errors *errs)
{
	size_t index = 0;
	const cJSON *c;

	if (cJSON_IsNumber(node))
		return check_number(node, lits, ptr, errs);
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	if (depth >= CDE_JSON_MAX_DEPTH) {
		cde_errors_add(errs, cde_ptr_str(ptr), "nesting deeper than %d levels",
			       CDE_JSON_MAX_DEPTH);
		return -EINVAL;
	}
	if (cJSON_IsObject(node)) {
		bool oom = false;
		const char *dup = find_duplicate(node, &oom);

		if (oom)
			return -ENOMEM;
		if (dup) {
			size_t m = cde_ptr_push(ptr, dup);

			cde_errors_add(errs, cde_ptr_str(ptr), "duplicate property");
			cde_ptr_pop(ptr, m);
			return -EINVAL;
		}
	}
	cJSON_ArrayForEach(c, node) {
		size_t m = cJSON_IsObject(node) ? cde_ptr_push(ptr, c->string)
						: cde_ptr_push_index(ptr, index);
		int r = check_tree(c, ptr, depth + 1, lits, errs);

		cde_ptr_pop(ptr, m);
		if (r < 0)
			return r;
		index++;
	}
	return 0;
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool hex4(const char *buf, size_t len, size_t at, unsigned *ret)
{
	unsigned v = 0;

	if (at + 4 > len)
		return false;
	for (size_t k = at; k < at + 4; k++) {
		if (!isxdigit((unsigned char)buf[k]))
			return false;
		v = v * 16 + (unsigned)(isdigit((unsigned char)buf[k]) ? buf[k] - '0' : (tolower((unsigned char)buf[k]) - 'a' + 10));
	}
	*ret = v;
	return true;
}

static bool skip_string(const char *buf, size_t len, size_t *pos)
{
	size_t i = *pos + 1;

	for (; i < len; i++) {
		unsigned char c;

		i += cde_json_plain_prefix(buf + i, len - i);
		if (i >= len)
			break;
		c = (unsigned char)buf[i];

		if (c == '"') {
			*pos = i + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++i >= len)
				return false;
			if (buf[i] == 'u') {
				unsigned cp;

				if (!hex4(buf, len, i + 1, &cp))
					return false;
				i += 4;
				/* As cJSON: a high surrogate needs a low one after
				 * it, and a low one alone is an error. */
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (i + 6 >= len || buf[i + 1] != '\\' || buf[i + 2] != 'u' ||
					    !hex4(buf, len, i + 3, &cp) || cp < 0xDC00 || cp > 0xDFFF)
						return false;
					i += 6;
				}
			} else if (!strchr("\"\\/bfnrt", buf[i])) {
				return false;
			}
		}
	}
	return false;
}

static bool skip_digits(const char *buf, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && buf[*i] >= '0' && buf[*i] <= '9')
		(*i)++;
	return *i > start;
}

static bool skip_number(const char *buf, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (buf[i] == '-')
		i++;
	if (i < len && buf[i] == '0')
		i++;
	else if (!skip_digits(buf, len, &i))
		return false;
	if (i < len && buf[i] == '.') {
		i++;
		if (!skip_digits(buf, len, &i))
			return false;
	}
	if (i < len && (buf[i] == 'e' || buf[i] == 'E')) {
		i++;
		if (i < len && (buf[i] == '+' || buf[i] == '-'))
			i++;
		if (!skip_digits(buf, len, &i))
			return false;
	}
	*pos = i;
	return true;
}

/* Whether @buf is well-formed JSON (RFC 8259), checked without allocating:
 * cJSON returns NULL both for a syntax error and for running out of
 * memory, and only this tells the two apart; it also says where the text
 * goes wrong (*@ret_at), which cJSON cannot when it ran out of memory
 * first. Nesting past cJSON's own limit (1000) counts as malformed, as
 * cJSON treats it. */
static bool json_scan(const char *buf, size_t len, size_t *ret_at);

static bool json_well_formed(const char *buf, size_t len, size_t *ret_at)
{
	size_t at = 0;
	bool ok = json_scan(buf, len, &at);

	*ret_at = at;
	return ok;
}

static bool json_scan(const char *buf, size_t len, size_t *ret_at)
{
	char stack[1001];
	size_t depth = 0, i = 0;
	bool want_value = true;

	for (;;) {
		while (i < len && is_json_space(buf[i]))
			i++;
		if (want_value) {
			if (i >= len)
				return *ret_at = i, false;
			if (buf[i] == '{' || buf[i] == '[') {
				if (depth == sizeof(stack) - 1)
					return *ret_at = i, false;
				stack[depth++] = buf[i++];
				while (i < len && is_json_space(buf[i]))
					i++;
				if (i < len && buf[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
					depth--;
					i++;
					want_value = false;
					continue;
				}
				if (stack[depth - 1] == '{') {
					want_value = false;
					goto key;
				}
				continue;
			}
			if (buf[i] == '"') {
				if (!skip_string(buf, len, &i))
					return *ret_at = i, false;
			} else if (buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9')) {
				if (!skip_number(buf, len, &i))
					return *ret_at = i, false;
			} else if (len - i >= 4 && memcmp(buf + i, "true", 4) == 0) {
				i += 4;
			} else if (len - i >= 5 && memcmp(buf + i, "false", 5) == 0) {
				i += 5;
			} else if (len - i >= 4 && memcmp(buf + i, "null", 4) == 0) {
				i += 4;
			} else {
				return *ret_at = i, false;
			}
			want_value = false;
			continue;
		}
		/* After a value: the end, a comma, or a closing bracket. */
		if (depth == 0)
			return *ret_at = i, i == len;
		if (i >= len)
			return *ret_at = i, false;
		if (buf[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
			depth--;
			i++;
			continue;
		}
		if (buf[i] != ',')
			return *ret_at = i, false;
		i++;
		if (stack[depth - 1] == '[') {
			want_value = true;
			continue;
		}
key:
		while (i < len && is_json_space(buf[i]))
			i++;
		if (i >= len || buf[i] != '"' || !skip_string(buf, len, &i))
			return *ret_at = i, false;
		while (i < len && is_json_space(buf[i]))
			i++;
		if (i >= len || buf[i] != ':')
			return *ret_at = i, false;
		i++;
		want_value = true;
	}
}

int cde_json_parse(const char *buf, size_t len, cJSON **ret_doc, struct cde_errors *errs)
{
	const char *end = NULL;
	size_t bad;
	cJSON *doc;
	struct cde_ptr ptr;
	struct literals lits = { .buf = buf, .len = len };
	int r;

	bad = cde_utf8_check(buf, len);
	if (bad < len) {
		cde_errors_add(errs, "", "invalid UTF-8 at byte %zu", bad);
		return -EINVAL;
	}
	bad = find_nul_escape(buf, len);
	if (bad < len) {
		cde_errors_add(errs, "", "\\u0000 is not allowed in strings (byte %zu)", bad);
		return -EINVAL;
	}
	/* cJSON stops at a NUL byte; a raw NUL is never valid JSON anyway. */
	if (memchr(buf, '\0', len)) {
		cde_errors_add(errs, "", "NUL byte in JSON text");
		return -EINVAL;
	}
	/* cJSON is lenient ("1.", "01", raw control characters in strings):
	 * what it reads past RFC 8259 is refused first, also because the
	 * number check below pairs the tree's numbers with the text's
	 * literals, which only well-formed text makes one to one. */
	{
		size_t at;

		if (!json_well_formed(buf, len, &at)) {
			if (len == 0 || at >= len)
				cde_errors_add(errs, "", "invalid JSON: unexpected end of input");
			else
				cde_errors_add(errs, "", "invalid JSON at byte %zu", at);
			return -EINVAL;
		}
	}
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!doc)
		return -ENOMEM; /* well-formed, so cJSON ran out of memory */
	for (const char *p = end; p < buf + len; p++) {
		if (!is_json_space(*p)) {
			cde_errors_add(errs, "", "invalid JSON: unexpected data at byte %zu",
				       (size_t)(p - buf));
			cJSON_Delete(doc);
			return -EINVAL;
		}
	}
	cde_ptr_init(&ptr);
	r = check_tree(doc, &ptr, 0, &lits, errs);
	if (r < 0) {
		cJSON_Delete(doc);
		return r;
	}
	*ret_doc = doc;
	return 0;
}

int cde_json_put(cJSON *obj, const char *key, cJSON *item)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t n = strlen(key) + 1;
	char *name = cJSON_malloc(n);

	if (!name)
		return -ENOMEM;
	memcpy(name, key, n);
	if (item->string && !(item->type & cJSON_StringIsConst))
		cJSON_free(item->string);
	item->string = name;
	item->type &= ~cJSON_StringIsConst;
	if (old)
		return cJSON_ReplaceItemViaPointer(obj, old, item) ? 0 : -ENOMEM;
	/* Appended as is: the name is already in place. */
	return cJSON_AddItemToArray(obj, item) ? 0 : -ENOMEM;
}
