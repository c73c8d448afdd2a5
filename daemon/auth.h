#pragma once
/* Who sent a request: bearer tokens and signed requests, per principal. */

#include <stdbool.h>
#include <time.h>

#include "config/config.h"
#include "daemon/http_server.h"
#include "schemas/errors.h"

#define CDE_AUTH_ANONYMOUS "anonymous"
#define CDE_AUTH_WEBHOOK_TOLERANCE_S 300

struct cde_auth;

/* Reads every principal's secrets (token files and variables, signing
 * secrets). Returns 0 and a new table in *@ret, or -errno with each
 * problem in @errs ("principal jenkins: token_file /x: No such file"). */
int cde_auth_new(const struct cde_config *cfg, struct cde_auth **ret, struct cde_errors *errs);

/* Frees @a (wiping its secrets); accepts NULL; returns NULL. */
struct cde_auth *cde_auth_free(struct cde_auth *a);

/* Moves the memory of recently used webhook-ids from @from to @to, so a
 * reload does not reopen the replay window. */
void cde_auth_keep_replays(struct cde_auth *to, const struct cde_auth *from);

/* True when no principal is configured: every request is anonymous. */
bool cde_auth_is_open(const struct cde_auth *a);

/* The outcome of cde_auth_check. */
struct cde_auth_result {
	int status;			/* 0 when allowed, else 401, 403 or 429 */
	const char *reason;		/* why not, for the error body */
	char principal[CDE_CONFIG_NAME_MAX];
	bool webhook_id_used;		/* a Standard Webhooks id was recorded */
	uint8_t webhook_key[32];	/* which, for cde_auth_forget */
};

/* Forgets the webhook-id @who recorded, so that the sender's retry (same
 * id, new timestamp) is not refused as a replay: call it when a request
 * that passed authentication is then refused or fails. */
void cde_auth_forget(struct cde_auth *a, const struct cde_auth_result *who);

/* Decides who sent @req and whether they hold @scope: a bearer token
 * (Authorization: Bearer), a GitHub signature (X-Hub-Signature-256) or a
 * Standard Webhooks signature (webhook-id, webhook-timestamp,
 * webhook-signature; the timestamp within CDE_AUTH_WEBHOOK_TOLERANCE_S of
 * @now, an id seen before is refused; when the ids of the last 10 minutes
 * fill the memory, 429 until some expire). The body is verified as
 * received, before it is parsed. */
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
