/* Authentication. Tokens are kept only as SHA-256 digests and compared
 * with CRYPTO_memcmp against every principal, so neither the time taken
 * nor an early exit tells an attacker how close a guess was or which
 * principal exists. Signed requests are verified on the raw body before
 * anything parses it. */

#include "daemon/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "events/signatures.h"
#include "schemas/read_file.h"

#define SECRET_FILE_MAX 4096
#define REPLAY_SLOTS 65536
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
};

/* Recently seen webhook-ids: a ring, since an id only needs remembering
 * for as long as its timestamp would still be accepted. */
struct seen_id {
	uint8_t digest[32];
	time_t at;
};

struct cde_auth {
	size_t n;
	struct principal *principals;
	size_t replay_pos;
	struct seen_id replay[REPLAY_SLOTS];
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

static int load_principal(const struct cde_config_principal *cp, struct principal *p,
			  struct cde_errors *errs)
{
	uint8_t secret[SECRET_FILE_MAX];
	int n, r = 0;

	memcpy(p->name, cp->name, sizeof(p->name));
	p->scopes = cp->scopes;
	if (cp->token_file[0]) {
		n = read_secret(cp->token_file, secret, sizeof(secret));
		if (n < 0) {
			cde_errors_add(errs, "", "principal %s: token_file %s: %s", cp->name, cp->token_file,
				       cde_read_secret_strerror(n));
			r = -EINVAL;
		} else {
			cde_sig_sha256(secret, (size_t)n, p->token_digest);
			p->has_token = true;
		}
	}
	if (cp->token_env[0]) {
		const char *v = getenv(cp->token_env);

		if (!v || !*v) {
			cde_errors_add(errs, "", "principal %s: token_env %s is not set", cp->name,
				       cp->token_env);
			r = -EINVAL;
		} else {
			cde_sig_sha256(v, strlen(v), p->token_digest);
			p->has_token = true;
		}
	}
	if (cp->github_secret_file[0]) {
		n = read_secret(cp->github_secret_file, p->github, sizeof(p->github));
		if (n < 0) {
			cde_errors_add(errs, "", "principal %s: github_secret_file %s: %s", cp->name,
				       cp->github_secret_file, cde_read_secret_strerror(n));
			r = -EINVAL;
		} else {
			p->github_len = (size_t)n;
		}
	}
	for (size_t i = 0; i < cp->n_webhook_secret_files; i++) {
		char text[SECRET_FILE_MAX + 1];

		n = read_secret(cp->webhook_secret_files[i], (uint8_t *)text, SECRET_FILE_MAX);
		if (n >= 0) {
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
		} else {
			cde_errors_add(errs, "", "principal %s: webhook secret %s: %s", cp->name,
				       cp->webhook_secret_files[i], cde_read_secret_strerror(n));
			r = -EINVAL;
		}
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

int cde_auth_new(const struct cde_config *cfg, struct cde_auth **ret, struct cde_errors *errs)
{
	struct cde_auth *a = calloc(1, sizeof(*a));
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
	for (size_t i = 0; i < a->n; i++)
		if (load_principal(&cfg->principals[i], &a->principals[i], errs) < 0)
			r = -EINVAL;
	if (r < 0) {
		cde_auth_free(a);
		return r;
	}
	*ret = a;
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
	free(a);
	return NULL;
}

void cde_auth_keep_replays(struct cde_auth *to, const struct cde_auth *from)
{
	memcpy(to->replay, from->replay, sizeof(to->replay));
	to->replay_pos = from->replay_pos;
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
	cde_sig_sha256(value + 7, strlen(value + 7), digest);
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

static void replay_key(const char *principal, const char *id, uint8_t digest[32])
{
	char key[CDE_CONFIG_NAME_MAX + 260];

	snprintf(key, sizeof(key), "%s\n%.256s", principal, id);
	cde_sig_sha256(key, strlen(key), digest);
}

/* Remembers @digest. Returns 0, -EEXIST when it was seen within the
 * window, or -ENOSPC when every slot still holds an id inside the window:
 * such an id is never evicted, or a flood of signed requests would reopen
 * replays for everyone. */
static int remember_id(struct cde_auth *a, const uint8_t digest[32], time_t now)
{
	struct seen_id *slot = &a->replay[a->replay_pos];

	for (size_t i = 0; i < REPLAY_SLOTS; i++) {
		const struct seen_id *s = &a->replay[i];

		if (s->at && now - s->at <= REPLAY_WINDOW_S && memcmp(s->digest, digest, 32) == 0)
			return -EEXIST;
	}
	/* The ring's next slot is its oldest. */
	if (slot->at && now - slot->at <= REPLAY_WINDOW_S)
		return -ENOSPC;
	memcpy(slot->digest, digest, 32);
	slot->at = now;
	a->replay_pos = (a->replay_pos + 1) % REPLAY_SLOTS;
	return 0;
}

void cde_auth_forget(struct cde_auth *a, const struct cde_auth_result *who)
{
	if (!who->webhook_id_used)
		return;
	for (size_t i = 0; i < REPLAY_SLOTS; i++)
		if (a->replay[i].at && memcmp(a->replay[i].digest, who->webhook_key, 32) == 0)
			a->replay[i].at = 0;
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
	char *end;
	long long t;

	if (!id || !*id || !ts || !sig) {
		deny(out, "a signed request needs webhook-id, webhook-timestamp and webhook-signature");
		return;
	}
	t = strtoll(ts, &end, 10);
	if (*end || end == ts || t < now - CDE_AUTH_WEBHOOK_TOLERANCE_S ||
	    t > now + CDE_AUTH_WEBHOOK_TOLERANCE_S) {
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
	replay_key(found->name, id, out->webhook_key);
	switch (remember_id(a, out->webhook_key, now)) {
	case -EEXIST:
		deny(out, "webhook-id was already used (a replay)");
		break;
	case -ENOSPC:
		out->status = 429;
		out->reason = "too many signed requests in the last 10 minutes: retry later";
		break;
	default:
		out->webhook_id_used = true;
	}
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

	out->webhook_id_used = false;
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
		if (!cde_http_request_header(req, "webhook-id") ||
		    !cde_http_request_header(req, "webhook-timestamp"))
			deny(out, "a signed request needs webhook-id, webhook-timestamp and webhook-signature");
		else if (!has_signing_secret(a, true))
			deny(out, "webhook-signature does not match");
	} else {
		deny(out, "authentication required: Authorization: Bearer <token>, or a signed request");
	}
}

void cde_auth_check(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
		    time_t now, struct cde_auth_result *out)
{
	out->webhook_id_used = false;
	const char *authz = cde_http_request_header(req, "Authorization");
	const char *github = cde_http_request_header(req, "X-Hub-Signature-256");

	if (a->n == 0) {
		out->status = 0;
		out->reason = NULL;
		snprintf(out->principal, sizeof(out->principal), "%s", CDE_AUTH_ANONYMOUS);
		return;
	}
	if (authz) {
		check_bearer(a, authz, scope, out);
		return;
	}
	if (github) {
		const struct principal *found = NULL;
		size_t len;
		const char *body = cde_http_request_body(req, &len);

		for (size_t i = 0; i < a->n; i++)
			if (a->principals[i].github_len &&
			    cde_sig_github_verify(a->principals[i].github, a->principals[i].github_len, body,
						  len, github))
				found = &a->principals[i];
		if (found)
			allow(found, scope, out);
		else
			deny(out, "X-Hub-Signature-256 does not match");
		return;
	}
	if (cde_http_request_header(req, "webhook-signature")) {
		check_standard_webhook(a, req, scope, now, out);
		return;
	}
	deny(out, "authentication required: Authorization: Bearer <token>, or a signed request");
}
