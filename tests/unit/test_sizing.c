/* Sizing for Spark on Kubernetes. Every expected number is worked out by
 * hand next to its case, from Spark's code (BasicDriverFeatureStep,
 * BasicExecutorFeatureStep, ResourceProfile) and the providers' published
 * reservations, never by running the code under test: a case is a second,
 * independent derivation. "0.1*8192=819.2 -> 819" is Spark's
 * (factor * heap).toInt, in IEEE doubles. */

#include "tests/unit/helpers.h"

#include "sizing/sizing.h"
#include "sizing/units.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NONE UINT64_MAX

/* Parses @text as a request, failing the test on any error. */
static void parse_ok(const char *text, struct cde_sizing_input *in)
{
	struct cde_errors errs;
	cJSON *doc = json(text);

	cde_errors_reset(&errs);
	if (cde_sizing_input_parse(doc, in, &errs) != 0) {
		print_message("request: %s\n", text);
		print_errors(&errs);
		fail();
	}
	cJSON_Delete(doc);
}

static void size(const char *text, struct cde_sizing_result *r)
{
	struct cde_sizing_input in;

	parse_ok(text, &in);
	cde_sizing_compute(&in, r);
}

static bool has_code(const struct cde_sizing_result *r, enum cde_sizing_code code)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		if (r->warnings[i].code == code)
			return true;
	return false;
}

static void print_warnings(const struct cde_sizing_result *r)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		print_message("  %s: %s\n", cde_sizing_code_name(r->warnings[i].code),
			      r->warnings[i].message);
}

/* ---- units ---- */

struct size_case {
	const char *text;
	unsigned bare_shift;
	uint64_t bytes;		/* NONE: refused */
	const char *reason;	/* part of the reason when refused */
};

static void spark_sizes_read_like_spark(void **state)
{
	static const struct size_case cases[] = {
		{ "4g", 20, 4 * GiB, NULL },
		{ "4096m", 20, 4096 * MiB, NULL },
		{ "4096", 20, 4096 * MiB, NULL },		/* bare = MiB for memory keys */
		{ "4096", 0, 4096, NULL },			/* bare = bytes for offHeap.size */
		{ "1073741824", 0, GiB, NULL },
		{ "512k", 20, 512 * 1024, NULL },		/* 0.5 MiB, floored to 0 by callers */
		{ "1G", 20, GiB, NULL },			/* Spark lowercases */
		{ " 2g ", 20, 2 * GiB, NULL },			/* and trims */
		{ "1gb", 20, GiB, NULL },
		{ "1t", 20, UINT64_C(1) << 40, NULL },
		{ "100b", 20, 100, NULL },
		{ "1536K", 20, 1536 * 1024, NULL },
		{ "1p", 20, UINT64_C(1) << 50, NULL },		/* the cap itself */
		{ "2p", 20, NONE, "too large" },
		{ "4.5g", 20, NONE, "fractional" },
		{ "-1g", 20, NONE, "negative" },
		{ "+4g", 20, NONE, "not a size" },
		{ "4x", 20, NONE, "unknown unit" },
		{ "4kib", 20, NONE, "unknown unit" },
		{ "4 g", 20, NONE, "not a size" },
		{ "4Gi", 20, NONE, "Kubernetes units" },	/* the common mix-up */
		{ "4mi", 20, NONE, "Kubernetes units" },
		{ "g", 20, NONE, "not a size" },
		{ "", 20, NONE, "empty" },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		const struct size_case *c = &cases[i];
		const char *reason = NULL;
		uint64_t bytes = 0;
		int r = cde_spark_size_parse(c->text, c->bare_shift, &bytes, &reason);

		if (c->bytes == NONE ? r == 0 || !strstr(reason, c->reason)
				     : r != 0 || bytes != c->bytes) {
			print_message("spark size \"%s\": r=%d bytes=%llu reason=%s\n", c->text, r,
				      (unsigned long long)bytes, reason ? reason : "-");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

struct quantity_case {
	const char *text;
	uint64_t value;		/* NONE: refused */
	const char *reason;
};

static int check_quantities(const struct quantity_case *cases, size_t n,
			    int (*parse)(const char *, uint64_t *, const char **), const char *what)
{
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		const struct quantity_case *c = &cases[i];
		const char *reason = NULL;
		uint64_t v = 0;
		int r = parse(c->text, &v, &reason);

		if (c->value == NONE ? r == 0 || !strstr(reason, c->reason)
				     : r != 0 || v != c->value) {
			print_message("%s \"%s\": r=%d value=%llu reason=%s\n", what, c->text, r,
				      (unsigned long long)v, reason ? reason : "-");
			failures++;
		}
	}
	return failures;
}

static void kubernetes_quantities(void **state)
{
	static const struct quantity_case memory[] = {
		{ "64Gi", 64 * GiB, NULL },
		{ "64G", UINT64_C(64000000000), NULL },
		{ "500Mi", 500 * MiB, NULL },
		{ "1.5Gi", 1536 * MiB, NULL },			/* 15 * 2^30 / 10 */
		{ "128974848", 128974848, NULL },		/* bare = bytes */
		{ "129e6", 129000000, NULL },
		{ "129M", 129000000, NULL },
		{ "123Mi", 128974848, NULL },
		{ "1k", 1000, NULL },
		{ "1Ki", 1024, NULL },
		{ "+1Ki", 1024, NULL },
		{ "0.5", 1, NULL },				/* a fractional byte rounds up */
		{ "100m", 1, NULL },				/* 0.1 byte, up to 1 */
		{ "1Pi", UINT64_C(1) << 50, NULL },
		{ "2Pi", NONE, "too large" },
		{ "1E", NONE, "too large" },			/* exa, not an exponent */
		{ "1Ei", NONE, "too large" },
		{ "1E3", 1000, NULL },				/* an exponent */
		{ "2e-3k", NONE, "bad exponent" },
		{ "64gi", NONE, "case matters" },
		{ "64GB", NONE, "case matters" },
		{ "1Gib", NONE, "unknown unit" },
		{ "-1Gi", NONE, "negative" },
		{ "Gi", NONE, "not a quantity" },
		{ " 1Gi", NONE, "not a quantity" },
		{ "1.5.2Gi", NONE, "unknown unit" },
		{ "1e", NONE, "unknown unit" },
		{ "", NONE, "empty" },
	};
	static const struct quantity_case cpu[] = {
		{ "500m", 500, NULL },
		{ "0.5", 500, NULL },
		{ ".5", 500, NULL },
		{ "2", 2000, NULL },
		{ "1.25", 1250, NULL },
		{ "2k", 2000000, NULL },
		{ "1e-3", 1, NULL },
		{ "1Ki", 1024000, NULL },
		{ "0", 0, NULL },
		{ "0.0005", NONE, "finer than 1m" },
		{ "1.5m", NONE, "finer than 1m" },
		{ "100u", NONE, "finer than 1m" },
		{ "-1", NONE, "negative" },
		{ "abc", NONE, "not a quantity" },
		{ "2 cores", NONE, "unknown unit" },
	};
	int failures = check_quantities(memory, N(memory), cde_k8s_memory_parse, "memory");

	failures += check_quantities(cpu, N(cpu), cde_k8s_cpu_parse, "cpu");
	assert_int_equal(failures, 0);
}

/* ---- pods ---- */

struct pod_expect {
	uint64_t heap, overhead, memory, cpu, cpu_limit;	/* cpu_limit NONE: unset */
};

struct pod_case {
	const char *name;
	const char *request;
	struct pod_expect executor, driver;
};

static int check_pod(const char *name, const char *role, const struct cde_sizing_pod *p,
		     const struct pod_expect *e)
{
	uint64_t limit = p->has_cpu_limit ? p->cpu_limit_millis : NONE;

	if (p->heap_mib == e->heap && p->overhead_mib == e->overhead &&
	    p->memory_mib == e->memory && p->cpu_request_millis == e->cpu && limit == e->cpu_limit)
		return 0;
	print_message("%s, %s: heap %llu overhead %llu memory %llu cpu %llu limit %lld, "
		      "expected %llu %llu %llu %llu %lld\n", name, role,
		      (unsigned long long)p->heap_mib, (unsigned long long)p->overhead_mib,
		      (unsigned long long)p->memory_mib, (unsigned long long)p->cpu_request_millis,
		      (long long)limit, (unsigned long long)e->heap,
		      (unsigned long long)e->overhead, (unsigned long long)e->memory,
		      (unsigned long long)e->cpu, (long long)e->cpu_limit);
	return 1;
}

static int check_pod_cases(const struct pod_case *cases, size_t n)
{
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		struct cde_sizing_result r;

		size(cases[i].request, &r);
		failures += check_pod(cases[i].name, "executor", &r.executor, &cases[i].executor);
		failures += check_pod(cases[i].name, "driver", &r.driver, &cases[i].driver);
	}
	return failures;
}

#define JVM(conf) "{\"language\": \"jvm\", \"conf\": {" conf "}}"
#define PY(conf) "{\"language\": \"python\", \"conf\": {" conf "}}"
#define AT(version, lang, conf) \
	"{\"sparkVersion\": \"" version "\", \"language\": \"" lang "\", \"conf\": {" conf "}}"

static void pods_follow_spark(void **state)
{
	static const struct pod_case cases[] = {
		/* Defaults: 1g heap; 0.1*1024=102.4 -> 102 < 384 -> 384;
		 * 1024+384=1408; spark.*.cores=1 -> 1000m; no limit. */
		{ "defaults", JVM(""),
		  { 1024, 384, 1408, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* 0.1*8192=819.2 -> 819, 8192+819=9011, 4 cores;
		 * driver 0.1*4096=409.6 -> 409, 4096+409=4505. */
		{ "8g executors", JVM("\"spark.executor.memory\": \"8g\", \"spark.executor.cores\": 4,"
				      "\"spark.driver.memory\": \"4096m\""),
		  { 8192, 819, 9011, 4000, NONE }, { 4096, 409, 4505, 1000, NONE } },
		/* The 384 MiB minimum: 0.1*3839=383.9 -> 383 -> 384, 4223;
		 * just above it 0.1*3850=385.0 -> 385, 4235. */
		{ "minimum applies", JVM("\"spark.executor.memory\": \"3839m\","
					 "\"spark.driver.memory\": \"3850m\""),
		  { 3839, 384, 4223, 1000, NONE }, { 3850, 385, 4235, 1000, NONE } },
		/* Truncation, not rounding: 0.1*4097=409.7 -> 409, 4506. A bare
		 * number (JSON or string) is MiB for spark.*.memory. */
		{ "toInt truncates", JVM("\"spark.executor.memory\": 4097,"
					 "\"spark.driver.memory\": \"4097\""),
		  { 4097, 409, 4506, 1000, NONE }, { 4097, 409, 4506, 1000, NONE } },
		/* Python: the driver's default factor is 0.4 and is handed to
		 * the executors. 0.4*8192=3276.8 -> 3276, 11468;
		 * driver 0.4*2048=819.2 -> 819, 2867. */
		{ "python 0.4", PY("\"spark.executor.memory\": \"8g\", \"spark.driver.memory\": \"2g\""),
		  { 8192, 3276, 11468, 1000, NONE }, { 2048, 819, 2867, 1000, NONE } },
		/* PySpark memory joins the executor pod only: 11468+1024=12492;
		 * the driver stays 0.4*1024=409.6 -> 409, 1433. */
		{ "pyspark memory", PY("\"spark.executor.memory\": \"8g\","
				       "\"spark.executor.pyspark.memory\": \"1g\""),
		  { 8192, 3276, 12492, 1000, NONE }, { 1024, 409, 1433, 1000, NONE } },
		/* R: 0.4 as for Python, but no PySpark memory: 11468. */
		{ "R", "{\"language\": \"r\", \"conf\": {\"spark.executor.memory\": \"8g\","
		       "\"spark.executor.pyspark.memory\": \"1g\"}}",
		  { 8192, 3276, 11468, 1000, NONE }, { 1024, 409, 1433, 1000, NONE } },
		/* A set spark.kubernetes.memoryOverheadFactor wins over the
		 * non-JVM 0.4: 0.2*8192=1638.4 -> 1638, 9830;
		 * driver 0.2*1024=204.8 -> 204 -> 384, 1408. */
		{ "k8s factor over 0.4", PY("\"spark.executor.memory\": \"8g\","
					    "\"spark.kubernetes.memoryOverheadFactor\": \"0.2\""),
		  { 8192, 1638, 9830, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* An explicit overhead wins over every factor: 8192+1500=9692;
		 * driver 1024+500 (bare MiB) = 1524. */
		{ "explicit overhead", JVM("\"spark.executor.memory\": \"8g\","
					   "\"spark.executor.memoryOverhead\": \"1500m\","
					   "\"spark.executor.memoryOverheadFactor\": 0.3,"
					   "\"spark.driver.memoryOverhead\": 500"),
		  { 8192, 1500, 9692, 1000, NONE }, { 1024, 500, 1524, 1000, NONE } },
		/* Role factors (3.3+): 0.25*4096=1024, 5120; executor
		 * 0.29*5700 = 1652.9999999999998 in doubles -> 1652 (not
		 * 1653), 7352: Spark's arithmetic, not the decimal one. */
		{ "role factors", AT("3.5.1", "jvm", "\"spark.driver.memory\": \"4g\","
						   "\"spark.driver.memoryOverheadFactor\": \"0.25\","
						   "\"spark.executor.memory\": \"5700m\","
						   "\"spark.executor.memoryOverheadFactor\": 0.29"),
		  { 5700, 1652, 7352, 1000, NONE }, { 4096, 1024, 5120, 1000, NONE } },
		/* Fractional request cores, limits, driver request.cores over
		 * spark.driver.cores. */
		{ "request and limit cores",
		  JVM("\"spark.kubernetes.executor.request.cores\": \"0.5\","
		      "\"spark.kubernetes.executor.limit.cores\": 2,"
		      "\"spark.driver.cores\": 2, \"spark.kubernetes.driver.request.cores\": \"250m\","
		      "\"spark.kubernetes.driver.limit.cores\": \"1.5\""),
		  { 1024, 384, 1408, 500, 2000 }, { 1024, 384, 1408, 250, 1500 } },
		/* Off-heap (3.1+): 4096 + 409 + 2048 = 6553; the driver never. */
		{ "off-heap", AT("3.5.1", "jvm", "\"spark.executor.memory\": \"4g\","
					       "\"spark.memory.offHeap.enabled\": \"true\","
					       "\"spark.memory.offHeap.size\": \"2g\""),
		  { 4096, 409, 6553, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* spark.memory.offHeap.size bare is bytes: 1073741824 = 1024 MiB;
		 * 4096 + 409 + 1024 = 5529. */
		{ "off-heap bytes", JVM("\"spark.executor.memory\": \"4g\","
					"\"spark.memory.offHeap.enabled\": true,"
					"\"spark.memory.offHeap.size\": 1073741824"),
		  { 4096, 409, 5529, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* Before 3.1 off-heap is not in the pod: 4096+409 = 4505. */
		{ "off-heap 3.0", AT("3.0.3", "jvm", "\"spark.executor.memory\": \"4g\","
						   "\"spark.memory.offHeap.enabled\": \"true\","
						   "\"spark.memory.offHeap.size\": \"2g\""),
		  { 4096, 409, 4505, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* Very large heap: 250g = 256000 MiB, 0.1*256000 = 25600,
		 * 281600. */
		{ "250g heap", JVM("\"spark.executor.memory\": \"250g\""),
		  { 256000, 25600, 281600, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
	};

	assert_int_equal(check_pod_cases(cases, N(cases)), 0);
}

#define VERSION_CONF \
	"\"spark.executor.memory\": \"2g\", \"spark.executor.memoryOverheadFactor\": \"0.3\"," \
	"\"spark.executor.minMemoryOverhead\": \"1g\", \"spark.driver.memory\": \"256m\"," \
	"\"spark.driver.minMemoryOverhead\": 500"

static void spark_versions_differ(void **state)
{
	static const struct pod_case cases[] = {
		/* 3.2 reads only spark.kubernetes.memoryOverheadFactor (0.1):
		 * 0.1*2048=204.8 -> 204 -> 384, 2432; driver 25.6 -> 384, 640. */
		{ "3.2", AT("3.2.4", "jvm", VERSION_CONF),
		  { 2048, 384, 2432, 1000, NONE }, { 256, 384, 640, 1000, NONE } },
		/* 3.5 reads the role factor, not the minimum keys:
		 * 0.3*2048=614.4 -> 614, 2662; driver still 384, 640. */
		{ "3.5", AT("3.5.1", "jvm", VERSION_CONF),
		  { 2048, 614, 2662, 1000, NONE }, { 256, 384, 640, 1000, NONE } },
		/* 4.0 reads both: max(614, 1024) = 1024, 3072; driver
		 * max(25, 500) = 500, 756 (Spark's own SPARK-47208 test). */
		{ "4.0", AT("4.0.0", "jvm", VERSION_CONF),
		  { 2048, 1024, 3072, 1000, NONE }, { 256, 500, 756, 1000, NONE } },
		/* No version: the newest rules, 4.0's. */
		{ "newest", JVM(VERSION_CONF),
		  { 2048, 1024, 3072, 1000, NONE }, { 256, 500, 756, 1000, NONE } },
		/* A Python job on 3.2 with spark.kubernetes.memoryOverheadFactor
		 * 0.2 and a role factor that 3.2 ignores: 0.2*8192 -> 1638,
		 * 9830; the driver 0.2*1024=204.8 -> 384, 1408. */
		{ "python 3.2", AT("3.2.0", "python", "\"spark.executor.memory\": \"8g\","
						     "\"spark.executor.memoryOverheadFactor\": 0.5,"
						     "\"spark.kubernetes.memoryOverheadFactor\": 0.2"),
		  { 8192, 1638, 9830, 1000, NONE }, { 1024, 384, 1408, 1000, NONE } },
		/* Role factor over the propagated 0.4 on 3.5 (python):
		 * executor 0.2*8192 -> 1638, 9830; driver 0.4 -> 409, 1433. */
		{ "python 3.5", AT("3.5.0", "python", "\"spark.executor.memory\": \"8g\","
						     "\"spark.executor.memoryOverheadFactor\": 0.2"),
		  { 8192, 1638, 9830, 1000, NONE }, { 1024, 409, 1433, 1000, NONE } },
	};
	struct cde_sizing_result r;

	assert_int_equal(check_pod_cases(cases, N(cases)), 0);
	size(AT("3.2.4", "jvm", ""), &r);
	assert_string_equal(r.rules, "3.1-3.2");
	size(AT("4.1.0-preview1", "jvm", ""), &r);
	assert_string_equal(r.rules, "4.0+");
	size(AT("3.0", "jvm", ""), &r);
	assert_string_equal(r.rules, "3.0");
}

/* ---- nodes ---- */

struct node_case {
	const char *name;
	const char *cluster;
	uint64_t cpu, memory;
};

static void provider_allocatable(void **state)
{
	static const struct node_case cases[] = {
		/* GKE 16 cores: 6% of 1000 + 1% of 1000 + 0.5% of 2000 +
		 * 0.25% of 12000 = 60+10+10+30 = 110m -> 15890m.
		 * 64Gi: 25% of 4096 = 1024, 20% of 4096 = 819.2, 10% of 8192 =
		 * 819.2, 6% of 49152 = 2949.12 -> 5611.52, + eviction 100 =
		 * 5711.52; 65536-5711.52 = 59824.48 -> 59824. */
		{ "gke 16/64Gi", "{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\"}",
		  15890, 59824 },
		/* Under 1 GiB GKE reserves 255 MiB flat: 768-255-100 = 413;
		 * 1 core: 60m -> 940m. */
		{ "gke tiny", "{\"provider\": \"gke\", \"nodeCpu\": 1, \"nodeMemory\": \"768Mi\"}",
		  940, 413 },
		/* Exactly 1 GiB is tiered: 25% of 1024 = 256, +100 -> 668;
		 * 2 cores: 60+10 -> 1930m. */
		{ "gke 1Gi", "{\"provider\": \"gke\", \"nodeCpu\": \"2\", \"nodeMemory\": \"1Gi\"}",
		  1930, 668 },
		/* Over 128 GiB: 1024+819.2+819.2 + 6% of 114688 = 6881.28 + 2%
		 * of 262144 = 5242.88 -> 14786.56 + 100 = 14886.56;
		 * 393216-14886.56 = 378329.44 -> 378329. 96 cores:
		 * 60+10+10 + 0.25% of 92000 = 230 -> 310m -> 95690m. */
		{ "gke 96/384Gi", "{\"provider\": \"gke\", \"nodeCpu\": 96, \"nodeMemory\": \"384Gi\"}",
		  95690, 378329 },
		/* 5 cores: 60+10+10+2.5 = 82.5m -> 4917.5 -> 4917m.
		 * 20Gi: 2662.4 + 6% of 4096 = 245.76 -> 2908.16 + 100;
		 * 20480-3008.16 = 17471.84 -> 17471. */
		{ "gke 5/20Gi", "{\"provider\": \"gke\", \"nodeCpu\": \"5\", \"nodeMemory\": \"20Gi\"}",
		  4917, 17471 },
		/* EKS: 255 + 11*234 = 2829 + eviction 100 = 2929;
		 * 65536-2929 = 62607. CPU as GKE's, 110m -> 15890m. */
		{ "eks 16/64Gi", "{\"provider\": \"eks\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\","
				 "\"maxPods\": 234}",
		  15890, 62607 },
		/* EKS truncates each tier: 60+10+10+floor(2.5) = 82m -> 4918m
		 * (GKE above: 4917m). 255 + 11*58 = 893 + 100; 16384-993 = 15391. */
		{ "eks 5/16Gi", "{\"provider\": \"eks\", \"nodeCpu\": \"5\", \"nodeMemory\": \"16Gi\","
				"\"maxPods\": 58}",
		  4918, 15391 },
		/* AKS before 1.29, 8 cores: 60+40+2*20+4*10 = 180m -> 7820m
		 * (the table's 180). 32Gi: 2662.4 + 6% of 16384 = 983.04 ->
		 * 3645.44 + eviction 750 = 4395.44; 32768-4395.44 = 28372.56. */
		{ "aks 1.28", "{\"provider\": \"aks\", \"aksVersion\": \"1.28\", \"nodeCpu\": \"8\","
			      "\"nodeMemory\": \"32Gi\"}",
		  7820, 28372 },
		/* AKS 1.29, the docs' example: min(20*30+50 = 650, 25% of 8192)
		 * + 100 = 750; 8192-750 = 7442. */
		{ "aks 1.29", "{\"provider\": \"aks\", \"aksVersion\": \"1.29.2\", \"nodeCpu\": \"8\","
			      "\"nodeMemory\": \"8Gi\", \"maxPods\": 30}",
		  7820, 7442 },
		/* AKS newest, many pods: min(20*250+50 = 5050, 25% of 4096 =
		 * 1024) + 100; 4096-1124 = 2972. 2 cores: 100m -> 1900m. */
		{ "aks 25% cap", "{\"provider\": \"aks\", \"nodeCpu\": \"2\", \"nodeMemory\": \"4Gi\","
				 "\"maxPods\": 250}",
		  1900, 2972 },
		/* AKS between table sizes, 3 cores: 60+40+20 = 120m -> 2880m.
		 * 7Gi: 1024 + 20% of 3072 = 614.4 -> 1638.4 + 750 = 2388.4;
		 * 7168-2388.4 = 4779.6 -> 4779. */
		{ "aks 3 cores", "{\"provider\": \"aks\", \"aksVersion\": \"1.27\", \"nodeCpu\": \"3\","
				 "\"nodeMemory\": \"7Gi\"}",
		  2880, 4779 },
		/* none: capacity. 62G = 62e9 / 2^20 = 59127.8 -> 59127. */
		{ "none", "{\"provider\": \"none\", \"nodeCpu\": \"15500m\", \"nodeMemory\": \"62G\"}",
		  15500, 59127 },
		{ "none, number cpu", "{\"provider\": \"none\", \"nodeCpu\": 7.5, \"nodeMemory\": \"64Gi\"}",
		  7500, 65536 },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		char req[512];
		struct cde_sizing_result r;

		snprintf(req, sizeof(req), "{\"language\": \"jvm\", \"conf\": {}, \"cluster\": %s}",
			 cases[i].cluster);
		size(req, &r);
		if (!r.has_node || r.allocatable_cpu_millis != cases[i].cpu ||
		    r.allocatable_memory_mib != cases[i].memory) {
			print_message("%s: %llum %llu MiB, expected %llum %llu MiB\n", cases[i].name,
				      (unsigned long long)r.allocatable_cpu_millis,
				      (unsigned long long)r.allocatable_memory_mib,
				      (unsigned long long)cases[i].cpu,
				      (unsigned long long)cases[i].memory);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

#define GKE16 "{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\", \"nodes\": "
#define JOB8G "\"spark.executor.memory\": \"8g\", \"spark.executor.cores\": 4," \
	      "\"spark.executor.instances\": 10, \"spark.driver.memory\": \"4g\""

struct pack_case {
	const char *name;
	const char *request;
	bool fits;
	unsigned executors, per_node, beside_driver;
	int executor_nodes, nodes;	/* -1: null (a pod fits no node) */
	enum cde_sizing_code codes[4];	/* expected among the warnings */
	size_t n_codes;
};

static void pods_on_nodes(void **state)
{
	static const struct pack_case cases[] = {
		/* Executor 4000m/9011 MiB on 15890m/59824 MiB: CPU 3, memory
		 * 59824/9011 = 6.6 -> 6; 3 per node. Beside the 1000m/4505 MiB
		 * driver: 14890/4000 = 3, 55319/9011 = 6 -> 3. Nodes: ceil(10/3)
		 * = 4 for executors; with the driver 1 + ceil(7/3) = 4. Memory
		 * left idle: (59824 - 3*9011)/59824 = 54% > 25%. */
		{ "gke 16/64Gi", "{\"language\": \"jvm\", \"conf\": {" JOB8G "}, \"cluster\": " GKE16 "10}}",
		  true, 10, 3, 3, 4, 4, { CDE_SIZING_EXECUTOR_NODE_WASTE }, 1 },
		/* The same job on a 3-node pool. */
		{ "3 nodes", "{\"language\": \"jvm\", \"conf\": {" JOB8G "}, \"cluster\": " GKE16 "3}}",
		  true, 10, 3, 3, 4, 4, { CDE_SIZING_NOT_ENOUGH_NODES, CDE_SIZING_EXECUTOR_NODE_WASTE },
		  2 },
		/* 7000m + 1000m overhead = 8000 MiB fits 8192 MiB alone, not
		 * with the RuntimeClass' 512Mi (8512). */
		{ "pod overhead tips over",
		  "{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"7000m\","
		  "\"spark.executor.memoryOverhead\": \"1000m\"}, \"cluster\": {\"provider\": \"none\","
		  "\"nodeCpu\": 4, \"nodeMemory\": \"8Gi\", \"podOverhead\": {\"cpu\": \"100m\","
		  "\"memory\": \"512Mi\"}}}",
		  false, 2, 0, 0, -1, -1,
		  { CDE_SIZING_EXECUTOR_POD_UNSCHEDULABLE, CDE_SIZING_POD_OVERHEAD_CAUSES_UNSCHEDULABLE },
		  2 },
		/* 250g heap: 281600 MiB against 59824 MiB. */
		{ "fits no node", "{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"250g\"},"
				  "\"cluster\": " GKE16 "10}}",
		  false, 2, 0, 0, -1, -1,
		  { CDE_SIZING_EXECUTOR_POD_UNSCHEDULABLE, CDE_SIZING_EXECUTOR_HEAP_GT_32GIB,
		    CDE_SIZING_EXECUTOR_HEAP_GT_200GIB }, 3 },
		/* maxPods 4 limits: 4 per node, 3 beside the driver;
		 * ceil(10/4) = 3; 1 + ceil(7/4) = 3. */
		{ "max pods", "{\"language\": \"jvm\", \"conf\": {\"spark.executor.instances\": 10},"
			      "\"cluster\": {\"provider\": \"none\", \"nodeCpu\": 64,"
			      "\"nodeMemory\": \"256Gi\", \"maxPods\": 4}}",
		  true, 10, 4, 3, 3, 3, { CDE_SIZING_EXECUTOR_NODE_WASTE }, 1 },
		/* Dynamic allocation sizes for maxExecutors (20). GKE 4
		 * cores/16Gi: 3920m, 16384 - (2662.4 + 100) = 13621 MiB; 2000m/
		 * 9011 MiB executors, 1 per node, 1 beside the 1408 MiB driver.
		 * One node holds 1 < minExecutors 2. */
		{ "too small for minExecutors",
		  "{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"8g\","
		  "\"spark.executor.cores\": 2, \"spark.dynamicAllocation.enabled\": true,"
		  "\"spark.dynamicAllocation.minExecutors\": 2,"
		  "\"spark.dynamicAllocation.maxExecutors\": 20}, \"cluster\": {\"provider\": \"gke\","
		  "\"nodeCpu\": 4, \"nodeMemory\": \"16Gi\", \"nodes\": 1}}",
		  true, 20, 1, 1, 20, 20,
		  { CDE_SIZING_NOT_ENOUGH_NODES, CDE_SIZING_CLUSTER_TOO_SMALL }, 2 },
		/* No executors: the driver alone needs one node. */
		{ "no executors", "{\"language\": \"jvm\", \"conf\": {\"spark.executor.instances\": 0},"
				  "\"cluster\": " GKE16 "2}}",
		  true, 0, 15, 14, 0, 1, { 0 }, 0 },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		const struct pack_case *c = &cases[i];
		struct cde_sizing_result r;
		int executor_nodes, nodes;
		bool ok;

		size(c->request, &r);
		executor_nodes = r.has_nodes_needed ? (int)r.executor_nodes_needed : -1;
		nodes = r.has_nodes_needed ? (int)r.nodes_needed : -1;
		ok = r.fits == c->fits && r.executors == c->executors &&
		     r.executors_per_node == c->per_node &&
		     r.executors_beside_driver == c->beside_driver &&
		     executor_nodes == c->executor_nodes && nodes == c->nodes;
		for (size_t k = 0; k < c->n_codes; k++)
			ok = ok && has_code(&r, c->codes[k]);
		if (!ok) {
			print_message("%s: fits %d executors %u per node %u beside %u nodes %d/%d\n",
				      c->name, r.fits, r.executors, r.executors_per_node,
				      r.executors_beside_driver, executor_nodes, nodes);
			print_warnings(&r);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void totals_count_every_pod(void **state)
{
	struct cde_sizing_result r;

	/* 10 * 4000m + 1000m = 41 cores; 10 * 9011 + 4505 = 94615 MiB. */
	size("{\"language\": \"jvm\", \"conf\": {" JOB8G "}, \"cluster\": " GKE16 "10}}", &r);
	assert_int_equal(r.total_pods, 11);
	assert_int_equal(r.total_cpu_request_millis, 41000);
	assert_int_equal(r.total_memory_request_mib, 94615);

	/* With a 250m/120Mi pod overhead on each of 3 pods:
	 * 3 * 1250m = 3750m; 3 * (1408 + 120) = 4584 MiB. */
	size("{\"language\": \"jvm\", \"conf\": {}, \"cluster\": {\"provider\": \"none\","
	     "\"nodeCpu\": 8, \"nodeMemory\": \"32Gi\", \"podOverhead\": {\"cpu\": \"250m\","
	     "\"memory\": \"120Mi\"}}}", &r);
	assert_int_equal(r.total_pods, 3);
	assert_int_equal(r.total_cpu_request_millis, 3750);
	assert_int_equal(r.total_memory_request_mib, 4584);
}

/* ---- warnings ---- */

struct warn_case {
	const char *name;
	const char *request;
	enum cde_sizing_code code;
	bool expected;
};

static void warnings_have_stable_codes(void **state)
{
	static const struct warn_case cases[] = {
		{ "6 cores", JVM("\"spark.executor.cores\": 6"), CDE_SIZING_EXECUTOR_CORES_GT_5, true },
		{ "5 cores", JVM("\"spark.executor.cores\": \"5\""), CDE_SIZING_EXECUTOR_CORES_GT_5,
		  false },
		/* 32g = 32768 MiB is not above 32 GiB; 33g is. */
		{ "32g", JVM("\"spark.executor.memory\": \"32g\""), CDE_SIZING_EXECUTOR_HEAP_GT_32GIB,
		  false },
		{ "33g", JVM("\"spark.executor.memory\": \"33g\""), CDE_SIZING_EXECUTOR_HEAP_GT_32GIB,
		  true },
		{ "200g", JVM("\"spark.executor.memory\": \"200g\""),
		  CDE_SIZING_EXECUTOR_HEAP_GT_200GIB, false },
		{ "201g", JVM("\"spark.executor.memory\": \"201g\""),
		  CDE_SIZING_EXECUTOR_HEAP_GT_200GIB, true },
		/* Driver 8192+819 = 9011 over executor 1408. */
		{ "big driver", JVM("\"spark.driver.memory\": \"8g\""),
		  CDE_SIZING_DRIVER_LARGER_THAN_EXECUTOR, true },
		{ "equal pods", JVM(""), CDE_SIZING_DRIVER_LARGER_THAN_EXECUTOR, false },
		/* 500m limit under the 1000m request of spark.executor.cores=1. */
		{ "executor limit", JVM("\"spark.kubernetes.executor.limit.cores\": \"500m\""),
		  CDE_SIZING_EXECUTOR_CPU_LIMIT_BELOW_REQUEST, true },
		{ "driver limit", JVM("\"spark.kubernetes.driver.request.cores\": \"1.5\","
				      "\"spark.kubernetes.driver.limit.cores\": 1"),
		  CDE_SIZING_DRIVER_CPU_LIMIT_BELOW_REQUEST, true },
		{ "limit equal", JVM("\"spark.kubernetes.executor.limit.cores\": \"1\""),
		  CDE_SIZING_EXECUTOR_CPU_LIMIT_BELOW_REQUEST, false },
		/* Python with an explicit 1g overhead on 8g: 1024 < 3276. */
		{ "python 1g overhead", PY("\"spark.executor.memory\": \"8g\","
					   "\"spark.executor.memoryOverhead\": \"1g\""),
		  CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT, true },
		/* Spark's own 0.4 (409 of 1024, truncated) does not warn. */
		{ "python default", PY(""), CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT, false },
		{ "jvm 1g overhead", JVM("\"spark.executor.memory\": \"8g\","
					 "\"spark.executor.memoryOverhead\": \"1g\""),
		  CDE_SIZING_NON_JVM_OVERHEAD_BELOW_40PCT, false },
		{ "400m heap", JVM("\"spark.executor.memory\": \"400m\""),
		  CDE_SIZING_HEAP_BELOW_SPARK_MINIMUM, true },
		{ "unbounded", JVM("\"spark.dynamicAllocation.enabled\": \"true\","
				   "\"spark.dynamicAllocation.minExecutors\": 3"),
		  CDE_SIZING_DYNAMIC_ALLOCATION_UNBOUNDED, true },
		{ "factor on 3.2", AT("3.2.1", "jvm", "\"spark.executor.memoryOverheadFactor\": 0.2"),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "factor on 3.3", AT("3.3.0", "jvm", "\"spark.executor.memoryOverheadFactor\": 0.2"),
		  CDE_SIZING_CONF_KEY_IGNORED, false },
		{ "min overhead on 3.5", AT("3.5.1", "jvm", "\"spark.driver.minMemoryOverhead\": \"1g\""),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "factor beside explicit", JVM("\"spark.executor.memoryOverhead\": \"1g\","
						"\"spark.executor.memoryOverheadFactor\": 0.2"),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "pyspark on jvm", JVM("\"spark.executor.pyspark.memory\": \"1g\""),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "off-heap size alone", JVM("\"spark.memory.offHeap.size\": \"1g\""),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "off-heap on 3.0", AT("3.0.0", "jvm", "\"spark.memory.offHeap.enabled\": true,"
						      "\"spark.memory.offHeap.size\": \"1g\""),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
		{ "dyn keys without dyn", JVM("\"spark.dynamicAllocation.maxExecutors\": 4"),
		  CDE_SIZING_CONF_KEY_IGNORED, true },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		struct cde_sizing_result r;

		size(cases[i].request, &r);
		if (has_code(&r, cases[i].code) != cases[i].expected) {
			print_message("%s: %s expected %s\n", cases[i].name,
				      cde_sizing_code_name(cases[i].code),
				      cases[i].expected ? "present" : "absent");
			print_warnings(&r);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
	assert_string_equal(cde_sizing_code_name(CDE_SIZING_POD_OVERHEAD_CAUSES_UNSCHEDULABLE),
			    "POD_OVERHEAD_CAUSES_UNSCHEDULABLE");
	assert_string_equal(cde_sizing_code_name(CDE_SIZING_CODE_COUNT), "UNKNOWN");
	for (int c = 0; c < CDE_SIZING_CODE_COUNT; c++)
		assert_string_not_equal(cde_sizing_code_name((enum cde_sizing_code)c), "UNKNOWN");
}

/* ---- bad input ---- */

struct bad_case {
	const char *request;
	const char *pointer;
	const char *reason;
};

#define CLUSTER(fields) "{\"language\": \"jvm\", \"conf\": {}, \"cluster\": {" fields "}}"
#define OK_NODE "\"nodeCpu\": 4, \"nodeMemory\": \"16Gi\""

static void bad_input_names_the_field(void **state)
{
	static const struct bad_case cases[] = {
		{ "[]", "", "must be an object" },
		{ "\"sizing\"", "", "must be an object" },
		{ "{\"conf\": {}}", "/language", "required" },
		{ "{\"language\": \"jvm\"}", "/conf", "required" },
		{ "{\"language\": \"scala\", \"conf\": {}}", "/language", "\"jvm\", \"python\"" },
		{ "{\"language\": \"jvm\", \"conf\": {}, \"extra\": 1}", "/extra", "unknown field" },
		{ "{\"language\": \"jvm\", \"conf\": []}", "/conf", "must be an object" },
		{ JVM("\"spark.executor.memory\": \"4x\""), "/conf/spark.executor.memory",
		  "unknown unit" },
		{ JVM("\"spark.executor.memory\": \"4Gi\""), "/conf/spark.executor.memory",
		  "Kubernetes units" },
		{ JVM("\"spark.executor.memory\": \"1.5g\""), "/conf/spark.executor.memory",
		  "fractional" },
		{ JVM("\"spark.executor.memory\": 4096.5"), "/conf/spark.executor.memory",
		  "fractional" },
		{ JVM("\"spark.executor.memory\": \"-4g\""), "/conf/spark.executor.memory",
		  "negative" },
		{ JVM("\"spark.executor.memory\": \"512k\""), "/conf/spark.executor.memory",
		  "less than 1 MiB" },
		{ JVM("\"spark.executor.memory\": true"), "/conf/spark.executor.memory",
		  "string or a number" },
		{ JVM("\"spark.executor.instances\": -1"), "/conf/spark.executor.instances",
		  "negative" },
		{ JVM("\"spark.executor.instances\": \"ten\""), "/conf/spark.executor.instances",
		  "whole number" },
		{ JVM("\"spark.executor.cores\": 0"), "/conf/spark.executor.cores", "between 1" },
		{ JVM("\"spark.driver.cores\": 1.5"), "/conf/spark.driver.cores", "whole number" },
		{ JVM("\"spark.kubernetes.executor.request.cores\": \"0.0005\""),
		  "/conf/spark.kubernetes.executor.request.cores", "finer than 1m" },
		{ JVM("\"spark.kubernetes.driver.limit.cores\": \"-1\""),
		  "/conf/spark.kubernetes.driver.limit.cores", "negative" },
		{ JVM("\"spark.executor.memoryOverheadFactor\": 0"),
		  "/conf/spark.executor.memoryOverheadFactor", "greater than 0" },
		{ JVM("\"spark.driver.memoryOverheadFactor\": \"lots\""),
		  "/conf/spark.driver.memoryOverheadFactor", "must be a number" },
		{ JVM("\"spark.kubernetes.memoryOverheadFactor\": 1.5"),
		  "/conf/spark.kubernetes.memoryOverheadFactor", "below 1" },
		{ JVM("\"spark.memory.offHeap.enabled\": \"yes\""), "/conf/spark.memory.offHeap.enabled",
		  "true or false" },
		{ JVM("\"spark.memory.offHeap.enabled\": true"), "/conf/spark.memory.offHeap.size",
		  "at least 1m" },
		{ JVM("\"spark.dynamicAllocation.enabled\": true,"
		      "\"spark.dynamicAllocation.minExecutors\": 5,"
		      "\"spark.dynamicAllocation.maxExecutors\": 2"),
		  "/conf/spark.dynamicAllocation.minExecutors", "above" },
		{ JVM("\"spark.dynamicAllocation.enabled\": true,"
		      "\"spark.dynamicAllocation.maxExecutors\": 0"),
		  "/conf/spark.dynamicAllocation.maxExecutors", "must not be 0" },
		{ AT("2.4.8", "jvm", ""), "/sparkVersion", "not covered" },
		{ AT("latest", "jvm", ""), "/sparkVersion", "Spark version" },
		{ "{\"language\": \"jvm\", \"conf\": {}, \"cluster\": []}", "/cluster",
		  "must be an object" },
		{ CLUSTER(OK_NODE), "/cluster/provider", "required" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeMemory\": \"16Gi\""), "/cluster/nodeCpu",
		  "required" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeCpu\": 4"), "/cluster/nodeMemory", "required" },
		{ CLUSTER("\"provider\": \"gcp\", " OK_NODE), "/cluster/provider", "\"gke\"" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeCpu\": 4, \"nodeMemory\": \"64gb\""),
		  "/cluster/nodeMemory", "case matters" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeCpu\": 4, \"nodeMemory\": 64"),
		  "/cluster/nodeMemory", "bare number is bytes" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeCpu\": \"-4\", \"nodeMemory\": \"16Gi\""),
		  "/cluster/nodeCpu", "negative" },
		{ CLUSTER("\"provider\": \"gke\", \"nodeCpu\": \"0\", \"nodeMemory\": \"16Gi\""),
		  "/cluster/nodeCpu", "more than 0" },
		{ CLUSTER("\"provider\": \"eks\", " OK_NODE), "/cluster/maxPods",
		  "required for provider eks" },
		{ CLUSTER("\"provider\": \"aks\", " OK_NODE), "/cluster/maxPods", "aks from 1.29" },
		{ CLUSTER("\"provider\": \"gke\", \"aksVersion\": \"1.29\", " OK_NODE),
		  "/cluster/aksVersion", "only applies to provider aks" },
		{ CLUSTER("\"provider\": \"aks\", \"aksVersion\": \"new\", " OK_NODE),
		  "/cluster/aksVersion", "AKS version" },
		{ CLUSTER("\"provider\": \"gke\", \"nodes\": 0, " OK_NODE), "/cluster/nodes",
		  "between 1" },
		{ CLUSTER("\"provider\": \"gke\", \"nodes\": 2.5, " OK_NODE), "/cluster/nodes",
		  "whole number" },
		{ CLUSTER("\"provider\": \"gke\", \"maxPods\": -3, " OK_NODE), "/cluster/maxPods",
		  "negative" },
		{ CLUSTER("\"provider\": \"gke\", \"region\": \"eu\", " OK_NODE), "/cluster/region",
		  "unknown field" },
		{ CLUSTER("\"provider\": \"gke\", \"podOverhead\": {\"cpu\": \"abc\"}, " OK_NODE),
		  "/cluster/podOverhead/cpu", "not a CPU quantity" },
		{ CLUSTER("\"provider\": \"gke\", \"podOverhead\": {\"gpu\": 1}, " OK_NODE),
		  "/cluster/podOverhead/gpu", "unknown field" },
		{ CLUSTER("\"provider\": \"gke\", \"podOverhead\": \"250m\", " OK_NODE),
		  "/cluster/podOverhead", "must be an object" },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		struct cde_errors errs;
		struct cde_sizing_input in;
		cJSON *doc = json(cases[i].request);

		cde_sizing_input_init(&in);
		in.spark_major = 77;	/* must stay untouched on failure */
		cde_errors_reset(&errs);
		if (cde_sizing_input_parse(doc, &in, &errs) != -EINVAL || in.spark_major != 77 ||
		    !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s: expected %s: %s\n", cases[i].request, cases[i].pointer,
				      cases[i].reason);
			print_errors(&errs);
			failures++;
		}
		cJSON_Delete(doc);
	}
	assert_int_equal(failures, 0);
}

static void every_error_is_reported_at_once(void **state)
{
	struct cde_errors errs;
	struct cde_sizing_input in;
	cJSON *doc = json("{\"language\": \"go\", \"conf\": {\"spark.executor.memory\": \"4x\","
			  "\"spark.executor.cores\": -2}, \"cluster\": {\"provider\": \"eks\"}}");

	cde_errors_reset(&errs);
	assert_int_equal(cde_sizing_input_parse(doc, &in, &errs), -EINVAL);
	assert_true(has_error(&errs, "/language", "must be"));
	assert_true(has_error(&errs, "/conf/spark.executor.memory", "unknown unit"));
	assert_true(has_error(&errs, "/conf/spark.executor.cores", "negative"));
	assert_true(has_error(&errs, "/cluster/nodeCpu", "required"));
	assert_true(has_error(&errs, "/cluster/nodeMemory", "required"));
	assert_true(has_error(&errs, "/cluster/maxPods", "required"));
	assert_int_equal(errs.count, 6);
	cJSON_Delete(doc);
}

static void unknown_spark_keys_are_ignored(void **state)
{
	struct cde_sizing_input in;

	parse_ok(JVM("\"spark.sql.shuffle.partitions\": \"400\", \"spark.foo\": {\"x\": []},"
		     "\"spark.executor.memory\": \"2g\""), &in);
	assert_true(in.conf.executor.memory_mib.set);
	assert_int_equal(in.conf.executor.memory_mib.v, 2048);
	assert_false(in.has_cluster);
}

static void cluster_parses_alone(void **state)
{
	struct cde_errors errs;
	struct cde_sizing_cluster c;
	cJSON *good = json("{\"provider\": \"eks\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\","
			   "\"maxPods\": 58, \"nodes\": 3, \"podOverhead\": {\"cpu\": \"250m\","
			   "\"memory\": \"120Mi\"}}");
	cJSON *bad = json("{\"provider\": \"k3s\", \"nodeCpu\": 1, \"nodeMemory\": \"1Gi\"}");

	cde_errors_reset(&errs);
	assert_int_equal(cde_sizing_cluster_parse(good, "/clusters/etl", &c, &errs), 0);
	assert_int_equal(c.provider, CDE_SIZING_EKS);
	assert_int_equal(c.node_cpu_millis, 16000);
	assert_int_equal(c.node_memory_bytes, 64 * GiB);
	assert_int_equal(c.max_pods, 58);
	assert_int_equal(c.nodes, 3);
	assert_int_equal(c.pod_overhead_cpu_millis, 250);
	assert_int_equal(c.pod_overhead_memory_bytes, 120 * MiB);

	/* The prefix is an escaped pointer and is kept as given. */
	assert_int_equal(cde_sizing_cluster_parse(bad, "/clusters/a~1b", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/clusters/a~1b/provider", "must be"));
	cJSON_Delete(good);
	cJSON_Delete(bad);
}

/* ---- JSON ---- */

static double num(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;
	const cJSON *at = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
		at = cJSON_GetObjectItemCaseSensitive(at, k);
	if (!cJSON_IsNumber(at))
		fail_msg("%s is not a number", path);
	return at->valuedouble;
}

static void result_as_json(void **state)
{
	struct cde_sizing_result r;
	cJSON *o, *w;

	size("{\"language\": \"jvm\", \"conf\": {" JOB8G ","
	     "\"spark.kubernetes.executor.request.cores\": \"3.5\"}, \"cluster\": " GKE16 "10}}", &r);
	o = cde_sizing_result_to_json(&r);
	assert_non_null(o);
	assert_true(num(o, "executor/memoryRequestMiB") == 9011);
	assert_true(num(o, "executor/memoryLimitMiB") == 9011);
	assert_true(num(o, "executor/overheadMiB") == 819);
	assert_true(num(o, "executor/heapMiB") == 8192);
	assert_true(num(o, "executor/cpuRequest") == 3.5);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "executor"),
						     "cpuLimit")));
	assert_true(num(o, "driver/memoryRequestMiB") == 4505);
	assert_true(num(o, "node/allocatableCpuMillis") == 15890);
	assert_true(num(o, "node/allocatableMemoryMiB") == 59824);
	/* 3500m: 15890/3500 = 4; memory 6 -> 4 per node. Beside the
	 * driver: 14890/3500 = 4, 55319/9011 = 6 -> 4. 1 + ceil(6/4) = 3. */
	assert_true(num(o, "executorsPerNode") == 4);
	assert_true(num(o, "nodesNeeded") == 3);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "fits")));
	assert_true(num(o, "totals/pods") == 11);
	assert_true(num(o, "totals/cpuRequest") == 36);
	w = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "warnings"), 0);
	assert_non_null(w);
	assert_string_equal(cJSON_GetObjectItem(w, "code")->valuestring, "EXECUTOR_NODE_WASTE");
	assert_non_null(strstr(cJSON_GetObjectItem(w, "message")->valuestring, "memory"));
	cJSON_Delete(o);

	/* Without a cluster: fits is null, the node facts are absent. */
	size(JVM("\"spark.executor.memoryOverhead\": \"1g\""), &r);
	o = cde_sizing_result_to_json(&r);
	assert_non_null(o);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "fits")));
	assert_null(cJSON_GetObjectItem(o, "node"));
	assert_null(cJSON_GetObjectItem(o, "nodesNeeded"));
	assert_null(cJSON_GetObjectItem(o, "executorsPerNode"));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "executor"),
						     "overheadFactor")));
	assert_true(num(o, "driver/overheadFactor") == 0.1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "warnings")), 0);
	cJSON_Delete(o);

	/* A pod that fits no node: nodesNeeded is null. */
	size("{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"250g\"},"
	     "\"cluster\": " GKE16 "10}}", &r);
	o = cde_sizing_result_to_json(&r);
	assert_non_null(o);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "fits")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "nodesNeeded")));
	cJSON_Delete(o);
}

/* ---- remedy ---- */

struct remedy_case {
	const char *name;
	const char *request;
	enum cde_sizing_role role;
	enum cde_sizing_remedy_kind kind;
	uint64_t old_memory, new_overhead, new_memory;
	int fits;		/* -1: no cluster */
	unsigned per_node;
};

static void remedies_for_oomkilled_pods(void **state)
{
	static const struct remedy_case cases[] = {
		/* JVM 8g: overhead 819 doubles to 1638, 8192+1638 = 9830;
		 * 1000m/9830 MiB: CPU 15, memory 59824/9830 = 6 per node. */
		{ "jvm executor", "{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\": \"8g\"},"
				  "\"cluster\": " GKE16 "10}}",
		  CDE_SIZING_EXECUTOR, CDE_SIZING_REMEDY_DOUBLE_OVERHEAD, 9011, 1638, 9830, 1, 6 },
		/* Python, explicit 1g below 0.4*8192 -> 3276: raised to 3276;
		 * 8192+1024+2048 (PySpark) = 11264 -> 8192+3276+2048 = 13516. */
		{ "python below 0.4", PY("\"spark.executor.memory\": \"8g\","
					 "\"spark.executor.memoryOverhead\": \"1g\","
					 "\"spark.executor.pyspark.memory\": \"2g\""),
		  CDE_SIZING_EXECUTOR, CDE_SIZING_REMEDY_NON_JVM_FACTOR, 11264, 3276, 13516, -1, 0 },
		/* Python already at 0.4 (3276): doubled, 6552; 8192+6552 = 14744. */
		{ "python at 0.4", PY("\"spark.executor.memory\": \"8g\""),
		  CDE_SIZING_EXECUTOR, CDE_SIZING_REMEDY_DOUBLE_OVERHEAD, 11468, 6552, 14744, -1, 0 },
		/* Driver 1g: 384 -> 768, 1792. */
		{ "jvm driver", JVM(""), CDE_SIZING_DRIVER, CDE_SIZING_REMEDY_DOUBLE_OVERHEAD,
		  1408, 768, 1792, -1, 0 },
		/* 7000 + 1000 = 8000 fits 8192; doubled 7000 + 2000 = 9000 does not. */
		{ "no longer fits", "{\"language\": \"jvm\", \"conf\": {\"spark.executor.memory\":"
				    "\"7000m\", \"spark.executor.memoryOverhead\": \"1000m\"},"
				    "\"cluster\": {\"provider\": \"none\", \"nodeCpu\": 4,"
				    "\"nodeMemory\": \"8Gi\"}}",
		  CDE_SIZING_EXECUTOR, CDE_SIZING_REMEDY_DOUBLE_OVERHEAD, 8000, 2000, 9000, 0, 0 },
		/* 4.0 Python with minMemoryOverhead 1g and an explicit 100m:
		 * 0.4 gives max(409, 1024) = 1024 > 100; 1024+1024 = 2048. */
		{ "python 4.0 minimum", AT("4.0.0", "python", "\"spark.executor.minMemoryOverhead\":"
							  "\"1g\", \"spark.executor.memoryOverhead\": 100"),
		  CDE_SIZING_EXECUTOR, CDE_SIZING_REMEDY_NON_JVM_FACTOR, 1124, 1024, 2048, -1, 0 },
	};
	int failures = 0;

	for (size_t i = 0; i < N(cases); i++) {
		const struct remedy_case *c = &cases[i];
		struct cde_sizing_input in;
		struct cde_sizing_remedy rem;
		int fits;

		parse_ok(c->request, &in);
		cde_sizing_remedy(&in, c->role, &rem);
		fits = rem.has_node ? rem.fits_node : -1;
		if (rem.kind != c->kind || rem.old_memory_mib != c->old_memory ||
		    rem.new_overhead_mib != c->new_overhead || rem.new_memory_mib != c->new_memory ||
		    fits != c->fits || (c->fits == 1 && rem.executors_per_node != c->per_node)) {
			print_message("%s: kind %d old %llu new overhead %llu memory %llu fits %d "
				      "per node %u\n", c->name, rem.kind,
				      (unsigned long long)rem.old_memory_mib,
				      (unsigned long long)rem.new_overhead_mib,
				      (unsigned long long)rem.new_memory_mib, fits,
				      rem.executors_per_node);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void remedy_as_json(void **state)
{
	struct cde_sizing_input in;
	struct cde_sizing_remedy rem;
	cJSON *o;

	parse_ok(PY("\"spark.executor.memory\": \"8g\", \"spark.executor.memoryOverhead\": \"1g\""),
		 &in);
	cde_sizing_remedy(&in, CDE_SIZING_EXECUTOR, &rem);
	o = cde_sizing_remedy_to_json(&rem);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "key")->valuestring,
			    "spark.executor.memoryOverhead");
	assert_string_equal(cJSON_GetObjectItem(o, "value")->valuestring, "3276m");
	assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring, "non_jvm_factor");
	assert_true(num(o, "newMemoryRequestMiB") == 11468);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "fitsNode")));
	cJSON_Delete(o);
}

/* ---- allocation failures (SQLite's test_malloc.c, in small) ---- */

static int alloc_fail_at, alloc_count;

static void *failing_malloc(size_t n)
{
	if (++alloc_count == alloc_fail_at)
		return NULL;
	return malloc(n);
}

/* Makes the Nth cJSON allocation fail for every N until @build succeeds;
 * each failure must return NULL and leak nothing (ASan checks). */
static void fail_each_allocation(cJSON *(*build)(const void *), const void *arg)
{
	cJSON_Hooks hooks = { .malloc_fn = failing_malloc, .free_fn = free };

	for (alloc_fail_at = 1;; alloc_fail_at++) {
		cJSON *o;

		alloc_count = 0;
		cJSON_InitHooks(&hooks);
		o = build(arg);
		cJSON_InitHooks(NULL);
		if (o) {
			cJSON_Delete(o);
			break;
		}
		assert_true(alloc_fail_at < 10000);
	}
	assert_true(alloc_fail_at > 10);
}

static cJSON *build_result(const void *arg)
{
	return cde_sizing_result_to_json(arg);
}

static cJSON *build_remedy(const void *arg)
{
	return cde_sizing_remedy_to_json(arg);
}

static void json_survives_allocation_failures(void **state)
{
	struct cde_sizing_result r;
	struct cde_sizing_input in;
	struct cde_sizing_remedy rem;

	size("{\"language\": \"jvm\", \"conf\": {" JOB8G "}, \"cluster\": " GKE16 "3}}", &r);
	assert_true(r.n_warnings >= 2);
	fail_each_allocation(build_result, &r);
	parse_ok("{\"language\": \"jvm\", \"conf\": {}, \"cluster\": " GKE16 "3}}", &in);
	cde_sizing_remedy(&in, CDE_SIZING_EXECUTOR, &rem);
	fail_each_allocation(build_remedy, &rem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spark_sizes_read_like_spark),
		cmocka_unit_test(kubernetes_quantities),
		cmocka_unit_test(pods_follow_spark),
		cmocka_unit_test(spark_versions_differ),
		cmocka_unit_test(provider_allocatable),
		cmocka_unit_test(pods_on_nodes),
		cmocka_unit_test(totals_count_every_pod),
		cmocka_unit_test(warnings_have_stable_codes),
		cmocka_unit_test(bad_input_names_the_field),
		cmocka_unit_test(every_error_is_reported_at_once),
		cmocka_unit_test(unknown_spark_keys_are_ignored),
		cmocka_unit_test(cluster_parses_alone),
		cmocka_unit_test(result_as_json),
		cmocka_unit_test(remedies_for_oomkilled_pods),
		cmocka_unit_test(remedy_as_json),
		cmocka_unit_test(json_survives_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
