/* Strict JSON: cJSON does the parsing, this file adds the checks that make
 * one byte sequence mean one document (see json_strict.h for the list). */

#include "schemas/json_strict.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json_pointer.h"

size_t cde_utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned int cp;

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
	for (size_t i = 0; i + 6 <= len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
			return i;
		i++; /* skip the escaped character, whatever it is */
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

static int check_tree(const cJSON *node, struct cde_ptr *ptr, unsigned depth,
		      struct cde_errors *errs)
{
	size_t index = 0;
	const cJSON *c;

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
		int r = check_tree(c, ptr, depth + 1, errs);

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

int cde_json_parse(const char *buf, size_t len, cJSON **ret_doc, struct cde_errors *errs)
{
	const char *end = NULL;
	size_t bad;
	cJSON *doc;
	struct cde_ptr ptr;
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
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!doc) {
		size_t at = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;

		if (len == 0 || at >= len)
			cde_errors_add(errs, "", "invalid JSON: unexpected end of input");
		else
			cde_errors_add(errs, "", "invalid JSON at byte %zu", at);
		return -EINVAL;
	}
	for (const char *p = end; p < buf + len; p++) {
		if (!is_json_space(*p)) {
			cde_errors_add(errs, "", "invalid JSON: unexpected data at byte %zu",
				       (size_t)(p - buf));
			cJSON_Delete(doc);
			return -EINVAL;
		}
	}
	cde_ptr_init(&ptr);
	r = check_tree(doc, &ptr, 0, errs);
	if (r < 0) {
		cJSON_Delete(doc);
		return r;
	}
	*ret_doc = doc;
	return 0;
}
