/* The formats schemas/jsonschema can assert when asked
 * (CDE_JSONSCHEMA_FORMAT_ASSERT): date-time (RFC 3339), uri and
 * uri-reference (RFC 3986 characters and shape), email (RFC 5321's
 * dot-atom@domain, without quoted local parts). Any other format stays an
 * annotation. */
#include <ctype.h>
#include <string.h>

#include "schemas/jsonschema/jsonschema_internal.h"

/* Reads @n digits at *@s into *@ret; false when they are not there. */
static bool digits(const char **s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return false;
		v = v * 10 + (**s - '0');
	}
	*ret = v;
	return true;
}

static bool date_ok(const char **s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	if (!digits(s, 4, &y) || *(*s)++ != '-' || !digits(s, 2, &m) || *(*s)++ != '-' || !digits(s, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

static bool date_time_ok(const char *s)
{
	int h, mi, sec, oh = 0, om = 0;
	if (!date_ok(&s) || (*s != 'T' && *s != 't'))
		return false;
	s++;
	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &sec))
		return false;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	int sign = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 || om > 59)
			return false;
	} else {
		return false;
	}
	if (*s || h > 23 || mi > 59 || sec > 60)
		return false;
	if (sec == 60) {
		/* A leap second is 23:59:60 in UTC. */
		int utc = ((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
		return utc == 23 * 60 + 59;
	}
	return true;
}

/* Characters RFC 3986 allows in a URI outside percent-escapes. */
static bool uri_chars_ok(const char *s)
{
	static const char allowed[] = "-._~:/?#[]@!$&'()*+,;=";
	for (; *s; s++) {
		if (*s == '%') {
			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
				return false;
			s += 2;
		} else if (!isalnum((unsigned char)*s) && !strchr(allowed, *s)) {
			return false;
		}
	}
	return true;
}

static bool has_scheme(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	while (isalnum((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.')
		s++;
	return *s == ':';
}

/* A dotted-quad IPv4 address in the @len bytes at @s: four decimals up to
 * 255, without leading zeros (RFC 3986's dec-octet). */
static bool ipv4_ok(const char *s, size_t len)
{
	const char *end = s + len;
	for (int part = 0; part < 4; part++) {
		if (part && (s >= end || *s++ != '.'))
			return false;
		int v = 0, n = 0;
		for (; s < end && isdigit((unsigned char)*s) && n < 4; s++, n++)
			v = v * 10 + (*s - '0');
		if (n == 0 || n > 3 || v > 255 || (n > 1 && s[-n] == '0'))
			return false;
	}
	return s == end;
}

/* An IP literal's inside ("::ffff:1.2.3.4", "v1.x" is not handled). */
static bool ip_literal_ok(const char *s, size_t len)
{
	size_t last_colon = 0;
	bool colon = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':')
			last_colon = i, colon = true;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return false;
	}
	if (!colon)
		return false;
	const char *tail = s + last_colon + 1;
	size_t tail_len = len - last_colon - 1;
	return !memchr(tail, '.', tail_len) || ipv4_ok(tail, tail_len);
}

/* The authority of a URI: [userinfo@]host[:port]. */
static bool authority_ok(const char *a, size_t len)
{
	const char *end = a + len, *at = memchr(a, '@', len);
	if (at) {
		if (memchr(at + 1, '@', (size_t)(end - at - 1)) || memchr(a, '[', (size_t)(at - a))
			|| memchr(a, ']', (size_t)(at - a)))
			return false;
		a = at + 1;
	}
	const char *port;
	if (*a == '[') {
		const char *close = memchr(a, ']', (size_t)(end - a));
		if (!close || !ip_literal_ok(a + 1, (size_t)(close - a - 1)))
			return false;
		port = close + 1;
		if (port < end && *port != ':')
			return false;
	} else {
		if (memchr(a, '[', (size_t)(end - a)) || memchr(a, ']', (size_t)(end - a)))
			return false;
		port = memchr(a, ':', (size_t)(end - a));
		if (!port)
			return true;
	}
	for (const char *c = port + (port < end); c < end; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

static bool uri_ok(const char *s, bool reference)
{
	if (!uri_chars_ok(s))
		return false;
	bool scheme = has_scheme(s);
	if (!reference && !scheme)
		return false;
	const char *hash = strchr(s, '#');
	if (hash && strchr(hash + 1, '#'))
		return false;
	const char *rest = scheme ? strchr(s, ':') + 1 : s;
	if (rest[0] == '/' && rest[1] == '/')
		return authority_ok(rest + 2, strcspn(rest + 2, "/?#"));
	size_t first = strcspn(rest, "/?#");
	/* A relative path's first segment cannot hold ':' (it would read as
	 * a scheme); '[' and ']' only delimit an IP literal host. */
	if (!scheme && memchr(rest, ':', first))
		return false;
	return !strpbrk(rest, "[]");
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d);
	if (*d == '[') {
		if (d[n - 1] != ']')
			return false;
		if (!strncmp(d + 1, "IPv6:", 5))
			return ip_literal_ok(d + 6, n - 7);
		return ipv4_ok(d + 1, n - 2);
	}
	if (*d == '.' || d[n - 1] == '.' || strstr(d, ".."))
		return false;
	return strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

static bool email_ok(const char *s)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char *at;
	if (*s == '"') {
		/* A quoted local part: anything but a bare quote or backslash. */
		const char *c = s + 1;
		for (; *c && *c != '"'; c++)
			if (*c == '\\' && !*++c)
				return false;
		if (*c != '"' || c == s + 1 || c[1] != '@')
			return false;
		at = c + 1;
	} else {
		at = strchr(s, '@');
		if (!at || at == s || s[0] == '.' || at[-1] == '.')
			return false;
		for (const char *c = s; c < at; c++)
			if (*c == '.' ? c[1] == '.' : !isalnum((unsigned char)*c) && !strchr(atext, *c))
				return false;
	}
	return at[1] && domain_ok(at + 1);
}

bool cde_js_format_ok(const char *format, const char *str)
{
	if (!strcmp(format, "date-time"))
		return date_time_ok(str);
	if (!strcmp(format, "uri"))
		return uri_ok(str, false);
	if (!strcmp(format, "uri-reference"))
		return uri_ok(str, true);
	if (!strcmp(format, "email"))
		return email_ok(str);
	return true;
}
