/* How the daemon assembles its configuration, at start, on SIGHUP and for
 * --check-config: the embedded default, then the file (config_load.c),
 * then the flags, then the checks; and the catalog and the schemas: the
 * configuration names. main.c decides what a failure means (exit, or keep the running
 * configuration). Also the limits as the HTTP server and the process's
 * file descriptors take them. */

#include "daemon/startup.h"

#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>

#include "daemon/auth.h"
#include "daemon/config_load.h"
#include "daemon/http/server.h"
#include "daemon/log.h"

/* Configuration errors say "FILE: /key: reason" in their reason. */
void cde_daemon_log_errors(const char *what, const struct cde_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		cde_log(CDE_LOG_ERROR, "%s: %s", what, errs->items[i].reason);
}

/* Embedded default, then the file, then the flags; then the checks. */
int cde_daemon_config_assemble(const struct cde_daemon_flags *f, struct cde_config *cfg, struct cde_errors *errs)
{
	int r;

	cde_config_defaults(cfg);
	if (f->config_file) {
		r = cde_daemon_config_load(f->config_file, cfg, errs);
		if (r < 0)
			return r;
		cde_daemon_config_log_warnings(cfg, f->config_file);
	}
	if (f->listen) {
		char host[256];
		unsigned short port;

		if (cde_config_split_listen(f->listen, host, sizeof(host), &port) < 0) {
			cde_errors_add(errs, "", "--listen %s: expected HOST:PORT", f->listen);
			return -EINVAL;
		}
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", f->listen);
	}
	if (f->state_dir)
		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", f->state_dir);
	if (f->catalog_dir)
		snprintf(cfg->catalog_dir, sizeof(cfg->catalog_dir), "%s", f->catalog_dir);
	if ((f->storage_url || f->storage_password_file) &&
	    cde_config_set_storage(cfg, f->storage_url, f->storage_password_file, errs) < 0)
		return -EINVAL;
	return cde_config_check(cfg, errs);
}

const char *cde_daemon_catalog_dir(const struct cde_config *cfg)
{
	return cfg->catalog_dir[0] ? cfg->catalog_dir : cde_catalog_default_dir();
}

int cde_daemon_catalog_load(const struct cde_config *cfg, struct cde_catalog **ret)
{
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	r = cde_catalog_load_dir(cde_daemon_catalog_dir(cfg), ret, &errs);
	for (size_t i = 0; r < 0 && i < errs.count; i++)
		cde_log(CDE_LOG_ERROR, "catalog: %s%s%s", errs.items[i].pointer,
			errs.items[i].pointer[0] ? ": " : "", errs.items[i].reason);
	return r;
}

/* Loads the schemas: directories of @cfg into *@ret (NULL when none). */
static int load_schemas(const struct cde_config *cfg, struct cde_schema_set **ret, struct cde_errors *errs)
{
	const char *dirs[CDE_CONFIG_SCHEMA_DIRS_MAX];
	int r;

	*ret = NULL;
	if (!cfg->n_schema_dirs)
		return 0;
	for (size_t i = 0; i < cfg->n_schema_dirs; i++)
		dirs[i] = cfg->schema_dirs[i];
	r = cde_schema_set_load(dirs, cfg->n_schema_dirs, ret, errs);
	if (r == -ENOMEM && !errs->count)
		cde_errors_add(errs, "", "out of memory");
	return r;
}

int cde_daemon_schemas_load(const struct cde_config *cfg, struct cde_schema_set **ret)
{
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	r = load_schemas(cfg, ret, &errs);
	if (r < 0)
		cde_daemon_log_errors("schemas", &errs);
	return r;
}

/* --check-config: prints what it found and returns the exit status. */
int cde_daemon_config_check(const struct cde_daemon_flags *f)
{
	static struct cde_config cfg;
	struct cde_catalog *catalog = NULL;
	struct cde_schema_set *schemas = NULL;
	struct cde_auth *auth = NULL;
	struct cde_errors errs;
	const char *name = f->config_file ? f->config_file : "embedded default";

	cde_errors_reset(&errs);
	if (cde_daemon_config_assemble(f, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "cdeventsd: %s\n", errs.items[i].reason);
		return 1;
	}
	if (cde_auth_new(&cfg, &auth, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "cdeventsd: %s\n", errs.items[i].reason);
		return 1;
	}
	cde_auth_free(auth);
	if (cde_catalog_load_dir(cde_daemon_catalog_dir(&cfg), &catalog, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "cdeventsd: catalog: %s %s\n", errs.items[i].pointer,
				errs.items[i].reason);
		return 1;
	}
	cde_catalog_free(catalog);
	if (load_schemas(&cfg, &schemas, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "cdeventsd: schemas: %s\n", errs.items[i].reason);
		return 1;
	}
	cde_schema_set_free(schemas);
	printf("%s: ok (listen %s, state %s, catalog %s, %zu principals)\n", name, cfg.listen,
	       cfg.state_dir, cde_daemon_catalog_dir(&cfg), cfg.n_principals);
	return 0;
}

void cde_daemon_http_limits(const struct cde_config_limits *c, struct cde_http_limits *l)
{
	l->body_max = c->body_max;
	l->head_max = c->head_max;
	l->headers_max = c->headers_max;
	l->head_timeout_ms = c->head_timeout_ms;
	l->body_timeout_ms = c->body_timeout_ms;
	l->idle_timeout_ms = c->idle_timeout_ms;
	l->max_connections = c->max_connections;
	l->max_connections_per_address = c->max_connections_per_address;
	l->bodies_in_flight_max = c->bodies_in_flight_max;
}

/* Past the file descriptor limit accept() fails and every client
 * suffers, not just the newest: hence the room kept for the listener,
 * the database and the loop. */
void cde_daemon_fit_fd_limit(struct cde_config_limits *l)
{
	const rlim_t reserve = 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && l->max_connections + reserve > rl.rlim_cur) {
		unsigned fit = rl.rlim_cur > 2 * reserve ? (unsigned)(rl.rlim_cur - reserve)
							 : (unsigned)(rl.rlim_cur / 2);

		cde_log(CDE_LOG_WARN, "max_connections %u does not fit the file descriptor limit %llu: using %u",
			l->max_connections, (unsigned long long)rl.rlim_cur, fit);
		l->max_connections = fit;
	}
}
