#pragma once
/* JSON parsing with the rules an audit log needs on top of cJSON. */

#include <stddef.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

/* Parses exactly @len bytes of @buf (no terminator needed) into a new cJSON
 * tree stored in *@ret_doc (caller frees with cJSON_Delete).
 *
 * Rejects, besides syntax errors: invalid UTF-8, the escape \u0000 (cJSON
 * would silently cut the string there), a second copy of a property in one
 * object (consumers disagree on which copy wins, so what the audit log
 * stores could be read differently downstream), trailing garbage,
 * nesting deeper than CDE_JSON_MAX_DEPTH, and a number a double cannot
 * keep (cde_json_number_loss): it would be stored changed.
 *
 * Returns 0, or -EINVAL with one error in @errs, or -ENOMEM. */
int cde_json_parse(const char *buf, size_t len, cJSON **ret_doc, struct cde_errors *errs);

#define CDE_JSON_MAX_DEPTH 64

/* Why the number literal @s (@len bytes of JSON number syntax), which
 * reads as the double @value, cannot be kept as sent (I-JSON, RFC 7493):
 * past the range of a double, rounding to 0, or an integer literal past
 * 2^53 in magnitude (its neighbours read the same); NULL when it can. */
const char *cde_json_number_loss(const char *s, size_t len, double value);

/* Prints @doc as cJSON_PrintUnformatted does, except that every number
 * reads back as the same double (cJSON's printer rounds some: 2^53 comes
 * out as 9.00719925474099e+15). Returns a malloc'd string or NULL when
 * out of memory. */
char *cde_json_print(const cJSON *doc);

/* The text cde_json_print writes for the finite number @item, into @buf
 * of @size bytes. 0, -EINVAL (not a finite number: printed as null) or
 * -ENOBUFS. */
int cde_json_number_text(const cJSON *item, char *buf, size_t size);

/* Returns the byte offset of the first invalid UTF-8 sequence in @s, or
 * @len when all of it is valid (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
size_t cde_utf8_check(const char *s, size_t len);

/* How many bytes at the start of @s (@len) are printable ASCII other
 * than '"' and '\\': text JSON writes as it is, valid UTF-8. */
size_t cde_json_plain_prefix(const char *s, size_t len);

/* The escape JSON writers put for byte @c in a string (the short forms
 * of \b \t \n \f \r \" \\, else \u00xx below 0x20; RFC 8785 and
 * cJSON alike) into @out: its length, or 0 when @c is written as it is. */
size_t cde_json_escape(unsigned char c, char out[6]);

/* Puts @item into the object @obj under @key, replacing a member of that
 * name. Unlike cJSON_ReplaceItemInObject of cJSON 1.7.15, which keeps an
 * item without a name when copying the key fails, the item is named before
 * it goes in, so an allocation failure leaves @obj as it was. Takes @item
 * on success only. Returns 0 or -ENOMEM. */
int cde_json_put(cJSON *obj, const char *key, cJSON *item);
