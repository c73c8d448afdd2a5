/* sd_notify(3) by hand: each state change is one datagram on a fresh
 * AF_UNIX socket to $NOTIFY_SOCKET, so nothing stays open between calls
 * and a manager that restarts its socket is still found. No libsystemd:
 * the protocol is a sendto(), and the daemon must also run where systemd
 * is not installed. Invariant: without $NOTIFY_SOCKET nothing is sent
 * and nothing fails. */

#include "daemon/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

/* Datagrams are small; systemd reads at most a page of state anyway. */
#define NOTIFY_MAX 512

static int send_state(const char *state)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len, state_len = strlen(state);
	socklen_t sa_len;
	ssize_t n;
	int fd, r = 0;

	if (!where || !*where)
		return 0;
	if (where[0] != '/' && where[0] != '@')
		return -EAFNOSUPPORT;	/* vsock: and the like: not for us */
	len = strlen(where);
	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, where, len);
	if (where[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: the name is not NUL-terminated */
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (where[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, state_len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, sa_len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != state_len)
		r = -EMSGSIZE;
	close(fd);
	return r;
}

int cde_notify(const char *state)
{
	static bool warned;
	int r = send_state(state);

	if (r < 0 && !warned) {
		warned = true;
		cde_log(CDE_LOG_WARN, "cannot notify the service manager at %s: %s (later failures not logged)",
			getenv("NOTIFY_SOCKET"), strerror(-r));
	}
	return r;
}

int cde_notifyf(const char *fmt, ...)
{
	char buf[NOTIFY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return cde_notify(buf);
}

int cde_notify_reloading(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return cde_notify("RELOADING=1");
	return cde_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
			   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
}

/* A positive decimal number, nothing else; 0 when it is not one. */
static unsigned long long parse_positive(const char *s)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return 0;
	return v;
}

uint64_t cde_notify_watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long usec = parse_positive(getenv("WATCHDOG_USEC"));

	if (pid && parse_positive(pid) != (unsigned long long)getpid())
		return 0;	/* meant for another process, e.g. our parent */
	return usec / 2;
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	cde_notify("WATCHDOG=1");
}

int cde_notify_watchdog_start(struct event_base *base, struct event **ret)
{
	uint64_t usec = cde_notify_watchdog_usec();
	struct timeval every;
	struct event *timer;

	if (usec == 0) {
		*ret = NULL;
		return 0;
	}
	every.tv_sec = (time_t)(usec / 1000000);
	every.tv_usec = (suseconds_t)(usec % 1000000);
	timer = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
	if (!timer)
		return -ENOMEM;
	if (event_add(timer, &every) < 0) {
		event_free(timer);
		return -ENOMEM;
	}
	*ret = timer;
	return 0;
}
