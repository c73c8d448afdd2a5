/* Opening the audit log on PostgreSQL: connect, migrate, read the head
 * and the tree, check the signed history, then start the journal's
 * writer thread over the store. */

#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/pg/pg_store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/pg/pg_schema.h"

/* The head, the tree and the rows counted, at open. */
static int read_opened(struct cde_pg_store *s, struct cde_pg_store_opened *opened, char *err, size_t err_size)
{
	PGresult *res = PQexec(s->c, "SELECT seq, tree_size, (SELECT count(*) FROM events) FROM log_head");
	int r;

	if (!cde_pg_ok(res, true))	/* which cleared it */
		return cde_pg_fail(s->c, err, err_size, "reading the log's head");
	if (PQntuples(res) != 1) {
		PQclear(res);
		snprintf(err, err_size, "the log's head row is missing");
		return -EBADMSG;
	}
	s->head_seq = (uint64_t)cde_pg_int(res, 0, 0);
	opened->head_seq = s->head_seq;
	opened->tree_size = (unsigned long long)cde_pg_int(res, 0, 1);
	opened->rows = (unsigned long long)cde_pg_int(res, 0, 2);
	PQclear(res);
	r = cde_pg_tree_sync(&s->tree, opened->tree_size, err, err_size);
	return r;
}

int cde_pg_store_open(const struct cde_pg_options *o, const uint8_t *key, size_t key_len, unsigned every,
		      struct cde_pg_store **ret, struct cde_pg_store_opened *opened, char *err, size_t err_size)
{
	struct cde_pg_store *s = calloc(1, sizeof(*s));
	int r;

	*ret = NULL;
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	if (key && (key_len < CDE_AUDIT_KEY_MIN || key_len > CDE_AUDIT_KEY_MAX || every == 0)) {
		snprintf(err, err_size, "the checkpoint key must be %d to %d bytes", CDE_AUDIT_KEY_MIN, CDE_AUDIT_KEY_MAX);
		free(s);
		return -EINVAL;
	}
	if (key) {
		memcpy(s->key, key, key_len);
		s->key_len = key_len;
		s->every = every;
	}
	r = cde_pg_connect(o, "cdeventsd writer", &s->c, err, err_size);
	if (r == 0)
		r = cde_pg_schema_migrate(s->c, err, err_size);
	if (r == 0)
		r = cde_pg_store_prepare(s, err, err_size);
	if (r == 0)
		r = read_opened(s, opened, err, err_size);
	if (r < 0) {
		cde_pg_store_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

int cde_pg_store_set_signer(struct cde_pg_store *s, struct cde_note_signer *signer, unsigned every, char *err,
			    size_t err_size)
{
	cde_pg_signing_release(&s->signing);
	return cde_pg_signing_start(&s->signing, s->c, &s->tree.io, s->tree.committed.size, signer, every, err,
				    err_size);
}

int cde_journal_pg_new(struct event_base *base, const struct cde_pg_options *pg,
		       const struct cde_journal_audit_options *o, struct cde_journal *ret,
		       struct cde_journal_audit_opened *opened, char *err, size_t err_size)
{
	struct cde_pg_store_opened found;
	struct cde_pg_store *s;
	int r;

	memset(opened, 0, sizeof(*opened));
	if (o->retention.max_bytes) {
		cde_note_signer_free(o->signer);
		snprintf(err, err_size, "audit.max_size does not apply to PostgreSQL (its tables do not shrink when "
			 "rows go): use audit.max_age, or size the database itself");
		return -EINVAL;
	}
	r = cde_pg_store_open(pg, o->key, o->key_len, o->every, &s, &found, err, err_size);
	if (r < 0) {
		cde_note_signer_free(o->signer);
		return r;
	}
	/* The signer is the store's from here on, also on failure. */
	if (o->signer && (r = cde_pg_store_set_signer(s, o->signer, o->tree_every, err, err_size)) < 0) {
		cde_pg_store_close(s);
		return r;
	}
	opened->rows = found.rows;
	opened->head_seq = found.head_seq;
	opened->tree_size = found.tree_size;
	return cde_journal_writer_new(base, (struct cde_audit_backend){ &cde_audit_backend_pg, s }, o, found.rows,
				      ret, err, err_size);
}
