/* The analyses over the log run out of memory cleanly: every allocation
 * of a DORA computation, a what-runs-where answer and a gate's
 * evaluation is made to fail
 * in turn (tests/unit/oom.c); each run returns 0 or -ENOMEM, never
 * crashes, and leaves nothing allocated once its answer is freed. A
 * record whose text cJSON cannot parse for lack of memory is skipped as
 * unreadable (answer_event.c), so a run that returns 0 may answer with
 * less: that is the documented trade, not a leak. */

#include "tests/unit/helpers.h"
#include "tests/unit/answer_source.h"
#include "tests/unit/oom.h"

#include "sinks/audit/answers/dora.h"
#include "sinks/audit/answers/environment.h"
#include "sinks/audit/answers/gate.h"

#define EVENT(type, ts, subject, content, chain)                                                            \
	"{\"context\":{\"id\":\"" type ts "\",\"source\":\"/ci\",\"type\":\"dev.cdevents." type ".0.3.0\","     \
	"\"timestamp\":\"" ts "\",\"chainId\":\"" chain "\"},\"subject\":{\"id\":\"" subject "\",\"content\":" \
	content "}}"
#define PROD(art) "{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"" art "\"}"

static const struct table_row rows[] = {
	{ EVENT("change.merged", "2026-11-05T00:00:00Z", "pr-1", "{}", "c1"), NULL },
	{ EVENT("build.queued", "2026-11-05T01:00:00Z", "b-1", "{}", "c1"), NULL },
	{ EVENT("service.deployed", "2026-11-06T00:00:00Z", "shop/api", PROD("pkg:oci/api@v1"), "c1"), NULL },
	{ EVENT("build.queued", "2026-11-07T01:00:00Z", "b-2", "{}", "c2"), NULL },
	{ EVENT("service.upgraded", "2026-11-08T00:00:00Z", "shop/api", PROD("pkg:oci/api@v2"), "c2"), NULL },
	{ EVENT("incident.detected", "2026-11-08T02:00:00Z", "inc-1",
		"{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/api@v2\"}", ""), NULL },
	{ EVENT("service.rolledback", "2026-11-08T03:00:00Z", "shop/api", PROD("pkg:oci/api@v1"), "c2"), NULL },
	{ EVENT("incident.resolved", "2026-11-08T04:00:00Z", "inc-1", "{\"environment\":{\"id\":\"prod\"}}", ""), NULL },
	{ EVENT("service.deployed", "2026-11-09T00:00:00Z", "shop/web", PROD("pkg:oci/web@v1"), ""), NULL },
	{ EVENT("service.removed", "2026-11-10T00:00:00Z", "shop/web", "{\"environment\":{\"id\":\"prod\"}}", ""), NULL },
};

static int dora_run(void)
{
	struct table_source t = { .rows = rows, .n = sizeof(rows) / sizeof(rows[0]) };
	struct cde_audit_source src = table_source(&t);
	struct cde_dora_params p = { .now = 1796083200, .window_s = 30 * 86400, .failure_window_s = 86400 };
	struct cde_dora_report rep;
	cJSON *o;
	int r = cde_dora_compute(&src, &p, &rep);

	if (r < 0)
		return r;
	o = cde_dora_report_json(&rep, &p, "30d");
	cde_dora_report_release(&rep);
	cJSON_Delete(o);
	return o ? 0 : -ENOMEM;
}

static int environment_run(void)
{
	struct table_source t = { .rows = rows, .n = sizeof(rows) / sizeof(rows[0]) };
	struct cde_audit_source src = table_source(&t);
	cJSON *o = NULL;
	int r = cde_answer_environment(&src, "prod", &o);

	cJSON_Delete(o);
	return r;
}

/* A gate's evidence: chains, test cases, a deployment and what ended its
 * soak, each growing or copying something. */
#define STAGE(art) "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" art "\"}"
#define CASE(id) "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"" id "\",\"type\":\"security\"}," \
	"\"outcome\":\"success\"}"
static const struct table_row gate_rows[] = {
	{ EVENT("build.finished", "2026-11-05T00:00:00Z", "b-1", "{\"artifactId\":\"pkg:oci/api@v1\"}", "c1"), NULL },
	{ EVENT("testcaserun.finished", "2026-11-05T01:00:00Z", "t-1", CASE("zap"), "c1"), NULL },
	{ EVENT("testcaserun.finished", "2026-11-05T02:00:00Z", "t-2", CASE("sast"), "c2"), "intruder" },
	{ EVENT("testsuiterun.finished", "2026-11-05T03:00:00Z", "s-1",
		"{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"success\"}", "c2"), NULL },
	{ EVENT("service.deployed", "2026-11-06T00:00:00Z", "shop/api", STAGE("pkg:oci/api@v1"), "c2"), NULL },
	{ EVENT("service.upgraded", "2026-11-07T00:00:00Z", "shop/api", STAGE("pkg:oci/api@v2"), "c3"), NULL },
	/* joined c1 through row 1 (anchored), and c4 through a row of c1
	 * (not anchored there: c4 is read once and is not the artifact's) */
	{ EVENT("testsuiterun.finished", "2026-11-05T04:00:00Z", "s-1",
		"{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"success\"}", "c1"),
	  NULL },
	{ EVENT("build.finished", "2026-11-08T00:00:00Z", "b-2", "{\"artifactId\":\"pkg:oci/api@v1\"}", "c4"), NULL },
};
static const uint64_t gate_via[] = { 0, 0, 0, 0, 0, 0, 1, 1 };

static int gate_run(void)
{
	static struct cde_gate_set set;
	struct table_source t = { .rows = gate_rows, .n = sizeof(gate_rows) / sizeof(gate_rows[0]), .via = gate_via };
	struct cde_audit_source src = table_source(&t);
	struct cde_errors errs;
	cJSON *o = NULL;
	int r;

	if (!set.n) {
		cJSON *doc = cJSON_Parse("{\"prod\":{\"from\":[\"ci\"],\"require\":[{\"build\":true},"
					 "{\"tests\":{\"suites\":[\"unit\"]}},{\"test_case\":{\"type\":\"security\"}},"
					 "{\"deployed\":{\"environment\":\"stage\"}}]}}");

		cde_errors_reset(&errs);
		assert_int_equal(cde_gate_set_parse(doc, NULL, &set, &errs), 0);
		cJSON_Delete(doc);
	}
	r = cde_gate_evaluate(&set.gates[0], "pkg:oci/api@v1", 1796083200, &src, &o);
	cJSON_Delete(o);
	return r;
}

/* Fails allocation 1, 2, ... of @run until a run needs no more. */
static void every_allocation_fails_in_turn(const char *name, int (*run)(void))
{
	struct oom_stats st;
	unsigned long total, n;
	int r;

	oom_arm(0, false, 0);
	assert_int_equal(run(), 0);
	oom_disarm(&st);
	total = st.calls;
	assert_true(total > 10);
	for (n = 1; n <= total; n++) {
		oom_arm(n, false, 0);
		r = run();
		oom_disarm(&st);
		if ((r != 0 && r != -ENOMEM) || oom_live(true))
			fail_msg("%s: allocation %lu of %lu failing: returned %d, %zu left allocated", name, n, total, r,
				 oom_live(false));
	}
}

static void dora_runs_out_of_memory_cleanly(void **state)
{
	(void)state;
	every_allocation_fails_in_turn("cde_dora_compute", dora_run);
}

static void what_runs_where_runs_out_of_memory_cleanly(void **state)
{
	(void)state;
	every_allocation_fails_in_turn("cde_answer_environment", environment_run);
}

static void a_gate_runs_out_of_memory_cleanly(void **state)
{
	(void)state;
	every_allocation_fails_in_turn("cde_gate_evaluate", gate_run);
}

static int setup(void **state)
{
	oom_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dora_runs_out_of_memory_cleanly),
		cmocka_unit_test(what_runs_where_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_gate_runs_out_of_memory_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
