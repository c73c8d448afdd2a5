/* What a reload (SIGHUP, reload() in main.c) may change. Which keys it
 * applies: a table that reload() walks. A key that needs a restart gets a warning when the file
 * changes it; its new value waits in the running configuration (listen
 * and state_dir excepted: main.c keeps the bound and locked ones). A key
 * that applies on reload is applied by main.c's apply_runtime, the new
 * catalog and the new authentication. A new key gets a row here. */

#include "daemon/reload.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"

enum reload_compare {
	SAME_STRING,	/* a NUL-terminated string field */
	SAME_BYTES,	/* a plain value or array, compared whole */
};

enum reload_when {
	APPLIES_ON_RELOAD,
	NEEDS_RESTART,
};

/* Warnings that several keys share. */
#define AUDIT "audit settings changed: take effect at the next start"
#define METRICS "metrics settings changed: take effect at the next start"
#define STORAGE "storage changed: the daemon keeps the store it opened until the next start"
#define SINKS "sinks or routes changed: take effect at the next start"

#define FIELD(f) offsetof(struct cde_config, f), sizeof(((struct cde_config *)0)->f)

static const struct reload_key {
	const char *key;	/* as in the file */
	size_t offset, size;	/* the field in struct cde_config */
	enum reload_compare compare;
	enum reload_when when;
	/* NEEDS_RESTART: what is logged, once per reload however many of
	 * the keys sharing it changed; NULL: "KEY changed to VALUE: ...". */
	const char *warning;
} reload_keys[] = {
	{ "listen", FIELD(listen), SAME_STRING, NEEDS_RESTART, NULL },
	{ "state_dir", FIELD(state_dir), SAME_STRING, NEEDS_RESTART,
	  "state_dir changed: takes effect at the next start" },
	{ "storage.driver", FIELD(storage_driver), SAME_BYTES, NEEDS_RESTART, STORAGE },
	{ "storage.url", FIELD(storage_url), SAME_STRING, NEEDS_RESTART, STORAGE },
	{ "storage.password_file", FIELD(storage_password_file), SAME_STRING, NEEDS_RESTART, STORAGE },
	{ "catalog_dir", FIELD(catalog_dir), SAME_STRING, APPLIES_ON_RELOAD, NULL },
	{ "source", FIELD(source), SAME_STRING, APPLIES_ON_RELOAD, NULL },
	{ "log_level", FIELD(log_level), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "log_format", FIELD(log_format), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "auth", FIELD(auth_none), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "audit.sync", FIELD(audit_sync_full), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "audit.hmac_key_file", FIELD(audit_hmac_key_file), SAME_STRING, NEEDS_RESTART, AUDIT },
	{ "audit.checkpoint_every", FIELD(audit_checkpoint_every), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "audit.signing_key_file", FIELD(audit_signing_key_file), SAME_STRING, NEEDS_RESTART, AUDIT },
	{ "audit.tree_checkpoint_every", FIELD(audit_tree_checkpoint_every), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "audit.tree_checkpoint_interval", FIELD(audit_tree_checkpoint_interval_ms), SAME_BYTES, NEEDS_RESTART,
	  AUDIT },
	{ "audit.max_age", FIELD(audit_max_age_s), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "audit.max_size", FIELD(audit_max_size), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "audit.retention_interval", FIELD(audit_retention_interval_ms), SAME_BYTES, NEEDS_RESTART, AUDIT },
	{ "metrics.max_series", FIELD(metrics_max_series), SAME_BYTES, NEEDS_RESTART, METRICS },
	{ "metrics.price_cpu_hour", FIELD(metrics_price_cpu_hour), SAME_BYTES, NEEDS_RESTART, METRICS },
	{ "metrics.price_gib_hour", FIELD(metrics_price_gib_hour), SAME_BYTES, NEEDS_RESTART, METRICS },
	{ "limits", FIELD(limits), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "principals", FIELD(n_principals), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "principals", FIELD(principals), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "sinks", FIELD(n_sinks), SAME_BYTES, NEEDS_RESTART, SINKS },
	{ "sinks", FIELD(sinks), SAME_BYTES, NEEDS_RESTART, SINKS },
	{ "routes", FIELD(n_routes), SAME_BYTES, NEEDS_RESTART, SINKS },
	{ "routes", FIELD(routes), SAME_BYTES, NEEDS_RESTART, SINKS },
	{ "clusters", FIELD(n_clusters), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "clusters", FIELD(clusters), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "schemas", FIELD(n_schema_dirs), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "schemas", FIELD(schema_dirs), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "schemas", FIELD(schemas_accept_unknown), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "dora", FIELD(dora), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "gates", FIELD(gates), SAME_STRING, APPLIES_ON_RELOAD, NULL },
	{ "tickets", FIELD(n_ticket_envs), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
	{ "tickets", FIELD(ticket_envs), SAME_BYTES, APPLIES_ON_RELOAD, NULL },
};

#define N_KEYS (sizeof(reload_keys) / sizeof(reload_keys[0]))

static bool changed(const struct reload_key *k, const struct cde_config *a, const struct cde_config *b)
{
	const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;

	return k->compare == SAME_STRING ? strncmp(x, y, k->size) != 0 : memcmp(x, y, k->size) != 0;
}

void cde_reload_warn_restart_keys(const struct cde_config *running, const struct cde_config *next)
{
	const char *said[N_KEYS];
	size_t n_said = 0;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct reload_key *k = &reload_keys[i];
		bool again = false;

		if (k->when != NEEDS_RESTART || !changed(k, running, next))
			continue;
		if (!k->warning) {
			cde_log(CDE_LOG_WARN, "%s changed to %s: takes effect at the next start", k->key,
				(const char *)next + k->offset);
			continue;
		}
		for (size_t j = 0; j < n_said; j++)
			again = again || strcmp(said[j], k->warning) == 0;
		if (!again) {
			cde_log(CDE_LOG_WARN, "%s", k->warning);
			said[n_said++] = k->warning;
		}
	}
}

/* The socket stays bound where it was at start, so the authentication a
 * new file asks for is judged against that address, not the one the file
 * names (which applies at the next start only); and a reload never
 * switches authentication off on a listener that is not loopback, even
 * with "auth: none": that takes a restart, which an operator does on
 * purpose. Returns 0 or -EINVAL with the reason in @errs. */
int cde_reload_check_bound_auth(const struct cde_config *running, struct cde_config *next, struct cde_errors *errs)
{
	char file_listen[sizeof(next->listen)];
	int r;

	memcpy(file_listen, next->listen, sizeof(file_listen));
	snprintf(next->listen, sizeof(next->listen), "%s", running->listen);
	r = cde_config_check(next, errs);
	if (r == 0 && running->n_principals && !next->n_principals && !cde_config_listen_is_loopback(running->listen)) {
		cde_errors_add(errs, "/principals", "/principals: the file removes every principal while %s is bound: "
			       "authentication cannot be switched off by a reload (restart to do it)", running->listen);
		r = -EINVAL;
	}
	memcpy(next->listen, file_listen, sizeof(file_listen));
	return r;
}
