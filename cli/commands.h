#pragma once
/* cdevctl's subcommands. Each returns the process exit status:
 * 0 success, 1 the input failed the check, 2 usage or system error. */

int cde_cmd_validate(int argc, char **argv);
int cde_cmd_example(int argc, char **argv);
int cde_cmd_types(int argc, char **argv);
/* The audit log where `make run` keeps it, when --db is not given. */
#define CDE_CLI_DEFAULT_DB "./var/audit.db"

int cde_cmd_audit(int argc, char **argv);
int cde_cmd_audit_backup(int argc, char **argv);
int cde_cmd_audit_keygen(int argc, char **argv);
int cde_cmd_audit_verify_bundle(int argc, char **argv);
int cde_cmd_dlq(int argc, char **argv);
int cde_cmd_sizing(int argc, char **argv);
/* What runs where, and the DORA keys: a running daemon's answers (cmd_answers.c). */
int cde_cmd_env(int argc, char **argv);
int cde_cmd_dora(int argc, char **argv);
int cde_cmd_gate(int argc, char **argv);

/* Loads the catalog from @dir (or the default directory when NULL),
 * printing the reason to stderr on failure. */
struct cde_catalog;
int cde_cli_load_catalog(const char *dir, struct cde_catalog **ret);
