/* The CloudEvents HTTP binding: encoding CDEvents as binary and structured
 * messages, and decoding binary, structured, batch and bare requests. */

#include "tests/unit/helpers.h"

#include <strings.h>

#include "events/cloudevents.h"
#include "events/percent.h"

/* A request as the daemon would hand it over: a header list and a body. */
struct fake_request {
	const char *headers[16][2];
	const char *body;
};

static const char *fake_header(void *ctx, const char *name)
{
	struct fake_request *r = ctx;

	for (size_t i = 0; i < 16 && r->headers[i][0]; i++)
		if (strcasecmp(r->headers[i][0], name) == 0)
			return r->headers[i][1];
	return NULL;
}

static int decode(struct fake_request *fr, struct cde_event ***events, size_t *n,
		  enum cde_ce_request_mode *mode, struct cde_errors *errs)
{
	struct cde_ce_request req = {
		.header = fake_header, .ctx = fr, .body = fr->body, .body_len = strlen(fr->body),
	};

	cde_errors_reset(errs);
	return cde_ce_decode(&req, events, n, mode, errs);
}

static const char *msg_header(const struct cde_ce_message *m, const char *name)
{
	for (size_t i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

static struct cde_event *sample_event(void)
{
	struct cde_event *ev = NULL;

	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.artifact.published.0.3.0",
				       "/tekton/ns/ci", "pkg:oci/etl job", &ev), 0);
	assert_int_equal(cde_event_set_timestamp(ev, "2025-01-31T12:00:00.000001Z"), 0);
	return ev;
}

static void header_values_are_percent_encoded_utf8(void **state)
{
	char *enc = cde_pct_encode("a b\"c%d/é~");
	char *dec = NULL;

	assert_string_equal(enc, "a%20b%22c%25d/%C3%A9~");
	assert_int_equal(cde_pct_decode(enc, &dec), 0);
	assert_string_equal(dec, "a b\"c%d/é~");
	free(enc);
	free(dec);
	assert_int_equal(cde_pct_decode("bad%2", &dec), -EINVAL);
	assert_int_equal(cde_pct_decode("bad%zz", &dec), -EINVAL);
	assert_int_equal(cde_pct_decode("nul%00", &dec), -EINVAL);
	assert_int_equal(cde_pct_decode("notutf8%C3", &dec), -EINVAL);
}

static void binary_mode_maps_context_to_ce_headers(void **state)
{
	struct cde_event *ev = sample_event();
	struct cde_ce_message m;

	assert_int_equal(cde_ce_encode(ev, CDE_CE_BINARY, &m), 0);
	assert_string_equal(msg_header(&m, "Content-Type"), "application/json");
	assert_string_equal(msg_header(&m, "ce-specversion"), "1.0");
	assert_string_equal(msg_header(&m, "ce-id"), cde_event_id(ev));
	assert_string_equal(msg_header(&m, "ce-source"), "/tekton/ns/ci");
	assert_string_equal(msg_header(&m, "ce-type"), "dev.cdevents.artifact.published.0.3.0");
	assert_string_equal(msg_header(&m, "ce-subject"), "pkg:oci/etl%20job");
	assert_string_equal(msg_header(&m, "ce-time"), "2025-01-31T12:00:00.000001Z");
	cJSON *body = json(m.body);

	assert_true(cJSON_Compare(body, cde_event_json(ev), true));
	assert_int_equal(m.body_len, strlen(m.body));
	cJSON_Delete(body);
	cde_ce_message_release(&m);
	cde_event_unref(ev);
}

static void structured_mode_puts_the_cdevent_under_data(void **state)
{
	struct cde_event *ev = sample_event();
	struct cde_ce_message m;

	assert_int_equal(cde_ce_encode(ev, CDE_CE_STRUCTURED, &m), 0);
	assert_string_equal(msg_header(&m, "Content-Type"), "application/cloudevents+json");
	cJSON *body = json(m.body);

	assert_string_equal(cJSON_GetObjectItem(body, "specversion")->valuestring, "1.0");
	assert_string_equal(cJSON_GetObjectItem(body, "id")->valuestring, cde_event_id(ev));
	assert_string_equal(cJSON_GetObjectItem(body, "source")->valuestring, "/tekton/ns/ci");
	assert_string_equal(cJSON_GetObjectItem(body, "subject")->valuestring, "pkg:oci/etl job");
	assert_string_equal(cJSON_GetObjectItem(body, "time")->valuestring, "2025-01-31T12:00:00.000001Z");
	assert_string_equal(cJSON_GetObjectItem(body, "datacontenttype")->valuestring, "application/json");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(body, "data"), cde_event_json(ev), true));
	cJSON_Delete(body);
	cde_ce_message_release(&m);
	cde_event_unref(ev);
}

/* A sink's upgrade_to (events/upgrade.h): the release the event was
 * received in travels as the extension attribute cdeupgradedfrom. */
static void an_upgraded_event_names_its_received_release_in_both_modes(void **state)
{
	struct cde_event *ev = sample_event();
	struct cde_ce_message m;
	cJSON *body;

	assert_int_equal(cde_ce_encode(ev, CDE_CE_BINARY, &m), 0);
	assert_null(msg_header(&m, "ce-cdeupgradedfrom"));
	cde_ce_message_release(&m);
	assert_int_equal(cde_event_set_upgraded_from(ev, "0.1.2"), 0);
	assert_string_equal(cde_event_upgraded_from(ev), "0.1.2");
	assert_int_equal(cde_ce_encode(ev, CDE_CE_BINARY, &m), 0);
	assert_string_equal(msg_header(&m, "ce-cdeupgradedfrom"), "0.1.2");
	cde_ce_message_release(&m);
	assert_int_equal(cde_ce_encode(ev, CDE_CE_STRUCTURED, &m), 0);
	body = json(m.body);
	assert_string_equal(cJSON_GetObjectItem(body, "cdeupgradedfrom")->valuestring, "0.1.2");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "data"), "cdeupgradedfrom"));
	cJSON_Delete(body);
	cde_ce_message_release(&m);
	assert_int_equal(cde_event_set_upgraded_from(ev, "0.1.2-very-long-name"), -EINVAL);
	cde_event_unref(ev);
}

static void what_is_encoded_decodes_to_the_same_event(void **state)
{
	for (int mode = CDE_CE_BINARY; mode <= CDE_CE_STRUCTURED; mode++) {
		struct cde_event *ev = sample_event(), **out = NULL;
		struct cde_ce_message m;
		struct fake_request fr = { 0 };
		enum cde_ce_request_mode got;
		struct cde_errors errs;
		size_t n = 0;

		assert_int_equal(cde_ce_encode(ev, (enum cde_ce_mode)mode, &m), 0);
		for (size_t i = 0; i < m.n_headers; i++) {
			fr.headers[i][0] = m.headers[i].name;
			fr.headers[i][1] = m.headers[i].value;
		}
		fr.body = m.body;
		assert_int_equal(decode(&fr, &out, &n, &got, &errs), 0);
		assert_int_equal(n, 1);
		assert_int_equal(got, mode == CDE_CE_BINARY ? CDE_CE_REQ_BINARY : CDE_CE_REQ_STRUCTURED);
		assert_true(cJSON_Compare(cde_event_json(out[0]), cde_event_json(ev), true));
		cde_ce_events_free(out, n);
		cde_ce_message_release(&m);
		cde_event_unref(ev);
	}
}

/* A spec 0.1.2 event (the Jenkins plugin's) goes out as it came in: the
 * CloudEvents attributes from its context, the CDEvent itself unchanged. */
static void older_releases_are_sent_as_received(void **state)
{
	static const char text[] =
		"{\"context\": {\"version\": \"0.1.2\", \"id\": \"jenkins-7\", \"source\": \"/jenkins\", "
		"\"type\": \"dev.cdevents.pipelinerun.started.0.1.0\", \"timestamp\": \"2023-01-01T00:00:00Z\"}, "
		"\"subject\": {\"id\": \"job/etl/7\", \"type\": \"pipelineRun\", "
		"\"content\": {\"pipelineName\": \"etl\", \"url\": \"https://jenkins.example/job/etl/7\"}}}";
	cJSON *received = json(text);

	for (int mode = CDE_CE_BINARY; mode <= CDE_CE_STRUCTURED; mode++) {
		struct cde_event *ev = NULL;
		struct cde_ce_message m;
		struct cde_errors errs;
		cJSON *body;

		cde_errors_reset(&errs);
		assert_int_equal(cde_event_parse(text, strlen(text), &ev, &errs), 0);
		assert_int_equal(cde_ce_encode(ev, (enum cde_ce_mode)mode, &m), 0);
		body = json(m.body);
		assert_true(cJSON_Compare(mode == CDE_CE_BINARY ? body : cJSON_GetObjectItem(body, "data"),
					  received, true));
		if (mode == CDE_CE_STRUCTURED)
			assert_string_equal(cJSON_GetObjectItem(body, "type")->valuestring,
					    "dev.cdevents.pipelinerun.started.0.1.0");
		cJSON_Delete(body);
		cde_ce_message_release(&m);
		cde_event_unref(ev);
	}
	cJSON_Delete(received);
}

#define CDEVENT(id, type) \
	"{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"" id "\", \"source\": \"/ci\", " \
	"\"type\": \"" type "\", \"timestamp\": \"2025-01-01T00:00:00Z\"}, " \
	"\"subject\": {\"id\": \"b\", \"content\": {}}}"

static void decodes_batches_and_bare_events(void **state)
{
	struct cde_event **out = NULL;
	enum cde_ce_request_mode mode;
	struct cde_errors errs;
	size_t n = 0;
	struct fake_request batch = {
		.headers = { { "Content-Type", "application/cloudevents-batch+json; charset=utf-8" } },
		.body = "[{\"specversion\": \"1.0\", \"id\": \"a\", \"source\": \"/ci\", \"type\": \"dev.cdevents.build.queued.0.3.0\", "
			"\"data\": " CDEVENT("a", "dev.cdevents.build.queued.0.3.0") "},"
			" {\"specversion\": \"1.0\", \"id\": \"b\", \"source\": \"/ci\", \"type\": \"dev.cdevents.build.started.0.3.0\", "
			"\"datacontenttype\": \"application/json\", \"data\": " CDEVENT("b", "dev.cdevents.build.started.0.3.0") "}]",
	};
	struct fake_request bare = {
		.headers = { { "Content-Type", "Application/JSON" } },
		.body = CDEVENT("c", "dev.cdevents.build.queued.0.3.0"),
	};

	assert_int_equal(decode(&batch, &out, &n, &mode, &errs), 0);
	assert_int_equal(mode, CDE_CE_REQ_BATCH);
	assert_int_equal(n, 2);
	assert_string_equal(cde_event_id(out[0]), "a");
	assert_string_equal(cde_event_id(out[1]), "b");
	cde_ce_events_free(out, n);

	assert_int_equal(decode(&bare, &out, &n, &mode, &errs), 0);
	assert_int_equal(mode, CDE_CE_REQ_BARE);
	assert_string_equal(cde_event_id(out[0]), "c");
	cde_ce_events_free(out, n);
}

static void attributes_must_agree_with_the_cdevent(void **state)
{
	struct cde_event **out = NULL;
	enum cde_ce_request_mode mode;
	struct cde_errors errs;
	size_t n = 0;
	struct fake_request binary = {
		.headers = { { "content-type", "application/json" }, { "ce-specversion", "1.0" },
			     { "ce-id", "other" }, { "ce-source", "/ci" },
			     { "ce-type", "dev.cdevents.build.queued.0.3.0" } },
		.body = CDEVENT("a", "dev.cdevents.build.queued.0.3.0"),
	};
	struct fake_request structured = {
		.headers = { { "Content-Type", "application/cloudevents+json" } },
		.body = "{\"specversion\": \"1.0\", \"id\": \"a\", \"source\": \"/ci\", \"type\": \"x.y\", "
			"\"data\": " CDEVENT("a", "dev.cdevents.build.queued.0.3.0") "}",
	};

	assert_int_equal(decode(&binary, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/id", "differs from header ce-id \"other\""));
	assert_int_equal(decode(&structured, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "/data/context/type", "differs from CloudEvents type \"x.y\""));
}

static void reports_what_is_missing_or_malformed(void **state)
{
	struct cde_event **out = NULL;
	enum cde_ce_request_mode mode;
	struct cde_errors errs;
	size_t n = 0;
	struct fake_request no_headers = {
		.headers = { { "Content-Type", "application/json" }, { "ce-specversion", "0.3" },
			     { "ce-id", "a%zz" } },
		.body = "{}",
	};
	struct fake_request bad_structured = {
		.headers = { { "Content-Type", "application/cloudevents+json" } },
		.body = "{\"id\": \"\", \"data_base64\": \"e30=\", \"datacontenttype\": \"text/xml\"}",
	};
	struct fake_request bad_batch = {
		.headers = { { "Content-Type", "application/cloudevents-batch+json" } },
		.body = "[{\"specversion\": \"1.0\", \"id\": \"a\", \"source\": \"/ci\", \"type\": \"t\", \"data\": {}}, 7]",
	};
	struct fake_request empty_batch = {
		.headers = { { "Content-Type", "application/cloudevents-batch+json" } },
		.body = "[]",
	};

	assert_int_equal(decode(&no_headers, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "header ce-specversion: must be 1.0"));
	assert_true(has_error(&errs, "", "header ce-id: malformed percent-encoding"));
	assert_true(has_error(&errs, "", "header ce-source: required"));
	assert_true(has_error(&errs, "", "header ce-type: required"));

	assert_int_equal(decode(&bad_structured, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "/specversion", "required property missing"));
	assert_true(has_error(&errs, "/id", "must be a non-empty string"));
	assert_true(has_error(&errs, "/source", "required property missing"));
	assert_true(has_error(&errs, "/datacontenttype", "must be application/json"));
	assert_true(has_error(&errs, "/data", "data_base64 is not supported"));

	assert_int_equal(decode(&bad_batch, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "/1", "is a JSON object"));
	assert_int_equal(decode(&empty_batch, &out, &n, &mode, &errs), -EINVAL);
	assert_true(has_error(&errs, "", "empty batch"));
}

static void other_content_types_are_unsupported(void **state)
{
	struct cde_event **out = NULL;
	enum cde_ce_request_mode mode;
	struct cde_errors errs;
	size_t n = 0;
	struct fake_request form = {
		.headers = { { "Content-Type", "application/x-www-form-urlencoded" } },
		.body = "a=b",
	};
	struct fake_request none = { .body = "{}" };
	struct fake_request binary_xml = {
		.headers = { { "Content-Type", "text/xml" }, { "ce-specversion", "1.0" } },
		.body = "<x/>",
	};

	assert_int_equal(decode(&form, &out, &n, &mode, &errs), -ENOTSUP);
	assert_true(has_error(&errs, "", "unsupported Content-Type"));
	assert_int_equal(decode(&none, &out, &n, &mode, &errs), -ENOTSUP);
	assert_int_equal(decode(&binary_xml, &out, &n, &mode, &errs), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_values_are_percent_encoded_utf8),
		cmocka_unit_test(binary_mode_maps_context_to_ce_headers),
		cmocka_unit_test(structured_mode_puts_the_cdevent_under_data),
		cmocka_unit_test(what_is_encoded_decodes_to_the_same_event),
		cmocka_unit_test(older_releases_are_sent_as_received),
		cmocka_unit_test(an_upgraded_event_names_its_received_release_in_both_modes),
		cmocka_unit_test(decodes_batches_and_bare_events),
		cmocka_unit_test(attributes_must_agree_with_the_cdevent),
		cmocka_unit_test(reports_what_is_missing_or_malformed),
		cmocka_unit_test(other_content_types_are_unsupported),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
