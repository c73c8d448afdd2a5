/* Signed checkpoints on PostgreSQL (see pg_sign.h). The note is made as
 * on SQLite (C2SP tlog-checkpoint text, signed note) and stored in
 * tree_checkpoints with the group that completes it. */

#include "sinks/audit/pg/pg_sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"
#include "sinks/audit/pg/pg_conn.h"
#include "sinks/audit/tlog/checkpoint.h"

/* The latest checkpoint's size and root; size 0 when there is none. */
static int latest(PGconn *c, uint64_t *ret_size, uint8_t root[CDE_TLOG_HASH_LEN])
{
	PGresult *res = PQexecParams(c, "SELECT size, root FROM tree_checkpoints ORDER BY size DESC LIMIT 1", 0, NULL,
				     NULL, NULL, NULL, 1);
	int r = 0;

	if (!cde_pg_ok(res, true))
		return -EIO;
	*ret_size = 0;
	if (PQntuples(res) == 1) {
		const uint8_t *b = (const uint8_t *)PQgetvalue(res, 0, 0);

		for (int i = 0; i < 8; i++)
			*ret_size = *ret_size << 8 | b[i];
		if (PQgetlength(res, 0, 1) == CDE_TLOG_HASH_LEN)
			memcpy(root, PQgetvalue(res, 0, 1), CDE_TLOG_HASH_LEN);
		else
			r = -EBADMSG;
	}
	PQclear(res);
	return r;
}

int cde_pg_signing_start(struct cde_pg_signing *g, PGconn *c, const struct cde_audit_tile_io *io,
			 uint64_t tree_size, struct cde_note_signer *signer, unsigned every, char *err,
			 size_t err_size)
{
	uint8_t root[CDE_TLOG_HASH_LEN], ours[CDE_TLOG_HASH_LEN];
	struct cde_audit_tile_reader reader;
	uint64_t size;
	int r = latest(c, &size, root);

	if (r == -EIO) {
		cde_note_signer_free(signer);
		return cde_pg_fail(c, err, err_size, "reading the latest checkpoint");
	}
	if (r == 0 && size) {
		cde_audit_tile_reader_init(&reader, io);
		r = size > tree_size ? -ESTALE : cde_tlog_root(&reader.tlog, size, ours);
		if (r == 0 && memcmp(root, ours, sizeof(ours)) != 0)
			r = -ESTALE;
	}
	if (r < 0) {
		cde_note_signer_free(signer);
		snprintf(err, err_size, "the Merkle tree (%llu entries) is not the one the latest checkpoint in the "
			 "database signed at %llu entries: entries it covered were lost or changed, and signing again "
			 "would show witnesses two different logs. Make a new key (cdevctl audit keygen with a new "
			 "--name) and give its verifier key to those who check the log", (unsigned long long)tree_size,
			 (unsigned long long)size);
		return r == -EIO ? -EIO : -ESTALE;
	}
	g->signer = signer;
	g->every = every ? every : 1000;
	g->signed_size = size;
	return 0;
}

/* Stores the note inside a savepoint: an INSERT that fails must not
 * abort the group's transaction and cost the events their commit. */
static int store(PGconn *c, uint64_t size, const uint8_t root[CDE_TLOG_HASH_LEN], const char *note, const char *at,
		 char *err, size_t err_size)
{
	char size_s[24];
	const char *values[4] = { cde_pg_u64(size, size_s), (const char *)root, note, at };
	int lengths[4] = { 0, CDE_TLOG_HASH_LEN, 0, 0 }, formats[4] = { 0, 1, 0, 0 };
	PGresult *res;

	if (cde_pg_exec(c, "SAVEPOINT sign", err, err_size, "storing the checkpoint") < 0)
		return -EIO;
	res = PQexecParams(c, "INSERT INTO tree_checkpoints(size, root, note, at) VALUES ($1, $2, $3, $4)", 4, NULL,
			   values, lengths, formats, 0);
	if (!cde_pg_ok(res, false)) {
		cde_pg_fail(c, err, err_size, "storing the checkpoint");
		PQclear(PQexec(c, "ROLLBACK TO SAVEPOINT sign"));
		return -EIO;
	}
	PQclear(res);
	return cde_pg_exec(c, "RELEASE SAVEPOINT sign", err, err_size, "storing the checkpoint");
}

void cde_pg_signing_due(struct cde_pg_signing *g, PGconn *c, const struct cde_tlog_frontier *work)
{
	uint8_t root[CDE_TLOG_HASH_LEN];
	char at[CDE_TIMESTAMP_STR_LEN], *text = NULL, *note = NULL;
	int r;

	/* g->signed_size is the database's, read with the head's lock. */
	if (!g->signer)
		return;
	if (work->size <= g->signed_size || (!g->sign_now && work->size - g->signed_size < g->every))
		return;
	r = cde_tlog_frontier_root(work, root);
	if (r == 0)
		r = cde_checkpoint_format(cde_note_signer_name(g->signer), work->size, root, &text);
	if (r == 0)
		r = cde_note_sign(text, strlen(text), g->signer, &note, NULL, g->error, sizeof(g->error));
	free(text);
	cde_timestamp_now(at);
	if (r == 0)
		r = store(c, work->size, root, note, at, g->error, sizeof(g->error));
	if (r < 0 && !g->error[0])
		snprintf(g->error, sizeof(g->error), "signing a checkpoint: %s", strerror(-r));
	free(g->work_note);
	g->work_note = r == 0 ? note : NULL;
	g->work_note_size = work->size;
	if (r < 0)
		free(note);
}

void cde_pg_signing_settled(struct cde_pg_signing *g, bool committed)
{
	g->sign_now = false;
	if (!g->work_note)
		return;
	if (committed) {
		free(g->fresh_note);
		g->fresh_note = g->work_note;
		g->fresh_note_size = g->work_note_size;
		g->signed_size = g->work_note_size;
	} else {
		free(g->work_note);
	}
	g->work_note = NULL;
}

void cde_pg_signing_release(struct cde_pg_signing *g)
{
	cde_note_signer_free(g->signer);
	free(g->work_note);
	free(g->fresh_note);
	memset(g, 0, sizeof(*g));
}
