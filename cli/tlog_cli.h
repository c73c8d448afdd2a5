#pragma once
/* Shared by cdevctl's Merkle tree commands (cmd_audit_tlog.c,
 * cmd_audit_tverify.c). */

#include "sinks/audit/audit_store.h"
#include "sinks/audit/tlog/note.h"

int cde_cmd_audit_checkpoint(int argc, char **argv);
int cde_cmd_audit_prove(int argc, char **argv);
int cde_cmd_audit_verify_receipt(int argc, char **argv);
/* cdevctl audit verify --checkpoint FILE --pubkey KEY [--db FILE | --url URL]. */
int cde_cmd_audit_verify_checkpoint(int argc, char **argv);
/* What plain cdevctl audit verify adds for the tree of @db, a file or a
 * PostgreSQL url (its password in @password_file, or none): prints a
 * line, returns the exit status (0 intact, 1 a fault, 2 cannot read). */
int cde_cli_tree_self_check(const char *db, const char *password_file);

/* The verifier key @key: a file holding it, or the key string itself.
 * Says on stderr why not, for `cdevctl audit @cmd`. 0 or -errno. */
int cde_cli_verifier_load(const char *cmd, const char *key, struct cde_note_verifier **ret);
/* Opens the log @db read-only; says on stderr why not. */
int cde_cli_store_open(const char *cmd, const char *db, struct cde_audit_store **ret);

/* --url: the daemon's checkpoint and its consistency proof from the kept
 * (@size, @root), checked with @v. Prints; returns the exit status. */
int cde_cli_verify_remote(const char *url, const char *token_file, struct cde_note_verifier *v, uint64_t size,
			  const uint8_t root[32]);
