#pragma once
/* The head file: the audit log's last committed seq and hash, kept next
 * to the database (PATH-head) but outside it, so that losing the WAL or
 * putting back an older copy of the database, which takes the database's
 * own record of its head along, is noticed at the next start. */

#include <stdint.h>

#include "sinks/audit/audit_chain.h"

/* Opens (creating it, mode 0640) the head file of the database @db_path.
 * Returns a file descriptor or -errno. */
int cde_audit_head_file_open(const char *db_path);

/* Opens it for reading only. Returns a descriptor, -ENOENT when there is
 * none, or -errno. */
int cde_audit_head_file_open_read(const char *db_path);

/* Reads the head recorded in @fd. Returns 0, -ENOENT when nothing was
 * recorded yet, or -EBADMSG when the record is damaged. */
int cde_audit_head_file_read(int fd, uint64_t *ret_seq, uint8_t ret_hash[CDE_HASH_LEN]);

/* Records @seq and @hash in @fd. Returns 0 or -errno. */
int cde_audit_head_file_write(int fd, uint64_t seq, const uint8_t hash[CDE_HASH_LEN]);
