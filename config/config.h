#pragma once
/* cdeventsd's configuration: the embedded default, a YAML file over it,
 * command-line flags over both. Plain structs, read by daemon/ only (and
 * the named clusters by the hooks it translates and by cdevctl sizing). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/base/errors.h"

#define CDE_CONFIG_STR_MAX 1024

enum cde_config_log_level {
	CDE_CONFIG_LOG_ERROR,
	CDE_CONFIG_LOG_WARN,
	CDE_CONFIG_LOG_INFO,
	CDE_CONFIG_LOG_DEBUG,
};

/* log_format: logfmt (the default) or json, one object per line. */
enum cde_config_log_format {
	CDE_CONFIG_LOG_LOGFMT,
	CDE_CONFIG_LOG_JSON,
};

struct cde_config_limits {
	size_t body_max;
	size_t head_max;
	size_t headers_max;
	unsigned head_timeout_ms;
	unsigned body_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned max_connections;
	unsigned max_connections_per_address;
	unsigned queue_max;	/* events waiting for the journal; 503 past it */
	size_t bodies_in_flight_max;	/* bytes of request bodies held at once; 503 past it */
};

#define CDE_CONFIG_PRINCIPALS_MAX 32
#define CDE_CONFIG_SECRETS_MAX 4
#define CDE_CONFIG_NAME_MAX 64
#define CDE_CONFIG_PATH_MAX 256
#define CDE_CONFIG_SOURCES_MAX 8

/* What a principal may do. There is no "admin": every operation of the
 * API is posting or reading (the loader says so to a file that asks). */
enum cde_scope {
	CDE_SCOPE_EMIT = 1 << 0,	/* post hooks and events */
	CDE_SCOPE_QUERY = 1 << 1,	/* read the audit log, /metrics, /v1/sinks */
};

/* Someone allowed to call the API, and how they prove it. Secrets are
 * named here (a file or an environment variable), read by the daemon. */
struct cde_config_principal {
	char name[CDE_CONFIG_NAME_MAX];
	unsigned scopes;
	char token_file[CDE_CONFIG_PATH_MAX];
	char token_env[CDE_CONFIG_NAME_MAX];
	char github_secret_file[CDE_CONFIG_PATH_MAX];
	size_t n_webhook_secret_files;
	char webhook_secret_files[CDE_CONFIG_SECRETS_MAX][CDE_CONFIG_PATH_MAX];
	size_t n_sources;	/* 0: any; else its events' context.source must be under one */
	char sources[CDE_CONFIG_SOURCES_MAX][CDE_CONFIG_PATH_MAX];	/* no trailing '/' */
};

#define CDE_CONFIG_SINKS_MAX 16
#define CDE_CONFIG_ROUTES_MAX 32
#define CDE_CONFIG_HEADERS_MAX 16
#define CDE_CONFIG_FILTER_MAX 4096

/* The sink types the loader takes, NULL-terminated: tekton (a Tekton
 * Triggers EventListener: binary mode), webhook (any URL: binary or
 * structured, maybe signed), file (JSON Lines, rotated by size), nats
 * (NATS JetStream, CloudEvents NATS binding). */
extern const char *const cde_config_sink_types[];

/* Where events go (the `sinks:` list). Delivery limits apply to every
 * type; url and the HTTP settings to tekton and webhook, path and
 * rotation to file. */
struct cde_config_sink {
	char name[CDE_CONFIG_NAME_MAX];
	char type[CDE_CONFIG_NAME_MAX];		/* one of cde_config_sink_types */
	char url[CDE_CONFIG_STR_MAX];
	bool structured;			/* mode: structured (webhook, nats) */
	size_t n_headers;
	char headers[CDE_CONFIG_HEADERS_MAX][CDE_CONFIG_PATH_MAX];	/* "Name: value" */
	char token_file[CDE_CONFIG_PATH_MAX];	/* bearer token, "" = none */
	char secret_file[CDE_CONFIG_PATH_MAX];	/* Standard Webhooks secret, "" = unsigned */
	bool tls_verify;			/* default true */
	unsigned timeout_ms;			/* per request, default 10s */
	unsigned max_in_flight;			/* default 16 */
	unsigned max_attempts;			/* default 12 */
	uint64_t max_age_s;			/* give up after, default 24h */
	unsigned max_backoff_ms;		/* backoff cap, default 5m */
	unsigned max_retry_after_ms;		/* cap on a receiver's Retry-After, default 10m */
	char path[CDE_CONFIG_PATH_MAX];		/* file */
	size_t rotate_size;			/* file: rotate past this, default 100MiB */
	unsigned rotate_keep;			/* file: rotated files kept, default 5 */
	char upgrade_to[16];			/* "0.5.1": older events sent upgraded; "" as received */
	bool checkpoints;			/* webhook, file: also the signed checkpoints (witness) */
	char subject[CDE_CONFIG_PATH_MAX];	/* nats: the subject template, "" = the default */
	char stream[CDE_CONFIG_NAME_MAX];	/* nats: the stream expected to take it (messages) */
	char user_file[CDE_CONFIG_PATH_MAX];	/* nats: user name, with password_file */
	char password_file[CDE_CONFIG_PATH_MAX];
	char creds_file[CDE_CONFIG_PATH_MAX];	/* nats: a .creds file (JWT and NKey seed) */
	char ca_file[CDE_CONFIG_PATH_MAX];	/* nats: TLS, trusting these CAs */
};

/* Which events go where (the `routes:` list). The filter is kept as
 * compact JSON text so that the configuration stays a plain struct;
 * the loader has already checked that it compiles (sinks/filter.h). */
struct cde_config_route {
	size_t n_sinks;
	unsigned sinks[CDE_CONFIG_SINKS_MAX];	/* indexes into cde_config.sinks */
	char filter[CDE_CONFIG_FILTER_MAX];	/* "" = every event */
};

#define CDE_CONFIG_CLUSTERS_MAX 32
#define CDE_CONFIG_CLUSTER_MAX 2048

/* A node pool named in the `clusters:` map ("cluster": "prod-gke" in a
 * sizing request or a hook), kept as the compact JSON of its description:
 * sizing/ reads it (daemon/config_load.c), with the same parser as a
 * request's cluster, so a file and a request cannot read a key two ways. */
struct cde_config_cluster {
	char name[CDE_CONFIG_NAME_MAX];
	char spec[CDE_CONFIG_CLUSTER_MAX];
};

#define CDE_CONFIG_SCHEMA_DIRS_MAX 8

/* gates: as compact JSON ("" = none), read by the daemon's gate parser. */
#define CDE_CONFIG_GATES_MAX 16384
#define CDE_CONFIG_TICKET_ENVS_MAX 8

/* Where the audit log, cursors, deliveries and dead letters live. */
enum cde_storage_driver {
	CDE_STORAGE_SQLITE,	/* audit.db in state_dir: the embedded default */
	CDE_STORAGE_POSTGRES,	/* one database that several replicas share */
};

#define CDE_CONFIG_URL_MAX 1024

/* dora: the DORA keys (GET /v1/dora, the gauges in /metrics). */
struct cde_config_dora {
	uint64_t failure_window_s;	/* a rollback or incident this soon after a deployment fails it */
	uint64_t window_s;		/* the gauges' window */
	unsigned interval_ms;		/* how often the gauges are computed */
};

struct cde_config {
	char listen[CDE_CONFIG_STR_MAX];	/* HOST:PORT */
	char state_dir[CDE_CONFIG_STR_MAX];
	char catalog_dir[CDE_CONFIG_STR_MAX];	/* "" = the default directory */
	char source[CDE_CONFIG_STR_MAX];	/* "" = "/<principal>" */
	enum cde_config_log_level log_level;
	enum cde_config_log_format log_format;
	bool auth_none;				/* "auth: none" said explicitly */
	bool audit_sync_full;			/* audit.sync: full (default) or normal */
	char audit_hmac_key_file[CDE_CONFIG_PATH_MAX];	/* "" = no keyed checkpoints */
	unsigned audit_checkpoint_every;	/* rows between checkpoints */
	uint64_t audit_max_age_s;		/* retention by age (0: keep) */
	uint64_t audit_max_size;		/* retention by size in bytes (0: keep) */
	unsigned audit_retention_interval_ms;	/* how often retention runs */
	/* Signed checkpoints of the Merkle tree (cdevctl audit keygen): "" =
	 * none; one after every N new entries, or T after an entry at most. */
	char audit_signing_key_file[CDE_CONFIG_PATH_MAX];
	unsigned audit_tree_checkpoint_every;
	unsigned audit_tree_checkpoint_interval_ms;
	struct cde_config_limits limits;
	unsigned metrics_max_series;		/* per metric family; the rest is "other" */
	double metrics_price_cpu_hour;		/* 0: no cost metric */
	double metrics_price_gib_hour;
	size_t n_principals;
	struct cde_config_principal principals[CDE_CONFIG_PRINCIPALS_MAX];
	size_t n_sinks;
	struct cde_config_sink sinks[CDE_CONFIG_SINKS_MAX];
	size_t n_routes;
	struct cde_config_route routes[CDE_CONFIG_ROUTES_MAX];
	size_t n_clusters;
	struct cde_config_cluster clusters[CDE_CONFIG_CLUSTERS_MAX];
	/* schemas: directories of JSON Schema files named by an event's
	 * context.schemaUri (loaded by daemon/schema_set.c), and whether a
	 * schemaUri none of them has is accepted (default: refused, key or
	 * no key, as the spec asks a consumer to check it). */
	size_t n_schema_dirs;
	char schema_dirs[CDE_CONFIG_SCHEMA_DIRS_MAX][CDE_CONFIG_PATH_MAX];
	bool schemas_accept_unknown;
	/* storage: the driver; for postgres a libpq connection string
	 * without a password, and the file holding the password ("" = none:
	 * peer, certificate or ~/.pgpass authentication). */
	enum cde_storage_driver storage_driver;
	char storage_url[CDE_CONFIG_URL_MAX];
	char storage_password_file[CDE_CONFIG_PATH_MAX];
	struct cde_config_dora dora;
	/* gates: per environment, the evidence a deployment there needs
	 * (README "Promotion gates"), as compact JSON; "" = no gates. */
	char gates[CDE_CONFIG_GATES_MAX];
	/* tickets: the environments whose accepted deployments get a change
	 * ticket (ticket.created, then closed when the pipeline finishes). */
	size_t n_ticket_envs;
	char ticket_envs[CDE_CONFIG_TICKET_ENVS_MAX][CDE_CONFIG_NAME_MAX];
};

/* The embedded default: listen on 127.0.0.1:9720, state under ./var (or
 * $STATE_DIRECTORY, as systemd sets it), no authentication on loopback,
 * the limits of the daemon issue. */
void cde_config_defaults(struct cde_config *cfg);

/* The largest configuration file read. */
#define CDE_CONFIG_FILE_MAX (16 << 20)

/* Reads the YAML file @path over @cfg (opening it once): keys present
 * replace values, keys absent keep them. Unknown keys and bad values are errors naming the
 * file, the key (as a pointer, "/limits/body_max") and the reason.
 * On failure @cfg is unchanged. Returns 0, -EINVAL, or -errno. */
int cde_config_load_file(const char *path, struct cde_config *cfg, struct cde_errors *errs);

/* Checks what holds between keys (a listener that is not loopback needs
 * principals or "auth: none"; not both). Returns 0 or -EINVAL with @errs. */
int cde_config_check(const struct cde_config *cfg, struct cde_errors *errs);

/* The storage flags over the file: @url (not NULL) selects postgres at
 * it; @password_file (not NULL) needs postgres. Checked as the storage:
 * key is (no password in the url). Returns 0 or -EINVAL with @errs. */
int cde_config_set_storage(struct cde_config *cfg, const char *url, const char *password_file,
			   struct cde_errors *errs);

/* True when @listen ("HOST:PORT") is a loopback address. */
bool cde_config_listen_is_loopback(const char *listen);

/* Splits "HOST:PORT" or "[v6]:PORT". Returns 0 or -EINVAL. */
int cde_config_split_listen(const char *listen, char *host, size_t size, unsigned short *port);

/* Parses "1MiB", "16KiB", "512", "2MB" into bytes. Returns 0 or -EINVAL. */
int cde_config_parse_size(const char *s, size_t *ret);

/* Parses "10s", "500ms", "2m", "1h" (a bare number is seconds) into
 * milliseconds. Returns 0 or -EINVAL. */
int cde_config_parse_duration(const char *s, unsigned *ret_ms);

/* Parses an age with its unit: "90d", "12h", "2w", "3600s". Returns 0
 * (seconds in *@ret_s) or -EINVAL. */
int cde_config_parse_age(const char *s, uint64_t *ret_s);
