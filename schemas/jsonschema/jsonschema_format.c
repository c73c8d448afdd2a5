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

static bool uri_ok(const char *s, bool reference)
{
	if (!uri_chars_ok(s))
		return false;
	if (!reference && !has_scheme(s))
		return false;
	/* '[' and ']' only delimit an IP literal host; '#' only once. */
	const char *hash = strchr(s, '#');
	if (hash && strchr(hash + 1, '#'))
		return false;
	const char *a = strstr(s, "//");
	const char *a_end = a ? a + 2 + strcspn(a + 2, "/?#") : s;
	for (const char *c = s; *c; c++)
		if ((*c == '[' || *c == ']') && !(a && c > a && c < a_end))
			return false;
	return true;
}

static bool email_ok(const char *s)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char *at = strrchr(s, '@');
	if (!at || at == s || !at[1] || s[0] == '.' || at[-1] == '.')
		return false;
	for (const char *c = s; c < at; c++) {
		if (*c == '.' ? c[1] == '.' : !isalnum((unsigned char)*c) && !strchr(atext, *c))
			return false;
	}
	const char *d = at + 1;
	if (*d == '.' || d[strlen(d) - 1] == '.' || strstr(d, ".."))
		return false;
	if (*d == '[')
		return d[strlen(d) - 1] == ']';
	return strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == strlen(d);
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
