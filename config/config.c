/* Loading the YAML configuration. libcyaml reads the file's structure
 * (and refuses unknown keys and wrong shapes); every value arrives as a
 * string and is then parsed here, with its unit, so an error can name the
 * key and say what was expected. sinks and routes hold maps whose keys
 * nobody knows in advance (headers, filters), which libcyaml cannot put
 * in a struct: it skips them, and a second pass reads the file as a JSON
 * tree (yaml_json.h) for them. clusters: takes the same pass, so that its
 * entries are read by the sizing module's own parser. */

#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyaml/cyaml.h>

#include "config/yaml_json.h"
#include "schemas/json_pointer.h"
#include "sinks/filter.h"

struct raw_limits {
	char *body_max, *head_max, *headers_max;
	char *head_timeout, *body_timeout, *idle_timeout;
	char *max_connections, *max_connections_per_address;
	char *queue_max;
};

struct raw_principal {
	char *name;
	char **scopes;
	unsigned scopes_count;
	char *token_file, *token_env, *github_secret_file;
	char **webhook_secret_files;
	unsigned webhook_secret_files_count;
};

struct raw_audit {
	char *sync;
	char *hmac_key_file;
	char *checkpoint_every;
	char *max_age, *max_size, *retention_interval;
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
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t audit_fields[] = {
	STR("sync", struct raw_audit, sync),
	STR("hmac_key_file", struct raw_audit, hmac_key_file),
	STR("checkpoint_every", struct raw_audit, checkpoint_every),
	STR("max_age", struct raw_audit, max_age),
	STR("max_size", struct raw_audit, max_size),
	STR("retention_interval", struct raw_audit, retention_interval),
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
	CYAML_FIELD_IGNORE("clusters", CYAML_FLAG_OPTIONAL),	/* read by apply_clusters */
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
	cfg->audit_retention_interval_ms = 3600000;
	cfg->metrics_max_series = 200;
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

static int set_size(size_t *dst, const char *src, const char *path, const char *key,
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

static int set_duration(unsigned *dst, const char *src, const char *path, const char *key,
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
	r |= set_duration(&cfg->audit_retention_interval_ms, a->retention_interval, path,
			  "/audit/retention_interval", errs);
	return r;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Copies @src into @dst (of @size) or reports that it does not fit. */
static int copy_bounded(char *dst, size_t size, const char *src, const char *path, const char *key,
			struct cde_errors *errs)
{
	if (strlen(src) >= size) {
		cde_errors_add(errs, key, "%s: %s: longer than %zu characters", path, key, size - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int apply_principal(const struct raw_principal *rp, size_t i, const char *path,
			   struct cde_config_principal *p, const struct cde_config *cfg,
			   struct cde_errors *errs)
{
	static const char *const scope_names[] = { "emit", "query", "admin" };
	char key[96];
	int r = 0;

	memset(p, 0, sizeof(*p));
	snprintf(key, sizeof(key), "/principals/%zu/name", i);
	if (!rp->name || !*rp->name) {
		cde_errors_add(errs, key, "%s: %s: required (it names who sent each event)", path, key);
		return -EINVAL;
	}
	for (const char *c = rp->name; *c; c++) {
		if (!is_name_char(*c)) {
			cde_errors_add(errs, key, "%s: %s: \"%s\": use letters, digits, '-', '_' and '.'",
				       path, key, rp->name);
			return -EINVAL;
		}
	}
	r |= copy_bounded(p->name, sizeof(p->name), rp->name, path, key, errs);
	for (size_t k = 0; k < i; k++) {
		if (strcmp(cfg->principals[k].name, rp->name) == 0) {
			cde_errors_add(errs, key, "%s: %s: \"%s\" is named twice", path, key, rp->name);
			r = -EINVAL;
		}
	}
	p->scopes = rp->scopes_count ? 0 : CDE_SCOPE_EMIT;
	for (unsigned k = 0; k < rp->scopes_count; k++) {
		unsigned bit = 0;

		for (unsigned b = 0; b < 3; b++)
			if (strcmp(rp->scopes[k], scope_names[b]) == 0)
				bit = 1u << b;
		if (!bit) {
			snprintf(key, sizeof(key), "/principals/%zu/scopes/%u", i, k);
			cde_errors_add(errs, key, "%s: %s: \"%s\" is not one of emit, query, admin", path, key,
				       rp->scopes[k]);
			r = -EINVAL;
		}
		p->scopes |= bit;
	}
	snprintf(key, sizeof(key), "/principals/%zu", i);
	if (rp->token_file && rp->token_env) {
		cde_errors_add(errs, key, "%s: %s: give token_file or token_env, not both", path, key);
		r = -EINVAL;
	}
	if (!rp->token_file && !rp->token_env && !rp->github_secret_file &&
	    !rp->webhook_secret_files_count) {
		cde_errors_add(errs, key, "%s: %s: no credential: give token_file, token_env, "
			       "github_secret_file or webhook_secret_files", path, key);
		r = -EINVAL;
	}
	if (rp->token_file)
		r |= copy_bounded(p->token_file, sizeof(p->token_file), rp->token_file, path, key, errs);
	if (rp->token_env)
		r |= copy_bounded(p->token_env, sizeof(p->token_env), rp->token_env, path, key, errs);
	if (rp->github_secret_file)
		r |= copy_bounded(p->github_secret_file, sizeof(p->github_secret_file),
				  rp->github_secret_file, path, key, errs);
	for (unsigned k = 0; k < rp->webhook_secret_files_count; k++)
		r |= copy_bounded(p->webhook_secret_files[k], sizeof(p->webhook_secret_files[k]),
				  rp->webhook_secret_files[k], path, key, errs);
	p->n_webhook_secret_files = rp->webhook_secret_files_count;
	return r ? -EINVAL : 0;
}

static int apply(const struct raw_config *raw, const char *path, struct cde_config *cfg,
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
	if (raw->limits) {
		const struct raw_limits *l = raw->limits;
		struct cde_config_limits *o = &cfg->limits;

		r |= set_size(&o->body_max, l->body_max, path, "/limits/body_max", errs);
		r |= set_size(&o->head_max, l->head_max, path, "/limits/head_max", errs);
		size_t headers = o->headers_max;

		r |= set_size(&headers, l->headers_max, path, "/limits/headers_max", errs);
		if (l->headers_max && (headers > 128 || strpbrk(l->headers_max, "BkKMG"))) {
			cde_errors_add(errs, "/limits/headers_max", "%s: /limits/headers_max: at most 128 header fields", path);
			r = -EINVAL;
		}
		o->headers_max = headers;
		r |= set_duration(&o->head_timeout_ms, l->head_timeout, path, "/limits/head_timeout", errs);
		r |= set_duration(&o->body_timeout_ms, l->body_timeout, path, "/limits/body_timeout", errs);
		r |= set_duration(&o->idle_timeout_ms, l->idle_timeout, path, "/limits/idle_timeout", errs);
		r |= set_count(&o->max_connections, l->max_connections, path, "/limits/max_connections", errs);
		r |= set_count(&o->max_connections_per_address, l->max_connections_per_address, path,
			       "/limits/max_connections_per_address", errs);
		r |= set_count(&o->queue_max, l->queue_max, path, "/limits/queue_max", errs);
	}
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
			r |= copy_bounded(cfg->audit_hmac_key_file, sizeof(cfg->audit_hmac_key_file),
					  raw->audit->hmac_key_file, path, "/audit/hmac_key_file", errs);
		r |= set_count(&cfg->audit_checkpoint_every, raw->audit->checkpoint_every, path,
			       "/audit/checkpoint_every", errs);
		r |= set_retention(cfg, raw->audit, path, errs);
	}
	if (raw->principals) {
		/* A file that names principals replaces the list as a whole. */
		cfg->n_principals = 0;
		for (unsigned i = 0; i < raw->principals_count; i++) {
			r |= apply_principal(&raw->principals[i], i, path, &cfg->principals[i], cfg, errs);
			cfg->n_principals = i + 1;
		}
	}
	return r ? -EINVAL : 0;
}

/* sinks: and routes:, from the file as a JSON tree. */

#define HTTP_SINKS (1u << CDE_SINK_TEKTON | 1u << CDE_SINK_WEBHOOK)
#define WEBHOOK_SINKS (1u << CDE_SINK_WEBHOOK)
#define FILE_SINKS (1u << CDE_SINK_FILE)
#define ALL_SINKS (HTTP_SINKS | FILE_SINKS)

enum sink_value { V_URL, V_MODE, V_HEADERS, V_PATH, V_BOOL, V_DURATION, V_COUNT, V_AGE, V_SIZE };

/* The keys of a sink besides name and type, and the types they apply to. */
static const struct sink_key {
	const char *name;
	enum sink_value kind;
	unsigned types;
	size_t offset;		/* in struct cde_config_sink */
	unsigned max;		/* V_COUNT */
} sink_keys[] = {
	{ "url", V_URL, HTTP_SINKS, offsetof(struct cde_config_sink, url), 0 },
	{ "mode", V_MODE, HTTP_SINKS, offsetof(struct cde_config_sink, structured), 0 },
	{ "headers", V_HEADERS, HTTP_SINKS, 0, 0 },
	{ "token_file", V_PATH, WEBHOOK_SINKS, offsetof(struct cde_config_sink, token_file), 0 },
	{ "secret_file", V_PATH, WEBHOOK_SINKS, offsetof(struct cde_config_sink, secret_file), 0 },
	{ "tls_verify", V_BOOL, HTTP_SINKS, offsetof(struct cde_config_sink, tls_verify), 0 },
	{ "timeout", V_DURATION, HTTP_SINKS, offsetof(struct cde_config_sink, timeout_ms), 0 },
	{ "max_in_flight", V_COUNT, ALL_SINKS, offsetof(struct cde_config_sink, max_in_flight), 1024 },
	{ "max_attempts", V_COUNT, ALL_SINKS, offsetof(struct cde_config_sink, max_attempts), 1000000 },
	{ "max_age", V_AGE, ALL_SINKS, offsetof(struct cde_config_sink, max_age_s), 0 },
	{ "max_backoff", V_DURATION, ALL_SINKS, offsetof(struct cde_config_sink, max_backoff_ms), 0 },
	{ "max_retry_after", V_DURATION, HTTP_SINKS, offsetof(struct cde_config_sink, max_retry_after_ms), 0 },
	{ "path", V_PATH, FILE_SINKS, offsetof(struct cde_config_sink, path), 0 },
	{ "rotate_size", V_SIZE, FILE_SINKS, offsetof(struct cde_config_sink, rotate_size), 0 },
	{ "rotate_keep", V_COUNT, FILE_SINKS, offsetof(struct cde_config_sink, rotate_keep), 1000 },
};

static const char *const sink_types[] = { "tekton", "webhook", "file" };

static int fail_at(struct cde_errors *errs, const char *path, const struct cde_ptr *p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Adds "FILE: POINTER: reason" at @p, as every loader error reads.
 * Returns -EINVAL. */
static int fail_at(struct cde_errors *errs, const char *path, const struct cde_ptr *p, const char *fmt, ...)
{
	char reason[CDE_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	cde_errors_add(errs, cde_ptr_str(p), "%s: %s: %s", path, cde_ptr_str(p), reason);
	return -EINVAL;
}

/* A scalar as it was written: a string, or a number or a boolean as its
 * text. NULL for null, lists and maps. */
static const char *scalar_text(const cJSON *v, char *buf, size_t size)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		snprintf(buf, size, "%.17g", v->valuedouble);
		return buf;
	}
	return NULL;
}

static void sink_defaults(struct cde_config_sink *s)
{
	memset(s, 0, sizeof(*s));
	s->tls_verify = true;
	s->timeout_ms = 10000;
	s->max_in_flight = 16;
	s->max_attempts = 12;
	s->max_age_s = 86400;
	s->max_backoff_ms = 300000;
	s->max_retry_after_ms = 600000;
	s->rotate_size = 100u << 20;
	s->rotate_keep = 5;
}

/* RFC 9110 token characters, what a header name is made of. */
static bool is_token(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "!#$%&'*+-.^_`|~") == strlen(s);
}

/* True when @s holds a control character other than tab: CR and LF
 * would let a value start a header or a request of its own. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

static int set_headers(struct cde_config_sink *s, const cJSON *map, const char *path, struct cde_ptr *p,
		       struct cde_errors *errs)
{
	const cJSON *h;
	int r = 0;

	if (!cJSON_IsObject(map))
		return fail_at(errs, path, p, "must be a map of header names to values");
	if (cJSON_GetArraySize(map) > CDE_CONFIG_HEADERS_MAX)
		return fail_at(errs, path, p, "more than %d headers", CDE_CONFIG_HEADERS_MAX);
	cJSON_ArrayForEach(h, map) {
		size_t mark = cde_ptr_push(p, h->string), len = strlen(h->string);
		char buf[32];
		const char *value = scalar_text(h, buf, sizeof(buf));
		bool twice = false;

		for (size_t k = 0; k < s->n_headers; k++)
			twice |= strncasecmp(s->headers[k], h->string, len) == 0 && s->headers[k][len] == ':';
		if (!is_token(h->string))
			r = fail_at(errs, path, p, "\"%s\" is not a header name (letters, digits, !#$%%&'*+-.^_`|~)",
				    h->string);
		else if (twice)
			r = fail_at(errs, path, p, "named twice (header names ignore case)");
		else if (!value)
			r = fail_at(errs, path, p, "must be a value");
		else if (has_control(value))
			r = fail_at(errs, path, p, "must not hold CR, LF or other control characters");
		else if (len + 2 + strlen(value) >= sizeof(s->headers[0]))
			r = fail_at(errs, path, p, "longer than %zu characters with its name",
				    sizeof(s->headers[0]) - 3);
		else
			snprintf(s->headers[s->n_headers++], sizeof(s->headers[0]), "%s: %s", h->string, value);
		cde_ptr_pop(p, mark);
	}
	return r;
}

static bool is_http_url(const char *s)
{
	size_t skip = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 : 0;

	return skip && s[skip] && s[skip] != '/' && !has_control(s) && !strchr(s, ' ');
}

/* Sets the value of the sink key @k, at @p. */
static int set_sink_value(struct cde_config_sink *s, const struct sink_key *k, const cJSON *v,
			  const char *path, struct cde_ptr *p, struct cde_errors *errs)
{
	void *dst = (char *)s + k->offset;
	const char *key = cde_ptr_str(p);
	char buf[32];
	const char *text;
	size_t n;

	if (k->kind == V_HEADERS)
		return set_headers(s, v, path, p, errs);
	if (k->kind == V_BOOL) {
		if (!cJSON_IsBool(v))
			return fail_at(errs, path, p, "must be true or false");
		*(bool *)dst = cJSON_IsTrue(v);
		return 0;
	}
	text = scalar_text(v, buf, sizeof(buf));
	if (!text)
		return fail_at(errs, path, p, "must be a single value");
	if (!*text)
		return fail_at(errs, path, p, "must not be empty");
	switch (k->kind) {
	case V_URL:
		if (!is_http_url(text))
			return fail_at(errs, path, p, "\"%s\" is not an http:// or https:// URL", text);
		return copy_bounded(dst, sizeof(s->url), text, path, key, errs);
	case V_MODE:
		if (strcmp(text, "binary") != 0 && strcmp(text, "structured") != 0)
			return fail_at(errs, path, p, "\"%s\" is not binary or structured", text);
		if (s->type == CDE_SINK_TEKTON && strcmp(text, "binary") != 0)
			return fail_at(errs, path, p, "a tekton sink is always binary "
				       "(an EventListener reads the ce- headers)");
		s->structured = strcmp(text, "structured") == 0;
		return 0;
	case V_PATH:
		return copy_bounded(dst, CDE_CONFIG_PATH_MAX, text, path, key, errs);
	case V_DURATION:
		return set_duration(dst, text, path, key, errs);
	case V_COUNT:
		if (cde_config_parse_size(text, &n) < 0 || n == 0 || n > k->max || strpbrk(text, "BkKMG"))
			return fail_at(errs, path, p, "\"%s\" is not a count from 1 to %u", text, k->max);
		*(unsigned *)dst = (unsigned)n;
		return 0;
	case V_AGE:
		if (cde_config_parse_age(text, dst) < 0 || *(uint64_t *)dst == 0)
			return fail_at(errs, path, p, "\"%s\" is not an age (e.g. 24h, 7d, 2w)", text);
		return 0;
	case V_SIZE:
		return set_size(dst, text, path, key, errs);
	case V_HEADERS:
	case V_BOOL:
		break;
	}
	return 0;
}

static int set_sink_name(struct cde_config_sink *s, const cJSON *v, const struct cde_config *cfg, size_t i,
			 const char *path, struct cde_ptr *p, struct cde_errors *errs)
{
	size_t mark = cde_ptr_push(p, "name");
	char buf[32];
	const char *name = scalar_text(v, buf, sizeof(buf));
	int r = 0;

	if (!name || !*name) {
		r = fail_at(errs, path, p, "required (routes name the sink by it)");
	} else if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		   strlen(name)) {
		r = fail_at(errs, path, p, "\"%s\": use letters, digits, '-', '_' and '.'", name);
	} else if (copy_bounded(s->name, sizeof(s->name), name, path, cde_ptr_str(p), errs) < 0) {
		r = -EINVAL;
	} else {
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->sinks[k].name, name) == 0)
				r = fail_at(errs, path, p, "\"%s\" is named twice", name);
	}
	cde_ptr_pop(p, mark);
	return r;
}

/* Reads the sink @i at @p into cfg->sinks[i]. */
static int apply_sink(const cJSON *item, size_t i, const char *path, struct cde_config *cfg, struct cde_ptr *p,
		      struct cde_errors *errs)
{
	struct cde_config_sink *s = &cfg->sinks[i];
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type"), *field;
	bool typed = false;
	size_t mark;
	char buf[32];
	const char *text;
	int r = 0;

	sink_defaults(s);
	if (!cJSON_IsObject(item))
		return fail_at(errs, path, p, "must be a map (name, type, url...)");
	r |= set_sink_name(s, cJSON_GetObjectItemCaseSensitive(item, "name"), cfg, i, path, p, errs);
	mark = cde_ptr_push(p, "type");
	text = scalar_text(type, buf, sizeof(buf));
	for (unsigned t = 0; text && t < 3; t++) {
		if (strcmp(text, sink_types[t]) == 0) {
			s->type = (enum cde_sink_type)t;
			typed = true;
		}
	}
	if (!typed && text)
		r |= fail_at(errs, path, p, "\"%s\" is not tekton, webhook or file", text);
	else if (!typed)
		r |= fail_at(errs, path, p, "required: tekton, webhook or file");
	cde_ptr_pop(p, mark);
	cJSON_ArrayForEach(field, item) {
		const struct sink_key *k = NULL;

		if (strcmp(field->string, "name") == 0 || strcmp(field->string, "type") == 0)
			continue;
		for (size_t n = 0; n < sizeof(sink_keys) / sizeof(sink_keys[0]); n++)
			if (strcmp(field->string, sink_keys[n].name) == 0)
				k = &sink_keys[n];
		mark = cde_ptr_push(p, field->string);
		if (!k)
			r |= fail_at(errs, path, p, "unknown key for a sink");
		else if (typed && !(k->types & 1u << s->type))
			r |= fail_at(errs, path, p, "only for %s sinks, this one is %s",
				     k->types == HTTP_SINKS ? "tekton and webhook" :
				     k->types == WEBHOOK_SINKS ? "webhook" : "file", sink_types[s->type]);
		else if (typed)
			r |= set_sink_value(s, k, field, path, p, errs);
		cde_ptr_pop(p, mark);
	}
	if (typed && s->type != CDE_SINK_FILE && !cJSON_GetObjectItemCaseSensitive(item, "url")) {
		mark = cde_ptr_push(p, "url");
		r |= fail_at(errs, path, p, "required for a %s sink", sink_types[s->type]);
		cde_ptr_pop(p, mark);
	}
	if (typed && s->type == CDE_SINK_FILE && !cJSON_GetObjectItemCaseSensitive(item, "path")) {
		mark = cde_ptr_push(p, "path");
		r |= fail_at(errs, path, p, "required for a file sink");
		cde_ptr_pop(p, mark);
	}
	return r ? -EINVAL : 0;
}

/* The route's sink names, as indexes into the file's @n_sinks sinks. */
static int set_route_sinks(struct cde_config_route *rt, const cJSON *names, const struct cde_config *cfg,
			   size_t n_sinks, const char *path, struct cde_ptr *p, struct cde_errors *errs)
{
	const cJSON *v;
	size_t k = 0;
	int r = 0;

	if (!names)
		return fail_at(errs, path, p, "required: the names of the sinks this route feeds");
	if (!cJSON_IsArray(names) || !names->child)
		return fail_at(errs, path, p, "must be a non-empty list of sink names");
	cJSON_ArrayForEach(v, names) {
		size_t mark = cde_ptr_push_index(p, k++), j = 0;
		char buf[32];
		const char *name = scalar_text(v, buf, sizeof(buf));
		bool twice = false;

		while (name && j < n_sinks && strcmp(cfg->sinks[j].name, name) != 0)
			j++;
		for (size_t m = 0; m < rt->n_sinks; m++)
			twice |= rt->sinks[m] == j;
		if (!name)
			r = fail_at(errs, path, p, "must be a sink name");
		else if (j == n_sinks)
			r = fail_at(errs, path, p, "\"%s\" is not a sink of this file", name);
		else if (twice)
			r = fail_at(errs, path, p, "\"%s\" is named twice", name);
		else if (rt->n_sinks < CDE_CONFIG_SINKS_MAX)
			rt->sinks[rt->n_sinks++] = (unsigned)j;
		cde_ptr_pop(p, mark);
	}
	return r;
}

/* Checks that @spec compiles and keeps it as compact JSON text. */
static int set_route_filter(struct cde_config_route *rt, const cJSON *spec, const char *path,
			    struct cde_ptr *p, struct cde_errors *errs)
{
	struct cde_errors filter_errs;
	struct cde_filter *f = NULL;
	char *text;
	int r;

	cde_errors_reset(&filter_errs);
	r = cde_filter_compile(spec, cde_ptr_str(p), &f, &filter_errs);
	f = cde_filter_free(f);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		for (size_t i = 0; i < filter_errs.count; i++)
			cde_errors_add(errs, filter_errs.items[i].pointer, "%s: %s: %s", path,
				       filter_errs.items[i].pointer, filter_errs.items[i].reason);
		errs->dropped += filter_errs.dropped;
		return -EINVAL;
	}
	text = cJSON_PrintUnformatted(spec);
	if (!text)
		return -ENOMEM;
	if (strlen(text) >= sizeof(rt->filter))
		r = fail_at(errs, path, p, "longer than %zu characters as JSON", sizeof(rt->filter) - 1);
	else
		memcpy(rt->filter, text, strlen(text) + 1);
	cJSON_free(text);
	return r;
}

/* Reads the route @i at @p into cfg->routes[i]; its sinks are the
 * first @n_sinks of cfg->sinks. */
static int apply_route(const cJSON *item, size_t i, size_t n_sinks, const char *path, struct cde_config *cfg,
		       struct cde_ptr *p, struct cde_errors *errs)
{
	struct cde_config_route *rt = &cfg->routes[i];
	const cJSON *field;
	size_t mark;
	int r = 0;

	memset(rt, 0, sizeof(*rt));
	if (!cJSON_IsObject(item))
		return fail_at(errs, path, p, "must be a map (sinks, filter)");
	cJSON_ArrayForEach(field, item) {
		mark = cde_ptr_push(p, field->string);
		if (strcmp(field->string, "sinks") == 0)
			r |= set_route_sinks(rt, field, cfg, n_sinks, path, p, errs);
		else if (strcmp(field->string, "filter") == 0)
			r |= set_route_filter(rt, field, path, p, errs);
		else
			r |= fail_at(errs, path, p, "unknown key for a route (sinks, filter)");
		cde_ptr_pop(p, mark);
		if (r == -ENOMEM)
			return r;
	}
	if (!cJSON_GetObjectItemCaseSensitive(item, "sinks")) {
		mark = cde_ptr_push(p, "sinks");
		r |= set_route_sinks(rt, NULL, cfg, n_sinks, path, p, errs);
		cde_ptr_pop(p, mark);
	}
	return r ? -EINVAL : 0;
}

/* Checks that @list, at @p, is a list of at most @max entries ("sinks:"
 * with nothing after it is an empty one). Returns its length or -EINVAL. */
static int list_length(const cJSON *list, size_t max, const char *what, const char *path,
		       const struct cde_ptr *p, struct cde_errors *errs)
{
	if (cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return fail_at(errs, path, p, "must be a list of %s", what);
	if ((size_t)cJSON_GetArraySize(list) > max)
		return fail_at(errs, path, p, "more than %zu %s", max, what);
	return cJSON_GetArraySize(list);
}

static int apply_fanout(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *sinks = cJSON_GetObjectItemCaseSensitive(doc, "sinks");
	const cJSON *routes = cJSON_GetObjectItemCaseSensitive(doc, "routes");
	struct cde_ptr p;
	size_t mark;
	int n, r = 0;

	cde_ptr_init(&p);
	if (sinks) {
		/* A file that names sinks replaces the list as a whole, and
		 * the routes with it: they point into the list. */
		cfg->n_sinks = 0;
		cfg->n_routes = 0;
		mark = cde_ptr_push(&p, "sinks");
		n = list_length(sinks, CDE_CONFIG_SINKS_MAX, "sinks", path, &p, errs);
		r |= n < 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			size_t at = cde_ptr_push_index(&p, (size_t)i);

			r |= apply_sink(cJSON_GetArrayItem(sinks, i), (size_t)i, path, cfg, &p, errs);
			cfg->n_sinks = (size_t)i + 1;
			cde_ptr_pop(&p, at);
		}
		cde_ptr_pop(&p, mark);
	}
	if (routes) {
		cfg->n_routes = 0;
		mark = cde_ptr_push(&p, "routes");
		n = list_length(routes, CDE_CONFIG_ROUTES_MAX, "routes", path, &p, errs);
		r |= n < 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			size_t at = cde_ptr_push_index(&p, (size_t)i);
			int e = apply_route(cJSON_GetArrayItem(routes, i), (size_t)i, sinks ? cfg->n_sinks : 0,
					    path, cfg, &p, errs);

			if (e == -ENOMEM)
				return e;
			r |= e;
			cfg->n_routes = (size_t)i + 1;
			cde_ptr_pop(&p, at);
		}
		cde_ptr_pop(&p, mark);
	}
	return r ? -EINVAL : 0;
}

/* clusters:, a map from names to cluster descriptions as a sizing
 * request gives them ({provider, nodeCpu, nodeMemory, ...}). The map's
 * keys are the names, so the YAML reader already refuses one given twice. */
static int apply_cluster(const cJSON *item, size_t i, const char *path, struct cde_config *cfg,
			 struct cde_ptr *p, struct cde_errors *errs)
{
	struct cde_config_cluster *c = &cfg->clusters[i];
	struct cde_errors cluster_errs;
	const char *name = item->string;

	memset(c, 0, sizeof(*c));
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		      strlen(name))
		return fail_at(errs, path, p, "\"%s\" is not a cluster name: use letters, digits, '-', '_' "
			       "and '.'", name);
	if (copy_bounded(c->name, sizeof(c->name), name, path, cde_ptr_str(p), errs) < 0)
		return -EINVAL;
	/* The sizing parser reports bare pointers; a loader error also names
	 * the file, as every other one does. */
	cde_errors_reset(&cluster_errs);
	if (cde_sizing_cluster_parse(item, cde_ptr_str(p), &c->cluster, &cluster_errs) == 0)
		return 0;
	for (size_t k = 0; k < cluster_errs.count; k++)
		cde_errors_add(errs, cluster_errs.items[k].pointer, "%s: %s: %s", path,
			       cluster_errs.items[k].pointer, cluster_errs.items[k].reason);
	errs->dropped += cluster_errs.dropped;
	return -EINVAL;
}

static int apply_clusters(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(doc, "clusters"), *item;
	struct cde_ptr p;
	size_t mark, i = 0;
	int r = 0;

	if (!clusters)
		return 0;
	/* A file that names clusters replaces them as a whole, like sinks. */
	cfg->n_clusters = 0;
	cde_ptr_init(&p);
	mark = cde_ptr_push(&p, "clusters");
	if (cJSON_IsNull(clusters)) {
		r = 0;		/* "clusters:" with everything under it commented out */
	} else if (!cJSON_IsObject(clusters)) {
		r = fail_at(errs, path, &p, "must be a map from cluster names to clusters "
			    "({provider, nodeCpu, nodeMemory, ...})");
	} else if (cJSON_GetArraySize(clusters) > CDE_CONFIG_CLUSTERS_MAX) {
		r = fail_at(errs, path, &p, "more than %d clusters", CDE_CONFIG_CLUSTERS_MAX);
	} else {
		cJSON_ArrayForEach(item, clusters) {
			size_t at = cde_ptr_push(&p, item->string);

			r |= apply_cluster(item, i, path, cfg, &p, errs);
			cfg->n_clusters = ++i;
			cde_ptr_pop(&p, at);
		}
	}
	cde_ptr_pop(&p, mark);
	return r ? -EINVAL : 0;
}

int cde_config_cluster_resolve(const cJSON *v, const char *at, const struct cde_config_cluster *clusters,
			       size_t n, struct cde_sizing_cluster *ret, struct cde_errors *errs)
{
	char known[256];
	size_t off = 0;

	if (!cJSON_IsString(v))
		return cde_sizing_cluster_parse(v, at, ret, errs);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(clusters[i].name, v->valuestring) == 0) {
			*ret = clusters[i].cluster;
			return 0;
		}
	}
	/* The names help whoever typed one wrong; they are not secrets. */
	known[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(known); i++) {
		int w = snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "", clusters[i].name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (n)
		cde_errors_add(errs, at, "no cluster named \"%.64s\" in the configuration (clusters: %s)",
			       v->valuestring, known);
	else
		cde_errors_add(errs, at, "no cluster named \"%.64s\": the configuration has no clusters "
			       "(give the cluster as an object)", v->valuestring);
	return -EINVAL;
}

/* The second pass (see the top of this file). Runs on every file: which
 * top-level keys a file has is only known once it has been read. */
static int load_fanout(const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	cJSON *doc;
	int r = cde_yaml_to_json(path, &doc, errs), r2;

	if (r < 0)
		return r;
	r = apply_fanout(doc, path, cfg, errs);
	r2 = apply_clusters(doc, path, cfg, errs);
	if (r == 0 || r2 == -ENOMEM)
		r = r2;
	cJSON_Delete(doc);
	return r;
}

int cde_config_load_file(const char *path, struct cde_config *cfg, struct cde_errors *errs)
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
	FILE *f;
	cyaml_err_t e;
	int r, r2;

	/* An unreadable file is said plainly, not as a YAML error. */
	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		cde_errors_add(errs, "", "%s: %s", path, strerror(-r));
		return r;
	}
	fclose(f);
	e = cyaml_load_file(path, &yaml_cfg, &config_schema, (cyaml_data_t **)&raw, NULL);
	if (e == CYAML_ERR_OOM || e == CYAML_ERR_LIBYAML_PARSER_INIT)
		return -ENOMEM;
	if (e == CYAML_ERR_LIBYAML_PARSER) {
		/* libcyaml does not say when libyaml ran out of memory. Our own
		 * reader does: if the file reads as YAML there, or runs out of
		 * memory there too, this was no syntax error. */
		struct cde_errors ignored;
		cJSON *doc = NULL;
		int y = cde_yaml_to_json(path, &doc, &ignored);

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
	r2 = load_fanout(path, next, errs);
	if (r == 0 || r2 == -ENOMEM)
		r = r2;
	if (r == 0)
		*cfg = *next;
	free(next);
	return r;
}

static bool is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
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
	if (!is_loopback_host(host) && !cfg->auth_none && !cfg->n_principals) {
		cde_errors_add(errs, "/auth", "/auth: listening on %s, which is not loopback, with no principals: "
			       "list principals, or set \"auth: none\" to allow it explicitly", cfg->listen);
		return -EINVAL;
	}
	if (cfg->limits.body_timeout_ms < cfg->limits.head_timeout_ms) {
		cde_errors_add(errs, "/limits/body_timeout", "/limits/body_timeout: must not be shorter than head_timeout: both count from the request's first byte");
		return -EINVAL;
	}
	return 0;
}
