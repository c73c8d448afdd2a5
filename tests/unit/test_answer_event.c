/* An audit record as the analyses read it (sinks/audit/answers/
 * answer_event.c): the type split into subject and predicate, standard
 * or custom, the times, the references of the content; a record that is
 * not a readable CDEvent is refused, not guessed at. */

#include "tests/unit/helpers.h"

#include "sinks/audit/answers/answer_event.h"

static const char deployed[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"e1\",\"source\":\"/ci\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-03-01T10:00:00Z\","
	"\"chainId\":\"c-1\"},\"subject\":{\"id\":\"shop/api\",\"source\":\"/ci\",\"content\":"
	"{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/api@sha256%3Aab\"}}}";

static struct cde_audit_record record(const char *event)
{
	return (struct cde_audit_record){
		.seq = 7, .received_at = "2026-03-01T10:00:01.5Z", .principal = "jenkins", .event = event,
	};
}

static void a_deployment_reads_as_service_deployed(void **state)
{
	struct cde_audit_record rec = record(deployed);
	struct cde_answer_event e;

	(void)state;
	assert_int_equal(cde_answer_event_read(&rec, &e), 0);
	assert_int_equal(e.seq, 7);
	assert_string_equal(e.subject_type, "service");
	assert_string_equal(e.predicate, "deployed");
	assert_false(e.custom);
	assert_true(cde_answer_event_is(&e, "service", "deployed"));
	assert_false(cde_answer_event_is(&e, "service", "rolledback"));
	assert_string_equal(e.subject_id, "shop/api");
	assert_string_equal(e.chain_id, "c-1");
	assert_string_equal(e.principal, "jenkins");
	assert_int_equal(e.time.tv_sec, 1772359200);
	assert_int_equal(e.received.tv_sec, 1772359201);
	assert_int_equal(e.received.tv_nsec, 500000000);
	/* a reference reads as its id, a plain string as itself */
	assert_string_equal(cde_answer_event_ref(&e, "environment"), "prod");
	assert_string_equal(cde_answer_event_ref(&e, "artifactId"), "pkg:oci/api@sha256%3Aab");
	assert_null(cde_answer_event_ref(&e, "nothing"));
	cde_answer_event_release(&e);
	cde_answer_event_release(&e);
}

static void a_custom_type_keeps_its_last_words(void **state)
{
	struct cde_audit_record rec = record(
		"{\"context\":{\"id\":\"g\",\"type\":\"dev.cdeventsx.gate.decided.0.1.0\","
		"\"timestamp\":\"2026-03-01T10:00:00+01:00\"},\"subject\":{\"id\":\"prod\"}}");
	struct cde_answer_event e;

	(void)state;
	assert_int_equal(cde_answer_event_read(&rec, &e), 0);
	assert_true(e.custom);
	assert_true(cde_answer_event_is(&e, "gate", "decided"));
	assert_string_equal(e.chain_id, "");
	assert_int_equal(e.time.tv_sec, 1772355600);
	assert_non_null(e.content);
	assert_null(cde_answer_event_ref(&e, "environment"));
	cde_answer_event_release(&e);
}

static void what_is_not_a_cdevent_is_refused(void **state)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"context\":{\"type\":\"com.example.thing.0.1.0\",\"timestamp\":\"2026-03-01T10:00:00Z\"},"
		"\"subject\":{\"id\":\"x\"}}",
		"{\"context\":{\"type\":\"dev.cdevents.service\",\"timestamp\":\"2026-03-01T10:00:00Z\"},"
		"\"subject\":{\"id\":\"x\"}}",
		"{\"context\":{\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"yesterday\"},"
		"\"subject\":{\"id\":\"x\"}}",
		"{\"context\":{\"type\":\"dev.cdevents.service.deployed.0.3.0\","
		"\"timestamp\":\"2026-03-01T10:00:00Z\"},\"subject\":{}}",
		"{\"context\":{\"type\":\"dev.cdevents.a-subject-type-longer-than-the-buffer.deployed.0.3.0\","
		"\"timestamp\":\"2026-03-01T10:00:00Z\"},\"subject\":{\"id\":\"x\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cde_audit_record rec = record(bad[i]);
		struct cde_answer_event e;

		if (cde_answer_event_read(&rec, &e) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_deployment_reads_as_service_deployed),
		cmocka_unit_test(a_custom_type_keeps_its_last_words),
		cmocka_unit_test(what_is_not_a_cdevent_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
