#pragma once
/* Signed checkpoints of the audit log's Merkle tree: C2SP tlog-checkpoint
 * text (origin = the signing key's name, tree size, base64 root hash)
 * in a C2SP signed note, Ed25519. The writer stores each one in
 * tree_checkpoints; whoever keeps a copy elsewhere can later prove that
 * the log still holds, unchanged, everything it had then. */

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sinks/audit/tlog/merkle.h"
#include "sinks/audit/tlog/note.h"

/* Signs the tree of @size leaves with head @root, stores the note in
 * tree_checkpoints (inside the caller's transaction) with @at as its
 * time, and returns it in *@ret_note (free()). 0 or -errno, the reason in
 * @err. */
int cde_audit_checkpoint_sign(sqlite3 *db, const struct cde_note_signer *signer, uint64_t size,
			      const uint8_t root[CDE_TLOG_HASH_LEN], const char *at, char **ret_note, char *err,
			      size_t err_size);

/* The latest stored checkpoint: its size and note (malloc'd). 0,
 * -ENOENT when there is none, -EIO or -ENOMEM. */
int cde_audit_checkpoint_latest(sqlite3 *db, uint64_t *ret_size, char **ret_note);

/* The first stored checkpoint of at least @size leaves, likewise. */
int cde_audit_checkpoint_covering(sqlite3 *db, uint64_t size, uint64_t *ret_size, char **ret_note);

/* The latest signed note is also kept next to the database, in
 * PATH-checkpoint (replaced whole after each commit that signs one):
 * outside the file, like the head file, so that a log that lost entries
 * a checkpoint covered (a deleted WAL, an older copy put back) cannot
 * sign the same sizes again with other roots. Write returns 0 or -errno;
 * read returns 0 with the note (malloc'd), -ENOENT, or -errno. */
int cde_audit_checkpoint_file_write(const char *db_path, const char *note);
int cde_audit_checkpoint_file_read(const char *db_path, char **ret_note);
