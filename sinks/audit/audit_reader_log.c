/* The transparency log's reads on the audit reader's thread: the latest
 * signed checkpoint, inclusion and consistency proofs and receipts,
 * answered through a proof source (audit_proof_source.h) so that they
 * read alike from audit.db and from PostgreSQL. audit_reader.c runs them
 * on its thread and reconnects a lost PostgreSQL session. */

#include "sinks/audit/audit_reader_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_signed.h"

static void answer(struct cde_audit_log_answer *a, int status, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void answer(struct cde_audit_log_answer *a, int status, const char *param, const char *fmt, ...)
{
	va_list ap;

	a->status = status;
	a->param = param;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
}

/* @json printed into the answer (200), or 500 out of memory. */
static void answer_json(struct cde_audit_log_answer *a, cJSON *json)
{
	a->body = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (a->body)
		a->status = 200;
	else
		answer(a, 500, NULL, "out of memory");
}

/* A failure to read the log: 503 when the database cannot be reached
 * (worth a retry), else 500. */
static void answer_failed(struct cde_audit_log_answer *a, int r, const char *why)
{
	if (r == -ENOTCONN)
		answer(a, 503, NULL, "the database cannot be reached: retry shortly");
	else
		answer(a, 500, NULL, "%s", r == -ENOMEM ? "out of memory" : why);
}

/* Where -errno @r of a proof sends the request: -ENOENT the row is not
 * there, -ERANGE it is not in the tree asked of, -EBADMSG it no longer
 * hashes to its leaf. */
static void answer_proof_error(struct cde_audit_log_answer *a, int r, const char *why)
{
	a->altered = r == -EBADMSG;
	if (r == -ENOENT || r == -ERANGE || r == -EBADMSG)
		answer(a, r == -ENOENT ? 404 : 409, NULL, "%s", why);
	else
		answer_failed(a, r, why);
}

/* The tree's size, or the answer that it could not be read. */
static int tree_size(const struct cde_audit_proof_source *src, uint64_t *ret, struct cde_audit_log_answer *a)
{
	int r = src->tree_size(src->ctx, ret);

	if (r < 0)
		answer_failed(a, r, "the audit log could not be read");
	return r;
}

static void run_inclusion(const struct cde_audit_proof_source *src, const struct cde_audit_log_request *q,
			  struct cde_audit_log_answer *a)
{
	uint64_t seq = q->seq, tree;
	cJSON *json = NULL;
	char why[256] = "";
	int r;

	if (tree_size(src, &tree, a) < 0)
		return;
	/* The tree only grows: a size within it now is within it in the
	 * proof's snapshot too, so what fails there is the row's. */
	if (q->size > tree) {
		answer(a, 400, "size", "%llu is beyond the tree (%llu entries)", (unsigned long long)q->size,
		       (unsigned long long)tree);
		return;
	}
	if (q->id) {
		r = src->seq_of(src->ctx, q->source, q->id, &seq);
		if (r == -ENOENT)
			answer(a, 404, NULL, "no event with this source and id is in the log (never stored, or "
			       "deleted by retention)");
		else if (r < 0)
			answer_failed(a, r, "the audit log could not be read");
		if (r < 0)
			return;
	}
	r = cde_audit_proof_inclusion_from(src, seq, q->size, &json, why, sizeof(why));
	if (r < 0)
		answer_proof_error(a, r, why);
	else
		answer_json(a, json);
}

static void run_consistency(const struct cde_audit_proof_source *src, const struct cde_audit_log_request *q,
			    struct cde_audit_log_answer *a)
{
	cJSON *json = NULL;
	char why[256] = "";
	uint64_t tree;
	int r;

	if (tree_size(src, &tree, a) < 0)
		return;
	if (q->to > tree) {
		answer(a, 400, "to", "%llu is beyond the tree (%llu entries)", (unsigned long long)q->to,
		       (unsigned long long)tree);
		return;
	}
	r = cde_audit_proof_consistency_from(src, q->from, q->to, &json, why, sizeof(why));
	if (r == -ERANGE)
		answer(a, 400, "from", "%s", why);
	else if (r < 0)
		answer_failed(a, r, why);
	else
		answer_json(a, json);
}

/* The receipts of @q->seqs in the tree of @q->size leaves, from one read
 * snapshot: a JSON array, or 500 with the first failure's reason. */
static void run_receipts(const struct cde_audit_proof_source *src, const struct cde_audit_log_request *q,
			 struct cde_audit_log_answer *a)
{
	cJSON *list = cJSON_CreateArray(), *one = NULL;
	char why[256] = "out of memory";
	int r = list ? 0 : -ENOMEM, opened = 0;

	if (r == 0)
		r = opened = src->begin(src->ctx, why, sizeof(why));
	for (size_t i = 0; r >= 0 && i < q->n_seqs; i++) {
		r = cde_audit_proof_inclusion_from(src, q->seqs[i], q->size, &one, why, sizeof(why));
		if (r == 0 && !cJSON_AddItemToArray(list, one)) {
			cJSON_Delete(one);
			r = -ENOMEM;
		}
	}
	if (opened > 0)
		src->end(src->ctx, opened);
	if (r < 0) {
		cJSON_Delete(list);
		answer_failed(a, r, why);
		return;
	}
	answer_json(a, list);
}

static void run_checkpoint(const struct cde_audit_proof_source *src, struct cde_audit_log_answer *a)
{
	char why[256] = "";
	uint64_t size;
	int r = cde_audit_proof_checkpoint_from(src, &size, &a->body, why, sizeof(why));

	if (r == 0)
		a->status = 200;
	else if (r == -ENOENT)
		answer(a, 404, NULL, "no signed checkpoint yet: the first is made at most "
		       "audit.tree_checkpoint_interval after the first event");
	else
		answer_failed(a, r, "the audit log could not be read");
}

void cde_audit_reader_run_log(const struct cde_audit_proof_source *src, const struct cde_audit_log_request *q,
			      struct cde_audit_log_answer *a)
{
	switch (q->kind) {
	case CDE_AUDIT_LOG_CHECKPOINT:
		run_checkpoint(src, a);
		break;
	case CDE_AUDIT_LOG_INCLUSION:
		run_inclusion(src, q, a);
		break;
	case CDE_AUDIT_LOG_CONSISTENCY:
		run_consistency(src, q, a);
		break;
	case CDE_AUDIT_LOG_RECEIPTS:
		run_receipts(src, q, a);
		break;
	}
}
