/* Loading the YAML configuration. libcyaml reads the file's structure
 * (and refuses unknown keys and wrong shapes); every value arrives as a
 * string and is then parsed here, with its unit, so an error can name the
 * key and say what was expected. sinks and routes hold maps whose keys
 * are data, not field names (headers, filters), and clusters: is a map
 * from names a user picks: libcyaml maps a YAML mapping only onto a
 * struct whose keys its schema lists (it has no dictionary type and no
 * recursive schema for a filter), so it skips them, and a second pass
 * (config_tree.c) reads them as a JSON tree with libyaml. Both passes
 * read the same bytes: the file is opened and read once per load.
 * principals: entries are checked in principals.c. */

#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyaml/cyaml.h>

#include "config/config_internal.h"
#include "config/yaml_json.h"
#include "schemas/base/read_file.h"

struct raw_limits {
	char *body_max, *head_max, *headers_max;
	char *head_timeout, *body_timeout, *idle_timeout;
	char *max_connections, *max_connections_per_address;
	char *queue_max, *bodies_in_flight_max;
};

struct raw_audit {
	char *sync;
	char *hmac_key_file;
	char *checkpoint_every;
	char *max_age, *max_size, *retention_interval;
	char *signing_key_file, *tree_checkpoint_every, *tree_checkpoint_interval;
};

struct raw_metrics {
	char *max_series, *price_cpu_hour, *price_gib_hour;
};

struct raw_config {
	char *listen, *state_dir, *catalog_dir, *source, *log_level, *log_format, *auth;
	struct raw_limits *limits;
	struct raw_audit *audit;
	struct raw_metrics *metrics;
	struct raw_principal *principals;
	unsigned principals_count;
};

#define STR(key, type, member) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_OPTIONAL, type, member, 0, CDE_CONFIG_STR_MAX - 1)

static const cyaml_schema_field_t limits_fields[] = {
	STR("body_max", struct raw_limits, body_max),
	STR("head_max", struct raw_limits, head_max),
	STR("headers_max", struct raw_limits, headers_max),
	STR("head_timeout", struct raw_limits, head_timeout),
	STR("body_timeout", struct raw_limits, body_timeout),
	STR("idle_timeout", struct raw_limits, idle_timeout),
	STR("max_connections", struct raw_limits, max_connections),
	STR("max_connections_per_address", struct raw_limits, max_connections_per_address),
	STR("queue_max", struct raw_limits, queue_max),
	STR("bodies_in_flight_max", struct raw_limits, bodies_in_flight_max),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t audit_fields[] = {
	STR("sync", struct raw_audit, sync),
	STR("hmac_key_file", struct raw_audit, hmac_key_file),
	STR("checkpoint_every", struct raw_audit, checkpoint_every),
	STR("max_age", struct raw_audit, max_age),
	STR("max_size", struct raw_audit, max_size),
	STR("retention_interval", struct raw_audit, retention_interval),
	STR("signing_key_file", struct raw_audit, signing_key_file),
	STR("tree_checkpoint_every", struct raw_audit, tree_checkpoint_every),
	STR("tree_checkpoint_interval", struct raw_audit, tree_checkpoint_interval),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t metrics_fields[] = {
	STR("max_series", struct raw_metrics, max_series),
	STR("price_cpu_hour", struct raw_metrics, price_cpu_hour),
	STR("price_gib_hour", struct raw_metrics, price_gib_hour),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t string_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CDE_CONFIG_PATH_MAX - 1),
};

static const cyaml_schema_field_t principal_fields[] = {
	STR("name", struct raw_principal, name),
	CYAML_FIELD_SEQUENCE("scopes", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct raw_principal,
			     scopes, &string_entry, 1, 3),
	STR("token_file", struct raw_principal, token_file),
	STR("token_env", struct raw_principal, token_env),
	STR("github_secret_file", struct raw_principal, github_secret_file),
	CYAML_FIELD_SEQUENCE("webhook_secret_files", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
			     struct raw_principal, webhook_secret_files, &string_entry, 1,
			     CDE_CONFIG_SECRETS_MAX),
	CYAML_FIELD_SEQUENCE("sources", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct raw_principal,
			     sources, &string_entry, 1, CDE_CONFIG_SOURCES_MAX),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t principal_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_principal, principal_fields),
};

static const cyaml_schema_field_t config_fields[] = {
	STR("listen", struct raw_config, listen),
	STR("state_dir", struct raw_config, state_dir),
	STR("catalog_dir", struct raw_config, catalog_dir),
	STR("source", struct raw_config, source),
	STR("log_level", struct raw_config, log_level),
	STR("log_format", struct raw_config, log_format),
	STR("auth", struct raw_config, auth),
	CYAML_FIELD_MAPPING_PTR("limits", CYAML_FLAG_OPTIONAL, struct raw_config, limits, limits_fields),
	CYAML_FIELD_MAPPING_PTR("audit", CYAML_FLAG_OPTIONAL, struct raw_config, audit, audit_fields),
	CYAML_FIELD_MAPPING_PTR("metrics", CYAML_FLAG_OPTIONAL, struct raw_config, metrics, metrics_fields),
	CYAML_FIELD_SEQUENCE("principals", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct raw_config,
			     principals, &principal_entry, 0, CDE_CONFIG_PRINCIPALS_MAX),
	CYAML_FIELD_IGNORE("sinks", CYAML_FLAG_OPTIONAL),	/* read by apply_fanout */
	CYAML_FIELD_IGNORE("routes", CYAML_FLAG_OPTIONAL),
	CYAML_FIELD_IGNORE("clusters", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_clusters */
	CYAML_FIELD_IGNORE("schemas", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_schemas */
	CYAML_FIELD_IGNORE("storage", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_storage */
	CYAML_FIELD_IGNORE("dora", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_dora */
	CYAML_FIELD_IGNORE("gates", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_gates */
	CYAML_FIELD_IGNORE("tickets", CYAML_FLAG_OPTIONAL),	/* read by cde_config_apply_tickets */
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t config_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, config_fields),
};

void cde_config_defaults(struct cde_config *cfg)
{
	const char *state = getenv("STATE_DIRECTORY");

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:9720");
	/* systemd may pass several directories separated by ':'. */
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%.*s",
		 state && *state ? (int)strcspn(state, ":") : 5, state && *state ? state : "./var");
	cfg->log_level = CDE_CONFIG_LOG_INFO;
	cfg->audit_sync_full = true;
	cfg->audit_checkpoint_every = 1000;
	cfg->audit_tree_checkpoint_every = 1000;
	cfg->audit_tree_checkpoint_interval_ms = 10000;
	cfg->audit_retention_interval_ms = 3600000;
	cfg->metrics_max_series = 200;
	cfg->dora.failure_window_s = 86400;
	cfg->dora.window_s = 30 * 86400;
	cfg->dora.interval_ms = 60000;
	cfg->limits = (struct cde_config_limits){
		.body_max = 1024 * 1024,
		.head_max = 16 * 1024,
		.headers_max = 64,
		.head_timeout_ms = 10000,
		.body_timeout_ms = 30000,
		.idle_timeout_ms = 30000,
		.max_connections = 1024,
		.max_connections_per_address = 64,
		.queue_max = 10000,
		.bodies_in_flight_max = 64 * 1024 * 1024,
	};
}

/* Collects libcyaml's error lines into one reason. */
struct yaml_log {
	char text[CDE_ERROR_REASON_MAX];
	size_t len;
};

static void collect_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
	__attribute__((format(printf, 3, 0)));

static void collect_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct yaml_log *log = ctx;
	char line[256];
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strcspn(line, "\n");
	line[n] = '\0';
	n = strspn(line, " \t");
	memmove(line, line + n, strlen(line + n) + 1);
	if (strncmp(line, "Load: ", 6) == 0)
		memmove(line, line + 6, strlen(line + 6) + 1);
	if (!line[0] || strstr(line, "Backtrace"))
		return;
	snprintf(log->text + log->len, sizeof(log->text) - log->len, "%s%s", log->len ? "; " : "",
		 line);
	log->len = strlen(log->text);
}

static int set_string(char *dst, const char *src, const char *path, const char *key,
		      struct cde_errors *errs)
{
	if (!src)
		return 0;
	if (!*src) {
		cde_errors_add(errs, key, "%s: %s: must not be empty", path, key);
		return -EINVAL;
	}
	snprintf(dst, CDE_CONFIG_STR_MAX, "%s", src);
	return 0;
}

int cde_config_set_size(size_t *dst, const char *src, const char *path, const char *key,
		    struct cde_errors *errs)
{
	size_t v;

	if (!src)
		return 0;
	if (cde_config_parse_size(src, &v) < 0 || v == 0) {
		cde_errors_add(errs, key, "%s: %s: \"%s\" is not a size (e.g. 1MiB, 16KiB, 4096)", path, key, src);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int set_count(unsigned *dst, const char *src, const char *path, const char *key,
		     struct cde_errors *errs)
{
	size_t v;

	if (!src)
		return 0;
	if (cde_config_parse_size(src, &v) < 0 || v == 0 || v > 1000000 || strpbrk(src, "BkKMG")) {
		cde_errors_add(errs, key, "%s: %s: \"%s\" is not a count from 1 to 1000000", path, key, src);
		return -EINVAL;
	}
	*dst = (unsigned)v;
	return 0;
}

int cde_config_set_duration(unsigned *dst, const char *src, const char *path, const char *key,
			struct cde_errors *errs)
{
	unsigned v;

	if (!src)
		return 0;
	if (cde_config_parse_duration(src, &v) < 0 || v == 0) {
		cde_errors_add(errs, key, "%s: %s: \"%s\" is not a duration (e.g. 10s, 500ms, 2m)", path, key, src);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

/* A price: a plain non-negative decimal number ("0.0475"). */
static int set_price(double *dst, const char *src, const char *path, const char *key, struct cde_errors *errs)
{
	char *end;
	double v;

	if (!src)
		return 0;
	errno = 0;
	v = strtod(src, &end);
	if (errno || end == src || *end || !(v >= 0) || v > 1e9 || strpbrk(src, "xXpPnNiI")) {
		cde_errors_add(errs, key, "%s: %s: \"%s\" is not a price (a decimal number such as 0.0475)", path,
			       key, src);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int set_retention(struct cde_config *cfg, const struct raw_audit *a, const char *path,
			 struct cde_errors *errs)
{
	size_t size;
	int r = 0;

	if (a->max_age && (cde_config_parse_age(a->max_age, &cfg->audit_max_age_s) < 0 ||
			   cfg->audit_max_age_s == 0)) {
		cde_errors_add(errs, "/audit/max_age", "%s: /audit/max_age: \"%s\" is not an age (e.g. 400d, 12h, 2w)",
			       path, a->max_age);
		r = -EINVAL;
	}
	if (a->max_size) {
		/* Below a few MiB retention would run after every few events. */
		if (cde_config_parse_size(a->max_size, &size) < 0 || size < (1u << 20)) {
			cde_errors_add(errs, "/audit/max_size", "%s: /audit/max_size: \"%s\" is not a size of 1MiB or more"
				       " (e.g. 20GiB)", path, a->max_size);
			r = -EINVAL;
		} else {
			cfg->audit_max_size = size;
		}
	}
	r |= cde_config_set_duration(&cfg->audit_retention_interval_ms, a->retention_interval, path,
			  "/audit/retention_interval", errs);
	return r;
}

bool cde_config_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Copies @src into @dst (of @size) or reports that it does not fit. */
int cde_config_copy_bounded(char *dst, size_t size, const char *src, const char *path, const char *key,
			struct cde_errors *errs)
{
	if (strlen(src) >= size) {
		cde_errors_add(errs, key, "%s: %s: longer than %zu characters", path, key, size - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* The process's own keys: where it listens and keeps its state, its
 * catalog and source, its logs, and whether it authenticates. */
static int apply_process(const struct raw_config *raw, const char *path, struct cde_config *cfg,
			 struct cde_errors *errs)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	int r = 0;

	r |= set_string(cfg->listen, raw->listen, path, "/listen", errs);
	r |= set_string(cfg->state_dir, raw->state_dir, path, "/state_dir", errs);
	r |= set_string(cfg->catalog_dir, raw->catalog_dir, path, "/catalog_dir", errs);
	r |= set_string(cfg->source, raw->source, path, "/source", errs);
	if (raw->listen) {
		char host[256];
		unsigned short port;

		if (cde_config_split_listen(raw->listen, host, sizeof(host), &port) < 0) {
			cde_errors_add(errs, "/listen", "%s: /listen: \"%s\" is not HOST:PORT", path, raw->listen);
			r = -EINVAL;
		}
	}
	if (raw->log_level) {
		bool known = false;

		for (size_t i = 0; i < 4; i++) {
			if (strcmp(raw->log_level, levels[i]) == 0) {
				cfg->log_level = (enum cde_config_log_level)i;
				known = true;
			}
		}
		if (!known) {
			cde_errors_add(errs, "/log_level", "%s: /log_level: \"%s\" is not one of error, warn, info, debug",
				       path, raw->log_level);
			r = -EINVAL;
		}
	}
	if (raw->log_format) {
		if (strcmp(raw->log_format, "logfmt") == 0) {
			cfg->log_format = CDE_CONFIG_LOG_LOGFMT;
		} else if (strcmp(raw->log_format, "json") == 0) {
			cfg->log_format = CDE_CONFIG_LOG_JSON;
		} else {
			cde_errors_add(errs, "/log_format", "%s: /log_format: \"%s\" is not one of logfmt, json",
				       path, raw->log_format);
			r = -EINVAL;
		}
	}
	if (raw->auth) {
		if (strcmp(raw->auth, "none") == 0) {
			cfg->auth_none = true;
		} else {
			cde_errors_add(errs, "/auth", "%s: /auth: \"%s\": the only value is none (authentication comes from principals)",
				       path, raw->auth);
			r = -EINVAL;
		}
	}
	return r ? -EINVAL : 0;
}

/* limits: what a client may make the HTTP server hold. */
static int apply_limits(const struct raw_limits *l, const char *path, struct cde_config_limits *o,
			struct cde_errors *errs)
{
	size_t headers = o->headers_max;
	int r = 0;

	r |= cde_config_set_size(&o->body_max, l->body_max, path, "/limits/body_max", errs);
	r |= cde_config_set_size(&o->head_max, l->head_max, path, "/limits/head_max", errs);
	r |= cde_config_set_size(&headers, l->headers_max, path, "/limits/headers_max", errs);
	if (l->headers_max && (headers > 128 || strpbrk(l->headers_max, "BkKMG"))) {
		cde_errors_add(errs, "/limits/headers_max", "%s: /limits/headers_max: at most 128 header fields", path);
		r = -EINVAL;
	}
	o->headers_max = headers;
	r |= cde_config_set_duration(&o->head_timeout_ms, l->head_timeout, path, "/limits/head_timeout", errs);
	r |= cde_config_set_duration(&o->body_timeout_ms, l->body_timeout, path, "/limits/body_timeout", errs);
	r |= cde_config_set_duration(&o->idle_timeout_ms, l->idle_timeout, path, "/limits/idle_timeout", errs);
	r |= set_count(&o->max_connections, l->max_connections, path, "/limits/max_connections", errs);
	r |= set_count(&o->max_connections_per_address, l->max_connections_per_address, path,
		       "/limits/max_connections_per_address", errs);
	r |= set_count(&o->queue_max, l->queue_max, path, "/limits/queue_max", errs);
	r |= cde_config_set_size(&o->bodies_in_flight_max, l->bodies_in_flight_max, path,
				 "/limits/bodies_in_flight_max", errs);
	return r ? -EINVAL : 0;
}

/* Fills @cfg from what the file gave, reporting every bad value, not
 * only the first. */
static int apply(const struct raw_config *raw, const char *path, struct cde_config *cfg,
		 struct cde_errors *errs)
{
	int r = apply_process(raw, path, cfg, errs);

	if (raw->limits)
		r |= apply_limits(raw->limits, path, &cfg->limits, errs);
	if (raw->audit && raw->audit->sync) {
		if (strcmp(raw->audit->sync, "full") == 0 || strcmp(raw->audit->sync, "normal") == 0) {
			cfg->audit_sync_full = strcmp(raw->audit->sync, "full") == 0;
		} else {
			cde_errors_add(errs, "/audit/sync", "%s: /audit/sync: \"%s\" is not full or normal", path,
				       raw->audit->sync);
			r = -EINVAL;
		}
	}
	if (raw->metrics) {
		r |= set_count(&cfg->metrics_max_series, raw->metrics->max_series, path, "/metrics/max_series", errs);
		r |= set_price(&cfg->metrics_price_cpu_hour, raw->metrics->price_cpu_hour, path,
			       "/metrics/price_cpu_hour", errs);
		r |= set_price(&cfg->metrics_price_gib_hour, raw->metrics->price_gib_hour, path,
			       "/metrics/price_gib_hour", errs);
	}
	if (raw->audit) {
		if (raw->audit->hmac_key_file)
			r |= cde_config_copy_bounded(cfg->audit_hmac_key_file, sizeof(cfg->audit_hmac_key_file),
					  raw->audit->hmac_key_file, path, "/audit/hmac_key_file", errs);
		r |= set_count(&cfg->audit_checkpoint_every, raw->audit->checkpoint_every, path,
			       "/audit/checkpoint_every", errs);
		if (raw->audit->signing_key_file)
			r |= cde_config_copy_bounded(cfg->audit_signing_key_file, sizeof(cfg->audit_signing_key_file),
						     raw->audit->signing_key_file, path, "/audit/signing_key_file", errs);
		r |= set_count(&cfg->audit_tree_checkpoint_every, raw->audit->tree_checkpoint_every, path,
			       "/audit/tree_checkpoint_every", errs);
		r |= cde_config_set_duration(&cfg->audit_tree_checkpoint_interval_ms,
					     raw->audit->tree_checkpoint_interval, path, "/audit/tree_checkpoint_interval",
					     errs);
		/* A checkpoint must never cover entries a power loss can take
		 * back: re-signed, those sizes would fork the log. */
		if (cfg->audit_signing_key_file[0] && !cfg->audit_sync_full) {
			cde_errors_add(errs, "/audit/signing_key_file", "%s: /audit/signing_key_file: signed checkpoints "
				       "need audit.sync: full (with normal, a power loss can take back entries a "
				       "checkpoint covers)", path);
			r = -EINVAL;
		}
		r |= set_retention(cfg, raw->audit, path, errs);
	}
	if (raw->principals) {
		/* A file that names principals replaces the list as a whole. */
		cfg->n_principals = 0;
		for (unsigned i = 0; i < raw->principals_count; i++) {
			r |= cde_config_apply_principal(&raw->principals[i], i, path, &cfg->principals[i], cfg, errs);
			cfg->n_principals = i + 1;
		}
	}
	return r ? -EINVAL : 0;
}

/* Both passes over the file's bytes, read once: libcyaml for the keys it
 * can express, libyaml (config_tree.c) for the maps keyed by data. */
static int load_text(const char *path, const char *text, size_t len, struct cde_config *cfg,
		     struct cde_errors *errs)
{
	struct yaml_log log = { 0 };
	const cyaml_config_t yaml_cfg = {
		.log_fn = collect_log,
		.log_ctx = &log,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_NO_ALIAS,
	};
	struct raw_config *raw = NULL;
	struct cde_config *next;
	cyaml_err_t e;
	int r, r2;

	e = cyaml_load_data((const uint8_t *)text, len, &yaml_cfg, &config_schema, (cyaml_data_t **)&raw, NULL);
	if (e == CYAML_ERR_OOM || e == CYAML_ERR_LIBYAML_PARSER_INIT)
		return -ENOMEM;
	if (e == CYAML_ERR_LIBYAML_PARSER) {
		/* libcyaml does not say when libyaml ran out of memory. Our own
		 * reader does: if the text reads as YAML there, or runs out of
		 * memory there too, this was no syntax error. */
		struct cde_errors ignored;
		cJSON *doc = NULL;
		int y = cde_yaml_to_json(path, text, len, &doc, &ignored);

		cJSON_Delete(doc);
		if (y == 0 || y == -ENOMEM)
			return -ENOMEM;
	}
	if (e != CYAML_OK) {
		cde_errors_add(errs, "", "%s: %s", path, log.len ? log.text : cyaml_strerror(e));
		return -EINVAL;
	}
	if (!raw)
		return 0; /* an empty file keeps every default */
	/* Built aside, so that a file with an error changes nothing. */
	next = malloc(sizeof(*next));
	if (!next) {
		cyaml_free(&yaml_cfg, &config_schema, raw, 0);
		return -ENOMEM;
	}
	*next = *cfg;
	r = apply(raw, path, next, errs);
	cyaml_free(&yaml_cfg, &config_schema, raw, 0);
	r2 = cde_config_load_tree(path, text, len, next, errs);
	if (r == 0 || r2 == -ENOMEM)
		r = r2;
	if (r == 0)
		*cfg = *next;
	free(next);
	return r;
}

int cde_config_load_file(const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	char *text;
	size_t len;
	int r;

	/* Opened once: a file replaced while it is loaded cannot give the
	 * two passes two different texts, and a FIFO or a /proc file works. */
	/* "-" is a file named so, never standard input: a reload reads the
	 * file again on the loop, where waiting on a terminal would hang. */
	r = cde_read_file(strcmp(path, "-") == 0 ? "./-" : path, CDE_CONFIG_FILE_MAX, &text, &len);
	if (r == -EFBIG)
		cde_errors_add(errs, "", "%s: larger than %d MiB", path, CDE_CONFIG_FILE_MAX >> 20);
	else if (r < 0 && r != -ENOMEM)
		cde_errors_add(errs, "", "%s: %s", path, strerror(-r)); /* said plainly, not as YAML */
	if (r < 0)
		return r;
	r = load_text(path, text, len, cfg, errs);
	free(text);
	return r;
}

int cde_config_check(const struct cde_config *cfg, struct cde_errors *errs)
{
	char host[256];
	unsigned short port;

	if (cde_config_split_listen(cfg->listen, host, sizeof(host), &port) < 0) {
		cde_errors_add(errs, "/listen", "/listen: \"%s\" is not HOST:PORT", cfg->listen);
		return -EINVAL;
	}
	if (cfg->auth_none && cfg->n_principals) {
		cde_errors_add(errs, "/auth", "/auth: \"none\" contradicts the principals listed");
		return -EINVAL;
	}
	/* Without principals anyone who can connect may post: fine on
	 * loopback, and elsewhere only when the file says so. */
	if (!cde_config_listen_is_loopback(cfg->listen) && !cfg->auth_none && !cfg->n_principals) {
		cde_errors_add(errs, "/auth", "/auth: listening on %s, which is not loopback, with no principals: "
			       "list principals, or set \"auth: none\" to allow it explicitly", cfg->listen);
		return -EINVAL;
	}
	if (cfg->limits.body_timeout_ms < cfg->limits.head_timeout_ms) {
		cde_errors_add(errs, "/limits/body_timeout", "/limits/body_timeout: must not be shorter than head_timeout: both count from the request's first byte");
		return -EINVAL;
	}
	if (cfg->limits.bodies_in_flight_max < cfg->limits.body_max) {
		cde_errors_add(errs, "/limits/bodies_in_flight_max", "/limits/bodies_in_flight_max: must not be smaller than body_max: a body that size would never fit");
		return -EINVAL;
	}
	return 0;
}
