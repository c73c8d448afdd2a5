/* The configuration file as the daemon loads it. config/ reads the file
 * and depends on nothing above the base layer, so what needs a layer above
 * it is checked here, with the same "FILE: /key: reason" errors: a route's
 * filter is kept by config/ as JSON text, and compiled here, the way the
 * delivery engine will compile it. */

#include "daemon/config_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sinks/filter.h"

static int check_filters(const char *path, const struct cde_config *cfg, struct cde_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		struct cde_errors filter_errs;
		struct cde_filter *f = NULL;
		char at[48];
		int e;

		if (!cfg->routes[i].filter[0])
			continue; /* every event */
		snprintf(at, sizeof(at), "/routes/%zu/filter", i);
		cde_errors_reset(&filter_errs);
		e = cde_filter_compile_text(cfg->routes[i].filter, at, &f, &filter_errs);
		f = cde_filter_free(f);
		if (e == -ENOMEM)
			return e;
		for (size_t k = 0; e < 0 && k < filter_errs.count; k++)
			cde_errors_add(errs, filter_errs.items[k].pointer, "%s: %s: %s", path,
				       filter_errs.items[k].pointer, filter_errs.items[k].reason);
		if (e < 0) {
			errs->dropped += filter_errs.dropped;
			r = -EINVAL;
		}
	}
	return r;
}

int cde_daemon_config_load(const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	/* Built aside (it is large), so that a file with an error changes
	 * nothing. */
	struct cde_config *next = malloc(sizeof(*next));
	int r;

	if (!next)
		return -ENOMEM;
	*next = *cfg;
	r = cde_config_load_file(path, next, errs);
	if (r == 0)
		r = check_filters(path, next, errs);
	if (r == 0)
		*cfg = *next;
	free(next);
	return r;
}
