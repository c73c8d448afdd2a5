/* Promotion gates (sinks/audit/answers/gate.c, gate_rules.c): each
 * requirement met, missing, stale (a later failed run of the same suite
 * or case), and a deployment rolled back or too recent, over a stand-in
 * log that filters a table of events as the audit store does. */

#include "tests/unit/audit_stand_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/answers/gate.h"

#define ART "pkg:oci/etl@sha256%3Aabc"
#define OTHER "pkg:oci/etl@sha256%3Aold"

/* ---- gates as the configuration writes them ---- */

static const char prod_yaml_as_json[] =
	"{\"prod\":{\"require\":["
	"{\"build\":true},"
	"{\"tests\":{\"suites\":[\"unit\",\"data-contract\"],\"outcome\":\"success\"}},"
	"{\"test_case\":{\"type\":\"security\"}},"
	"{\"artifact\":\"signed\"},"
	"{\"sbom\":true},"
	"{\"deployed\":{\"environment\":\"stage\",\"not_rolled_back_for\":\"24h\"}}]}}";

static struct cde_gate_set gates;

static const struct cde_gate *prod(void)
{
	cJSON *doc = cJSON_Parse(prod_yaml_as_json);
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, NULL, &gates, &errs), 0);
	cJSON_Delete(doc);
	return cde_gate_set_find(&gates, "prod");
}

static time_t at(const char *ts)
{
	struct timespec t;

	assert_int_equal(cde_timestamp_read(ts, &t), 0);
	return t.tv_sec;
}

static cJSON *evaluate(time_t now)
{
	cJSON *out = NULL;

	assert_int_equal(cde_gate_evaluate(prod(), ART, now, &stand_in, &out), 0);
	assert_non_null(out);
	return out;
}

/* Row @i of @out's requirements. */
static const cJSON *req(const cJSON *out, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "requirements"), i);
}

static bool met(const cJSON *out, int i)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req(out, i), "met"));
}

static uint64_t seq_of(const cJSON *out, int i)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(req(out, i), "seq");

	return cJSON_IsNumber(s) ? (uint64_t)s->valuedouble : 0;
}

static const char *reason(const cJSON *out, int i)
{
	return member(req(out, i), "reason", NULL, NULL);
}

static const char *decision(const cJSON *out)
{
	return member(out, "decision", NULL, NULL);
}

/* A release's full evidence: build in chain b-1, tests and release in r-1. */
static void full_history(void)
{
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-1", "{\"artifactId\":\"" ART "\"}");
	post("2026-03-01T08:01:00Z", "artifact.packaged.0.3.0", ART, "r-1",
	     "{\"change\":{\"id\":\"c1\"},\"sbom\":{\"uri\":\"https://sbom.example/etl.spdx\"}}");
	post("2026-03-01T08:02:00Z", "artifact.signed.0.3.0", ART, "r-1", "{\"signature\":\"MEUCIQ\"}");
	post("2026-03-01T08:10:00Z", "testsuiterun.finished.0.3.0", "run-unit", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"success\"}");
	post("2026-03-01T08:11:00Z", "testsuiterun.finished.0.3.0", "run-dc", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"},\"outcome\":\"success\"}");
	post("2026-03-01T08:12:00Z", "testcaserun.finished.0.3.0", "case-1", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"zap-scan\",\"type\":\"security\"},"
	     "\"outcome\":\"success\"}");
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
}

static void every_requirement_met_allows_with_each_evidence_seq(void **state)
{
	cJSON *out;

	(void)state;
	full_history();
	out = evaluate(at("2026-03-02T10:00:00Z")); /* 25 h after the stage deployment */
	assert_string_equal(decision(out), "allow");
	assert_string_equal(member(out, "chainId", NULL, NULL), "r-1");
	for (int i = 0; i < 7; i++)
		assert_true(met(out, i));
	assert_int_equal(seq_of(out, 0), 1);	/* build */
	assert_int_equal(seq_of(out, 1), 4);	/* unit */
	assert_int_equal(seq_of(out, 2), 5);	/* data-contract */
	assert_int_equal(seq_of(out, 3), 6);	/* security case */
	assert_int_equal(seq_of(out, 4), 3);	/* signed */
	assert_int_equal(seq_of(out, 5), 2);	/* sbom */
	assert_int_equal(seq_of(out, 6), 7);	/* deployed to stage */
	assert_null(reason(out, 0));
	assert_string_equal(member(req(out, 2), "suite", NULL, NULL), "data-contract");
	cJSON_Delete(out);
}

static void missing_evidence_denies_naming_each_gap(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-1", "{\"artifactId\":\"" ART "\"}");
	/* evidence for another artifact is none for this one */
	post("2026-03-01T08:02:00Z", "artifact.signed.0.3.0", OTHER, "r-0", "{\"signature\":\"MEUCIQ\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "deny");
	assert_true(met(out, 0));
	assert_string_equal(reason(out, 1), "no run of test suite unit finished in the artifact's chains");
	assert_string_equal(reason(out, 3), "no test case of type security finished in the artifact's chains");
	assert_string_equal(reason(out, 4), "no artifact.signed of the artifact");
	assert_string_equal(reason(out, 5), "no artifact.packaged of the artifact with an sbom");
	assert_string_equal(reason(out, 6), "not deployed to stage");
	assert_int_equal(seq_of(out, 4), 0);
	cJSON_Delete(out);
}

static void a_later_failed_run_makes_the_success_stale_and_a_fixed_run_allows(void **state)
{
	cJSON *out;
	uint64_t failed;

	(void)state;
	full_history();
	failed = post("2026-03-01T12:00:00Z", "testsuiterun.finished.0.3.0", "run-dc-2", "r-1",
		      "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"},"
		      "\"outcome\":\"failure\",\"reason\":\"column amount: 12 nulls\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "deny");
	assert_false(met(out, 2));
	assert_int_equal(seq_of(out, 2), failed);
	assert_string_equal(reason(out, 2), "the latest run of test suite data-contract (seq 8) finished failure");
	assert_true(met(out, 1));
	cJSON_Delete(out);

	post("2026-03-01T13:00:00Z", "testsuiterun.finished.0.3.0", "run-dc-3", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"},\"outcome\":\"success\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "allow");
	assert_int_equal(seq_of(out, 2), 9);
	cJSON_Delete(out);
}

static void a_security_case_whose_latest_run_failed_denies(void **state)
{
	cJSON *out;

	(void)state;
	full_history();
	post("2026-03-01T12:00:00Z", "testcaserun.finished.0.3.0", "case-2", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"zap-scan\",\"type\":\"security\"},"
	     "\"outcome\":\"failure\"}");
	/* a functional case failing is not the gate's business */
	post("2026-03-01T12:01:00Z", "testcaserun.finished.0.3.0", "case-3", "r-1",
	     "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"login\",\"type\":\"functional\"},"
	     "\"outcome\":\"failure\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 3), "test case zap-scan of type security: its latest run (seq 8) finished failure");
	cJSON_Delete(out);
}

static void evidence_in_another_chain_of_the_artifact_counts(void **state)
{
	cJSON *out;

	(void)state;
	full_history();
	/* the release chain r-2 deploys the same artifact; its tests run there */
	post("2026-03-01T09:30:00Z", "service.deployed.0.3.0", "etl", "r-2",
	     "{\"environment\":{\"id\":\"qa\"},\"artifactId\":\"" ART "\"}");
	post("2026-03-01T09:40:00Z", "testsuiterun.finished.0.3.0", "run-unit-2", "r-2",
	     "{\"environment\":{\"id\":\"qa\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"error\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 1), "the latest run of test suite unit (seq 9) finished error");
	assert_string_equal(member(out, "chainId", NULL, NULL), "r-2");
	cJSON_Delete(out);
}

static void a_deployment_rolled_back_or_too_recent_denies(void **state)
{
	cJSON *out;

	(void)state;
	full_history();
	out = evaluate(at("2026-03-01T11:00:00Z")); /* 2 h after the stage deployment */
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 6), "deployed to stage 7200s ago (seq 7): needs 24h without a rollback");
	cJSON_Delete(out);

	/* another service's rollback, and one back to this artifact, do not count */
	post("2026-03-01T10:00:00Z", "service.rolledback.0.3.0", "billing", "r-9",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	post("2026-03-01T10:05:00Z", "service.rolledback.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_true(met(out, 6));
	cJSON_Delete(out);

	post("2026-03-01T10:30:00Z", "service.rolledback.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	out = evaluate(at("2026-03-02T10:00:00Z"));
	assert_string_equal(decision(out), "deny");
	assert_int_equal(seq_of(out, 6), 7);
	assert_string_equal(reason(out, 6), "rolled back in stage at seq 10, after its deployment at seq 7");
	cJSON_Delete(out);
}

static void the_decision_event_names_who_what_and_why(void **state)
{
	cJSON *out, *ev;

	(void)state;
	full_history();
	out = evaluate(at("2026-03-02T10:00:00Z"));
	ev = cde_gate_decision_event(out, "jenkins", "0190-id", "/cdeventsd", "2026-03-02T10:00:00Z");
	assert_non_null(ev);
	assert_string_equal(member(ev, "context", "type", NULL), CDE_GATE_DECIDED_TYPE);
	assert_string_equal(member(ev, "context", "chainId", NULL), "r-1");
	assert_string_equal(member(ev, "context", "schemaUri", NULL), CDE_GATE_DECIDED_SCHEMA);
	assert_string_equal(member(ev, "subject", "id", NULL), "gates/prod");
	assert_string_equal(artifact_of(ev), ART);
	assert_string_equal(member(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content", "principal", NULL),
			    "jenkins");
	cJSON_Delete(ev);
	cJSON_Delete(out);
}

/* ---- evidence the gate must not be fooled by (issue 18 review) ---- */

#define ONE_SUITE "{\"prod\":{%s\"require\":[{\"tests\":{\"suites\":[\"data-contract\"]}}]}}"
#define SECURITY_CASES "{\"prod\":{\"require\":[{\"test_case\":{\"type\":\"security\"}}]}}"
#define SOAKED_IN_STAGE "{\"prod\":{\"require\":[{\"deployed\":{\"environment\":\"stage\"," \
	"\"not_rolled_back_for\":\"24h\"}}]}}"

/* The gate @json (as the configuration writes it) evaluated at @now. */
static cJSON *evaluate_gate(const char *json, const char *now)
{
	cJSON *doc = cJSON_Parse(json), *out = NULL;
	struct cde_errors errs;

	assert_non_null(doc);
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, NULL, &gates, &errs), 0);
	cJSON_Delete(doc);
	assert_int_equal(cde_gate_evaluate(cde_gate_set_find(&gates, "prod"), ART, at(now), &stand_in, &out), 0);
	assert_non_null(out);
	return out;
}

/* Only @from's evidence (NULL: the gate names no `from`). */
static cJSON *evaluate_suite_gate(const char *from)
{
	char json[512];

	snprintf(json, sizeof(json), ONE_SUITE, from ? from : "");
	return evaluate_gate(json, "2026-03-03T00:00:00Z");
}

static void suite_run(const char *received, const char *chain, const char *outcome)
{
	char content[256];

	snprintf(content, sizeof(content), "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"data-contract\"},"
		 "\"outcome\":\"%s\"}", outcome);
	post(received, "testsuiterun.finished.0.3.0", "run-dc", chain, content);
}

static void with_from_only_the_trusted_principals_evidence_counts(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-1", "{\"artifactId\":\"" ART "\"}");
	suite_run("2026-03-01T08:01:00Z", "r-1", "failure");
	/* an intruder (a principal allowed to post) fixes the run in r-1, and
	 * pulls its own chain into the artifact's evidence with a success */
	poster = "intruder";
	suite_run("2026-03-01T08:05:00Z", "r-1", "success");
	post("2026-03-01T08:06:00Z", "incident.reported.0.3.0", "x", "evil",
	     "{\"environment\":{\"id\":\"dev\"},\"artifactId\":\"" ART "\",\"description\":\"x\"}");
	suite_run("2026-03-01T08:07:00Z", "evil", "success");
	out = evaluate_suite_gate("\"from\":[\"ci\",\"tekton\"],");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "the latest run of test suite data-contract (seq 2) finished failure");
	assert_string_equal(member(out, "chainId", NULL, NULL), "r-1");
	cJSON_Delete(out);

	/* without from, every principal's evidence counts (README says so) */
	out = evaluate_suite_gate(NULL);
	assert_string_equal(decision(out), "allow");
	cJSON_Delete(out);
}

static void a_failed_run_in_the_artifacts_33rd_chain_denies(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-0", "{\"artifactId\":\"" ART "\"}");
	suite_run("2026-03-01T08:01:00Z", "r-0", "success");
	for (int i = 1; i <= 32; i++) {
		char chain[16];

		snprintf(chain, sizeof(chain), "r-%d", i);
		post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", chain,
		     "{\"environment\":{\"id\":\"dev\"},\"artifactId\":\"" ART "\"}");
	}
	suite_run("2026-03-02T08:00:00Z", "r-32", "failure");
	out = evaluate_suite_gate(NULL);
	assert_string_equal(decision(out), "deny");
	assert_int_equal(seq_of(out, 0), 35);
	cJSON_Delete(out);
}

static void a_failed_security_case_past_a_thousand_cases_denies(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-1", "{\"artifactId\":\"" ART "\"}");
	for (int i = 0; i < 1100; i++) {
		char content[256];

		snprintf(content, sizeof(content), "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"case-%d\","
			 "\"type\":\"%s\"},\"outcome\":\"%s\"}", i, i == 0 || i == 1099 ? "security" : "unit",
			 i == 1099 ? "failure" : "success");
		post("2026-03-01T08:01:00Z", "testcaserun.finished.0.3.0", "case", "r-1", content);
	}
	out = evaluate_gate(SECURITY_CASES, "2026-03-03T00:00:00Z");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "test case case-1099 of type security: its latest run (seq 1101) finished failure");
	cJSON_Delete(out);
}

static void a_rollback_of_a_service_with_a_long_id_denies(void **state)
{
	char service[201];
	cJSON *out;

	(void)state;
	memset(service, 'a', sizeof(service) - 1);
	service[sizeof(service) - 1] = '\0';
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", service, "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	post("2026-03-01T10:00:00Z", "service.rolledback.0.3.0", service, "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	out = evaluate_gate(SOAKED_IN_STAGE, "2026-03-03T10:00:00Z");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "rolled back in stage at seq 2, after its deployment at seq 1");
	cJSON_Delete(out);
}

/* A data-contract run the producer dated @timestamp, taken by the log at @received. */
static void dated_suite_run(const char *received, const char *timestamp, const char *outcome)
{
	char event[1024];

	snprintf(event, sizeof(event), "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"/ci\","
		 "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"timestamp\":\"%s\",\"chainId\":\"r-1\"},"
		 "\"subject\":{\"id\":\"run\",\"content\":{\"environment\":{\"id\":\"ci\"},"
		 "\"testSuite\":{\"id\":\"data-contract\"},\"outcome\":\"%s\"}}}", received, timestamp, outcome);
	append_row(received, event);
}

static void the_latest_run_is_the_one_that_happened_last_not_the_last_posted(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "build.finished.0.3.0", "etl-build", "r-1", "{\"artifactId\":\"" ART "\"}");
	suite_run("2026-03-01T10:00:00Z", "r-1", "failure");
	/* the 09:00 run's success, delivered at 10:05 by a retry queue */
	dated_suite_run("2026-03-01T10:05:00Z", "2026-03-01T09:00:00Z", "success");
	out = evaluate_suite_gate(NULL);
	assert_string_equal(decision(out), "deny");
	assert_int_equal(seq_of(out, 0), 2);
	cJSON_Delete(out);

	/* a run dated in the future counts from when the log took it: it
	 * cannot outrank the runs after it for ever */
	dated_suite_run("2026-03-01T11:00:00Z", "2099-01-01T00:00:00Z", "success");
	suite_run("2026-03-01T12:00:00Z", "r-1", "failure");
	out = evaluate_suite_gate(NULL);
	assert_string_equal(decision(out), "deny");
	assert_int_equal(seq_of(out, 0), 5);
	cJSON_Delete(out);
}

static void replaced_or_removed_in_stage_the_soak_ends(void **state)
{
	cJSON *out;

	(void)state;
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	/* another service's deployment there is not this one's business */
	post("2026-03-01T09:30:00Z", "service.deployed.0.3.0", "billing", "r-7",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	post("2026-03-01T10:00:00Z", "service.upgraded.0.3.0", "etl", "r-2",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	out = evaluate_gate(SOAKED_IN_STAGE, "2026-03-02T10:00:00Z");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "replaced in stage at seq 3, after its deployment at seq 1");
	cJSON_Delete(out);

	reset(NULL);
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	post("2026-03-01T10:00:00Z", "service.removed.0.3.0", "etl", "r-1", "{\"environment\":{\"id\":\"stage\"}}");
	out = evaluate_gate(SOAKED_IN_STAGE, "2026-03-02T10:00:00Z");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "removed from stage at seq 2, after its deployment at seq 1");
	cJSON_Delete(out);
}

/* `from` says whose evidence may let an artifact through; what ends a
 * soak only ever stops one, so it counts whoever posted it. */
static void the_end_of_a_soak_counts_whoever_posted_it(void **state)
{
	static const char trusting_ci[] = "{\"prod\":{\"from\":[\"ci\"],\"require\":[{\"deployed\":"
					  "{\"environment\":\"stage\",\"not_rolled_back_for\":\"24h\"}}]}}";
	cJSON *out;

	(void)state;
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	poster = "ops-rollback-tool";
	post("2026-03-01T10:00:00Z", "service.rolledback.0.3.0", "etl", "ops-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" OTHER "\"}");
	out = evaluate_gate(trusting_ci, "2026-03-03T10:00:00Z");
	assert_string_equal(decision(out), "deny");
	assert_string_equal(reason(out, 0), "rolled back in stage at seq 2, after its deployment at seq 1");
	cJSON_Delete(out);

	/* while a deployment the same principal posts is no evidence */
	reset(NULL);
	poster = "ops-rollback-tool";
	post("2026-03-01T09:00:00Z", "service.deployed.0.3.0", "etl", "r-1",
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	out = evaluate_gate(trusting_ci, "2026-03-03T10:00:00Z");
	assert_string_equal(reason(out, 0), "not deployed to stage");
	cJSON_Delete(out);
}

/* ---- the configuration's words ---- */

static void parse_fails(const char *json, const char *pointer, const char *reason_part)
{
	cJSON *doc = cJSON_Parse(json);
	struct cde_errors errs;
	bool found = false;

	assert_non_null(doc);
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, "f.yaml", &gates, &errs), -EINVAL);
	assert_int_equal(gates.n, 0);
	for (size_t i = 0; i < errs.count; i++)
		found = found || (strcmp(errs.items[i].pointer, pointer) == 0 &&
				  strstr(errs.items[i].reason, reason_part));
	if (!found)
		fail_msg("%s: no error at %s with \"%s\" (first: %s %s)", json, pointer, reason_part,
			 errs.count ? errs.items[0].pointer : "", errs.count ? errs.items[0].reason : "");
	cJSON_Delete(doc);
}

static void words_no_event_carries_are_refused_at_their_pointer(void **state)
{
	(void)state;
	parse_fails("{\"prod\":{\"require\":[{\"build\":{\"outcome\":\"success\"}}]}}", "/gates/prod/require/0/build",
		    "build.finished carries no outcome");
	parse_fails("{\"prod\":{\"require\":[{\"tests\":{\"suites\":[]}}]}}", "/gates/prod/require/0/tests/suites",
		    "non-empty");
	parse_fails("{\"prod\":{\"require\":[{\"tests\":{\"suites\":[\"unit\"],\"outcome\":\"pass\"}}]}}",
		    "/gates/prod/require/0/tests/outcome", "success, failure, cancel, error");
	parse_fails("{\"prod\":{\"require\":[{\"test_case\":{\"type\":\"fuzz\"}}]}}",
		    "/gates/prod/require/0/test_case/type", "security");
	parse_fails("{\"prod\":{\"require\":[{\"deployed\":{\"environment\":\"stage\",\"not_rolled_back_for\":"
		    "\"1 day\"}}]}}", "/gates/prod/require/0/deployed/not_rolled_back_for", "24h");
	parse_fails("{\"prod\":{\"require\":[{\"scanned\":true}]}}", "/gates/prod/require/0/scanned",
		    "unknown requirement");
	parse_fails("{\"prod\":{\"require\":[{\"sbom\":true,\"build\":true}]}}", "/gates/prod/require/0",
		    "exactly one key");
	parse_fails("{\"prod\":{\"enforce\":\"yes\",\"require\":[{\"sbom\":true}]}}", "/gates/prod/enforce",
		    "true or false");
	parse_fails("{\"prod\":{}}", "/gates/prod/require", "required");
	parse_fails("{\"prod\":{\"from\":[],\"require\":[{\"sbom\":true}]}}", "/gates/prod/from", "non-empty");
	parse_fails("{\"prod\":{\"from\":\"ci\",\"require\":[{\"sbom\":true}]}}", "/gates/prod/from", "must be a non-empty list");
	parse_fails("{\"prod\":{\"from\":[\"ci\",\"\"],\"require\":[{\"sbom\":true}]}}", "/gates/prod/from/1",
		    "principal's name");
}

static void from_names_only_principals_of_the_configuration(void **state)
{
	static const char *const principals[] = { "jenkins", "tekton" };
	cJSON *doc = cJSON_Parse("{\"prod\":{\"from\":[\"tekton\",\"jenkin\"],\"require\":[{\"sbom\":true}]}}");
	struct cde_errors errs;

	(void)state;
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, "f.yaml", &gates, &errs), 0);
	assert_int_equal(gates.gates[0].n_from, 2);
	assert_string_equal(gates.gates[0].from[0], "tekton");
	assert_int_equal(cde_gate_set_check_from(&gates, principals, 2, "f.yaml", &errs), -EINVAL);
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.items[0].pointer, "/gates/prod/from/1");
	assert_non_null(strstr(errs.items[0].reason, "no principal is named \"jenkin\""));
	assert_int_equal(cde_gate_set_check_from(&gates, principals, 1, "f.yaml", &errs), -EINVAL);
	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_check_from(&gates, (const char *const[]){ "jenkin", "tekton" }, 2, NULL, &errs), 0);
	cJSON_Delete(doc);
}

static void a_gate_reads_back_as_written(void **state)
{
	const struct cde_gate *g;
	(void)state;
	g = prod();
	assert_non_null(g);
	assert_false(g->enforce);
	assert_int_equal(g->n, 7); /* tests: one requirement per suite */
	assert_int_equal(g->require[2].need, CDE_GATE_TESTS);
	assert_string_equal(g->require[2].name, "data-contract");
	assert_string_equal(g->require[3].outcome, "success");
	assert_int_equal(g->require[6].window_s, 86400);
	assert_string_equal(g->require[6].window, "24h");
	assert_null(cde_gate_set_find(&gates, "stage"));
	assert_int_equal(g->n_from, 0); /* evidence from any principal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(every_requirement_met_allows_with_each_evidence_seq, reset),
		cmocka_unit_test_setup(missing_evidence_denies_naming_each_gap, reset),
		cmocka_unit_test_setup(a_later_failed_run_makes_the_success_stale_and_a_fixed_run_allows, reset),
		cmocka_unit_test_setup(a_security_case_whose_latest_run_failed_denies, reset),
		cmocka_unit_test_setup(evidence_in_another_chain_of_the_artifact_counts, reset),
		cmocka_unit_test_setup(a_deployment_rolled_back_or_too_recent_denies, reset),
		cmocka_unit_test_setup(the_decision_event_names_who_what_and_why, reset),
		cmocka_unit_test_setup(with_from_only_the_trusted_principals_evidence_counts, reset),
		cmocka_unit_test_setup(a_failed_run_in_the_artifacts_33rd_chain_denies, reset),
		cmocka_unit_test_setup(a_failed_security_case_past_a_thousand_cases_denies, reset),
		cmocka_unit_test_setup(a_rollback_of_a_service_with_a_long_id_denies, reset),
		cmocka_unit_test_setup(the_latest_run_is_the_one_that_happened_last_not_the_last_posted, reset),
		cmocka_unit_test_setup(replaced_or_removed_in_stage_the_soak_ends, reset),
		cmocka_unit_test_setup(the_end_of_a_soak_counts_whoever_posted_it, reset),
		cmocka_unit_test(words_no_event_carries_are_refused_at_their_pointer),
		cmocka_unit_test(from_names_only_principals_of_the_configuration),
		cmocka_unit_test(a_gate_reads_back_as_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
