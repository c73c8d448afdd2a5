#pragma once
/* Reading a whole file into memory, with a size cap. */

#include <stddef.h>

/* Reads all of @path ("-" for standard input) into a malloc'd buffer with
 * a terminating NUL after the @ret_len bytes. Returns 0, -EFBIG past @max
 * bytes, or another -errno. */
int cde_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Reads a secret (a token, a signing key) from @path: one line, its
 * trailing newline dropped, at most @max bytes, NUL-terminated in a
 * malloc'd buffer the caller wipes and frees. Returns 0, -ENODATA when
 * empty, -EINVAL when it holds more than one line or a NUL (it would end
 * up in a header), or what cde_read_file returns. */
int cde_read_secret(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* The reason for an error of cde_read_secret, for a message. */
const char *cde_read_secret_strerror(int r);
