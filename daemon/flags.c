/* cdeventsd's command line: what each flag means, in the order
 * flags > file > embedded default. */

#include "daemon/flags.h"

#include <getopt.h>
#include <stdio.h>

#include "cde_build_config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cdeventsd [-c FILE] [--listen HOST:PORT] [--state-dir DIR] [--catalog DIR]\n"
		   "                 [--check-config [FILE]] [--accept-log-loss] [--storage-url URL]\n"
		   "                 [--storage-password-file FILE] [--version] [--help]\n"
		   "  -c, --config FILE   configuration file (YAML; see config/cdeventsd.yaml)\n"
		   "  --listen HOST:PORT  where to serve HTTP (default 127.0.0.1:9720; port 0 picks one)\n"
		   "  --state-dir DIR     where state lives (default $STATE_DIRECTORY or ./var)\n"
		   "  --catalog DIR       event catalog directory\n"
		   "  --check-config      check the configuration, print it is fine or why not, exit\n"
		   "  --accept-log-loss   the audit log lacks acknowledged events at its end (a lost\n"
		   "                      WAL, an old copy put back): record the loss in the chain\n"
		   "                      and start; without it such a log is refused\n"
		   "  --storage-url URL   keep the audit log in PostgreSQL at URL (libpq: postgres://USER@HOST/DB\n"
		   "                      or host=... dbname=...; no password in it), as storage: says\n"
		   "  --storage-password-file FILE  the database password, from a private file\n"
		   "Flags override the file, the file overrides the embedded default.\n");
}

int cde_daemon_parse_flags(int argc, char **argv, struct cde_daemon_flags *f)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "catalog", required_argument, NULL, 'C' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "accept-log-loss", no_argument, NULL, 'A' },
		{ "storage-url", required_argument, NULL, 'S' },
		{ "storage-password-file", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			f->config_file = optarg;
			break;
		case 'l':
			f->listen = optarg;
			break;
		case 's':
			f->state_dir = optarg;
			break;
		case 'C':
			f->catalog_dir = optarg;
			break;
		case 'k':
			f->check_only = true;
			break;
		case 'A':
			f->accept_log_loss = true;
			break;
		case 'S':
			f->storage_url = optarg;
			break;
		case 'P':
			f->storage_password_file = optarg;
			break;
		case 'V':
			printf("cdeventsd %s\n", CDE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* "--check-config FILE" reads as "--check-config -c FILE". */
	if (f->check_only && !f->config_file && optind + 1 == argc)
		f->config_file = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}
