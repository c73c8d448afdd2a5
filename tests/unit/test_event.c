/* The event model: building, reading, changing and serializing CDEvents. */

#include "tests/unit/helpers.h"

#include <ctype.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events/event.h"
#include "events/example.h"
#include "events/ids.h"
#include "events/limits.h"
#include "schemas/formats.h"
#include "schemas/validate.h"

static void assert_valid(const struct cde_event *ev)
{
	struct cde_errors errs;

	cde_errors_reset(&errs);
	if (cde_validate(cat, cde_event_json(ev), NULL, &errs) != 0) {
		print_errors(&errs);
		fail_msg("event is not valid");
	}
}

/* Ids come from a per-thread buffer of kernel randomness: a forked child
 * must not hand out the random bits its parent is about to. Only those
 * are compared (from the variant's byte on: "xxx-xxxxxxxxxxxx"): the
 * leading time bits differ between any two calls anyway. */
static void a_forked_child_never_repeats_the_parents_ids(void **state)
{
	char mine[4][CDE_UUID_STR_LEN], theirs[4][CDE_UUID_STR_LEN];
	int fds[2], status;
	pid_t pid;

	(void)state;
	cde_uuid_v7(mine[0]); /* the buffer is filled */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 4; i++)
			cde_uuid_v7(theirs[i]);
		_exit(write(fds[1], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs) ? 0 : 1);
	}
	for (int i = 0; i < 4; i++)
		cde_uuid_v7(mine[i]);
	assert_int_equal(read(fds[0], theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			assert_string_not_equal(mine[i] + 20, theirs[k] + 20);
	close(fds[0]);
	close(fds[1]);
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The first 48 bits of a v7 id are its Unix milliseconds. */
static uint64_t id_millis(const char *id)
{
	char hex[13];

	memcpy(hex, id, 8);
	memcpy(hex + 8, id + 9, 4);
	hex[12] = 0;
	return strtoull(hex, NULL, 16);
}

static void ids_are_distinct_v7_uuids_in_the_order_made(void **state)
{
	enum { N = 10000 };
	char (*ids)[CDE_UUID_STR_LEN] = malloc(N * CDE_UUID_STR_LEN);
	struct timespec before, after;

	(void)state;
	assert_non_null(ids);
	clock_gettime(CLOCK_REALTIME, &before);
	for (int i = 0; i < N; i++) {
		cde_uuid_v7(ids[i]);
		assert_int_equal(ids[i][14], '7');
		assert_non_null(strchr("89ab", ids[i][19]));
		if (i > 0)
			assert_true(id_millis(ids[i - 1]) <= id_millis(ids[i]));
	}
	clock_gettime(CLOCK_REALTIME, &after);
	assert_true(id_millis(ids[0]) >= (uint64_t)before.tv_sec * 1000 + (uint64_t)before.tv_nsec / 1000000);
	assert_true(id_millis(ids[N - 1]) <= (uint64_t)after.tv_sec * 1000 + (uint64_t)after.tv_nsec / 1000000);
	qsort(ids, N, CDE_UUID_STR_LEN, compare_ids);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	free(ids);
}

static void ids_are_uuid_v7_and_timestamps_rfc3339_microseconds(void **state)
{
	char a[CDE_UUID_STR_LEN], b[CDE_UUID_STR_LEN], ts[CDE_TIMESTAMP_STR_LEN];
	struct timespec t = { .tv_sec = 1700000000, .tv_nsec = 123456789 };

	cde_uuid_v7(a);
	cde_uuid_v7(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '7');				/* version 7 */
	assert_non_null(strchr("89ab", a[19]));			/* RFC 4122 variant */
	for (const char *p = a; *p; p++)
		assert_true(*p == '-' || isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f'));

	assert_int_equal(cde_timestamp_format(&t, ts), 0);
	assert_string_equal(ts, "2023-11-14T22:13:20.123456Z");
	assert_int_equal(cde_timestamp_now(ts), 0);
	assert_true(cde_format_is_date_time(ts));
	assert_int_equal(strlen(ts), 27);
}

static void *format_second_before_epoch(void *out)
{
	struct timespec t = { .tv_sec = -1, .tv_nsec = 0 };

	return cde_timestamp_format(&t, out) == 0 ? out : NULL;
}

/* Each thread keeps the calendar of the last second it formatted: no
 * second, -1 included, may pass for "none kept yet". */
static void a_threads_first_timestamp_is_any_second(void **state)
{
	char ts[CDE_TIMESTAMP_STR_LEN];
	pthread_t th;
	void *ok;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, format_second_before_epoch, ts), 0);
	assert_int_equal(pthread_join(th, &ok), 0);
	assert_non_null(ok);
	assert_string_equal(ts, "1969-12-31T23:59:59.000000Z");
}

static void a_new_event_is_valid_v051_with_fresh_id_and_time(void **state)
{
	const struct cde_spec *spec = cde_catalog_newest(cat);
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_new(spec, "dev.cdevents.build.started.0.3.0", "/jenkins/job/etl",
				       "etl-build-42", &ev), 0);
	assert_string_equal(cde_event_spec_version(ev), "0.5.1");
	assert_int_equal(strlen(cde_event_id(ev)), 36);
	assert_string_equal(cde_event_source(ev), "/jenkins/job/etl");
	assert_string_equal(cde_event_type(ev), "dev.cdevents.build.started.0.3.0");
	assert_true(cde_format_is_date_time(cde_event_timestamp(ev)));
	assert_string_equal(cde_event_subject_id(ev), "etl-build-42");
	assert_null(cde_event_chain_id(ev));
	assert_valid(ev);
	cde_event_unref(ev);

	assert_int_equal(cde_event_new(spec, "", "/s", "x", &ev), -EINVAL);
	assert_int_equal(cde_event_new(spec, "t", NULL, "x", &ev), -EINVAL);
}

static void setters_fill_every_optional_field(void **state)
{
	const struct cde_spec *spec = cde_catalog_newest(cat);
	struct cde_event *ev = NULL;
	cJSON *content;

	assert_int_equal(cde_event_new(spec, "dev.cdevents.service.deployed.0.3.0", "/tekton/spark",
				       "etl-job", &ev), 0);
	content = cde_event_content(ev);
	assert_non_null(content);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(content, "environment"), "id", "prod");
	cJSON_AddStringToObject(content, "artifactId", "pkg:oci/etl@sha256%3Aabc");

	assert_int_equal(cde_event_set_id(ev, "fixed-id"), 0);
	assert_int_equal(cde_event_set_timestamp(ev, "2025-01-31T12:00:00.000001Z"), 0);
	assert_int_equal(cde_event_set_chain_id(ev, "release-7"), 0);
	assert_int_equal(cde_event_set_schema_uri(ev, "https://example.com/schema"), 0);
	assert_int_equal(cde_event_set_subject_source(ev, "/k8s/spark"), 0);
	assert_int_equal(cde_event_add_link(ev, CDE_LINK_PATH, "prev-id", NULL, NULL), 0);
	assert_int_equal(cde_event_add_link(ev, CDE_LINK_RELATION, "art-id", "ARTIFACT",
					    json("{\"why\": \"built from\"}")), 0);
	assert_int_equal(cde_event_add_link(ev, CDE_LINK_END, "first", NULL, NULL), 0);
	assert_int_equal(cde_event_set_custom_data(ev, json("{\"sizing\": {\"fits\": true}}"),
						   "application/json"), 0);
	assert_valid(ev);

	assert_string_equal(cde_event_id(ev), "fixed-id");
	assert_string_equal(cde_event_chain_id(ev), "release-7");
	assert_string_equal(cde_event_schema_uri(ev), "https://example.com/schema");
	assert_string_equal(cde_event_subject_source(ev), "/k8s/spark");

	/* Optional fields can be removed again; required ones cannot. */
	assert_int_equal(cde_event_set_chain_id(ev, NULL), 0);
	assert_null(cde_event_chain_id(ev));
	assert_int_equal(cde_event_set_id(ev, ""), -EINVAL);
	assert_int_equal(cde_event_set_source(ev, NULL), -EINVAL);
	assert_int_equal(cde_event_add_link(ev, CDE_LINK_RELATION, "x", NULL, NULL), -EINVAL);
	assert_int_equal(cde_event_set_custom_data(ev, cJSON_CreateNumber(1), NULL), -EINVAL);
	assert_valid(ev);
	cde_event_unref(ev);
}

static void serializes_and_parses_back_to_the_same_document(void **state)
{
	const struct cde_spec *spec = cde_catalog_newest(cat);
	struct cde_event *ev = NULL, *back = NULL;
	struct cde_errors errs;
	char *text;

	assert_int_equal(cde_event_new(spec, "dev.cdevents.build.finished.0.3.0", "/ci", "b1", &ev), 0);
	cJSON_AddStringToObject(cde_event_content(ev), "artifactId", "pkg:generic/etl@1.0 \"é\"");
	text = cde_event_to_json(ev);
	assert_non_null(text);
	cde_errors_reset(&errs);
	assert_int_equal(cde_event_parse(text, strlen(text), &back, &errs), 0);
	assert_true(cJSON_Compare(cde_event_json(ev), cde_event_json(back), true));
	free(text);
	cde_event_unref(back);
	cde_event_unref(ev);
}

static void keeps_v041_events_as_received(void **state)
{
	const char *text = "{\"context\": {\"version\": \"0.4.1\", \"id\": \"i\", \"source\": \"/s\", "
			   "\"type\": \"dev.cdevents.build.queued.0.2.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
			   "\"subject\": {\"id\": \"b\", \"type\": \"build\", \"content\": {}}}";
	struct cde_event *ev = NULL;
	struct cde_errors errs;
	cJSON *expected = json(text);

	cde_errors_reset(&errs);
	assert_int_equal(cde_event_parse(text, strlen(text), &ev, &errs), 0);
	assert_string_equal(cde_event_spec_version(ev), "0.4.1");
	assert_true(cJSON_Compare(cde_event_json(ev), expected, true));
	assert_valid(ev);
	cJSON_Delete(expected);
	cde_event_unref(ev);

	assert_int_equal(cde_event_parse("[]", 2, &ev, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "must be a JSON object"));
}

static void references_keep_an_event_alive(void **state)
{
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.build.queued.0.3.0", "/s",
				       "b", &ev), 0);
	assert_ptr_equal(cde_event_ref(ev), ev);
	assert_null(cde_event_unref(ev));
	assert_string_equal(cde_event_subject_id(ev), "b"); /* still alive */
	assert_null(cde_event_unref(ev));
	assert_null(cde_event_unref(NULL));
}

static void builds_a_valid_event_of_every_type(void **state)
{
	for (size_t s = 0; s < cde_catalog_spec_count(cat); s++) {
		const struct cde_spec *spec = cde_catalog_spec_at(cat, s);

		for (size_t i = 0; i < spec->n_types; i++) {
			struct cde_event *ev = NULL;

			assert_int_equal(cde_event_new_example(spec, &spec->types[i], "/test", "subj", &ev), 0);
			assert_string_equal(cde_event_type(ev), spec->types[i].name);
			assert_valid(ev);
			cde_event_unref(ev);
		}
	}
}

static void times_read_as_instants_whatever_their_offset(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "2025-01-31T04:00:00+02:00", "2025-01-31T02:00:00.000000Z" },
		{ "2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000000Z" },
		{ "2025-01-31", "2025-01-31T00:00:00.000000Z" },
		{ "2025-01-31t04:00:00z", "2025-01-31T04:00:00.000000Z" },
		{ "2025-01-31T04:00:00.5Z", "2025-01-31T04:00:00.500000Z" },
		/* Finer than the stored microseconds: rounded up, so that
		 * ">= since" and "< until" keep their meaning. */
		{ "2025-01-31T04:00:00.1234561Z", "2025-01-31T04:00:00.123457Z" },
		{ "2025-01-31T04:00:00.123456000000Z", "2025-01-31T04:00:00.123456Z" },
		{ "2025-01-31T04:00:00.1234560000001Z", "2025-01-31T04:00:00.123457Z" },
		{ "2025-01-31T23:59:59.9999999Z", "2025-02-01T00:00:00.000000Z" },
		{ "2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000000Z" },
		{ "2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000000Z" },
	};
	static const char *const bad[] = {
		"garbage", "", "2025-01-31T04:00:00", "2025-02-30", "2023-02-29T00:00:00Z",
		"2025-01-31T25:00:00Z", "2025-01-31T04:60:00Z", "2025-01-31T04:00:61Z", "2025-1-31T04:00:00Z",
		" 2025-01-31T04:00:00Z", "2025-01-31T04:00:00+0200", "2025-01-31T04:00:00+24:00",
		"2025-01-31T04:00:00.Z", "2025-01-31T04:00:00Zjunk", "2025-01", "2025-01-31 04:00:00Z",
		"2025-13-01", "2025-00-10", "0000-01-01T00:00:00+01:00", "+2025-01-31",
	};
	char out[CDE_TIMESTAMP_STR_LEN];
	struct timespec ts;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cde_timestamp_canonical(good[i].in, out) != 0)
			fail_msg("%s refused", good[i].in);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cde_timestamp_canonical(bad[i], out) != -EINVAL)
			fail_msg("%s accepted as %s", bad[i], out);
	assert_int_equal(cde_timestamp_read("2023-11-14T23:13:20.123456789+01:00", &ts), 0);
	assert_int_equal(ts.tv_sec, 1700000000);
	assert_int_equal(ts.tv_nsec, 123456789);
	assert_int_equal(cde_timestamp_read("2025-01-31", &ts), -EINVAL); /* a date is not an instant */
	assert_true(cde_timestamp_parse("2023-11-14T22:13:20.5Z") == 1700000000.5);
	assert_true(cde_timestamp_parse("2023-11-15T00:13:20+02:00") == 1700000000);
	assert_true(cde_timestamp_parse("nope") == -1);
	assert_true(cde_timestamp_parse(NULL) == -1);
}

static void limits_ids_names_and_sources_in_bytes(void **state)
{
	char id[CDE_EVENT_ID_MAX + 2], source[CDE_EVENT_SOURCE_MAX + 2];
	struct cde_errors errs;
	cJSON *doc;

	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	memset(source, 's', sizeof(source) - 1);
	source[sizeof(source) - 1] = '\0';
	doc = json("{\"context\": {\"id\": \"x\", \"source\": \"/s\", \"links\": [{\"from\": {\"contextId\": \"y\"}}]},"
		   " \"subject\": {\"id\": \"b\", \"content\": {\"environment\": {\"id\": \"e\"}, \"taskName\": \"t\"}},"
		   " \"customData\": {\"id\": \"anything\"}}");
	cde_errors_reset(&errs);
	assert_int_equal(cde_event_check_lengths(doc, &errs), 0);

	/* At the limit: accepted. */
	id[CDE_EVENT_ID_MAX] = '\0';
	source[CDE_EVENT_SOURCE_MAX] = '\0';
	cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
	cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "subject"), "content");

	cJSON_ReplaceItemInObjectCaseSensitive(ctx, "id", cJSON_CreateString(id));
	cJSON_ReplaceItemInObjectCaseSensitive(ctx, "source", cJSON_CreateString(source));
	cJSON_AddStringToObject(ctx, "chainId", id);
	assert_int_equal(cde_event_check_lengths(doc, &errs), 0);

	/* One byte past: refused, each field named. */
	id[CDE_EVENT_ID_MAX] = 'i';
	source[CDE_EVENT_SOURCE_MAX] = 's';
	cJSON_ReplaceItemInObjectCaseSensitive(ctx, "chainId", cJSON_CreateString(id));
	cJSON_ReplaceItemInObjectCaseSensitive(ctx, "source", cJSON_CreateString(source));
	cJSON_AddStringToObject(content, "artifactId", id);
	cJSON_ReplaceItemInObjectCaseSensitive(content, "taskName", cJSON_CreateString(id));
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(content, "environment"), "source", source);
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(doc, "customData"), "chainId", id);
	assert_int_equal(cde_event_check_lengths(doc, &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/chainId", "at most 512 bytes"));
	assert_true(has_error(&errs, "/context/source", "at most 1024 bytes"));
	assert_true(has_error(&errs, "/subject/content/artifactId", "at most 512 bytes"));
	assert_true(has_error(&errs, "/subject/content/taskName", "at most 512 bytes"));
	assert_true(has_error(&errs, "/subject/content/environment/source", "at most 1024 bytes"));
	assert_int_equal(errs.count, 5); /* customData is the sender's own */
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_are_uuid_v7_and_timestamps_rfc3339_microseconds),
		cmocka_unit_test(ids_are_distinct_v7_uuids_in_the_order_made),
		cmocka_unit_test(a_forked_child_never_repeats_the_parents_ids),
		cmocka_unit_test(a_threads_first_timestamp_is_any_second),
		cmocka_unit_test(a_new_event_is_valid_v051_with_fresh_id_and_time),
		cmocka_unit_test(setters_fill_every_optional_field),
		cmocka_unit_test(serializes_and_parses_back_to_the_same_document),
		cmocka_unit_test(keeps_v041_events_as_received),
		cmocka_unit_test(references_keep_an_event_alive),
		cmocka_unit_test(builds_a_valid_event_of_every_type),
		cmocka_unit_test(times_read_as_instants_whatever_their_offset),
		cmocka_unit_test(limits_ids_names_and_sources_in_bytes),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
