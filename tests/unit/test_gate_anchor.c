/* A gate with `from` and correlation (gate_anchor.c, issue 18): an event
 * posted without a chainId joins a chain through an earlier event of any
 * principal (the log keeps which: chain_via), so a trusted run can be
 * steered into a release's chain by an event someone outside `from`
 * planted there. Such a run is no evidence, nor does a trusted build so
 * steered make another release's chain the artifact's; a run that joined
 * through a trusted event (or through one that did) is, and without
 * `from` every event is, as before. Over the stand-in log of the gate's
 * other tests, each row with the principal that posted it and its via. */

#include "tests/unit/audit_stand_in.h"

#include "events/ids.h"
#include "sinks/audit/answers/gate.h"

#define ART "pkg:oci/etl@sha256%3Aabc"
#define SUITE_GATE "{\"prod\":{%s\"require\":[{\"build\":true},{\"tests\":{\"suites\":[\"data-contract\"]}}]}}"
#define FROM_CI "\"from\":[\"ci\",\"tekton\"],"
#define DC_SUCCESS "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"},\"outcome\":\"success\"}"

static struct cde_gate_set gates;

/* The gate (@from: FROM_CI or "") evaluated for ART. */
static cJSON *evaluate(const char *from)
{
	char json[512];
	cJSON *doc, *out = NULL;
	struct cde_errors errs;
	struct timespec now;

	snprintf(json, sizeof(json), SUITE_GATE, from);
	doc = cJSON_Parse(json);
	assert_non_null(doc);
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, NULL, &gates, &errs), 0);
	cJSON_Delete(doc);
	assert_int_equal(cde_timestamp_read("2026-03-03T00:00:00Z", &now), 0);
	assert_int_equal(cde_gate_evaluate(cde_gate_set_find(&gates, "prod"), ART, now.tv_sec, &stand_in, &out), 0);
	assert_non_null(out);
	return out;
}

static const char *decision(const cJSON *out)
{
	return member(out, "decision", NULL, NULL);
}

/* The reason of requirement @i ("" when met). */
static const char *reason(const cJSON *out, int i)
{
	const char *r = member(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "requirements"), i),
			       "reason", NULL, NULL);

	return r ? r : "";
}

/* Posts as @who; the row @via (0: none) is the one it joined through. */
static uint64_t post_as(const char *who, uint64_t via, const char *received, const char *type, const char *subject,
			const char *chain, const char *content)
{
	uint64_t seq;

	poster = who;
	seq = post(received, type, subject, chain, content);
	rows[seq - 1].via = via;
	return seq;
}

static uint64_t build_of_art(const char *who, uint64_t via, const char *chain)
{
	return post_as(who, via, "2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", chain,
		       "{\"artifactId\":\"" ART "\"}");
}

/* The intruder plants a run of dc-2 in release r-1; the bot's own run of
 * dc-2 (for something else), posted without a chainId, joins r-1 through
 * it by subject. */
static void a_trusted_run_that_joined_through_an_intruders_event_is_no_evidence(void **state)
{
	uint64_t planted;
	cJSON *out;

	build_of_art("ci", 0, "r-1");
	planted = post_as("intruder", 0, "2026-03-01T08:01:00Z", "testsuiterun.started.0.3.0", "dc-2", "r-1",
			  "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"}}");
	post_as("ci", planted, "2026-03-01T08:02:00Z", "testsuiterun.finished.0.3.0", "dc-2", "r-1", DC_SUCCESS);
	out = evaluate(FROM_CI);
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 1), "no run of test suite data-contract finished in the artifact's chains");
	cJSON_Delete(out);

	/* Without `from` everyone's evidence counts, as the README warns. */
	out = evaluate("");
	assert_string_equal(decision(out), "allow");
	cJSON_Delete(out);
}

/* Anchoring follows the via links: a run that joined through the bot's
 * own start (itself in the chain by the bot's chainId) counts, as does
 * one that joined through Tekton's event, trusted too. */
static void a_run_that_joined_through_trusted_events_is_evidence(void **state)
{
	uint64_t started, tekton;
	cJSON *out;

	build_of_art("ci", 0, "r-1");
	started = post_as("ci", 0, "2026-03-01T08:01:00Z", "testsuiterun.started.0.3.0", "dc-3", "r-1",
			  "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"}}");
	tekton = post_as("tekton", started, "2026-03-01T08:02:00Z", "testsuiterun.queued.0.3.0", "dc-3", "r-1",
			 "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"}}");
	post_as("ci", tekton, "2026-03-01T08:03:00Z", "testsuiterun.finished.0.3.0", "dc-3", "r-1", DC_SUCCESS);
	out = evaluate(FROM_CI);
	assert_string_equal(decision(out), "allow");
	cJSON_Delete(out);
}

/* A via the chain does not hold before the row (a row of another chain,
 * one retention deleted) anchors nothing. */
static void a_via_outside_the_chain_anchors_nothing(void **state)
{
	uint64_t elsewhere;
	cJSON *out;

	elsewhere = post_as("ci", 0, "2026-03-01T07:00:00Z", "testsuiterun.started.0.3.0", "dc-4", "r-0",
			    "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"}}");
	build_of_art("ci", 0, "r-1");
	post_as("ci", elsewhere, "2026-03-01T08:03:00Z", "testsuiterun.finished.0.3.0", "dc-4", "r-1", DC_SUCCESS);
	post_as("ci", 99, "2026-03-01T08:04:00Z", "testsuiterun.finished.0.3.0", "dc-5", "r-1", DC_SUCCESS);
	out = evaluate(FROM_CI);
	assert_string_equal(decision(out), "deny");
	cJSON_Delete(out);
}

/* The intruder names the artifact in release W's chain (where W's tests
 * passed); the bot's build of the artifact, without a chainId, joins W's
 * chain through it by artifact. The build is the bot's own word (met),
 * but W's chain is not the artifact's: W's tests do not count. */
static void a_trusted_build_steered_into_another_release_does_not_bring_its_tests(void **state)
{
	uint64_t planted;
	cJSON *out;

	post_as("ci", 0, "2026-03-01T07:00:00Z", "testsuiterun.finished.0.3.0", "dc-w", "r-w", DC_SUCCESS);
	planted = post_as("intruder", 0, "2026-03-01T07:30:00Z", "artifact.published.0.3.0", ART, "r-w", "{}");
	build_of_art("ci", planted, "r-w");
	out = evaluate(FROM_CI);
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "");
	assert_string_equal(reason(out, 1), "no run of test suite data-contract finished in the artifact's chains");
	assert_null(member(out, "chainId", NULL, NULL));
	cJSON_Delete(out);

	out = evaluate("");
	assert_string_equal(decision(out), "allow");
	cJSON_Delete(out);
}

/* Cross-tool: a task run naming the artifact joined the pipeline run's
 * chain through the pipeline run (trusted): that chain is the artifact's,
 * read once to know it, and its tests count. */
static void a_chain_joined_through_a_trusted_event_is_the_artifacts(void **state)
{
	uint64_t run;
	cJSON *out;

	run = post_as("tekton", 0, "2026-03-01T07:00:00Z", "pipelinerun.started.0.3.0", "run-7", "r-p",
		      "{\"pipelineName\":\"release\"}");
	post_as("ci", run, "2026-03-01T07:10:00Z", "testsuiterun.finished.0.3.0", "dc-7", "r-p", DC_SUCCESS);
	post_as("tekton", run, "2026-03-01T07:20:00Z", "taskrun.finished.0.3.0", "task-3", "r-p",
		"{\"pipelineRun\":{\"id\":\"run-7\"},\"artifactId\":\"" ART "\"}");
	build_of_art("ci", 3, "r-p");
	out = evaluate(FROM_CI);
	assert_string_equal(decision(out), "allow");
	assert_string_equal(member(out, "chainId", NULL, NULL), "r-p");
	cJSON_Delete(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_trusted_run_that_joined_through_an_intruders_event_is_no_evidence, reset),
		cmocka_unit_test_setup(a_run_that_joined_through_trusted_events_is_evidence, reset),
		cmocka_unit_test_setup(a_via_outside_the_chain_anchors_nothing, reset),
		cmocka_unit_test_setup(a_trusted_build_steered_into_another_release_does_not_bring_its_tests, reset),
		cmocka_unit_test_setup(a_chain_joined_through_a_trusted_event_is_the_artifacts, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
