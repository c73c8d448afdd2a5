#pragma once
/* The configuration as the daemon takes it: the file read by config/, then
 * what only the layers above it can check (route filters compile). */

#include "config/config.h"
#include "schemas/errors.h"

/* cde_config_load_file, then every route's filter compiled (sinks/filter.h):
 * errors name the file and the filter's pointer ("FILE: /routes/0/filter/
 * exact/colour: unknown attribute"). On failure @cfg is unchanged.
 * Returns 0, -EINVAL, or -errno. */
int cde_daemon_config_load(const char *path, struct cde_config *cfg, struct cde_errors *errs);
