/* The audit journal on SQLite: audit.db opened, its tail checked, then
 * handed to the writer thread (journal_audit.c) as a backend. */

#include "sinks/audit/journal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sinks/audit/audit_backend.h"
#include "sinks/audit/audit_retention.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/tlog/note.h"

static int sqlite_begin(void *s, char *err, size_t err_size)
{
	return cde_audit_store_begin(s, err, err_size);
}

static int sqlite_add(void *s, struct cde_journal_entry *entries, size_t n, char *err, size_t err_size)
{
	return cde_audit_store_add(s, entries, n, err, err_size);
}

static int sqlite_commit(void *s, char *err, size_t err_size)
{
	return cde_audit_store_commit(s, err, err_size);
}

static void sqlite_rollback(void *s)
{
	cde_audit_store_rollback(s);
}

static int sqlite_retain(void *s, const struct cde_audit_retention *policy, int64_t now,
			 struct cde_audit_retention_run *out, char *err, size_t err_size)
{
	return cde_audit_retain(s, policy, now, out, err, err_size);
}

static int sqlite_sign_tree(void *s, char *err, size_t err_size)
{
	return cde_audit_store_sign_tree(s, err, err_size);
}

static char *sqlite_take_checkpoint(void *s, uint64_t *ret_size)
{
	return cde_audit_store_take_checkpoint(s, ret_size);
}

static bool sqlite_take_sign_error(void *s, char *out, size_t size)
{
	return cde_audit_store_take_sign_error(s, out, size);
}

static uint64_t sqlite_tree_size(const void *s)
{
	return cde_audit_store_tree_size(s);
}

static uint64_t sqlite_signed_size(const void *s)
{
	return cde_audit_store_signed_size(s);
}

static void sqlite_close(void *s)
{
	cde_audit_store_close(s);
}

const struct cde_audit_backend_ops cde_audit_backend_sqlite = {
	.name = "sqlite",
	.begin = sqlite_begin,
	.add = sqlite_add,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.retain = sqlite_retain,
	.sign_tree = sqlite_sign_tree,
	.take_checkpoint = sqlite_take_checkpoint,
	.take_sign_error = sqlite_take_sign_error,
	.tree_size = sqlite_tree_size,
	.signed_size = sqlite_signed_size,
	.close = sqlite_close,
};

/* The start-up check of the log's tail; see cde_journal_audit_new. */
static int check_log(struct cde_audit_store *s, const struct cde_journal_audit_options *o,
		     struct cde_journal_audit_opened *opened, char *err, size_t err_size)
{
	struct cde_audit_verify v;
	int r = cde_audit_store_check_tail(s, &v);

	memset(opened, 0, sizeof(*opened));
	opened->head_file_damaged = v.head_file_damaged;
	if (r == -EBADMSG) {
		snprintf(err, err_size, "%s: the chain is broken at seq %llu: %s. Nothing was appended; run "
			 "cdevctl audit verify, and restore the log from a backup", o->path,
			 (unsigned long long)v.bad_seq, v.reason);
		return r;
	}
	if (r == -ENODATA && !o->accept_loss) {
		snprintf(err, err_size, "%s: seqs %llu to %llu were acknowledged but are not in the log (%s). "
			 "Was audit.db-wal deleted, or an older copy of audit.db put back? Restore the "
			 "missing rows, or start once with --accept-log-loss to record the loss in the chain and go on",
			 o->path, (unsigned long long)v.head_seq + 1, (unsigned long long)v.claimed_head, v.reason);
		return r;
	}
	if (r == -ENODATA) {
		r = cde_audit_store_accept_loss(s, &v, err, err_size);
		if (r < 0)
			return r;
		opened->lost_first = v.head_seq + 1;
		opened->lost_last = v.claimed_head;
		v.head_seq = v.claimed_head;
	}
	if (r < 0) {
		snprintf(err, err_size, "%s: cannot read the log to check it", o->path);
		return r;
	}
	opened->rows = v.rows;
	opened->head_seq = v.head_seq;
	return 0;
}

int cde_journal_audit_new(struct event_base *base, const struct cde_journal_audit_options *o,
			  struct cde_journal *ret, struct cde_journal_audit_opened *opened,
			  char *err, size_t err_size)
{
	struct cde_audit_store *s;
	int r = cde_audit_store_open(o->path, false, o->sync_full ? CDE_AUDIT_SYNC_FULL : CDE_AUDIT_SYNC_NORMAL,
				     &s, err, err_size);

	if (r < 0) {
		cde_note_signer_free(o->signer);
		return r;
	}
	/* The store owns the signer from here on, also on failure. */
	if (o->signer)
		r = cde_audit_store_set_signer(s, o->signer, o->tree_every ? o->tree_every : 1000, err, err_size);
	if (r == 0 && o->key && (r = cde_audit_store_set_checkpoints(s, o->key, o->key_len, o->every)) < 0)
		snprintf(err, err_size, "the checkpoint key must be %d to %d bytes", CDE_AUDIT_KEY_MIN,
			 CDE_AUDIT_KEY_MAX);
	if (r == 0)
		r = check_log(s, o, opened, err, err_size);
	/* The WAL copied back by a thread of its own, not between groups;
	 * without it the commits checkpoint as before, slower but whole. */
	if (r == 0)
		opened->checkpoints_aside = cde_audit_store_checkpoint_aside(s, opened->checkpoints_why,
									     sizeof(opened->checkpoints_why)) == 0;
	if (r < 0) {
		cde_audit_store_close(s);
		return r;
	}
	opened->tree_size = cde_audit_store_tree_size(s);
	return cde_journal_writer_new(base, (struct cde_audit_backend){ &cde_audit_backend_sqlite, s }, o,
				      opened->rows, ret, err, err_size);
}
