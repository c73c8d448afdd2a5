/* notify_listen: plays the service manager's side of sd_notify(3) for
 * tests (node has no unix datagram sockets). Binds SOCKET (a path, or an
 * abstract name when it starts with '@'), prints "listening" once bound,
 * then one line per datagram: the sender's pid (from SCM_CREDENTIALS, as
 * systemd checks it), a tab, and the datagram's assignments separated by
 * tabs. Exits 0 on SIGTERM/SIGINT or after SECONDS (default 120).
 *
 *   notify_listen SOCKET [SECONDS] */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void print_datagram(const struct msghdr *mh, char *buf, size_t n)
{
	long pid = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			pid = (long)cred.pid;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\0')
			buf[i] = '\t';
	printf("%ld\t%.*s\n", pid, (int)n, buf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sig = { .sa_handler = on_signal };
	const int one = 1;
	size_t len;
	socklen_t sa_len;
	time_t deadline;
	int fd, status = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: notify_listen SOCKET [SECONDS]\n");
		return 2;
	}
	deadline = time(NULL) + (argc == 3 ? atoi(argv[2]) : 120);
	len = strlen(argv[1]);
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "notify_listen: %s: bad socket name\n", argv[1]);
		return 2;
	}
	memcpy(sa.sun_path, argv[1], len);
	if (argv[1][0] == '@')
		sa.sun_path[0] = '\0';
	else
		unlink(argv[1]);
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (argv[1][0] != '@'));

	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sa_len) < 0) {
		fprintf(stderr, "notify_listen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);

	while (!stop && time(NULL) < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];
		union {
			struct cmsghdr align;
			char space[CMSG_SPACE(sizeof(struct ucred))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = &control,
			.msg_controllen = sizeof(control),
		};
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "notify_listen: recvmsg: %s\n", strerror(errno));
			status = 1;
			break;
		}
		print_datagram(&mh, buf, (size_t)n);
	}
	close(fd);
	if (argv[1][0] != '@')
		unlink(argv[1]);
	return status;
}
