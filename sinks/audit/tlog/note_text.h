#pragma once
/* The text rules shared by signed notes and checkpoints: strict base64
 * (RFC 4648 section 4) and the note's character rules. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length of the base64 encoding of @n bytes, without a NUL. */
#define CDE_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the padded base64 of @n bytes at @src into @dst, which holds
 * CDE_B64_LEN(@n) + 1 bytes; NUL-terminated. */
void cde_b64_encode(char *dst, const uint8_t *src, size_t n);

/* Decodes the @len base64 characters at @src into @dst (room for
 * @len / 4 * 3 bytes). Only the canonical encoding is accepted: a length
 * that is a multiple of 4, the standard alphabet, padding only at the
 * end and zero bits under it, so that one value has one spelling.
 * Returns the number of bytes, or -EINVAL. */
int cde_b64_decode(uint8_t *dst, const char *src, size_t len);

/* True when the @len bytes at @s are valid UTF-8 (no overlong forms, no
 * surrogates) without ASCII control characters other than newline: what
 * a signed note may contain. */
bool cde_note_text_valid(const char *s, size_t len);

/* True when @s (@len bytes) is a key name: non-empty UTF-8 with neither
 * '+', a control character nor a Unicode space (Go's unicode.IsSpace,
 * which golang.org/x/mod's note package applies). */
bool cde_note_name_valid(const char *s, size_t len);
