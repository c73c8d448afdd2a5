/* Hook translation: each kind and phase becomes the right, valid event;
 * mistakes are reported at the hook's own fields. */

#include "tests/unit/helpers.h"

#include "config/config.h"
#include "events/hooks.h"
#include "schemas/validate.h"
#include "sizing/sizing.h"

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

/* ---- sizing on deploy and pipeline-started hooks ---- */

/* One configured cluster, as the daemon passes the running config's. */
static struct cde_sizing_named_cluster configured[1];

static const struct cde_hook_defaults with_clusters = {
	.source = "/jenkins", .clusters = configured, .n_clusters = 1,
};

static int clusters_setup(void **state)
{
	struct cde_errors errs;
	cJSON *c = json("{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\", "
			"\"nodes\": 10}");

	cde_errors_reset(&errs);
	snprintf(configured[0].name, sizeof(configured[0].name), "prod-gke");
	assert_int_equal(cde_sizing_cluster_parse(c, "/clusters/prod-gke", &configured[0].cluster, &errs), 0);
	cJSON_Delete(c);
	return 0;
}

static struct cde_event *sized_ok(const char *kind, const char *payload)
{
	struct cde_errors errs;
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);

	cde_errors_reset(&errs);
	if (cde_hook_translate(cat, kind, p, &with_clusters, &ev, &errs) != 0) {
		print_message("%s %s:\n", kind, payload);
		print_errors(&errs);
		fail();
	}
	cJSON_Delete(p);
	/* Whatever the sizing adds, the event stays valid for its schema. */
	cde_errors_reset(&errs);
	assert_int_equal(cde_validate(cat, cde_event_json(ev), NULL, &errs), 0);
	return ev;
}

static int sized_err(const char *kind, const char *payload, struct cde_errors *errs)
{
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);
	int r;

	cde_errors_reset(errs);
	r = cde_hook_translate(cat, kind, p, &with_clusters, &ev, errs);
	cJSON_Delete(p);
	assert_null(ev);
	return r;
}

static const cJSON *sizing_of(const struct cde_event *ev)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "customData"), "sizing");
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* The customData.sizing of a hook is exactly what the sizing module says
 * for the same request: the hook only carries it. */
static void assert_same_as_module(const cJSON *sizing, const char *request,
				  const struct cde_sizing_cluster *cluster)
{
	struct cde_sizing_input in;
	struct cde_sizing_result res;
	struct cde_errors errs;
	cJSON *req = json(request), *expected;

	cde_errors_reset(&errs);
	assert_int_equal(cde_sizing_input_parse(req, &in, &errs), 0);
	if (cluster) {
		in.cluster = *cluster;
		in.has_cluster = true;
	}
	cde_sizing_compute(&in, &res);
	expected = cde_sizing_result_to_json(&res);
	assert_non_null(expected);
	assert_true(cJSON_Compare(sizing, expected, true));
	cJSON_Delete(expected);
	cJSON_Delete(req);
}

static void a_deploy_hook_with_spark_carries_its_sizing(void **state)
{
	/* 8g heap: 0.1*8192=819.2 -> 819, 8192+819=9011 MiB, 1 core.
	 * GKE 16 CPU 64Gi: CPU 60+10+2*5+12*2.5=110m reserved -> 15890m;
	 * memory 1024+819.2+819.2+48*1024*0.06 (2949.12) + 100 eviction =
	 * 5711.52 MiB reserved, 65536-5711.52 -> 59824 MiB. Executors per
	 * node: min(15890/1000=15, 59824/9011=6) = 6; beside the 1408 MiB
	 * driver: min(14, 58416/9011=6) = 6; 10 executors: 1 + ceil(4/6) = 2
	 * nodes. */
	struct cde_event *ev = sized_ok("deploy",
		"{\"phase\": \"deployed\", \"subject\": \"etl\", \"environment\": \"prod\", "
		"\"artifactId\": \"pkg:oci/etl@1\", \"customData\": {\"team\": \"data\"}, "
		"\"spark\": {\"sparkVersion\": \"3.5.1\", \"conf\": {\"spark.executor.memory\": \"8g\", "
		"\"spark.executor.instances\": 10}}, "
		"\"cluster\": {\"provider\": \"gke\", \"nodeCpu\": 16, \"nodeMemory\": \"64Gi\", \"nodes\": 10}}");
	const cJSON *sz = sizing_of(ev), *data = cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "customData");

	assert_non_null(sz);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "team")->valuestring, "data");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(sz, "rules")->valuestring, "3.3-3.5");
	assert_true(num_at(sz, "executor", "heapMiB") == 8192);
	assert_true(num_at(sz, "executor", "overheadMiB") == 819);
	assert_true(num_at(sz, "executor", "memoryRequestMiB") == 9011);
	assert_true(num_at(sz, "executor", "count") == 10);
	assert_true(num_at(sz, "node", "allocatableCpuMillis") == 15890);
	assert_true(num_at(sz, "node", "allocatableMemoryMiB") == 59824);
	assert_true(num_at(sz, "executorsPerNode", NULL) == 6);
	assert_true(num_at(sz, "nodesNeeded", NULL) == 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sz, "fits")));
	assert_same_as_module(sz, "{\"sparkVersion\": \"3.5.1\", \"language\": \"jvm\", \"conf\": "
			      "{\"spark.executor.memory\": \"8g\", \"spark.executor.instances\": 10}}",
			      &configured[0].cluster);
	/* The hook's own fields still map as before, and spark is no content. */
	assert_null(cJSON_GetObjectItemCaseSensitive(cde_event_content(ev), "spark"));
	cde_event_unref(ev);
}

static void a_named_cluster_and_a_pipeline_start_size_the_same_way(void **state)
{
	/* Python: the non-JVM factor 0.4, 0.4*4096=1638.4 -> 1638, 5734 MiB. */
	static const char *const hooks[][2] = {
		{ "deploy", "{\"phase\": \"upgraded\", \"subject\": \"etl\", \"environment\": \"prod\", "
		  "\"artifactId\": \"a\", \"cluster\": \"prod-gke\", "
		  "\"spark\": {\"language\": \"python\", \"conf\": {\"spark.executor.memory\": \"4g\"}}}" },
		{ "pipeline", "{\"phase\": \"started\", \"subject\": \"run-7\", \"pipelineName\": \"etl\", "
		  "\"uri\": \"https://ci/run/7\", \"cluster\": \"prod-gke\", "
		  "\"spark\": {\"language\": \"python\", \"conf\": {\"spark.executor.memory\": \"4g\"}}}" },
	};

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		struct cde_event *ev = sized_ok(hooks[i][0], hooks[i][1]);
		const cJSON *sz = sizing_of(ev);

		assert_non_null(sz);
		assert_true(num_at(sz, "executor", "overheadMiB") == 1638);
		assert_true(num_at(sz, "executor", "memoryRequestMiB") == 5734);
		assert_true(num_at(sz, "node", "allocatableMemoryMiB") == 59824);
		assert_same_as_module(sz, "{\"language\": \"python\", \"conf\": "
				      "{\"spark.executor.memory\": \"4g\"}}", &configured[0].cluster);
		cde_event_unref(ev);
	}
}

static void spark_alone_sizes_the_pods_and_the_language_defaults_to_the_jvm(void **state)
{
	struct cde_event *ev = sized_ok("deploy",
		"{\"phase\": \"published\", \"subject\": \"etl\", \"spark\": {\"conf\": {}}}");
	const cJSON *sz = sizing_of(ev);

	/* Defaults: 1g heap, max(0.1*1024=102, 384) = 384, 1408 MiB; no
	 * cluster: fits unknown (null), no node facts. */
	assert_true(num_at(sz, "executor", "memoryRequestMiB") == 1408);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sz, "fits")));
	assert_null(cJSON_GetObjectItemCaseSensitive(sz, "node"));
	assert_same_as_module(sz, "{\"language\": \"jvm\", \"conf\": {}}", NULL);
	cde_event_unref(ev);

	/* Without spark, nothing is added. */
	ev = sized_ok("deploy", "{\"phase\": \"published\", \"subject\": \"etl\"}");
	assert_null(cJSON_GetObjectItemCaseSensitive(cde_event_json(ev), "customData"));
	cde_event_unref(ev);
}

static void sizing_mistakes_are_reported_at_the_hook_fields(void **state)
{
	static const struct {
		const char *kind, *payload, *pointer, *reason;
	} cases[] = {
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": "
		  "{\"conf\": {\"spark.executor.memory\": \"8Gi\"}}}",
		  "/spark/conf/spark.executor.memory", "Kubernetes units" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {\"conf\": {}}, "
		  "\"cluster\": {\"provider\": \"gke\", \"nodeCpu\": 16, \"nodeMemory\": \"64gi\"}}",
		  "/cluster/nodeMemory", "case matters" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {\"conf\": {}}, "
		  "\"cluster\": \"prod\"}",
		  "/cluster", "no cluster named \"prod\" in the configuration (clusters: prod-gke)" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {\"conf\": {}}, "
		  "\"cluster\": 7}", "/cluster", "must be an object" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"cluster\": \"prod-gke\"}",
		  "/cluster", "only with spark" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": \"3.5\"}",
		  "/spark", "must be an object" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {}}",
		  "/spark/conf", "required" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": "
		  "{\"conf\": {}, \"language\": \"scala\"}}", "/spark/language", "must be" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": "
		  "{\"conf\": {}, \"cluster\": \"prod-gke\"}}", "/spark/cluster", "beside spark" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {\"conf\": {}}, "
		  "\"customData\": {\"sizing\": 1}}", "/customData/sizing", "set by cdeventsd" },
		{ "deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"spark\": {\"conf\": {}}, "
		  "\"customData\": \"text\"}", "/customData", "must be an object when spark is given" },
		/* Only deploy hooks and started pipelines take a job to size. */
		{ "pipeline", "{\"phase\": \"finished\", \"subject\": \"r\", \"spark\": {\"conf\": {}}}",
		  "/spark", "unknown field for a pipeline finished hook" },
		{ "build", "{\"phase\": \"started\", \"subject\": \"b\", \"cluster\": \"prod-gke\"}",
		  "/cluster", "unknown field for a build started hook" },
	};
	struct cde_errors errs;
	int failures = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (sized_err(cases[i].kind, cases[i].payload, &errs) != -EINVAL ||
		    !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s %s: expected %s: %s, got:\n", cases[i].kind, cases[i].payload,
				      cases[i].pointer, cases[i].reason);
			print_errors(&errs);
			failures++;
		}
	}
	assert_int_equal(failures, 0);

	/* Every mistake at once: the spark's and the cluster's. */
	assert_int_equal(sized_err("deploy", "{\"phase\": \"published\", \"subject\": \"s\", "
				   "\"spark\": {\"conf\": {\"spark.executor.cores\": 0}}, "
				   "\"cluster\": {\"provider\": \"eks\", \"nodeCpu\": 8, \"nodeMemory\": \"32Gi\"}}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/spark/conf/spark.executor.cores", ""));
	assert_true(has_error(&errs, "/cluster/maxPods", "required for provider eks"));
	/* The known fields of a sizable hook name spark and cluster. */
	assert_int_equal(sized_err("deploy", "{\"phase\": \"published\", \"subject\": \"s\", \"colour\": 1}",
				   &errs), -EINVAL);
	assert_true(has_error(&errs, "/colour", "customData, spark, cluster)"));
}

/* cJSON allocations that succeed before one fails. */
static unsigned long cjson_allocs_left;

static void *failing_malloc(size_t size)
{
	if (cjson_allocs_left == 0)
		return NULL;
	cjson_allocs_left--;
	return malloc(size);
}

/* A sized hook runs out of memory at each cJSON allocation in turn: it
 * fails with -ENOMEM and leaks nothing (the sanitizer build checks). */
static void a_sized_hook_runs_out_of_memory_cleanly(void **state)
{
	cJSON_Hooks hooks = { .malloc_fn = failing_malloc, .free_fn = free };
	cJSON *p = json("{\"phase\": \"deployed\", \"subject\": \"etl\", \"environment\": \"prod\", "
			"\"artifactId\": \"a\", \"customData\": {\"team\": \"data\"}, \"cluster\": \"prod-gke\", "
			"\"spark\": {\"conf\": {\"spark.executor.memory\": \"8g\", \"spark.executor.cores\": 9}}}");
	struct cde_errors errs;
	struct cde_event *ev;
	unsigned long n;
	int r;

	for (n = 0;; n++) {
		ev = NULL;
		cde_errors_reset(&errs);
		cjson_allocs_left = n;
		cJSON_InitHooks(&hooks);
		r = cde_hook_translate(cat, "deploy", p, &with_clusters, &ev, &errs);
		cJSON_InitHooks(NULL);
		if (r == 0)
			break;
		if (r != -ENOMEM) {
			print_message("allocation %lu: %d\n", n, r);
			print_errors(&errs);
		}
		assert_int_equal(r, -ENOMEM);
		assert_null(ev);
	}
	assert_true(n > 20);
	assert_non_null(sizing_of(ev));
	cde_event_unref(ev);
	cJSON_Delete(p);
}

static int setup(void **state)
{
	catalog_setup(state);
	return clusters_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_and_phase_makes_its_event_type),
		cmocka_unit_test(strings_stand_for_references_and_common_fields_go_to_the_context),
		cmocka_unit_test(reports_mistakes_at_the_hook_fields),
		cmocka_unit_test(a_null_member_is_a_wrong_value_not_a_missing_one),
		cmocka_unit_test(a_deploy_hook_with_spark_carries_its_sizing),
		cmocka_unit_test(a_named_cluster_and_a_pipeline_start_size_the_same_way),
		cmocka_unit_test(spark_alone_sizes_the_pods_and_the_language_defaults_to_the_jvm),
		cmocka_unit_test(sizing_mistakes_are_reported_at_the_hook_fields),
		cmocka_unit_test(a_sized_hook_runs_out_of_memory_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, catalog_teardown);
}
