/* The DORA keys (sinks/audit/answers/dora*.c) over a small history whose
 * values are worked out by hand below, through a stand-in source: which
 * deployment a failure belongs to, which start a lead time takes, when
 * an incident counts as restored, the window's edges, and the bands. */

#include "tests/unit/helpers.h"
#include "tests/unit/answer_source.h"

#include "sinks/audit/answers/dora.h"

#define NOW 1796083200 /* 2026-12-01T00:00:00Z */
#define HOUR 3600.0
#define DAY 86400.0

#define CTX(type, id, ts, chain) \
	"{\"context\":{\"id\":\"" id "\",\"source\":\"/ci\",\"type\":\"dev.cdevents." type "\",\"timestamp\":\"" ts \
	"\",\"chainId\":\"" chain "\"},"
#define DEPLOY(pred, ts, svc, env, art, chain)                                                       \
	CTX("service." pred ".0.3.0", svc env ts, ts, chain) "\"subject\":{\"id\":\"" svc "\",\"content\":" \
	"{\"environment\":{\"id\":\"" env "\"},\"artifactId\":\"" art "\"}}}"
#define MERGED(ts, chain) \
	CTX("change.merged.0.3.0", "m" ts, ts, chain) "\"subject\":{\"id\":\"pr\",\"content\":{\"repository\":{\"id\":\"r\"}}}}"
#define BUILD(pred, ts, chain) CTX("build." pred ".0.3.0", "b" ts, ts, chain) "\"subject\":{\"id\":\"b\",\"content\":{}}}"
#define INCIDENT(pred, id, ts, env, link) \
	CTX("incident." pred ".0.3.0", id pred ts, ts, "") "\"subject\":{\"id\":\"" id "\",\"content\":" \
	"{\"environment\":{\"id\":\"" env "\"}" link "}}}"
#define FOR_SERVICE(s) ",\"service\":{\"id\":\"" s "\"}"
#define FOR_ARTIFACT(a) ",\"artifactId\":\"" a "\""

/* shop/api in prod, window 30 days up to NOW (after 2026-11-01T00:00Z):
 *   v1 2026-10-01                 before the window
 *   v2 11-06T00 lead 24 h (merged 11-05T00); incident 1 at 06:00 names the
 *      service: failed; resolved 08:00, restored in 2 h
 *   v3 11-12T00 lead 48 h (no merge: first build 11-10T00); rolled back at
 *      12:00: failed
 *   v4 11-20T06 lead 6 h; incident 2 at 11-23T00 names v4, 3 days later:
 *      not a failure; never resolved, restored by v5 at 11-25T00 (2 days)
 *   v5 11-25T00 lead 24 h; incident 3 at 01:00 names v5: failed; open
 * 4 deployments, 3 failed; lead median (6 h, 24 h, 24 h, 48 h) = 24 h;
 * restore median (2 h, 48 h) = 25 h. shop/api in stage and shop/web in
 * prod are their own rows. */
static const struct table_row history[] = {
	{ DEPLOY("deployed", "2026-10-01T00:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c1"), NULL },
	{ MERGED("2026-11-05T00:00:00Z", "c2"), NULL },
	{ BUILD("started", "2026-11-05T01:00:00Z", "c2"), NULL },
	{ DEPLOY("deployed", "2026-11-05T12:00:00Z", "shop/api", "stage", "pkg:oci/api@v2", "c2"), NULL },
	{ DEPLOY("deployed", "2026-11-06T00:00:00Z", "shop/api", "prod", "pkg:oci/api@v2", "c2"), NULL },
	{ INCIDENT("detected", "inc-1", "2026-11-06T06:00:00Z", "prod", FOR_SERVICE("shop/api")), NULL },
	{ INCIDENT("reported", "inc-1", "2026-11-06T07:00:00Z", "prod", FOR_SERVICE("shop/api")), NULL },
	{ INCIDENT("resolved", "inc-1", "2026-11-06T08:00:00Z", "prod", FOR_SERVICE("shop/api")), NULL },
	{ INCIDENT("detected", "inc-s", "2026-11-06T09:00:00Z", "stage", FOR_SERVICE("shop/api")), NULL },
	{ BUILD("finished", "2026-11-10T02:00:00Z", "c3"), NULL },
	{ BUILD("queued", "2026-11-10T00:00:00Z", "c3"), NULL },
	{ DEPLOY("deployed", "2026-11-12T00:00:00Z", "shop/api", "prod", "pkg:oci/api@v3", "c3"), NULL },
	{ DEPLOY("rolledback", "2026-11-12T12:00:00Z", "shop/api", "prod", "pkg:oci/api@v2", "c3"), NULL },
	{ MERGED("2026-11-20T00:00:00Z", "c4"), NULL },
	{ DEPLOY("upgraded", "2026-11-20T06:00:00Z", "shop/api", "prod", "pkg:oci/api@v4", "c4"), NULL },
	{ INCIDENT("detected", "inc-2", "2026-11-23T00:00:00Z", "prod", FOR_ARTIFACT("pkg:oci/api@v4")), NULL },
	{ MERGED("2026-11-24T00:00:00Z", "c5"), NULL },
	{ DEPLOY("deployed", "2026-11-25T00:00:00Z", "shop/api", "prod", "pkg:oci/api@v5", "c5"), NULL },
	{ INCIDENT("detected", "inc-3", "2026-11-25T01:00:00Z", "prod", FOR_ARTIFACT("pkg:oci/api@v5")), NULL },
	{ DEPLOY("deployed", "2026-11-15T00:00:00Z", "shop/web", "prod", "pkg:oci/web@v1", ""), NULL },
	{ DEPLOY("deployed", "2026-12-02T00:00:00Z", "shop/web", "prod", "pkg:oci/web@v9", ""), NULL },
};

static struct cde_dora_report compute(const char *service, const char *env, int64_t window_s)
{
	struct table_source t = { .rows = history, .n = sizeof(history) / sizeof(history[0]) };
	struct cde_audit_source src = table_source(&t);
	struct cde_dora_params p = {
		.service = service, .environment = env, .now = NOW, .window_s = window_s, .failure_window_s = 86400,
	};
	struct cde_dora_report r;

	assert_int_equal(cde_dora_compute(&src, &p, &r), 0);
	return r;
}

static void the_four_keys_of_a_service_in_production(void **state)
{
	struct cde_dora_report r = compute(NULL, NULL, 30 * 86400);
	const struct cde_dora_keys *api = &r.v[0];

	(void)state;
	assert_int_equal(r.n, 3);
	assert_string_equal(api->service, "shop/api");
	assert_string_equal(api->environment, "prod");
	assert_int_equal(api->deployments, 4);
	assert_true(api->per_day == 4.0 * 86400 / (30 * 86400));
	assert_int_equal(api->band[CDE_DORA_FREQUENCY], CDE_DORA_MEDIUM);
	assert_int_equal(api->lead_samples, 4);
	assert_true(api->lead_median_s == 24 * HOUR);
	assert_int_equal(api->band[CDE_DORA_LEAD_TIME], CDE_DORA_HIGH);
	assert_int_equal(api->failed, 3);
	assert_int_equal(api->band[CDE_DORA_FAILURE_RATE], CDE_DORA_LOW);
	assert_int_equal(api->restore_samples, 2);
	assert_true(api->restore_median_s == 25 * HOUR);
	assert_int_equal(api->band[CDE_DORA_RESTORE], CDE_DORA_MEDIUM);
	/* stage: its own deployment, failed by its own incident (21 h
	 * later), which is still open */
	assert_string_equal(r.v[1].environment, "stage");
	assert_int_equal(r.v[1].deployments, 1);
	assert_true(r.v[1].lead_median_s == 12 * HOUR);
	assert_int_equal(r.v[1].failed, 1);
	assert_int_equal(r.v[1].restore_samples, 0);
	/* a deployment without a chain has no lead time; one after now
	 * does not count */
	assert_string_equal(r.v[2].service, "shop/web");
	assert_int_equal(r.v[2].deployments, 1);
	assert_int_equal(r.v[2].lead_samples, 0);
	assert_int_equal(r.v[2].band[CDE_DORA_LEAD_TIME], CDE_DORA_NO_BAND);
	assert_int_equal(r.v[2].band[CDE_DORA_FAILURE_RATE], CDE_DORA_ELITE);
	assert_int_equal(r.v[2].band[CDE_DORA_RESTORE], CDE_DORA_NO_BAND);
	cde_dora_report_release(&r);
}

static void a_shorter_window_sees_less(void **state)
{
	struct cde_dora_report r = compute("shop/api", "prod", 7 * 86400);

	(void)state;
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].deployments, 1);
	assert_int_equal(r.v[0].failed, 1);
	assert_true(r.v[0].lead_median_s == 24 * HOUR);
	assert_int_equal(r.v[0].restore_samples, 0);
	cde_dora_report_release(&r);
	r = compute("shop/web", NULL, 7 * 86400);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].deployments, 0);
	assert_true(r.v[0].per_day == 0);
	assert_int_equal(r.v[0].band[CDE_DORA_FREQUENCY], CDE_DORA_LOW);
	assert_int_equal(r.v[0].band[CDE_DORA_FAILURE_RATE], CDE_DORA_NO_BAND);
	cde_dora_report_release(&r);
}

static void the_answer_reads_as_json(void **state)
{
	struct cde_dora_report r = compute("shop/web", NULL, 30 * 86400);
	struct cde_dora_params p = { .now = NOW, .window_s = 30 * 86400, .failure_window_s = 86400 };
	cJSON *o = cde_dora_report_json(&r, &p, "30d");
	char *text = cJSON_PrintUnformatted(o);

	(void)state;
	assert_string_equal(text,
		"{\"window\":\"30d\",\"since\":\"2026-11-01T00:00:00.000000Z\",\"until\":\"2026-12-01T00:00:00.000000Z\","
		"\"failureWindowSeconds\":86400,\"services\":[{\"service\":\"shop/web\",\"environment\":\"prod\","
		"\"deploymentFrequency\":{\"deployments\":1,\"perDay\":0.03333333333333333,\"band\":\"medium\"},"
		"\"leadTime\":{\"medianSeconds\":null,\"samples\":0,\"band\":null},"
		"\"changeFailureRate\":{\"failed\":0,\"deployments\":1,\"ratio\":0,\"band\":\"elite\"},"
		"\"timeToRestore\":{\"medianSeconds\":null,\"samples\":0,\"band\":null}}]}");
	free(text);
	cJSON_Delete(o);
	cde_dora_report_release(&r);
}

static void bands_follow_the_report_cut_points(void **state)
{
	static const struct {
		enum cde_dora_key k;
		double v;
		enum cde_dora_band b;
	} cases[] = {
		{ CDE_DORA_FREQUENCY, 3, CDE_DORA_ELITE },	  { CDE_DORA_FREQUENCY, 1, CDE_DORA_ELITE },
		{ CDE_DORA_FREQUENCY, 0.5, CDE_DORA_HIGH },	  { CDE_DORA_FREQUENCY, 1 / 7.0, CDE_DORA_HIGH },
		{ CDE_DORA_FREQUENCY, 0.1, CDE_DORA_MEDIUM },	  { CDE_DORA_FREQUENCY, 1 / 30.0, CDE_DORA_MEDIUM },
		{ CDE_DORA_FREQUENCY, 0.02, CDE_DORA_LOW },	  { CDE_DORA_LEAD_TIME, HOUR, CDE_DORA_ELITE },
		{ CDE_DORA_LEAD_TIME, DAY, CDE_DORA_HIGH },	  { CDE_DORA_LEAD_TIME, 7 * DAY, CDE_DORA_MEDIUM },
		{ CDE_DORA_LEAD_TIME, 30 * DAY, CDE_DORA_LOW },	  { CDE_DORA_FAILURE_RATE, 0, CDE_DORA_ELITE },
		{ CDE_DORA_FAILURE_RATE, 0.05, CDE_DORA_ELITE },  { CDE_DORA_FAILURE_RATE, 0.1, CDE_DORA_HIGH },
		{ CDE_DORA_FAILURE_RATE, 0.15, CDE_DORA_MEDIUM }, { CDE_DORA_FAILURE_RATE, 0.16, CDE_DORA_LOW },
		{ CDE_DORA_RESTORE, 59 * 60, CDE_DORA_ELITE },	  { CDE_DORA_RESTORE, HOUR, CDE_DORA_HIGH },
		{ CDE_DORA_RESTORE, DAY, CDE_DORA_MEDIUM },	  { CDE_DORA_RESTORE, 7 * DAY, CDE_DORA_LOW },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cde_dora_band_of(cases[i].k, cases[i].v) != cases[i].b)
			fail_msg("key %d value %g: band %d, not %d", cases[i].k, cases[i].v,
				 cde_dora_band_of(cases[i].k, cases[i].v), cases[i].b);
	assert_string_equal(cde_dora_band_name(CDE_DORA_ELITE), "elite");
	assert_null(cde_dora_band_name(CDE_DORA_NO_BAND));
}

static void windows_are_days_or_hours(void **state)
{
	static const char *const bad[] = { "", "30", "0d", "-1d", "30x", "30dd", "3651d", "1.5d", "d", " 30d" };
	int64_t s;

	(void)state;
	assert_int_equal(cde_dora_parse_window("30d", &s), 0);
	assert_int_equal(s, 30 * 86400);
	assert_int_equal(cde_dora_parse_window("90d", &s), 0);
	assert_int_equal(s, 90 * 86400);
	assert_int_equal(cde_dora_parse_window("12h", &s), 0);
	assert_int_equal(s, 12 * 3600);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cde_dora_parse_window(bad[i], &s) != -EINVAL)
			fail_msg("took %s", bad[i]);
}

/* Records the `since` of each read: the deployments and incidents are
 * read from a bounded stretch of the log, not from its beginning. */
static struct {
	unsigned reads, bounded;
	char since[64];
} asked;

static int recording_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	if (!f->chain_id) {
		asked.reads++;
		asked.bounded += f->since != NULL;
		if (f->since)
			snprintf(asked.since, sizeof(asked.since), "%s", f->since);
	}
	return table_query(ctx, f, fn, fn_ctx);
}

static void only_the_window_and_the_failure_window_before_it_are_read(void **state)
{
	struct table_source t = { .rows = history, .n = sizeof(history) / sizeof(history[0]) };
	struct cde_audit_source src = { .query = recording_query, .ctx = &t };
	struct cde_dora_params p = {
		.now = NOW, .window_s = 30 * 86400, .failure_window_s = 86400,
	};
	struct cde_dora_report r;

	(void)state;
	memset(&asked, 0, sizeof(asked));
	assert_int_equal(cde_dora_compute(&src, &p, &r), 0);
	cde_dora_report_release(&r);
	assert_int_equal(asked.reads, 6); /* three deployment types, three incident types */
	assert_int_equal(asked.bounded, asked.reads);
	/* 30 days, the failure window (1 day), and a day of margin for
	 * producers' clocks (the log bounds by when it received) */
	assert_string_equal(asked.since, "2026-10-30T00:00:00Z");
}

/* A stable service: deployed long before the window (so before what is
 * read), an incident in the window naming it, resolved 3 h later. Its
 * time to restore counts all the same, under its own row. */
static void an_incident_counts_without_a_recent_deployment(void **state)
{
	static const struct table_row stable[] = {
		{ DEPLOY("deployed", "2026-06-01T00:00:00Z", "batch/etl", "prod", "pkg:oci/etl@v1", "c9"), NULL },
		{ INCIDENT("detected", "inc-9", "2026-11-20T00:00:00Z", "prod", FOR_SERVICE("batch/etl")), NULL },
		{ INCIDENT("resolved", "inc-9", "2026-11-20T03:00:00Z", "prod", FOR_SERVICE("batch/etl")), NULL },
	};
	static const char *const received[] = { "2026-06-01T00:00:01Z", "2026-11-20T00:00:01Z", "2026-11-20T03:00:01Z" };
	struct table_source t = { .rows = stable, .n = sizeof(stable) / sizeof(stable[0]), .received = received };
	struct cde_audit_source src = table_source(&t);
	struct cde_dora_params p = { .now = NOW, .window_s = 30 * 86400, .failure_window_s = 86400 };
	struct cde_dora_report r;

	(void)state;
	assert_int_equal(cde_dora_compute(&src, &p, &r), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].service, "batch/etl");
	assert_int_equal(r.v[0].deployments, 0);
	assert_int_equal(r.v[0].restore_samples, 1);
	assert_true(r.v[0].restore_median_s == 3 * HOUR);
	cde_dora_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_four_keys_of_a_service_in_production),
		cmocka_unit_test(a_shorter_window_sees_less),
		cmocka_unit_test(the_answer_reads_as_json),
		cmocka_unit_test(bands_follow_the_report_cut_points),
		cmocka_unit_test(windows_are_days_or_hours),
		cmocka_unit_test(only_the_window_and_the_failure_window_before_it_are_read),
		cmocka_unit_test(an_incident_counts_without_a_recent_deployment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
