/* Hook translation: each kind and phase becomes the right, valid event,
 * each kind takes exactly the phases its subject has in the newest spec,
 * and mistakes are reported at the hook's own fields. Sizing on hooks:
 * test_hook_sizing.c. */

#include "tests/unit/helpers.h"
#include "tests/unit/hook_refusals.h"

#include "events/hooks.h"

static const struct cde_hook_defaults defaults = { .source = "/jenkins" };

static struct cde_event *translate_ok(const char *kind, const char *payload)
{
	struct cde_errors errs;
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);

	cde_errors_reset(&errs);
	if (cde_hook_translate(cat, kind, p, &defaults, &ev, &errs) != 0) {
		print_message("%s %s:\n", kind, payload);
		print_errors(&errs);
		fail();
	}
	cJSON_Delete(p);
	return ev;
}

static int translate_err(const char *kind, const char *payload, struct cde_errors *errs)
{
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);
	int r;

	cde_errors_reset(errs);
	r = cde_hook_translate(cat, kind, p, &defaults, &ev, errs);
	cJSON_Delete(p);
	assert_null(ev);
	return r;
}

static void every_kind_and_phase_makes_its_event_type(void **state)
{
	static const struct {
		const char *kind, *payload, *type;
	} cases[] = {
		{ "build", "{\"phase\": \"queued\", \"subject\": \"b1\"}", "dev.cdevents.build.queued.0.3.0" },
		{ "build", "{\"phase\": \"started\", \"subject\": \"b1\"}", "dev.cdevents.build.started.0.3.0" },
		{ "build", "{\"phase\": \"finished\", \"subject\": \"b1\", \"artifactId\": \"pkg:oci/etl@1\"}", "dev.cdevents.build.finished.0.3.0" },
		{ "test", "{\"phase\": \"queued\", \"subject\": \"s\", \"environment\": \"ci\"}", "dev.cdevents.testsuiterun.queued.0.3.0" },
		{ "test", "{\"phase\": \"started\", \"subject\": \"s\", \"environment\": \"ci\", \"testSuite\": \"etl\"}", "dev.cdevents.testsuiterun.started.0.3.0" },
		{ "test", "{\"phase\": \"finished\", \"subject\": \"s\", \"environment\": \"ci\", \"outcome\": \"failure\", \"reason\": \"2 failed\", \"severity\": \"high\"}", "dev.cdevents.testsuiterun.finished.0.3.0" },
		{ "test", "{\"phase\": \"queued\", \"level\": \"case\", \"subject\": \"c\", \"environment\": \"ci\"}", "dev.cdevents.testcaserun.queued.0.3.0" },
		{ "test", "{\"phase\": \"started\", \"level\": \"case\", \"subject\": \"c\", \"environment\": \"ci\", \"testCase\": \"t1\"}", "dev.cdevents.testcaserun.started.0.3.0" },
		{ "test", "{\"phase\": \"finished\", \"level\": \"case\", \"subject\": \"c\", \"environment\": \"ci\", \"outcome\": \"success\"}", "dev.cdevents.testcaserun.finished.0.3.0" },
		{ "test", "{\"phase\": \"skipped\", \"subject\": \"c\", \"reason\": \"flaky\"}", "dev.cdevents.testcaserun.skipped.0.2.0" },
		{ "test", "{\"phase\": \"published\", \"subject\": \"o\", \"outputType\": \"report\", \"format\": \"junit\", \"uri\": \"https://ci/r.xml\"}", "dev.cdevents.testoutput.published.0.3.0" },
		{ "artifact", "{\"phase\": \"packaged\", \"subject\": \"pkg:oci/etl@1\", \"change\": \"c42\", \"sbom\": {\"uri\": \"/sbom/1\"}}", "dev.cdevents.artifact.packaged.0.3.0" },
		{ "artifact", "{\"phase\": \"published\", \"subject\": \"pkg:oci/etl@1\", \"user\": \"ci\"}", "dev.cdevents.artifact.published.0.3.0" },
		{ "artifact", "{\"phase\": \"signed\", \"subject\": \"pkg:oci/etl@1\", \"signature\": \"MEUCIQ\"}", "dev.cdevents.artifact.signed.0.3.0" },
		{ "artifact", "{\"phase\": \"downloaded\", \"subject\": \"pkg:oci/etl@1\"}", "dev.cdevents.artifact.downloaded.0.2.0" },
		{ "artifact", "{\"phase\": \"deleted\", \"subject\": \"pkg:oci/etl@1\"}", "dev.cdevents.artifact.deleted.0.2.0" },
		{ "deploy", "{\"phase\": \"deployed\", \"subject\": \"etl\", \"environment\": \"prod\", \"artifactId\": \"pkg:oci/etl@1\"}", "dev.cdevents.service.deployed.0.3.0" },
		{ "deploy", "{\"phase\": \"upgraded\", \"subject\": \"etl\", \"environment\": {\"id\": \"prod\", \"source\": \"/k8s\"}, \"artifactId\": \"a\"}", "dev.cdevents.service.upgraded.0.3.0" },
		{ "deploy", "{\"phase\": \"rolledback\", \"subject\": \"etl\", \"environment\": \"prod\", \"artifactId\": \"a\"}", "dev.cdevents.service.rolledback.0.3.0" },
		{ "deploy", "{\"phase\": \"removed\", \"subject\": \"etl\", \"environment\": \"prod\"}", "dev.cdevents.service.removed.0.3.0" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"etl\"}", "dev.cdevents.service.published.0.3.0" },
		{ "pipeline", "{\"phase\": \"queued\", \"subject\": \"run-7\", \"pipelineName\": \"etl\"}", "dev.cdevents.pipelinerun.queued.0.3.0" },
		{ "pipeline", "{\"phase\": \"started\", \"subject\": \"run-7\", \"pipelineName\": \"etl\", \"uri\": \"https://ci/run/7\"}", "dev.cdevents.pipelinerun.started.0.3.0" },
		{ "pipeline", "{\"phase\": \"finished\", \"subject\": \"run-7\", \"outcome\": \"error\", \"errors\": \"OOMKilled\"}", "dev.cdevents.pipelinerun.finished.0.3.0" },
		{ "task", "{\"phase\": \"started\", \"subject\": \"tr-1\", \"taskName\": \"spark-submit\", \"pipelineRun\": \"run-7\"}", "dev.cdevents.taskrun.started.0.3.0" },
		{ "task", "{\"phase\": \"finished\", \"subject\": \"tr-1\", \"outcome\": \"success\"}", "dev.cdevents.taskrun.finished.0.3.0" },
		{ "environment", "{\"phase\": \"created\", \"subject\": \"prod\", \"name\": \"Production\", \"uri\": \"https://k8s/prod\"}", "dev.cdevents.environment.created.0.3.0" },
		{ "environment", "{\"phase\": \"modified\", \"subject\": \"prod\"}", "dev.cdevents.environment.modified.0.3.0" },
		{ "environment", "{\"phase\": \"deleted\", \"subject\": \"prod\"}", "dev.cdevents.environment.deleted.0.3.0" },
		{ "change", "{\"phase\": \"created\", \"subject\": \"pr-42\", \"description\": \"faster joins\", \"repository\": \"etl\"}", "dev.cdevents.change.created.0.4.0" },
		{ "change", "{\"phase\": \"reviewed\", \"subject\": \"pr-42\", \"repository\": {\"id\": \"etl\", \"source\": \"/github\"}}", "dev.cdevents.change.reviewed.0.3.0" },
		{ "change", "{\"phase\": \"merged\", \"subject\": \"pr-42\", \"repository\": \"etl\"}", "dev.cdevents.change.merged.0.3.0" },
		{ "change", "{\"phase\": \"abandoned\", \"subject\": \"pr-43\"}", "dev.cdevents.change.abandoned.0.3.0" },
		{ "change", "{\"phase\": \"updated\", \"subject\": \"pr-42\", \"repository\": \"etl\"}", "dev.cdevents.change.updated.0.3.0" },
		{ "incident", "{\"phase\": \"detected\", \"subject\": \"inc-7\", \"environment\": \"prod\", \"service\": \"etl\", \"artifactId\": \"pkg:oci/etl@1\", \"description\": \"5xx\"}", "dev.cdevents.incident.detected.0.3.0" },
		{ "incident", "{\"phase\": \"reported\", \"subject\": \"inc-7\", \"environment\": \"prod\", \"ticketURI\": \"https://jira.example/INC-7\"}", "dev.cdevents.incident.reported.0.3.0" },
		{ "incident", "{\"phase\": \"resolved\", \"subject\": \"inc-7\", \"environment\": \"prod\", \"service\": \"etl\"}", "dev.cdevents.incident.resolved.0.3.0" },
		{ "ticket", "{\"phase\": \"created\", \"subject\": \"CHG-1\", \"summary\": \"release 42\", \"creator\": \"ci\", \"uri\": \"https://jira.example/CHG-1\", \"ticketType\": \"task\", \"labels\": [\"etl\"]}", "dev.cdevents.ticket.created.0.2.0" },
		{ "ticket", "{\"phase\": \"updated\", \"subject\": \"CHG-1\", \"uri\": \"https://jira.example/CHG-1\", \"updatedBy\": \"ana\", \"priority\": \"high\"}", "dev.cdevents.ticket.updated.0.2.0" },
		{ "ticket", "{\"phase\": \"closed\", \"subject\": \"CHG-1\", \"uri\": \"https://jira.example/CHG-1\", \"resolution\": \"completed\"}", "dev.cdevents.ticket.closed.0.2.0" },
		{ "repository", "{\"phase\": \"created\", \"subject\": \"etl\", \"name\": \"etl\", \"owner\": \"data\", \"uri\": \"https://git.example/data/etl\"}", "dev.cdevents.repository.created.0.3.0" },
		{ "repository", "{\"phase\": \"modified\", \"subject\": \"etl\", \"viewUrl\": \"https://git.example/data/etl\"}", "dev.cdevents.repository.modified.0.3.0" },
		{ "repository", "{\"phase\": \"deleted\", \"subject\": \"etl\"}", "dev.cdevents.repository.deleted.0.3.0" },
		{ "branch", "{\"phase\": \"created\", \"subject\": \"feature/joins\", \"repository\": \"etl\"}", "dev.cdevents.branch.created.0.3.0" },
		{ "branch", "{\"phase\": \"deleted\", \"subject\": \"feature/joins\"}", "dev.cdevents.branch.deleted.0.3.0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cde_event *ev = translate_ok(cases[i].kind, cases[i].payload);

		assert_string_equal(cde_event_type(ev), cases[i].type);
		assert_string_equal(cde_event_spec_version(ev), "0.5.1");
		assert_string_equal(cde_event_source(ev), "/jenkins");
		cde_event_unref(ev);
	}
}

static void strings_stand_for_references_and_common_fields_go_to_the_context(void **state)
{
	struct cde_event *ev = translate_ok("deploy",
		"{\"phase\": \"deployed\", \"subject\": \"etl\", \"environment\": \"prod\", \"artifactId\": \"a\","
		" \"source\": \"/tekton/ns/spark\", \"id\": \"run-7-deploy\", \"timestamp\": \"2025-01-31T12:00:00Z\","
		" \"chainId\": \"release-7\", \"links\": [{\"linkType\": \"PATH\", \"from\": {\"contextId\": \"x\"}}],"
		" \"customData\": {\"team\": \"data\"}}");
	const cJSON *doc = cde_event_json(ev);
	cJSON *expected = json("{\"environment\": {\"id\": \"prod\"}, \"artifactId\": \"a\"}");

	assert_true(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "subject"), "content"),
				  expected, true));
	assert_string_equal(cde_event_source(ev), "/tekton/ns/spark");
	assert_string_equal(cde_event_id(ev), "run-7-deploy");
	assert_string_equal(cde_event_timestamp(ev), "2025-01-31T12:00:00Z");
	assert_string_equal(cde_event_chain_id(ev), "release-7");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "context"), "links"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "customData"), "team")->valuestring, "data");
	cJSON_Delete(expected);
	cde_event_unref(ev);
}

static void reports_mistakes_at_the_hook_fields(void **state)
{
	struct cde_errors errs;

	assert_int_equal(translate_err("deploy", "{\"subject\": \"\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/phase", "required property missing (one of: deployed, upgraded, rolledback, removed, published)"));
	assert_true(has_error(&errs, "/subject", "must be a non-empty string"));

	assert_int_equal(translate_err("deploy", "{\"phase\": \"exploded\", \"subject\": \"s\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/phase", "must be one of: deployed"));

	assert_int_equal(translate_err("deploy", "{\"phase\": \"deployed\", \"subject\": \"s\", \"colour\": 1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/colour", "unknown field for a deploy deployed hook (known: environment, artifactId"));

	assert_int_equal(translate_err("deploy", "{\"phase\": \"deployed\", \"subject\": \"s\", \"environment\": 5}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/environment", "must be a string (the id) or an object"));

	assert_int_equal(translate_err("deploy", "{\"phase\": \"deployed\", \"subject\": \"s\", \"environment\": {\"name\": \"p\"}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/environment/id", "required property missing"));
	assert_true(has_error(&errs, "/environment/name", "unknown property"));
	assert_true(has_error(&errs, "/artifactId", "required property missing"));

	assert_int_equal(translate_err("pipeline", "{\"phase\": \"finished\", \"subject\": \"r\", \"outcome\": \"meh\", \"timestamp\": \"noon\", \"source\": \"a b\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/outcome", "must be one of: success, failure, cancel, error"));
	assert_true(has_error(&errs, "/timestamp", "RFC 3339"));
	assert_true(has_error(&errs, "/source", "URI reference"));

	assert_int_equal(translate_err("test", "{\"phase\": \"skipped\", \"level\": \"suite\", \"subject\": \"s\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/level", "no skipped test suite run"));
	assert_int_equal(translate_err("test", "{\"phase\": \"finished\", \"level\": \"unit\", \"subject\": \"s\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/level", "must be one of: suite, case"));
	assert_int_equal(translate_err("build", "{\"phase\": \"started\", \"level\": \"case\", \"subject\": \"s\"}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/level", "only test hooks"));

	assert_int_equal(translate_err("build", "[1]", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "a hook is a JSON object"));
	assert_int_equal(translate_err("spaceship", "{}", &errs), -ENOENT);
}

/* False when a @kind hook @payload is refused for its phase; it may be
 * refused for its content. */
static bool phase_is_taken(const char *kind, const char *payload, struct cde_errors *errs)
{
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);

	cde_errors_reset(errs);
	cde_hook_translate(cat, kind, p, &defaults, &ev, errs);
	cJSON_Delete(p);
	cde_event_unref(ev);
	return !has_error(errs, "/phase", "");
}

/* Each kind takes exactly the predicates its subject has in the newest
 * spec: every event type of the subject is reachable by its phase, and
 * the list of phases a mistake names is the catalog's. */
static void each_kind_takes_every_phase_of_its_subject_in_the_newest_spec(void **state)
{
	static const char *const subject_kind[][2] = {
		{ "build", "build" }, { "artifact", "artifact" }, { "service", "deploy" },
		{ "pipelinerun", "pipeline" }, { "taskrun", "task" }, { "environment", "environment" },
		{ "change", "change" }, { "incident", "incident" }, { "ticket", "ticket" },
		{ "repository", "repository" }, { "branch", "branch" },
	};
	const struct cde_spec *spec = cde_catalog_newest(cat);
	size_t reached = 0;

	for (size_t t = 0; t < spec->n_types; t++) {
		char subject[32], phase[32], payload[128];
		struct cde_errors errs;

		if (sscanf(spec->types[t].name, "dev.cdevents.%31[a-z].%31[a-z].", subject, phase) != 2)
			continue;
		for (size_t i = 0; i < sizeof(subject_kind) / sizeof(subject_kind[0]); i++) {
			if (strcmp(subject_kind[i][0], subject) != 0)
				continue;
			snprintf(payload, sizeof(payload), "{\"phase\": \"%s\", \"subject\": \"x\"}", phase);
			/* Required content may be missing: only the phase counts. */
			if (!phase_is_taken(subject_kind[i][1], payload, &errs)) {
				print_message("%s: no %s hook with phase %s\n", spec->types[t].name,
					      subject_kind[i][1], phase);
				print_errors(&errs);
				fail();
			}
			reached++;
		}
	}
	/* 3 + 5 + 5 + 3 + 2 + 3 + 5 + 3 + 3 + 3 + 2 */
	assert_int_equal(reached, 37);
	for (size_t i = 0; cde_hook_kinds[i]; i++) {
		struct cde_errors errs;

		assert_int_equal(translate_err(cde_hook_kinds[i], "{}", &errs), -EINVAL);
	}
}

static void mistakes_in_change_incident_ticket_repository_and_branch_hooks_name_the_field(void **state)
{
	static const struct hook_refusal cases[] = {
		{ "change", "{\"phase\": \"approved\", \"subject\": \"pr-1\"}", "/phase",
		  "must be one of: created, reviewed, merged, abandoned, updated" },
		{ "change", "{\"phase\": \"merged\", \"subject\": \"pr-1\", \"commit\": \"3f2a\"}", "/commit",
		  "unknown field for a change merged hook (known: repository, source," },
		{ "change", "{\"phase\": \"merged\", \"subject\": \"pr-1\", \"repository\": 7}", "/repository",
		  "must be a string (the id) or an object with an id" },
		{ "change", "{\"phase\": \"created\", \"subject\": \"pr-1\", \"repository\": {\"name\": \"etl\"}}",
		  "/repository/id", "required property missing" },
		{ "change", "{\"phase\": \"created\", \"subject\": \"pr-1\", \"description\": \"\"}", "/description", "" },
		{ "incident", "{\"phase\": \"opened\", \"subject\": \"i\"}", "/phase",
		  "must be one of: detected, reported, resolved" },
		{ "incident", "{\"phase\": \"detected\", \"subject\": \"i\", \"service\": \"etl\"}", "/environment",
		  "required property missing" },
		{ "incident", "{\"phase\": \"reported\", \"subject\": \"i\", \"environment\": \"prod\"}", "/ticketURI",
		  "required property missing" },
		{ "incident", "{\"phase\": \"reported\", \"subject\": \"i\", \"environment\": \"prod\", \"ticketURI\": \"not a uri\"}",
		  "/ticketURI", "" },
		{ "incident", "{\"phase\": \"resolved\", \"subject\": \"i\", \"environment\": \"prod\", \"service\": []}",
		  "/service", "must be a string (the id) or an object with an id" },
		{ "incident", "{\"phase\": \"detected\", \"subject\": \"i\", \"environment\": \"prod\", \"ticketURI\": \"https://t/1\"}",
		  "/ticketURI", "unknown field for a incident detected hook" },
		{ "ticket", "{\"phase\": \"reopened\", \"subject\": \"t\"}", "/phase", "must be one of: created, updated, closed" },
		{ "ticket", "{\"phase\": \"created\", \"subject\": \"t\", \"summary\": \"s\", \"creator\": \"ci\"}", "/uri",
		  "required property missing" },
		{ "ticket", "{\"phase\": \"closed\", \"subject\": \"t\", \"uri\": \"https://t/1\"}", "/resolution",
		  "required property missing" },
		{ "ticket", "{\"phase\": \"updated\", \"subject\": \"t\", \"uri\": \"https://t/1\", \"labels\": \"etl\"}",
		  "/labels", "" },
		{ "ticket", "{\"phase\": \"updated\", \"subject\": \"t\", \"uri\": \"https://t/1\", \"resolution\": \"done\"}",
		  "/resolution", "unknown field for a ticket updated hook" },
		{ "repository", "{\"phase\": \"created\", \"subject\": \"r\", \"uri\": \"https://git/r\"}", "/name",
		  "required property missing" },
		{ "repository", "{\"phase\": \"modified\", \"subject\": \"r\", \"uri\": \"git r\"}", "/uri", "" },
		{ "repository", "{\"phase\": \"renamed\", \"subject\": \"r\"}", "/phase", "must be one of: created, modified, deleted" },
		{ "branch", "{\"phase\": \"merged\", \"subject\": \"b\"}", "/phase", "must be one of: created, deleted" },
		{ "branch", "{\"phase\": \"created\", \"subject\": \"b\", \"repository\": {\"id\": \"etl\", \"url\": \"x\"}}",
		  "/repository/url", "unknown property" },
	};
	assert_hooks_refused(cases, sizeof(cases) / sizeof(cases[0]), &defaults);
}

/* An incident's references: strings stand for {"id": ...}, the artifact
 * stays a string (the field correlation reads). */
static void an_incident_hook_names_its_environment_service_and_artifact(void **state)
{
	struct cde_event *ev = translate_ok("incident",
		"{\"phase\": \"detected\", \"subject\": \"inc-7\", \"environment\": \"prod\", "
		"\"service\": {\"id\": \"etl\", \"source\": \"/k8s\"}, \"artifactId\": \"pkg:oci/etl@1\"}");
	cJSON *expected = json("{\"environment\": {\"id\": \"prod\"}, \"service\": {\"id\": \"etl\", "
			       "\"source\": \"/k8s\"}, \"artifactId\": \"pkg:oci/etl@1\"}");

	assert_true(cJSON_Compare(cde_event_content(ev), expected, true));
	assert_string_equal(cde_event_subject_id(ev), "inc-7");
	cJSON_Delete(expected);
	cde_event_unref(ev);
}

/* A person who writes null means something, and is told it is wrong: a
 * null is never taken for an absent member (nor the default put in). */
static void a_null_member_is_a_wrong_value_not_a_missing_one(void **state)
{
	struct cde_errors errs;

	assert_int_equal(translate_err("build", "{\"phase\": null, \"subject\": null}", &errs), -EINVAL);
	assert_int_equal(errs.count, 2);
	assert_true(has_error(&errs, "/phase", "must be a string (one of: queued, started, finished)"));
	assert_true(has_error(&errs, "/subject", "must be a non-empty string (the subject's id)"));

	assert_int_equal(translate_err("build", "{\"phase\": \"queued\", \"subject\": \"b\", "
				       "\"source\": null, \"chainId\": null}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/source", "must be a non-empty string"));

	assert_int_equal(translate_err("test", "{\"phase\": \"queued\", \"subject\": \"s\", "
				       "\"level\": null}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/level", "must be a string: suite or case"));
	assert_int_equal(translate_err("build", "{\"phase\": \"queued\", \"subject\": \"b\", "
				       "\"level\": null}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/level", "only test hooks have a level"));

	assert_int_equal(translate_err("deploy", "{\"phase\": \"deployed\", \"subject\": \"s\", "
				       "\"environment\": \"p\", \"artifactId\": \"pkg:oci/a@1\", "
				       "\"spark\": null, \"customData\": null}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/spark", "must be an object: {sparkVersion, language, conf}"));
	assert_true(has_error(&errs, "/customData", "must be an object when spark is given"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_and_phase_makes_its_event_type),
		cmocka_unit_test(strings_stand_for_references_and_common_fields_go_to_the_context),
		cmocka_unit_test(reports_mistakes_at_the_hook_fields),
		cmocka_unit_test(each_kind_takes_every_phase_of_its_subject_in_the_newest_spec),
		cmocka_unit_test(mistakes_in_change_incident_ticket_repository_and_branch_hooks_name_the_field),
		cmocka_unit_test(an_incident_hook_names_its_environment_service_and_artifact),
		cmocka_unit_test(a_null_member_is_a_wrong_value_not_a_missing_one),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
