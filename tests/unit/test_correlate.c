/* Chain correlation (events/correlate.c): which chain an event posted
 * without a chainId joins, from what a stand-in log knows, and the PATH
 * link it gets. The store's lookups are test_audit_store's and chains.mjs's. */

#include "tests/unit/helpers.h"

#include "events/correlate.h"
#include "events/event.h"
#include "events/ids.h"

/* A stand-in log: a few known keys, and a record of what was asked. The
 * row a chain lookup finds has seq 100 + n for the nth subject (from 1),
 * 200 + n for the nth artifact, 300 + n for the nth deployment. */
struct fake_log {
	const char *subjects[4][2];	/* subject id -> chain */
	const char *artifacts[4][2];	/* artifact id -> chain */
	const char *latest[4][2];	/* chain -> latest event id */
	const char *deployments[4][2];	/* "service@environment" -> chain */
	const char *named[4][2];	/* chain -> an artifact one of its events names */
	char asked[256];		/* "s:key a:key l:key o:chain " in order */
};

static bool look(struct fake_log *f, const char *table[4][2], char tag, const char *key,
		 char *out, size_t size, uint64_t *seq)
{
	size_t n = strlen(f->asked);

	snprintf(f->asked + n, sizeof(f->asked) - n, "%c:%s ", tag, key);
	for (int i = 0; i < 4 && table[i][0]; i++) {
		if (strcmp(table[i][0], key) == 0) {
			snprintf(out, size, "%s", table[i][1]);
			if (seq)
				*seq = (uint64_t)((tag == 's' ? 100 : tag == 'a' ? 200 : 300) + i + 1);
			return true;
		}
	}
	return false;
}

static bool subject_chain(void *ctx, const char *key, char *out, size_t size, uint64_t *seq)
{
	struct fake_log *f = ctx;

	return look(f, f->subjects, 's', key, out, size, seq);
}

static bool artifact_chain(void *ctx, const char *key, char *out, size_t size, uint64_t *seq)
{
	struct fake_log *f = ctx;

	return look(f, f->artifacts, 'a', key, out, size, seq);
}

static bool latest(void *ctx, const char *key, char *out, size_t size)
{
	struct fake_log *f = ctx;

	return look(f, f->latest, 'l', key, out, size, NULL);
}

static bool deployment_chain(void *ctx, const char *service, const char *environment, char *out,
			     size_t size, uint64_t *seq)
{
	struct fake_log *f = ctx;
	char key[128];

	snprintf(key, sizeof(key), "%s@%s", service, environment);
	return look(f, f->deployments, 'd', key, out, size, seq);
}

static bool names_other_artifact(void *ctx, const char *chain, const char *artifact)
{
	struct fake_log *f = ctx;
	size_t n = strlen(f->asked);

	snprintf(f->asked + n, sizeof(f->asked) - n, "o:%s ", chain);
	for (int i = 0; i < 4 && f->named[i][0]; i++)
		if (strcmp(f->named[i][0], chain) == 0 && strcmp(f->named[i][1], artifact) != 0)
			return true;
	return false;
}

static void decide(const char *event_json, struct fake_log *f, struct cde_correlation *c)
{
	const struct cde_chain_log log = {
		.chain_of_subject = subject_chain,
		.chain_of_artifact = artifact_chain,
		.latest_of_chain = latest,
		.chain_of_deployment = deployment_chain,
		.chain_names_other_artifact = names_other_artifact,
		.ctx = f,
	};
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_from_json(json(event_json), &ev), 0);
	cde_correlate(ev, &log, c);
	cde_event_unref(ev);
}

#define TASK_RUN_OF_RUN_7_BUILDING_APP                                                   \
	"{\"context\":{\"type\":\"dev.cdevents.taskrun.finished.0.2.0\"},"               \
	"\"subject\":{\"id\":\"task-3\",\"content\":{\"pipelineRun\":{\"id\":\"run-7\"}," \
	"\"artifactId\":\"pkg:oci/app@sha256:1\"}}}"
#define BUILD_OF_APP                                                                     \
	"{\"context\":{\"type\":\"dev.cdevents.build.finished.0.3.0\"},"                 \
	"\"subject\":{\"id\":\"build-9\",\"content\":{\"artifactId\":\"pkg:oci/app@sha256:1\"}}}"
#define ARTIFACT_APP                                                                     \
	"{\"context\":{\"type\":\"dev.cdevents.artifact.published.0.3.0\"},"             \
	"\"subject\":{\"id\":\"pkg:oci/app@sha256:1\",\"content\":{}}}"

static void with_nothing_known_an_event_starts_a_new_chain_without_a_link(void **state)
{
	struct fake_log f = { 0 };
	struct cde_correlation c;

	decide(TASK_RUN_OF_RUN_7_BUILDING_APP, &f, &c);
	assert_true(c.new_chain);
	assert_string_equal(c.path_from, "");
	assert_int_equal(c.via_seq, 0);	/* joined through no row */
	assert_string_equal(f.asked, "s:run-7 a:pkg:oci/app@sha256:1 s:task-3 ");
}

static void the_pipeline_run_wins_over_the_artifact_and_the_subject(void **state)
{
	struct fake_log f = {
		.subjects = { { "run-7", "chain-run" }, { "task-3", "chain-task" } },
		.artifacts = { { "pkg:oci/app@sha256:1", "chain-app" } },
		.latest = { { "chain-run", "event-41" } },
	};
	struct cde_correlation c;

	decide(TASK_RUN_OF_RUN_7_BUILDING_APP, &f, &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "chain-run");
	assert_string_equal(c.path_from, "event-41");
	assert_int_equal(c.via_seq, 101);	/* the run's row, not the task's (102) */
	assert_string_equal(f.asked, "s:run-7 l:chain-run ");	/* asked no further */
}

static void the_artifact_wins_over_the_subject(void **state)
{
	struct fake_log f = {
		.subjects = { { "build-9", "chain-build" } },
		.artifacts = { { "pkg:oci/app@sha256:1", "chain-app" } },
		.latest = { { "chain-app", "event-12" } },
	};
	struct cde_correlation c;

	decide(BUILD_OF_APP, &f, &c);
	assert_string_equal(c.chain_id, "chain-app");
	assert_string_equal(c.path_from, "event-12");
	assert_int_equal(c.via_seq, 201);
	assert_string_equal(f.asked, "a:pkg:oci/app@sha256:1 l:chain-app ");
}

static void an_event_joins_its_own_subjects_chain_when_nothing_else_is_known(void **state)
{
	struct fake_log f = {
		.subjects = { { "build-9", "chain-build" } },
		.latest = { { "chain-build", "queued-1" } },
	};
	struct cde_correlation c;

	decide(BUILD_OF_APP, &f, &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "chain-build");
	assert_string_equal(c.path_from, "queued-1");
	assert_int_equal(c.via_seq, 101);
}

static void a_joined_chain_without_a_latest_event_gives_no_link(void **state)
{
	struct fake_log f = { .artifacts = { { "pkg:oci/app@sha256:1", "chain-app" } } };
	struct cde_correlation c;

	decide(ARTIFACT_APP, &f, &c);
	assert_string_equal(c.chain_id, "chain-app");
	assert_string_equal(c.path_from, "");
}

static void an_artifact_event_is_about_its_subject_and_others_about_their_artifact_id(void **state)
{
	static const char *const cases[][2] = {
		{ ARTIFACT_APP, "pkg:oci/app@sha256:1" },
		{ BUILD_OF_APP, "pkg:oci/app@sha256:1" },
		{ "{\"context\":{\"type\":\"dev.cdevents.build.queued.0.3.0\"},"
		  "\"subject\":{\"id\":\"build-9\",\"content\":{\"artifactId\":\"\"}}}", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cde_event *ev = NULL;

		assert_int_equal(cde_event_from_json(json(cases[i][0]), &ev), 0);
		if (cases[i][1])
			assert_string_equal(cde_event_artifact_of(ev), cases[i][1]);
		else
			assert_null(cde_event_artifact_of(ev));
		cde_event_unref(ev);
	}
}

#define INCIDENT_OF_ETL_IN_PROD                                                          \
	"{\"context\":{\"type\":\"dev.cdevents.incident.detected.0.3.0\"},"             \
	"\"subject\":{\"id\":\"inc-1\",\"content\":{\"environment\":{\"id\":\"prod\"}," \
	"\"service\":{\"id\":\"etl\"}}}}"
#define INCIDENT_OF_APP_ON_ETL                                                           \
	"{\"context\":{\"type\":\"dev.cdevents.incident.reported.0.3.0\"},"             \
	"\"subject\":{\"id\":\"inc-2\",\"content\":{\"environment\":{\"id\":\"prod\"}," \
	"\"service\":{\"id\":\"etl\"},\"artifactId\":\"pkg:oci/app@sha256:1\"}}}"

/* An incident about a service joins the release deployed there: the
 * chain of that service's latest deployment in the incident's
 * environment, asked after the incident's own subject (its detection). */
static void an_incident_joins_the_latest_deployment_of_its_service_in_its_environment(void **state)
{
	struct fake_log f = {
		.deployments = { { "etl@prod", "chain-r41" }, { "etl@stage", "chain-r42" } },
		.latest = { { "chain-r41", "deployed-41" } },
	};
	struct cde_correlation c;

	decide(INCIDENT_OF_ETL_IN_PROD, &f, &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "chain-r41");
	assert_string_equal(c.path_from, "deployed-41");
	assert_int_equal(c.via_seq, 301);
	assert_string_equal(f.asked, "s:inc-1 d:etl@prod l:chain-r41 ");
}

static void an_incidents_later_events_stay_in_the_chain_its_detection_joined(void **state)
{
	struct fake_log f = {
		.subjects = { { "inc-1", "chain-r41" } },
		.deployments = { { "etl@prod", "chain-r43" } },	/* deployed again since */
	};
	struct cde_correlation c;

	decide(INCIDENT_OF_ETL_IN_PROD, &f, &c);
	assert_string_equal(c.chain_id, "chain-r41");
	assert_string_equal(f.asked, "s:inc-1 l:chain-r41 ");
}

static void the_artifact_an_incident_names_wins_over_its_service(void **state)
{
	struct fake_log f = {
		.artifacts = { { "pkg:oci/app@sha256:1", "chain-app" } },
		.deployments = { { "etl@prod", "chain-r41" } },
	};
	struct cde_correlation c;

	decide(INCIDENT_OF_APP_ON_ETL, &f, &c);
	assert_string_equal(c.chain_id, "chain-app");
	assert_string_equal(f.asked, "a:pkg:oci/app@sha256:1 l:chain-app ");
}

/* A service never deployed in that environment (or an event with no
 * service, or a service without an environment) is no key. */
static void without_a_deployment_there_an_incident_starts_a_chain(void **state)
{
	struct fake_log f = { .deployments = { { "etl@stage", "chain-r42" } } };
	struct cde_correlation c;
	struct cde_correlation_keys k;
	struct cde_event *ev = NULL;

	decide(INCIDENT_OF_ETL_IN_PROD, &f, &c);
	assert_true(c.new_chain);
	assert_int_equal(c.via_seq, 0);
	assert_string_equal(f.asked, "s:inc-1 d:etl@prod ");

	assert_int_equal(cde_event_from_json(json(
		"{\"context\":{\"type\":\"dev.cdevents.incident.detected.0.3.0\"},"
		"\"subject\":{\"id\":\"inc-3\",\"content\":{\"service\":{\"id\":\"etl\"}}}}"), &ev), 0);
	cde_correlation_keys_of(ev, &k);
	assert_null(k.service);
	assert_null(k.environment);
	cde_event_unref(ev);
	memset(&f, 0, sizeof(f));
	decide(BUILD_OF_APP, &f, &c);
	assert_string_equal(f.asked, "a:pkg:oci/app@sha256:1 s:build-9 ");
}

#define DEPLOY_OF_X_TO_ETL                                                               \
	"{\"context\":{\"type\":\"dev.cdevents.service.deployed.0.2.0\"},"               \
	"\"subject\":{\"id\":\"etl\",\"content\":{\"environment\":{\"id\":\"stage\"},"  \
	"\"artifactId\":\"pkg:oci/etl@sha256:x99\"}}}"
#define BUILD_B42_FINISHED_WITH_X                                                        \
	"{\"context\":{\"type\":\"dev.cdevents.build.finished.0.3.0\"},"                 \
	"\"subject\":{\"id\":\"b-42\",\"content\":{\"artifactId\":\"pkg:oci/etl@sha256:x99\"}}}"
#define INCIDENT_OF_X_ON_ETL                                                             \
	"{\"context\":{\"type\":\"dev.cdevents.incident.reported.0.3.0\"},"             \
	"\"subject\":{\"id\":\"inc-2\",\"content\":{\"environment\":{\"id\":\"prod\"}," \
	"\"service\":{\"id\":\"etl\"},\"artifactId\":\"pkg:oci/etl@sha256:x99\"}}}"

/* A deployment's subject is the service, the same for every release:
 * deploying an artifact the log has never seen must not join the chain of
 * the service's last release, which names another artifact (a gate for
 * the new one would count that release's tests). */
static void an_unknown_artifact_does_not_join_by_subject_a_chain_naming_another(void **state)
{
	struct fake_log f = {
		.subjects = { { "etl", "release-a" } },
		.named = { { "release-a", "pkg:oci/etl@sha256:a01" } },
		.latest = { { "release-a", "deployed-a" } },
	};
	struct cde_correlation c;

	decide(DEPLOY_OF_X_TO_ETL, &f, &c);
	assert_true(c.new_chain);
	assert_string_equal(c.chain_id, "");
	assert_string_equal(c.path_from, "");
	assert_int_equal(c.via_seq, 0);
	assert_string_equal(f.asked, "a:pkg:oci/etl@sha256:x99 s:etl o:release-a ");
}

/* build.started b-42 names no artifact yet; its finished names the new
 * one: the chain names no other, so the build's events stay together. */
static void an_unknown_artifact_joins_by_subject_a_chain_naming_no_artifact(void **state)
{
	struct fake_log f = {
		.subjects = { { "b-42", "chain-b42" } },
		.latest = { { "chain-b42", "started-42" } },
	};
	struct cde_correlation c;

	decide(BUILD_B42_FINISHED_WITH_X, &f, &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "chain-b42");
	assert_string_equal(c.path_from, "started-42");
	assert_int_equal(c.via_seq, 101);
	assert_string_equal(f.asked, "a:pkg:oci/etl@sha256:x99 s:b-42 o:chain-b42 l:chain-b42 ");
}

/* The same for the deployment key: an incident naming an unknown
 * artifact joins the service's deployment only when that release names
 * no other artifact; a subject chain refused leaves the next key asked,
 * and the via is the row of the chain joined. */
static void an_unknown_artifact_joins_a_deployments_chain_only_if_it_names_no_other(void **state)
{
	struct fake_log f = {
		.subjects = { { "inc-2", "release-a" } },
		.deployments = { { "etl@prod", "release-a" } },
		.named = { { "release-a", "pkg:oci/etl@sha256:a01" } },
	};
	struct cde_correlation c;

	decide(INCIDENT_OF_X_ON_ETL, &f, &c);
	assert_true(c.new_chain);
	assert_int_equal(c.via_seq, 0);
	assert_string_equal(f.asked, "a:pkg:oci/etl@sha256:x99 s:inc-2 o:release-a d:etl@prod o:release-a ");

	memset(f.asked, 0, sizeof(f.asked));
	f.deployments[0][1] = "release-open";	/* deployed with no artifact named */
	f.latest[0][0] = "release-open";
	f.latest[0][1] = "deployed-open";
	decide(INCIDENT_OF_X_ON_ETL, &f, &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "release-open");
	assert_string_equal(c.path_from, "deployed-open");
	assert_int_equal(c.via_seq, 301);	/* the deployment's row, not the refused subject's */
}

/* The rule is only for artifacts the log does not know: a known one
 * joins its own chain by the artifact's key, and an event naming no
 * artifact (a test run) joins its subject's chain whatever it names. */
static void a_known_artifact_or_none_correlates_as_before(void **state)
{
	struct fake_log f = {
		.subjects = { { "etl", "release-a" } },
		.artifacts = { { "pkg:oci/etl@sha256:x99", "release-x" } },
		.named = { { "release-a", "pkg:oci/etl@sha256:a01" } },
	};
	struct cde_correlation c;

	decide(DEPLOY_OF_X_TO_ETL, &f, &c);
	assert_string_equal(c.chain_id, "release-x");
	assert_int_equal(c.via_seq, 201);
	assert_string_equal(f.asked, "a:pkg:oci/etl@sha256:x99 l:release-x ");

	memset(f.asked, 0, sizeof(f.asked));
	decide("{\"context\":{\"type\":\"dev.cdevents.testsuiterun.finished.0.2.0\"},"
	       "\"subject\":{\"id\":\"etl\",\"content\":{}}}", &f, &c);
	assert_string_equal(c.chain_id, "release-a");
	assert_int_equal(c.via_seq, 101);
	assert_string_equal(f.asked, "s:etl l:release-a ");
}

/* A store answering in one query (PostgreSQL) decides the same: the
 * row it found is the via, none without a chain. */
static void a_one_query_answer_keeps_the_row_it_found(void **state)
{
	struct cde_correlation c;

	cde_correlation_found("chain-app", 42, "event-12", &c);
	assert_false(c.new_chain);
	assert_string_equal(c.chain_id, "chain-app");
	assert_string_equal(c.path_from, "event-12");
	assert_int_equal(c.via_seq, 42);
	cde_correlation_found(NULL, 42, NULL, &c);
	assert_true(c.new_chain);
	assert_int_equal(c.via_seq, 0);
	assert_string_equal(c.path_from, "");
}

static void applying_sets_the_chain_and_the_path_link_or_a_fresh_chain(void **state)
{
	struct cde_correlation join = { .chain_id = "chain-app", .path_from = "event-12" };
	struct cde_correlation fresh = { .new_chain = true };
	struct cde_event *a = NULL, *b = NULL;
	const cJSON *link;

	assert_int_equal(cde_event_from_json(json(BUILD_OF_APP), &a), 0);
	assert_int_equal(cde_event_from_json(json(BUILD_OF_APP), &b), 0);
	assert_int_equal(cde_correlation_apply(a, &join), 0);
	assert_string_equal(cde_event_chain_id(a), "chain-app");
	link = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cde_event_json(a),
									  "context"), "links"), 0);
	assert_string_equal(cJSON_GetObjectItem(link, "linkType")->valuestring, "PATH");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(link, "from"),
						"contextId")->valuestring, "event-12");

	assert_int_equal(cde_correlation_apply(b, &fresh), 0);
	assert_int_equal(strlen(cde_event_chain_id(b)), CDE_UUID_STR_LEN - 1);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cde_event_json(b), "context"), "links"));
	cde_event_unref(a);
	cde_event_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(with_nothing_known_an_event_starts_a_new_chain_without_a_link),
		cmocka_unit_test(the_pipeline_run_wins_over_the_artifact_and_the_subject),
		cmocka_unit_test(the_artifact_wins_over_the_subject),
		cmocka_unit_test(an_event_joins_its_own_subjects_chain_when_nothing_else_is_known),
		cmocka_unit_test(a_joined_chain_without_a_latest_event_gives_no_link),
		cmocka_unit_test(an_artifact_event_is_about_its_subject_and_others_about_their_artifact_id),
		cmocka_unit_test(an_incident_joins_the_latest_deployment_of_its_service_in_its_environment),
		cmocka_unit_test(an_incidents_later_events_stay_in_the_chain_its_detection_joined),
		cmocka_unit_test(the_artifact_an_incident_names_wins_over_its_service),
		cmocka_unit_test(without_a_deployment_there_an_incident_starts_a_chain),
		cmocka_unit_test(an_unknown_artifact_does_not_join_by_subject_a_chain_naming_another),
		cmocka_unit_test(an_unknown_artifact_joins_by_subject_a_chain_naming_no_artifact),
		cmocka_unit_test(an_unknown_artifact_joins_a_deployments_chain_only_if_it_names_no_other),
		cmocka_unit_test(a_known_artifact_or_none_correlates_as_before),
		cmocka_unit_test(a_one_query_answer_keeps_the_row_it_found),
		cmocka_unit_test(applying_sets_the_chain_and_the_path_link_or_a_fresh_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
