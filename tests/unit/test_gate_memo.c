/* Recent gate decisions (daemon/gate_memo.c): the same principal asking
 * the same question, answered the same on the same evidence, within the
 * window, is answered with the decision on record; anything else that
 * matters to an auditor (who asked, the decision, a requirement's
 * evidence, time) asks for a new one. */

#include "tests/unit/helpers.h"

#include <cjson/cJSON.h>

#include "daemon/gate_memo.h"

static const char answer_json[] =
	"{\"environment\":\"prod\",\"artifact\":\"pkg:oci/etl@sha256%3Aaaa\",\"decision\":\"deny\","
	"\"requirements\":[{\"requirement\":\"build\",\"met\":true,\"seq\":3},"
	"{\"requirement\":\"deployed\",\"environment\":\"stage\",\"notRolledBackFor\":\"24h\",\"met\":false,\"seq\":9,"
	"\"reason\":\"deployed to stage 10s ago (seq 9): needs 24h without a rollback\"}],\"chainId\":\"r-1\"}";

static struct cde_gate_memo memo;
static struct cde_gate gate;	/* its from: none */

static int reset(void **state)
{
	(void)state;
	memset(&memo, 0, sizeof(memo));
	memset(&gate, 0, sizeof(gate));
	return 0;
}

static cJSON *answer(void)
{
	cJSON *a = cJSON_Parse(answer_json);

	assert_non_null(a);
	return a;
}

static void keep(const char *principal, const cJSON *a, time_t at, uint64_t seq)
{
	assert_int_equal(cde_gate_memo_keep(&memo, principal, &gate, a, at, "0190aaaa-0000-7000-8000-000000000001", seq), 0);
}

static void the_same_answer_soon_after_is_the_decision_on_record(void **state)
{
	cJSON *a = answer(), *later = answer();
	const struct cde_gate_memo_slot *s;

	(void)state;
	keep("ci", a, 1000, 42);
	/* A minute on, the soak's reason counts more seconds: same evidence. */
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(later, "requirements"), 1),
					       "reason", cJSON_CreateString("deployed to stage 70s ago"));
	s = cde_gate_memo_find(&memo, "ci", &gate, later, 1060);
	assert_non_null(s);
	assert_int_equal(s->seq, 42);
	assert_string_equal(s->id, "0190aaaa-0000-7000-8000-000000000001");
	cJSON_Delete(later);
	cJSON_Delete(a);
}

static void another_principal_asks_for_its_own_decision(void **state)
{
	cJSON *a = answer();

	(void)state;
	keep("ci", a, 1000, 42);
	assert_null(cde_gate_memo_find(&memo, "release-bot", &gate, a, 1001));
	cJSON_Delete(a);
}

static void new_evidence_or_another_decision_is_a_new_decision(void **state)
{
	cJSON *a = answer(), *b = answer(), *c = answer();
	cJSON *rows = cJSON_GetObjectItemCaseSensitive(b, "requirements");

	(void)state;
	keep("ci", a, 1000, 42);
	/* The soak ended: the same requirement met on the same seq. */
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(rows, 1), "met", cJSON_CreateTrue());
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, b, 1001));
	/* A later build: the same requirement met on newer evidence. */
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "requirements"), 0),
					       "seq", cJSON_CreateNumber(4));
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, c, 1001));
	cJSON_ReplaceItemInObjectCaseSensitive(a, "decision", cJSON_CreateString("allow"));
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, a, 1001));
	cJSON_Delete(c);
	cJSON_Delete(b);
	cJSON_Delete(a);
}

static void past_the_window_or_with_the_clock_set_back_a_new_one_is_written(void **state)
{
	cJSON *a = answer();

	(void)state;
	keep("ci", a, 1000, 42);
	assert_non_null(cde_gate_memo_find(&memo, "ci", &gate, a, 1000 + CDE_GATE_MEMO_SECONDS));
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, a, 1000 + CDE_GATE_MEMO_SECONDS + 1));
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, a, 999));
	cJSON_Delete(a);
}

static void another_question_never_gets_this_ones_decision(void **state)
{
	cJSON *a = answer(), *other = answer();

	(void)state;
	keep("ci", a, 1000, 42);
	cJSON_ReplaceItemInObjectCaseSensitive(other, "artifact", cJSON_CreateString("pkg:oci/etl@sha256%3Abbb"));
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, other, 1001));
	/* Fields run together ("c"+"iprod" vs "ci"+"prod") are no match. */
	cJSON_ReplaceItemInObjectCaseSensitive(other, "artifact", cJSON_CreateString("pkg:oci/etl@sha256%3Aaaa"));
	cJSON_ReplaceItemInObjectCaseSensitive(other, "environment", cJSON_CreateString("iprod"));
	assert_null(cde_gate_memo_find(&memo, "c", &gate, other, 1001));
	cJSON_Delete(other);
	cJSON_Delete(a);
}

static void a_gate_that_takes_evidence_from_others_asks_again(void **state)
{
	cJSON *a = answer();

	(void)state;
	keep("ci", a, 1000, 42);
	gate.n_from = 1;	/* reloaded with from: [release-bot] */
	snprintf(gate.from[0], sizeof(gate.from[0]), "release-bot");
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, a, 1001));
	cJSON_Delete(a);
}

static void an_answer_missing_its_question_is_never_matched(void **state)
{
	cJSON *bare = cJSON_Parse("{\"decision\":\"allow\",\"requirements\":[]}");

	(void)state;
	assert_int_equal(cde_gate_memo_keep(&memo, "ci", &gate, bare, 1000, "x", 1), -EINVAL);
	assert_null(cde_gate_memo_find(&memo, "ci", &gate, bare, 1000));
	cJSON_Delete(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(the_same_answer_soon_after_is_the_decision_on_record, reset),
		cmocka_unit_test_setup(another_principal_asks_for_its_own_decision, reset),
		cmocka_unit_test_setup(new_evidence_or_another_decision_is_a_new_decision, reset),
		cmocka_unit_test_setup(past_the_window_or_with_the_clock_set_back_a_new_one_is_written, reset),
		cmocka_unit_test_setup(another_question_never_gets_this_ones_decision, reset),
		cmocka_unit_test_setup(a_gate_that_takes_evidence_from_others_asks_again, reset),
		cmocka_unit_test_setup(an_answer_missing_its_question_is_never_matched, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
