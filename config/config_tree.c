/* The parts of the configuration read from the file as a JSON tree: the
 * sinks:, routes: and clusters: lists, whose maps have keys nobody knows
 * in advance (headers, filters), which libcyaml cannot read into structs.
 * config.c reads everything else and calls in here for the second pass. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"
#include "config/yaml_json.h"
#include "schemas/base/json_read.h"

/* sinks: and routes:, from the file as a JSON tree. */

/* Indexes into cde_config_sink_types. */
enum { TEKTON, WEBHOOK, FILE_SINK, NATS, N_TYPES };

#define HTTP_SINKS (1u << TEKTON | 1u << WEBHOOK)
#define WEBHOOK_SINKS (1u << WEBHOOK)
#define FILE_SINKS (1u << FILE_SINK)
#define NATS_SINKS (1u << NATS)
#define ALL_SINKS (HTTP_SINKS | FILE_SINKS | NATS_SINKS)

enum sink_value { V_URL, V_TEXT, V_MODE, V_HEADERS, V_PATH, V_BOOL, V_DURATION, V_COUNT, V_AGE, V_SIZE, V_RELEASE };

/* The keys of a sink besides name and type, and the types they apply to. */
static const struct sink_key {
	const char *name;
	enum sink_value kind;
	unsigned types;
	size_t offset;		/* in struct cde_config_sink */
	unsigned max;		/* V_COUNT */
} sink_keys[] = {
	{ "url", V_URL, HTTP_SINKS | NATS_SINKS, offsetof(struct cde_config_sink, url), 0 },
	{ "mode", V_MODE, HTTP_SINKS | NATS_SINKS, offsetof(struct cde_config_sink, structured), 0 },
	{ "headers", V_HEADERS, HTTP_SINKS, 0, 0 },
	{ "token_file", V_PATH, WEBHOOK_SINKS | NATS_SINKS, offsetof(struct cde_config_sink, token_file), 0 },
	{ "secret_file", V_PATH, WEBHOOK_SINKS, offsetof(struct cde_config_sink, secret_file), 0 },
	{ "tls_verify", V_BOOL, HTTP_SINKS, offsetof(struct cde_config_sink, tls_verify), 0 },
	{ "timeout", V_DURATION, HTTP_SINKS | NATS_SINKS, offsetof(struct cde_config_sink, timeout_ms), 0 },
	{ "max_in_flight", V_COUNT, ALL_SINKS, offsetof(struct cde_config_sink, max_in_flight), 1024 },
	{ "max_attempts", V_COUNT, ALL_SINKS, offsetof(struct cde_config_sink, max_attempts), 1000000 },
	{ "max_age", V_AGE, ALL_SINKS, offsetof(struct cde_config_sink, max_age_s), 0 },
	{ "max_backoff", V_DURATION, ALL_SINKS, offsetof(struct cde_config_sink, max_backoff_ms), 0 },
	{ "max_retry_after", V_DURATION, HTTP_SINKS, offsetof(struct cde_config_sink, max_retry_after_ms), 0 },
	{ "path", V_PATH, FILE_SINKS, offsetof(struct cde_config_sink, path), 0 },
	{ "rotate_size", V_SIZE, FILE_SINKS, offsetof(struct cde_config_sink, rotate_size), 0 },
	{ "rotate_keep", V_COUNT, FILE_SINKS, offsetof(struct cde_config_sink, rotate_keep), 1000 },
	{ "upgrade_to", V_RELEASE, ALL_SINKS, offsetof(struct cde_config_sink, upgrade_to), 0 },
	{ "checkpoints", V_BOOL, WEBHOOK_SINKS | FILE_SINKS, offsetof(struct cde_config_sink, checkpoints), 0 },
	{ "subject", V_TEXT, NATS_SINKS, offsetof(struct cde_config_sink, subject), CDE_CONFIG_PATH_MAX },
	{ "stream", V_TEXT, NATS_SINKS, offsetof(struct cde_config_sink, stream), CDE_CONFIG_NAME_MAX },
	{ "user_file", V_PATH, NATS_SINKS, offsetof(struct cde_config_sink, user_file), 0 },
	{ "password_file", V_PATH, NATS_SINKS, offsetof(struct cde_config_sink, password_file), 0 },
	{ "creds_file", V_PATH, NATS_SINKS, offsetof(struct cde_config_sink, creds_file), 0 },
	{ "ca_file", V_PATH, NATS_SINKS, offsetof(struct cde_config_sink, ca_file), 0 },
};

/* config/ cannot see the registry of sinks/: daemon/config_load.c checks
 * at load that it has each of these, and test_sink_registry that the keys
 * above are the ones each type's table declares. */
const char *const cde_config_sink_types[] = { "tekton", "webhook", "file", "nats", NULL };

/* Starts a walk over the file @path as read into JSON: every reason
 * reads "FILE: POINTER: reason", types are named as YAML names them,
 * and a key written with nothing after it (null) is a key given a wrong
 * value, not an absent one. */
void cde_config_reader_init(struct cde_json_reader *rd, const char *root, const char *path, struct cde_errors *errs)
{
	cde_json_reader_init(rd, root, errs);
	rd->file = path;
	rd->null_is_a_value = true;
	rd->yaml_words = true;
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

static int set_headers(struct cde_config_sink *s, const cJSON *map, struct cde_json_reader *rd)
{
	const cJSON *h;
	int r = 0;

	if (!cde_json_read_value(rd, map, cJSON_Object, 0, " of header names to values"))
		return -EINVAL;
	if (cJSON_GetArraySize(map) > CDE_CONFIG_HEADERS_MAX)
		return cde_json_reader_fail(rd, NULL, "more than %d headers", CDE_CONFIG_HEADERS_MAX);
	cJSON_ArrayForEach(h, map) {
		size_t mark = cde_ptr_push(&rd->p, h->string), len = strlen(h->string);
		char buf[32];
		const char *value = scalar_text(h, buf, sizeof(buf));
		bool twice = false;

		for (size_t k = 0; k < s->n_headers; k++)
			twice |= strncasecmp(s->headers[k], h->string, len) == 0 && s->headers[k][len] == ':';
		if (!is_token(h->string))
			r = cde_json_reader_fail(rd, NULL, "\"%s\" is not a header name "
						 "(letters, digits, !#$%%&'*+-.^_`|~)",
				    h->string);
		else if (twice)
			r = cde_json_reader_fail(rd, NULL, "named twice (header names ignore case)");
		else if (!value)
			r = cde_json_reader_fail(rd, NULL, "must be a value");
		else if (has_control(value))
			r = cde_json_reader_fail(rd, NULL, "must not hold CR, LF or other control characters");
		else if (len + 2 + strlen(value) >= sizeof(s->headers[0]))
			r = cde_json_reader_fail(rd, NULL, "longer than %zu characters with its name",
				    sizeof(s->headers[0]) - 3);
		else
			snprintf(s->headers[s->n_headers++], sizeof(s->headers[0]), "%s: %s", h->string, value);
		cde_ptr_pop(&rd->p, mark);
	}
	return r;
}

/* A URL of scheme @a or @b ("http://") with a host (cnats: a list). */
static bool is_url(const char *s, const char *a, const char *b)
{
	size_t skip = strncmp(s, a, strlen(a)) == 0 ? strlen(a) : strncmp(s, b, strlen(b)) == 0 ? strlen(b) : 0;

	return skip && s[skip] && s[skip] != '/' && !has_control(s) && !strchr(s, ' ');
}

/* Sets the value of the sink key @k, at the reader's place. */
static int set_sink_value(struct cde_config_sink *s, const struct sink_key *k, const cJSON *v,
			  struct cde_json_reader *rd)
{
	void *dst = (char *)s + k->offset;
	const char *key = cde_ptr_str(&rd->p);
	char buf[32];
	const char *text;
	size_t n;

	if (k->kind == V_HEADERS)
		return set_headers(s, v, rd);
	if (k->kind == V_BOOL) {
		if (!cde_json_read_value(rd, v, CDE_JSON_BOOL, 0, NULL))
			return -EINVAL;
		*(bool *)dst = cJSON_IsTrue(v);
		return 0;
	}
	if (!cde_json_read_value(rd, v, CDE_JSON_SCALAR, 0, NULL))
		return -EINVAL;
	text = scalar_text(v, buf, sizeof(buf));
	if (!*text)
		return cde_json_reader_fail(rd, NULL, "must not be empty");
	switch (k->kind) {
	case V_URL:
		if (strcmp(s->type, cde_config_sink_types[NATS]) == 0) {
			if (!is_url(text, "nats://", "tls://"))
				return cde_json_reader_fail(rd, NULL, "\"%s\" is not a nats:// or tls:// URL", text);
			return cde_config_copy_bounded(dst, sizeof(s->url), text, rd->file, key, rd->errs);
		}
		if (!is_url(text, "http://", "https://"))
			return cde_json_reader_fail(rd, NULL, "\"%s\" is not an http:// or https:// URL", text);
		return cde_config_copy_bounded(dst, sizeof(s->url), text, rd->file, key, rd->errs);
	case V_MODE:
		if (strcmp(text, "binary") != 0 && strcmp(text, "structured") != 0)
			return cde_json_reader_fail(rd, NULL, "\"%s\" is not binary or structured", text);
		if (strcmp(s->type, cde_config_sink_types[TEKTON]) == 0 && strcmp(text, "binary") != 0)
			return cde_json_reader_fail(rd, NULL, "a tekton sink is always binary "
				       "(an EventListener reads the ce- headers)");
		s->structured = strcmp(text, "structured") == 0;
		return 0;
	case V_PATH:
		return cde_config_copy_bounded(dst, CDE_CONFIG_PATH_MAX, text, rd->file, key, rd->errs);
	case V_TEXT:
		if (has_control(text) || strchr(text, ' '))
			return cde_json_reader_fail(rd, NULL, "must not hold spaces or control characters");
		return cde_config_copy_bounded(dst, k->max, text, rd->file, key, rd->errs);
	case V_DURATION:
		return cde_config_set_duration(dst, text, rd->file, key, rd->errs);
	case V_COUNT:
		/* A number is read as every reader reads one; a string is
		 * what YAML makes of "16" in quotes. */
		if (cJSON_IsNumber(v))
			n = v->valuedouble >= 1 && v->valuedouble <= k->max &&
			    cde_json_is_whole(v->valuedouble) ? (size_t)v->valuedouble : 0;
		else if (cde_config_parse_size(text, &n) < 0 || strpbrk(text, "BkKMG"))
			n = 0;
		if (n == 0 || n > k->max)
			return cde_json_reader_fail(rd, NULL, "\"%s\" is not a count from 1 to %u", text, k->max);
		*(unsigned *)dst = (unsigned)n;
		return 0;
	case V_AGE:
		if (cde_config_parse_age(text, dst) < 0 || *(uint64_t *)dst == 0)
			return cde_json_reader_fail(rd, NULL, "\"%s\" is not an age (e.g. 24h, 7d, 2w)", text);
		return 0;
	case V_SIZE:
		return cde_config_set_size(dst, text, rd->file, key, rd->errs);
	case V_RELEASE:
		/* The one release events/upgrade.c maps to (CDE_UPGRADE_TARGET). */
		if (strcmp(text, "0.5.1") != 0)
			return cde_json_reader_fail(rd, NULL, "\"%s\" is not a release events can be upgraded to "
						    "(only \"0.5.1\")", text);
		return cde_config_copy_bounded(dst, sizeof(s->upgrade_to), text, rd->file, key, rd->errs);
	case V_HEADERS:
	case V_BOOL:
		break;
	}
	return 0;
}

static int set_sink_name(struct cde_config_sink *s, const cJSON *v, const struct cde_config *cfg, size_t i,
			 struct cde_json_reader *rd)
{
	size_t mark = cde_ptr_push(&rd->p, "name");
	char buf[32];
	const char *name = scalar_text(v, buf, sizeof(buf));
	int r = 0;

	if (!name || !*name) {
		r = cde_json_reader_fail(rd, NULL, "required (routes name the sink by it)");
	} else if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		   strlen(name)) {
		r = cde_json_reader_fail(rd, NULL, "\"%s\": use letters, digits, '-', '_' and '.'", name);
	} else if (cde_config_copy_bounded(s->name, sizeof(s->name), name, rd->file, cde_ptr_str(&rd->p),
					   rd->errs) < 0) {
		r = -EINVAL;
	} else {
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->sinks[k].name, name) == 0)
				r = cde_json_reader_fail(rd, NULL, "\"%s\" is named twice", name);
	}
	cde_ptr_pop(&rd->p, mark);
	return r;
}

/* "tekton and webhook": the types of the mask @types, for a message. */
static const char *types_named(unsigned types, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned t = 0; t < N_TYPES && len < size; t++) {
		if (!(types & 1u << t))
			continue;
		types &= ~(1u << t);
		len += (size_t)snprintf(buf + len, size - len, "%s%s", !len ? "" : types ? ", " : " and ",
					cde_config_sink_types[t]);
	}
	return buf;
}

/* Reads the sink @i at the reader's place into cfg->sinks[i]. */
static int apply_sink(const cJSON *item, size_t i, struct cde_config *cfg, struct cde_json_reader *rd)
{
	struct cde_config_sink *s = &cfg->sinks[i];
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type"), *field;
	bool typed = false;
	unsigned t = 0;
	size_t mark;
	char buf[32], names[64];
	const char *text;
	int r = 0;

	sink_defaults(s);
	if (!cde_json_read_value(rd, item, cJSON_Object, 0, " (name, type, url...)"))
		return -EINVAL;
	/* name and type are not the reader's typed reads: anything that is
	 * not a usable scalar, a list or a map as much as null, has always
	 * read "required" here, where the reader would say "must be a single
	 * value". */
	r |= set_sink_name(s, cJSON_GetObjectItemCaseSensitive(item, "name"), cfg, i, rd);
	mark = cde_ptr_push(&rd->p, "type");
	text = scalar_text(type, buf, sizeof(buf));
	for (unsigned n = 0; text && n < N_TYPES; n++) {
		if (strcmp(text, cde_config_sink_types[n]) == 0) {
			snprintf(s->type, sizeof(s->type), "%s", text);
			t = n;
			typed = true;
		}
	}
	if (!typed && text)
		r |= cde_json_reader_fail(rd, NULL, "\"%s\" is not tekton, webhook, file or nats", text);
	else if (!typed)
		r |= cde_json_reader_fail(rd, NULL, "required: tekton, webhook, file or nats");
	cde_ptr_pop(&rd->p, mark);
	cJSON_ArrayForEach(field, item) {
		const struct sink_key *k = NULL;

		if (strcmp(field->string, "name") == 0 || strcmp(field->string, "type") == 0)
			continue;
		for (size_t n = 0; n < sizeof(sink_keys) / sizeof(sink_keys[0]); n++)
			if (strcmp(field->string, sink_keys[n].name) == 0)
				k = &sink_keys[n];
		mark = cde_ptr_push(&rd->p, field->string);
		if (!k)
			r |= cde_json_reader_fail(rd, NULL, "unknown key for a sink");
		else if (typed && !(k->types & 1u << t))
			r |= cde_json_reader_fail(rd, NULL, "only for %s sinks, this one is %s",
				     types_named(k->types, names, sizeof(names)), s->type);
		else if (typed)
			r |= set_sink_value(s, k, field, rd);
		cde_ptr_pop(&rd->p, mark);
	}
	if (typed && t != FILE_SINK && !cJSON_GetObjectItemCaseSensitive(item, "url")) {
		r |= cde_json_reader_fail(rd, "url", "required for a %s sink", s->type);
	}
	if (typed && t == FILE_SINK && !cJSON_GetObjectItemCaseSensitive(item, "path")) {
		r |= cde_json_reader_fail(rd, "path", "required for a file sink");
	}
	return r ? -EINVAL : 0;
}

/* The route's sink names, as indexes into the file's @n_sinks sinks. */
static int set_route_sinks(struct cde_config_route *rt, const cJSON *names, const struct cde_config *cfg,
			   size_t n_sinks, struct cde_json_reader *rd)
{
	const cJSON *v;
	size_t k = 0;
	int r = 0;

	if (!names)
		return cde_json_reader_fail(rd, NULL, "required: the names of the sinks this route feeds");
	if (!cde_json_read_value(rd, names, cJSON_Array, CDE_JSON_NON_EMPTY, " of sink names"))
		return -EINVAL;
	/* An entry that is no scalar is "not a sink name", more to the point
	 * than the reader's "must be a single value". */
	cJSON_ArrayForEach(v, names) {
		size_t mark = cde_ptr_push_index(&rd->p, k++), j = 0;
		char buf[32];
		const char *name = scalar_text(v, buf, sizeof(buf));
		bool twice = false;

		while (name && j < n_sinks && strcmp(cfg->sinks[j].name, name) != 0)
			j++;
		for (size_t m = 0; m < rt->n_sinks; m++)
			twice |= rt->sinks[m] == j;
		if (!name)
			r = cde_json_reader_fail(rd, NULL, "must be a sink name");
		else if (j == n_sinks)
			r = cde_json_reader_fail(rd, NULL, "\"%s\" is not a sink of this file", name);
		else if (twice)
			r = cde_json_reader_fail(rd, NULL, "\"%s\" is named twice", name);
		else if (rt->n_sinks < CDE_CONFIG_SINKS_MAX)
			rt->sinks[rt->n_sinks++] = (unsigned)j;
		cde_ptr_pop(&rd->p, mark);
	}
	return r;
}

/* Keeps @spec as compact JSON text; that it compiles is checked by the
 * daemon (daemon/config_load.c), since filters are the delivery layer's. */
static int set_route_filter(struct cde_config_route *rt, const cJSON *spec, struct cde_json_reader *rd)
{
	char *text;
	int r = 0;

	/* Said as the filter compiler says it of a filter inside one. */
	if (!cJSON_IsObject(spec))
		return cde_json_reader_fail(rd, NULL, "a filter is an object");
	text = cJSON_PrintUnformatted(spec);
	if (!text)
		return -ENOMEM;
	if (strlen(text) >= sizeof(rt->filter))
		r = cde_json_reader_fail(rd, NULL, "longer than %zu characters as JSON", sizeof(rt->filter) - 1);
	else
		memcpy(rt->filter, text, strlen(text) + 1);
	cJSON_free(text);
	return r;
}

/* Reads the route @i at the reader's place into cfg->routes[i]; its
 * sinks are the first @n_sinks of cfg->sinks. */
static int apply_route(const cJSON *item, size_t i, size_t n_sinks, struct cde_config *cfg,
		       struct cde_json_reader *rd)
{
	struct cde_config_route *rt = &cfg->routes[i];
	const cJSON *field;
	size_t mark;
	int r = 0;

	memset(rt, 0, sizeof(*rt));
	if (!cde_json_read_value(rd, item, cJSON_Object, 0, " (sinks, filter)"))
		return -EINVAL;
	cJSON_ArrayForEach(field, item) {
		mark = cde_ptr_push(&rd->p, field->string);
		if (strcmp(field->string, "sinks") == 0)
			r |= set_route_sinks(rt, field, cfg, n_sinks, rd);
		else if (strcmp(field->string, "filter") == 0)
			r |= set_route_filter(rt, field, rd);
		else
			r |= cde_json_reader_fail(rd, NULL, "unknown key for a route (sinks, filter)");
		cde_ptr_pop(&rd->p, mark);
		if (r == -ENOMEM)
			return r;
	}
	if (!cJSON_GetObjectItemCaseSensitive(item, "sinks")) {
		mark = cde_ptr_push(&rd->p, "sinks");
		r |= set_route_sinks(rt, NULL, cfg, n_sinks, rd);
		cde_ptr_pop(&rd->p, mark);
	}
	return r ? -EINVAL : 0;
}

/* Checks that @list, at the reader's place, is a list of at most @max
 * entries ("sinks:" with nothing after it is an empty one). Returns its length or -EINVAL. */
static int list_length(const cJSON *list, size_t max, const char *what, struct cde_json_reader *rd)
{
	char hint[32];

	if (cJSON_IsNull(list))
		return 0;
	snprintf(hint, sizeof(hint), " of %s", what);
	if (!cde_json_read_value(rd, list, cJSON_Array, 0, hint))
		return -EINVAL;
	if ((size_t)cJSON_GetArraySize(list) > max)
		return cde_json_reader_fail(rd, NULL, "more than %zu %s", max, what);
	return cJSON_GetArraySize(list);
}

static int apply_fanout(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *sinks = cJSON_GetObjectItemCaseSensitive(doc, "sinks");
	const cJSON *routes = cJSON_GetObjectItemCaseSensitive(doc, "routes");
	struct cde_json_reader reader;
	size_t mark;
	int n, r = 0;

	cde_config_reader_init(&reader, "", path, errs);
	if (sinks) {
		/* A file that names sinks replaces the list as a whole, and
		 * the routes with it: they point into the list. */
		cfg->n_sinks = 0;
		cfg->n_routes = 0;
		mark = cde_ptr_push(&reader.p, "sinks");
		n = list_length(sinks, CDE_CONFIG_SINKS_MAX, "sinks", &reader);
		r |= n < 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			size_t at = cde_ptr_push_index(&reader.p, (size_t)i);

			r |= apply_sink(cJSON_GetArrayItem(sinks, i), (size_t)i, cfg, &reader);
			cfg->n_sinks = (size_t)i + 1;
			cde_ptr_pop(&reader.p, at);
		}
		cde_ptr_pop(&reader.p, mark);
	}
	if (routes) {
		cfg->n_routes = 0;
		mark = cde_ptr_push(&reader.p, "routes");
		n = list_length(routes, CDE_CONFIG_ROUTES_MAX, "routes", &reader);
		r |= n < 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			size_t at = cde_ptr_push_index(&reader.p, (size_t)i);
			int e = apply_route(cJSON_GetArrayItem(routes, i), (size_t)i, sinks ? cfg->n_sinks : 0,
					    cfg, &reader);

			if (e == -ENOMEM)
				return e;
			r |= e;
			cfg->n_routes = (size_t)i + 1;
			cde_ptr_pop(&reader.p, at);
		}
		cde_ptr_pop(&reader.p, mark);
	}
	return r ? -EINVAL : 0;
}

/* The second pass (see the top of this file). Runs on every file: which
 * top-level keys a file has is only known once it has been read. */
int cde_config_load_tree(const char *path, const char *text, size_t len, struct cde_config *cfg,
			 struct cde_errors *errs)
{
	cJSON *doc;
	int r = cde_yaml_to_json(path, text, len, &doc, errs), r2;

	if (r < 0)
		return r;
	r = apply_fanout(doc, path, cfg, errs);
	r2 = cde_config_apply_clusters(doc, path, cfg, errs);
	if (r == 0 || r2 == -ENOMEM)
		r = r2;
	r2 = cde_config_apply_schemas(doc, path, cfg, errs);
	if (r == 0)
		r = r2;
	r2 = cde_config_apply_storage(doc, path, cfg, errs);
	if (r == 0)
		r = r2;
	r2 = cde_config_apply_dora(doc, path, cfg, errs);
	if (r == 0)
		r = r2;
	r2 = cde_config_apply_gates(doc, path, cfg, errs);
	if (r == 0 || r2 == -ENOMEM)
		r = r2;
	r2 = cde_config_apply_tickets(doc, path, cfg, errs);
	if (r == 0)
		r = r2;
	cJSON_Delete(doc);
	return r;
}
