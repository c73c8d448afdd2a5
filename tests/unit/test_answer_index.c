/* The analyses' string index (sinks/audit/answers/answer_index.c): every
 * key added is found with its number through growth, a key is added
 * once, keys that all hash alike are still told apart, each index has
 * its own hash key, SipHash-2-4 is the reference's, and an addition that
 * runs out of memory leaves the index as it was (tests/unit/oom.c makes
 * each allocation fail in turn). */

#include "tests/unit/helpers.h"
#include "tests/unit/oom.h"

#include "sinks/audit/answers/answer_index.h"

#define KEYS 10000

static char keys[KEYS][24];

static void make_keys(void)
{
	for (size_t i = 0; i < KEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "tests/case-%zu", i);
}

static void sip_hash_2_4_matches_the_reference_vectors(void **state)
{
	/* the reference's key 00..0f and messages 00 01 02 ... of 0, 7, 8 and 15 bytes */
	const uint64_t key[2] = { UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908) };
	unsigned char in[16];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	assert_true(cde_answer_siphash(in, 0, key) == UINT64_C(0x726fdb47dd0e0e31));
	assert_true(cde_answer_siphash(in, 7, key) == UINT64_C(0xab0200f58b01d137));
	assert_true(cde_answer_siphash(in, 8, key) == UINT64_C(0x93f5f5799a932462));
	assert_true(cde_answer_siphash(in, 15, key) == UINT64_C(0xa129ca6149be45e5));
}

static void every_key_added_is_found_with_its_number_through_growth(void **state)
{
	struct cde_answer_index ix;
	size_t v;

	(void)state;
	make_keys();
	cde_answer_index_init(&ix);
	assert_false(cde_answer_index_find(&ix, keys[0], &v)); /* empty: nothing allocated yet */
	for (size_t i = 0; i < KEYS; i++) {
		assert_int_equal(cde_answer_index_add(&ix, keys[i], i), 0);
		/* the earliest key survives each doubling */
		assert_true(cde_answer_index_find(&ix, keys[0], &v));
		assert_int_equal(v, 0);
	}
	assert_int_equal(ix.n, KEYS);
	assert_true(ix.n * 4 <= (ix.mask + 1) * 3); /* at most three quarters full */
	for (size_t i = 0; i < KEYS; i++) {
		assert_true(cde_answer_index_find(&ix, keys[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(cde_answer_index_find(&ix, "tests/case-10000", &v));
	assert_false(cde_answer_index_find(&ix, "", &v));
	cde_answer_index_release(&ix);
	assert_null(ix.slots);
	assert_int_equal(ix.n, 0);
}

static void a_key_is_added_once_and_keeps_its_first_number(void **state)
{
	struct cde_answer_index ix;
	char again[] = "tests/case-1";
	size_t v;

	(void)state;
	make_keys();
	cde_answer_index_init(&ix);
	assert_int_equal(cde_answer_index_add(&ix, keys[1], 1), 0);
	assert_int_equal(cde_answer_index_add(&ix, again, 99), -EEXIST); /* equal text, another buffer */
	assert_true(cde_answer_index_find(&ix, keys[1], &v));
	assert_int_equal(v, 1);
	assert_int_equal(ix.n, 1);
	cde_answer_index_release(&ix);
}

static uint64_t all_alike(const void *in, size_t len, const uint64_t key[2])
{
	(void)in;
	(void)len;
	(void)key;
	return 42;
}

static void keys_that_all_hash_alike_are_still_told_apart(void **state)
{
	struct cde_answer_index ix;
	size_t v;

	(void)state;
	make_keys();
	cde_answer_index_init(&ix);
	ix.hash = all_alike; /* one probe sequence for every key, across growths */
	for (size_t i = 0; i < 500; i++)
		assert_int_equal(cde_answer_index_add(&ix, keys[i], i), 0);
	assert_int_equal(cde_answer_index_add(&ix, keys[250], 0), -EEXIST);
	for (size_t i = 0; i < 500; i++) {
		assert_true(cde_answer_index_find(&ix, keys[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(cde_answer_index_find(&ix, keys[500], &v));
	cde_answer_index_release(&ix);
}

static void each_index_draws_its_own_hash_key(void **state)
{
	struct cde_answer_index a, b;

	(void)state;
	cde_answer_index_init(&a);
	cde_answer_index_init(&b);
	/* what collides in one table (a key its author could guess) does
	 * not in the next: 2^-128 odds of a false failure */
	assert_false(a.key[0] == b.key[0] && a.key[1] == b.key[1]);
	assert_true(a.hash("tests/case-1", 12, a.key) != b.hash("tests/case-1", 12, b.key));
	cde_answer_index_release(&a);
	cde_answer_index_release(&b);
}

/* Adds keys until one fails for lack of memory (allocation @fail_at);
 * the keys added before it must all still be there, the failed one not. */
static void add_until_out_of_memory(unsigned long fail_at)
{
	struct cde_answer_index ix;
	struct oom_stats st;
	size_t added = 0, v;
	int r = 0;

	cde_answer_index_init(&ix);
	oom_arm(fail_at, false, 0);
	while (added < 1000 && (r = cde_answer_index_add(&ix, keys[added], added)) == 0)
		added++;
	oom_disarm(&st);
	if (added < 1000) {
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(ix.n, added);
		assert_false(cde_answer_index_find(&ix, keys[added], &v));
	}
	for (size_t i = 0; i < added; i++) {
		assert_true(cde_answer_index_find(&ix, keys[i], &v));
		assert_int_equal(v, i);
	}
	/* the index still takes keys once memory is back */
	if (added < 1000)
		assert_int_equal(cde_answer_index_add(&ix, keys[added], added), 0);
	cde_answer_index_release(&ix);
	assert_int_equal(oom_live(true), 0);
}

static void an_addition_out_of_memory_leaves_the_index_as_it_was(void **state)
{
	struct oom_stats st;
	struct cde_answer_index ix;
	unsigned long total;

	(void)state;
	make_keys();
	cde_answer_index_init(&ix);
	oom_arm(0, false, 0);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(cde_answer_index_add(&ix, keys[i], i), 0);
	cde_answer_index_release(&ix);
	oom_disarm(&st);
	total = st.calls; /* the first table and each doubling */
	assert_true(total >= 6);
	for (unsigned long n = 1; n <= total; n++)
		add_until_out_of_memory(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sip_hash_2_4_matches_the_reference_vectors),
		cmocka_unit_test(every_key_added_is_found_with_its_number_through_growth),
		cmocka_unit_test(a_key_is_added_once_and_keeps_its_first_number),
		cmocka_unit_test(keys_that_all_hash_alike_are_still_told_apart),
		cmocka_unit_test(each_index_draws_its_own_hash_key),
		cmocka_unit_test(an_addition_out_of_memory_leaves_the_index_as_it_was),
	};

	oom_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
