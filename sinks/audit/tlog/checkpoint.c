/* Checkpoint texts (c2sp.org/tlog-checkpoint): what a log signs to
 * commit to its tree size and root hash. The parser accepts one spelling
 * per checkpoint (no leading zeros, canonical base64), so two parties
 * comparing checkpoints byte for byte and field by field agree. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/tlog/checkpoint.h"
#include "sinks/audit/tlog/note_text.h"

#define ROOT_B64_LEN CDE_B64_LEN(CDE_CHECKPOINT_HASH)
#define MISSING "missing, or the text does not end in a newline"

int cde_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[CDE_CHECKPOINT_HASH],
			  char **ret_text)
{
	char b64[ROOT_B64_LEN + 1];
	size_t n = strlen(origin), cap = n + 1 + 20 + 1 + ROOT_B64_LEN + 2;
	char *text;

	if (n == 0 || !cde_note_text_valid(origin, n) || strchr(origin, '\n'))
		return -EINVAL;
	text = malloc(cap);
	if (!text)
		return -ENOMEM;
	cde_b64_encode(b64, root, CDE_CHECKPOINT_HASH);
	snprintf(text, cap, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
	*ret_text = text;
	return 0;
}

/* The decimal @s (@len digits) into @ret: false on anything but the one
 * spelling of a 64-bit number. */
static bool parse_size(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* The next line of @text from @at: its length; @at moves past it. -1 when
 * no newline ends it. */
static long next_line(const char *text, size_t len, size_t *at, const char **ret)
{
	const char *nl = *at < len ? memchr(text + *at, '\n', len - *at) : NULL;
	long n;

	if (!nl)
		return -1;
	*ret = text + *at;
	n = (long)(nl - *ret);
	*at += (size_t)n + 1;
	return n;
}

/* Checks the extension lines from @at: non-empty, newline-terminated. */
static void check_extensions(const char *text, size_t len, size_t at, struct cde_errors *errs)
{
	for (int i = 0; at < len; i++) {
		const char *line;
		long n = next_line(text, len, &at, &line);
		char ptr[32];

		snprintf(ptr, sizeof(ptr), "/extensions/%d", i);
		if (n < 0) {
			cde_errors_add(errs, ptr, "the text must end in a newline");
			return;
		}
		if (n == 0)
			cde_errors_add(errs, ptr, "extension lines must not be empty");
	}
}

int cde_checkpoint_parse(const char *text, size_t len, struct cde_checkpoint *ret, struct cde_errors *errs)
{
	const char *origin = NULL, *size = NULL, *root = NULL;
	long origin_len, size_len, root_len;
	struct cde_checkpoint c = { 0 };
	uint8_t raw[ROOT_B64_LEN / 4 * 3];
	size_t at = 0, before = errs->count + errs->dropped;

	if (!cde_note_text_valid(text, len)) {
		cde_errors_add(errs, "", "a checkpoint is UTF-8 without control characters but newline");
		return -EINVAL;
	}
	origin_len = next_line(text, len, &at, &origin);
	size_len = next_line(text, len, &at, &size);
	root_len = next_line(text, len, &at, &root);
	if (origin_len <= 0)
		cde_errors_add(errs, "/origin", origin_len < 0 ? MISSING : "must not be empty");
	if (size_len < 0 || !parse_size(size, (size_t)size_len, &c.size))
		cde_errors_add(errs, "/size", size_len < 0 ? MISSING :
			       "not a decimal number of 64 bits without a sign or leading zeros");
	if (root_len < 0)
		cde_errors_add(errs, "/root_hash", MISSING);
	else if (root_len != ROOT_B64_LEN || cde_b64_decode(raw, root, ROOT_B64_LEN) != CDE_CHECKPOINT_HASH)
		cde_errors_add(errs, "/root_hash", "not 32 bytes in canonical base64");
	else
		memcpy(c.root, raw, CDE_CHECKPOINT_HASH);
	if (root_len >= 0)
		check_extensions(text, len, at, errs);
	if (errs->count + errs->dropped != before)
		return -EINVAL;
	c.origin = strndup(origin, (size_t)origin_len);
	c.extensions = at < len ? strndup(text + at, len - at) : NULL;
	if (!c.origin || (at < len && !c.extensions)) {
		cde_checkpoint_release(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void cde_checkpoint_release(struct cde_checkpoint *c)
{
	free(c->origin);
	free(c->extensions);
	c->origin = c->extensions = NULL;
}
