/* Strict base64 and the character rules of signed notes. Both sides of a
 * signature must agree on the exact bytes, so every decoder here refuses
 * what a lenient one would repair: a second spelling of one value
 * (non-zero pad bits), a malformed or overlong UTF-8 sequence, a control
 * character that a terminal would hide. */

#include <errno.h>
#include <string.h>

#include "sinks/audit/tlog/note_text.h"

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cde_b64_encode(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];

		*dst++ = b64_digits[v >> 18];
		*dst++ = b64_digits[(v >> 12) & 63];
		*dst++ = b64_digits[(v >> 6) & 63];
		*dst++ = b64_digits[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);

		*dst++ = b64_digits[v >> 18];
		*dst++ = b64_digits[(v >> 12) & 63];
		*dst++ = i + 1 < n ? b64_digits[(v >> 6) & 63] : '=';
		*dst++ = '=';
	}
	*dst = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_digits, c) : NULL;

	return p ? (int)(p - b64_digits) : -1;
}

int cde_b64_decode(uint8_t *dst, const char *src, size_t len)
{
	size_t pad = 0, out = 0;

	if (len % 4)
		return -EINVAL;
	if (len && src[len - 1] == '=')
		pad = len >= 2 && src[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++) {
			int d = last && j >= 4 - pad ? 0 : b64_value(src[i + j]);

			if (d < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		/* The bits under the padding must be zero: "QQ==" is 'A', "QR==" is not. */
		if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))))
			return -EINVAL;
		dst[out++] = (uint8_t)(v >> 16);
		if (!last || pad < 2)
			dst[out++] = (uint8_t)(v >> 8);
		if (!last || pad < 1)
			dst[out++] = (uint8_t)v;
	}
	return (int)out;
}

/* Decodes one UTF-8 sequence at @s (@len bytes left): its length, or 0
 * when malformed. The code point lands in @ret_cp. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

bool cde_note_text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (n == 0 || (cp < 0x20 && cp != '\n'))
			return false;
		i += n;
	}
	return true;
}

/* Unicode's White_Space property, which is what Go's unicode.IsSpace tests. */
static bool is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	       cp == 0x205f || cp == 0x3000;
}

bool cde_note_name_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == '+' || is_space(cp))
			return false;
		i += n;
	}
	return true;
}
