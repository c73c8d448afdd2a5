/* What the subcommands share: loading the catalog and reading input. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "schemas/catalog.h"

int cde_cli_load_catalog(const char *dir, struct cde_catalog **ret)
{
	struct cde_errors errs;
	int r;

	cde_errors_reset(&errs);
	if (!dir)
		dir = cde_catalog_default_dir();
	r = cde_catalog_load_dir(dir, ret, &errs);
	if (r < 0) {
		if (errs.count == 0)
			fprintf(stderr, "cdevctl: cannot load the catalog %s: %s\n", dir, strerror(-r));
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "cdevctl: catalog: %s%s%s\n", errs.items[i].pointer,
				errs.items[i].pointer[0] ? ": " : "", errs.items[i].reason);
	}
	return r;
}
