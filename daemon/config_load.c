/* The configuration file as the daemon loads it. config/ reads the file
 * and depends on nothing above the base layer, so what needs a layer above
 * it is checked here, with the same "FILE: /key: reason" errors: a route's
 * filter, a named cluster and the gates are kept by config/ as JSON text;
 * the filter is compiled here the way the delivery engine will compile
 * it, the cluster read by sizing's parser, the one requests go through,
 * and the gates by the answers layer's. It also
 * turns the configuration into the options sinks/ takes, so that sinks/
 * does not depend on config/. */

#include "daemon/config_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/auth.h"
#include "daemon/log.h"
#include "daemon/startup.h"
#include "sinks/filter.h"
#include "sinks/sink.h"

static void add_errors_of(const char *path, const struct cde_errors *from, struct cde_errors *errs);

/* config/ knows the type names it parses; each must name a table in the
 * registry, which config/ cannot see. */
static int check_sink_types(const char *path, const struct cde_config *cfg, struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_sinks; i++) {
		char at[48];

		if (cde_sink_ops_find(cfg->sinks[i].type))
			continue;
		snprintf(at, sizeof(at), "/sinks/%zu/type", i);
		cde_errors_add(errs, at, "%s: %s: \"%s\" is not a registered sink type", path, at,
			       cfg->sinks[i].type);
		r = -EINVAL;
	}
	return r;
}

static int check_filters(const char *path, const struct cde_config *cfg, struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		struct cde_errors filter_errs;
		struct cde_filter *f = NULL;
		char at[48];
		int e;

		if (!cfg->routes[i].filter[0])
			continue; /* every event */
		snprintf(at, sizeof(at), "/routes/%zu/filter", i);
		cde_errors_reset(&filter_errs);
		e = cde_filter_compile_text(cfg->routes[i].filter, at, &f, &filter_errs);
		f = cde_filter_free(f);
		if (e == -ENOMEM)
			return e;
		if (e < 0) {
			add_errors_of(path, &filter_errs, errs);
			r = -EINVAL;
		}
	}
	return r;
}

/* Copies @from's errors into @errs, each prefixed with the file @path. */
static void add_errors_of(const char *path, const struct cde_errors *from, struct cde_errors *errs)
{
	for (size_t k = 0; k < from->count; k++) {
		if (path)
			cde_errors_add(errs, from->items[k].pointer, "%s: %s: %s", path, from->items[k].pointer,
				       from->items[k].reason);
		else
			cde_errors_add(errs, from->items[k].pointer, "%s: %s", from->items[k].pointer,
				       from->items[k].reason);
	}
	errs->dropped += from->dropped;
}

int cde_daemon_clusters_read(const struct cde_config *cfg, const char *path, struct cde_sizing_named_cluster *out,
			     struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_clusters; i++) {
		struct cde_errors cluster_errs;
		cJSON *spec = cJSON_Parse(cfg->clusters[i].spec);
		char at[CDE_CONFIG_NAME_MAX + 16];
		int e;

		if (!spec)
			return -ENOMEM; /* config/ wrote it: it is JSON */
		snprintf(out[i].name, sizeof(out[i].name), "%s", cfg->clusters[i].name);
		snprintf(at, sizeof(at), "/clusters/%s", cfg->clusters[i].name);
		cde_errors_reset(&cluster_errs);
		e = cde_sizing_cluster_parse(spec, at, &out[i].cluster, &cluster_errs);
		cJSON_Delete(spec);
		if (e == -ENOMEM)
			return e;
		if (e < 0) {
			add_errors_of(path, &cluster_errs, errs);
			r = -EINVAL;
		}
	}
	return r;
}

int cde_daemon_gates_read(const struct cde_config *cfg, const char *path, struct cde_gate_set *out,
			  struct cde_errors *errs)
{
	cJSON *doc;
	int r;

	memset(out, 0, sizeof(*out));
	if (!cfg->gates[0])
		return 0;
	doc = cJSON_Parse(cfg->gates);
	if (!doc)
		return -ENOMEM; /* config/ wrote it: it is JSON */
	r = cde_gate_set_parse(doc, path, out, errs);
	cJSON_Delete(doc);
	if (r == 0) {
		const char *names[CDE_CONFIG_PRINCIPALS_MAX] = { CDE_AUTH_ANONYMOUS };
		size_t n = cfg->n_principals ? cfg->n_principals : 1;

		for (size_t i = 0; i < cfg->n_principals; i++)
			names[i] = cfg->principals[i].name;
		r = cde_gate_set_check_from(out, names, n, path, errs);
	}
	return r;
}

int cde_daemon_config_load(const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	/* Built aside (it is large), so that a file with an error changes
	 * nothing. */
	struct cde_config *next = malloc(sizeof(*next));
	struct cde_sizing_named_cluster *clusters = calloc(CDE_CONFIG_CLUSTERS_MAX, sizeof(*clusters));
	struct cde_gate_set *gates = malloc(sizeof(*gates));
	int r = -ENOMEM;

	if (next && clusters && gates) {
		*next = *cfg;
		r = cde_config_load_file(path, next, errs);
		if (r == 0)
			r = check_sink_types(path, next, errs);
		if (r == 0)
			r = check_filters(path, next, errs);
		if (r == 0)
			r = cde_daemon_clusters_read(next, path, clusters, errs);
		if (r == 0)
			r = cde_daemon_gates_read(next, path, gates, errs);
		if (r == 0)
			*cfg = *next;
	}
	free(gates);
	free(clusters);
	free(next);
	return r;
}

static bool routed(const struct cde_config *cfg, size_t sink)
{
	for (size_t i = 0; i < cfg->n_routes; i++)
		for (size_t k = 0; k < cfg->routes[i].n_sinks; k++)
			if (cfg->routes[i].sinks[k] == sink)
				return true;
	return false;
}

void cde_daemon_config_warnings(const struct cde_config *cfg, const char *path, struct cde_errors *warns)
{
	for (size_t i = 0; i < cfg->n_sinks; i++) {
		char at[32];

		if (routed(cfg, i))
			continue;
		snprintf(at, sizeof(at), "/sinks/%zu", i);
		cde_errors_add(warns, at, "%s%s%s: sink \"%s\" is named by no route: it receives no events",
			       path ? path : "", path ? ": " : "", at, cfg->sinks[i].name);
	}
}

void cde_daemon_config_log_warnings(const struct cde_config *cfg, const char *path)
{
	struct cde_errors warns;

	cde_errors_reset(&warns);
	cde_daemon_config_warnings(cfg, path, &warns);
	for (size_t i = 0; i < warns.count; i++)
		cde_log(CDE_LOG_WARN, "configuration: %s", warns.items[i].reason);
}

/* The options and the arrays they point to, in one allocation. */
struct delivery_options {
	struct cde_delivery_options opts;	/* first: what callers hold */
	struct cde_sink_options sinks[CDE_CONFIG_SINKS_MAX];
	struct cde_route_options routes[CDE_CONFIG_ROUTES_MAX];
	char catalog_dir[CDE_CONFIG_STR_MAX];
};

#define SAME_SIZE(field, size) \
	_Static_assert(sizeof(((struct cde_config_sink *)0)->field) == (size), #field " differs in sinks/")
SAME_SIZE(name, CDE_SINK_NAME_MAX);
SAME_SIZE(type, CDE_SINK_NAME_MAX);
SAME_SIZE(url, CDE_SINK_URL_MAX);
SAME_SIZE(headers, CDE_SINK_HEADERS_MAX * CDE_SINK_PATH_MAX);
SAME_SIZE(token_file, CDE_SINK_PATH_MAX);
SAME_SIZE(secret_file, CDE_SINK_PATH_MAX);
SAME_SIZE(path, CDE_SINK_PATH_MAX);
SAME_SIZE(subject, CDE_SINK_PATH_MAX);
SAME_SIZE(stream, CDE_SINK_NAME_MAX);
SAME_SIZE(user_file, CDE_SINK_PATH_MAX);
SAME_SIZE(password_file, CDE_SINK_PATH_MAX);
SAME_SIZE(creds_file, CDE_SINK_PATH_MAX);
SAME_SIZE(ca_file, CDE_SINK_PATH_MAX);
SAME_SIZE(upgrade_to, sizeof(((struct cde_sink_options *)0)->upgrade_to));

static void sink_options_of(const struct cde_config_sink *c, struct cde_sink_options *o)
{
	memcpy(o->name, c->name, sizeof(o->name));
	memcpy(o->type, c->type, sizeof(o->type));
	memcpy(o->url, c->url, sizeof(o->url));
	o->structured = c->structured;
	o->n_headers = c->n_headers;
	memcpy(o->headers, c->headers, sizeof(o->headers));
	memcpy(o->token_file, c->token_file, sizeof(o->token_file));
	memcpy(o->secret_file, c->secret_file, sizeof(o->secret_file));
	o->tls_verify = c->tls_verify;
	o->timeout_ms = c->timeout_ms;
	o->max_in_flight = c->max_in_flight;
	o->max_attempts = c->max_attempts;
	o->max_age_s = c->max_age_s;
	o->max_backoff_ms = c->max_backoff_ms;
	o->max_retry_after_ms = c->max_retry_after_ms;
	memcpy(o->path, c->path, sizeof(o->path));
	o->rotate_size = c->rotate_size;
	o->rotate_keep = c->rotate_keep;
	memcpy(o->upgrade_to, c->upgrade_to, sizeof(o->upgrade_to));
	o->checkpoints = c->checkpoints;
	memcpy(o->subject, c->subject, sizeof(o->subject));
	memcpy(o->stream, c->stream, sizeof(o->stream));
	memcpy(o->user_file, c->user_file, sizeof(o->user_file));
	memcpy(o->password_file, c->password_file, sizeof(o->password_file));
	memcpy(o->creds_file, c->creds_file, sizeof(o->creds_file));
	memcpy(o->ca_file, c->ca_file, sizeof(o->ca_file));
}

int cde_daemon_delivery_options(const struct cde_config *cfg, struct cde_delivery_options **ret)
{
	struct delivery_options *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_sinks; i++)
		sink_options_of(&cfg->sinks[i], &d->sinks[i]);
	for (size_t i = 0; i < cfg->n_routes; i++) {
		d->routes[i].n_sinks = cfg->routes[i].n_sinks;
		d->routes[i].sinks = cfg->routes[i].sinks;
		d->routes[i].filter = cfg->routes[i].filter;
	}
	d->opts = (struct cde_delivery_options){
		.n_sinks = cfg->n_sinks, .sinks = d->sinks, .n_routes = cfg->n_routes, .routes = d->routes,
		.catalog_dir = d->catalog_dir,
	};
	snprintf(d->catalog_dir, sizeof(d->catalog_dir), "%s", cde_daemon_catalog_dir(cfg));
	*ret = &d->opts;
	return 0;
}

struct cde_delivery_options *cde_daemon_delivery_options_free(struct cde_delivery_options *opts)
{
	free(opts); /* the first member of its struct delivery_options */
	return NULL;
}
