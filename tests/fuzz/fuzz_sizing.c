/* Fuzz target: the sizing unit parsers and sizing requests.
 *
 * Input starting with '{': a sizing request, through the daemon's path
 * for POST /v1/sizing (strict parse, cde_sizing_input_parse, a cluster
 * object or the name of a configured one, compute, JSON), then parsed
 * again to compute the OOMKilled remedies for both roles.
 *
 * Any other input: one quantity, NUL-terminated, given to every unit
 * parser: Spark sizes (bare numbers in bytes and in MiB), Kubernetes
 * memory and CPU, and the configuration's sizes, durations and ages.
 * What they promise is checked: nothing above CDE_SIZING_BYTES_MAX, and
 * a Kubernetes quantity printed back (cde_pod_format_*) reads the same. */

#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "daemon/sizing_api.h"
#include "sizing/pod_outcome.h"
#include "sizing/units.h"

static struct cde_sizing_named_cluster clusters[FUZZ_CLUSTERS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_load_clusters(clusters);
	return 0;
}

static void request(const uint8_t *data, size_t size)
{
	struct cde_errors errs;
	struct cde_sizing_input in;
	struct cde_sizing_result res;
	struct cde_sizing_remedy rem;
	cJSON *out = NULL, *req = NULL;
	int r;

	cde_errors_reset(&errs);
	r = cde_sizing_api_compute((const char *)data, size, clusters, FUZZ_CLUSTERS, &out, &errs);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "cde_sizing_api_compute returned %d", r);
	FUZZ_CHECK((r == 0) == (out != NULL), "result %d and answer %p", r, (void *)out);
	cJSON_Delete(out);
	if (r != 0)
		return;

	/* The remedies read the request as the hooks do (cluster inside). */
	cde_errors_reset(&errs);
	if (cde_json_parse((const char *)data, size, &req, &errs) != 0)
		abort(); /* it parsed a moment ago */
	if (cde_sizing_input_parse(req, &in, &errs) == 0) {
		cde_sizing_compute(&in, &res);
		FUZZ_CHECK(res.n_warnings <= CDE_SIZING_WARNINGS_MAX, "%zu warnings", res.n_warnings);
		for (int role = CDE_SIZING_EXECUTOR; role <= CDE_SIZING_DRIVER; role++) {
			cde_sizing_remedy(&in, (enum cde_sizing_role)role, &rem);
			out = cde_sizing_remedy_to_json(&rem);
			FUZZ_CHECK(out != NULL, "remedy JSON");
			cJSON_Delete(out);
		}
	}
	cJSON_Delete(req);
}

static void quantity(const char *s)
{
	const char *why = NULL;
	uint64_t v, again;
	size_t sz;
	unsigned ms;
	char buf[32];

	if (cde_spark_size_parse(s, 0, &v, &why) == 0)
		FUZZ_CHECK(v <= CDE_SIZING_BYTES_MAX, "Spark size \"%s\" = %llu bytes", s, (unsigned long long)v);
	else
		FUZZ_CHECK(why != NULL, "no reason for \"%s\"", s);
	why = NULL;
	if (cde_spark_size_parse(s, 20, &v, &why) == 0)
		FUZZ_CHECK(v <= CDE_SIZING_BYTES_MAX, "Spark size \"%s\" (MiB) = %llu bytes", s, (unsigned long long)v);
	why = NULL;
	if (cde_k8s_memory_parse(s, &v, &why) == 0) {
		FUZZ_CHECK(v <= CDE_SIZING_BYTES_MAX, "memory \"%s\" = %llu bytes", s, (unsigned long long)v);
		cde_pod_format_memory(v, buf, sizeof(buf));
		FUZZ_CHECK(cde_k8s_memory_parse(buf, &again, &why) == 0 && again == v,
			   "memory \"%s\" = %llu prints as \"%s\"", s, (unsigned long long)v, buf);
	} else {
		FUZZ_CHECK(why != NULL, "no reason for \"%s\"", s);
	}
	why = NULL;
	if (cde_k8s_cpu_parse(s, &v, &why) == 0) {
		cde_pod_format_cpu(v, buf, sizeof(buf));
		FUZZ_CHECK(cde_k8s_cpu_parse(buf, &again, &why) == 0 && again == v,
			   "cpu \"%s\" = %llum prints as \"%s\"", s, (unsigned long long)v, buf);
	} else {
		FUZZ_CHECK(why != NULL, "no reason for \"%s\"", s);
	}
	(void)cde_config_parse_size(s, &sz);
	(void)cde_config_parse_duration(s, &ms);
	(void)cde_config_parse_age(s, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size && data[0] == '{') {
		request(data, size);
		return 0;
	}
	if (size > 256)
		return -1; /* a quantity is short; keep the corpus small */
	s = fuzz_strndup(data, size);
	quantity(s);
	free(s);
	return 0;
}
