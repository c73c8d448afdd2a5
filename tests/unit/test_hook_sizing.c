/* Sizing on hooks: a deploy hook, or a started pipeline hook, that
 * carries a Spark job gets the sizing module's answer in
 * customData.sizing; mistakes in the job or the cluster are reported at
 * the hook's own fields. The hooks themselves: test_hooks.c. */

#include "tests/unit/helpers.h"
#include "tests/unit/hook_refusals.h"

#include "config/config.h"
#include "events/hooks.h"
#include "schemas/validate.h"
#include "sizing/sizing.h"

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
	static const struct hook_refusal cases[] = {
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

	assert_hooks_refused(cases, sizeof(cases) / sizeof(cases[0]), &with_clusters);

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
		cmocka_unit_test(a_deploy_hook_with_spark_carries_its_sizing),
		cmocka_unit_test(a_named_cluster_and_a_pipeline_start_size_the_same_way),
		cmocka_unit_test(spark_alone_sizes_the_pods_and_the_language_defaults_to_the_jvm),
		cmocka_unit_test(sizing_mistakes_are_reported_at_the_hook_fields),
		cmocka_unit_test(a_sized_hook_runs_out_of_memory_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, catalog_teardown);
}
