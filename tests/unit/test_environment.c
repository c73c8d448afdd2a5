/* What runs where (sinks/audit/answers/environment.c): each service's
 * current artifact in an environment and the one before it, from the
 * service events replayed in the order they happened, through a
 * stand-in source. */

#include "tests/unit/helpers.h"
#include "tests/unit/answer_source.h"

#include "sinks/audit/answers/environment.h"

#define SVC(pred, ts, svc, env, art, chain)                                                                  \
	"{\"context\":{\"id\":\"" svc pred ts "\",\"source\":\"/ci\",\"type\":\"dev.cdevents.service." pred \
	".0.3.0\",\"timestamp\":\"" ts "\",\"chainId\":\"" chain "\"},\"subject\":{\"id\":\"" svc           \
	"\",\"content\":{\"environment\":{\"id\":\"" env "\"},\"artifactId\":\"" art "\"}}}"
#define REMOVED(ts, svc, env)                                                                                \
	"{\"context\":{\"id\":\"rm" ts "\",\"source\":\"/ci\",\"type\":\"dev.cdevents.service.removed.0.3.0\"," \
	"\"timestamp\":\"" ts "\"},\"subject\":{\"id\":\"" svc "\",\"content\":{\"environment\":{\"id\":\"" env \
	"\"}}}}"

static cJSON *answer(const struct table_row *rows, size_t n, const char *env)
{
	struct table_source t = { .rows = rows, .n = n };
	struct cde_audit_source src = table_source(&t);
	cJSON *out = NULL;

	assert_int_equal(cde_answer_environment(&src, env, &out), 0);
	assert_non_null(out);
	assert_int_equal(t.queries, 1);
	return out;
}

static const cJSON *service_at(const cJSON *out, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "services"), i);
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void a_deployment_replaces_the_one_before(void **state)
{
	static const struct table_row rows[] = {
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c1"), "jenkins" },
		{ SVC("deployed", "2026-11-02T10:00:00Z", "shop/api", "stage", "pkg:oci/api@v3", "c3"), "jenkins" },
		{ SVC("upgraded", "2026-11-03T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v2", "c2"), "tekton" },
	};
	cJSON *out = answer(rows, 3, "prod");
	const cJSON *api = service_at(out, 0), *prev = cJSON_GetObjectItemCaseSensitive(api, "previous");

	(void)state;
	assert_string_equal(str(out, "environment"), "prod");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "services")), 1);
	assert_string_equal(str(api, "service"), "shop/api");
	assert_string_equal(str(api, "artifactId"), "pkg:oci/api@v2");
	assert_string_equal(str(api, "since"), "2026-11-03T10:00:00Z");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(api, "seq")->valuedouble, 3);
	assert_string_equal(str(api, "chainId"), "c2");
	assert_string_equal(str(api, "principal"), "tekton");
	assert_string_equal(str(api, "change"), "upgraded");
	assert_string_equal(str(prev, "artifactId"), "pkg:oci/api@v1");
	assert_string_equal(str(prev, "principal"), "jenkins");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(prev, "seq")->valuedouble, 1);
	cJSON_Delete(out);
}

/* The service runs what it rolled back to; the one before is what it
 * left, the next rollback target. */
static void a_rollback_puts_the_old_artifact_back(void **state)
{
	static const struct table_row rows[] = {
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c1"), NULL },
		{ SVC("deployed", "2026-11-03T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v2", "c2"), NULL },
		{ SVC("rolledback", "2026-11-03T11:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c2"), "oncall" },
	};
	cJSON *out = answer(rows, 3, "prod");
	const cJSON *api = service_at(out, 0), *prev = cJSON_GetObjectItemCaseSensitive(api, "previous");

	(void)state;
	assert_string_equal(str(api, "artifactId"), "pkg:oci/api@v1");
	assert_string_equal(str(api, "change"), "rolledback");
	assert_string_equal(str(api, "since"), "2026-11-03T11:00:00Z");
	assert_string_equal(str(api, "principal"), "oncall");
	assert_string_equal(str(prev, "artifactId"), "pkg:oci/api@v2");
	cJSON_Delete(out);
}

static void a_removed_service_is_gone_and_others_stay(void **state)
{
	static const struct table_row rows[] = {
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/web", "prod", "pkg:oci/web@v1", "w1"), NULL },
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c1"), NULL },
		{ REMOVED("2026-11-02T10:00:00Z", "shop/web", "prod"), NULL },
		{ SVC("deployed", "2026-11-02T11:00:00Z", "billing", "prod", "pkg:oci/bill@v1", "b1"), NULL },
	};
	cJSON *out = answer(rows, 4, "prod");

	(void)state;
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "services")), 2);
	assert_string_equal(str(service_at(out, 0), "service"), "billing");
	assert_string_equal(str(service_at(out, 1), "service"), "shop/api");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(service_at(out, 1), "previous")));
	cJSON_Delete(out);
}

/* Events posted late count when they happened, not when received; the
 * same artifact deployed again has been running since the first time. */
static void what_happened_first_counts_first(void **state)
{
	static const struct table_row rows[] = {
		{ SVC("deployed", "2026-11-05T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v3", "c3"), NULL },
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v1", "c1"), NULL },
		{ SVC("deployed", "2026-11-03T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v2", "c2"), NULL },
		{ SVC("deployed", "2026-11-06T10:00:00Z", "shop/api", "prod", "pkg:oci/api@v3", "c3"), NULL },
	};
	cJSON *out = answer(rows, 4, "prod");
	const cJSON *api = service_at(out, 0);

	(void)state;
	assert_string_equal(str(api, "artifactId"), "pkg:oci/api@v3");
	assert_string_equal(str(api, "since"), "2026-11-05T10:00:00Z");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(api, "previous"), "artifactId"), "pkg:oci/api@v2");
	cJSON_Delete(out);
}

static void an_empty_environment_has_no_services(void **state)
{
	static const struct table_row rows[] = {
		{ SVC("deployed", "2026-11-01T10:00:00Z", "shop/api", "stage", "pkg:oci/api@v1", "c1"), NULL },
		{ "not json", NULL },
	};
	cJSON *out = answer(rows, 2, "prod");

	(void)state;
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "services")), 0);
	cJSON_Delete(out);
}

static int failing_query(void *ctx, const struct cde_audit_filter *f, cde_audit_record_fn fn, void *fn_ctx)
{
	return -ENOTCONN;
}

static void a_lost_database_is_reported(void **state)
{
	struct cde_audit_source src = { .query = failing_query };
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(cde_answer_environment(&src, "prod", &out), -ENOTCONN);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_deployment_replaces_the_one_before),
		cmocka_unit_test(a_rollback_puts_the_old_artifact_back),
		cmocka_unit_test(a_removed_service_is_gone_and_others_stay),
		cmocka_unit_test(what_happened_first_counts_first),
		cmocka_unit_test(an_empty_environment_has_no_services),
		cmocka_unit_test(a_lost_database_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
