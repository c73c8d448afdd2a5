#pragma once
/* Reading a whole file into memory, with a size cap. */

#include <stdbool.h>
#include <stddef.h>

/* Reads all of @path ("-" for standard input) into a malloc'd buffer with
 * a terminating NUL after the @ret_len bytes. Returns 0, -EFBIG past @max
 * bytes, or another -errno. */
int cde_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* True when a secret file of permission bits @mode owned by @uid is
 * private: others have no access, and the group none either, or only
 * read on a file root owns (a Kubernetes Secret mounted with fsGroup). */
bool cde_secret_mode_ok(unsigned mode, unsigned uid);

/* Reads a secret (a token, a signing key) from @path: one line, its
 * trailing newline dropped, at most @max bytes, NUL-terminated in a
 * malloc'd buffer the caller wipes and frees. Returns 0, -EPERM when a
 * regular file is not private (cde_secret_mode_ok), -ENODATA when
 * empty, -EINVAL when it holds more than one line or a NUL (it would end
 * up in a header), or what cde_read_file returns. */
int cde_read_secret(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Checks that the secret file @path, which a library reads itself (a
 * NATS .creds file), is private as cde_read_secret would: 0, -EPERM, or
 * -errno when it cannot be opened. */
int cde_check_secret_file(const char *path);

/* The reason for an error of cde_read_secret or cde_check_secret_file,
 * for a message. */
const char *cde_read_secret_strerror(int r);
