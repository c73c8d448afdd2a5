/* Hook kinds: the CDEvents subject each kind of /v1/hooks/{kind} names
 * and the phases (predicates) it takes, and the resolution of a hook's
 * phase (and a test hook's level) to an event type of the catalog. The
 * phases are the newest spec's: a kind names no phase its subject lacks
 * there, which the unit tests check against the catalog. */

#include "events/hook_kinds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PHASES 6

struct cde_hook_kind {
	const char *kind;
	const char *subject;		/* CDEvents subject, NULL for "test" */
	const char *phases[MAX_PHASES];
};

static const struct cde_hook_kind kinds[] = {
	{ "build", "build", { "queued", "started", "finished" } },
	{ "test", NULL, { "queued", "started", "finished", "skipped", "published" } },
	{ "artifact", "artifact", { "packaged", "published", "signed", "downloaded", "deleted" } },
	{ "deploy", "service", { "deployed", "upgraded", "rolledback", "removed", "published" } },
	{ "pipeline", "pipelinerun", { "queued", "started", "finished" } },
	{ "task", "taskrun", { "started", "finished" } },
	{ "environment", "environment", { "created", "modified", "deleted" } },
	{ "change", "change", { "created", "reviewed", "merged", "abandoned", "updated" } },
	{ "incident", "incident", { "detected", "reported", "resolved" } },
	{ "ticket", "ticket", { "created", "updated", "closed" } },
	{ "repository", "repository", { "created", "modified", "deleted" } },
	{ "branch", "branch", { "created", "deleted" } },
};

const char *const cde_hook_kinds[] = {
	"build", "test", "artifact", "deploy", "pipeline", "task", "environment",
	"change", "incident", "ticket", "repository", "branch", NULL,
};

const struct cde_hook_kind *cde_hook_kind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

static void list_phases(const struct cde_hook_kind *k, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MAX_PHASES && k->phases[i] && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", k->phases[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void cde_hook_reader_init(struct cde_json_reader *r, const char *at, struct cde_errors *errs)
{
	cde_json_reader_init(r, at, errs);
	r->null_is_a_value = true;
	r->missing = "required property missing";
}

/* The CDEvents subject and predicate of a test hook. */
static int test_subject(const char *phase, const cJSON *payload, const char **subject,
			struct cde_json_reader *r)
{
	const cJSON *level = cJSON_GetObjectItemCaseSensitive(payload, "level");
	const char *lv;

	if (strcmp(phase, "published") == 0) {
		if (level)
			return cde_json_reader_fail(r, "level", "not used with phase published (a test output)");
		*subject = "testoutput";
		return 0;
	}
	if (level && !cde_json_read_as(r, payload, "level", cJSON_String, 0, ": suite or case"))
		return -EINVAL;
	lv = level ? level->valuestring : strcmp(phase, "skipped") == 0 ? "case" : "suite";
	if (strcmp(lv, "suite") == 0) {
		if (strcmp(phase, "skipped") == 0)
			return cde_json_reader_fail(r, "level", "CDEvents has no skipped test suite run: "
						    "use level case");
		*subject = "testsuiterun";
	} else if (strcmp(lv, "case") == 0) {
		*subject = "testcaserun";
	} else {
		return cde_json_reader_fail(r, "level", "must be one of: suite, case");
	}
	return 0;
}

int cde_hook_kind_resolve(const struct cde_hook_kind *k, const cJSON *payload, const struct cde_spec *spec,
			  const struct cde_event_type **ret_type, const char **ret_phase,
			  struct cde_errors *errs)
{
	const char *cd_subject = k->subject;
	const cJSON *phase;
	struct cde_json_reader rd;
	bool known_phase = false;
	char list[256] = "", hint[sizeof(list) + 16] = "";
	int r;

	/* The phases are listed for a refusal only: not for every hook. */
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(payload, "phase"))) {
		list_phases(k, list, sizeof(list));
		snprintf(hint, sizeof(hint), " (one of: %s)", list);
	}
	cde_hook_reader_init(&rd, "", errs);
	phase = cde_json_read_as(&rd, payload, "phase", cJSON_String, CDE_JSON_REQUIRED, hint);
	cde_json_read_as(&rd, payload, "subject", cJSON_String, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY,
			 " (the subject's id)");
	if (!cde_errors_empty(errs))
		return -EINVAL;

	for (size_t i = 0; i < MAX_PHASES && k->phases[i]; i++)
		known_phase = known_phase || strcmp(k->phases[i], phase->valuestring) == 0;
	if (!known_phase) {
		list_phases(k, list, sizeof(list));
		cde_errors_add(errs, "/phase", "must be one of: %s", list);
		return -EINVAL;
	}
	if (!cd_subject) {
		r = test_subject(phase->valuestring, payload, &cd_subject, &rd);
		if (r < 0)
			return r;
	} else if (cJSON_GetObjectItemCaseSensitive(payload, "level")) {
		return cde_json_reader_fail(&rd, "level", "only test hooks have a level");
	}
	*ret_type = cde_spec_find_kind(spec, cd_subject, phase->valuestring);
	if (!*ret_type) {
		cde_errors_add(errs, "/phase", "spec %s has no %s.%s event", spec->version, cd_subject,
			       phase->valuestring);
		return -EINVAL;
	}
	*ret_phase = phase->valuestring;
	return 0;
}
