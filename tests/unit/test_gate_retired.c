/* A gate over a chain retention has cut (issue 18, F2): retention deletes
 * the oldest rows of the log whatever chain they are in, so what is left
 * of a chain may lack the failed run that would deny. A gate whose source
 * says one of the artifact's chains was cut (chain_retired) denies without
 * judging, naming the chain and the last seq deleted of it, in the
 * answer's reason and in each requirement's; a source without
 * chain_retired (one that never deletes) is judged as before, and a cut
 * chain that is not the artifact's changes nothing. So does one whose
 * source says rows naming the artifact itself were deleted
 * (artifact_retired, review 4 R1): a chain whose build row went no longer
 * links to the artifact, and its failed run would go unread. Over the
 * stand-in log of the gate's other tests. */

#include "tests/unit/audit_stand_in.h"

#include "events/ids.h"
#include "sinks/audit/answers/gate.h"

#define ART "pkg:oci/etl@sha256%3Ax01"
#define GATE "{\"prod\":{\"require\":[{\"build\":true},{\"test_case\":{\"type\":\"security\"}}]}}"
#define CASE(id, outcome)                                                                                   \
	"{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"" id "\",\"type\":\"security\"},\"outcome\":\"" \
	outcome "\"}"

static struct cde_gate_set gates;

/* The chain the stand-in's retention cut (NULL: none), up to cut_seq;
 * cut_error: what asking returns. */
static const char *cut_chain;
static uint64_t cut_seq;
static int cut_error;
static unsigned asked;
static unsigned cut_from_ask;	/* the cut is there from this ask on (0 and 1: from the first) */

static int cut(void *ctx, const char *chain, uint64_t *ret)
{
	(void)ctx;
	asked++;
	*ret = cut_chain && strcmp(chain, cut_chain) == 0 && asked >= cut_from_ask ? cut_seq : 0;
	return cut_error;
}

static const struct cde_audit_source retiring = { .query = stand_in_query, .chain_retired = cut };

/* The artifact the stand-in's retention deleted rows naming (NULL: none),
 * up to art_cut_seq, from the art_cut_from_ask-th ask on. */
static const char *art_cut;
static uint64_t art_cut_seq;
static unsigned art_asked, art_cut_from_ask;

static int cut_artifact(void *ctx, const char *artifact, uint64_t *ret)
{
	(void)ctx;
	art_asked++;
	*ret = art_cut && strcmp(artifact, art_cut) == 0 && art_asked >= art_cut_from_ask ? art_cut_seq : 0;
	return 0;
}

static const struct cde_audit_source retiring_all = { .query = stand_in_query, .chain_retired = cut,
						      .artifact_retired = cut_artifact };

static int evaluate_gate(const char *gate, const struct cde_audit_source *src, cJSON **out)
{
	cJSON *doc = cJSON_Parse(gate);
	struct cde_errors errs;
	struct timespec now;

	assert_non_null(doc);
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, NULL, &gates, &errs), 0);
	cJSON_Delete(doc);
	assert_int_equal(cde_timestamp_read("2026-03-03T00:00:00Z", &now), 0);
	*out = NULL;
	return cde_gate_evaluate(cde_gate_set_find(&gates, "prod"), ART, now.tv_sec, src, out);
}

static int evaluate(const struct cde_audit_source *src, cJSON **out)
{
	return evaluate_gate(GATE, src, out);
}

static const cJSON *req(const cJSON *out, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "requirements"), i);
}

/* r7: the failed sast run was in rx's rows retention deleted; the dast
 * success and the build are what is left. */
static void what_retention_left(void)
{
	post("2026-03-01T08:05:00Z", "testcaserun.finished.0.3.0", "run-dast", "rx", CASE("dast", "success"));
	post("2026-03-01T08:06:00Z", "build.finished.0.3.0", "b-x", "rx", "{\"artifactId\":\"" ART "\"}");
}

static int reset_cut(void **state)
{
	cut_chain = NULL;
	cut_seq = 0;
	cut_error = 0;
	asked = 0;
	cut_from_ask = 0;
	art_cut = NULL;
	art_cut_seq = 0;
	art_asked = 0;
	art_cut_from_ask = 0;
	return reset(state);
}

static void a_chain_retention_cut_is_denied_without_judging(void **state)
{
	cJSON *out;

	what_retention_left();
	cut_chain = "rx";
	cut_seq = 1;
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_string_equal(member(out, "reason", NULL, NULL),
			    "evidence retired: retention deleted events of chain rx (up to seq 1); "
			    "the gate does not judge it");
	for (int i = 0; i < 2; i++) {
		assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req(out, i), "met")));
		assert_null(cJSON_GetObjectItemCaseSensitive(req(out, i), "seq"));
		assert_string_equal(member(req(out, i), "reason", NULL, NULL),
				    "not judged: retention deleted events of chain rx (up to seq 1)");
	}
	cJSON_Delete(out);
}

/* Retention commits between the gate's check of its chains and their
 * reads (the reads see what it left): the check after the reads sees it. */
static void a_chain_cut_while_the_gate_reads_is_denied_too(void **state)
{
	cJSON *out;

	what_retention_left();
	cut_chain = "rx";
	cut_seq = 1;
	cut_from_ask = 2;
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_int_equal(asked, 2);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_non_null(strstr(member(out, "reason", NULL, NULL), "evidence retired"));
	cJSON_Delete(out);
}

static void a_source_that_never_deletes_is_judged_as_before(void **state)
{
	cJSON *out;

	what_retention_left();
	assert_int_equal(evaluate(&stand_in, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "reason"));
	cJSON_Delete(out);
	/* nor does a source that says no chain was cut change anything */
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");
	assert_int_equal(asked, 2);	/* its chain, before and after the reads */
	cJSON_Delete(out);
}

static void a_cut_chain_that_is_not_the_artifacts_changes_nothing(void **state)
{
	cJSON *out;

	post("2026-03-01T08:00:00Z", "testcaserun.finished.0.3.0", "run-sast", "other", CASE("sast", "failure"));
	what_retention_left();
	cut_chain = "other";
	cut_seq = 7;
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");
	cJSON_Delete(out);
}

/* The artifact's second chain was cut: the first alone is not judged. */
static void any_of_the_artifacts_chains_cut_denies(void **state)
{
	cJSON *out;

	what_retention_left();
	post("2026-03-01T09:00:00Z", "artifact.signed.0.3.0", ART, "ry", "{\"signature\":\"MEUCIQ\"}");
	cut_chain = "ry";
	cut_seq = 2;
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_non_null(strstr(member(out, "reason", NULL, NULL), "chain ry (up to seq 2)"));
	cJSON_Delete(out);
}

/* With `from`, a trusted event naming the artifact that joined chain rz
 * by correlation makes rz the artifact's only when what it joined
 * through is anchored there; retention cut rz, maybe that very row, so
 * rz is taken as the artifact's, and denied unjudged. */
static void a_cut_chain_joined_by_correlation_is_the_artifacts_and_denies(void **state)
{
	const char *from_ci = "{\"prod\":{\"from\":[\"ci\"],\"require\":[{\"build\":true},"
			      "{\"test_case\":{\"type\":\"security\"}}]}}";
	uint64_t signed_seq;
	cJSON *out;

	what_retention_left();
	signed_seq = post("2026-03-01T09:00:00Z", "artifact.signed.0.3.0", ART, "rz", "{\"signature\":\"MEUCIQ\"}");
	rows[signed_seq - 1].via = 1;	/* no longer there */
	assert_int_equal(evaluate_gate(from_ci, &retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");	/* rz uncut: not the artifact's */
	cJSON_Delete(out);
	cut_chain = "rz";
	cut_seq = 1;
	assert_int_equal(evaluate_gate(from_ci, &retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_non_null(strstr(member(out, "reason", NULL, NULL), "chain rz (up to seq 1)"));
	cJSON_Delete(out);
}

/* R1: retention deleted rx's build naming the artifact (seq 1), not its
 * failed sast run; rx no longer links to the artifact, and ry, a
 * reproducible build of it with a passing dast, would pass alone. */
static void what_retention_left_of_the_artifact(void)
{
	post("2026-03-01T08:05:00Z", "testcaserun.finished.0.3.0", "run-sast", "rx", CASE("sast", "failure"));
	post("2026-03-01T08:06:00Z", "build.finished.0.3.0", "b-x2", "ry", "{\"artifactId\":\"" ART "\"}");
	post("2026-03-01T08:07:00Z", "testcaserun.finished.0.3.0", "run-dast", "ry", CASE("dast", "success"));
}

static void an_artifact_retention_cut_is_denied_without_judging(void **state)
{
	cJSON *out;

	what_retention_left_of_the_artifact();
	art_cut = ART;
	art_cut_seq = 1;
	assert_int_equal(evaluate(&retiring_all, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_string_equal(member(out, "reason", NULL, NULL),
			    "evidence retired: retention deleted events naming the artifact (up to seq 1); "
			    "the gate does not judge it");
	for (int i = 0; i < 2; i++) {
		assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req(out, i), "met")));
		assert_string_equal(member(req(out, i), "reason", NULL, NULL),
				    "not judged: retention deleted events naming the artifact (up to seq 1)");
	}
	cJSON_Delete(out);
}

/* A source without artifact_retired, or one that says the artifact was
 * not cut, judges what it reads (ry alone: allow). */
static void without_an_artifact_cut_the_gate_judges_as_before(void **state)
{
	cJSON *out;

	what_retention_left_of_the_artifact();
	art_cut = ART;
	art_cut_seq = 1;
	assert_int_equal(evaluate(&retiring, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");
	cJSON_Delete(out);
	assert_int_equal(art_asked, 0);
	art_cut = "pkg:oci/other@sha256%3Ax09";
	assert_int_equal(evaluate(&retiring_all, &out), 0);
	assert_string_equal(member(out, "decision", NULL, NULL), "allow");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "reason"));
	assert_int_equal(art_asked, 2);	/* before and after the reads */
	cJSON_Delete(out);
}

/* Retention commits between the gate's first ask and its reads. */
static void an_artifact_cut_while_the_gate_reads_is_denied_too(void **state)
{
	cJSON *out;

	what_retention_left_of_the_artifact();
	art_cut = ART;
	art_cut_seq = 1;
	art_cut_from_ask = 2;
	assert_int_equal(evaluate(&retiring_all, &out), 0);
	assert_int_equal(art_asked, 2);
	assert_string_equal(member(out, "decision", NULL, NULL), "deny");
	assert_non_null(strstr(member(out, "reason", NULL, NULL), "naming the artifact (up to seq 1)"));
	cJSON_Delete(out);
}

/* Not knowing is not allowing: the source's error is the answer. */
static void a_source_that_cannot_tell_fails_the_evaluation(void **state)
{
	cJSON *out;

	what_retention_left();
	cut_error = -EIO;
	assert_int_equal(evaluate(&retiring, &out), -EIO);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_chain_retention_cut_is_denied_without_judging, reset_cut),
		cmocka_unit_test_setup(a_chain_cut_while_the_gate_reads_is_denied_too, reset_cut),
		cmocka_unit_test_setup(a_source_that_never_deletes_is_judged_as_before, reset_cut),
		cmocka_unit_test_setup(a_cut_chain_that_is_not_the_artifacts_changes_nothing, reset_cut),
		cmocka_unit_test_setup(any_of_the_artifacts_chains_cut_denies, reset_cut),
		cmocka_unit_test_setup(a_cut_chain_joined_by_correlation_is_the_artifacts_and_denies, reset_cut),
		cmocka_unit_test_setup(a_source_that_cannot_tell_fails_the_evaluation, reset_cut),
		cmocka_unit_test_setup(an_artifact_retention_cut_is_denied_without_judging, reset_cut),
		cmocka_unit_test_setup(without_an_artifact_cut_the_gate_judges_as_before, reset_cut),
		cmocka_unit_test_setup(an_artifact_cut_while_the_gate_reads_is_denied_too, reset_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
