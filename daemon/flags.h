#pragma once
/* cdeventsd's command line. */

#include <stdbool.h>

/* What the command line says; NULL where it is silent. */
struct cde_daemon_flags {
	const char *config_file;
	const char *listen;
	const char *state_dir;
	const char *catalog_dir;
	bool check_only;
	bool accept_log_loss;
	const char *storage_url;		/* storage: driver postgres at this url */
	const char *storage_password_file;
};

/* Parses @argv into @f. Returns -1 to go on, or the exit status when the
 * command line was answered (--help, --version: 0) or wrong (2). */
int cde_daemon_parse_flags(int argc, char **argv, struct cde_daemon_flags *f);
