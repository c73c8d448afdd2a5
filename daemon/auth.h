#pragma once
/* Who sent a request: bearer tokens and signed requests, per principal. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "daemon/http/server.h"
#include "schemas/base/errors.h"

#define CDE_AUTH_ANONYMOUS "anonymous"
#define CDE_AUTH_WEBHOOK_TOLERANCE_S 300
/* How long a GitHub-signed body is remembered: GitHub signs no time, so
 * any window is a choice; a day covers its retries and "Redeliver". */
#define CDE_AUTH_GITHUB_REPLAY_S 3600
/* Signed requests remembered per principal (ids and bodies). */
#define CDE_AUTH_REPLAY_MAX 262144
/* The shortest bearer token accepted: 32 characters. */
#define CDE_AUTH_TOKEN_MIN 32

struct cde_auth;

/* Reads every principal's secrets (token files and variables, signing
 * secrets). Refuses a secret file its group or others may read (see
 * cde_read_secret), a token under CDE_AUTH_TOKEN_MIN characters and two
 * principals with one secret. The memory of signed requests starts empty,
 * in RAM only (cde_auth_open_replays). Returns 0 and a new table in
 * *@ret, or -errno with each problem in @errs ("principal jenkins:
 * token_file /x: No such file"). */
int cde_auth_new(const struct cde_config *cfg, struct cde_auth **ret, struct cde_errors *errs);

/* Loads the memory of signed requests from @state_dir (daemon/replay.h)
 * and keeps writing it there. Returns 0 or -errno with the reason in
 * @err. */
int cde_auth_open_replays(struct cde_auth *a, const char *state_dir, time_t now, char *err, size_t err_size);

/* Frees @a (wiping its secrets); accepts NULL; returns NULL. */
struct cde_auth *cde_auth_free(struct cde_auth *a);

/* Moves the memory of signed requests (and its file) from @from to @to,
 * so a reload does not reopen the replay window. */
void cde_auth_keep_replays(struct cde_auth *to, struct cde_auth *from);

/* True when @principal may post an event whose context.source is
 * @source: it lists no sources, or @source is one of them or lies under
 * one at a '/' ("/github" allows "/github/x", not "/githubber"), with no
 * "." or ".." segment. Without principals, always. */
bool cde_auth_source_allowed(const struct cde_auth *a, const char *principal, const char *source);

/* True when no principal is configured: every request is anonymous. */
bool cde_auth_is_open(const struct cde_auth *a);

/* The outcome of cde_auth_check. */
struct cde_auth_result {
	bool dry_run;			/* in: a replay is refused, but nothing is recorded */
	int status;			/* 0 when allowed, CDE_AUTH_RESENT, else 401, 403, 429 or 503 */
	const char *reason;		/* why not, for the error body */
	char principal[CDE_CONFIG_NAME_MAX];
	bool replay_used;		/* a webhook-id or GitHub body was recorded */
	bool has_replay_key;		/* a signed request: replay_key names it (dry runs too) */
	uint8_t replay_key[32];		/* which, for cde_auth_forget */
};

/* The status of a signed request that repeats one answered with success
 * before (a sender's retry after a lost answer, or a replay): nothing is
 * done again, and it is answered 200 as a duplicate. */
#define CDE_AUTH_RESENT 200

/* The request @who sent was answered with success: what it signed is
 * kept (across restarts), so a copy of it is a re-send from now on. */
void cde_auth_confirm(struct cde_auth *a, struct cde_auth_result *who, time_t now);

/* Forgets the webhook-id or GitHub body @who recorded, so that the
 * sender's retry (same id, new timestamp; GitHub's "Redeliver") is not
 * refused as a replay: call it when a request that passed authentication
 * is then refused or fails. */
void cde_auth_forget(struct cde_auth *a, const struct cde_auth_result *who);

/* Decides who sent @req and whether they hold @scope: a bearer token
 * (Authorization: Bearer), a GitHub signature (X-Hub-Signature-256; a
 * body stored in the last CDE_AUTH_GITHUB_REPLAY_S is a re-send,
 * CDE_AUTH_RESENT) or a Standard Webhooks signature (webhook-id,
 * webhook-timestamp, webhook-signature; the timestamp within
 * CDE_AUTH_WEBHOOK_TOLERANCE_S of @now, an id stored in the last 10
 * minutes is a re-send). When a principal's
 * remembered requests reach CDE_AUTH_REPLAY_MAX, its signed requests get
 * 429 until some expire. The body is verified as received, before it is
 * parsed. Set @out->dry_run before the call. */
void cde_auth_check(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
		    time_t now, struct cde_auth_result *out);

/* Decides from the headers alone, before the body is read, what can be:
 * @out->status is 401 or 403 as cde_auth_check would answer, or 0 when
 * the body is worth reading (no principals at all, a bearer token holding
 * @scope, or a signed request that some principal could have signed: its
 * headers are there and some principal holds that kind of secret;
 * cde_auth_check verifies the signature on the body). Remembers no
 * webhook-id. */
void cde_auth_check_head(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
			 time_t now, struct cde_auth_result *out);
