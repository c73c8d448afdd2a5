/* Authentication. Tokens are kept only as SHA-256 digests and compared
 * with CRYPTO_memcmp against every principal, so neither the time taken
 * nor an early exit tells an attacker how close a guess was or which
 * principal exists. Signed requests are verified on the raw body before
 * anything parses it; what they signed is remembered per principal
 * (daemon/replay.c) so that the same request is not accepted twice. */

#include "daemon/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "daemon/replay.h"
#include "events/signatures.h"
#include "schemas/base/read_file.h"

#define SECRET_FILE_MAX 4096
/* A webhook-id is needed only while its timestamp would be accepted. */
#define REPLAY_WINDOW_S (2 * CDE_AUTH_WEBHOOK_TOLERANCE_S)

struct principal {
	char name[CDE_CONFIG_NAME_MAX];
	unsigned scopes;
	bool has_token;
	uint8_t token_digest[32];
	size_t github_len;
	uint8_t github[SECRET_FILE_MAX];
	size_t n_webhook_keys;
	size_t webhook_key_len[CDE_CONFIG_SECRETS_MAX];
	uint8_t webhook_keys[CDE_CONFIG_SECRETS_MAX][CDE_SIG_KEY_MAX];
	size_t n_sources;	/* 0: any source */
	char sources[CDE_CONFIG_SOURCES_MAX][CDE_CONFIG_PATH_MAX];
};

struct cde_auth {
	size_t n;
	struct principal *principals;
	struct cde_replay *replay;
};

/* Reads a secret file into @out (see cde_read_secret). Returns the
 * length or -errno. */
static int read_secret(const char *path, uint8_t *out, size_t max)
{
	char *buf;
	size_t len;
	int r = cde_read_secret(path, max, &buf, &len);

	if (r < 0)
		return r;
	memcpy(out, buf, len);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return (int)len;
}

/* "principal ci: token_file /x: <why>"; a file others may read also
 * gets its mode, so the fix is plain. */
static void secret_error(struct cde_errors *errs, const char *who, const char *what, const char *path,
			 int r)
{
	struct stat st;

	if (r == -EPERM && stat(path, &st) == 0)
		cde_errors_add(errs, "", "principal %s: %s %s: mode %04o: %s", who, what, path,
			       (unsigned)(st.st_mode & 07777), cde_read_secret_strerror(r));
	else
		cde_errors_add(errs, "", "principal %s: %s %s: %s", who, what, path, cde_read_secret_strerror(r));
}

static int load_token(const struct cde_config_principal *cp, struct principal *p, struct cde_errors *errs)
{
	uint8_t secret[SECRET_FILE_MAX];
	const char *v = NULL;
	size_t len;
	int r;

	if (cp->token_file[0]) {
		int n = read_secret(cp->token_file, secret, sizeof(secret));

		if (n < 0) {
			secret_error(errs, cp->name, "token_file", cp->token_file, n);
			return -EINVAL;
		}
		v = (const char *)secret;
		len = (size_t)n;
	} else if (cp->token_env[0]) {
		v = getenv(cp->token_env);
		if (!v || !*v) {
			cde_errors_add(errs, "", "principal %s: token_env %s is not set", cp->name, cp->token_env);
			return -EINVAL;
		}
		len = strlen(v);
	} else {
		return 0;
	}
	/* A short token can be guessed; `openssl rand -hex 32` makes one. */
	if (len < CDE_AUTH_TOKEN_MIN) {
		cde_errors_add(errs, "", "principal %s: %s %s: a token has at least %d characters "
			       "(make one with: openssl rand -hex 32)", cp->name,
			       cp->token_file[0] ? "token_file" : "token_env",
			       cp->token_file[0] ? cp->token_file : cp->token_env, CDE_AUTH_TOKEN_MIN);
		OPENSSL_cleanse(secret, sizeof(secret));
		return -EINVAL;
	}
	r = cde_sig_sha256(v, len, p->token_digest);
	p->has_token = r == 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r < 0)
		cde_errors_add(errs, "", "principal %s: out of memory hashing its token", cp->name);
	return r;
}

static int load_signing_keys(const struct cde_config_principal *cp, struct principal *p,
			     struct cde_errors *errs)
{
	int n, r = 0;

	if (cp->github_secret_file[0]) {
		n = read_secret(cp->github_secret_file, p->github, sizeof(p->github));
		if (n < 0) {
			secret_error(errs, cp->name, "github_secret_file", cp->github_secret_file, n);
			r = -EINVAL;
		} else {
			p->github_len = (size_t)n;
		}
	}
	for (size_t i = 0; i < cp->n_webhook_secret_files; i++) {
		char text[SECRET_FILE_MAX + 1];

		n = read_secret(cp->webhook_secret_files[i], (uint8_t *)text, SECRET_FILE_MAX);
		if (n < 0) {
			secret_error(errs, cp->name, "webhook secret", cp->webhook_secret_files[i], n);
			r = -EINVAL;
			continue;
		}
		text[n] = '\0';
		n = cde_sig_standard_decode_secret(text, p->webhook_keys[p->n_webhook_keys]);
		OPENSSL_cleanse(text, sizeof(text));
		if (n < 0) {
			cde_errors_add(errs, "", "principal %s: webhook secret %s: not a whsec_<base64> secret",
				       cp->name, cp->webhook_secret_files[i]);
			r = -EINVAL;
			continue;
		}
		p->webhook_key_len[p->n_webhook_keys++] = (size_t)n;
	}
	return r;
}

static int load_principal(const struct cde_config_principal *cp, struct principal *p,
			  struct cde_errors *errs)
{
	int r = 0;

	memcpy(p->name, cp->name, sizeof(p->name));
	p->scopes = cp->scopes;
	p->n_sources = cp->n_sources;
	memcpy(p->sources, cp->sources, sizeof(p->sources));
	r |= load_token(cp, p, errs);
	r |= load_signing_keys(cp, p, errs);
	return r ? -EINVAL : 0;
}

static bool same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen && alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

/* Two principals with one secret would make the later one win every
 * match, and the audit log name the wrong sender: refused. */
static int check_distinct(const struct principal *a, const struct principal *b, struct cde_errors *errs)
{
	const char *what = NULL;

	if (a->has_token && b->has_token && CRYPTO_memcmp(a->token_digest, b->token_digest, 32) == 0)
		what = "token";
	if (same_key(a->github, a->github_len, b->github, b->github_len))
		what = "GitHub secret";
	for (size_t i = 0; i < a->n_webhook_keys; i++)
		for (size_t k = 0; k < b->n_webhook_keys; k++)
			if (same_key(a->webhook_keys[i], a->webhook_key_len[i], b->webhook_keys[k],
				     b->webhook_key_len[k]))
				what = "webhook secret";
	if (!what)
		return 0;
	cde_errors_add(errs, "", "principals %s and %s have the same %s: give each its own", a->name, b->name,
		       what);
	return -EINVAL;
}

int cde_auth_new(const struct cde_config *cfg, struct cde_auth **ret, struct cde_errors *errs)
{
	struct cde_auth *a = calloc(1, sizeof(*a));
	char err[8];
	int r = 0;

	if (!a)
		return -ENOMEM;
	a->n = cfg->n_principals;
	if (a->n) {
		a->principals = calloc(a->n, sizeof(*a->principals));
		if (!a->principals) {
			free(a);
			return -ENOMEM;
		}
	}
	if (cde_replay_open(NULL, CDE_AUTH_REPLAY_MAX, 0, &a->replay, err, sizeof(err)) < 0) {
		cde_auth_free(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->n; i++)
		if (load_principal(&cfg->principals[i], &a->principals[i], errs) < 0)
			r = -EINVAL;
	for (size_t i = 0; r == 0 && i < a->n; i++)
		for (size_t k = i + 1; k < a->n; k++)
			if (check_distinct(&a->principals[i], &a->principals[k], errs) < 0)
				r = -EINVAL;
	if (r < 0) {
		cde_auth_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

int cde_auth_open_replays(struct cde_auth *a, const char *state_dir, time_t now, char *err, size_t err_size)
{
	struct cde_replay *r;
	int e = cde_replay_open(state_dir, CDE_AUTH_REPLAY_MAX, now, &r, err, err_size);

	if (e < 0)
		return e;
	cde_replay_free(a->replay);
	a->replay = r;
	return 0;
}

struct cde_auth *cde_auth_free(struct cde_auth *a)
{
	if (!a)
		return NULL;
	if (a->principals) {
		OPENSSL_cleanse(a->principals, a->n * sizeof(*a->principals));
		free(a->principals);
	}
	cde_replay_free(a->replay);
	free(a);
	return NULL;
}

void cde_auth_keep_replays(struct cde_auth *to, struct cde_auth *from)
{
	cde_replay_free(to->replay);
	to->replay = from->replay;
	from->replay = NULL;
}

static bool under(const char *source, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(source, base, n) != 0)
		return false;
	if (source[n] == '\0' || base[n - 1] == '/')
		return true;
	return source[n] == '/';
}

/* A path segment "." or "..", plain or percent-encoded, would let a
 * source under an allowed one name another once normalized. */
static bool has_dot_segment(const char *s)
{
	while (*s) {
		size_t len = strcspn(s, "/?#");
		size_t dots = 0, i = 0;

		while (i < len) {
			if (s[i] == '.')
				i++;
			else if (len - i >= 3 && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e')
				i += 3;
			else
				break;
			dots++;
		}
		if (i == len && (dots == 1 || dots == 2))
			return true;
		if (s[len] != '/')
			return false;
		s += len + 1;
	}
	return false;
}

bool cde_auth_source_allowed(const struct cde_auth *a, const char *principal, const char *source)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct principal *p = &a->principals[i];

		if (strcmp(p->name, principal) != 0)
			continue;
		if (p->n_sources == 0)
			return true;
		if (has_dot_segment(source))
			return false;
		for (size_t k = 0; k < p->n_sources; k++)
			if (under(source, p->sources[k]))
				return true;
		return false;
	}
	return a->n == 0; /* anonymous: no principals, no restriction */
}

bool cde_auth_is_open(const struct cde_auth *a)
{
	return a->n == 0;
}

static void allow(const struct principal *p, unsigned scope, struct cde_auth_result *out)
{
	snprintf(out->principal, sizeof(out->principal), "%s", p->name);
	if ((p->scopes & scope) != scope) {
		out->status = 403;
		out->reason = "this principal's scopes do not allow this request";
	} else {
		out->status = 0;
		out->reason = NULL;
	}
}

static void deny(struct cde_auth_result *out, const char *reason)
{
	out->status = 401;
	out->reason = reason;
	out->principal[0] = '\0';
}

static void check_bearer(struct cde_auth *a, const char *value, unsigned scope,
			 struct cde_auth_result *out)
{
	uint8_t digest[32];
	const struct principal *found = NULL;

	if (strncasecmp(value, "Bearer ", 7) != 0 || !value[7]) {
		deny(out, "Authorization must be \"Bearer <token>\"");
		return;
	}
	if (cde_sig_sha256(value + 7, strlen(value + 7), digest) < 0) {
		deny(out, "the token could not be checked (out of memory)");
		return;
	}
	/* No early exit: every principal is compared. */
	for (size_t i = 0; i < a->n; i++)
		if (a->principals[i].has_token &&
		    CRYPTO_memcmp(a->principals[i].token_digest, digest, 32) == 0)
			found = &a->principals[i];
	if (found)
		allow(found, scope, out);
	else
		deny(out, "unknown token");
}

/* Records what @out's principal signed (@key, until @expires) unless this
 * is a dry run, which only looks it up. The key stays pending until the
 * request is answered with success (cde_auth_confirm); a request that
 * only reads (@scope without emit) is confirmed at once. A copy of a
 * request already answered is a re-send: CDE_AUTH_RESENT, answered as a
 * duplicate so that an at-least-once sender stops retrying; a copy of one
 * still being handled is told to retry. */
/* A signed request whose id cannot be hashed cannot be remembered, so its
 * replay could not be told: refused, to be sent again. */
static void forget_nothing(struct cde_auth_result *out)
{
	out->status = 503;
	out->reason = "out of memory while remembering this signed request: retry shortly";
}

static void remember(struct cde_auth *a, const uint8_t key[32], time_t expires, time_t now, unsigned scope,
		     struct cde_auth_result *out)
{
	int r;

	if (out->dry_run)
		r = cde_replay_seen(a->replay, out->principal, key, now) ? -EEXIST : 0;
	else
		r = cde_replay_remember(a->replay, out->principal, key, expires, now);
	switch (r) {
	case 0:
		memcpy(out->replay_key, key, 32);
		out->has_replay_key = true;
		out->replay_used = !out->dry_run;
		if (out->replay_used && !(scope & CDE_SCOPE_EMIT))
			cde_auth_confirm(a, out, now);
		break;
	case -EEXIST:
		out->status = CDE_AUTH_RESENT;
		out->reason = "this signed request was accepted before: nothing new was stored";
		break;
	case -EBUSY:
		out->status = 503;
		out->reason = "the first copy of this signed request is still being stored: retry shortly";
		break;
	default:
		out->status = 429;
		out->reason = "this principal's signed requests of the last minutes fill the daemon's memory "
			      "of them: retry later";
	}
}

void cde_auth_confirm(struct cde_auth *a, struct cde_auth_result *who, time_t now)
{
	if (who->replay_used)
		cde_replay_confirm(a->replay, who->principal, who->replay_key, now);
	who->replay_used = false;
}

void cde_auth_forget(struct cde_auth *a, const struct cde_auth_result *who)
{
	if (who->replay_used)
		cde_replay_forget(a->replay, who->principal, who->replay_key);
}

/* A Standard Webhooks timestamp within the tolerance of @now. */
static bool timestamp_fresh(const char *ts, time_t now)
{
	char *end;
	long long t = strtoll(ts, &end, 10);

	return !*end && end != ts && t >= now - CDE_AUTH_WEBHOOK_TOLERANCE_S &&
	       t <= now + CDE_AUTH_WEBHOOK_TOLERANCE_S;
}

static void check_standard_webhook(struct cde_auth *a, const struct cde_http_request *req,
				   unsigned scope, time_t now, struct cde_auth_result *out)
{
	const char *id = cde_http_request_header(req, "webhook-id");
	const char *ts = cde_http_request_header(req, "webhook-timestamp");
	const char *sig = cde_http_request_header(req, "webhook-signature");
	const struct principal *found = NULL;
	size_t len;
	const char *body = cde_http_request_body(req, &len);
	char key[300];
	uint8_t digest[32];

	if (!id || !*id || !ts || !sig) {
		deny(out, "a signed request needs webhook-id, webhook-timestamp and webhook-signature");
		return;
	}
	if (!timestamp_fresh(ts, now)) {
		deny(out, "webhook-timestamp is not within 5 minutes of now");
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct principal *p = &a->principals[i];

		for (size_t k = 0; k < p->n_webhook_keys; k++)
			if (cde_sig_standard_verify(p->webhook_keys[k], p->webhook_key_len[k], id, ts, body,
						    len, sig))
				found = p;
	}
	if (!found) {
		deny(out, "webhook-signature does not match");
		return;
	}
	allow(found, scope, out);
	if (out->status)
		return; /* a refused request uses up no id */
	/* Only verified, allowed ids are remembered: others cannot evict
	 * them. */
	snprintf(key, sizeof(key), "webhook-id\n%.256s", id);
	if (cde_sig_sha256(key, strlen(key), digest) < 0)
		forget_nothing(out);
	else
		remember(a, digest, now + REPLAY_WINDOW_S, now, scope, out);
}

/* GitHub signs the body alone (X-GitHub-Delivery is not covered), so the
 * body is what a replay repeats: its digest is remembered. */
static void check_github(struct cde_auth *a, const struct cde_http_request *req, const char *sig,
			 unsigned scope, time_t now, struct cde_auth_result *out)
{
	const struct principal *found = NULL;
	size_t len;
	const char *body = cde_http_request_body(req, &len);
	uint8_t key[32 + 8];

	for (size_t i = 0; i < a->n; i++)
		if (a->principals[i].github_len &&
		    cde_sig_github_verify(a->principals[i].github, a->principals[i].github_len, body, len, sig))
			found = &a->principals[i];
	if (!found) {
		deny(out, "X-Hub-Signature-256 does not match");
		return;
	}
	allow(found, scope, out);
	if (out->status)
		return;
	memcpy(key + 32, "github\n", 8);
	if (cde_sig_sha256(body, len, key) < 0 || cde_sig_sha256(key, sizeof(key), key) < 0)
		forget_nothing(out);
	else
		remember(a, key, now + CDE_AUTH_GITHUB_REPLAY_S, now, scope, out);
}

/* Whether some principal holds a GitHub secret (@webhook false) or a
 * Standard Webhooks key (@webhook true). */
static bool has_signing_secret(const struct cde_auth *a, bool webhook)
{
	for (size_t i = 0; i < a->n; i++)
		if (webhook ? a->principals[i].n_webhook_keys > 0 : a->principals[i].github_len > 0)
			return true;
	return false;
}

void cde_auth_check_head(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
			 time_t now, struct cde_auth_result *out)
{
	const char *authz = cde_http_request_header(req, "Authorization");

	out->replay_used = false;
	out->has_replay_key = false;
	out->status = 0;
	out->reason = NULL;
	out->principal[0] = '\0';
	/* The same order of schemes as cde_auth_check. */
	if (a->n == 0 || authz) {
		cde_auth_check(a, req, scope, now, out); /* the headers decide it all */
	} else if (cde_http_request_header(req, "X-Hub-Signature-256")) {
		if (!has_signing_secret(a, false))
			deny(out, "X-Hub-Signature-256 does not match");
	} else if (cde_http_request_header(req, "webhook-signature")) {
		const char *ts = cde_http_request_header(req, "webhook-timestamp");

		if (!cde_http_request_header(req, "webhook-id") || !ts)
			deny(out, "a signed request needs webhook-id, webhook-timestamp and webhook-signature");
		else if (!timestamp_fresh(ts, now))
			deny(out, "webhook-timestamp is not within 5 minutes of now");
		else if (!has_signing_secret(a, true))
			deny(out, "webhook-signature does not match");
	} else {
		deny(out, "authentication required: Authorization: Bearer <token>, or a signed request");
	}
}

void cde_auth_check(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
		    time_t now, struct cde_auth_result *out)
{
	const char *authz = cde_http_request_header(req, "Authorization");
	const char *github = cde_http_request_header(req, "X-Hub-Signature-256");

	out->replay_used = false;
	out->has_replay_key = false;
	if (a->n == 0) {
		out->status = 0;
		out->reason = NULL;
		snprintf(out->principal, sizeof(out->principal), "%s", CDE_AUTH_ANONYMOUS);
		return;
	}
	if (authz)
		check_bearer(a, authz, scope, out);
	else if (github)
		check_github(a, req, github, scope, now, out);
	else if (cde_http_request_header(req, "webhook-signature"))
		check_standard_webhook(a, req, scope, now, out);
	else
		deny(out, "authentication required: Authorization: Bearer <token>, or a signed request");
}
