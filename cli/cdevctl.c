/* cdevctl: the command-line tool. It dispatches to one subcommand per
 * file; each one returns the exit status (0 ok, 1 check failed, 2 usage
 * or system error). */

#include <stdio.h>
#include <string.h>

#include "cde_build_config.h"
#include "cli/commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "validate", cde_cmd_validate, "check CDEvents (JSON, JSON array or JSON Lines)" },
	{ "example", cde_cmd_example, "print the smallest valid event of a type" },
	{ "types", cde_cmd_types, "list the event types of a spec version" },
	{ "audit", cde_cmd_audit, "the audit log: verify its hash chain, query it, make signing keys" },
	{ "dlq", cde_cmd_dlq, "dead letters: list them, deliver them again" },
	{ "sizing", cde_cmd_sizing, "size a Spark job's pods and fit them to a cluster's nodes" },
	{ "env", cde_cmd_env, "what runs in an environment, and what ran before (a daemon's answer)" },
	{ "dora", cde_cmd_dora, "the DORA keys per service and environment (a daemon's answer)" },
	{ "gate", cde_cmd_gate, "ask a promotion gate whether an artifact may go to an environment" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cdevctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'cdevctl COMMAND --help' tells more; 'cdevctl --version' the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("cdevctl %s\n", CDE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "cdevctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
