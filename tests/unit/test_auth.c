/* Who may call the API (daemon/auth.c): bearer tokens and their scopes,
 * GitHub and Standard Webhooks signatures, the decision taken from the
 * headers alone, re-sends of signed requests and per-principal sources.
 * Requests are built in memory (request.h); secrets are files in a
 * private temporary directory, as the daemon reads them. */

#include "tests/unit/request.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/auth.h"
#include "events/signatures.h"

#define CI_TOKEN "ci-token-0123456789abcdef0123456789"
#define READER_TOKEN "reader-token-0123456789abcdef012345"
#define GITHUB_SECRET "github-secret"
/* 32 bytes of 'k' and of 'w', as Standard Webhooks secrets. */
#define HOOKS_SECRET "whsec_a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="
#define WATCH_SECRET "whsec_d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3c="

static char dir[] = "/tmp/cde-test-auth-XXXXXX";
static struct cde_config cfg;	/* ~300 KB: not on the stack */
static struct cde_auth *auth;
static time_t now;

static void write_secret(const char *name, const char *text, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct cde_config_principal *add_principal(const char *name, unsigned scopes)
{
	struct cde_config_principal *p = &cfg.principals[cfg.n_principals++];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->scopes = scopes;
	return p;
}

/* Five principals: "ci" posts with a token, "reader" reads with one,
 * "github" posts signed by GitHub, "hooks" posts Standard Webhooks signed
 * events under the source /hooks, "watcher" reads with a signature. */
static int setup(void **state)
{
	struct cde_config_principal *p;
	struct cde_errors errs;

	assert_non_null(mkdtemp(dir));
	setenv("CDE_TEST_CI_TOKEN", CI_TOKEN, 1);
	setenv("CDE_TEST_READER_TOKEN", READER_TOKEN, 1);
	cde_config_defaults(&cfg);
	p = add_principal("ci", CDE_SCOPE_EMIT);
	snprintf(p->token_env, sizeof(p->token_env), "CDE_TEST_CI_TOKEN");
	p = add_principal("reader", CDE_SCOPE_QUERY);
	snprintf(p->token_env, sizeof(p->token_env), "CDE_TEST_READER_TOKEN");
	p = add_principal("github", CDE_SCOPE_EMIT);
	write_secret("github.secret", GITHUB_SECRET, p->github_secret_file, sizeof(p->github_secret_file));
	p = add_principal("hooks", CDE_SCOPE_EMIT);
	write_secret("hooks.secret", HOOKS_SECRET, p->webhook_secret_files[0], sizeof(p->webhook_secret_files[0]));
	p->n_webhook_secret_files = 1;
	p->n_sources = 1;
	snprintf(p->sources[0], sizeof(p->sources[0]), "/hooks");
	p = add_principal("watcher", CDE_SCOPE_QUERY);
	write_secret("watch.secret", WATCH_SECRET, p->webhook_secret_files[0], sizeof(p->webhook_secret_files[0]));
	p->n_webhook_secret_files = 1;
	cde_errors_reset(&errs);
	assert_int_equal(cde_auth_new(&cfg, &auth, &errs), 0);
	now = time(NULL);
	return 0;
}

static int teardown(void **state)
{
	char path[256];

	auth = cde_auth_free(auth);
	for (const char *const *f = (const char *const[]){ "github.secret", "hooks.secret", "watch.secret",
							  "short.token", NULL }; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* Runs cde_auth_check (or, @at_head, cde_auth_check_head) on one request. */
static struct cde_auth_result check(const char *method, const char *const *headers, const char *body,
				    unsigned scope, bool dry_run, bool at_head)
{
	struct cde_http_request *req = test_request(method, "/v1/hooks/build", headers, body);
	struct cde_auth_result out = { .dry_run = dry_run };

	if (at_head)
		cde_auth_check_head(auth, req, scope, now, &out);
	else
		cde_auth_check(auth, req, scope, now, &out);
	cde_http_request_free(req);
	return out;
}

static struct cde_auth_result post(const char *const *headers, const char *body)
{
	return check("POST", headers, body, CDE_SCOPE_EMIT, false, false);
}

/* Standard Webhooks headers signed with @secret, at @ts. */
struct signed_headers {
	char id[80], ts[64], sig[80 + CDE_SIG_STANDARD_LEN];
	const char *list[4];
};

static const char *const *standard(struct signed_headers *h, const char *secret, const char *id, time_t ts,
				   const char *body)
{
	uint8_t key[CDE_SIG_KEY_MAX];
	char stamp[24], sig[CDE_SIG_STANDARD_LEN];
	int n = cde_sig_standard_decode_secret(secret, key);

	assert_true(n > 0);
	snprintf(stamp, sizeof(stamp), "%lld", (long long)ts);
	assert_int_equal(cde_sig_standard_sign(key, (size_t)n, id, stamp, body, strlen(body), sig), 0);
	snprintf(h->id, sizeof(h->id), "webhook-id: %s", id);
	snprintf(h->ts, sizeof(h->ts), "webhook-timestamp: %s", stamp);
	snprintf(h->sig, sizeof(h->sig), "webhook-signature: %s", sig);
	h->list[0] = h->id;
	h->list[1] = h->ts;
	h->list[2] = h->sig;
	h->list[3] = NULL;
	return h->list;
}

/* X-Hub-Signature-256 of @body under @secret. */
struct github_headers {
	char sig[96];
	const char *list[2];
};

static const char *const *github(struct github_headers *h, const char *secret, const char *body)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int o;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)body, strlen(body), mac,
			     &len));
	o = snprintf(h->sig, sizeof(h->sig), "X-Hub-Signature-256: sha256=");
	for (unsigned i = 0; i < len; i++)
		o += snprintf(h->sig + o, sizeof(h->sig) - (size_t)o, "%02x", mac[i]);
	h->list[0] = h->sig;
	h->list[1] = NULL;
	return h->list;
}

static const char *errors_text(const struct cde_errors *errs)
{
	static char text[2048];

	cde_errors_format(errs, text, sizeof(text));
	return text;
}

#define HEADERS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- bearer tokens ---- */

static void without_principals_everyone_is_anonymous_and_may_do_anything(void **state)
{
	static struct cde_config open;
	struct cde_auth *a = NULL, *saved = auth;
	struct cde_errors errs;
	struct cde_auth_result r;

	cde_config_defaults(&open);
	cde_errors_reset(&errs);
	assert_int_equal(cde_auth_new(&open, &a, &errs), 0);
	assert_true(cde_auth_is_open(a));
	auth = a;
	r = post(NULL, "{}");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, CDE_AUTH_ANONYMOUS);
	r = check("GET", HEADERS("Authorization: Bearer whatever"), NULL, CDE_SCOPE_QUERY, false, true);
	assert_int_equal(r.status, 0);
	assert_true(cde_auth_source_allowed(a, CDE_AUTH_ANONYMOUS, "/anything/at/all"));
	auth = saved;
	cde_auth_free(a);
	assert_false(cde_auth_is_open(auth));
}

static void a_known_token_holding_the_scope_is_its_principal(void **state)
{
	struct cde_auth_result r = post(HEADERS("Authorization: Bearer " CI_TOKEN), "{}");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, "ci");
	assert_false(r.has_replay_key);
	r = check("GET", HEADERS("Authorization: bearer " READER_TOKEN), NULL, CDE_SCOPE_QUERY, false, false);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, "reader");
}

static void a_known_token_without_the_scope_is_403_naming_its_principal(void **state)
{
	struct cde_auth_result r = post(HEADERS("Authorization: Bearer " READER_TOKEN), "{}");

	assert_int_equal(r.status, 403);
	assert_string_equal(r.principal, "reader");
	assert_non_null(strstr(r.reason, "scopes"));
	r = check("GET", HEADERS("Authorization: Bearer " CI_TOKEN), NULL, CDE_SCOPE_QUERY, false, false);
	assert_int_equal(r.status, 403);
}

static void an_unknown_or_malformed_token_or_none_is_401(void **state)
{
	struct cde_auth_result r = post(HEADERS("Authorization: Bearer " CI_TOKEN "x"), "{}");

	assert_int_equal(r.status, 401);
	assert_string_equal(r.reason, "unknown token");
	assert_string_equal(r.principal, "");
	r = post(HEADERS("Authorization: Basic Y2k6Y2k="), "{}");
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.reason, "Bearer <token>"));
	r = post(HEADERS("Authorization: Bearer "), "{}");
	assert_int_equal(r.status, 401);
	r = post(NULL, "{}");
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.reason, "authentication required"));
}

static void a_token_shorter_than_32_characters_or_shared_by_two_principals_is_refused_at_load(void **state)
{
	static struct cde_config bad;
	struct cde_config_principal *p;
	struct cde_auth *a = NULL;
	struct cde_errors errs;

	cde_config_defaults(&bad);
	p = &bad.principals[bad.n_principals++];
	snprintf(p->name, sizeof(p->name), "short");
	p->scopes = CDE_SCOPE_EMIT;
	write_secret("short.token", "0123456789", p->token_file, sizeof(p->token_file));
	cde_errors_reset(&errs);
	assert_int_equal(cde_auth_new(&bad, &a, &errs), -EINVAL);
	assert_null(a);
	assert_non_null(strstr(errors_text(&errs), "at least 32 characters"));

	cde_config_defaults(&bad);
	for (int i = 0; i < 2; i++) {
		p = &bad.principals[bad.n_principals++];
		snprintf(p->name, sizeof(p->name), "twin%d", i);
		snprintf(p->token_env, sizeof(p->token_env), "CDE_TEST_CI_TOKEN");
	}
	cde_errors_reset(&errs);
	assert_int_equal(cde_auth_new(&bad, &a, &errs), -EINVAL);
	assert_non_null(strstr(errors_text(&errs), "principals twin0 and twin1 have the same token"));
}

/* ---- GitHub signatures ---- */

static void a_github_signature_over_the_body_is_its_principal(void **state)
{
	struct github_headers h;
	const char *body = "{\"ref\":\"refs/heads/main\",\"n\":1}";
	struct cde_auth_result r = post(github(&h, GITHUB_SECRET, body), body);

	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, "github");
	assert_true(r.replay_used && r.has_replay_key);
	cde_auth_forget(auth, &r);
}

static void a_github_signature_by_another_secret_or_over_another_body_is_401(void **state)
{
	struct github_headers h;
	const char *body = "{\"ref\":\"refs/heads/main\",\"n\":2}";
	struct cde_auth_result r = post(github(&h, "not-the-secret", body), body);

	assert_int_equal(r.status, 401);
	assert_string_equal(r.reason, "X-Hub-Signature-256 does not match");
	r = post(github(&h, GITHUB_SECRET, body), "{\"ref\":\"refs/heads/evil\",\"n\":2}");
	assert_int_equal(r.status, 401);
	r = post(HEADERS("X-Hub-Signature-256: sha1=abc"), body);
	assert_int_equal(r.status, 401);
}

static void a_github_body_is_503_while_pending_and_resent_once_confirmed(void **state)
{
	struct github_headers h;
	const char *body = "{\"ref\":\"refs/heads/main\",\"n\":3}";
	struct cde_auth_result first = post(github(&h, GITHUB_SECRET, body), body), r;

	assert_int_equal(first.status, 0);
	r = post(h.list, body);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.reason, "still being stored"));
	cde_auth_confirm(auth, &first, now);
	assert_false(first.replay_used);
	r = post(h.list, body);
	assert_int_equal(r.status, CDE_AUTH_RESENT);
	assert_string_equal(r.principal, "github");
	assert_false(r.replay_used);
}

static void a_forgotten_github_body_is_accepted_again(void **state)
{
	struct github_headers h;
	const char *body = "{\"ref\":\"refs/heads/main\",\"n\":4}";
	struct cde_auth_result first = post(github(&h, GITHUB_SECRET, body), body), r;

	assert_int_equal(first.status, 0);
	cde_auth_forget(auth, &first);
	r = post(h.list, body);
	assert_int_equal(r.status, 0);
	assert_true(r.replay_used);
	cde_auth_forget(auth, &r);
}

/* ---- Standard Webhooks ---- */

static void a_standard_webhook_signature_is_its_principal(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":10}";
	struct cde_auth_result r = post(standard(&h, HOOKS_SECRET, "msg_10", now, body), body);

	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, "hooks");
	assert_true(r.replay_used);
	cde_auth_forget(auth, &r);
	/* Within 5 minutes either way. */
	r = post(standard(&h, HOOKS_SECRET, "msg_11", now - CDE_AUTH_WEBHOOK_TOLERANCE_S, body), body);
	assert_int_equal(r.status, 0);
	cde_auth_forget(auth, &r);
}

static void a_standard_webhook_signature_by_another_key_or_over_another_body_is_401(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":12}";
	struct cde_auth_result r = post(standard(&h, "whsec_" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "msg_12",
					     now, body), body);

	assert_int_equal(r.status, 401);
	assert_string_equal(r.reason, "webhook-signature does not match");
	r = post(standard(&h, HOOKS_SECRET, "msg_12", now, body), "{\"n\":13}");
	assert_int_equal(r.status, 401);
}

static void a_stale_or_future_webhook_timestamp_is_401(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":14}";
	struct cde_auth_result r;

	r = post(standard(&h, HOOKS_SECRET, "msg_14", now - CDE_AUTH_WEBHOOK_TOLERANCE_S - 1, body), body);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.reason, "webhook-timestamp is not within 5 minutes of now");
	r = post(standard(&h, HOOKS_SECRET, "msg_14", now + CDE_AUTH_WEBHOOK_TOLERANCE_S + 1, body), body);
	assert_int_equal(r.status, 401);
	r = post(HEADERS("webhook-id: msg_14", "webhook-timestamp: soon", h.sig), body);
	assert_int_equal(r.status, 401);
}

static void a_webhook_signature_without_its_id_or_timestamp_is_401(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":15}";
	struct cde_auth_result r;

	standard(&h, HOOKS_SECRET, "msg_15", now, body);
	r = post(HEADERS(h.ts, h.sig), body);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.reason, "needs webhook-id, webhook-timestamp and webhook-signature"));
	r = post(HEADERS(h.id, h.sig), body);
	assert_int_equal(r.status, 401);
	r = post(HEADERS("webhook-id: ", h.ts, h.sig), body);
	assert_int_equal(r.status, 401);
}

static void a_webhook_id_is_503_while_pending_and_resent_once_confirmed_even_resigned(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":16}";
	struct cde_auth_result first = post(standard(&h, HOOKS_SECRET, "msg_16", now, body), body), r;

	assert_int_equal(first.status, 0);
	r = post(h.list, body);
	assert_int_equal(r.status, 503);
	cde_auth_confirm(auth, &first, now);
	r = post(h.list, body);
	assert_int_equal(r.status, CDE_AUTH_RESENT);
	assert_string_equal(r.principal, "hooks");
	/* The sender's retry: same id, a new timestamp and signature. */
	r = post(standard(&h, HOOKS_SECRET, "msg_16", now + 30, body), body);
	assert_int_equal(r.status, CDE_AUTH_RESENT);
}

static void a_signed_request_refused_for_its_scope_uses_up_no_id(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":17}";
	struct cde_auth_result r;

	r = check("GET", standard(&h, HOOKS_SECRET, "msg_17", now, body), body, CDE_SCOPE_QUERY, false, false);
	assert_int_equal(r.status, 403);
	assert_false(r.replay_used);
	r = post(h.list, body);
	assert_int_equal(r.status, 0);
	cde_auth_forget(auth, &r);
}

static void a_signed_read_is_confirmed_at_once_so_its_copy_is_a_resend(void **state)
{
	struct signed_headers h;
	struct cde_auth_result r;

	r = check("GET", standard(&h, WATCH_SECRET, "read_1", now, ""), "", CDE_SCOPE_QUERY, false, false);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.principal, "watcher");
	assert_false(r.replay_used);
	r = check("GET", h.list, "", CDE_SCOPE_QUERY, false, false);
	assert_int_equal(r.status, CDE_AUTH_RESENT);
}

/* ---- dry runs ---- */

static void a_dry_run_records_nothing_but_sees_a_resend(void **state)
{
	struct signed_headers h;
	const char *body = "{\"n\":18}";
	struct cde_auth_result r, first;

	r = check("POST", standard(&h, HOOKS_SECRET, "msg_18", now, body), body, CDE_SCOPE_EMIT, true, false);
	assert_int_equal(r.status, 0);
	assert_true(r.has_replay_key);
	assert_false(r.replay_used);
	/* Nothing was recorded: the real request goes through, not 503. */
	first = post(h.list, body);
	assert_int_equal(first.status, 0);
	cde_auth_confirm(auth, &first, now);
	r = check("POST", h.list, body, CDE_SCOPE_EMIT, true, false);
	assert_int_equal(r.status, CDE_AUTH_RESENT);
}

/* ---- the head: headers alone ---- */

static void at_the_head_a_bearer_token_is_decided_in_full(void **state)
{
	assert_int_equal(check("POST", HEADERS("Authorization: Bearer " CI_TOKEN), NULL, CDE_SCOPE_EMIT, false, true)
				 .status, 0);
	assert_int_equal(check("POST", HEADERS("Authorization: Bearer " READER_TOKEN), NULL, CDE_SCOPE_EMIT, false,
			       true).status, 403);
	assert_int_equal(check("POST", HEADERS("Authorization: Bearer nobody"), NULL, CDE_SCOPE_EMIT, false, true)
				 .status, 401);
	assert_int_equal(check("POST", NULL, NULL, CDE_SCOPE_EMIT, false, true).status, 401);
}

static void at_the_head_a_signed_request_some_principal_could_have_signed_is_worth_reading(void **state)
{
	struct signed_headers h;
	struct github_headers g;
	struct cde_auth_result r;

	/* The signature is over a body not read yet: it is not judged. */
	r = check("POST", github(&g, "anyone", "{}"), NULL, CDE_SCOPE_EMIT, false, true);
	assert_int_equal(r.status, 0);
	r = check("POST", standard(&h, "whsec_" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "msg_19", now, "{}"), NULL,
		  CDE_SCOPE_EMIT, false, true);
	assert_int_equal(r.status, 0);
	assert_false(r.replay_used);
	/* And remembering nothing: the whole request goes through. */
	standard(&h, HOOKS_SECRET, "msg_19", now, "{}");
	assert_int_equal(check("POST", h.list, NULL, CDE_SCOPE_EMIT, false, true).status, 0);
	r = post(h.list, "{}");
	assert_int_equal(r.status, 0);
	cde_auth_forget(auth, &r);
}

static void at_the_head_a_stale_or_incomplete_webhook_signature_is_401(void **state)
{
	struct signed_headers h;

	standard(&h, HOOKS_SECRET, "msg_20", now - CDE_AUTH_WEBHOOK_TOLERANCE_S - 60, "{}");
	assert_int_equal(check("POST", h.list, NULL, CDE_SCOPE_EMIT, false, true).status, 401);
	standard(&h, HOOKS_SECRET, "msg_20", now, "{}");
	assert_int_equal(check("POST", HEADERS(h.ts, h.sig), NULL, CDE_SCOPE_EMIT, false, true).status, 401);
	assert_int_equal(check("POST", HEADERS(h.id, h.sig), NULL, CDE_SCOPE_EMIT, false, true).status, 401);
}

static void at_the_head_a_signature_kind_no_principal_holds_is_401(void **state)
{
	static struct cde_config tokens_only;
	struct cde_auth *a = NULL, *saved = auth;
	struct cde_errors errs;
	struct signed_headers h;
	struct github_headers g;
	struct cde_config_principal *p;

	cde_config_defaults(&tokens_only);
	p = &tokens_only.principals[tokens_only.n_principals++];
	snprintf(p->name, sizeof(p->name), "ci");
	p->scopes = CDE_SCOPE_EMIT;
	snprintf(p->token_env, sizeof(p->token_env), "CDE_TEST_CI_TOKEN");
	cde_errors_reset(&errs);
	assert_int_equal(cde_auth_new(&tokens_only, &a, &errs), 0);
	auth = a;
	assert_int_equal(check("POST", github(&g, GITHUB_SECRET, "{}"), NULL, CDE_SCOPE_EMIT, false, true).status, 401);
	assert_int_equal(check("POST", standard(&h, HOOKS_SECRET, "msg_21", now, "{}"), NULL, CDE_SCOPE_EMIT, false,
			       true).status, 401);
	auth = saved;
	cde_auth_free(a);
}

/* ---- sources ---- */

static void a_principal_with_sources_may_post_only_under_them(void **state)
{
	assert_true(cde_auth_source_allowed(auth, "hooks", "/hooks"));
	assert_true(cde_auth_source_allowed(auth, "hooks", "/hooks/team-a/job"));
	assert_false(cde_auth_source_allowed(auth, "hooks", "/hooksmith"));
	assert_false(cde_auth_source_allowed(auth, "hooks", "/ci"));
	assert_false(cde_auth_source_allowed(auth, "hooks", "/hooks/../ci"));
	assert_false(cde_auth_source_allowed(auth, "hooks", "/hooks/%2E%2e/ci"));
	assert_false(cde_auth_source_allowed(auth, "hooks", "/hooks/./x"));
	/* A principal that lists none may use any; an unknown one none. */
	assert_true(cde_auth_source_allowed(auth, "ci", "/anything"));
	assert_false(cde_auth_source_allowed(auth, "nobody", "/hooks"));
	assert_false(cde_auth_source_allowed(auth, CDE_AUTH_ANONYMOUS, "/hooks"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(without_principals_everyone_is_anonymous_and_may_do_anything),
		cmocka_unit_test(a_known_token_holding_the_scope_is_its_principal),
		cmocka_unit_test(a_known_token_without_the_scope_is_403_naming_its_principal),
		cmocka_unit_test(an_unknown_or_malformed_token_or_none_is_401),
		cmocka_unit_test(a_token_shorter_than_32_characters_or_shared_by_two_principals_is_refused_at_load),
		cmocka_unit_test(a_github_signature_over_the_body_is_its_principal),
		cmocka_unit_test(a_github_signature_by_another_secret_or_over_another_body_is_401),
		cmocka_unit_test(a_github_body_is_503_while_pending_and_resent_once_confirmed),
		cmocka_unit_test(a_forgotten_github_body_is_accepted_again),
		cmocka_unit_test(a_standard_webhook_signature_is_its_principal),
		cmocka_unit_test(a_standard_webhook_signature_by_another_key_or_over_another_body_is_401),
		cmocka_unit_test(a_stale_or_future_webhook_timestamp_is_401),
		cmocka_unit_test(a_webhook_signature_without_its_id_or_timestamp_is_401),
		cmocka_unit_test(a_webhook_id_is_503_while_pending_and_resent_once_confirmed_even_resigned),
		cmocka_unit_test(a_signed_request_refused_for_its_scope_uses_up_no_id),
		cmocka_unit_test(a_signed_read_is_confirmed_at_once_so_its_copy_is_a_resend),
		cmocka_unit_test(a_dry_run_records_nothing_but_sees_a_resend),
		cmocka_unit_test(at_the_head_a_bearer_token_is_decided_in_full),
		cmocka_unit_test(at_the_head_a_signed_request_some_principal_could_have_signed_is_worth_reading),
		cmocka_unit_test(at_the_head_a_stale_or_incomplete_webhook_signature_is_401),
		cmocka_unit_test(at_the_head_a_signature_kind_no_principal_holds_is_401),
		cmocka_unit_test(a_principal_with_sources_may_post_only_under_them),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
