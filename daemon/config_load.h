#pragma once
/* The configuration as the daemon takes it: the file read by config/, then
 * what only the layers above it can check (route filters compile). */

#include "config/config.h"
#include "schemas/base/errors.h"
#include "sinks/audit/answers/gate_rules.h"
#include "sinks/sink_options.h"
#include "sizing/sizing.h"

/* cde_config_load_file, then every sink's type found in the registry
 * (sinks/sink.h), every route's filter compiled (sinks/filter.h) and every
 * cluster read (sizing/): errors name the file and the pointer
 * ("FILE: /routes/0/filter/exact/colour: unknown attribute"). On failure
 * @cfg is unchanged. Returns 0, -EINVAL, or -errno. */
int cde_daemon_config_load(const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Reads the `clusters:` of @cfg into @out (room for
 * CDE_CONFIG_CLUSTERS_MAX), with errors naming @path (NULL: none) and the
 * cluster ("FILE: /clusters/prod-gke/nodeCpu: ..."). Returns 0, -EINVAL or
 * -ENOMEM. */
int cde_daemon_clusters_read(const struct cde_config *cfg, const char *path, struct cde_sizing_named_cluster *out,
			     struct cde_errors *errs);

/* Reads the `gates:` of @cfg into @out, with errors naming @path (NULL:
 * none) and the pointer ("FILE: /gates/prod/require/1/tests/suites: ...").
 * Returns 0, -EINVAL or -ENOMEM. */
int cde_daemon_gates_read(const struct cde_config *cfg, const char *path, struct cde_gate_set *out,
			  struct cde_errors *errs);

/* Adds to @warns what in @cfg loads but is most likely a mistake, naming
 * @path (NULL: none): a sink that no route names, which receives nothing
 * ("FILE: /sinks/1: sink \"audit\" is named by no route: it receives no
 * events"). */
void cde_daemon_config_warnings(const struct cde_config *cfg, const char *path, struct cde_errors *warns);
/* Logs cde_daemon_config_warnings at level warn, one line each. */
void cde_daemon_config_log_warnings(const struct cde_config *cfg, const char *path);

/* The delivery engine's options (sinks/sink_options.h) for @cfg's sinks
 * and routes, in *@ret (free with cde_daemon_delivery_options_free). The
 * routes borrow from @cfg, which must outlive them. Returns 0 or -ENOMEM. */
int cde_daemon_delivery_options(const struct cde_config *cfg, struct cde_delivery_options **ret);
/* Frees what cde_daemon_delivery_options made. Accepts NULL; returns NULL. */
struct cde_delivery_options *cde_daemon_delivery_options_free(struct cde_delivery_options *opts);
