/* URI references for schemas/jsonschema: resolving $id and $ref against a
 * base (RFC 3986, section 5), percent-decoding of fragments, and the small
 * translation of ECMA-262 patterns into POSIX extended ones. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/jsonschema/jsonschema_internal.h"

int cde_js_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The parts of a URI reference; a part that is absent has a NULL start. */
struct part {
	const char *p;
	size_t len;
};

struct uri {
	struct part scheme, auth, path, query, frag;
};

static void uri_split(const char *s, struct uri *u)
{
	memset(u, 0, sizeof(*u));
	const char *c = s;
	if (isalpha((unsigned char)*c)) {
		const char *e = c + 1;
		while (isalnum((unsigned char)*e) || *e == '+' || *e == '-' || *e == '.')
			e++;
		if (*e == ':') {
			u->scheme = (struct part){ c, (size_t)(e - c) };
			c = e + 1;
		}
	}
	if (c[0] == '/' && c[1] == '/') {
		c += 2;
		size_t n = strcspn(c, "/?#");
		u->auth = (struct part){ c, n };
		c += n;
	}
	size_t n = strcspn(c, "?#");
	u->path = (struct part){ c, n };
	c += n;
	if (*c == '?') {
		n = strcspn(c + 1, "#");
		u->query = (struct part){ c + 1, n };
		c += n + 1;
	}
	if (*c == '#')
		u->frag = (struct part){ c + 1, strlen(c + 1) };
}

/* Appends @path (@len bytes) to @out with its dot segments removed
 * (RFC 3986, section 5.2.4). @out has room for @len more bytes. */
static char *remove_dots(char *out, const char *path, size_t len)
{
	char *start = out;
	const char *in = path, *end = path + len;
	while (in < end) {
		size_t left = (size_t)(end - in);
		if (left >= 3 && !strncmp(in, "../", 3)) {
			in += 3;
		} else if (left >= 2 && !strncmp(in, "./", 2)) {
			in += 2;
		} else if ((left >= 3 && !strncmp(in, "/./", 3)) || (left == 2 && !strncmp(in, "/.", 2))) {
			in += 2;
			if (left == 2)
				*out++ = '/';
		} else if ((left >= 4 && !strncmp(in, "/../", 4)) || (left == 3 && !strncmp(in, "/..", 3))) {
			in += 3;
			while (out > start && out[-1] != '/')
				out--;
			if (out > start)
				out--;
			if (left == 3)
				*out++ = '/';
		} else if ((left == 1 && *in == '.') || (left == 2 && !strncmp(in, "..", 2))) {
			in = end;
		} else {
			/* The path need not be terminated: bound by @end. */
			const char *seg = in + (*in == '/');
			while (seg < end && *seg != '/')
				seg++;
			size_t n = (size_t)(seg - in);
			memcpy(out, in, n);
			out += n;
			in += n;
		}
	}
	return out;
}

static char *put(char *out, const char *pre, struct part p)
{
	if (!p.p)
		return out;
	size_t n = strlen(pre);
	memcpy(out, pre, n);
	memcpy(out + n, p.p, p.len);
	return out + n + p.len;
}

char *cde_js_uri_resolve(const char *base, const char *ref)
{
	struct uri b, r, t;
	uri_split(base, &b);
	uri_split(ref, &r);
	char *buf = malloc(strlen(base) + strlen(ref) + 8);
	if (!buf)
		return NULL;
	t.frag = r.frag;
	if (r.scheme.p) {
		t.scheme = r.scheme, t.auth = r.auth, t.path = r.path, t.query = r.query;
	} else {
		t.scheme = b.scheme;
		if (r.auth.p) {
			t.auth = r.auth, t.path = r.path, t.query = r.query;
		} else {
			t.auth = b.auth;
			if (r.path.len == 0) {
				t.path = b.path;
				t.query = r.query.p ? r.query : b.query;
			} else {
				t.path = r.path, t.query = r.query;
			}
		}
	}
	char *o = buf;
	if (t.scheme.p) {
		memcpy(o, t.scheme.p, t.scheme.len);
		o += t.scheme.len;
		*o++ = ':';
	}
	o = put(o, "//", t.auth);
	if (!r.scheme.p && !r.auth.p && r.path.len && r.path.p[0] != '/') {
		/* Merge: the base's path up to its last slash, then @ref's. */
		size_t keep = 0;
		for (size_t i = 0; i < b.path.len; i++)
			if (b.path.p[i] == '/')
				keep = i + 1;
		char *tmp = malloc(b.path.len + r.path.len + 2);
		if (!tmp) {
			free(buf);
			return NULL;
		}
		size_t n = 0;
		if (b.auth.p && b.path.len == 0)
			tmp[n++] = '/';
		memcpy(tmp + n, b.path.p, keep);
		memcpy(tmp + n + keep, r.path.p, r.path.len);
		n += keep + r.path.len;
		o = remove_dots(o, tmp, n);
		free(tmp);
	} else if (t.path.p) {
		o = (t.path.len && t.path.p[0] == '/') ? remove_dots(o, t.path.p, t.path.len)
			: (memcpy(o, t.path.p, t.path.len), o + t.path.len);
	}
	o = put(o, "?", t.query);
	o = put(o, "#", t.frag);
	*o = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool cde_js_percent_decode(char *s)
{
	char *o = s;
	for (const char *c = s; *c; c++) {
		if (*c != '%') {
			*o++ = *c;
			continue;
		}
		int hi = hexval(c[1]), lo = hi < 0 ? -1 : hexval(c[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return false;
		*o++ = (char)(hi * 16 + lo);
		c += 2;
	}
	*o = '\0';
	return true;
}

/* What an ECMA-262 class escape stands for, inside brackets and outside. */
static const char *class_escape(char c, bool in_brackets)
{
	switch (c) {
	case 'd': return in_brackets ? "0-9" : "[0-9]";
	case 'w': return in_brackets ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
	case 's': return in_brackets ? "[:space:]" : "[[:space:]]";
	case 'D': return in_brackets ? NULL : "[^0-9]";
	case 'W': return in_brackets ? NULL : "[^A-Za-z0-9_]";
	case 'S': return in_brackets ? NULL : "[^[:space:]]";
	default: return NULL;
	}
}

char *cde_js_regex_translate(const char *src, bool *ret_nomem)
{
	*ret_nomem = false;
	size_t len = strlen(src);
	if (len > SIZE_MAX / 16) {
		*ret_nomem = true;
		return NULL;
	}
	char *out = malloc(len * 16 + 1), *o = out;
	if (!out) {
		*ret_nomem = true;
		return NULL;
	}
	bool br = false;
	for (const char *c = src; *c; c++) {
		if (*c == '[' && !br) {
			br = true;
		} else if (*c == ']' && br && c[-1] != '[' && !(c[-1] == '^' && c[-2] == '[')) {
			br = false;
		} else if (*c == '\\') {
			const char *rep = class_escape(c[1], br);
			if (rep) {
				o = stpcpy(o, rep);
				c++;
				continue;
			}
			/* An escaped punctuation character means itself in both;
			 * any other escape (\b, \p{..}, \u...) has no equivalent. */
			if (!c[1] || isalnum((unsigned char)c[1]))
				goto unsupported;
			/* In a POSIX bracket '-', ']' and '^' are literal only in
			 * certain places, and '\\' is always literal. */
			if (br && strchr("-]^", c[1]))
				goto unsupported;
			if (br) {
				*o++ = c[1];
				c++;
				continue;
			}
			*o++ = *c++;
		} else if (*c == '(' && c[1] == '?') {
			goto unsupported;
		}
		*o++ = *c;
	}
	*o = '\0';
	return out;
unsupported:
	free(out);
	return NULL;
}
