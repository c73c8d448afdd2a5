/* Hook translation: each kind and phase becomes the right, valid event;
 * mistakes are reported at the hook's own fields. */

#include "tests/unit/helpers.h"

#include "events/hooks.h"
#include "schemas/validate.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_and_phase_makes_its_event_type),
		cmocka_unit_test(strings_stand_for_references_and_common_fields_go_to_the_context),
		cmocka_unit_test(reports_mistakes_at_the_hook_fields),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
