/* Format predicates, hand-written from RFC 3339 and RFC 3986 (no regex
 * engine: linear time, no allocation). Each deviation from the RFC is one
 * the reference validator makes too, and is marked "oracle:". */

#include "schemas/formats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- date-time -------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static bool is_leap_year(long y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static bool full_date(const char *s, size_t n)
{
	static const int days[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (n != 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) ||
	    s[7] != '-' || !all_digits(s + 8, 2))
		return false;
	long year = strtol((char[5]){ s[0], s[1], s[2], s[3], 0 }, NULL, 10);
	int month = two_digits(s + 5);
	int day = two_digits(s + 8);

	if (month < 1 || month > 12 || day < 1)
		return false;
	return day <= (month == 2 && is_leap_year(year) ? 29 : days[month]);
}

/* HH:MM:SS[.frac](Z|+HH[[:]MM]). oracle: the offset may omit its minutes
 * or its colon, and a leap second (:60) is accepted when the time is
 * 23:59 UTC. */
static bool full_time(const char *s, size_t n)
{
	size_t i = 8;
	int hr, min, tz_h = 0, tz_m = 0, sign = 1;
	char secbuf[64];

	if (n < 9 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2) ||
	    s[5] != ':' || !all_digits(s + 6, 2))
		return false;
	hr = two_digits(s);
	min = two_digits(s + 3);
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < n && is_digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	/* Seconds compared as the double the oracle parses them into, so
	 * "59.99999999999999999" rounds to 60 for both of us. */
	if (i >= sizeof(secbuf))
		return false;
	memcpy(secbuf, s + 6, i - 6);
	secbuf[i - 6] = '\0';
	double sec = strtod(secbuf, NULL);

	if (i >= n)
		return false; /* the offset is required */
	if (s[i] == 'z' || s[i] == 'Z') {
		if (i + 1 != n)
			return false;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		i++;
		if (n - i < 2 || !all_digits(s + i, 2))
			return false;
		tz_h = two_digits(s + i);
		i += 2;
		if (i < n) {
			if (s[i] == ':')
				i++;
			if (n - i != 2 || !all_digits(s + i, 2))
				return false;
			tz_m = two_digits(s + i);
		}
	} else {
		return false;
	}
	if (tz_h > 23 || tz_m > 59)
		return false;
	if (hr <= 23 && min <= 59 && sec < 60)
		return true;
	int utc_min = min - tz_m * sign;
	int utc_hr = hr - tz_h * sign - (utc_min < 0 ? 1 : 0);

	return (utc_hr == 23 || utc_hr == -1) && (utc_min == 59 || utc_min == -1) && sec < 61;
}

/* oracle: date and time may be separated by 'T', 't' or any character
 * JavaScript's \s matches, and exactly one such character may occur. */
static size_t separator_len(const unsigned char *s)
{
	if (*s == 'T' || *s == 't' || *s == ' ' || (*s >= 0x09 && *s <= 0x0d))
		return 1;
	if (s[0] == 0xc2 && s[1] == 0xa0)
		return 2; /* U+00A0 */
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3; /* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3; /* U+205F */
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3; /* U+3000 */
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3; /* U+FEFF */
	return 0;
}

bool cde_format_is_date_time(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), sep_at = 0, sep_len = 0, count = 0;

	for (size_t i = 0; i < len;) {
		size_t k = separator_len(s + i);

		if (k) {
			if (count++ == 0) {
				sep_at = i;
				sep_len = k;
			}
			i += k;
		} else {
			i++;
		}
	}
	if (count != 1)
		return false;
	return full_date(str, sep_at) &&
	       full_time(str + sep_at + sep_len, len - sep_at - sep_len);
}

/* ---- uri, uri-reference ----------------------------------------------- */

enum uri_mode {
	URI_STRICT,	/* format "uri" */
	URI_REFERENCE,	/* format "uri-reference" */
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_unreserved_or_sub_delim(char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("-._~!$&'()*+,;=", c));
}

/* Length of the character (or %HH triplet) at @s that the class allows, or
 * 0. oracle: in a uri-reference, '"' is accepted in the host, the path, the
 * query and the fragment. */
enum char_class { CC_USERINFO, CC_REGNAME, CC_SEGMENT, CC_QUERY };

static size_t class_char(const char *s, enum char_class cc, enum uri_mode mode)
{
	char c = s[0];

	if (c == '%')
		return is_hex(s[1]) && is_hex(s[2]) ? 3 : 0;
	if (is_unreserved_or_sub_delim(c))
		return 1;
	if (c == '"' && mode == URI_REFERENCE && cc != CC_USERINFO)
		return 1;
	switch (cc) {
	case CC_USERINFO:
		return c == ':';
	case CC_REGNAME:
		return 0;
	case CC_SEGMENT:
		return c == ':' || c == '@';
	case CC_QUERY:
		return c == ':' || c == '@' || c == '/' || c == '?';
	}
	return 0;
}

/* True when s[0..n) consists only of characters of @cc and '/' when
 * @slashes is set. */
static bool span_of(const char *s, size_t n, enum char_class cc, bool slashes, enum uri_mode mode)
{
	size_t i = 0;

	while (i < n) {
		size_t k;

		if (slashes && s[i] == '/') {
			i++;
			continue;
		}
		k = class_char(s + i, cc, mode);
		if (k == 0 || i + k > n)
			return false;
		i += k;
	}
	return true;
}

static bool ipv4(const char *s, size_t n)
{
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		size_t start;
		int value = 0;

		if (octet && (i >= n || s[i++] != '.'))
			return false;
		start = i;
		while (i < n && is_digit(s[i]) && i - start < 3)
			value = value * 10 + (s[i++] - '0');
		if (i == start || value > 255)
			return false;
	}
	return i == n;
}

/* RFC 3986 IPv6address: eight 16-bit groups, or fewer around one "::", the
 * last two groups optionally written as an IPv4 address. */
static bool ipv6(const char *s, size_t n)
{
	int groups = 0;
	bool elided = false;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		elided = true;
		i = 2;
		if (i == n)
			return true;
	} else if (n && s[0] == ':') {
		return false;
	}
	while (i < n) {
		size_t start = i;

		while (i < n && is_hex(s[i]) && i - start < 4)
			i++;
		if (i < n && s[i] == '.') {
			/* An IPv4 tail stands for the last two groups. */
			if (!ipv4(s + start, n - start))
				return false;
			groups += 2;
			i = n;
			break;
		}
		if (i == start)
			return false;
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (elided)
				return false;
			elided = true;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return false; /* a single trailing ':' */
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

static bool ipvfuture(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 4 || (s[0] != 'v' && s[0] != 'V'))
		return false;
	while (i < n && is_hex(s[i]))
		i++;
	if (i == 1 || i >= n || s[i] != '.' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!is_unreserved_or_sub_delim(s[i]) && s[i] != ':')
			return false;
	return true;
}

/* authority = [ userinfo "@" ] host [ ":" *DIGIT ] */
static bool authority(const char *s, size_t n, enum uri_mode mode)
{
	const char *at = memchr(s, '@', n);
	size_t i = 0;

	if (at) {
		size_t ui = (size_t)(at - s);

		if (!span_of(s, ui, CC_USERINFO, false, mode))
			return false;
		i = ui + 1;
	}
	if (i < n && s[i] == '[') {
		const char *close = memchr(s + i, ']', n - i);

		if (!close)
			return false;
		size_t lit = (size_t)(close - (s + i + 1));

		if (!ipv6(s + i + 1, lit) && !ipvfuture(s + i + 1, lit))
			return false;
		i += lit + 2;
	} else {
		/* reg-name also covers IPv4address: digits and dots are in it. */
		size_t start = i;

		while (i < n && s[i] != ':')
			i++;
		if (!span_of(s + start, i - start, CC_REGNAME, false, mode))
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':')
		return false;
	return all_digits(s + i + 1, n - i - 1);
}

/* "/" or "//" then authority then path-abempty. oracle: a single slash
 * before the authority is accepted too. */
static bool hier_with_authority(const char *h, size_t n, enum uri_mode mode)
{
	for (size_t slashes = 1; slashes <= 2; slashes++) {
		if (n < slashes || memcmp(h, "//", slashes) != 0)
			break;
		const char *a = h + slashes;
		size_t rest = n - slashes;
		const char *slash = memchr(a, '/', rest);
		size_t alen = slash ? (size_t)(slash - a) : rest;

		if (authority(a, alen, mode) &&
		    span_of(a + alen, rest - alen, CC_SEGMENT, true, mode))
			return true;
	}
	return false;
}

/* path-absolute or path-rootless (which, with an optional scheme, also
 * covers path-noscheme): segments, the first one not empty unless it is
 * the root "/" alone. */
static bool hier_path(const char *h, size_t n, enum uri_mode mode)
{
	if (n == 0)
		return false;
	if (h[0] == '/') {
		if (n == 1)
			return true;
		if (h[1] == '/')
			return false;
	}
	return span_of(h, n, CC_SEGMENT, true, mode);
}

/* Everything after the scheme (or from the start without one). */
static bool after_scheme(const char *s, enum uri_mode mode)
{
	size_t n = strlen(s);
	size_t h = strcspn(s, "?#");
	const char *q = s + h;

	/* oracle: a URI needs a non-empty hier-part; a reference may omit it. */
	if (h == 0 ? mode == URI_STRICT
		   : !hier_with_authority(s, h, mode) && !hier_path(s, h, mode))
		return false;
	if (*q == '?') {
		size_t ql = strcspn(q + 1, "#");

		if (!span_of(q + 1, ql, CC_QUERY, false, mode))
			return false;
		q += 1 + ql;
	}
	if (*q == '#')
		return span_of(q + 1, strlen(q + 1), CC_QUERY, false, mode);
	return q == s + n;
}

/* Returns the length of "scheme:" at the start of @s, or 0. */
static size_t scheme_len(const char *s)
{
	size_t i = 1;

	if (!is_alpha(s[0]))
		return 0;
	while (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i + 1 : 0;
}

bool cde_format_is_uri(const char *s)
{
	size_t k = scheme_len(s);

	return k && after_scheme(s + k, URI_STRICT);
}

bool cde_format_is_uri_reference(const char *s)
{
	size_t k = scheme_len(s);

	/* "a:b" parses both as scheme "a" + path "b" and as the relative path
	 * "a:b"; it is a reference if either reading is. */
	return (k && after_scheme(s + k, URI_REFERENCE)) || after_scheme(s, URI_REFERENCE);
}
