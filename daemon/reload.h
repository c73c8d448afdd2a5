#pragma once
/* What a reload (SIGHUP) may change: which configuration keys it applies
 * and which need a restart (one table, reload.c), and the authentication
 * it may not drop. */

#include "config/config.h"

/* Logs a warning for each key that differs between @running and @next
 * and needs a restart (keys that share one warning get it once). */
void cde_reload_warn_restart_keys(const struct cde_config *running, const struct cde_config *next);

/* Checks @next as a reload would apply it over @running: judged against
 * the address bound at start (@running's listen), and refused when it
 * removes every principal while a listener that is not loopback is
 * bound. @next's listen is left as the file says. Returns 0 or -EINVAL
 * with the reason in @errs. */
int cde_reload_check_bound_auth(const struct cde_config *running, struct cde_config *next, struct cde_errors *errs);
