#pragma once
/* Reading a whole file into memory, with a size cap. */

#include <stddef.h>

/* Reads all of @path ("-" for standard input) into a malloc'd buffer with
 * a terminating NUL after the @ret_len bytes. Returns 0, -EFBIG past @max
 * bytes, or another -errno. */
int cde_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);
