/* Benchmark: events/s validating the official v0.5.1 service.deployed
 * example with the JSON Schema validator (schemas/jsonschema, on the
 * official schema files) and with the catalog validator (schemas/). Prints
 * figures and a RESULT line for run.mjs; asserts nothing.
 *
 *   bench_validators [SECONDS]   (CDE_SPEC_DIR: ../shared/cdevents-spec) */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"
#include "schemas/catalog.h"
#include "schemas/jsonschema/jsonschema.h"
#include "schemas/validate.h"

#define FILE_MAX (4u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_file(struct cde_jsonschema *s, const char *file)
{
	struct cde_errors errs;
	char *buf;
	size_t len;
	int r = cde_read_file(file, FILE_MAX, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", file, strerror(-r));
		return r;
	}
	cde_errors_reset(&errs);
	r = cde_jsonschema_add(s, buf, len, NULL, NULL, &errs);
	free(buf);
	for (size_t i = 0; r < 0 && i < errs.count; i++)
		fprintf(stderr, "%s: %s: %s\n", file, errs.items[i].pointer, errs.items[i].reason);
	return r;
}

/* The links/ schemas the event schema's $ref names, then the schema. */
static int load_official(struct cde_jsonschema *s, const char *spec)
{
	char dir[1024], file[2048];
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(dir, sizeof(dir), "%s/v0.5.1/schemas/links", spec);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (!strstr(e->d_name, ".json"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		r = add_file(s, file);
	}
	closedir(d);
	snprintf(file, sizeof(file), "%s/v0.5.1/schemas/servicedeployed.json", spec);
	return r ? r : add_file(s, file);
}

static cJSON *read_event(const char *spec)
{
	struct cde_errors errs;
	char file[1024];
	cJSON *doc = NULL;
	char *buf;
	size_t len;

	snprintf(file, sizeof(file), "%s/v0.5.1/conformance/service_deployed.json", spec);
	if (cde_read_file(file, FILE_MAX, &buf, &len) < 0)
		return NULL;
	cde_errors_reset(&errs);
	cde_json_parse(buf, len, &doc, &errs);
	free(buf);
	return doc;
}

/* Validations per second for @seconds, by one of the two validators;
 * 0 when the event is not valid by it. */
static double rate(const struct cde_jsonschema *s, const cJSON *schema, const struct cde_catalog *cat,
		   const cJSON *ev, double seconds)
{
	double start = now(), elapsed;
	unsigned long n = 0;

	do {
		for (int i = 0; i < 1000; i++, n++) {
			struct cde_errors errs;
			int r;

			cde_errors_reset(&errs);
			r = s ? cde_jsonschema_validate(s, schema, ev, CDE_JSONSCHEMA_FORMAT_ASSERT, &errs)
			      : cde_validate(cat, ev, NULL, &errs);
			if (r < 0)
				return 0;
		}
		elapsed = now() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

int main(int argc, char **argv)
{
	const char *spec = getenv("CDE_SPEC_DIR") ? getenv("CDE_SPEC_DIR") : "../shared/cdevents-spec";
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_catalog *cat = NULL;
	struct cde_errors errs;
	cJSON *ev = read_event(spec);
	const cJSON *schema;
	double js, catalog;
	int status = 1;

	cde_errors_reset(&errs);
	if (!s || !ev || load_official(s, spec) < 0 ||
	    cde_catalog_load_dir(getenv("CDEVENTSD_CATALOG") ? getenv("CDEVENTSD_CATALOG") : cde_catalog_default_dir(),
				 &cat, &errs) < 0) {
		fprintf(stderr, "bench_validators: cannot load the schemas, the catalog or the event\n");
		goto out;
	}
	schema = cde_jsonschema_lookup(s, "https://cdevents.dev/0.5.1/schema/service-deployed-event");
	js = rate(s, schema, NULL, ev, seconds);
	catalog = rate(NULL, NULL, cat, ev, seconds);
	printf("validating v0.5.1 service.deployed: jsonschema (official schema) %.0f events/s, catalog %.0f events/s\n",
	       js, catalog);
	printf("RESULT {\"validateJsonschemaPerS\": %.0f, \"validateCatalogPerS\": %.0f}\n", js, catalog);
	status = 0;
out:
	cde_catalog_free(cat);
	cde_jsonschema_free(s);
	cJSON_Delete(ev);
	return status;
}
