/* cdevctl example / cdevctl types: what the catalog knows, shown as the
 * list of event types and as the smallest valid event of a type, a
 * starting point for a producer's payload. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "events/example.h"
#include "schemas/catalog.h"

/* Finds @name exactly, or as "dev.cdevents.<subject>.<predicate>" without
 * its version, or as "<subject>.<predicate>". */
static const struct cde_event_type *lookup(const struct cde_spec *spec, const char *name)
{
	const struct cde_event_type *t = cde_spec_find_type(spec, name);
	char subject[128], predicate[128];
	const char *rest = name;

	if (t)
		return t;
	if (strncmp(rest, "dev.cdevents.", 13) == 0)
		rest += 13;
	if (sscanf(rest, "%127[^.].%127[^.]", subject, predicate) != 2)
		return NULL;
	return cde_spec_find_kind(spec, subject, predicate);
}

static const struct cde_spec *spec_for(const struct cde_catalog *cat, const char *version)
{
	for (size_t i = 0; version && i < cde_catalog_spec_count(cat); i++)
		if (strcmp(cde_catalog_spec_at(cat, i)->version, version) == 0)
			return cde_catalog_spec_at(cat, i);
	return version ? NULL : cde_catalog_newest(cat);
}

static int parse_common(int argc, char **argv, const char *usage_text, const char **catalog_dir,
			const char **version)
{
	static const struct option opts[] = {
		{ "catalog", required_argument, NULL, 'C' },
		{ "spec", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			*catalog_dir = optarg;
			break;
		case 's':
			*version = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	return -1;
}

int cde_cmd_example(int argc, char **argv)
{
	static const char usage_text[] =
		"usage: cdevctl example [--spec VERSION] [--catalog DIR] TYPE\n"
		"  Prints the smallest valid CDEvent of TYPE (e.g. service.deployed or\n"
		"  dev.cdevents.service.deployed.0.3.0), built by the event model.\n";
	const char *catalog_dir = NULL, *version = NULL;
	struct cde_catalog *cat;
	const struct cde_spec *spec;
	const struct cde_event_type *type;
	struct cde_event *ev = NULL;
	char *text = NULL;
	int r = parse_common(argc, argv, usage_text, &catalog_dir, &version);

	if (r >= 0)
		return r;
	if (optind + 1 != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (cde_cli_load_catalog(catalog_dir, &cat) < 0)
		return 2;
	spec = spec_for(cat, version);
	type = spec ? lookup(spec, argv[optind]) : NULL;
	if (!spec)
		fprintf(stderr, "cdevctl example: no catalog for spec version %s\n", version);
	else if (!type)
		fprintf(stderr, "cdevctl example: unknown event type %s (see cdevctl types)\n",
			argv[optind]);
	else if (cde_event_new_example(spec, type, "/cdevctl/example", "example", &ev) < 0 ||
		 !(text = cJSON_Print(cde_event_json(ev))))
		fprintf(stderr, "cdevctl example: out of memory\n");
	else
		printf("%s\n", text);
	r = text ? 0 : 2;
	free(text);
	cde_event_unref(ev);
	cde_catalog_free(cat);
	return r;
}

int cde_cmd_types(int argc, char **argv)
{
	static const char usage_text[] =
		"usage: cdevctl types [--spec VERSION] [--catalog DIR]\n"
		"  Lists the event types of a spec version (default: the newest).\n";
	const char *catalog_dir = NULL, *version = NULL;
	struct cde_catalog *cat;
	const struct cde_spec *spec;
	int r = parse_common(argc, argv, usage_text, &catalog_dir, &version);

	if (r >= 0)
		return r;
	if (optind != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (cde_cli_load_catalog(catalog_dir, &cat) < 0)
		return 2;
	spec = spec_for(cat, version);
	if (!spec) {
		fprintf(stderr, "cdevctl types: no catalog for spec version %s\n", version);
		cde_catalog_free(cat);
		return 2;
	}
	for (size_t i = 0; i < spec->n_types; i++)
		printf("%s\n", spec->types[i].name);
	cde_catalog_free(cat);
	return 0;
}
