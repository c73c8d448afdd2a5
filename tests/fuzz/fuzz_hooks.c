/* Fuzz target: hook payload translation (POST /v1/hooks/{kind}).
 *
 * Input: the kind on the first line ("deploy"), the JSON payload after it.
 * The payload goes through the daemon's own path: strict parse, then
 * cde_hook_translate with two configured clusters a hook may name. A hook
 * that translates must give a valid event (the daemon stores it as is):
 * it is validated again here, and encoded both ways as a sink would. */

#include "tests/fuzz/fuzz.h"

#include "events/cloudevents.h"
#include "schemas/validate.h"

static struct cde_catalog *cat;
static struct cde_sizing_named_cluster clusters[FUZZ_CLUSTERS];
static struct cde_hook_defaults defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cat = fuzz_load_catalog();
	fuzz_load_clusters(clusters);
	defaults = (struct cde_hook_defaults){
		.source = "/fuzz", .clusters = clusters, .n_clusters = FUZZ_CLUSTERS,
	};
	return 0;
}

static void check_event(struct cde_event *ev)
{
	struct cde_errors errs;
	struct cde_ce_message msg;

	cde_errors_reset(&errs);
	if (cde_validate(cat, cde_event_json(ev), NULL, &errs) != 0) {
		fuzz_print_errors(&errs);
		FUZZ_CHECK(0, "a translated hook is not a valid CDEvent");
	}
	for (int mode = CDE_CE_BINARY; mode <= CDE_CE_STRUCTURED; mode++) {
		memset(&msg, 0, sizeof(msg));
		if (cde_ce_encode(ev, (enum cde_ce_mode)mode, &msg) == 0)
			cde_ce_message_release(&msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t kind_len = nl ? (size_t)(nl - data) : size;
	char kind[32];
	struct cde_errors errs;
	struct cde_event *ev = NULL;
	cJSON *payload = NULL;

	if (!nl || kind_len >= sizeof(kind))
		return -1; /* not an input of this shape: keep it out of the corpus */
	memcpy(kind, data, kind_len);
	kind[kind_len] = '\0';

	cde_errors_reset(&errs);
	if (cde_json_parse((const char *)nl + 1, size - kind_len - 1, &payload, &errs) != 0)
		return 0;
	if (cde_hook_translate(cat, kind, payload, &defaults, &ev, &errs) == 0) {
		FUZZ_CHECK(ev != NULL, "translated without an event");
		check_event(ev);
		cde_event_unref(ev);
	} else {
		FUZZ_CHECK(ev == NULL, "an event returned with an error");
	}
	cJSON_Delete(payload);
	return 0;
}
