/* Change tickets (sinks/audit/answers/tickets.c): the ticket.created of a
 * deployment carries the latest gate decision for it, the open tickets of
 * a chain are those no ticket.closed has closed, and what is built is a
 * valid CDEvent of the catalog, over a stand-in log. */

#include "tests/unit/audit_stand_in.h"

#include "schemas/validate.h"
#include "sinks/audit/answers/answer_event.h"
#include "sinks/audit/answers/tickets.h"

#define ART "pkg:oci/etl@sha256%3Aabc"

static const char deployment[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"dep-1\",\"source\":\"/ci\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-03-01T10:00:00Z\",\"chainId\":\"r-1\"},"
	"\"subject\":{\"id\":\"etl\",\"source\":\"/ci\",\"content\":{\"environment\":{\"id\":\"prod\"},"
	"\"artifactId\":\"" ART "\"}}}";

static uint64_t decision_from(const char *source, const char *env, const char *verdict, const char *id)
{
	char ev[1024];

	snprintf(ev, sizeof(ev),
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"%s\","
		 "\"type\":\"dev.cdeventsx.cdeventsd-gate.decided.0.1.0\",\"timestamp\":\"2026-03-01T09:00:00Z\","
		 "\"chainId\":\"r-1\"},\"subject\":{\"id\":\"gates/%s\",\"content\":{\"environment\":{\"id\":\"%s\"},"
		 "\"artifactId\":\"%s\",\"decision\":\"%s\",\"principal\":\"ci\",\"requirements\":[]}}}",
		 id, source, env, env, ART, verdict);
	return append_row("2026-03-01T09:00:00Z", ev);
}

/* The daemon's own events, as its peer marks them. */
#define OWN_PEER CDE_OWN_PEER_PREFIX "127.0.0.1:40000"

static uint64_t decision(const char *env, const char *verdict, const char *id)
{
	uint64_t seq;

	poster_peer = OWN_PEER;
	seq = decision_from("/cdeventsd", env, verdict, id);
	poster_peer = "127.0.0.1:40000";
	return seq;
}

/* A ticket event as the daemon writes it. */
static uint64_t own(const char *received, const char *type, const char *subject, const char *chain,
		    const char *content)
{
	uint64_t seq;

	poster_peer = OWN_PEER;
	seq = post(received, type, subject, chain, content);
	poster_peer = "127.0.0.1:40000";
	return seq;
}

static void assert_valid(const cJSON *ev)
{
	struct cde_catalog *catalog = load_catalog();
	struct cde_errors errs;

	cde_errors_reset(&errs);
	if (cde_validate(catalog, ev, NULL, &errs) < 0)
		fail_msg("%s: %s", errs.items[0].pointer, errs.items[0].reason);
	cde_catalog_free(catalog);
}

static const char *text(const cJSON *o, const char *a, const char *b, const char *c)
{
	return member(o, a, b, c);
}

static void a_deployment_ticket_names_the_latest_decision_for_its_environment(void **state)
{
	cJSON *dep = cJSON_Parse(deployment), *found = NULL, *ev;
	const cJSON *custom;

	(void)state;
	decision("prod", "deny", "d-1");
	decision("prod", "allow", "d-2");
	decision("stage", "deny", "d-3"); /* another environment's: not this one's */
	assert_int_equal(cde_ticket_gate_decision(&stand_in, "/cdeventsd", "ci", "prod", ART, &found), 0);
	assert_non_null(found);
	ev = cde_ticket_created_event(dep, 7, "jenkins", found, "t-1", "/cdeventsd", "2026-03-01T10:00:01Z");
	assert_non_null(ev);
	assert_valid(ev);
	assert_string_equal(text(ev, "subject", "id", NULL), "change/dep-1");
	assert_string_equal(text(ev, "context", "chainId", NULL), "r-1");
	assert_string_equal(text(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content", "summary", NULL),
			    "Deploy " ART " (etl) to prod");
	assert_string_equal(text(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content", "creator", NULL), "jenkins");
	custom = cJSON_GetObjectItemCaseSensitive(ev, "customData");
	assert_string_equal(text(custom, "gate", "decision", NULL), "allow");
	assert_string_equal(text(custom, "gate", "id", NULL), "d-2");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(custom, "deployment"), "seq")), 7);
	cJSON_Delete(ev);
	cJSON_Delete(found);
	cJSON_Delete(dep);
}

static void without_a_decision_the_ticket_says_none_was_asked(void **state)
{
	cJSON *dep = cJSON_Parse(deployment), *found = NULL, *ev;

	(void)state;
	decision("stage", "allow", "d-1");
	assert_int_equal(cde_ticket_gate_decision(&stand_in, "/cdeventsd", "ci", "prod", ART, &found), 0);
	assert_null(found);
	ev = cde_ticket_created_event(dep, 7, "", NULL, "t-1", "/cdeventsd", "2026-03-01T10:00:01Z");
	assert_non_null(ev);
	assert_valid(ev);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "customData"),
								   "gate")));
	assert_string_equal(text(cJSON_GetObjectItemCaseSensitive(ev, "subject"), "content", "creator", NULL), "cdeventsd");
	cJSON_Delete(ev);
	cJSON_Delete(dep);
}

static void open_tickets_are_those_not_closed_and_a_failed_run_says_so(void **state)
{
	static const char ticket[] = "{\"summary\":\"s\",\"creator\":\"ci\",\"uri\":\"/v1/events/x\"}";
	cJSON *open = NULL, *finished, *closed;

	(void)state;
	own("2026-03-01T10:00:00Z", "ticket.created.0.2.0", "change/a", "r-1", ticket);
	own("2026-03-01T10:00:01Z", "ticket.created.0.2.0", "change/b", "r-1", ticket);
	own("2026-03-01T10:00:02Z", "ticket.created.0.2.0", "someone-elses", "r-1", ticket);
	own("2026-03-01T10:00:03Z", "ticket.closed.0.2.0", "change/a", "r-1",
	     "{\"uri\":\"/v1/events/x\",\"resolution\":\"completed\"}");
	own("2026-03-01T10:00:04Z", "ticket.created.0.2.0", "change/c", "r-2", ticket);
	assert_int_equal(cde_tickets_open(&stand_in, "r-1", "ci", &open), 0);
	assert_int_equal(cJSON_GetArraySize(open), 1);
	assert_string_equal(text(cJSON_GetArrayItem(open, 0), "subject", "id", NULL), "change/b");

	finished = cJSON_Parse("{\"context\":{\"id\":\"run-9\"},\"subject\":{\"content\":{\"outcome\":\"failure\"}}}");
	closed = cde_ticket_closed_event(cJSON_GetArrayItem(open, 0), finished, "jenkins", "t-9", "/cdeventsd",
					 "2026-03-01T11:00:00Z");
	assert_non_null(closed);
	assert_valid(closed);
	assert_string_equal(text(closed, "subject", "id", NULL), "change/b");
	assert_string_equal(text(cJSON_GetObjectItemCaseSensitive(closed, "subject"), "content", "resolution", NULL),
			    "failure");
	cJSON_Delete(closed);
	cJSON_Delete(finished);
	cJSON_Delete(open);
}

static void a_decision_the_daemon_did_not_write_is_not_cited(void **state)
{
	cJSON *found = NULL;

	(void)state;
	decision("prod", "deny", "d-1");
	decision_from("/intruder", "prod", "allow", "forged"); /* posted before ingest refused the type */
	assert_int_equal(cde_ticket_gate_decision(&stand_in, "/cdeventsd", "ci", "prod", ART, &found), 0);
	assert_non_null(found);
	assert_string_equal(text(found, "event", "context", "id"), "d-1");
	cJSON_Delete(found);
}

static void a_strangers_run_closes_no_ticket(void **state)
{
	static const char ticket[] = "{\"summary\":\"s\",\"creator\":\"ci\",\"uri\":\"/v1/events/x\"}";
	cJSON *open = NULL;

	(void)state;
	own("2026-03-01T10:00:00Z", "ticket.created.0.2.0", "change/a", "r-1", ticket); /* for ci's deployment */
	assert_int_equal(cde_tickets_open(&stand_in, "r-1", "intruder", &open), 0);
	assert_int_equal(cJSON_GetArraySize(open), 0);
	cJSON_Delete(open);
	assert_int_equal(cde_tickets_open(&stand_in, "r-1", "ci", &open), 0);
	assert_int_equal(cJSON_GetArraySize(open), 1);
	cJSON_Delete(open);
}

static void a_strangers_ticket_events_open_and_close_nothing(void **state)
{
	static const char ticket[] = "{\"summary\":\"s\",\"creator\":\"ci\",\"uri\":\"/v1/events/x\"}";
	cJSON *open = NULL;

	(void)state;
	own("2026-03-01T10:00:00Z", "ticket.created.0.2.0", "change/a", "r-1", ticket);
	/* Same subject, same principal even: posted over a connection. */
	post("2026-03-01T10:00:01Z", "ticket.closed.0.2.0", "change/a", "r-1",
	     "{\"uri\":\"/v1/events/x\",\"resolution\":\"completed\"}");
	post("2026-03-01T10:00:02Z", "ticket.created.0.2.0", "change/z", "r-1", ticket);
	assert_int_equal(cde_tickets_open(&stand_in, "r-1", "ci", &open), 0);
	assert_int_equal(cJSON_GetArraySize(open), 1);
	assert_string_equal(text(cJSON_GetArrayItem(open, 0), "subject", "id", NULL), "change/a");
	cJSON_Delete(open);
}

static void a_decision_without_the_daemons_peer_mark_is_not_cited(void **state)
{
	cJSON *found = NULL;

	(void)state;
	decision_from("/cdeventsd", "prod", "allow", "unmarked"); /* the daemon's source, posted */
	assert_int_equal(cde_ticket_gate_decision(&stand_in, "/cdeventsd", "ci", "prod", ART, &found), 0);
	assert_null(found);
}

static void another_principals_decision_is_not_cited(void **state)
{
	cJSON *found = NULL;

	(void)state;
	decision("prod", "allow", "d-1"); /* asked by ci */
	assert_int_equal(cde_ticket_gate_decision(&stand_in, "/cdeventsd", "intruder", "prod", ART, &found), 0);
	assert_null(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_deployment_ticket_names_the_latest_decision_for_its_environment, reset),
		cmocka_unit_test_setup(without_a_decision_the_ticket_says_none_was_asked, reset),
		cmocka_unit_test_setup(open_tickets_are_those_not_closed_and_a_failed_run_says_so, reset),
		cmocka_unit_test_setup(a_decision_the_daemon_did_not_write_is_not_cited, reset),
		cmocka_unit_test_setup(a_strangers_run_closes_no_ticket, reset),
		cmocka_unit_test_setup(a_strangers_ticket_events_open_and_close_nothing, reset),
		cmocka_unit_test_setup(a_decision_without_the_daemons_peer_mark_is_not_cited, reset),
		cmocka_unit_test_setup(another_principals_decision_is_not_cited, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
