#pragma once
/* The text of a transparency-log checkpoint (c2sp.org/tlog-checkpoint):
 *
 *   <origin>\n
 *   <tree size, decimal>\n
 *   <base64 of the 32-byte RFC 6962 root hash>\n
 *   [<extension line>\n]...
 *
 * It is the text of a signed note (note.h), which carries the signatures. */

#include <stddef.h>
#include <stdint.h>

#include "schemas/base/errors.h"

#define CDE_CHECKPOINT_HASH 32

struct cde_checkpoint {
	char *origin;
	uint64_t size;
	uint8_t root[CDE_CHECKPOINT_HASH];
	/* The extension lines, each with its newline, or NULL when none. */
	char *extensions;
};

/* Writes the checkpoint text of @origin, @size and @root (malloc'd,
 * NUL-terminated) into @ret_text. Returns 0, -EINVAL when @origin is
 * empty, holds a newline or a control character or is not UTF-8, or
 * -ENOMEM. */
int cde_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[CDE_CHECKPOINT_HASH],
			  char **ret_text);

/* Parses the checkpoint text @text (@len bytes, as cde_note_open returns
 * it) into @ret, which the caller releases with cde_checkpoint_release.
 * Strict: a non-empty origin; a size in decimal without a sign or leading
 * zeros ("0" for an empty tree) that fits 64 bits; a root hash of exactly
 * 32 bytes in canonical base64; no empty lines; a final newline. Returns
 * 0, -EINVAL with the reasons in @errs (pointers /origin, /size,
 * /root_hash, /extensions), or -ENOMEM. @ret is untouched on failure. */
int cde_checkpoint_parse(const char *text, size_t len, struct cde_checkpoint *ret, struct cde_errors *errs);

/* Frees what @c holds (not @c itself); fine on a zeroed struct. */
void cde_checkpoint_release(struct cde_checkpoint *c);
