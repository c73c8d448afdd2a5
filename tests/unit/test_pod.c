/* Pod outcomes: every fixture of tests/data/pods (kubectl get pod -o json
 * output) is classified right and gets a remedy; the pod hook builds
 * valid events from them, alone, in a List or wrapped; bad input is
 * refused at the right JSON pointer; allocation failures fail cleanly. */

#include "tests/unit/helpers.h"

#include "events/pod_hook.h"
#include "sizing/pod_outcome.h"
#include "schemas/validate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NO_EXIT (-999)

static const struct cde_hook_defaults defaults = { .source = "/tekton" };

static cJSON *fixture(const char *name)
{
	const char *root = getenv("CDE_SOURCE_DIR");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/data/pods/%s", root ? root : ".", name);
	return read_json_file(path);
}

static void classify_ok(const cJSON *pod, struct cde_pod_outcome *o)
{
	struct cde_errors errs;

	cde_errors_reset(&errs);
	if (cde_pod_classify(pod, "", o, &errs) != 0) {
		print_errors(&errs);
		fail();
	}
}

/* ---- each fixture ---- */

struct pod_case {
	const char *file;
	enum cde_pod_reason reason;
	enum cde_pod_verdict verdict;
	const char *container;		/* NULL: none named */
	int exit_code;			/* NO_EXIT: none */
	enum cde_pod_spark_role role;
	enum cde_pod_action action;
	const char *remedy_part;	/* a phrase the remedy text must hold */
};

static const struct pod_case fixtures[] = {
	{ "succeeded.json", CDE_POD_SUCCEEDED, CDE_POD_SUCCESS, "spark-kubernetes-driver", 0,
	  CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_NONE, "" },
	{ "error-exit-1.json", CDE_POD_ERROR, CDE_POD_FAILURE, "spark-kubernetes-driver", 1,
	  CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_READ_LOGS, "driver's log has the exception" },
	{ "failed-start-error.json", CDE_POD_FAILED, CDE_POD_FAILURE, "spark-kubernetes-driver", 128,
	  CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_FIX_COMMAND, "entrypoint" },
	{ "oomkilled-executor.json", CDE_POD_OOM_KILLED, CDE_POD_FAILURE, "spark-kubernetes-executor",
	  137, CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_RAISE_MEMORY_OVERHEAD,
	  "Set spark.executor.memoryOverhead=818m" },
	{ "oomkilled-driver.json", CDE_POD_OOM_KILLED, CDE_POD_FAILURE, "spark-kubernetes-driver", 137,
	  CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_RAISE_MEMORY_OVERHEAD,
	  "Raise spark.driver.memoryOverhead" },
	{ "image-pull-backoff.json", CDE_POD_IMAGE_PULL_BACK_OFF, CDE_POD_ERROR_OUTCOME,
	  "spark-kubernetes-driver", NO_EXIT, CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_CHECK_IMAGE,
	  "spec.imagePullSecrets (registry-example-com)" },
	{ "err-image-pull.json", CDE_POD_ERR_IMAGE_PULL, CDE_POD_ERROR_OUTCOME,
	  "spark-kubernetes-driver", NO_EXIT, CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_CHECK_IMAGE,
	  "refused the credentials" },
	{ "crash-loop-backoff.json", CDE_POD_CRASH_LOOP_BACK_OFF, CDE_POD_FAILURE, "exporter", 1,
	  CDE_POD_SPARK_NONE, CDE_POD_ACTION_READ_PREVIOUS_LOGS, "(6 restarts)" },
	{ "create-container-config-error.json", CDE_POD_CREATE_CONTAINER_CONFIG_ERROR,
	  CDE_POD_ERROR_OUTCOME, "spark-kubernetes-driver", NO_EXIT, CDE_POD_SPARK_DRIVER,
	  CDE_POD_ACTION_CREATE_CONFIG, "The Secret s3-credentials does not exist" },
	{ "unschedulable-memory.json", CDE_POD_UNSCHEDULABLE, CDE_POD_ERROR_OUTCOME, NULL, NO_EXIT,
	  CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_LOWER_REQUEST, "No node had 63078Mi memory free" },
	{ "unschedulable-cpu.json", CDE_POD_UNSCHEDULABLE, CDE_POD_ERROR_OUTCOME, NULL, NO_EXIT,
	  CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_LOWER_REQUEST, "No node had 8 CPU free" },
	{ "unschedulable-taint.json", CDE_POD_UNSCHEDULABLE, CDE_POD_ERROR_OUTCOME, NULL, NO_EXIT,
	  CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_FIX_SCHEDULING, "taint {dedicated: gpu}" },
	{ "evicted-ephemeral-storage.json", CDE_POD_EVICTED, CDE_POD_ERROR_OUTCOME,
	  "spark-kubernetes-executor", 137, CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_LOCAL_STORAGE,
	  "spark-local-dir-1" },
	{ "evicted-memory.json", CDE_POD_EVICTED, CDE_POD_ERROR_OUTCOME, "spark-kubernetes-executor",
	  137, CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_NODE_MEMORY, "ran short of memory" },
	{ "deadline-exceeded.json", CDE_POD_DEADLINE_EXCEEDED, CDE_POD_FAILURE,
	  "spark-kubernetes-driver", 137, CDE_POD_SPARK_DRIVER, CDE_POD_ACTION_RAISE_DEADLINE,
	  "activeDeadlineSeconds (3600 s)" },
	{ "running.json", CDE_POD_RUNNING, CDE_POD_NOT_FINISHED, NULL, NO_EXIT,
	  CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_NONE, "" },
	{ "pending-container-creating.json", CDE_POD_PENDING, CDE_POD_NOT_FINISHED,
	  "spark-kubernetes-executor", NO_EXIT, CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_NONE, "" },
	{ "init-container-error.json", CDE_POD_ERROR, CDE_POD_FAILURE, "fetch-deps", 2,
	  CDE_POD_SPARK_NONE, CDE_POD_ACTION_READ_LOGS, "exited with code 2" },
	{ "spark-exit-52.json", CDE_POD_ERROR, CDE_POD_FAILURE, "spark-kubernetes-executor", 52,
	  CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_RAISE_HEAP, "raise spark.executor.memory" },
	{ "unknown-node-lost.json", CDE_POD_UNKNOWN, CDE_POD_ERROR_OUTCOME, NULL, NO_EXIT,
	  CDE_POD_SPARK_EXECUTOR, CDE_POD_ACTION_CHECK_NODE, "stopped reporting" },
};

static void every_fixture_is_classified_right(void **state)
{
	int failures = 0;

	for (size_t i = 0; i < N(fixtures); i++) {
		const struct pod_case *c = &fixtures[i];
		cJSON *pod = fixture(c->file);
		struct cde_pod_outcome o;
		struct cde_pod_remedy m;
		int exit_code;

		classify_ok(pod, &o);
		cde_pod_remedy(&o, NULL, NULL, &m);
		exit_code = o.has_exit_code ? o.exit_code : NO_EXIT;
		if (o.reason != c->reason || o.verdict != c->verdict ||
		    (c->container ? !o.container || strcmp(o.container, c->container) != 0
				  : o.container != NULL) ||
		    exit_code != c->exit_code || o.spark_role != c->role || m.action != c->action ||
		    !strstr(m.text, c->remedy_part) ||
		    (c->action != CDE_POD_ACTION_NONE && !m.text[0])) {
			print_message("%s: reason %s verdict %d container %s exit %d role %d action %s\n"
				      "  remedy: %s\n", c->file, cde_pod_reason_name(o.reason),
				      o.verdict, o.container ? o.container : "(none)", exit_code,
				      o.spark_role, cde_pod_action_name(m.action), m.text);
			failures++;
		}
		cJSON_Delete(pod);
	}
	assert_int_equal(failures, 0);
}

static void fixtures_carry_their_facts(void **state)
{
	struct cde_pod_outcome o;
	struct cde_pod_remedy m;
	cJSON *pod;

	pod = fixture("oomkilled-executor.json");
	classify_ok(pod, &o);
	assert_string_equal(o.ns, "spark-jobs");
	assert_string_equal(o.name, "etl-daily-7f3e1c9a2b-exec-3");
	assert_string_equal(o.spark_app_name, "etl-daily");
	assert_string_equal(o.spark_exec_id, "3");
	assert_true(o.memory_limit.set && o.memory_limit.v == UINT64_C(4505) << 20);
	assert_true(o.spark_heap.set && o.spark_heap.v == UINT64_C(4) << 30);
	assert_string_equal(o.finished_at, "2025-03-14T02:23:41Z");
	/* Without a Spark conf the remedy is derived from the pod: overhead
	 * 4505 - 4096 = 409 MiB, doubled. */
	cde_pod_remedy(&o, NULL, NULL, &m);
	assert_true(m.has_sizing && m.sizing_from_pod);
	assert_int_equal(m.sizing.old_overhead_mib, 409);
	assert_int_equal(m.sizing.new_overhead_mib, 818);
	assert_int_equal(m.sizing.new_memory_mib, 4914);
	assert_string_equal(m.conf_key, "spark.executor.memoryOverhead");
	assert_string_equal(m.conf_value, "818m");
	cJSON_Delete(pod);

	pod = fixture("oomkilled-driver.json");
	classify_ok(pod, &o);
	cde_pod_remedy(&o, NULL, NULL, &m);
	/* The heap of a driver is not in its pod: only the limit is known. */
	assert_false(m.has_sizing);
	assert_non_null(strstr(m.text, "the container limit was 1408Mi"));
	cJSON_Delete(pod);

	pod = fixture("unschedulable-memory.json");
	classify_ok(pod, &o);
	assert_int_equal(o.unschedulable.nodes, 5);
	assert_int_equal(o.unschedulable.insufficient_memory, 3);
	assert_int_equal(o.unschedulable.taint, 2);
	assert_string_equal(o.unschedulable.taint_text, "{node-role.kubernetes.io/control-plane: }");
	assert_true(o.pod_memory_request.set && o.pod_memory_request.v == UINT64_C(63078) << 20);
	assert_null(o.node);

	{
		/* Printed as JSON without a key twice (a consumer would keep
		 * one of the two; the audit log refuses such a document). */
		cJSON *out = cde_pod_outcome_to_json(&o, NULL), *back = NULL;
		char *text = cde_json_print(out);
		struct cde_errors errs;
		const cJSON *u;

		cde_errors_reset(&errs);
		if (cde_json_parse(text, strlen(text), &back, &errs) < 0)
			fail_msg("%s: %s", errs.items[0].pointer, errs.items[0].reason);
		u = cJSON_GetObjectItem(back, "unschedulable");
		assert_int_equal(cJSON_GetObjectItem(u, "taint")->valueint, 2);
		assert_string_equal(cJSON_GetObjectItem(u, "untoleratedTaint")->valuestring,
				    "{node-role.kubernetes.io/control-plane: }");
		cJSON_Delete(back);
		free(text);
		cJSON_Delete(out);
	}
	cJSON_Delete(pod);

	pod = fixture("unschedulable-taint.json");
	classify_ok(pod, &o);
	assert_int_equal(o.unschedulable.nodes, 3);
	assert_int_equal(o.unschedulable.node_selector, 1);
	assert_int_equal(o.unschedulable.taint, 2);
	assert_int_equal(o.unschedulable.insufficient_memory + o.unschedulable.other, 0);
	cJSON_Delete(pod);

	pod = fixture("create-container-config-error.json");
	classify_ok(pod, &o);
	assert_string_equal(o.config_kind, "Secret");
	assert_string_equal(o.config_name, "s3-credentials");
	cJSON_Delete(pod);

	pod = fixture("evicted-ephemeral-storage.json");
	classify_ok(pod, &o);
	assert_string_equal(o.evicted_resource, "ephemeral-storage");
	/* The eviction message, not the container's "could not be located". */
	assert_non_null(strstr(o.message, "low on resource: ephemeral-storage"));
	cJSON_Delete(pod);

	pod = fixture("crash-loop-backoff.json");
	classify_ok(pod, &o);
	assert_string_equal(o.last_reason, "Error");
	assert_int_equal(o.restarts, 6);
	/* The crashed run's message beats "back-off 5m0s restarting...". */
	assert_non_null(strstr(o.message, "config.yaml: no such file"));
	cde_pod_remedy(&o, NULL, NULL, &m);
	assert_string_equal(m.command, "kubectl logs -n observability "
			    "metrics-exporter-6d9c8b7f5-q2x8w -c exporter --previous");
	cJSON_Delete(pod);

	pod = fixture("init-container-error.json");
	classify_ok(pod, &o);
	assert_true(o.init_container);
	assert_string_equal(o.pipeline_run, "etl-release-run-42");
	assert_string_equal(o.task_name, "spark-submit");
	assert_true(o.has_deadline && o.deadline_seconds == 5400);
	/* Requests: max(512Mi step, 256Mi init) and max(500m, 250m). */
	assert_true(o.pod_memory_request.v == UINT64_C(512) << 20);
	assert_true(o.pod_cpu_request.v == 500);
	cJSON_Delete(pod);
}

/* ---- sizing in the remedies ---- */

#define GKE64 "{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\", \"nodes\": 5}"

static void parse_spark(const char *text, struct cde_sizing_input *in)
{
	struct cde_errors errs;
	cJSON *req = json(text);

	cde_errors_reset(&errs);
	if (cde_sizing_input_parse(req, in, &errs) != 0) {
		print_errors(&errs);
		fail();
	}
	cJSON_Delete(req);
}

static void remedies_use_the_sizing_module(void **state)
{
	struct cde_sizing_input in;
	struct cde_pod_outcome o;
	struct cde_pod_remedy m;
	cJSON *pod;

	/* OOMKilled executor with the job's conf and the cluster. */
	pod = fixture("oomkilled-executor.json");
	classify_ok(pod, &o);
	parse_spark("{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"4g\","
		    "\"spark.executor.cores\": 4}, \"cluster\": " GKE64 "}", &in);
	cde_pod_remedy(&o, &in, NULL, &m);
	assert_true(m.has_sizing && !m.sizing_from_pod && m.sizing.has_node && m.sizing.fits_node);
	assert_string_equal(m.conf_value, "818m");
	assert_non_null(strstr(m.text, "still fits a node (3 per node)"));
	/* A conf that does not match the pod's limit is pointed out. */
	parse_spark("{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"8g\"}}", &in);
	cde_pod_remedy(&o, &in, NULL, &m);
	assert_non_null(strstr(m.text, "not the 9011Mi the given conf makes"));
	cJSON_Delete(pod);

	/* Unschedulable for memory: the heap that fits, the node that does. */
	pod = fixture("unschedulable-memory.json");
	classify_ok(pod, &o);
	parse_spark("{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"56g\","
		    "\"spark.executor.cores\": 4}, \"cluster\": " GKE64 "}", &in);
	cde_pod_remedy(&o, &in, NULL, &m);
	assert_int_equal(m.action, CDE_POD_ACTION_LOWER_REQUEST);
	assert_false(m.fits_empty_node);
	assert_true(m.allocatable.set && m.allocatable.v == UINT64_C(59824) << 20);
	assert_string_equal(m.conf_key, "spark.executor.memory");
	/* 54386 + 10% = 59824: exactly one node's allocatable. */
	assert_string_equal(m.conf_value, "54386m");
	assert_true(m.node_memory_that_fits.set && m.node_memory_that_fits.v == UINT64_C(128) << 30);
	/* A pod that fits an empty node: the cluster is only full. */
	parse_spark("{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"8g\"},"
		    "\"cluster\": " GKE64 "}", &in);
	cde_pod_remedy(&o, &in, NULL, &m);
	assert_int_equal(m.action, CDE_POD_ACTION_ADD_NODES);
	assert_true(m.fits_empty_node);
	cJSON_Delete(pod);

	/* Without a Spark conf, the cluster alone still answers. */
	pod = fixture("unschedulable-memory.json");
	classify_ok(pod, &o);
	parse_spark("{\"language\": \"jvm\", \"conf\": {}, \"cluster\": " GKE64 "}", &in);
	cde_pod_remedy(&o, NULL, &in.cluster, &m);
	assert_int_equal(m.action, CDE_POD_ACTION_LOWER_REQUEST);
	assert_true(m.request.v == UINT64_C(63078) << 20);
	assert_true(m.node_memory_that_fits.set);
	cJSON_Delete(pod);

	/* CPU: the request that fits a 4-CPU node. */
	pod = fixture("unschedulable-cpu.json");
	classify_ok(pod, &o);
	parse_spark("{\"language\": \"jvm\", \"conf\": {\"spark.kubernetes.driver.request.cores\": 8},"
		    "\"cluster\": {\"provider\": \"gke\", \"nodeCpu\": 4, \"nodeMemory\": \"16Gi\"}}",
		    &in);
	cde_pod_remedy(&o, &in, NULL, &m);
	assert_string_equal(m.resource, "cpu");
	assert_string_equal(m.conf_key, "spark.kubernetes.driver.request.cores");
	assert_true(m.allocatable.set);
	assert_true(m.node_cpu_that_fits.set && m.node_cpu_that_fits.v > 8000);
	cJSON_Delete(pod);
}

/* ---- messages and codes ---- */

static cJSON *pending_pod(const char *scheduler_message)
{
	cJSON *pod = json("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},"
			  "\"status\": {\"phase\": \"Pending\", \"conditions\": [{\"type\": "
			  "\"PodScheduled\", \"status\": \"False\", \"reason\": \"Unschedulable\"}]}}");
	cJSON *cond = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"),
							     "conditions"), 0);

	assert_non_null(cJSON_AddStringToObject(cond, "message", scheduler_message));
	return pod;
}

static void scheduler_messages_are_counted(void **state)
{
	static const struct {
		const char *message;
		unsigned nodes, cpu, memory, taint, selector, too_many, volume, other;
	} cases[] = {
		{ "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.", 3, 1, 2, 0, 0, 0, 0, 0 },
		{ "0/4 nodes are available: 4 node(s) had taint {node.kubernetes.io/not-ready: }, that "
		  "the pod didn't tolerate.", 4, 0, 0, 4, 0, 0, 0, 0 },
		{ "0/6 nodes are available: 2 node(s) had untolerated taint {a: b}, 2 node(s) had "
		  "untolerated taint {c: d}, 2 node(s) didn't match Pod's node affinity/selector. "
		  "preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.",
		  6, 0, 0, 4, 2, 0, 0, 0 },
		{ "0/1 nodes are available: 1 Too many pods.", 1, 0, 0, 0, 0, 1, 0, 0 },
		{ "0/2 nodes are available: 2 node(s) had volume node affinity conflict.", 2, 0, 0, 0,
		  0, 0, 2, 0 },
		{ "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.", 2, 0, 0,
		  0, 0, 0, 1, 0 },
		{ "no nodes available to schedule pods", 0, 0, 0, 0, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		cJSON *pod = pending_pod(cases[i].message);
		struct cde_pod_outcome o;
		const struct cde_pod_unschedulable *u = &o.unschedulable;

		classify_ok(pod, &o);
		assert_int_equal(o.reason, CDE_POD_UNSCHEDULABLE);
		if (u->nodes != cases[i].nodes || u->insufficient_cpu != cases[i].cpu ||
		    u->insufficient_memory != cases[i].memory || u->taint != cases[i].taint ||
		    u->node_selector != cases[i].selector || u->too_many_pods != cases[i].too_many ||
		    u->volume != cases[i].volume || u->other + u->pod_affinity != cases[i].other) {
			print_message("%s: nodes %u cpu %u mem %u taint %u sel %u many %u vol %u other %u\n",
				      cases[i].message, u->nodes, u->insufficient_cpu,
				      u->insufficient_memory, u->taint, u->node_selector,
				      u->too_many_pods, u->volume, u->other);
			fail();
		}
		cJSON_Delete(pod);
	}
}

static void config_errors_name_what_is_missing(void **state)
{
	cJSON *pod = json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"},"
			  "\"status\": {\"phase\": \"Pending\", \"containerStatuses\": [{\"name\": \"c\","
			  "\"state\": {\"waiting\": {\"reason\": \"CreateContainerConfigError\","
			  "\"message\": \"couldn't find key secret-key in Secret ns/s3-credentials\"}}}]}}");
	struct cde_pod_outcome o;
	struct cde_pod_remedy m;

	classify_ok(pod, &o);
	assert_string_equal(o.config_kind, "Secret");
	assert_string_equal(o.config_name, "s3-credentials");
	assert_string_equal(o.config_key, "secret-key");
	cde_pod_remedy(&o, NULL, NULL, &m);
	assert_non_null(strstr(m.text, "has no key secret-key"));
	cJSON_Delete(pod);

	pod = json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": "
		   "\"Pending\", \"containerStatuses\": [{\"name\": \"c\", \"state\": {\"waiting\": "
		   "{\"reason\": \"CreateContainerConfigError\", \"message\": \"configmap "
		   "\\\"spark-conf\\\" not found\"}}}]}}");
	classify_ok(pod, &o);
	assert_string_equal(o.ns, "default");
	assert_string_equal(o.config_kind, "ConfigMap");
	assert_string_equal(o.config_name, "spark-conf");
	cJSON_Delete(pod);
}

/* A pod the node stopped as a whole: the platform's error, no container
 * to blame even though each shows the kill. */
static void platform_failures_blame_no_container(void **state)
{
	cJSON *pod = json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": "
			  "{\"nodeName\": \"n1\"}, \"status\": {\"phase\": \"Failed\", \"reason\": "
			  "\"Terminated\", \"message\": \"Pod was terminated in response to imminent node "
			  "shutdown.\", \"containerStatuses\": [{\"name\": \"c\", \"state\": "
			  "{\"terminated\": {\"exitCode\": 137, \"reason\": \"Error\"}}}]}}");
	struct cde_pod_outcome o;
	struct cde_pod_remedy m;

	classify_ok(pod, &o);
	assert_int_equal(o.reason, CDE_POD_FAILED);
	assert_int_equal(o.verdict, CDE_POD_ERROR_OUTCOME);
	assert_null(o.container);
	cde_pod_remedy(&o, NULL, NULL, &m);
	assert_int_equal(m.action, CDE_POD_ACTION_CHECK_NODE);
	assert_string_equal(m.command, "kubectl describe node n1");
	cJSON_Delete(pod);
}

static void exit_codes_are_explained(void **state)
{
	assert_non_null(strstr(cde_pod_exit_code_meaning(137, CDE_POD_SPARK_NONE), "SIGKILL"));
	assert_non_null(strstr(cde_pod_exit_code_meaning(143, CDE_POD_SPARK_NONE), "SIGTERM"));
	assert_non_null(strstr(cde_pod_exit_code_meaning(1, CDE_POD_SPARK_NONE), "application"));
	assert_non_null(strstr(cde_pod_exit_code_meaning(52, CDE_POD_SPARK_EXECUTOR), "OutOfMemoryError"));
	/* 52 is Spark's only in a Spark pod. */
	assert_null(strstr(cde_pod_exit_code_meaning(52, CDE_POD_SPARK_NONE), "OutOfMemoryError"));
	assert_non_null(strstr(cde_pod_exit_code_meaning(139, CDE_POD_SPARK_NONE), "SIGSEGV"));
	assert_string_equal(cde_pod_reason_name(CDE_POD_OOM_KILLED), "OOMKilled");
	assert_string_equal(cde_pod_reason_name(CDE_POD_REASON_COUNT), "Unknown");
	assert_string_equal(cde_pod_action_name(CDE_POD_ACTION_COUNT), "none");
	for (int r = 0; r < CDE_POD_REASON_COUNT; r++)
		assert_non_null(cde_pod_reason_name((enum cde_pod_reason)r));
	for (int a = 0; a < CDE_POD_ACTION_COUNT; a++)
		assert_non_null(cde_pod_action_name((enum cde_pod_action)a));
}

/* A long message is cut on a character boundary in the JSON. */
static void long_messages_stay_valid_utf8(void **state)
{
	char msg[3000];
	cJSON *pod = json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": "
			  "{\"phase\": \"Failed\", \"containerStatuses\": [{\"name\": \"c\", "
			  "\"state\": {\"terminated\": {\"exitCode\": 1, \"reason\": \"Error\"}}}]}}");
	cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(pod, "status"), "containerStatuses"), 0), "state"), "terminated");
	struct cde_pod_outcome o;
	cJSON *out;
	const char *m;

	/* "é" is two bytes; an odd prefix puts the cut inside one. */
	msg[0] = 'x';
	for (size_t i = 1; i + 2 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);
	msg[sizeof(msg) - 1 - ((sizeof(msg) - 2) % 2)] = '\0';
	assert_non_null(cJSON_AddStringToObject(t, "message", msg));
	classify_ok(pod, &o);
	out = cde_pod_outcome_to_json(&o, NULL);
	assert_non_null(out);
	m = cJSON_GetObjectItem(out, "message")->valuestring;
	assert_true(strlen(m) <= 1024 + 3);
	assert_int_equal(cde_utf8_check(m, strlen(m)), strlen(m));
	cJSON_Delete(out);
	cJSON_Delete(pod);
}

/* ---- bad input ---- */

static void bad_pods_are_refused_at_their_pointer(void **state)
{
	static const struct {
		const char *doc, *pointer, *reason;
	} cases[] = {
		{ "[]", "", "must be an object" },
		{ "{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"status\": {}}", "/kind",
		  "must be Pod, not Deployment" },
		{ "{\"kind\": \"Pod\", \"status\": {\"phase\": \"Running\"}}", "/metadata", "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {}, \"status\": {\"phase\": \"Running\"}}",
		  "/metadata/name", "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"\"}, \"status\": {\"phase\": \"Running\"}}",
		  "/metadata/name", "must not be empty" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}", "/status", "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": 5}", "/status",
		  "must be an object" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {}}", "/status/phase",
		  "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Done\"}}",
		  "/status/phase", "must be Pending, Running" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"labels\": {\"spark-role\": 1}},"
		  "\"status\": {\"phase\": \"Running\"}}", "/metadata/labels/spark-role", "must be a string" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Failed\","
		  "\"containerStatuses\": [{\"name\": \"c\", \"state\": 7}]}}",
		  "/status/containerStatuses/0/state", "must be an object" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Failed\","
		  "\"containerStatuses\": [{\"name\": \"c\", \"state\": {\"terminated\": {\"exitCode\": "
		  "\"137\"}}}]}}", "/status/containerStatuses/0/state/terminated/exitCode",
		  "must be a number" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Failed\","
		  "\"containerStatuses\": [{\"name\": \"c\", \"state\": {\"terminated\": {}}}]}}",
		  "/status/containerStatuses/0/state/terminated/exitCode", "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Failed\","
		  "\"initContainerStatuses\": [{\"state\": {}}]}}",
		  "/status/initContainerStatuses/0/name", "required" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Failed\","
		  "\"containerStatuses\": {}}}", "/status/containerStatuses", "must be an array" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Pending\","
		  "\"conditions\": [3]}}", "/status/conditions/0", "must be an object" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{"
		  "\"name\": \"c\", \"resources\": {\"limits\": {\"memory\": \"lots\"}}}]},"
		  "\"status\": {\"phase\": \"Running\"}}", "/spec/containers/0/resources/limits/memory",
		  "is not a memory quantity" },
		{ "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"activeDeadlineSeconds\":"
		  " -1}, \"status\": {\"phase\": \"Running\"}}", "/spec/activeDeadlineSeconds",
		  "must be a whole number" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct cde_errors errs;
		struct cde_pod_outcome o;
		cJSON *doc = json(cases[i].doc);

		memset(&o, 0x5a, sizeof(o));
		cde_errors_reset(&errs);
		if (cde_pod_classify(doc, "", &o, &errs) != -EINVAL ||
		    !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s:\n", cases[i].doc);
			print_errors(&errs);
			fail();
		}
		/* Untouched on failure. */
		assert_int_equal(((unsigned char *)&o)[0], 0x5a);
		cJSON_Delete(doc);
	}
}

/* ---- the hook ---- */

static int translate(const cJSON *payload, struct cde_event ***events, size_t *n,
		     struct cde_errors *errs)
{
	cde_errors_reset(errs);
	*events = NULL;
	*n = 0;
	return cde_pod_hook_translate(cat, payload, &defaults, events, n, errs);
}

static const cJSON *at(const cJSON *doc, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItem(doc, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	if (c)
		v = cJSON_GetObjectItem(v, c);
	return v;
}

static void every_fixture_makes_valid_events(void **state)
{
	for (size_t i = 0; i < N(fixtures); i++) {
		cJSON *pod = fixture(fixtures[i].file);
		struct cde_event **ev;
		struct cde_errors errs;
		size_t n;
		bool failed = fixtures[i].verdict == CDE_POD_FAILURE ||
			      fixtures[i].verdict == CDE_POD_ERROR_OUTCOME;

		if (translate(pod, &ev, &n, &errs) != 0) {
			print_message("%s:\n", fixtures[i].file);
			print_errors(&errs);
			fail();
		}
		assert_int_equal(n, failed ? 2 : 1);
		for (size_t k = 0; k < n; k++) {
			cde_errors_reset(&errs);
			assert_int_equal(cde_validate(cat, cde_event_json(ev[k]), NULL, &errs), 0);
		}
		assert_non_null(strstr(cde_event_type(ev[0]), fixtures[i].verdict == CDE_POD_NOT_FINISHED ?
						 "dev.cdevents.taskrun.started." :
						 "dev.cdevents.taskrun.finished."));
		if (fixtures[i].verdict != CDE_POD_NOT_FINISHED)
			assert_string_equal(at(cde_event_json(ev[0]), "subject", "content", "outcome")->valuestring,
					    cde_pod_verdict_name(fixtures[i].verdict));
		if (failed) {
			const cJSON *doc = cde_event_json(ev[1]);
			const cJSON *po = at(doc, "customData", "podOutcome", NULL);

			assert_non_null(strstr(cde_event_type(ev[1]), "dev.cdevents.incident.detected."));
			assert_string_equal(cde_event_subject_id(ev[1]), cde_event_subject_id(ev[0]));
			assert_string_equal(cJSON_GetObjectItem(po, "reason")->valuestring,
					    cde_pod_reason_name(fixtures[i].reason));
			assert_string_equal(at(po, "remedy", "action", NULL)->valuestring,
					    cde_pod_action_name(fixtures[i].action));
			assert_non_null(at(doc, "subject", "content", "description"));
			assert_non_null(at(cde_event_json(ev[0]), "subject", "content", "errors"));
		}
		cde_pod_hook_events_free(ev, n);
		cJSON_Delete(pod);
	}
}

static void the_oom_events_in_detail(void **state)
{
	cJSON *pod = fixture("oomkilled-executor.json");
	struct cde_event **ev, **again;
	struct cde_errors errs;
	size_t n, n2;
	const cJSON *tr, *inc, *po;

	assert_int_equal(translate(pod, &ev, &n, &errs), 0);
	tr = cde_event_json(ev[0]);
	inc = cde_event_json(ev[1]);
	assert_string_equal(cde_event_subject_id(ev[0]), "spark-jobs/etl-daily-7f3e1c9a2b-exec-3");
	assert_string_equal(at(tr, "subject", "content", "taskName")->valuestring, "etl-daily");
	assert_string_equal(at(tr, "subject", "content", "outcome")->valuestring, "failure");
	/* The time the container died, not the time of the post. */
	assert_string_equal(cde_event_timestamp(ev[0]), "2025-03-14T02:23:41Z");
	assert_string_equal(cde_event_id(ev[0]),
			    "5d2a63a1-cc67-4416-a226-e33fd73eaa4b.finished.OOMKilled");
	assert_string_equal(cde_event_id(ev[1]),
			    "5d2a63a1-cc67-4416-a226-e33fd73eaa4b.incident.OOMKilled");
	assert_string_equal(cde_event_source(ev[0]), "/tekton");
	/* Environment from the namespace; the artifact from the digest. */
	assert_string_equal(at(inc, "subject", "content", "environment")->child->valuestring,
			    "spark-jobs");
	assert_string_equal(at(inc, "subject", "content", "artifactId")->valuestring,
			    "pkg:oci/etl@sha256%3A469bcc4b399086c601419cc4721f01766003cf06751de9d92897ae466e290461");
	po = at(inc, "customData", "podOutcome", NULL);
	assert_string_equal(cJSON_GetObjectItem(po, "container")->valuestring, "spark-kubernetes-executor");
	assert_int_equal(cJSON_GetObjectItem(po, "exitCode")->valueint, 137);
	assert_string_equal(cJSON_GetObjectItem(po, "sparkRole")->valuestring, "executor");
	assert_string_equal(cJSON_GetObjectItem(po, "sparkApp")->valuestring, "etl-daily");
	assert_string_equal(cJSON_GetObjectItem(po, "memoryLimit")->valuestring, "4505Mi");
	assert_string_equal(at(po, "remedy", "value", NULL)->valuestring, "818m");
	assert_true(cJSON_IsTrue(at(po, "remedy", "sizing", "derivedFromPod")));
	/* The incident points at the task run it was found in. */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		at(inc, "context", "links", NULL), 0), "target"), "contextId")->valuestring,
		cde_event_id(ev[0]));
	/* The same pod again: the same ids, so a retry is a duplicate. */
	assert_int_equal(translate(pod, &again, &n2, &errs), 0);
	assert_string_equal(cde_event_id(again[1]), cde_event_id(ev[1]));
	cde_pod_hook_events_free(again, n2);
	cde_pod_hook_events_free(ev, n);
	cJSON_Delete(pod);
}

static void lists_and_wrappers(void **state)
{
	cJSON *list = json("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [], "
			   "\"metadata\": {\"resourceVersion\": \"\"}}");
	cJSON *items = cJSON_GetObjectItem(list, "items");
	cJSON *wrapper;
	struct cde_event **ev;
	struct cde_errors errs;
	size_t n;

	cJSON_AddItemToArray(items, fixture("succeeded.json"));
	cJSON_AddItemToArray(items, fixture("oomkilled-executor.json"));
	cJSON_AddItemToArray(items, fixture("running.json"));
	assert_int_equal(translate(list, &ev, &n, &errs), 0);
	assert_int_equal(n, 4);
	cde_pod_hook_events_free(ev, n);

	/* PodList from the API server: items without kind. */
	cJSON_ReplaceItemInObject(list, "kind", cJSON_CreateString("PodList"));
	cJSON_DeleteItemFromObject(cJSON_GetArrayItem(items, 0), "kind");
	assert_int_equal(translate(list, &ev, &n, &errs), 0);
	assert_int_equal(n, 4);
	cde_pod_hook_events_free(ev, n);

	/* Wrapped, with the facts a pod does not carry. */
	wrapper = cJSON_CreateObject();
	cJSON_AddItemToObject(wrapper, "pod", list);
	cJSON_AddStringToObject(wrapper, "environment", "prod");
	cJSON_AddStringToObject(wrapper, "pipelineRun", "run-42");
	cJSON_AddStringToObject(wrapper, "chainId", "release-42");
	cJSON_AddStringToObject(wrapper, "source", "/jenkins/job/etl/42");
	cJSON_AddItemToObject(wrapper, "spark", json("{\"sparkVersion\": \"3.5.1\", \"conf\": "
						     "{\"spark.executor.memory\": \"4g\"}}"));
	cJSON_AddItemToObject(wrapper, "cluster", json(GKE64));
	assert_int_equal(translate(wrapper, &ev, &n, &errs), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(cde_event_chain_id(ev[i]), "release-42");
		assert_string_equal(cde_event_source(ev[i]), "/jenkins/job/etl/42");
	}
	assert_string_equal(at(cde_event_json(ev[0]), "subject", "content", "pipelineRun")->child->valuestring,
			    "run-42");
	assert_string_equal(at(cde_event_json(ev[2]), "subject", "content", "environment")->child->valuestring,
			    "prod");
	assert_true(cJSON_IsTrue(at(at(cde_event_json(ev[2]), "customData", "podOutcome", "remedy"),
				    "sizing", "fitsNode", NULL)));
	cde_pod_hook_events_free(ev, n);
	cJSON_Delete(wrapper);
}

static void bad_hooks_are_refused_at_their_pointer(void **state)
{
	static const struct {
		const char *doc, *pointer, *reason;
	} cases[] = {
		{ "42", "", "a pod hook is a Pod" },
		{ "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Running\"}}", "/kind",
		  "required: Pod, PodList or List" },
		{ "{\"kind\": \"Deployment\"}", "/kind", "must be Pod, PodList or List, not Deployment" },
		{ "{\"kind\": \"List\", \"items\": []}", "/items", "no pods" },
		{ "{\"kind\": \"List\", \"items\": {}}", "/items", "must be an array" },
		{ "{\"kind\": \"List\"}", "/items", "required" },
		{ "{\"kind\": \"List\", \"items\": [{\"kind\": \"Service\"}]}", "/items/0/kind",
		  "must be Pod, not Service" },
		{ "{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"},"
		  "\"status\": {\"phase\": \"Running\"}}, {\"kind\": \"Pod\", \"metadata\": {\"name\": "
		  "\"b\"}, \"status\": 3}]}", "/items/1/status", "must be an object" },
		{ "{\"pod\": 5}", "/pod", "must be a Pod or a List" },
		{ "{\"pod\": {\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": []}}}",
		  "/pod/status/phase", "must be a string" },
		{ "{\"pod\": {\"kind\": \"List\", \"items\": [7]}}", "/pod/items/0", "must be an object" },
		{ "{\"pod\": {}, \"colour\": \"red\"}", "/colour", "unknown field for a pod hook" },
		{ "{\"pod\": {}, \"environment\": 5}", "/environment", "must be a string (the id)" },
		{ "{\"pod\": {}, \"chainId\": \"\"}", "/chainId", "must be a non-empty string" },
		{ "{\"pod\": {}, \"spark\": {\"conf\": {\"spark.executor.memory\": \"lots\"}}}",
		  "/spark/conf/spark.executor.memory", "" },
		{ "{\"pod\": {}, \"spark\": {\"conf\": {}, \"cluster\": {}}}", "/spark/cluster",
		  "the cluster goes beside spark" },
		{ "{\"pod\": {}, \"cluster\": {\"provider\": \"gke\", \"nodeCpu\": 4}}",
		  "/cluster/nodeMemory", "required" },
		{ "{\"pod\": {}, \"cluster\": \"etl\"}", "/cluster", "no cluster named" },
		{ "{\"pod\": {\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\":"
		  "\"Failed\", \"containerStatuses\": [{\"name\": \"c\", \"state\": {\"terminated\": "
		  "{\"exitCode\": 1}}}]}}, \"environment\": {\"source\": \"/k8s\"}}",
		  "/environment/id", "" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct cde_event **ev;
		struct cde_errors errs;
		size_t n;
		cJSON *doc = json(cases[i].doc);

		if (translate(doc, &ev, &n, &errs) != -EINVAL ||
		    !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s:\n", cases[i].doc);
			print_errors(&errs);
			fail();
		}
		assert_null(ev);
		cJSON_Delete(doc);
	}
}

static void too_many_pods_are_refused(void **state)
{
	cJSON *list = json("{\"kind\": \"List\", \"items\": []}");
	cJSON *items = cJSON_GetObjectItem(list, "items");
	struct cde_event **ev;
	struct cde_errors errs;
	size_t n;

	for (int i = 0; i <= CDE_POD_HOOK_PODS_MAX; i++)
		cJSON_AddItemToArray(items, json("{\"metadata\": {\"name\": \"p\"}, \"status\": "
						 "{\"phase\": \"Running\"}}"));
	assert_int_equal(translate(list, &ev, &n, &errs), -EINVAL);
	assert_true(has_error(&errs, "/items", "at most 256 pods"));
	cJSON_DeleteItemFromArray(items, 0);
	assert_int_equal(translate(list, &ev, &n, &errs), 0);
	assert_int_equal(n, CDE_POD_HOOK_PODS_MAX);
	cde_pod_hook_events_free(ev, n);
	cJSON_Delete(list);
}

/* ---- allocation failures (SQLite's test_malloc.c, in small) ---- */

static int alloc_fail_at, alloc_count;

static void *failing_malloc(size_t size)
{
	if (++alloc_count == alloc_fail_at)
		return NULL;
	return malloc(size);
}

static void hook_survives_allocation_failures(void **state)
{
	cJSON_Hooks hooks = { .malloc_fn = failing_malloc, .free_fn = free };
	cJSON *wrapper = cJSON_CreateObject();
	cJSON *list = json("{\"kind\": \"List\", \"items\": []}");

	cJSON_AddItemToArray(cJSON_GetObjectItem(list, "items"), fixture("oomkilled-executor.json"));
	cJSON_AddItemToArray(cJSON_GetObjectItem(list, "items"), fixture("unschedulable-memory.json"));
	cJSON_AddItemToObject(wrapper, "pod", list);
	cJSON_AddStringToObject(wrapper, "pipelineRun", "run-42");
	cJSON_AddItemToObject(wrapper, "spark", json("{\"conf\": {\"spark.executor.memory\": \"4g\"}}"));
	cJSON_AddItemToObject(wrapper, "cluster", json(GKE64));
	for (alloc_fail_at = 1;; alloc_fail_at++) {
		struct cde_event **ev;
		struct cde_errors errs;
		size_t n;
		int r;

		alloc_count = 0;
		cJSON_InitHooks(&hooks);
		r = translate(wrapper, &ev, &n, &errs);
		cJSON_InitHooks(NULL);
		if (r == 0) {
			if (n != 4)
				print_message("allocation %d: %zu events\n", alloc_fail_at, n);
			assert_int_equal(n, 4);
			cde_pod_hook_events_free(ev, n);
			break;
		}
		if (r != -ENOMEM) {
			print_message("allocation %d: %d\n", alloc_fail_at, r);
			print_errors(&errs);
		}
		assert_int_equal(r, -ENOMEM);
		assert_null(ev);
		assert_true(alloc_fail_at < 100000);
	}
	assert_true(alloc_fail_at > 20);
	cJSON_Delete(wrapper);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_fixture_is_classified_right),
		cmocka_unit_test(fixtures_carry_their_facts),
		cmocka_unit_test(remedies_use_the_sizing_module),
		cmocka_unit_test(scheduler_messages_are_counted),
		cmocka_unit_test(config_errors_name_what_is_missing),
		cmocka_unit_test(platform_failures_blame_no_container),
		cmocka_unit_test(exit_codes_are_explained),
		cmocka_unit_test(long_messages_stay_valid_utf8),
		cmocka_unit_test(bad_pods_are_refused_at_their_pointer),
		cmocka_unit_test(every_fixture_makes_valid_events),
		cmocka_unit_test(the_oom_events_in_detail),
		cmocka_unit_test(lists_and_wrappers),
		cmocka_unit_test(bad_hooks_are_refused_at_their_pointer),
		cmocka_unit_test(too_many_pods_are_refused),
		cmocka_unit_test(hook_survives_allocation_failures),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
