/* The `principals:` entries of the configuration: who may call the API,
 * with which scopes, proven by which secret (named here, read by the
 * daemon), and under which sources their events must lie. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

static int apply_scopes(const struct raw_principal *rp, size_t i, const char *path,
			struct cde_config_principal *p, struct cde_errors *errs)
{
	static const char *const scope_names[] = { "emit", "query" };
	char key[96];
	int r = 0;

	p->scopes = rp->scopes_count ? 0 : CDE_SCOPE_EMIT;
	for (unsigned k = 0; k < rp->scopes_count; k++) {
		unsigned bit = 0;

		for (unsigned b = 0; b < sizeof(scope_names) / sizeof(scope_names[0]); b++)
			if (strcmp(rp->scopes[k], scope_names[b]) == 0)
				bit = 1u << b;
		snprintf(key, sizeof(key), "/principals/%zu/scopes/%u", i, k);
		if (!bit && strcmp(rp->scopes[k], "admin") == 0) {
			cde_errors_add(errs, key, "%s: %s: there is no \"admin\" scope: every operation is emit "
				       "(posting) or query (the audit log, /metrics, /v1/sinks)", path, key);
			r = -EINVAL;
		} else if (!bit) {
			cde_errors_add(errs, key, "%s: %s: \"%s\" is not one of emit, query", path, key,
				       rp->scopes[k]);
			r = -EINVAL;
		}
		p->scopes |= bit;
	}
	return r;
}

/* sources: each a URI reference as events carry it in context.source,
 * kept without a trailing '/' so that "/jenkins/" and "/jenkins" mean the
 * same: that path and what lies under it. */
static int apply_sources(const struct raw_principal *rp, size_t i, const char *path,
			 struct cde_config_principal *p, struct cde_errors *errs)
{
	char key[96];
	int r = 0;

	for (unsigned k = 0; k < rp->sources_count; k++) {
		const char *s = rp->sources[k];
		size_t len = strlen(s);
		bool bad = len == 0;

		for (const char *c = s; *c; c++)
			bad = bad || (unsigned char)*c <= ' ' || *c == 0x7f;
		snprintf(key, sizeof(key), "/principals/%zu/sources/%u", i, k);
		if (bad) {
			cde_errors_add(errs, key, "%s: %s: \"%s\": a source is a URI reference without spaces, "
				       "as events carry it (\"/github\")", path, key, s);
			r = -EINVAL;
			continue;
		}
		while (len > 1 && s[len - 1] == '/')
			len--;
		memcpy(p->sources[k], s, len);
		p->sources[k][len] = '\0';
	}
	p->n_sources = rp->sources_count;
	return r;
}

static int apply_secrets(const struct raw_principal *rp, size_t i, const char *path,
			 struct cde_config_principal *p, struct cde_errors *errs)
{
	char key[96];
	int r = 0;

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
		r |= cde_config_copy_bounded(p->token_file, sizeof(p->token_file), rp->token_file, path, key, errs);
	if (rp->token_env)
		r |= cde_config_copy_bounded(p->token_env, sizeof(p->token_env), rp->token_env, path, key, errs);
	if (rp->github_secret_file)
		r |= cde_config_copy_bounded(p->github_secret_file, sizeof(p->github_secret_file),
					     rp->github_secret_file, path, key, errs);
	for (unsigned k = 0; k < rp->webhook_secret_files_count; k++)
		r |= cde_config_copy_bounded(p->webhook_secret_files[k], sizeof(p->webhook_secret_files[k]),
					     rp->webhook_secret_files[k], path, key, errs);
	p->n_webhook_secret_files = rp->webhook_secret_files_count;
	return r;
}

int cde_config_apply_principal(const struct raw_principal *rp, size_t i, const char *path,
			       struct cde_config_principal *p, const struct cde_config *cfg,
			       struct cde_errors *errs)
{
	char key[96];
	int r = 0;

	memset(p, 0, sizeof(*p));
	snprintf(key, sizeof(key), "/principals/%zu/name", i);
	if (!rp->name || !*rp->name) {
		cde_errors_add(errs, key, "%s: %s: required (it names who sent each event)", path, key);
		return -EINVAL;
	}
	for (const char *c = rp->name; *c; c++) {
		if (!cde_config_is_name_char(*c)) {
			cde_errors_add(errs, key, "%s: %s: \"%s\": use letters, digits, '-', '_' and '.'",
				       path, key, rp->name);
			return -EINVAL;
		}
	}
	r |= cde_config_copy_bounded(p->name, sizeof(p->name), rp->name, path, key, errs);
	for (size_t k = 0; k < i; k++) {
		if (strcmp(cfg->principals[k].name, rp->name) == 0) {
			cde_errors_add(errs, key, "%s: %s: \"%s\" is named twice", path, key, rp->name);
			r = -EINVAL;
		}
	}
	r |= apply_scopes(rp, i, path, p, errs);
	r |= apply_secrets(rp, i, path, p, errs);
	r |= apply_sources(rp, i, path, p, errs);
	return r ? -EINVAL : 0;
}
