/* The validator: every official conformance example is valid, and each
 * kind of mistake is reported at its JSON pointer with a reason a user can
 * act on. (tests/js/agreement.mjs checks thousands of mutations against
 * ajv on the official schemas.) */

#include "tests/unit/helpers.h"

#include <dirent.h>

#include "schemas/validate.h"

static int validate_text(const char *text, struct cde_errors *errs)
{
	cJSON *doc = json(text);
	int r;

	cde_errors_reset(errs);
	r = cde_validate(cat, doc, NULL, errs);
	cJSON_Delete(doc);
	return r;
}

static size_t validate_conformance_dir(const char *version, size_t *ret_failed)
{
	char dir[1024];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s/conformance", spec_dir(), version);
	d = opendir(dir);
	assert_non_null(d);
	*ret_failed = 0;
	while ((de = readdir(d))) {
		char path[2048];
		struct cde_errors errs;
		const struct cde_spec *spec = NULL;

		if (!strstr(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cJSON *doc = read_json_file(path);

		cde_errors_reset(&errs);
		if (cde_validate(cat, doc, &spec, &errs) != 0) {
			print_message("%s:\n", path);
			print_errors(&errs);
			(*ret_failed)++;
		} else {
			assert_string_equal(spec->version, version + 1);
		}
		cJSON_Delete(doc);
		n++;
	}
	closedir(d);
	return n;
}

static void every_conformance_example_is_valid(void **state)
{
	size_t failed;

	assert_int_equal(validate_conformance_dir("v0.5.1", &failed), 45);
	assert_int_equal(failed, 0);
	assert_int_equal(validate_conformance_dir("v0.4.1", &failed), 45);
	assert_int_equal(failed, 0);
	assert_int_equal(validate_conformance_dir("v0.3.0", &failed), 39);
	assert_int_equal(failed, 0);
}

#define CTX(extra) \
	"{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\", " \
	"\"type\": \"dev.cdevents.service.deployed.0.3.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"" extra "}, "
#define DEPLOYED_SUBJECT \
	"\"subject\": {\"id\": \"svc\", \"content\": {\"environment\": {\"id\": \"prod\"}, \"artifactId\": \"pkg:oci/app\"}}"

static void accepts_a_minimal_event(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(CTX("") DEPLOYED_SUBJECT "}", &errs), 0);
	assert_true(cde_errors_empty(&errs));
}

static void reports_missing_required_fields(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(CTX("") "\"subject\": {\"id\": \"svc\", \"content\": {\"environment\": {\"id\": \"prod\"}}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/content/artifactId", "required property missing"));
	assert_int_equal(errs.count, 1);

	assert_int_equal(validate_text(CTX("") "\"subject\": {\"id\": \"svc\", \"content\": {}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/content/environment", "required property missing"));
	assert_true(has_error(&errs, "/subject/content/artifactId", "required property missing"));

	assert_int_equal(validate_text(CTX("") "\"x\": 1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject", "required property missing"));
	assert_true(has_error(&errs, "/x", "unknown property"));
}

static void reports_wrong_types_empty_strings_and_unknown_properties(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(CTX(", \"chainId\": 7") "\"subject\": {\"id\": \"\", \"content\": {\"environment\": \"prod\", \"artifactId\": \"a\", \"color\": \"red\"}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/chainId", "must be a string"));
	assert_true(has_error(&errs, "/subject/id", "must not be empty"));
	assert_true(has_error(&errs, "/subject/content/environment", "must be an object"));
	assert_true(has_error(&errs, "/subject/content/color",
			      "unknown property (allowed here: environment, artifactId)"));
	assert_int_equal(errs.count, 4);
}

static void reports_bad_enums_and_formats(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(
		"{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"not a uri ref\", "
		"\"type\": \"dev.cdevents.pipelinerun.finished.0.3.0\", \"timestamp\": \"yesterday\", \"schemaUri\": \"/rel\"}, "
		"\"subject\": {\"id\": \"run\", \"content\": {\"outcome\": \"meh\", \"uri\": \"ci/run/1\"}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/source", "must be a URI reference"));
	assert_true(has_error(&errs, "/context/timestamp", "must be an RFC 3339 date-time"));
	assert_true(has_error(&errs, "/context/schemaUri", "must be an absolute URI"));
	assert_true(has_error(&errs, "/subject/content/outcome",
			      "must be one of: success, failure, cancel, error"));
	assert_true(has_error(&errs, "/subject/content/uri", "must be an absolute URI"));
	assert_int_equal(errs.count, 5);
}

static void explains_links_by_their_closest_form(void **state)
{
	struct cde_errors errs;

	/* A PATH link without "from": the PATH form's error, not "no match". */
	assert_int_equal(validate_text(CTX(", \"links\": [{\"linkType\": \"PATH\"}]") DEPLOYED_SUBJECT "}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/links/0/from", "required property missing"));
	assert_int_equal(errs.count, 1);

	assert_int_equal(validate_text(CTX(", \"links\": [{\"linkType\": \"END\"}, {\"linkType\": \"RELATION\", \"linkKind\": \"TRIGGER\", \"target\": {\"contextId\": \"x\"}}]") DEPLOYED_SUBJECT "}", &errs), 0);

	assert_int_equal(validate_text(CTX(", \"links\": {}") DEPLOYED_SUBJECT "}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/links", "must be an array"));
}

static void custom_data_is_an_object_or_a_string(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(CTX("") DEPLOYED_SUBJECT ", \"customData\": {\"any\": [1]}}", &errs), 0);
	assert_int_equal(validate_text(CTX("") DEPLOYED_SUBJECT ", \"customData\": \"aGVsbG8=\", \"customDataContentType\": \"text/plain\"}", &errs), 0);
	assert_int_equal(validate_text(CTX("") DEPLOYED_SUBJECT ", \"customData\": 42}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/customData", "must be an object or a string"));
}

static void names_the_version_problem(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text("{\"context\": {\"specversion\": \"0.9.0\"}, \"subject\": {}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/specversion", "unsupported spec version \"0.9.0\" (supported: 0.5.1, 0.4.1, 0.3.0, 0.2.0, 0.1.2)"));

	assert_int_equal(validate_text("{\"context\": {\"id\": \"1\"}, \"subject\": {}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/specversion", "required property missing"));

	assert_int_equal(validate_text("{\"subject\": {}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context", "required property missing"));

	assert_int_equal(validate_text("[1]", &errs), -EINVAL);
	assert_true(has_error(&errs, "", "must be a JSON object"));
}

/* The README's "Version policy", row by row: a spelling is read as the
 * release whose schemas it names, and every other one is refused with the
 * version and what differs. */
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void version_policy_reads_only_releases_whose_schemas_are_loaded(void **state)
{
	static const struct {
		const char *field, *version, *release, *reason;
	} rows[] = {
		{ "specversion", "0.5.1", "0.5.1", NULL },
		{ "version", "0.4.1", "0.4.1", NULL },
		{ "version", "0.3.0", "0.3.0", NULL },
		{ "version", "0.2.0", "0.2.0", NULL },
		{ "version", "0.1.2", "0.1.2", NULL },
		{ "version", "0.1.0", NULL, "unsupported spec version \"0.1.0\": no schemas of 0.1.0 are "
		  "loaded to show they equal 0.1.2's (patch releases have changed fields): send 0.1.2" },
		{ "version", "0.4.0", NULL, "unsupported spec version \"0.4.0\": 0.4.0 named the link fields "
		  "chain_id, link_type, context_id; 0.4.1 renamed them chainId, linkType, contextId: send 0.4.1" },
		{ "specversion", "0.5.0", NULL, "unsupported spec version \"0.5.0\": no schemas of 0.5.0 are "
		  "loaded to show they equal 0.5.1's (patch releases have changed fields): send 0.5.1" },
		{ "specversion", "0.5.9", NULL, "unsupported spec version \"0.5.9\": no schemas of 0.5.9 are "
		  "loaded to show they equal 0.5.1's (patch releases have changed fields): send 0.5.1" },
		{ "version", "0.4.7", NULL, "unsupported spec version \"0.4.7\": no schemas of 0.4.7 are "
		  "loaded to show they equal 0.4.1's (patch releases have changed fields): send 0.4.1" },
		{ "specversion", "0.5.0-draft", NULL, "unsupported spec version \"0.5.0-draft\": a pre-release, "
		  "whose schemas changed from commit to commit: send a release (0.5.1, 0.4.1, 0.3.0, 0.2.0, 0.1.2)" },
		{ "version", "0.4.0-draft", NULL, "unsupported spec version \"0.4.0-draft\": a pre-release, "
		  "whose schemas changed from commit to commit: send a release (0.5.1, 0.4.1, 0.3.0, 0.2.0, 0.1.2)" },
		{ "version", "0.5.1", NULL, "unsupported spec version \"0.5.1\" in context.version: "
		  "0.5.1 events name it context.specversion" },
		{ "specversion", "0.4.1", NULL, "unsupported spec version \"0.4.1\" in context.specversion: "
		  "0.4.1 events name it context.version" },
		{ "specversion", "1.0.0", NULL, "unsupported spec version \"1.0.0\" (supported: 0.5.1, 0.4.1, 0.3.0, 0.2.0, 0.1.2)" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		cJSON *doc = json("{\"context\": {}, \"subject\": {}}");
		const struct cde_spec *spec = NULL;
		struct cde_errors errs;
		char ptr[64];

		cJSON_AddStringToObject(cJSON_GetObjectItem(doc, "context"), rows[i].field, rows[i].version);
		cde_errors_reset(&errs);
		cde_validate(cat, doc, &spec, &errs);
		snprintf(ptr, sizeof(ptr), "/context/%s", rows[i].field);
		if (rows[i].release) {
			assert_non_null(spec);
			assert_string_equal(spec->version, rows[i].release);
			assert_false(has_error(&errs, ptr, ""));
		} else {
			assert_null(spec);
			if (!has_error(&errs, ptr, rows[i].reason))
				fail_msg("%s %s: %s", rows[i].field, rows[i].version,
					 errs.count ? errs.items[0].reason : "accepted");
		}
		cJSON_Delete(doc);
	}
}

static void v041_events_are_checked_against_v041(void **state)
{
	struct cde_errors errs;
	const char *v041 =
		"{\"context\": {\"version\": \"0.4.1\", \"id\": \"1\", \"source\": \"/ci\", "
		"\"type\": \"dev.cdevents.service.deployed.0.2.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
		"\"subject\": {\"id\": \"svc\", \"content\": {\"environment\": {\"id\": \"prod\"}, \"artifactId\": \"a\"}}}";
	cJSON *doc = json(v041);
	const struct cde_spec *spec = NULL;

	cde_errors_reset(&errs);
	/* v0.4.1 subjects must say their type. */
	assert_int_equal(cde_validate(cat, doc, &spec, &errs), -EINVAL);
	assert_string_equal(spec->version, "0.4.1");
	assert_true(has_error(&errs, "/subject/type", "required property missing"));
	cJSON_Delete(doc);

	/* A v0.5.1 type name is not a v0.4.1 type. */
	assert_int_equal(validate_text(
		"{\"context\": {\"version\": \"0.4.1\", \"id\": \"1\", \"source\": \"/ci\", "
		"\"type\": \"dev.cdevents.service.deployed.0.3.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
		"\"subject\": {\"id\": \"svc\", \"type\": \"service\", \"content\": {}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/type", "unknown event type \"dev.cdevents.service.deployed.0.3.0\" in spec 0.4.1"));
}

/* The start of a spec 0.1.2 or 0.2.0 event, up to its subject. */
#define OLD_CTX(version, source, type) \
	"{\"context\": {\"version\": \"" version "\", \"id\": \"1\", \"source\": \"" source "\", " \
	"\"type\": \"" type "\", \"timestamp\": \"2023-01-01T00:00:00Z\"}, "

/* The Jenkins CDEvents plugin (sdk-java 0.1.2) and other old producers:
 * their events are checked against their own release. */
static void v012_and_v020_events_are_checked_against_their_release(void **state)
{
	struct cde_errors errs;
	const struct cde_spec *spec = NULL;
	cJSON *doc = json(
		OLD_CTX("0.1.2", "/jenkins", "dev.cdevents.pipelinerun.started.0.1.0")
		"\"subject\": {\"id\": \"job/etl/7\", \"type\": \"pipelineRun\", "
		"\"content\": {\"pipelineName\": \"etl\", \"url\": \"https://jenkins.example/job/etl/7\"}}}");

	cde_errors_reset(&errs);
	assert_int_equal(cde_validate(cat, doc, &spec, &errs), 0);
	assert_string_equal(spec->version, "0.1.2");
	cJSON_Delete(doc);

	/* 0.1.2 pipeline runs need a url; 0.3.0's type name is not 0.1.2's. */
	assert_int_equal(validate_text(
		OLD_CTX("0.1.2", "/jenkins", "dev.cdevents.pipelinerun.started.0.1.0")
		"\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", \"content\": {\"pipelineName\": \"etl\"}}}",
		&errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/content/url", "required property missing"));
	assert_int_equal(validate_text(
		OLD_CTX("0.1.2", "/jenkins", "dev.cdevents.pipelinerun.started.0.1.1")
		"\"subject\": {\"id\": \"r\", \"type\": \"pipelineRun\", \"content\": {}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/type",
			      "unknown event type \"dev.cdevents.pipelinerun.started.0.1.1\" in spec 0.1.2"));

	/* Every 0.1.2 type leaves context.source without a format; the
	 * context of an event without a type is still checked. */
	assert_int_equal(validate_text(
		"{\"context\": {\"version\": \"0.1.2\", \"id\": \"1\", \"source\": \"/jenkins\", "
		"\"timestamp\": \"2023-01-01T00:00:00Z\"}, \"subject\": {\"id\": \"r\", \"content\": {}}}",
		&errs), -EINVAL);
	assert_true(has_error(&errs, "/context/type", "required property missing"));

	/* 0.2.0 has incidents, with a subject type of "incident". */
	assert_int_equal(validate_text(
		OLD_CTX("0.2.0", "/mon", "dev.cdevents.incident.detected.0.1.0")
		"\"subject\": {\"id\": \"i1\", \"type\": \"incident\", \"content\": "
		"{\"environment\": {\"id\": \"prod\"}}}}", &errs), 0);
	assert_int_equal(validate_text(
		OLD_CTX("0.2.0", "/mon", "dev.cdevents.incident.detected.0.1.0")
		"\"subject\": {\"id\": \"i1\", \"type\": \"service\", \"content\": "
		"{\"environment\": {\"id\": \"prod\"}}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/type", "must be one of: incident"));
}

static void custom_types_get_the_structure_check(void **state)
{
	struct cde_errors errs;
	const char *head = "{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\", "
			   "\"type\": \"dev.cdeventsx.spark-job.finished.0.1.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, ";
	char text[512];

	snprintf(text, sizeof(text), "%s\"subject\": {\"id\": \"job\", \"content\": {\"anything\": [1, 2]}}}", head);
	assert_int_equal(validate_text(text, &errs), 0);
	snprintf(text, sizeof(text), "%s\"subject\": {\"content\": {}}}", head);
	assert_int_equal(validate_text(text, &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/id", "required property missing"));

	assert_int_equal(validate_text(
		"{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\", "
		"\"type\": \"dev.cdevents.spark.exploded.0.1.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
		"\"subject\": {\"id\": \"job\", \"content\": {}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/type", "unknown event type"));
}

/* The official custom example of @version, with "version" corrected where
 * upstream wrote "0.5.0-draft" (see ../shared/cdevents-spec/README.md). */
static cJSON *custom_example(const char *version)
{
	char path[1024];
	cJSON *doc, *v;

	snprintf(path, sizeof(path), "%s/%s/custom/conformance.json", spec_dir(), version);
	doc = read_json_file(path);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "context"), "version");
	if (v)
		cJSON_SetValuestring(v, version + 1);
	return doc;
}

static int validate_doc(const cJSON *doc, struct cde_errors *errs)
{
	cde_errors_reset(errs);
	return cde_validate(cat, doc, NULL, errs);
}

static void custom_examples_of_each_release_are_valid(void **state)
{
	struct cde_errors errs;
	cJSON *doc;

	doc = custom_example("v0.5.1");
	assert_int_equal(validate_doc(doc, &errs), 0);
	cJSON_Delete(doc);
	doc = custom_example("v0.4.1");
	assert_int_equal(validate_doc(doc, &errs), 0);
	cJSON_Delete(doc);
}

static void v041_custom_subjects_need_a_type_of_the_form_tool_subject(void **state)
{
	struct cde_errors errs;
	cJSON *doc = custom_example("v0.4.1");
	cJSON *subject = cJSON_GetObjectItemCaseSensitive(doc, "subject");

	cJSON_ReplaceItemInObjectCaseSensitive(subject, "type", cJSON_CreateString("mytool"));
	assert_int_equal(validate_doc(doc, &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/type", "must match ^[a-zA-Z0-9]+-[a-zA-Z]+$"));
	assert_int_equal(errs.count, 1);

	cJSON_DeleteItemFromObjectCaseSensitive(subject, "type");
	assert_int_equal(validate_doc(doc, &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/type", "required property missing"));
	assert_int_equal(errs.count, 1);
	cJSON_Delete(doc);
}

static void v051_custom_subjects_have_no_type(void **state)
{
	struct cde_errors errs;
	cJSON *doc = custom_example("v0.5.1");

	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(doc, "subject"), "type", "mytool-resource");
	assert_int_equal(validate_doc(doc, &errs), -EINVAL);
	assert_true(has_error(&errs, "/subject/type", "unknown property (allowed here: id, source, content)"));
	assert_int_equal(errs.count, 1);
	cJSON_Delete(doc);
}

static void custom_type_names_must_be_tool_subject_predicate_version(void **state)
{
	static const char *const versions[] = { "v0.5.1", "v0.4.1" };

	for (size_t i = 0; i < 2; i++) {
		struct cde_errors errs;
		cJSON *doc = custom_example(versions[i]);
		cJSON *context = cJSON_GetObjectItemCaseSensitive(doc, "context");

		cJSON_ReplaceItemInObjectCaseSensitive(context, "type",
			cJSON_CreateString("dev.cdeventsx.probes.ping.0.1.0"));
		assert_int_equal(validate_doc(doc, &errs), -EINVAL);
		assert_true(has_error(&errs, "/context/type",
				      "dev.cdeventsx.<tool>-<subject>.<predicate>.<major>.<minor>.<patch>"));
		assert_true(has_error(&errs, "/context/type", "must match ^dev\\.cdeventsx\\."));
		assert_int_equal(errs.count, 1);
		cJSON_Delete(doc);
	}
}

static void v030_has_no_custom_event_types(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(
		"{\"context\": {\"version\": \"0.3.0\", \"id\": \"1\", \"source\": \"/ci\", "
		"\"type\": \"dev.cdeventsx.spark-job.finished.0.1.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
		"\"subject\": {\"id\": \"job\", \"type\": \"spark-job\", \"content\": {}}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/type", "spec 0.3.0 has no custom event types"));
	assert_int_equal(errs.count, 1);
}

static void unknown_types_get_no_errors_about_their_subject(void **state)
{
	static const char *const heads[] = {
		"{\"context\": {\"version\": \"0.4.1\", ",
		"{\"context\": {\"version\": \"0.3.0\", ",
		"{\"context\": {\"specversion\": \"0.5.1\", ",
	};

	for (size_t i = 0; i < 3; i++) {
		struct cde_errors errs;
		char text[512];

		snprintf(text, sizeof(text), "%s\"id\": \"1\", \"source\": \"/ci\", "
			 "\"type\": \"dev.cdevents.spark.exploded.0.1.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
			 "\"subject\": {\"id\": \"job\", \"type\": \"spark\", \"content\": {}}}", heads[i]);
		assert_int_equal(validate_text(text, &errs), -EINVAL);
		assert_true(has_error(&errs, "/context/type", "unknown event type"));
		assert_int_equal(errs.count, 1);
	}
}

static void alternatives_of_one_kind_are_told_apart_by_what_differs(void **state)
{
	static const struct cde_node uri = { .kind = CDE_NODE_STRING, .format = CDE_FORMAT_URI };
	static const struct cde_node ref = { .kind = CDE_NODE_STRING, .min_length = 1,
					     .format = CDE_FORMAT_URI_REFERENCE };
	static const struct cde_node *const alts[] = { &uri, &ref };
	static const struct cde_node either = { .kind = CDE_NODE_ANY_OF, .alts = alts, .n_alts = 2 };
	struct cde_errors errs;
	cJSON *num = cJSON_CreateNumber(42), *str = cJSON_CreateString("");

	cde_errors_reset(&errs);
	assert_int_equal(cde_validate_node(&either, num, "/x", &errs), -EINVAL);
	assert_true(has_error(&errs, "/x", "must be an absolute URI or a non-empty URI reference"));
	assert_int_equal(errs.count, 1);
	cde_errors_reset(&errs);
	assert_int_equal(cde_validate_node(&either, str, "/x", &errs), -EINVAL);
	assert_true(has_error(&errs, "/x", "must be an absolute URI or a non-empty URI reference"));
	assert_int_equal(errs.count, 1);
	cJSON_Delete(num);
	cJSON_Delete(str);
}

static void ticket_fields_name_their_alternatives(void **state)
{
	struct cde_errors errs;
	const char *head = "{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\", "
			   "\"type\": \"dev.cdevents.ticket.closed.0.2.0\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, "
			   "\"subject\": {\"id\": \"t\", \"content\": {\"ticketType\": 42, \"resolution\": \"\", "
			   "\"uri\": \"https://t/1\"}}}";

	assert_int_equal(validate_text(head, &errs), -EINVAL);
	for (size_t i = 0; i < errs.count; i++)
		assert_null(strstr(errs.items[i].reason, "a string or a string"));
	assert_true(has_error(&errs, "/subject/content/ticketType",
			      "must be one of (bug, enhancement, incident, task, question) or a string"));
	assert_true(has_error(&errs, "/subject/content/resolution",
			      "must be one of (completed, withdrawn, duplicate) or a non-empty string"));
}

static void escapes_pointer_segments(void **state)
{
	struct cde_errors errs;

	assert_int_equal(validate_text(CTX("") DEPLOYED_SUBJECT ", \"a/b~c\": 1}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/a~1b~0c", "unknown property"));
}

static void caps_the_error_list(void **state)
{
	char text[8192];
	size_t o = 0;
	struct cde_errors errs;

	o += (size_t)snprintf(text + o, sizeof(text) - o, CTX("") DEPLOYED_SUBJECT);
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, ", \"x%d\": 0", i);
	snprintf(text + o, sizeof(text) - o, "}");
	assert_int_equal(validate_text(text, &errs), -EINVAL);
	assert_int_equal(errs.count, CDE_ERRORS_MAX);
	assert_int_equal(errs.dropped, 100 - CDE_ERRORS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_conformance_example_is_valid),
		cmocka_unit_test(accepts_a_minimal_event),
		cmocka_unit_test(reports_missing_required_fields),
		cmocka_unit_test(reports_wrong_types_empty_strings_and_unknown_properties),
		cmocka_unit_test(reports_bad_enums_and_formats),
		cmocka_unit_test(explains_links_by_their_closest_form),
		cmocka_unit_test(custom_data_is_an_object_or_a_string),
		cmocka_unit_test(names_the_version_problem),
		cmocka_unit_test(version_policy_reads_only_releases_whose_schemas_are_loaded),
		cmocka_unit_test(v041_events_are_checked_against_v041),
		cmocka_unit_test(v012_and_v020_events_are_checked_against_their_release),
		cmocka_unit_test(custom_types_get_the_structure_check),
		cmocka_unit_test(custom_examples_of_each_release_are_valid),
		cmocka_unit_test(v041_custom_subjects_need_a_type_of_the_form_tool_subject),
		cmocka_unit_test(v051_custom_subjects_have_no_type),
		cmocka_unit_test(custom_type_names_must_be_tool_subject_predicate_version),
		cmocka_unit_test(v030_has_no_custom_event_types),
		cmocka_unit_test(unknown_types_get_no_errors_about_their_subject),
		cmocka_unit_test(alternatives_of_one_kind_are_told_apart_by_what_differs),
		cmocka_unit_test(ticket_fields_name_their_alternatives),
		cmocka_unit_test(escapes_pointer_segments),
		cmocka_unit_test(caps_the_error_list),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
