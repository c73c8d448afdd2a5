/* Signed requests: the schemes' published test vectors verify, and any
 * change to body, secret, id, timestamp or signature does not. */

#include "tests/unit/helpers.h"

#include "events/signatures.h"

static void github_published_vector_verifies(void **state)
{
	const char *secret = "It's a Secret to Everybody";
	const char *sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

	assert_true(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World!", 13, sig));
	assert_false(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World?", 13, sig));
	assert_false(cde_sig_github_verify((const uint8_t *)"other", 5, "Hello, World!", 13, sig));
	assert_false(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World!", 13,
					   "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18"));
	assert_false(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World!", 13,
					   "sha1=757107ea0eb2509fc211221cce984b8a37570b6d"));
	assert_false(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World!", 13,
					   "sha256=757107"));
	assert_false(cde_sig_github_verify((const uint8_t *)secret, strlen(secret), "Hello, World!", 13, NULL));
}

static void standard_webhooks_published_vector_verifies(void **state)
{
	uint8_t key[CDE_SIG_KEY_MAX];
	int n = cde_sig_standard_decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key);
	const char *id = "msg_p5jXN8AQM9LWM0D4loKWxJek", *ts = "1614265330";
	const char *body = "{\"test\": 2432232314}";
	const char *sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

	assert_int_equal(n, 24);
	assert_true(cde_sig_standard_verify(key, (size_t)n, id, ts, body, strlen(body), sig));
	/* Key rotation: the right signature among others. */
	assert_true(cde_sig_standard_verify(key, (size_t)n, id, ts, body, strlen(body),
					    "v1,bm9wZQ== v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
	assert_false(cde_sig_standard_verify(key, (size_t)n, id, "1614265331", body, strlen(body), sig));
	/* Signing what we send gives the published signature back. */
	char made[CDE_SIG_STANDARD_LEN];

	assert_int_equal(cde_sig_standard_sign(key, (size_t)n, id, ts, body, strlen(body), made), 0);
	assert_string_equal(made, sig);
	assert_int_equal(cde_sig_standard_sign(key, (size_t)n, "msg.1", ts, body, strlen(body), made), -EINVAL);
	assert_false(cde_sig_standard_verify(key, (size_t)n, "msg_other", ts, body, strlen(body), sig));
	assert_false(cde_sig_standard_verify(key, (size_t)n, id, ts, "{\"test\": 2432232315}", strlen(body), sig));
	assert_false(cde_sig_standard_verify(key, (size_t)n, id, ts, body, strlen(body),
					     "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
	assert_false(cde_sig_standard_verify(key, (size_t)n, id, ts, body, strlen(body), ""));
	/* The prefix is optional; malformed secrets are refused. */
	assert_int_equal(cde_sig_standard_decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key), 24);
	assert_int_equal(cde_sig_standard_decode_secret("whsec_", key), -EINVAL);
	assert_int_equal(cde_sig_standard_decode_secret("whsec_abc", key), -EINVAL);
	assert_int_equal(cde_sig_standard_decode_secret("whsec_!!!!", key), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(github_published_vector_verifies),
		cmocka_unit_test(standard_webhooks_published_vector_verifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
