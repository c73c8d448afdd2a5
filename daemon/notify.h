#pragma once
/* The service manager's notification protocol (sd_notify(3)) without
 * libsystemd: datagrams to $NOTIFY_SOCKET. Without a manager (a shell,
 * a container, `make run`) every call does nothing and succeeds. */

#include <stdint.h>

#include <event2/event.h>

/* Sends @state, newline-separated KEY=VALUE assignments ("READY=1",
 * "STOPPING=1"), to $NOTIFY_SOCKET: a path, or an abstract socket when it
 * starts with '@'. Returns 0 (also when $NOTIFY_SOCKET is unset), or
 * -errno; the first failure is logged as a warning. */
int cde_notify(const char *state);

/* cde_notify() with a printf format. */
int cde_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends "RELOADING=1" with MONOTONIC_USEC= (CLOCK_MONOTONIC now), which
 * systemd >= 253 requires to match a reload to its request. The caller
 * sends "READY=1" when the reload is over, applied or refused. */
int cde_notify_reloading(void);

/* How often to send WATCHDOG=1, in microseconds: half of $WATCHDOG_USEC
 * when the manager enabled the watchdog for this process ($WATCHDOG_PID
 * is our pid, or absent); 0 when it is off or the variables are bad. */
uint64_t cde_notify_watchdog_usec(void);

/* When the watchdog is on, starts a timer on @base that sends WATCHDOG=1
 * every cde_notify_watchdog_usec() and stores it in *@ret (the caller
 * frees it with event_free() before the base); when it is off, stores
 * NULL. A ping comes from the loop itself, so a stuck loop misses its
 * pings and the manager restarts the daemon. Returns 0 or -ENOMEM. */
int cde_notify_watchdog_start(struct event_base *base, struct event **ret);
