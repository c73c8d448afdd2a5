#pragma once
/* The state directory: created on first start, and held by one daemon at
 * a time. */

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p @path, mode 0750 for what it creates. Returns 0 or -errno. */
int cde_state_dir_make(const char *path);

/* Takes the exclusive lock of the state directory @path (a lock file in
 * it, flock(2), held until the process exits) and writes our pid there.
 * Returns the lock's file descriptor, -EBUSY when another process holds
 * it (its pid in *@ret_holder, 0 when unreadable), or -errno. */
int cde_state_dir_lock(const char *path, pid_t *ret_holder);
