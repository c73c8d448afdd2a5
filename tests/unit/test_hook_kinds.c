/* Hook kinds (events/hook_kinds.c): each kind takes exactly the phases
 * its subject has in the newest spec, and the kinds added for changes,
 * incidents, tickets, repositories and branches report mistakes at the
 * hook's own fields. Each kind's event per phase: test_hooks.c. */

#include "tests/unit/helpers.h"

#include "events/hooks.h"

static const struct cde_hook_defaults defaults = { .source = "/jenkins" };

static struct cde_event *translate_ok(const char *kind, const char *payload)
{
	struct cde_errors errs;
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);

	cde_errors_reset(&errs);
	if (cde_hook_translate(cat, kind, p, &defaults, &ev, &errs) != 0) {
		print_message("%s %s:\n", kind, payload);
		print_errors(&errs);
		fail();
	}
	cJSON_Delete(p);
	return ev;
}

static int translate_err(const char *kind, const char *payload, struct cde_errors *errs)
{
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);
	int r;

	cde_errors_reset(errs);
	r = cde_hook_translate(cat, kind, p, &defaults, &ev, errs);
	cJSON_Delete(p);
	assert_null(ev);
	return r;
}

/* False when a @kind hook @payload is refused for its phase; it may be
 * refused for its content. */
static bool phase_is_taken(const char *kind, const char *payload, struct cde_errors *errs)
{
	struct cde_event *ev = NULL;
	cJSON *p = json(payload);

	cde_errors_reset(errs);
	cde_hook_translate(cat, kind, p, &defaults, &ev, errs);
	cJSON_Delete(p);
	cde_event_unref(ev);
	return !has_error(errs, "/phase", "");
}

/* Each kind takes exactly the predicates its subject has in the newest
 * spec: every event type of the subject is reachable by its phase, and
 * the list of phases a mistake names is the catalog's. */
static void each_kind_takes_every_phase_of_its_subject_in_the_newest_spec(void **state)
{
	static const char *const subject_kind[][2] = {
		{ "build", "build" }, { "artifact", "artifact" }, { "service", "deploy" },
		{ "pipelinerun", "pipeline" }, { "taskrun", "task" }, { "environment", "environment" },
		{ "change", "change" }, { "incident", "incident" }, { "ticket", "ticket" },
		{ "repository", "repository" }, { "branch", "branch" },
	};
	const struct cde_spec *spec = cde_catalog_newest(cat);
	size_t reached = 0;

	for (size_t t = 0; t < spec->n_types; t++) {
		char subject[32], phase[32], payload[128];
		struct cde_errors errs;

		if (sscanf(spec->types[t].name, "dev.cdevents.%31[a-z].%31[a-z].", subject, phase) != 2)
			continue;
		for (size_t i = 0; i < sizeof(subject_kind) / sizeof(subject_kind[0]); i++) {
			if (strcmp(subject_kind[i][0], subject) != 0)
				continue;
			snprintf(payload, sizeof(payload), "{\"phase\": \"%s\", \"subject\": \"x\"}", phase);
			/* Required content may be missing: only the phase counts. */
			if (!phase_is_taken(subject_kind[i][1], payload, &errs)) {
				print_message("%s: no %s hook with phase %s\n", spec->types[t].name,
					      subject_kind[i][1], phase);
				print_errors(&errs);
				fail();
			}
			reached++;
		}
	}
	/* 3 + 5 + 5 + 3 + 2 + 3 + 5 + 3 + 3 + 3 + 2 */
	assert_int_equal(reached, 37);
	for (size_t i = 0; cde_hook_kinds[i]; i++) {
		struct cde_errors errs;

		assert_int_equal(translate_err(cde_hook_kinds[i], "{}", &errs), -EINVAL);
	}
}

static void mistakes_in_change_incident_ticket_repository_and_branch_hooks_name_the_field(void **state)
{
	static const struct {
		const char *kind, *payload, *pointer, *reason;
	} cases[] = {
		{ "change", "{\"phase\": \"approved\", \"subject\": \"pr-1\"}", "/phase",
		  "must be one of: created, reviewed, merged, abandoned, updated" },
		{ "change", "{\"phase\": \"merged\", \"subject\": \"pr-1\", \"commit\": \"3f2a\"}", "/commit",
		  "unknown field for a change merged hook (known: repository, source," },
		{ "change", "{\"phase\": \"merged\", \"subject\": \"pr-1\", \"repository\": 7}", "/repository",
		  "must be a string (the id) or an object with an id" },
		{ "change", "{\"phase\": \"created\", \"subject\": \"pr-1\", \"repository\": {\"name\": \"etl\"}}",
		  "/repository/id", "required property missing" },
		{ "change", "{\"phase\": \"created\", \"subject\": \"pr-1\", \"description\": \"\"}", "/description", "" },
		{ "incident", "{\"phase\": \"opened\", \"subject\": \"i\"}", "/phase",
		  "must be one of: detected, reported, resolved" },
		{ "incident", "{\"phase\": \"detected\", \"subject\": \"i\", \"service\": \"etl\"}", "/environment",
		  "required property missing" },
		{ "incident", "{\"phase\": \"reported\", \"subject\": \"i\", \"environment\": \"prod\"}", "/ticketURI",
		  "required property missing" },
		{ "incident", "{\"phase\": \"reported\", \"subject\": \"i\", \"environment\": \"prod\", \"ticketURI\": \"not a uri\"}",
		  "/ticketURI", "" },
		{ "incident", "{\"phase\": \"resolved\", \"subject\": \"i\", \"environment\": \"prod\", \"service\": []}",
		  "/service", "must be a string (the id) or an object with an id" },
		{ "incident", "{\"phase\": \"detected\", \"subject\": \"i\", \"environment\": \"prod\", \"ticketURI\": \"https://t/1\"}",
		  "/ticketURI", "unknown field for a incident detected hook" },
		{ "ticket", "{\"phase\": \"reopened\", \"subject\": \"t\"}", "/phase", "must be one of: created, updated, closed" },
		{ "ticket", "{\"phase\": \"created\", \"subject\": \"t\", \"summary\": \"s\", \"creator\": \"ci\"}", "/uri",
		  "required property missing" },
		{ "ticket", "{\"phase\": \"closed\", \"subject\": \"t\", \"uri\": \"https://t/1\"}", "/resolution",
		  "required property missing" },
		{ "ticket", "{\"phase\": \"updated\", \"subject\": \"t\", \"uri\": \"https://t/1\", \"labels\": \"etl\"}",
		  "/labels", "" },
		{ "ticket", "{\"phase\": \"updated\", \"subject\": \"t\", \"uri\": \"https://t/1\", \"resolution\": \"done\"}",
		  "/resolution", "unknown field for a ticket updated hook" },
		{ "repository", "{\"phase\": \"created\", \"subject\": \"r\", \"uri\": \"https://git/r\"}", "/name",
		  "required property missing" },
		{ "repository", "{\"phase\": \"modified\", \"subject\": \"r\", \"uri\": \"git r\"}", "/uri", "" },
		{ "repository", "{\"phase\": \"renamed\", \"subject\": \"r\"}", "/phase", "must be one of: created, modified, deleted" },
		{ "branch", "{\"phase\": \"merged\", \"subject\": \"b\"}", "/phase", "must be one of: created, deleted" },
		{ "branch", "{\"phase\": \"created\", \"subject\": \"b\", \"repository\": {\"id\": \"etl\", \"url\": \"x\"}}",
		  "/repository/url", "unknown property" },
	};
	struct cde_errors errs;
	int failures = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (translate_err(cases[i].kind, cases[i].payload, &errs) != -EINVAL ||
		    !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s %s: expected %s: %s, got:\n", cases[i].kind, cases[i].payload,
				      cases[i].pointer, cases[i].reason);
			print_errors(&errs);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* An incident's references: strings stand for {"id": ...}, the artifact
 * stays a string (the field correlation reads). */
static void an_incident_hook_names_its_environment_service_and_artifact(void **state)
{
	struct cde_event *ev = translate_ok("incident",
		"{\"phase\": \"detected\", \"subject\": \"inc-7\", \"environment\": \"prod\", "
		"\"service\": {\"id\": \"etl\", \"source\": \"/k8s\"}, \"artifactId\": \"pkg:oci/etl@1\"}");
	cJSON *expected = json("{\"environment\": {\"id\": \"prod\"}, \"service\": {\"id\": \"etl\", "
			       "\"source\": \"/k8s\"}, \"artifactId\": \"pkg:oci/etl@1\"}");

	assert_true(cJSON_Compare(cde_event_content(ev), expected, true));
	assert_string_equal(cde_event_subject_id(ev), "inc-7");
	cJSON_Delete(expected);
	cde_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_kind_takes_every_phase_of_its_subject_in_the_newest_spec),
		cmocka_unit_test(mistakes_in_change_incident_ticket_repository_and_branch_hooks_name_the_field),
		cmocka_unit_test(an_incident_hook_names_its_environment_service_and_artifact),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
