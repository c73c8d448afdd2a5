/* Whole-file reads for catalogs, command-line input and secrets. Files
 * are read in growing chunks rather than sized with stat() first, so that
 * pipes and /proc files work too and a file that grows while read stays
 * capped. A secret file must be private (cde_secret_mode_ok). */

#include "schemas/base/read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads all of @f (closed unless it is stdin). */
static int read_stream(FILE *f, size_t max, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	for (;;) {
		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf;

			if (cap >= max + 1) {
				r = -EFBIG;
				break;
			}
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				r = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (len > max) {
			r = -EFBIG;
			break;
		}
		if (n == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int cde_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (!f)
		return -errno;
	return read_stream(f, max, ret_buf, ret_len);
}

bool cde_secret_mode_ok(unsigned mode, unsigned uid)
{
	/* Others never; the group may read a file root owns, which is how
	 * Kubernetes mounts a Secret for a non-root pod (fsGroup, 0440). */
	return !(mode & 0007) && (!(mode & 0070) || (uid == 0 && (mode & 0070) == 0040));
}

int cde_read_secret(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t len;
	int r;

	if (!f)
		return -errno;
	/* The file read, not the name: a swap after a check cannot pass. */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    !cde_secret_mode_ok(st.st_mode & 07777, st.st_uid)) {
		if (f != stdin)
			fclose(f);
		return -EPERM;
	}
	r = read_stream(f, max, &buf, &len);
	if (r < 0)
		return r;
	/* One trailing newline is what `echo` and editors leave. */
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) || memchr(buf, '\r', len) || memchr(buf, '\0', len)) {
		/* Wiped: a secret file's bytes never outlive their use. */
		for (volatile char *p = buf; p < buf + len; p++)
			*p = 0;
		free(buf);
		return len == 0 ? -ENODATA : -EINVAL;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int cde_check_secret_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISREG(st.st_mode) && !cde_secret_mode_ok(st.st_mode & 07777, st.st_uid))
		r = -EPERM;
	close(fd);
	return r;
}

const char *cde_read_secret_strerror(int r)
{
	if (r == -EPERM)
		return "group or others can read or write it (chmod 600 it)";
	return r == -ENODATA ? "empty" : r == -EINVAL ? "more than one line" : strerror(-r);
}
