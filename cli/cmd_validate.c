/* cdevctl validate: checks CDEvents in files against the catalog, and
 * with --schemas against the schema each one's schemaUri names, as the
 * daemon does with `schemas:` (daemon/schema_set.c).
 *
 * A file holds one event, a JSON array of events, or JSON Lines. Each
 * invalid event gets one line naming where it is (FILE, FILE:LINE or
 * FILE[INDEX]) and every error; the last line is "N passed, M failed". */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "daemon/schema_set.h"
#include "schemas/catalog.h"
#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"
#include "schemas/validate.h"

#define INPUT_MAX (1024u << 20)

struct run {
	const struct cde_catalog *cat;
	const struct cde_schema_set *schemas;
	bool accept_unknown;
	bool json;
	bool quiet;
	size_t passed;
	size_t failed;
};

static void print_json_result(const char *where, const cJSON *doc, const struct cde_spec *spec,
			      const struct cde_errors *errs)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ctx, "id");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ctx, "type");
	cJSON *list = cde_errors_to_json(errs);
	char *line = NULL;

	if (o && list && cJSON_AddStringToObject(o, "input", where) &&
	    cJSON_AddBoolToObject(o, "valid", cde_errors_empty(errs)) &&
	    (!spec || cJSON_AddStringToObject(o, "specVersion", spec->version)) &&
	    (!cJSON_IsString(type) || cJSON_AddStringToObject(o, "type", type->valuestring)) &&
	    (!cJSON_IsString(id) || cJSON_AddStringToObject(o, "id", id->valuestring)) &&
	    cJSON_AddItemToObject(o, "errors", list)) {
		list = NULL;
		line = cJSON_PrintUnformatted(o);
	}
	if (line)
		printf("%s\n", line);
	else
		printf("{\"input\":\"?\",\"valid\":false,\"errors\":[{\"pointer\":\"\",\"reason\":\"out of memory\"}]}\n");
	free(line);
	cJSON_Delete(list);
	cJSON_Delete(o);
}

static void print_text_result(const char *where, const cJSON *doc, const struct cde_errors *errs)
{
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ctx, "id");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ctx, "type");

	printf("%s:", where);
	if (cJSON_IsString(type))
		printf(" %s", type->valuestring);
	if (cJSON_IsString(id))
		printf(" id=%s", id->valuestring);
	for (size_t i = 0; i < errs->count; i++)
		printf("%s %s: %s", i ? ";" : "", errs->items[i].pointer[0] ? errs->items[i].pointer : "/",
		       errs->items[i].reason);
	if (errs->dropped)
		printf("; and %zu more errors", errs->dropped);
	printf("\n");
}

/* Judges one event (@doc may be NULL when @errs already holds why it
 * could not be parsed). */
static void judge(struct run *run, const char *where, const cJSON *doc, struct cde_errors *errs)
{
	const struct cde_spec *spec = NULL;

	if (doc && cde_validate(run->cat, doc, &spec, errs) == 0)
		cde_schema_set_check(run->schemas, run->accept_unknown, doc, errs);
	if (cde_errors_empty(errs))
		run->passed++;
	else
		run->failed++;
	if (run->json)
		print_json_result(where, doc, spec, errs);
	else if (!cde_errors_empty(errs) && !run->quiet)
		print_text_result(where, doc, errs);
}

static void judge_lines(struct run *run, const char *path, char *buf, size_t len)
{
	size_t lineno = 0;
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct cde_errors errs;
		char where[4200];
		cJSON *doc = NULL;
		bool blank = true;

		lineno++;
		for (size_t i = 0; i < n && blank; i++)
			blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
		if (!blank) {
			cde_errors_reset(&errs);
			snprintf(where, sizeof(where), "%s:%zu", path, lineno);
			if (cde_json_parse(p, n, &doc, &errs) == 0)
				judge(run, where, doc, &errs);
			else
				judge(run, where, NULL, &errs);
			cJSON_Delete(doc);
		}
		p += n + 1;
	}
}

/* Returns 0, or -errno when the file could not be read. */
static int validate_file(struct run *run, const char *path)
{
	struct cde_errors errs;
	char *buf;
	size_t len;
	cJSON *doc = NULL;
	int r;

	r = cde_read_file(path, INPUT_MAX, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "cdevctl validate: %s: %s\n", path, strerror(-r));
		return r;
	}
	cde_errors_reset(&errs);
	r = cde_json_parse(buf, len, &doc, &errs);
	if (r == 0 && cJSON_IsArray(doc)) {
		const cJSON *c;
		size_t i = 0;

		cJSON_ArrayForEach(c, doc) {
			char where[4200];

			snprintf(where, sizeof(where), "%s[%zu]", path, i++);
			cde_errors_reset(&errs);
			judge(run, where, c, &errs);
		}
	} else if (r == 0) {
		judge(run, path, doc, &errs);
	} else {
		/* Not one document: JSON Lines if its first line is a whole
		 * value, else one broken document. */
		const char *nl = memchr(buf, '\n', len);
		cJSON *first = NULL;
		struct cde_errors scratch;

		cde_errors_reset(&scratch);
		if (nl && cde_json_parse(buf, (size_t)(nl - buf), &first, &scratch) == 0) {
			cJSON_Delete(first);
			judge_lines(run, path, buf, len);
		} else {
			judge(run, path, NULL, &errs);
		}
	}
	cJSON_Delete(doc);
	free(buf);
	return 0;
}

/* Loads the --schemas directories, printing what is wrong with them. */
static int load_schemas(const char *const *dirs, size_t n, struct cde_schema_set **ret)
{
	struct cde_errors errs;
	int r;

	*ret = NULL;
	if (!n)
		return 0;
	cde_errors_reset(&errs);
	r = cde_schema_set_load(dirs, n, ret, &errs);
	for (size_t i = 0; r < 0 && i < errs.count; i++)
		fprintf(stderr, "cdevctl validate: --schemas: %s\n", errs.items[i].reason);
	if (r == -ENOMEM && !errs.count)
		fprintf(stderr, "cdevctl validate: --schemas: out of memory\n");
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cdevctl validate [--catalog DIR] [--schemas DIR]... [--accept-unknown-schema-uri]\n"
		   "                        [--json] [--quiet] FILE...\n"
		   "  Checks each CDEvent in FILE (one event, a JSON array, or JSON Lines;\n"
		   "  - reads standard input) against the catalog of its spec version.\n"
		   "  --schemas  a directory of JSON Schemas (*.json, by $id): an event's\n"
		   "             context.schemaUri must name one, and the event must conform\n"
		   "             (without it, an event naming a schemaUri is refused, as by the daemon)\n"
		   "  --accept-unknown-schema-uri  a schemaUri no --schemas has is accepted\n"
		   "  --json     one JSON object per event on stdout: input, valid, errors\n"
		   "  --quiet    print only the summary line\n"
		   "  --catalog  catalog directory (default: $CDEVENTSD_CATALOG or the installed one)\n"
		   "Exit status: 0 all valid, 1 some invalid, 2 usage or read error.\n");
}

int cde_cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "catalog", required_argument, NULL, 'C' },
		{ "schemas", required_argument, NULL, 'S' },
		{ "accept-unknown-schema-uri", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run run = { 0 };
	const char *catalog_dir = NULL;
	const char *schema_dirs[8];
	size_t n_schema_dirs = 0;
	struct cde_schema_set *schemas = NULL;
	struct cde_catalog *cat;
	bool io_error = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			catalog_dir = optarg;
			break;
		case 'S':
			if (n_schema_dirs == sizeof(schema_dirs) / sizeof(schema_dirs[0])) {
				fprintf(stderr, "cdevctl validate: at most 8 --schemas\n");
				return 2;
			}
			schema_dirs[n_schema_dirs++] = optarg;
			break;
		case 'A':
			run.accept_unknown = true;
			break;
		case 'j':
			run.json = true;
			break;
		case 'q':
			run.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cdevctl validate: no FILE given\n");
		usage(stderr);
		return 2;
	}
	if (load_schemas(schema_dirs, n_schema_dirs, &schemas) < 0)
		return 2;
	if (cde_cli_load_catalog(catalog_dir, &cat) < 0) {
		cde_schema_set_free(schemas);
		return 2;
	}
	run.cat = cat;
	run.schemas = schemas;
	for (int i = optind; i < argc; i++)
		io_error |= validate_file(&run, argv[i]) < 0;
	fprintf(run.json ? stderr : stdout, "%zu passed, %zu failed\n", run.passed, run.failed);
	cde_catalog_free(cat);
	cde_schema_set_free(schemas);
	if (io_error)
		return 2;
	return run.failed ? 1 : 0;
}
