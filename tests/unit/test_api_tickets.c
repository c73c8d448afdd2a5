/* Change tickets on the daemon's side (daemon/api_tickets.c): what a
 * committed event asks of the audit reader, and that nothing is asked of
 * a reader that is gone. At shutdown the journal, released after the
 * reader, still answers the ingests it holds, and each committed
 * deployment to a ticketed environment reaches cde_api_tickets_committed
 * with the reader freed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/api.h"
#include "daemon/api_internal.h"

static const char deployment[] =
	"{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"dep-1\",\"source\":\"/ci\","
	"\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"timestamp\":\"2026-03-01T10:00:00Z\",\"chainId\":\"r-1\"},"
	"\"subject\":{\"id\":\"etl\",\"source\":\"/ci\",\"content\":{\"environment\":{\"id\":\"stage\"},"
	"\"artifactId\":\"pkg:oci/etl@sha256%3Aabc\"}}}";

static const char ticketed[][CDE_CONFIG_NAME_MAX] = { "stage" };

static void a_deployment_committed_after_the_reader_is_gone_asks_nothing_of_it(void **state)
{
	struct cde_api api = { .ticket_envs = ticketed, .n_ticket_envs = 1, .stopping = true, .reader = NULL };
	struct cde_journal_entry e = { .principal = "ci", .peer = "127.0.0.1", .seq = 7 };

	(void)state;
	assert_int_equal(cde_event_from_json(cJSON_Parse(deployment), &e.event), 0);
	cde_api_tickets_committed(&api, &e, 1); /* submitted to a NULL reader, this crashed */
	cde_event_unref(e.event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_deployment_committed_after_the_reader_is_gone_asks_nothing_of_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
