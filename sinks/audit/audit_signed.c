/* Making and finding the signed checkpoints of the audit log's tree (see
 * audit_signed.h). The note is stored as served, so what a client keeps
 * is byte for byte what the log holds. */

#include "sinks/audit/audit_signed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schemas/base/read_file.h"

#include "sinks/audit/tlog/checkpoint.h"

int cde_audit_checkpoint_sign(sqlite3 *db, const struct cde_note_signer *signer, uint64_t size,
			      const uint8_t root[CDE_TLOG_HASH_LEN], const char *at, char **ret_note, char *err,
			      size_t err_size)
{
	char *text = NULL, *note = NULL;
	sqlite3_stmt *st = NULL;
	int r = cde_checkpoint_format(cde_note_signer_name(signer), size, root, &text);

	if (r < 0) {
		snprintf(err, err_size, "formatting the checkpoint: %s", strerror(-r));
		return r;
	}
	r = cde_note_sign(text, strlen(text), signer, &note, NULL, err, err_size);
	free(text);
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "INSERT INTO tree_checkpoints(size, root, note, at) VALUES (?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		r = -EIO;
	} else {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
		sqlite3_bind_blob(st, 2, root, CDE_TLOG_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	}
	if (r < 0) {
		snprintf(err, err_size, "storing the checkpoint: %s", sqlite3_errmsg(db));
		free(note);
	} else {
		*ret_note = note;
	}
	sqlite3_finalize(st);
	return r;
}

static int one_checkpoint(sqlite3 *db, const char *sql, uint64_t size, uint64_t *ret_size, char **ret_note)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*ret_size = (uint64_t)sqlite3_column_int64(st, 0);
		*ret_note = strdup((const char *)sqlite3_column_text(st, 1));
		r = *ret_note ? 0 : -ENOMEM;
		break;
	case SQLITE_DONE:
		break;
	default:
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

int cde_audit_checkpoint_latest(sqlite3 *db, uint64_t *ret_size, char **ret_note)
{
	return one_checkpoint(db, "SELECT size, note FROM tree_checkpoints WHERE size >= ? ORDER BY size DESC LIMIT 1",
			      0, ret_size, ret_note);
}

int cde_audit_checkpoint_covering(sqlite3 *db, uint64_t size, uint64_t *ret_size, char **ret_note)
{
	return one_checkpoint(db, "SELECT size, note FROM tree_checkpoints WHERE size >= ? ORDER BY size LIMIT 1",
			      size, ret_size, ret_note);
}

static int kept_path(const char *db_path, const char *suffix, char *out, size_t size)
{
	int n = snprintf(out, size, "%s-checkpoint%s", db_path, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cde_audit_checkpoint_file_write(const char *db_path, const char *note)
{
	char path[4096], tmp[4096];
	size_t len = strlen(note);
	int fd, r;

	if (kept_path(db_path, "", path, sizeof(path)) < 0 || kept_path(db_path, ".tmp", tmp, sizeof(tmp)) < 0)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	r = write(fd, note, len) == (ssize_t)len ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* rename: a reader sees the old note or the new one, never half. */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int cde_audit_checkpoint_file_read(const char *db_path, char **ret_note)
{
	char path[4096];
	size_t len = 0;

	if (kept_path(db_path, "", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return cde_read_file(path, 1 << 20, ret_note, &len);
}
