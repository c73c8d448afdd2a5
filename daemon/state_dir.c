/* The state directory. Two daemons appending to one audit log would each
 * number events from its own idea of the chain head, so the directory is
 * locked for the life of the process: flock(2) on a lock file, released
 * by the kernel whatever way the process ends (no stale lock after a
 * SIGKILL, unlike a pid file checked by hand). The pid written in it is
 * only for the message a second daemon prints. */

#include "daemon/state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_NAME "cdeventsd.lock"

int cde_state_dir_make(const char *path)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static pid_t read_holder(int fd)
{
	char text[32] = "";
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return (pid_t)strtol(text, NULL, 10);
}

int cde_state_dir_lock(const char *path, pid_t *ret_holder)
{
	char name[4096], pid[32];
	int fd, len;

	*ret_holder = 0;
	len = snprintf(name, sizeof(name), "%s/" LOCK_NAME, path);
	if (len < 0 || (size_t)len >= sizeof(name))
		return -ENAMETOOLONG;
	fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		if (r == -EBUSY)
			*ret_holder = read_holder(fd);
		close(fd);
		return r;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		int r = -errno;

		close(fd);
		return r ? r : -EIO;
	}
	return fd;
}
