/* The official JSON Schema Test Suite (draft 2020-12) against
 * schemas/jsonschema. Reads every file of tests/draft2020-12/ under
 * $CDE_JSON_SCHEMA_SUITE, registers the suite's remotes/ under their
 * http://localhost:1234/ retrieval URIs (nothing is fetched), and prints
 * per file how many tests passed, failed, or were unsupported (their
 * schema refused at load: a keyword this validator does not implement, or
 * a $ref it cannot resolve). Fails only when a test of a loaded schema
 * gives the wrong answer. -v prints every failure and refusal. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"
#include "schemas/jsonschema/jsonschema.h"

#define MAX_FILE (4u << 20)
#define MAX_REMOTES 256

struct remote {
	char *uri;
	cJSON *doc;
};

static struct remote remotes[MAX_REMOTES];
static size_t n_remotes;
static const char *remotes_root;
static int verbose;

static cJSON *parse_file(const char *path)
{
	char *buf;
	size_t len;
	cJSON *doc = NULL;
	struct cde_errors errs;
	cde_errors_reset(&errs);
	if (cde_read_file(path, MAX_FILE, &buf, &len))
		return NULL;
	if (cde_json_parse(buf, len, &doc, &errs)) {
		/* The strict parser refuses \u0000 (const.json, enum.json have
		 * it in strings); cJSON reads it as the end of the string. */
		doc = cJSON_ParseWithLength(buf, len);
		if (doc)
			printf("%s: read with cJSON (strict parse: %s)\n", path, errs.items[0].reason);
	}
	free(buf);
	return doc;
}

/* Keeps each remote that loads on its own (draft4 ones use `id`, say). */
static int add_remote(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	size_t n = strlen(path);
	if (flag != FTW_F || n < 5 || strcmp(path + n - 5, ".json") || n_remotes == MAX_REMOTES)
		return 0;
	cJSON *doc = parse_file(path);
	char *uri;
	if (!doc || asprintf(&uri, "http://localhost:1234%s", path + strlen(remotes_root)) < 0) {
		cJSON_Delete(doc);
		return 0;
	}
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	cde_errors_reset(&errs);
	cJSON *copy = cJSON_Duplicate(doc, true);
	if (!s || !copy || cde_jsonschema_add_doc(s, copy, uri, NULL, &errs)) {
		cJSON_Delete(copy);
		cJSON_Delete(doc);
		free(uri);
	} else {
		remotes[n_remotes++] = (struct remote){ uri, doc };
	}
	cde_jsonschema_free(s);
	return 0;
}

struct counts {
	unsigned passed, failed, unsupported;
};

/* A registry with the remotes and the group's schema, or NULL (refused:
 * the reason is printed with -v). */
static struct cde_jsonschema *load_group(const cJSON *schema, const char *file, const char *desc,
	const cJSON **ret_root)
{
	struct cde_jsonschema *s = cde_jsonschema_new();
	struct cde_errors errs;
	cde_errors_reset(&errs);
	for (size_t i = 0; s && i < n_remotes; i++) {
		cJSON *copy = cJSON_Duplicate(remotes[i].doc, true);
		if (!copy || cde_jsonschema_add_doc(s, copy, remotes[i].uri, NULL, &errs)) {
			cJSON_Delete(copy);
			s = cde_jsonschema_free(s);
		}
	}
	cJSON *copy = s ? cJSON_Duplicate(schema, true) : NULL;
	bool added = copy && !cde_jsonschema_add_doc(s, copy, NULL, ret_root, &errs);
	if (copy && !added)
		cJSON_Delete(copy);
	if (!added || cde_jsonschema_check_refs(s, *ret_root, &errs)) {
		char msg[1024];
		cde_errors_format(&errs, msg, sizeof(msg));
		if (verbose)
			printf("  unsupported: %s: %s: %s\n", file, desc, msg);
		if (s && !copy && errs.count == 0)
			fprintf(stderr, "out of memory\n");
		return cde_jsonschema_free(s);
	}
	return s;
}

static void run_group(const cJSON *group, const char *file, unsigned flags, struct counts *c)
{
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(group, "description");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(group, "tests");
	const char *d = cJSON_IsString(desc) ? desc->valuestring : "?";
	const cJSON *root = NULL;
	struct cde_jsonschema *s = load_group(cJSON_GetObjectItemCaseSensitive(group, "schema"), file, d, &root);
	for (const cJSON *t = tests ? tests->child : NULL; t; t = t->next) {
		if (!s) {
			c->unsupported++;
			continue;
		}
		struct cde_errors errs;
		cde_errors_reset(&errs);
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
		bool want = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "valid"));
		bool got = cde_jsonschema_validate(s, root, data, flags, &errs) == 0;
		if (got == want) {
			c->passed++;
			continue;
		}
		c->failed++;
		char msg[512];
		cde_errors_format(&errs, msg, sizeof(msg));
		const cJSON *td = cJSON_GetObjectItemCaseSensitive(t, "description");
		printf("  FAIL %s: %s: %s: expected %s (%s)\n", file, d, cJSON_IsString(td) ? td->valuestring : "?",
			want ? "valid" : "invalid", msg);
	}
	cde_jsonschema_free(s);
}

static int run_file(const char *dir, const char *name, unsigned flags, struct counts *total)
{
	char path[4096 + 256 + 2];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cJSON *doc = parse_file(path);
	if (!cJSON_IsArray(doc)) {
		printf("%s: cannot read\n", path);
		cJSON_Delete(doc);
		return -EINVAL;
	}
	struct counts c = { 0 };
	for (const cJSON *g = doc->child; g; g = g->next)
		run_group(g, name, flags, &c);
	printf("%-36s passed %4u  failed %3u  unsupported %3u\n", name, c.passed, c.failed, c.unsupported);
	total->passed += c.passed, total->failed += c.failed, total->unsupported += c.unsupported;
	cJSON_Delete(doc);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_json(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

int main(int argc, char **argv)
{
	const char *suite = getenv("CDE_JSON_SCHEMA_SUITE");
	verbose = argc > 1 && !strcmp(argv[1], "-v");
	if (!suite) {
		fprintf(stderr, "CDE_JSON_SCHEMA_SUITE is not set\n");
		return 1;
	}
	char rem[4096], dir[4096];
	snprintf(rem, sizeof(rem), "%s/remotes", suite);
	snprintf(dir, sizeof(dir), "%s/tests/draft2020-12", suite);
	remotes_root = rem;
	if (nftw(rem, add_remote, 16, FTW_PHYS)) {
		fprintf(stderr, "%s: cannot read\n", rem);
		return 1;
	}
	struct dirent **names;
	int n = scandir(dir, &names, only_json, by_name);
	if (n < 0) {
		fprintf(stderr, "%s: cannot read\n", dir);
		return 1;
	}
	struct counts total = { 0 };
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (run_file(dir, names[i]->d_name, 0, &total))
			rc = 1;
		free(names[i]);
	}
	free(names);
	/* The formats it asserts when asked, from optional/format/. */
	static const char *const formats[] = { "date-time.json", "email.json", "uri.json", "uri-reference.json" };
	char fdir[4096 + 32];
	snprintf(fdir, sizeof(fdir), "%s/optional/format", dir);
	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++)
		if (run_file(fdir, formats[i], CDE_JSONSCHEMA_FORMAT_ASSERT, &total))
			rc = 1;
	printf("remotes loaded: %zu\ntotal: passed %u  failed %u  unsupported %u\n", n_remotes, total.passed,
		total.failed, total.unsupported);
	for (size_t i = 0; i < n_remotes; i++) {
		free(remotes[i].uri);
		cJSON_Delete(remotes[i].doc);
	}
	return rc || total.failed ? 1 : 0;
}
