#pragma once
/* What the API's files share: the one-reply helpers (api_reply.c) and the
 * handlers the route table in api.c calls (api_ingest.c, api_query.c). */

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "daemon/api.h"
#include "daemon/log.h"
#include "schemas/base/errors.h"

/* Replies @status with @body (taken; NULL: an out-of-memory body). */
void cde_api_reply_json(struct cde_http_request *req, int status, cJSON *body, const char *const *headers);

/* {"error": message, "details": [{"pointer", "reason"}...]}, after the
 * request's line in the log at @level (@why: what only the log says). */
void cde_api_reply_error_logged(struct cde_http_request *req, int status, const char *message,
				const struct cde_errors *errs, const char *const *headers,
				enum cde_log_level level, const char *principal, const char *why);
void cde_api_reply_error(struct cde_http_request *req, int status, const char *message,
			 const struct cde_errors *errs, const char *const *headers);

/* Answers a request the audit reader did not take (-errno @r of a
 * submit): 503 with Retry-After when it is busy, else 500. */
void cde_api_reply_not_queued(struct cde_http_request *req, int r);

/* Refuses a request that passed authentication, forgetting its signed
 * request id so that the sender's retry is not taken for a replay. */
void cde_api_refuse_logged(struct cde_api *api, struct cde_http_request *req,
			   const struct cde_auth_result *who, int status, const char *message,
			   const struct cde_errors *errs, const char *const *headers,
			   enum cde_log_level level, const char *why);
void cde_api_refuse(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
		    int status, const char *message, const struct cde_errors *errs, const char *const *headers);

/* True when @query has "@name", "@name=1" or "@name=true". */
bool cde_api_query_flag(const char *query, const char *name);

void cde_api_method_not_allowed(struct cde_http_request *req, const char *allow);

/* Answers 401/403/429 and returns false unless the sender may @scope; at
 * the head, a request its headers allow returns false unanswered. */
bool cde_api_authorized(struct cde_api *api, struct cde_http_request *req, unsigned scope,
			struct cde_auth_result *who);

/* POST /v1/hooks/{kind}, /v1/events, /v1/sizing. */
void cde_api_handle_hook(struct cde_api *api, struct cde_http_request *req, const char *kind,
			 const struct cde_auth_result *who);
void cde_api_handle_events(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who);
void cde_api_handle_sizing(struct cde_api *api, struct cde_http_request *req, struct cde_auth_result *who);

/* GET /v1/log/checkpoint, /v1/log/proof/inclusion, /v1/log/proof/consistency. */
void cde_api_handle_log_checkpoint(struct cde_api *api, struct cde_http_request *req);
void cde_api_handle_log_inclusion(struct cde_api *api, struct cde_http_request *req);
void cde_api_handle_log_consistency(struct cde_api *api, struct cde_http_request *req);

/* ?receipt=1 (api_receipt.c). Admit: true when @req asks for no receipt,
 * or may wait for one for its @n events (counted from now on); else
 * answers 400 (no signing key) or 503 (too many waiting) and returns
 * false. Park: answers @req's 202 @body (taken) once a checkpoint covers
 * the new events of @entries, with their receipts, or without them and
 * why; the @n events counted at admission are released then. */
bool cde_api_receipt_admit(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
			   size_t n);
void cde_api_receipt_park(struct cde_api *api, struct cde_http_request *req, cJSON *body,
			  const struct cde_journal_entry *entries, size_t n);

/* The answer about @n committed events (api_summary.c): the one's
 * {"id", "type", "chainId", "seq", "leafIndex", "leafHash"} (a
 * duplicate: "duplicate": true instead of its seq and leaf), or
 * {"events": [...]}. Returns malloc'd text, or NULL out of memory. */
char *cde_api_summary_text(const struct cde_journal_entry *entries, size_t n);

/* GET /v1/environments/{environment}, GET /v1/dora (api_answers.c). */
void cde_api_handle_environment(struct cde_api *api, struct cde_http_request *req, const char *environment);
void cde_api_handle_dora(struct cde_api *api, struct cde_http_request *req);

/* GET and HEAD /ui and /ui/... (api_ui.c): the web interface's files. */
void cde_api_handle_ui(struct cde_api *api, struct cde_http_request *req);

/* GET /v1/events (@id and @chain NULL), or one event or chain. */
void cde_api_handle_query(struct cde_api *api, struct cde_http_request *req, const char *id, const char *chain);
void cde_api_handle_chain_list(struct cde_api *api, struct cde_http_request *req);


/* GET /v1/gates/{environment}?artifact=PURL (api_gates.c): the gate's
 * answer, once its decision event is committed. */
void cde_api_handle_gate(struct cde_api *api, struct cde_http_request *req, const char *environment,
			 const struct cde_auth_result *who);

/* Called on the loop once an event the daemon made is committed (@error
 * 0, @e its entry with its seq) or could not be (@error < 0). */
typedef void cde_api_recorded_fn(void *ctx, const struct cde_journal_entry *e, int error);

/* Appends @doc (taken), an event the daemon made, on behalf of
 * @principal from @peer (both copied), once it validates (api_own.c);
 * @then (or nothing, when NULL) follows. Returns 0, or -EAGAIN (queue
 * full), -ENOMEM, -EINVAL (it does not validate), and then @then is not
 * called. */
int cde_api_record_own(struct cde_api *api, cJSON *doc, const char *principal, const char *peer,
		       cde_api_recorded_fn *then, void *ctx);

/* The id a content field of the event @ev names (subject.content.@field:
 * a string, or a reference's "id"); NULL when absent. */
const char *cde_api_content_ref(const cJSON *ev, const char *field);

/* Writes the gate answer @result (cde_gate_evaluate's) to the journal as
 * its decision event (api_gates.c), as cde_api_record_own does. */
int cde_api_gate_record(struct cde_api *api, const cJSON *result, const char *principal, const char *peer,
			cde_api_recorded_fn *then, void *ctx);

/* Change tickets (api_tickets.c): after a commit, a deployment to an
 * environment of `tickets:` opens one, a finished pipeline run closes
 * its chain's, each found and built off the loop. */
void cde_api_tickets_committed(struct cde_api *api, const struct cde_journal_entry *entries, size_t n);

/* What takes a request's events once an enforced gate allowed them
 * (api_ingest.c's accept, @from its origin). */
typedef void cde_api_accept_fn(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
			       struct cde_event **events, size_t n, int from);

/* Enforced gates (api_enforce.c): when one of the @n @events deploys an
 * artifact to an environment whose gate has `enforce: true`, holds the
 * request (taking the references in @events, not the array) until the
 * gate is evaluated off the loop, then calls @accept, or answers 409
 * with the gate's reasons, each at @artifact_at (where the request
 * named the artifact: "/artifactId" in a hook); returns true then.
 * False: no enforced gate applies, and nothing was taken. */
bool cde_api_gate_hold(struct cde_api *api, struct cde_http_request *req, const struct cde_auth_result *who,
		       struct cde_event **events, size_t n, int from, const char *artifact_at,
		       cde_api_accept_fn *accept);
