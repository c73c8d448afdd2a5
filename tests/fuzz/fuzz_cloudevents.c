/* Fuzz target: CloudEvents decoding (POST /v1/events): binary, structured,
 * batch and bare requests.
 *
 * Input: an HTTP header block ("Name: value" lines), an empty line, then
 * the body, e.g.
 *   Content-Type: application/json
 *   ce-specversion: 1.0
 *   ce-id: 1
 *   ...
 *
 *   {"context": ...}
 * Without an empty line the whole input is headers and the body is empty.
 * The body is handed over in place, without a terminator, as the HTTP
 * server does, so a read past its end is caught.
 *
 * Every decoded event that is valid (what the daemon would store and fan
 * out) is encoded again in binary and structured mode, as a sink sends
 * it; that message must decode to the same id, source and type, or the
 * next hop would not deduplicate it the same way. (Invalid events are not
 * sent on: cde_ce_encode accepts an empty id, source or type, which the
 * decoder refuses.) */

#include "tests/fuzz/fuzz.h"

#include <strings.h>

#include "events/cloudevents.h"
#include "schemas/validate.h"

#define MAX_HEADERS 16

struct request {
	size_t n;
	const char *name[MAX_HEADERS];
	const char *value[MAX_HEADERS];
};

static const char *header(void *ctx, const char *name)
{
	const struct request *r = ctx;

	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

static struct cde_catalog *cat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cat = fuzz_load_catalog();
	return 0;
}

/* Splits @head (modified in place) into header lines. */
static void parse_headers(char *head, struct request *r)
{
	char *save = NULL;

	for (char *line = strtok_r(head, "\n", &save); line && r->n < MAX_HEADERS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		size_t len = strlen(line);

		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (!colon)
			continue;
		*colon++ = '\0';
		while (*colon == ' ' || *colon == '\t')
			colon++;
		r->name[r->n] = line;
		r->value[r->n] = colon;
		r->n++;
	}
}

static int decode(struct request *r, const char *body, size_t len, struct cde_event ***events,
		  size_t *n, enum cde_ce_request_mode *mode, struct cde_errors *errs)
{
	struct cde_ce_request req = {
		.header = header, .ctx = r, .body = body, .body_len = len,
	};

	cde_errors_reset(errs);
	return cde_ce_decode(&req, events, n, mode, errs);
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static void round_trip(const struct cde_event *ev, enum cde_ce_mode mode)
{
	struct cde_ce_message msg;
	struct request r = { 0 };
	struct cde_errors errs;
	struct cde_event **back = NULL;
	enum cde_ce_request_mode back_mode;
	size_t n = 0;
	int e;

	memset(&msg, 0, sizeof(msg));
	if (cde_ce_encode(ev, mode, &msg) != 0)
		return; /* no id, source or type: nothing a sink could send */
	for (size_t i = 0; i < msg.n_headers && r.n < MAX_HEADERS; i++) {
		r.name[r.n] = msg.headers[i].name;
		r.value[r.n] = msg.headers[i].value;
		r.n++;
	}
	e = decode(&r, msg.body, msg.body_len, &back, &n, &back_mode, &errs);
	if (e != 0) {
		fuzz_print_errors(&errs);
		fprintf(stderr, "  body: %.*s\n", (int)msg.body_len, msg.body);
	}
	FUZZ_CHECK(e == 0, "an event encoded in mode %d does not decode again (%d)", (int)mode, e);
	FUZZ_CHECK(n == 1, "one event encoded, %zu decoded", n);
	FUZZ_CHECK(strcmp(str_or_empty(cde_event_id(back[0])), str_or_empty(cde_event_id(ev))) == 0 &&
		   strcmp(str_or_empty(cde_event_source(back[0])), str_or_empty(cde_event_source(ev))) == 0 &&
		   strcmp(str_or_empty(cde_event_type(back[0])), str_or_empty(cde_event_type(ev))) == 0,
		   "id, source or type changed on the way (mode %d)", (int)mode);
	cde_ce_events_free(back, n);
	cde_ce_message_release(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = NULL;
	size_t head_len = size;
	struct request r = { 0 };
	struct cde_errors errs;
	struct cde_event **events = NULL;
	enum cde_ce_request_mode mode;
	size_t n = 0;
	char *head;

	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			sep = data + i;
			head_len = i;
			break;
		}
	head = fuzz_strndup(data, head_len);
	parse_headers(head, &r);
	if (decode(&r, sep ? (const char *)sep + 2 : "", sep ? size - head_len - 2 : 0, &events,
		   &n, &mode, &errs) == 0) {
		FUZZ_CHECK(n > 0 && events, "success without events");
		for (size_t i = 0; i < n; i++) {
			cde_errors_reset(&errs);
			if (cde_validate(cat, cde_event_json(events[i]), NULL, &errs) != 0)
				continue;
			round_trip(events[i], CDE_CE_BINARY);
			round_trip(events[i], CDE_CE_STRUCTURED);
		}
		cde_ce_events_free(events, n);
	}
	free(head);
	return 0;
}
