/* The route table (daemon/api.c cde_api_handle): which handler each path
 * and method reaches, under which scope, and what is answered otherwise
 * (404, 405 with Allow, the statuses authentication decides), at the
 * head and with the whole request.
 *
 * The test is linked with -Wl,--wrap (tests/meson.build) so that what
 * lies past the router is a stand-in that records what reached it:
 * cde_http_reply (the one reply), cde_auth_check and _head (decide what
 * auth_status says), the ingest handlers, the audit reader behind the
 * queries and analyses, /metrics' renderer and /v1/sinks' status. */

#include "tests/unit/request.h"

#include "daemon/api.h"
#include "daemon/api_internal.h"
#include "daemon/log.h"

/* What the last request led to. */
static struct {
	int replies, status;
	char allow[64];		/* the Allow header's value */
	char headers[256];	/* the other extra headers, one a line */
	char body[512];
	const char *handler;	/* "hook", "events", "sizing", "query", "metrics", "sinks" */
	char arg[128];		/* the hook kind; the event id or chain id queried */
	int auth_calls;
	bool auth_at_head, dry_run;
	unsigned scope;
} seen;

static int auth_status;		/* what the stand-in auth decides */
static bool journal_ready = true;

/* ---- stand-ins ---- */

void __wrap_cde_http_reply(struct cde_http_request *req, int status, const char *body,
			   const char *const *extra_headers);
void __wrap_cde_http_reply(struct cde_http_request *req, int status, const char *body,
			   const char *const *extra_headers)
{
	seen.replies++;
	seen.status = status;
	snprintf(seen.body, sizeof(seen.body), "%s", body ? body : "");
	for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
		size_t n = strlen(seen.headers);

		if (strncmp(extra_headers[i], "Allow: ", 7) == 0)
			snprintf(seen.allow, sizeof(seen.allow), "%s", extra_headers[i] + 7);
		else
			snprintf(seen.headers + n, sizeof(seen.headers) - n, "%s\n", extra_headers[i]);
	}
	cde_http_request_free(req);
}

static void decide(unsigned scope, struct cde_auth_result *out)
{
	seen.auth_calls++;
	seen.scope = scope;
	seen.dry_run = out->dry_run;
	out->status = auth_status;
	out->reason = auth_status ? "the test says so" : NULL;
	out->replay_used = false;
	out->has_replay_key = false;
	snprintf(out->principal, sizeof(out->principal), "tester");
}

void __wrap_cde_auth_check(struct cde_auth *a, const struct cde_http_request *req, unsigned scope, time_t now,
			   struct cde_auth_result *out);
void __wrap_cde_auth_check(struct cde_auth *a, const struct cde_http_request *req, unsigned scope, time_t now,
			   struct cde_auth_result *out)
{
	decide(scope, out);
}

void __wrap_cde_auth_check_head(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
				time_t now, struct cde_auth_result *out);
void __wrap_cde_auth_check_head(struct cde_auth *a, const struct cde_http_request *req, unsigned scope,
				time_t now, struct cde_auth_result *out)
{
	seen.auth_at_head = true;
	decide(scope, out);
}

static void handled(struct cde_http_request *req, const char *handler, const char *arg)
{
	seen.handler = handler;
	snprintf(seen.arg, sizeof(seen.arg), "%s", arg ? arg : "");
	cde_http_reply(req, 202, "{}", NULL);
}

void __wrap_cde_api_handle_hook(struct cde_api *api, struct cde_http_request *req, const char *kind,
				const struct cde_auth_result *who);
void __wrap_cde_api_handle_hook(struct cde_api *api, struct cde_http_request *req, const char *kind,
				const struct cde_auth_result *who)
{
	handled(req, "hook", kind);
}

void __wrap_cde_api_handle_events(struct cde_api *api, struct cde_http_request *req,
				  const struct cde_auth_result *who);
void __wrap_cde_api_handle_events(struct cde_api *api, struct cde_http_request *req,
				  const struct cde_auth_result *who)
{
	handled(req, "events", NULL);
}

void __wrap_cde_api_handle_sizing(struct cde_api *api, struct cde_http_request *req, struct cde_auth_result *who);
void __wrap_cde_api_handle_sizing(struct cde_api *api, struct cde_http_request *req, struct cde_auth_result *who)
{
	handled(req, "sizing", NULL);
}

/* The queries themselves run (api_query.c): the audit reader they submit
 * to answers at once with an empty page, or with reader_status and no
 * body (the store failed, or cannot be reached). */
static int reader_status = 200;
static struct cde_audit_log_answer log_failure;	/* status 0: a 200 of nothing */

int __wrap_cde_audit_reader_submit(struct cde_audit_reader *r, const struct cde_audit_request *areq,
				   cde_audit_reader_done_fn done, void *ctx);
int __wrap_cde_audit_reader_submit(struct cde_audit_reader *r, const struct cde_audit_request *areq,
				   cde_audit_reader_done_fn done, void *ctx)
{
	char *page = strdup("{\"events\":[],\"nextAfter\":null}");

	assert_non_null(page);
	seen.handler = "query";
	snprintf(seen.arg, sizeof(seen.arg), "%s", areq->id ? areq->id : areq->filter.chain_id ? areq->filter.chain_id : "");
	if (reader_status != 200) {
		free(page);
		page = NULL;
	}
	done(ctx, reader_status, page);
	return 0;
}

/* The transparency log's reads: what kind, and a 200 of nothing. */
int __wrap_cde_audit_reader_submit_log(struct cde_audit_reader *r, const struct cde_audit_log_request *q,
				       cde_audit_log_done_fn done, void *ctx);
int __wrap_cde_audit_reader_submit_log(struct cde_audit_reader *r, const struct cde_audit_log_request *q,
				       cde_audit_log_done_fn done, void *ctx)
{
	static const char *const kinds[] = { "checkpoint", "inclusion", "consistency", "receipts" };
	struct cde_audit_log_answer a = { .status = 200, .body = strdup("{}") };

	assert_non_null(a.body);
	seen.handler = "log";
	snprintf(seen.arg, sizeof(seen.arg), "%s", kinds[q->kind]);
	if (log_failure.status) {
		free(a.body);
		a = log_failure;
	}
	done(ctx, &a);
	return 0;
}

/* The analyses (api_answers.c) run at once on a source of no records
 * that notes the environment they filter on. */
static int no_records(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	if (f->environment)
		snprintf(seen.arg, sizeof(seen.arg), "%s", f->environment);
	return 0;
}

int __wrap_cde_audit_reader_submit_task(struct cde_audit_reader *r, cde_audit_task_run_fn run,
					cde_audit_task_done_fn done, void *ctx);
int __wrap_cde_audit_reader_submit_task(struct cde_audit_reader *r, cde_audit_task_run_fn run,
					cde_audit_task_done_fn done, void *ctx)
{
	const struct cde_audit_source src = { .query = no_records };
	struct cde_audit_task_answer a = { 0 };

	seen.handler = "task";
	seen.arg[0] = '\0';
	assert_int_equal(run(ctx, &src, &a), 0);
	done(ctx, &a);
	return 0;
}

char *__wrap_cde_observe_render(struct cde_observe *o, const struct cde_observe_sources *src);
char *__wrap_cde_observe_render(struct cde_observe *o, const struct cde_observe_sources *src)
{
	seen.handler = "metrics";
	return strdup("# no metrics\n");
}

char *__wrap_cde_delivery_status_json(struct cde_delivery *d);
char *__wrap_cde_delivery_status_json(struct cde_delivery *d)
{
	seen.handler = "sinks";
	return strdup("{\"sinks\":[]}");
}

static bool ready(void *impl)
{
	return journal_ready;
}

static const struct cde_journal_ops journal_ops = { .name = "test", .ready = ready };
static struct cde_journal journal = { .ops = &journal_ops };
static char observe_stand_in;
static struct cde_api api;

/* ---- helpers ---- */

static int reset(void **state)
{
	memset(&seen, 0, sizeof(seen));
	auth_status = 0;
	reader_status = 200;
	memset(&log_failure, 0, sizeof(log_failure));
	journal_ready = true;
	memset(&api, 0, sizeof(api));
	api.journal = &journal;
	api.signs_checkpoints = true;
	api.observe = (struct cde_observe *)(void *)&observe_stand_in;
	return 0;
}

/* Sends @method @target, whole (with a body for the methods that carry
 * one), through the router. */
static void route(const char *method, const char *target)
{
	bool with_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
	struct cde_http_request *req = test_request(method, target, NULL, with_body ? "{}" : NULL);

	memset(&seen, 0, sizeof(seen));
	cde_api_handle(req, &api);
	assert_int_equal(seen.replies, 1);	/* exactly one reply, always */
}

/* Sends the head of @method @target, its body not read yet, through the
 * router as the head handler; frees the request when nothing answered
 * it (the server would read its body then). */
static void route_head(const char *method, const char *target)
{
	struct cde_http_request *req = test_request(method, target, NULL, "{}");
	struct cde_http_conn conn;

	test_request_at_head(req, &conn);
	memset(&seen, 0, sizeof(seen));
	cde_api_handle(req, &api);
	assert_true(seen.replies <= 1);
	if (!seen.replies)
		cde_http_request_free(req);
	free(conn.spare);	/* the connection keeps a freed request's memory */
}

/* Sends @method @target with credentials auth would refuse: it must be
 * answered @status without asking who sent it. */
static void refused_before_any_credential(const char *method, const char *target, int status)
{
	print_message("  %s %s\n", method, target);
	auth_status = 401;
	route(method, target);
	assert_int_equal(seen.status, status);
	assert_null(seen.handler);
	assert_int_equal(seen.auth_calls, 0);
}

/* ---- cases ---- */

static void health_and_readiness_answer_get_and_head_without_asking_who(void **state)
{
	static const char *const cases[][2] = {
		{ "GET", "/healthz" }, { "HEAD", "/healthz" }, { "GET", "/readyz" }, { "HEAD", "/readyz" },
	};

	auth_status = 401;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		route(cases[i][0], cases[i][1]);
		assert_int_equal(seen.status, 200);
		assert_string_equal(seen.body, "{\"status\":\"ok\"}");
		assert_int_equal(seen.auth_calls, 0);
	}
}

static void readiness_fails_while_the_journal_cannot_take_events_or_the_daemon_drains(void **state)
{
	journal_ready = false;
	route("GET", "/readyz");
	assert_int_equal(seen.status, 503);
	assert_string_equal(seen.body, "{\"status\":\"not ready\"}");
	route("GET", "/healthz");
	assert_int_equal(seen.status, 200);	/* alive all the same */
	journal_ready = true;
	api.stopping = true;
	route("GET", "/readyz");
	assert_int_equal(seen.status, 503);
}

static void each_route_hands_each_of_its_methods_to_its_handler_under_its_scope(void **state)
{
	static const struct {
		const char *method, *target, *handler, *arg;
		unsigned scope;
		int status;
	} cases[] = {
		{ "POST", "/v1/events", "events", "", CDE_SCOPE_EMIT, 202 },
		{ "GET", "/v1/events", "query", "", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/events?type=dev.cdevents.build.started.0.3.0", "query", "", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/events/ev-1", "query", "ev-1", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/events/a%2Fb", "query", "a/b", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/chains/chain-9", "query", "chain-9", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/metrics", "metrics", "", CDE_SCOPE_QUERY, 200 },
		{ "HEAD", "/metrics", "metrics", "", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/sinks", "sinks", "", CDE_SCOPE_QUERY, 200 },
		{ "POST", "/v1/sizing", "sizing", "", CDE_SCOPE_EMIT, 202 },
		{ "POST", "/v1/hooks/build", "hook", "build", CDE_SCOPE_EMIT, 202 },
		{ "POST", "/v1/hooks/github?dry_run=1", "hook", "github", CDE_SCOPE_EMIT, 202 },
		{ "POST", "/v1/hooks/no-such-kind", "hook", "no-such-kind", CDE_SCOPE_EMIT, 202 },
		{ "GET", "/v1/log/checkpoint", "log", "checkpoint", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/log/proof/inclusion?seq=1", "log", "inclusion", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/log/proof/consistency?from=1", "log", "consistency", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/environments/prod", "task", "prod", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/environments/eu%2Fprod", "task", "eu/prod", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/dora", "task", "", CDE_SCOPE_QUERY, 200 },
		{ "GET", "/v1/dora?environment=stage&window=7d", "task", "stage", CDE_SCOPE_QUERY, 200 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("  %s %s\n", cases[i].method, cases[i].target);
		route(cases[i].method, cases[i].target);
		assert_int_equal(seen.status, cases[i].status);
		assert_non_null(seen.handler);
		assert_string_equal(seen.handler, cases[i].handler);
		assert_string_equal(seen.arg, cases[i].arg);
		assert_int_equal(seen.auth_calls, 1);
		assert_false(seen.auth_at_head);
		assert_int_equal(seen.scope, cases[i].scope);
	}
}

static void a_method_a_route_does_not_take_is_405_naming_those_it_does_before_any_credential(void **state)
{
	static const char *const cases[][3] = {
		{ "POST", "/healthz", "GET, HEAD" },	{ "DELETE", "/readyz", "GET, HEAD" },
		{ "PUT", "/v1/events", "GET, POST" },	{ "HEAD", "/v1/events", "GET, POST" },
		{ "DELETE", "/v1/events", "GET, POST" }, { "POST", "/v1/events/ev-1", "GET" },
		{ "DELETE", "/v1/chains/c-1", "GET" },	{ "POST", "/metrics", "GET, HEAD" },
		{ "POST", "/v1/sinks", "GET" },		{ "HEAD", "/v1/sinks", "GET" },
		{ "GET", "/v1/sizing", "POST" },	{ "GET", "/v1/hooks/build", "POST" },
		{ "PUT", "/v1/hooks/build", "POST" },	{ "OPTIONS", "/v1/hooks/build", "POST" },
		{ "POST", "/v1/log/checkpoint", "GET" }, { "HEAD", "/v1/log/proof/inclusion", "GET" },
		{ "DELETE", "/v1/log/proof/consistency", "GET" },
		{ "POST", "/v1/dora", "GET" },		{ "PUT", "/v1/environments/prod", "GET" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		refused_before_any_credential(cases[i][0], cases[i][1], 405);
		assert_string_equal(seen.allow, cases[i][2]);
	}
}

static void a_path_no_route_matches_is_404_whatever_the_method(void **state)
{
	static const char *const cases[][2] = {
		{ "GET", "/" },		    { "GET", "/v1" },		      { "GET", "/v1/" },
		{ "POST", "/v1/hooks/" },   { "POST", "/v1/hooks/build/x" }, { "POST", "/v1/hook/build" },
		{ "GET", "/v1/eventsx" },   { "GET", "/V1/events" },	      { "GET", "/metrics/x" },
		{ "GET", "/healthz/" },	    { "GET", "/v1/sinks/a" },	      { "PUT", "/nowhere" },
		{ "GET", "/v1/events/" },   { "GET", "/v1/chains/" },	      { "GET", "/v1/events/a/b" },
		{ "GET", "/v1/environments/" }, { "GET", "/v1/environments/a/b" }, { "GET", "/v1/dora/x" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused_before_any_credential(cases[i][0], cases[i][1], 404);
}

static void a_sender_auth_refuses_gets_its_status_and_no_handler_runs(void **state)
{
	static const char *const routes[][2] = {
		{ "POST", "/v1/events" }, { "GET", "/v1/events" }, { "GET", "/v1/events/ev-1" },
		{ "GET", "/metrics" },	  { "GET", "/v1/sinks" },  { "POST", "/v1/sizing" },
		{ "POST", "/v1/hooks/build" },
	};
	static const struct {
		int status;
		const char *header, *error;
	} refusals[] = {
		{ 401, "WWW-Authenticate: Bearer realm=\"cdeventsd\"\n", "unauthorized" },
		{ 403, "", "forbidden" },
		{ 429, "Retry-After: 60\n", "too many requests" },
		{ 503, "Retry-After: 1\n", "try again" },
	};

	for (size_t k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++)
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
			auth_status = refusals[k].status;
			route(routes[i][0], routes[i][1]);
			assert_int_equal(seen.status, refusals[k].status);
			assert_string_equal(seen.headers, refusals[k].header);
			assert_non_null(strstr(seen.body, refusals[k].error));
			assert_non_null(strstr(seen.body, "the test says so"));
			assert_null(seen.handler);
		}
}

static void a_resent_signed_request_is_answered_200_as_a_duplicate_and_no_handler_runs(void **state)
{
	auth_status = CDE_AUTH_RESENT;
	route("POST", "/v1/hooks/github");
	assert_int_equal(seen.status, 200);
	assert_non_null(strstr(seen.body, "\"duplicate\":true,\"resent\":true"));
	assert_null(seen.handler);
	route("POST", "/v1/events");
	assert_int_equal(seen.status, 200);
	assert_null(seen.handler);
}

static void at_the_head_only_what_the_headers_decide_is_answered(void **state)
{
	/* Allowed by its headers: unanswered, its body is to be read. */
	route_head("POST", "/v1/hooks/build");
	assert_int_equal(seen.replies, 0);
	assert_null(seen.handler);
	assert_true(seen.auth_at_head);
	assert_int_equal(seen.scope, CDE_SCOPE_EMIT);
	route_head("POST", "/v1/events");
	assert_int_equal(seen.replies, 0);
	assert_true(seen.auth_at_head);
	/* Refused by them: answered now, the body never read. */
	auth_status = 401;
	route_head("POST", "/v1/sizing");
	assert_int_equal(seen.replies, 1);
	assert_int_equal(seen.status, 401);
	auth_status = 403;
	route_head("POST", "/v1/hooks/build");
	assert_int_equal(seen.status, 403);
	/* So are unknown paths and methods. */
	auth_status = 0;
	route_head("POST", "/v1/nowhere");
	assert_int_equal(seen.status, 404);
	route_head("PUT", "/v1/events");
	assert_int_equal(seen.status, 405);
	route_head("POST", "/v1/events/ev-1");
	assert_int_equal(seen.status, 405);
	assert_string_equal(seen.allow, "GET");
}

static void only_a_post_is_a_dry_run_and_only_when_asked(void **state)
{
	route("POST", "/v1/hooks/build?dry_run=1");
	assert_true(seen.dry_run);
	route("POST", "/v1/events?dry_run=true");
	assert_true(seen.dry_run);
	route("POST", "/v1/hooks/build");
	assert_false(seen.dry_run);
	route("POST", "/v1/hooks/build?dry_run=0");
	assert_false(seen.dry_run);
	route("GET", "/v1/events?dry_run=1");
	assert_false(seen.dry_run);
}

static void an_id_segment_is_read_from_the_target_as_sent_and_percent_decoded_for_every_route(void **state)
{
	static const char *const cases[][4] = {
		{ "POST", "/v1/hooks/bu%69ld", "hook", "build" },
		{ "GET", "/v1/chains/rel%2F7%20%C3%BC", "query", "rel/7 \xc3\xbc" },
		{ "GET", "/v1/events/ci%2Frun%2F7?", "query", "ci/run/7" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("  %s %s\n", cases[i][0], cases[i][1]);
		route(cases[i][0], cases[i][1]);
		assert_non_null(seen.handler);
		assert_string_equal(seen.handler, cases[i][2]);
		assert_string_equal(seen.arg, cases[i][3]);
	}
}

/* A shared database that is down (PostgreSQL restarting) is worth a
 * retry: 503 with Retry-After; a store that fails otherwise is 500. */
static void a_query_the_database_cannot_answer_is_503_with_retry_after(void **state)
{
	static const char *const targets[] = { "/v1/events?subject=x", "/v1/events/e-1", "/v1/chains/rel-1" };

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		reader_status = 503;
		route("GET", targets[i]);
		assert_int_equal(seen.status, 503);
		assert_non_null(strstr(seen.headers, "Retry-After: 5\n"));
		assert_non_null(strstr(seen.body, "cannot be reached"));
		reader_status = 500;
		route("GET", targets[i]);
		assert_int_equal(seen.status, 500);
		assert_null(strstr(seen.headers, "Retry-After"));
	}
	/* The transparency log, its database unreachable: 503, the reason,
	 * and when to try again. */
	log_failure.status = 503;
	snprintf(log_failure.reason, sizeof(log_failure.reason), "the database cannot be reached: retry shortly");
	route("GET", "/v1/log/checkpoint");
	assert_int_equal(seen.status, 503);
	assert_non_null(strstr(seen.headers, "Retry-After: 5\n"));
	assert_non_null(strstr(seen.body, "cannot be reached"));
}

static void a_malformed_escape_in_an_id_is_400_naming_the_path_once_the_sender_is_known(void **state)
{
	static const char *const cases[][2] = {
		{ "GET", "/v1/events/%zz" }, { "GET", "/v1/chains/a%00b" }, { "POST", "/v1/hooks/%ff" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("  %s %s\n", cases[i][0], cases[i][1]);
		auth_status = 0;
		route(cases[i][0], cases[i][1]);
		assert_int_equal(seen.status, 400);
		assert_non_null(strstr(seen.body, "\"/path\""));
		assert_null(seen.handler);
		auth_status = 401;
		route(cases[i][0], cases[i][1]);
		assert_int_equal(seen.status, 401);
	}
}

static void allow_lists_the_methods_of_every_row_of_the_path_in_one_order(void **state)
{
	static const char *const cases[][3] = {
		{ "PATCH", "/v1/events", "GET, POST" }, { "OPTIONS", "/metrics", "GET, HEAD" },
		{ "PATCH", "/v1/hooks/x", "POST" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		refused_before_any_credential(cases[i][0], cases[i][1], 405);
		assert_string_equal(seen.allow, cases[i][2]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(health_and_readiness_answer_get_and_head_without_asking_who, reset),
		cmocka_unit_test_setup(readiness_fails_while_the_journal_cannot_take_events_or_the_daemon_drains, reset),
		cmocka_unit_test_setup(each_route_hands_each_of_its_methods_to_its_handler_under_its_scope, reset),
		cmocka_unit_test_setup(a_method_a_route_does_not_take_is_405_naming_those_it_does_before_any_credential,
				       reset),
		cmocka_unit_test_setup(a_path_no_route_matches_is_404_whatever_the_method, reset),
		cmocka_unit_test_setup(a_sender_auth_refuses_gets_its_status_and_no_handler_runs, reset),
		cmocka_unit_test_setup(a_resent_signed_request_is_answered_200_as_a_duplicate_and_no_handler_runs, reset),
		cmocka_unit_test_setup(at_the_head_only_what_the_headers_decide_is_answered, reset),
		cmocka_unit_test_setup(only_a_post_is_a_dry_run_and_only_when_asked, reset),
		cmocka_unit_test_setup(an_id_segment_is_read_from_the_target_as_sent_and_percent_decoded_for_every_route,
				       reset),
		cmocka_unit_test_setup(a_malformed_escape_in_an_id_is_400_naming_the_path_once_the_sender_is_known,
				       reset),
		cmocka_unit_test_setup(allow_lists_the_methods_of_every_row_of_the_path_in_one_order, reset),
		cmocka_unit_test_setup(a_query_the_database_cannot_answer_is_503_with_retry_after, reset),
	};

	/* The refusals' log lines are not what is tested. */
	cde_log_set_level(CDE_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
