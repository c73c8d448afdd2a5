/* The transparency log over HTTP: GET /v1/log/checkpoint (the latest
 * signed note, byte for byte), /v1/log/proof/inclusion and
 * /v1/log/proof/consistency (audit_proof.h's JSON), read by the reader
 * thread. Parameters are checked here, the tree's bounds there. */

#include "daemon/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/query_string.h"

/* A request's parameters: which were given, and their values. */
struct log_params {
	struct cde_audit_log_request q;
	const char *const *known;	/* the names this route takes */
	struct cde_errors *errs;
	char source[1024], id[1024];
	bool has_seq, has_size, has_from, has_to;
};

static const char *const inclusion_params[] = { "seq", "size", "source", "id", NULL };
static const char *const consistency_params[] = { "from", "to", NULL };

/* @v into *@ret when it is a number from 1; the error names @name. */
static void number(struct log_params *p, const char *name, const char *v, uint64_t *ret, bool *given)
{
	char ptr[16];

	snprintf(ptr, sizeof(ptr), "/query/%s", name);
	*given = true;
	if (cde_audit_parse_seq(v, ret) < 0 || *ret == 0)
		cde_errors_add(p->errs, ptr, "must be a number from 1 to %lld", (long long)INT64_MAX);
}

static void text(struct log_params *p, const char *name, const char *v, char *buf, size_t size)
{
	char ptr[16];

	snprintf(ptr, sizeof(ptr), "/query/%s", name);
	if (!*v || strlen(v) >= size)
		cde_errors_add(p->errs, ptr, *v ? "too long" : "must not be empty");
	else
		memcpy(buf, v, strlen(v) + 1);
}

static int on_param(void *ctx, const char *name, const char *value)
{
	struct log_params *p = ctx;
	bool known = false;
	char ptr[80];

	for (size_t i = 0; p->known[i]; i++)
		known = known || strcmp(p->known[i], name) == 0;
	if (!known) {
		snprintf(ptr, sizeof(ptr), "/query/%.60s", name);
		cde_errors_add(p->errs, ptr, "unknown parameter (known: %s)",
			       p->known == inclusion_params ? "seq, size, source, id" : "from, to");
	} else if (strcmp(name, "seq") == 0) {
		number(p, name, value, &p->q.seq, &p->has_seq);
	} else if (strcmp(name, "size") == 0) {
		number(p, name, value, &p->q.size, &p->has_size);
	} else if (strcmp(name, "from") == 0) {
		number(p, name, value, &p->q.from, &p->has_from);
	} else if (strcmp(name, "to") == 0) {
		number(p, name, value, &p->q.to, &p->has_to);
	} else {
		text(p, name, value, strcmp(name, "id") == 0 ? p->id : p->source,
		     strcmp(name, "id") == 0 ? sizeof(p->id) : sizeof(p->source));
	}
	return 0;
}

/* Reads the query of @req against @known; false (answered 400) when a
 * parameter is bad. */
static bool parse(struct cde_http_request *req, const char *const *known, struct log_params *p,
		  struct cde_errors *errs)
{
	int r;

	memset(p, 0, sizeof(*p));
	cde_errors_reset(errs);
	p->known = known;
	p->errs = errs;
	r = cde_query_parse(cde_http_request_query(req), on_param, p);
	if (r < 0)
		cde_errors_add(errs, "/query", r == -E2BIG ? "too long" : "malformed percent-encoding");
	return cde_errors_empty(errs);
}

/* The reader's answer, on the loop: @type is the Content-Type header of
 * a 200 (NULL: JSON). */
static void answer(struct cde_http_request *req, struct cde_audit_log_answer *a, const char *const *type)
{
	/* 503: the database (PostgreSQL) cannot be reached for now. */
	static const char *const retry[] = { "Retry-After: 5", NULL };
	struct cde_errors errs;
	char ptr[16];

	if (a->status == 200) {
		cde_http_reply(req, 200, a->body, type);
		free(a->body);
		return;
	}
	cde_errors_reset(&errs);
	ptr[0] = '\0';
	if (a->param)
		snprintf(ptr, sizeof(ptr), "/query/%s", a->param);
	cde_errors_add(&errs, ptr, "%s", a->reason);
	if (a->altered)
		cde_api_reply_error_logged(req, 409, "the log does not prove this entry", &errs, NULL, CDE_LOG_ERROR,
					   NULL, "evidence of tampering: an audit row no longer hashes to its leaf");
	else
		cde_api_reply_error(req, a->status, a->status == 400 ? "invalid query" : a->status == 404 ? "not in the log"
				    : a->status == 409 ? "no proof in this tree" : a->status == 503 ? "not available"
				    : "the audit log could not be read", &errs,
				    a->status == 503 ? retry : NULL);
}

static void on_proof(void *ctx, struct cde_audit_log_answer *a)
{
	answer(ctx, a, NULL);
}

/* C2SP: clients keep the note as it is, so it is served as stored. */
static void on_note(void *ctx, struct cde_audit_log_answer *a)
{
	static const char *const note_type[] = { "Content-Type: text/plain; charset=utf-8", NULL };

	answer(ctx, a, note_type);
}

static void submit(struct cde_api *api, struct cde_http_request *req, const struct cde_audit_log_request *q)
{
	int r = cde_audit_reader_submit_log(api->reader, q, q->kind == CDE_AUDIT_LOG_CHECKPOINT ? on_note : on_proof,
					    req);

	if (r < 0)
		cde_api_reply_not_queued(req, r);
}

void cde_api_handle_log_checkpoint(struct cde_api *api, struct cde_http_request *req)
{
	struct cde_audit_log_request q = { .kind = CDE_AUDIT_LOG_CHECKPOINT };
	struct cde_errors errs;

	cde_errors_reset(&errs);
	if (!api->signs_checkpoints) {
		cde_errors_add(&errs, "", "the log signs no checkpoints: set audit.signing_key_file "
			       "(cdevctl audit keygen makes the key)");
		cde_api_reply_error(req, 404, "no signed checkpoint", &errs, NULL);
		return;
	}
	submit(api, req, &q);
}

void cde_api_handle_log_inclusion(struct cde_api *api, struct cde_http_request *req)
{
	struct cde_errors errs;
	struct log_params *p = malloc(sizeof(*p));

	if (!p) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
		return;
	}
	if (parse(req, inclusion_params, p, &errs)) {
		bool by_id = p->id[0] || p->source[0];

		if (p->has_seq == by_id)
			cde_errors_add(&errs, "/query/seq", p->has_seq ? "give seq, or source and id, not both"
				       : "required (or source and id)");
		else if (by_id && !(p->id[0] && p->source[0]))
			cde_errors_add(&errs, p->id[0] ? "/query/source" : "/query/id",
				       "source and id name an event together: give both");
	}
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
	} else {
		p->q.kind = CDE_AUDIT_LOG_INCLUSION;
		p->q.source = p->source[0] ? p->source : NULL;
		p->q.id = p->id[0] ? p->id : NULL;
		submit(api, req, &p->q);
	}
	free(p);
}

void cde_api_handle_log_consistency(struct cde_api *api, struct cde_http_request *req)
{
	struct cde_errors errs;
	struct log_params *p = malloc(sizeof(*p));

	if (!p) {
		cde_api_reply_error(req, 500, "out of memory", NULL, NULL);
		return;
	}
	if (parse(req, consistency_params, p, &errs) && !p->has_from)
		cde_errors_add(&errs, "/query/from", "required: the size of the checkpoint you hold");
	if (cde_errors_empty(&errs) && p->has_to && p->q.from > p->q.to)
		cde_errors_add(&errs, "/query/from", "must not be past to");
	if (!cde_errors_empty(&errs)) {
		cde_api_reply_error(req, 400, "invalid query", &errs, NULL);
	} else {
		p->q.kind = CDE_AUDIT_LOG_CONSISTENCY;
		submit(api, req, &p->q);
	}
	free(p);
}
