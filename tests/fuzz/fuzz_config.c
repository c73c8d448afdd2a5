/* Fuzz target: the configuration loader (cdeventsd -c FILE, SIGHUP).
 *
 * Input: a YAML file. It is written to one memfd made at start-up and
 * loaded by path (/proc/self/fd/N), as the daemon loads its file, over the
 * embedded default; libcyaml and libyaml read it, then config.c's second
 * pass for sinks, routes and clusters.
 *
 * What the loader promises is checked: a file with an error changes
 * nothing; a file that loads has route filters the fan-out can compile
 * from their stored text (the daemon does that at start-up and on reload). */

#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/config_load.h"
#include "sinks/filter.h"

static int fd = -1;
static char path[64];
static struct cde_config defaults, cfg;
static cJSON *event;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char ev[] =
		"{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/ci\","
		" \"type\": \"dev.cdevents.artifact.published.0.3.0\", \"timestamp\": \"2025-01-31T12:00:00Z\"},"
		" \"subject\": {\"id\": \"pkg:oci/etl@1\", \"content\": {}},"
		" \"customData\": {\"sizing\": {\"fits\": false}}}";

	fd = memfd_create("cdeventsd.yaml", MFD_CLOEXEC);
	if (fd < 0) {
		perror("fuzz: memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cde_config_defaults(&defaults);
	event = cJSON_Parse(ev);
	if (!event)
		abort();
	return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(fd, 0) != 0)
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

static void check_routes(const struct cde_config *c)
{
	for (size_t i = 0; i < c->n_routes; i++) {
		struct cde_errors errs;
		struct cde_filter *f = NULL;
		int r;

		cde_errors_reset(&errs);
		r = cde_filter_compile_text(c->routes[i].filter, "/filter", &f, &errs);
		if (r != 0)
			fuzz_print_errors(&errs);
		FUZZ_CHECK(r == 0, "route %zu's stored filter %s does not compile", i, c->routes[i].filter);
		(void)cde_filter_match(f, event);
		cde_filter_free(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cde_errors errs;
	int r;

	write_input(data, size);
	memcpy(&cfg, &defaults, sizeof(cfg));
	cde_errors_reset(&errs);
	r = cde_daemon_config_load(path, &cfg, &errs);
	if (r != 0) {
		FUZZ_CHECK(memcmp(&cfg, &defaults, sizeof(cfg)) == 0,
			   "a file with an error (%d) changed the configuration", r);
		FUZZ_CHECK(r == -ENOMEM || errs.count > 0, "failure %d without a reason", r);
		return 0;
	}
	FUZZ_CHECK(cfg.n_principals <= CDE_CONFIG_PRINCIPALS_MAX && cfg.n_sinks <= CDE_CONFIG_SINKS_MAX &&
		   cfg.n_routes <= CDE_CONFIG_ROUTES_MAX && cfg.n_clusters <= CDE_CONFIG_CLUSTERS_MAX,
		   "counts past their arrays");
	check_routes(&cfg);
	cde_errors_reset(&errs);
	(void)cde_config_check(&cfg, &errs);
	return 0;
}
