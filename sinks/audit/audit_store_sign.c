/* When the audit store signs a checkpoint of its Merkle tree: inside the
 * commit that brings the tree @every leaves past the last checkpoint (so
 * a checkpoint never names a size the file may lose), or on request from
 * the writer's timer. The note is handed to the writer after the commit,
 * to be served and sent to witnesses. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/audit_signed.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/audit_store_internal.h"

int cde_audit_store_set_signer(struct cde_audit_store *s, struct cde_note_signer *signer, unsigned every,
			       char *err, size_t err_size)
{
	char *note = NULL;
	uint64_t size = 0;
	int r;

	if (s->read_only || !signer || every == 0) {
		cde_note_signer_free(signer);
		snprintf(err, err_size, "signed checkpoints need a writable log and a signer");
		return -EINVAL;
	}
	r = cde_audit_checkpoint_latest(s->db, &size, &note);
	free(note);
	if (r < 0 && r != -ENOENT) {
		cde_note_signer_free(signer);
		return cde_audit_store_fail(s->db, err, err_size, "reading the latest checkpoint");
	}
	cde_note_signer_free(s->signer);
	s->signer = signer;
	s->sign_every = every;
	s->signed_size = size;
	return 0;
}

int cde_audit_store_sign_due(struct cde_audit_store *s, char *err, size_t err_size)
{
	uint64_t size = s->tree.work.size;
	uint8_t root[CDE_TLOG_HASH_LEN];
	char at[CDE_TIMESTAMP_STR_LEN];
	int r;

	if (!s->signer || size <= s->signed_size || (!s->sign_now && size - s->signed_size < s->sign_every))
		return 0;
	r = cde_tlog_frontier_root(&s->tree.work, root);
	if (r < 0) {
		snprintf(err, err_size, "the tree head: %s", strerror(-r));
		return r;
	}
	cde_timestamp_now(at);
	free(s->work_note);
	s->work_note = NULL;
	r = cde_audit_checkpoint_sign(s->db, s->signer, size, root, at, &s->work_note, err, err_size);
	if (r == 0)
		s->work_note_size = size;
	return r;
}

void cde_audit_store_sign_settled(struct cde_audit_store *s, bool committed)
{
	s->sign_now = false;
	if (!s->work_note)
		return;
	if (committed) {
		free(s->fresh_note);
		s->fresh_note = s->work_note;
		s->fresh_note_size = s->work_note_size;
		s->signed_size = s->work_note_size;
	} else {
		free(s->work_note);
	}
	s->work_note = NULL;
}

int cde_audit_store_sign_tree(struct cde_audit_store *s, char *err, size_t err_size)
{
	int r;

	if (!s->signer || s->tree.committed.size <= s->signed_size)
		return 0;
	r = cde_audit_store_begin(s, err, err_size);
	if (r < 0)
		return r;
	s->sign_now = true;
	r = cde_audit_store_commit(s, err, err_size);
	if (r < 0)
		cde_audit_store_rollback(s);
	return r;
}

char *cde_audit_store_take_checkpoint(struct cde_audit_store *s, uint64_t *ret_size)
{
	char *note = s->fresh_note;

	*ret_size = s->fresh_note_size;
	s->fresh_note = NULL;
	return note;
}

uint64_t cde_audit_store_tree_size(const struct cde_audit_store *s)
{
	return s->tree.committed.size;
}

uint64_t cde_audit_store_signed_size(const struct cde_audit_store *s)
{
	return s->signed_size;
}
