/* Request heads and chunked bodies: what is accepted, and every shape of
 * smuggling and abuse that is refused, with its status. */

#include "tests/unit/helpers.h"

#include "daemon/http/parse.h"

static int parse(const char *text, struct cde_http_head *head, struct cde_http_error *err)
{
	static char buf[8192];
	size_t n = strlen(text);

	memcpy(buf, text, n + 1);
	return cde_http_parse_head(buf, n, 64, head, err);
}

static void parses_a_post_with_its_framing(void **state)
{
	struct cde_http_head h;
	struct cde_http_error err;

	assert_int_equal(parse("POST /v1/hooks/build?dry_run=1 HTTP/1.1\r\nHost: x\r\n"
			       "Content-Type:  application/json \r\nContent-Length: 42\r\n\r\n", &h, &err), 0);
	assert_int_equal(h.method, CDE_HTTP_POST);
	assert_string_equal(h.target, "/v1/hooks/build?dry_run=1");
	assert_int_equal(h.minor_version, 1);
	assert_int_equal(h.content_length, 42);
	assert_false(h.chunked);
	assert_true(h.keep_alive);
	assert_string_equal(cde_http_head_get(&h, "content-type"), "application/json");
	assert_null(cde_http_head_get(&h, "Authorization"));
}

static void knows_chunked_keep_alive_and_expect(void **state)
{
	struct cde_http_head h;
	struct cde_http_error err;

	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
			       "Connection: close\r\nExpect: 100-continue\r\n\r\n", &h, &err), 0);
	assert_true(h.chunked);
	assert_int_equal(h.content_length, -1);
	assert_false(h.keep_alive);
	assert_true(h.expect_continue);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h, &err), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, &err), 0);
	assert_true(h.keep_alive);
	/* Connection is a list of tokens, and close wins. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", &h, &err), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Close\r\n\r\n", &h, &err), 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: enclosed\r\n\r\n", &h, &err), 0);
	assert_true(h.keep_alive);
}

static void refuses_smuggling_shapes_with_400(void **state)
{
	static const struct {
		const char *head;
		int status;
		const char *reason;
	} cases[] = {
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400, "more than one Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", 400, "malformed Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n", 400, "more than one Content-Type" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "malformed Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "malformed Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400, "other than chunked" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "more than one Transfer-Encoding" },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0" },
		{ "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400, "bare CR" },
		{ "GET / HTTP/1.1\nHost: x\r\n\r\n", 400, "bare LF" },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "malformed header name" },
		{ "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "folded" },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01" "b\r\n\r\n", 400, "control character" },
		{ "GET / HTTP/1.1\r\n\r\n", 400, "missing Host" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host" },
		{ "GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, "origin-form" },
		{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1" },
		{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line" },
		{ "G\"T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed method" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417, "100-continue" },
		/* Credentials must be unambiguous: a proxy or an audit reading
		 * the second copy would see another sender than we do. */
		{ "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n", 400, "more than one Authorization" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=a\r\nX-Hub-Signature-256: sha256=b\r\n\r\n", 400, "more than one X-Hub-Signature-256" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nwebhook-id: a\r\nWebhook-Id: b\r\n\r\n", 400, "more than one webhook-id" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nwebhook-timestamp: 1\r\nwebhook-timestamp: 2\r\n\r\n", 400, "more than one webhook-timestamp" },
		{ "POST / HTTP/1.1\r\nHost: x\r\nwebhook-signature: v1,a\r\nwebhook-signature: v1,b\r\n\r\n", 400, "more than one webhook-signature" },
	};
	int failures = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cde_http_head h;
		struct cde_http_error err = { 0 };
		int r = parse(cases[i].head, &h, &err);

		if (r != -EINVAL || err.status != cases[i].status || !strstr(err.reason, cases[i].reason)) {
			print_message("case %zu: r=%d status=%d reason=%s\n", i, r, err.status,
				      err.reason ? err.reason : "(none)");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void refuses_a_nul_byte(void **state)
{
	char buf[] = "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n";
	struct cde_http_head h;
	struct cde_http_error err;

	assert_int_equal(cde_http_parse_head(buf, sizeof(buf) - 1, 64, &h, &err), -EINVAL);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.reason, "NUL"));
}

static void caps_the_number_of_fields(void **state)
{
	char text[4096];
	size_t o = 0;
	struct cde_http_head h;
	struct cde_http_error err;

	o += (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "X-%d: y\r\n", i);
	snprintf(text + o, sizeof(text) - o, "\r\n");
	assert_int_equal(parse(text, &h, &err), -EINVAL);
	assert_int_equal(err.status, 431);
}

/* Feeds @text to cde_http_head_end in pieces of @step bytes, as the
 * server does while they arrive; returns its last result. */
static int find_head_end(const char *text, size_t step, size_t *head_len, struct cde_http_error *err)
{
	size_t n = strlen(text), scanned = 0;
	int r = 0;

	for (size_t have = step < n ? step : n; r == 0; have = have + step < n ? have + step : n) {
		r = cde_http_head_end(text, have, &scanned, head_len, err);
		if (have == n)
			break;
	}
	return r;
}

static void finds_the_end_of_a_head_however_it_arrives(void **state)
{
	const char *text = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	struct cde_http_error err;
	size_t len = 0;

	for (size_t step = 1; step <= strlen(text); step++) {
		assert_int_equal(find_head_end(text, step, &len, &err), 1);
		assert_int_equal(len, strlen(text) - 2);
	}
	assert_int_equal(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r", 1, &len, &err), 0);
}

/* A line ending in a bare LF can never end a head: refused as soon as it
 * is seen, not at the head's deadline. */
static void refuses_bare_lf_and_cr_as_soon_as_they_arrive(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{ "GET / HTTP/1.1\nHost: x\n\n", "bare LF" },
		{ "GET / HTTP/1.1\r\nHost: x\n", "bare LF" },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\n", "bare LF" },
		{ "GET / HTTP/1.1\rHost: x", "bare CR" },
		{ "GET / HTTP/1.1\r\nHost: \x01x\r\n", "control character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 1; step <= strlen(cases[i].text); step++) {
			struct cde_http_error err = { 0 };
			size_t len;

			assert_int_equal(find_head_end(cases[i].text, step, &len, &err), -EINVAL);
			assert_int_equal(err.status, 400);
			assert_non_null(strstr(err.reason, cases[i].reason));
		}
	}
}

struct sink {
	char data[256];
	size_t len;
};

static int collect(void *ctx, const char *data, size_t n)
{
	struct sink *s = ctx;

	if (s->len + n > sizeof(s->data))
		return -ENOBUFS;
	memcpy(s->data + s->len, data, n);
	s->len += n;
	return 0;
}

/* Feeds @text one byte at a time, as a slow client would send it. */
static int feed_bytewise(const char *text, struct sink *s, uint64_t max, size_t *used_total)
{
	struct cde_http_chunked c = { 0 };
	size_t n = strlen(text), used;
	int r = 0;

	*used_total = 0;
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n && r == 0; i++) {
		r = cde_http_chunked_feed(&c, text + i, 1, &used, max, collect, s);
		*used_total += used;
	}
	return r;
}

static void decodes_chunked_bodies_however_they_are_split(void **state)
{
	const char *body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
	struct cde_http_chunked c = { 0 };
	struct sink s = { 0 };
	size_t used;

	assert_int_equal(cde_http_chunked_feed(&c, body, strlen(body), &used, 1024, collect, &s), 1);
	assert_int_equal(used, strlen(body) - 4); /* "NEXT" is the next request's */
	assert_int_equal(s.len, 23);
	assert_memory_equal(s.data, "Wikipedia in\r\n\r\nchunks.", 23);

	assert_int_equal(feed_bytewise(body, &s, 1024, &used), 1);
	assert_int_equal(s.len, 23);
}

static void refuses_malformed_or_oversized_chunks(void **state)
{
	struct sink s;
	size_t used;

	assert_int_equal(feed_bytewise("zz\r\n", &s, 1024, &used), -EINVAL);
	assert_int_equal(feed_bytewise("\r\n", &s, 1024, &used), -EINVAL);
	assert_int_equal(feed_bytewise("3\r\nabcX\r\n", &s, 1024, &used), -EINVAL);
	assert_int_equal(feed_bytewise("3\nabc\r\n", &s, 1024, &used), -EINVAL);
	assert_int_equal(feed_bytewise("ffffffffffffffffff\r\n", &s, UINT64_MAX, &used), -EINVAL);
	assert_int_equal(feed_bytewise("401\r\n", &s, 1024, &used), -EFBIG);
	assert_int_equal(feed_bytewise("200\r\n", &s, 1024, &used), 0); /* 512 bytes: fine so far */
	assert_int_equal(feed_bytewise("0\r\nBad\ntrailer\r\n\r\n", &s, 1024, &used), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_post_with_its_framing),
		cmocka_unit_test(knows_chunked_keep_alive_and_expect),
		cmocka_unit_test(refuses_smuggling_shapes_with_400),
		cmocka_unit_test(refuses_a_nul_byte),
		cmocka_unit_test(caps_the_number_of_fields),
		cmocka_unit_test(finds_the_end_of_a_head_however_it_arrives),
		cmocka_unit_test(refuses_bare_lf_and_cr_as_soon_as_they_arrive),
		cmocka_unit_test(decodes_chunked_bodies_however_they_are_split),
		cmocka_unit_test(refuses_malformed_or_oversized_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
