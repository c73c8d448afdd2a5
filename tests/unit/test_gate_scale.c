/* Promotion gates over large evidence (sinks/audit/answers/gate.c, issue
 * 18): with ten thousand test cases the latest run of each still decides
 * and one failed case among them is still found; an artifact named in
 * two thousand chains reads each chain once; and past the gate's
 * events_max, over all its reads, the gate denies without judging,
 * whatever the part it read would say, keeping the answer's shape.
 *
 * The log is a table on the heap (the stand-in of the other gate tests
 * holds 1200 rows), filtered as the stores filter what the gate asks:
 * by artifact, by chain, and by subject and environment after a seq. */

#include "tests/unit/helpers.h"

#include <cjson/cJSON.h>

#include "sinks/audit/answers/gate.h"

#define ART "pkg:oci/etl@sha256%3Aabc"
#define CASES 10000

struct row {
	char *event;
	char chain[32];
	bool names_artifact;
	char subject[32], environment[16];
};

static struct row *rows;
static size_t n_rows, cap_rows;
static unsigned queries;
static uint64_t rows_sent;	/* rows the source handed out, over all queries */

static bool matches(const struct cde_audit_filter *f, size_t i)
{
	const struct row *w = &rows[i];

	return !((f->artifact_id && !w->names_artifact) || (f->chain_id && strcmp(f->chain_id, w->chain) != 0) ||
		 (f->subject && strcmp(f->subject, w->subject) != 0) ||
		 (f->environment && strcmp(f->environment, w->environment) != 0) || (f->after && i + 1 <= f->after));
}

/* As PostgreSQL answers: the whole result (up to the limit) is sent,
 * counted in rows_sent, before the reader sees its first row. */
static int query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	uint64_t sent = 0;

	(void)ctx;
	queries++;
	for (size_t i = 0; i < n_rows && (!f->limit || sent < f->limit); i++)
		sent += matches(f, i);
	rows_sent += sent;
	for (size_t i = 0; i < n_rows && sent; i++) {
		struct cde_audit_record rec = { .seq = i + 1, .received_at = "2026-03-01T12:00:00Z", .principal = "ci",
						.event = rows[i].event };
		int r;

		if (!matches(f, i))
			continue;
		sent--;
		r = fn(fn_ctx, &rec);
		if (r)
			return r;
	}
	return 0;
}

static const struct cde_audit_source source = { .query = query };

/* Appends an event of @type happened at @ts; its seq. */
static uint64_t post(const char *ts, const char *type, const char *subject, const char *chain, const char *env,
		     bool names_artifact, const char *content)
{
	char event[1024];
	struct row *w;

	if (n_rows == cap_rows) {
		cap_rows = cap_rows ? cap_rows * 2 : 1024;
		rows = realloc(rows, cap_rows * sizeof(*rows));
		assert_non_null(rows);
	}
	w = &rows[n_rows];
	*w = (struct row){ .names_artifact = names_artifact };
	snprintf(event, sizeof(event),
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e%zu\",\"source\":\"/ci\","
		 "\"type\":\"dev.cdevents.%s\",\"timestamp\":\"%s\",\"chainId\":\"%s\"},"
		 "\"subject\":{\"id\":\"%s\",\"content\":%s}}",
		 n_rows + 1, type, ts, chain, subject, content);
	w->event = strdup(event);
	assert_non_null(w->event);
	snprintf(w->chain, sizeof(w->chain), "%s", chain);
	snprintf(w->subject, sizeof(w->subject), "%s", subject);
	snprintf(w->environment, sizeof(w->environment), "%s", env);
	return ++n_rows;
}

static uint64_t build(const char *chain)
{
	return post("2026-03-01T07:00:00Z", "build.finished.0.3.0", "etl-build", chain, "", true,
		    "{\"artifactId\":\"" ART "\"}");
}

static uint64_t case_run(const char *ts, size_t i, const char *outcome)
{
	char content[256];

	snprintf(content, sizeof(content), "{\"environment\":{\"id\":\"ci\"},\"testCase\":{\"id\":\"tests/case-%zu\","
		 "\"type\":\"unit\"},\"outcome\":\"%s\"}", i, outcome);
	return post(ts, "testcaserun.finished.0.3.0", "run", "r-1", "ci", false, content);
}

static int reset(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_rows; i++)
		free(rows[i].event);
	n_rows = 0;
	queries = 0;
	return 0;
}

static int teardown_all(void **state)
{
	reset(state);
	free(rows);
	return 0;
}

static struct cde_gate gate_of(const char *json)
{
	struct cde_gate_set set;
	struct cde_errors errs;
	cJSON *doc = cJSON_Parse(json);

	cde_errors_reset(&errs);
	assert_int_equal(cde_gate_set_parse(doc, NULL, &set, &errs), 0);
	cJSON_Delete(doc);
	assert_non_null(cde_gate_set_find(&set, "prod"));
	return *cde_gate_set_find(&set, "prod");
}

#define UNIT_CASES "{\"prod\":{\"require\":[{\"build\":true},{\"test_case\":{\"type\":\"unit\"}}]}}"
#define SUITE "{\"prod\":{\"require\":[{\"tests\":{\"suites\":[\"unit\"]}}]}}"
#define SOAKED "{\"prod\":{\"require\":[{\"deployed\":{\"environment\":\"stage\",\"not_rolled_back_for\":\"1h\"}}]}}"

static cJSON *evaluate(const struct cde_gate *g)
{
	cJSON *out = NULL;

	assert_int_equal(cde_gate_evaluate(g, ART, 1772409600 /* 2026-03-02 */, &source, &out), 0);
	assert_non_null(out);
	return out;
}

static const char *text(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static const cJSON *req(const cJSON *out, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "requirements"), i);
}

static void the_latest_run_of_each_of_ten_thousand_cases_decides(void **state)
{
	struct cde_gate g = gate_of(UNIT_CASES);
	uint64_t last = 0;
	cJSON *out;

	(void)state;
	build("r-1");
	for (size_t i = 0; i < CASES; i++) /* each case failed first... */
		case_run("2026-03-01T08:00:00Z", i, "failure");
	for (size_t i = CASES; i-- > 0;) /* ...then passed, found again in another order */
		last = case_run("2026-03-01T09:00:00Z", i, "success");
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "allow");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(req(out, 1), "seq")->valuedouble, (double)last);
	cJSON_Delete(out);

	/* one case's third run failed: that one run among 20,001 denies */
	last = case_run("2026-03-01T10:00:00Z", 7777, "failure");
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "deny");
	assert_true(strstr(text(req(out, 1), "reason"), "test case tests/case-7777 of type unit: its latest run") != NULL);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(req(out, 1), "seq")->valuedouble, (double)last);
	cJSON_Delete(out);
}

static void a_failed_case_among_ten_thousand_is_found(void **state)
{
	struct cde_gate g = gate_of(UNIT_CASES);
	uint64_t failed = 0;
	cJSON *out;

	(void)state;
	build("r-1");
	for (size_t i = 0; i < CASES; i++) {
		uint64_t seq = case_run("2026-03-01T08:00:00Z", i, i == 4321 ? "failure" : "success");

		if (i == 4321)
			failed = seq;
	}
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "deny");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req(out, 1), "met")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(req(out, 1), "seq")->valuedouble, (double)failed);
	cJSON_Delete(out);
}

static void an_artifact_in_two_thousand_chains_reads_each_chain_once(void **state)
{
	struct cde_gate g = gate_of(SUITE);
	cJSON *out;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		char chain[16];

		snprintf(chain, sizeof(chain), "r-%d", i);
		build(chain);
		build(chain); /* named twice in each: still one read of it */
	}
	post("2026-03-01T08:00:00Z", "testsuiterun.finished.0.3.0", "run", "r-1999", "ci", false,
	     "{\"environment\":{\"id\":\"ci\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"failure\"}");
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "deny");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(req(out, 0), "seq")->valuedouble, 4001);
	/* the artifact's 4,000 events in pages of 16, 32, ... up to 1,024
	 * (nine queries), then each chain once (two events: one page) */
	assert_int_equal(queries, 9 + 2000);
	cJSON_Delete(out);
}

/* The answer of a gate that did not judge: deny, the reason on top and
 * on each requirement (a refused deployment lists the rows' reasons),
 * the requirements as the gate words them, none met, no seq. */
static void assert_not_judged(const cJSON *out, const struct cde_gate *g, const char *max)
{
	char top[200], row[200];
	const cJSON *r;
	size_t n = 0;

	snprintf(top, sizeof(top), "evidence too large: more than %s events in the artifact's chains; "
		 "the gate does not judge it", max);
	snprintf(row, sizeof(row), "not judged: more than %s events in the artifact's chains", max);
	assert_string_equal(text(out, "decision"), "deny");
	assert_string_equal(text(out, "reason"), top);
	assert_string_equal(text(out, "environment"), "prod");
	assert_string_equal(text(out, "artifact"), ART);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(out, "requirements")) {
		assert_non_null(text(r, "requirement"));
		assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "met")));
		assert_null(cJSON_GetObjectItemCaseSensitive(r, "seq"));
		assert_string_equal(text(r, "reason"), row);
		n++;
	}
	assert_int_equal(n, g->n);
}

static void past_its_events_max_the_gate_denies_without_judging(void **state)
{
	struct cde_gate g = gate_of(UNIT_CASES);
	cJSON *out;

	(void)state;
	g.events_max = 50;
	build("r-1");
	build("r-2");
	/* read: both builds by artifact (one page), then r-1 (its build and
	 * 46 cases: pages of 16 and 32), then r-2 (its build) */
	for (size_t i = 0; i < 46; i++)
		case_run("2026-03-01T08:00:00Z", i, "success");
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "allow");	/* 50 rows: within */
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "reason"));
	assert_int_equal(queries, 4);
	cJSON_Delete(out);

	/* one more passing case: what was read would allow, the gate denies */
	case_run("2026-03-01T08:00:00Z", 46, "success");
	out = evaluate(&g);
	assert_not_judged(out, &g, "50");
	assert_string_equal(text(out, "chainId"), "r-2");
	cJSON_Delete(out);

	/* past the limit in r-1, it stops there: r-2 is not asked for (the
	 * artifact's events, then r-1 in pages of 16, 32 and 64) */
	case_run("2026-03-01T08:00:00Z", 47, "success");
	queries = 0;
	out = evaluate(&g);
	assert_not_judged(out, &g, "50");
	assert_int_equal(queries, 1 + 3);
	cJSON_Delete(out);
}

static void the_soak_read_counts_against_the_limit_too(void **state)
{
	struct cde_gate g = gate_of(SOAKED);
	cJSON *out;

	(void)state;
	g.events_max = 20;
	post("2026-03-01T08:00:00Z", "service.deployed.0.3.0", "etl", "r-1", "stage", true,
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	/* the service in stage after it, naming no artifact: only the soak
	 * reads these, and none ends it */
	for (int i = 0; i < 18; i++)
		post("2026-03-01T08:10:00Z", "service.published.0.3.0", "etl", "ops", "stage", false,
		     "{\"environment\":{\"id\":\"stage\"}}");
	out = evaluate(&g);	/* the deployment by artifact, by chain, then 18 */
	assert_string_equal(text(out, "decision"), "allow");
	cJSON_Delete(out);

	post("2026-03-01T08:10:00Z", "service.published.0.3.0", "etl", "ops", "stage", false,
	     "{\"environment\":{\"id\":\"stage\"}}");
	out = evaluate(&g);	/* 21 rows */
	assert_not_judged(out, &g, "20");
	cJSON_Delete(out);
}

/* A store may send a query's whole result before the first row is
 * looked at (PostgreSQL): a read that stops at its first row is asked
 * for a small page, not for everything after it. */
static void a_read_stopped_at_its_first_row_was_asked_for_a_small_page(void **state)
{
	struct cde_gate g = gate_of(SOAKED);
	cJSON *out;

	(void)state;
	post("2026-03-01T08:00:00Z", "service.deployed.0.3.0", "etl", "r-1", "stage", true,
	     "{\"environment\":{\"id\":\"stage\"},\"artifactId\":\"" ART "\"}");
	post("2026-03-01T08:05:00Z", "service.removed.0.3.0", "etl", "ops", "stage", false,
	     "{\"environment\":{\"id\":\"stage\"}}");
	for (int i = 0; i < 5000; i++)	/* after the end of the soak */
		post("2026-03-01T08:10:00Z", "service.removed.0.3.0", "etl", "ops", "stage", false,
		     "{\"environment\":{\"id\":\"stage\"}}");
	rows_sent = 0;
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "deny");
	/* the deployment by artifact and by chain, then one page of 16 */
	assert_true(rows_sent <= 2 + 16);
	cJSON_Delete(out);
}

static void the_default_limit_is_the_documented_one(void **state)
{
	struct cde_gate g = gate_of(UNIT_CASES);
	cJSON *out;

	(void)state;
	assert_int_equal(g.events_max, 0);	/* the configuration leaves it */
	build("r-1");
	case_run("2026-03-01T08:00:00Z", 0, "success");
	out = evaluate(&g);
	assert_string_equal(text(out, "decision"), "allow");
	cJSON_Delete(out);
	assert_int_equal(CDE_GATE_EVENTS_MAX, 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(the_latest_run_of_each_of_ten_thousand_cases_decides, reset),
		cmocka_unit_test_setup(a_read_stopped_at_its_first_row_was_asked_for_a_small_page, reset),
		cmocka_unit_test_setup(a_failed_case_among_ten_thousand_is_found, reset),
		cmocka_unit_test_setup(an_artifact_in_two_thousand_chains_reads_each_chain_once, reset),
		cmocka_unit_test_setup(past_its_events_max_the_gate_denies_without_judging, reset),
		cmocka_unit_test_setup(the_soak_read_counts_against_the_limit_too, reset),
		cmocka_unit_test_setup(the_default_limit_is_the_documented_one, reset),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
