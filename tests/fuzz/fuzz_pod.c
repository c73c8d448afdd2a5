/* Fuzz target: the Pod classifier and the pod hook (POST /v1/hooks/pod).
 *
 * Input: a JSON document, what `kubectl get pod -o json` prints. Parsed
 * strictly in place, then:
 *   - classified as a Pod (cde_pod_classify), and when that works, the
 *     summary line, the remedies (without a Spark request, with a cluster,
 *     with a Spark request and its cluster) and the podOutcome JSON;
 *   - translated whole by the pod hook (a Pod, a List, or the wrapper
 *     object with spark and cluster), whose events must be valid. */

#include "tests/fuzz/fuzz.h"

#include "events/pod_hook.h"
#include "sizing/pod_outcome.h"
#include "schemas/validate.h"

static struct cde_catalog *cat;
static struct cde_sizing_named_cluster clusters[FUZZ_CLUSTERS];
static struct cde_hook_defaults defaults;
static struct cde_sizing_input spark;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cat = fuzz_load_catalog();
	fuzz_load_clusters(clusters);
	defaults = (struct cde_hook_defaults){
		.source = "/fuzz", .clusters = clusters, .n_clusters = FUZZ_CLUSTERS,
	};
	cde_sizing_input_init(&spark);
	spark.has_cluster = true;
	spark.cluster = clusters[0].cluster;
	return 0;
}

static void remedy(const struct cde_pod_outcome *o, const struct cde_sizing_input *in,
		   const struct cde_sizing_cluster *cluster)
{
	struct cde_pod_remedy m;
	cJSON *j;

	cde_pod_remedy(o, in, cluster, &m);
	FUZZ_CHECK(memchr(m.text, '\0', sizeof(m.text)) && memchr(m.command, '\0', sizeof(m.command)),
		   "remedy text not terminated");
	j = cde_pod_outcome_to_json(o, &m);
	FUZZ_CHECK(j != NULL, "podOutcome JSON");
	cJSON_Delete(j);
}

static void classify(const cJSON *doc)
{
	struct cde_pod_outcome o;
	struct cde_errors errs;
	char line[1024];

	cde_errors_reset(&errs);
	if (cde_pod_classify(doc, "", &o, &errs) != 0)
		return;
	cde_pod_outcome_summary(&o, line, sizeof(line));
	(void)cde_pod_exit_code_meaning(o.exit_code, o.spark_role);
	remedy(&o, NULL, NULL);
	remedy(&o, NULL, &clusters[1].cluster);
	remedy(&o, &spark, NULL);
}

static void translate(const cJSON *doc)
{
	struct cde_errors errs;
	struct cde_event **events = NULL;
	size_t n = 0;

	cde_errors_reset(&errs);
	if (cde_pod_hook_translate(cat, doc, &defaults, &events, &n, &errs) != 0) {
		FUZZ_CHECK(events == NULL, "events returned with an error");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cde_errors_reset(&errs);
		if (cde_validate(cat, cde_event_json(events[i]), NULL, &errs) != 0) {
			fuzz_print_errors(&errs);
			FUZZ_CHECK(0, "event %zu of a pod hook is not a valid CDEvent", i);
		}
	}
	cde_pod_hook_events_free(events, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cde_errors errs;
	cJSON *doc = NULL;

	cde_errors_reset(&errs);
	if (cde_json_parse((const char *)data, size, &doc, &errs) != 0)
		return 0;
	classify(doc);
	translate(doc);
	cJSON_Delete(doc);
	return 0;
}
