#pragma once
/* The configuration as the daemon assembles it (daemon/startup.c). */

#include "config/config.h"
#include "daemon/flags.h"
#include "daemon/schema_set.h"
#include "schemas/base/errors.h"
#include "schemas/catalog.h"

/* Logs each of @errs at level error, as "@what: reason" (configuration
 * errors say "FILE: /key: reason" in their reason). */
void cde_daemon_log_errors(const char *what, const struct cde_errors *errs);

/* Fills @cfg with the embedded default, then @f's file, then @f's flags,
 * and checks it. Returns 0, or -errno with @errs filled. */
int cde_daemon_config_assemble(const struct cde_daemon_flags *f, struct cde_config *cfg, struct cde_errors *errs);

/* The catalog directory @cfg names, or the default. */
const char *cde_daemon_catalog_dir(const struct cde_config *cfg);

/* Loads the catalog @cfg names into *@ret, logging what is wrong. Returns
 * 0 or -errno. */
int cde_daemon_catalog_load(const struct cde_config *cfg, struct cde_catalog **ret);

/* Loads the schemas: directories @cfg names into *@ret (NULL when there
 * are none), logging what is wrong ("schemas: FILE: POINTER: reason").
 * Returns 0 or -errno. */
int cde_daemon_schemas_load(const struct cde_config *cfg, struct cde_schema_set **ret);

/* --check-config: checks the configuration @f names, its authentication
 * and its catalog, printing errors to stderr or a one-line summary to
 * stdout. Returns the exit status, 0 or 1. */
int cde_daemon_config_check(const struct cde_daemon_flags *f);

struct cde_http_limits;

/* The HTTP server's limits from the configuration's. */
void cde_daemon_http_limits(const struct cde_config_limits *c, struct cde_http_limits *l);

/* Keeps @l->max_connections within the file descriptors the process may
 * open (raising the soft limit to the hard one first), logging when it
 * has to lower it. */
void cde_daemon_fit_fd_limit(struct cde_config_limits *l);
