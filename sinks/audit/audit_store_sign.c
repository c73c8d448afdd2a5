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
#include "sinks/audit/audit_proof.h"

/* The tree head of the first @size committed leaves, into @root. */
static int committed_root(struct cde_audit_store *s, uint64_t size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	struct cde_audit_tree_reader reader;
	int r = cde_audit_tree_reader_init(&reader, s->db);

	if (r == 0)
		r = cde_tlog_root(&reader.tlog, size, root);
	cde_audit_tree_reader_release(&reader);
	return r;
}

/* Whether the first @size leaves of the tree have head @root: 0, or
 * -ESTALE with why in @err (@where signed it). */
static int tree_has(struct cde_audit_store *s, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN],
		    const char *where, char *err, size_t err_size)
{
	uint8_t ours[CDE_TLOG_HASH_LEN];
	int r = size > s->tree.committed.size ? -ESTALE : committed_root(s, size, ours);

	if (r == 0 && memcmp(root, ours, sizeof(ours)) != 0)
		r = -ESTALE;
	if (r == -ESTALE)
		snprintf(err, err_size, "the Merkle tree (%llu entries) is not the one %s signed at %llu entries: "
			 "entries a signed checkpoint covered were lost or changed, and signing again with this key "
			 "would show witnesses two different logs. Make a new key (cdevctl audit keygen with a new "
			 "--name) and give its verifier key to those who check the log",
			 (unsigned long long)s->tree.committed.size, where, (unsigned long long)size);
	return r;
}

/* The checkpoint kept in PATH-checkpoint, if this key signed it, still
 * describes the tree (another key's is another log: nothing to compare). */
static int kept_note_agrees(struct cde_audit_store *s, const struct cde_note_signer *signer, char *err,
			    size_t err_size)
{
	struct cde_note_verifier *v = NULL;
	char *note = NULL, *vkey = NULL, why[160];
	uint8_t root[32];
	uint64_t size = 0;
	int r = cde_audit_checkpoint_file_read(s->path, &note);

	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = cde_note_signer_verifier_key(signer, &vkey);
	if (r == 0)
		r = cde_note_verifier_parse(vkey, &v, why, sizeof(why));
	if (r == 0 && cde_audit_checkpoint_open(note, &v, 1, &size, root, NULL, 0, why, sizeof(why)) == 0)
		r = tree_has(s, size, root, "the checkpoint kept in audit.db-checkpoint", err, err_size);
	cde_note_verifier_free(v);
	free(vkey);
	free(note);
	return r;
}

/* Before signing anything: the latest checkpoint in the database matches
 * the tree (whoever signed it: the two live in one file), and so does
 * the one this key signed last, kept outside it. */
static int check_signed_history(struct cde_audit_store *s, const struct cde_note_signer *signer, char *err,
				size_t err_size)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT size, root FROM tree_checkpoints ORDER BY size DESC LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return cde_audit_store_fail(s->db, err, err_size, "reading the latest checkpoint");
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->signed_size = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) != CDE_TLOG_HASH_LEN)
			r = tree_has(s, s->signed_size, (const uint8_t[CDE_TLOG_HASH_LEN]){ 0 },
				     "the latest checkpoint in the database", err, err_size);
		else
			r = tree_has(s, s->signed_size, sqlite3_column_blob(st, 1), "the latest checkpoint in the database",
				     err, err_size);
	}
	sqlite3_finalize(st);
	if (r == 0)
		r = kept_note_agrees(s, signer, err, err_size);
	if (r < 0 && r != -ESTALE)
		snprintf(err, err_size, "checking the signed checkpoints against the tree: %s", strerror(-r));
	return r;
}

int cde_audit_store_set_signer(struct cde_audit_store *s, struct cde_note_signer *signer, unsigned every,
			       char *err, size_t err_size)
{
	int r;

	if (s->read_only || !signer || every == 0) {
		cde_note_signer_free(signer);
		snprintf(err, err_size, "signed checkpoints need a writable log and a signer");
		return -EINVAL;
	}
	s->signed_size = 0;
	r = check_signed_history(s, signer, err, err_size);
	if (r < 0) {
		cde_note_signer_free(signer);
		return r;
	}
	cde_note_signer_free(s->signer);
	s->signer = signer;
	s->sign_every = every;
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
		snprintf(s->sign_error, sizeof(s->sign_error), "the tree head: %s", strerror(-r));
		return 0;
	}
	cde_timestamp_now(at);
	free(s->work_note);
	s->work_note = NULL;
	/* A checkpoint that cannot be made must not cost the events their
	 * commit: they go in, the error is kept, and the timer tries again. */
	r = cde_audit_checkpoint_sign(s->db, s->signer, size, root, at, &s->work_note, s->sign_error,
				      sizeof(s->sign_error));
	if (r == 0)
		s->work_note_size = size;
	return 0;
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
		/* After the commit, as the head file: a failure loses nothing
		 * but this guard against signing lost sizes again. */
		if (cde_audit_checkpoint_file_write(s->path, s->fresh_note) < 0)
			snprintf(s->sign_error, sizeof(s->sign_error), "cannot write %s-checkpoint", s->path);
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

bool cde_audit_store_take_sign_error(struct cde_audit_store *s, char *out, size_t size)
{
	if (!s->sign_error[0])
		return false;
	snprintf(out, size, "%s", s->sign_error);
	s->sign_error[0] = '\0';
	return true;
}
