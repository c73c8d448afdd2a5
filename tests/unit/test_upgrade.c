/* Upgrading events of the older releases to spec 0.5.1: every official
 * example (0.3.0, 0.4.1) and an event of every type built from each
 * release's schemas (0.1.2, 0.2.0 have no examples) comes out a valid 0.5.1
 * event, and the notes name exactly what was dropped or changed, by its
 * pointer in the event as received. (tests/js/integration/upgrade.mjs
 * checks what the daemon delivers with ajv on the official schemas.) */

#include "tests/unit/helpers.h"

#include <dirent.h>

#include "events/upgrade.h"
#include "schemas/validate.h"

static void assert_valid_0_5_1(const cJSON *doc)
{
	struct cde_errors errs;
	const struct cde_spec *spec = NULL;

	cde_errors_reset(&errs);
	if (cde_validate(cat, doc, &spec, &errs) != 0) {
		char *text = cJSON_PrintUnformatted(doc);

		print_message("%s\n", text);
		free(text);
		print_errors(&errs);
		fail_msg("the upgraded event is not valid");
	}
	assert_string_equal(spec->version, "0.5.1");
}

static const char *str_at(const cJSON *doc, const char *a, const char *b)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, a), b));
}

/* The notes' pointers, "p1 p2 ...", in order. */
static const char *pointers(const struct cde_errors *errs)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < errs->count; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", errs->items[i].pointer);
	return buf;
}

/* The dropped pointers but a schemaUri, which always goes (it names a
 * schema of the old shape). */
static const char *dropped_besides_schema_uri(const struct cde_upgrade_notes *notes)
{
	static const char prefix[] = "/context/schemaUri";
	const char *all = pointers(&notes->dropped);

	if (memcmp(all, prefix, strnlen(all, sizeof(prefix) - 1)) == 0 && strlen(all) >= sizeof(prefix) - 1)
		all += sizeof(prefix) - 1 + (all[sizeof(prefix) - 1] == ' ');
	return all;
}

#define OLD_CTX(version, type) \
	"{\"context\": {\"version\": \"" version "\", \"id\": \"e-1\", \"source\": \"/jenkins\", " \
	"\"type\": \"" type "\", \"timestamp\": \"2023-01-01T00:00:00Z\"}, "

static void the_jenkins_plugins_pipeline_run_becomes_a_0_5_1_pipeline_run(void **state)
{
	cJSON *old = json(OLD_CTX("0.1.2", "dev.cdevents.pipelinerun.started.0.1.0")
			  "\"subject\": {\"id\": \"job/etl/7\", \"type\": \"pipelineRun\", "
			  "\"content\": {\"pipelineName\": \"etl\", \"url\": \"https://jenkins.example/job/etl/7\"}}, "
			  "\"customData\": {\"node\": \"agent-3\"}}");
	char *before = cJSON_PrintUnformatted(old), *after;
	struct cde_upgrade_notes notes;
	cJSON *up = NULL;

	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_string_equal(str_at(up, "context", "specversion"), "0.5.1");
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(up, "context"), "version"));
	assert_string_equal(str_at(up, "context", "type"), "dev.cdevents.pipelinerun.started.0.3.0");
	assert_string_equal(str_at(up, "context", "id"), "e-1");
	assert_string_equal(str_at(up, "context", "source"), "/jenkins");
	assert_string_equal(str_at(up, "context", "timestamp"), "2023-01-01T00:00:00Z");
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(up, "subject"), "type"));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(up, "subject"), "content"), "uri")),
		"https://jenkins.example/job/etl/7");
	assert_string_equal(str_at(up, "customData", "node"), "agent-3");
	assert_string_equal(pointers(&notes.dropped), "");
	assert_string_equal(pointers(&notes.changed), "/subject/type /subject/content/url");
	/* The original is untouched: the audit log and other sinks keep it. */
	after = cJSON_PrintUnformatted(old);
	assert_string_equal(before, after);
	free(before);
	free(after);
	cJSON_Delete(up);
	cJSON_Delete(old);
}

static void a_url_0_5_1_refuses_is_dropped_when_optional_and_refused_when_required(void **state)
{
	struct cde_upgrade_notes notes;
	cJSON *old = json(OLD_CTX("0.2.0", "dev.cdevents.pipelinerun.queued.0.1.1")
			  "\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", "
			  "\"content\": {\"pipelineName\": \"etl\", \"url\": \"job/etl/7\"}}}");
	cJSON *up = NULL;

	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_string_equal(pointers(&notes.dropped), "/subject/content/url");
	assert_true(has_error(&notes.dropped, "/subject/content/url", "0.5.1 refuses it"));
	cJSON_Delete(up);
	cJSON_Delete(old);

	old = json(OLD_CTX("0.1.2", "dev.cdevents.pipelinerun.started.0.1.0")
		   "\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", "
		   "\"content\": {\"pipelineName\": \"etl\", \"url\": \"job/etl/7\"}}}");
	up = NULL;
	assert_int_equal(cde_upgrade(cat, old, &up, &notes), -EINVAL);
	assert_null(up);
	assert_non_null(strstr(notes.refusal, "0.5.1 requires /subject/content/url"));
	cJSON_Delete(old);
}

static void outcomes_take_their_0_5_1_words_and_others_are_dropped(void **state)
{
	struct cde_upgrade_notes notes;
	cJSON *old = json(OLD_CTX("0.1.2", "dev.cdevents.pipelinerun.finished.0.1.0")
			  "\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", \"content\": {\"outcome\": \"SUCCESS\"}}}");
	cJSON *up = NULL;

	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_true(has_error(&notes.changed, "/subject/content/outcome", "\"SUCCESS\" is now \"success\""));
	cJSON_Delete(up);
	cJSON_Delete(old);

	old = json(OLD_CTX("0.1.2", "dev.cdevents.pipelinerun.finished.0.1.0")
		   "\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", \"content\": {\"outcome\": \"UNSTABLE\"}}}");
	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_string_equal(pointers(&notes.dropped), "/subject/content/outcome");
	cJSON_Delete(up);
	cJSON_Delete(old);

	old = json("{\"context\": {\"version\": \"0.3.0\", \"id\": \"t\", \"source\": \"/ci\", "
		   "\"type\": \"dev.cdevents.testcaserun.finished.0.1.0\", \"timestamp\": \"2023-01-01T00:00:00Z\"}, "
		   "\"subject\": {\"id\": \"t\", \"type\": \"testCaseRun\", "
		   "\"content\": {\"outcome\": \"pass\", \"environment\": {\"id\": \"dev\"}}}}");
	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(up, "subject"), "content", "outcome"), "success");
	assert_string_equal(pointers(&notes.dropped), "");
	cJSON_Delete(up);
	cJSON_Delete(old);
}

static void types_0_5_1_no_longer_has_and_0_5_1_events_are_not_upgraded(void **state)
{
	struct cde_upgrade_notes notes;
	cJSON *old = json(OLD_CTX("0.2.0", "dev.cdevents.testcase.started.0.1.1")
			  "\"subject\": {\"id\": \"t\", \"type\": \"testCase\", \"content\": {}}}");
	cJSON *up = NULL;

	assert_int_equal(cde_upgrade(cat, old, &up, &notes), -ENOTSUP);
	assert_non_null(strstr(notes.refusal, "dev.cdevents.testcase.started.0.1.1 has no 0.5.1 counterpart"));
	assert_non_null(strstr(notes.refusal, "testcaserun"));
	cJSON_Delete(old);

	old = json("{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\", "
		   "\"type\": \"dev.cdevents.build.queued.0.3.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
		   "\"subject\": {\"id\": \"b\", \"content\": {}}}");
	assert_int_equal(cde_upgrade(cat, old, &up, &notes), -EALREADY);
	assert_null(up);
	cJSON_Delete(old);
}

/* Upgrades @old (valid in its own release); returns the result. */
static int upgrade_checked(cJSON *old, const char *what, struct cde_upgrade_notes *notes)
{
	cJSON *up = NULL;
	int r = cde_upgrade(cat, old, &up, notes);

	if (r == 0)
		assert_valid_0_5_1(up);
	else if (r != -ENOTSUP)
		fail_msg("%s: %d %s", what, r, notes->refusal);
	cJSON_Delete(up);
	return r;
}

static void every_official_example_of_0_3_0_and_0_4_1_upgrades(void **state)
{
	const char *versions[] = { "v0.3.0", "v0.4.1" };

	for (size_t v = 0; v < 2; v++) {
		char dir[1024];
		struct dirent *de;
		size_t n = 0;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s/conformance", spec_dir(), versions[v]);
		assert_non_null(d = opendir(dir));
		while ((de = readdir(d))) {
			char path[2048];
			struct cde_upgrade_notes notes;

			if (!strstr(de->d_name, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			cJSON *old = read_json_file(path);

			assert_int_equal(upgrade_checked(old, path, &notes), 0);
			/* The examples' values all have a place in 0.5.1. */
			if (*dropped_besides_schema_uri(&notes))
				fail_msg("%s: dropped %s", path, pointers(&notes.dropped));
			cJSON_Delete(old);
			n++;
		}
		closedir(d);
		assert_int_equal(n, v == 0 ? 39 : 45);
	}
}

/* A value for every field of @node: the first enum value, a time, or a
 * URL (valid as free text, uri-reference and uri alike). */
static cJSON *fill(const struct cde_node *node, const char *type_name)
{
	cJSON *o;

	switch (node->kind) {
	case CDE_NODE_OBJECT:
		o = cJSON_CreateObject();
		for (size_t i = 0; i < node->n_fields; i++)
			cJSON_AddItemToObject(o, node->fields[i].name, fill(node->fields[i].node, type_name));
		return o;
	case CDE_NODE_ARRAY:
		o = cJSON_CreateArray();
		cJSON_AddItemToArray(o, fill(node->items, type_name));
		return o;
	case CDE_NODE_ANY_OF:
	case CDE_NODE_ONE_OF:
		return fill(node->alts[0], type_name);
	case CDE_NODE_SLOT_TYPE:
		return cJSON_CreateString(type_name);
	case CDE_NODE_NUMBER:
	case CDE_NODE_INTEGER:
		return cJSON_CreateNumber(1);
	case CDE_NODE_BOOLEAN:
		return cJSON_CreateTrue();
	case CDE_NODE_NULL:
		return cJSON_CreateNull();
	default:
		break;
	}
	if (node->n_enum)
		return cJSON_CreateString(node->enum_values[0]);
	if (node->format == CDE_FORMAT_DATE_TIME)
		return cJSON_CreateString("2023-04-05T06:07:08Z");
	return cJSON_CreateString("https://ci.example/v");
}

/* An event of @t with every field of its release filled. */
static cJSON *full_event(const struct cde_spec *spec, const struct cde_event_type *t)
{
	cJSON *doc = cJSON_CreateObject(), *ctx = fill(t->context, t->name);

	cJSON_ReplaceItemInObjectCaseSensitive(ctx, spec->version_field, cJSON_CreateString(spec->version));
	cJSON_AddItemToObject(doc, "context", ctx);
	cJSON_AddItemToObject(doc, "subject", fill(t->subject, t->name));
	return doc;
}

static void every_type_of_every_older_release_upgrades_or_is_refused_by_name(void **state)
{
	for (size_t i = 0; i < cde_catalog_spec_count(cat); i++) {
		const struct cde_spec *spec = cde_catalog_spec_at(cat, i);
		size_t refused = 0;

		if (strcmp(spec->version, "0.5.1") == 0)
			continue;
		for (size_t k = 0; k < spec->n_types; k++) {
			const struct cde_event_type *t = &spec->types[k];
			cJSON *old = full_event(spec, t);
			struct cde_upgrade_notes notes;
			struct cde_errors errs;

			cde_errors_reset(&errs);
			if (cde_validate(cat, old, NULL, &errs) != 0) {
				print_errors(&errs);
				fail_msg("%s %s: the built event is not valid in its release", spec->version, t->name);
			}
			if (upgrade_checked(old, t->name, &notes) != 0) {
				/* Only the test case and test suite events 0.3.0 replaced. */
				assert_true(strncmp(t->name, "dev.cdevents.testcase.", 22) == 0 ||
					    strncmp(t->name, "dev.cdevents.testsuite.", 23) == 0);
				refused++;
			} else if (strstr(t->name, ".pipelinerun.finished.")) {
				/* A free-text outcome 0.5.1's enum does not hold. */
				assert_string_equal(dropped_besides_schema_uri(&notes), "/subject/content/outcome");
			} else if (*dropped_besides_schema_uri(&notes)) {
				fail_msg("%s %s: dropped %s", spec->version, t->name, pointers(&notes.dropped));
			}
			cJSON_Delete(old);
		}
		assert_int_equal(refused, strcmp(spec->version, "0.3.0") < 0 ? 5 : 0);
	}
}

static void a_0_4_1_custom_event_keeps_its_type_and_loses_its_subject_type(void **state)
{
	char path[1024];
	struct cde_upgrade_notes notes;
	cJSON *old, *up = NULL;

	snprintf(path, sizeof(path), "%s/v0.4.1/custom/conformance.json", spec_dir());
	old = read_json_file(path);
	/* The upstream slip the shared README describes: its shape is 0.4.1's. */
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(old, "context"), "version",
					       cJSON_CreateString("0.4.1"));
	assert_int_equal(cde_upgrade(cat, old, &up, &notes), 0);
	assert_valid_0_5_1(up);
	assert_string_equal(str_at(up, "context", "type"), str_at(old, "context", "type"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(up, "context"), "schemaUri"));
	assert_string_equal(pointers(&notes.changed), "/subject/type");
	assert_string_equal(pointers(&notes.dropped), "/context/schemaUri");
	cJSON_Delete(up);
	cJSON_Delete(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_jenkins_plugins_pipeline_run_becomes_a_0_5_1_pipeline_run),
		cmocka_unit_test(a_url_0_5_1_refuses_is_dropped_when_optional_and_refused_when_required),
		cmocka_unit_test(outcomes_take_their_0_5_1_words_and_others_are_dropped),
		cmocka_unit_test(types_0_5_1_no_longer_has_and_0_5_1_events_are_not_upgraded),
		cmocka_unit_test(every_official_example_of_0_3_0_and_0_4_1_upgrades),
		cmocka_unit_test(every_type_of_every_older_release_upgrades_or_is_refused_by_name),
		cmocka_unit_test(a_0_4_1_custom_event_keeps_its_type_and_loses_its_subject_type),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
