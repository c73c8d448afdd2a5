/* The catalog as a whole: the spec versions found in a directory, and the
 * lookups the validator and the hook translators make (version, type). */

#include "schemas/catalog_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cde_build_config.h"

#define CATALOG_MAX_SPECS 16

struct cde_catalog {
	struct cde_arena arena;
	size_t n_specs;
	struct cde_spec specs[CATALOG_MAX_SPECS];	/* newest first */
};

/* Compares dotted version strings numerically ("0.10.0" > "0.5.1"). */
static int cmp_versions(const char *a, const char *b)
{
	for (;;) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*ea != '.' || *eb != '.')
			return strcmp(ea, eb);
		a = ea + 1;
		b = eb + 1;
	}
}

static int cmp_specs_newest_first(const void *a, const void *b)
{
	return -cmp_versions(((const struct cde_spec *)a)->version,
			     ((const struct cde_spec *)b)->version);
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

int cde_catalog_load_dir(const char *dir, struct cde_catalog **ret, struct cde_errors *errs)
{
	struct cde_catalog *cat;
	DIR *d;
	struct dirent *de;
	char *names[CATALOG_MAX_SPECS + 1];
	size_t n_names = 0;
	int r = 0;

	cat = calloc(1, sizeof(*cat));
	if (!cat)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		r = -errno;
		cde_errors_add(errs, "", "%s: %s", dir, strerror(-r));
		goto err_free_cat;
	}
	while ((de = readdir(d))) {
		if (!has_json_suffix(de->d_name))
			continue;
		if (n_names == CATALOG_MAX_SPECS) {
			cde_errors_add(errs, "", "%s: more than %d catalog files", dir,
				       CATALOG_MAX_SPECS);
			r = -E2BIG;
			break;
		}
		names[n_names] = strdup(de->d_name);
		if (!names[n_names]) {
			r = -ENOMEM;
			break;
		}
		n_names++;
	}
	closedir(d);
	if (r == 0 && n_names == 0) {
		cde_errors_add(errs, "", "%s: no catalog file (*.json)", dir);
		r = -ENOENT;
	}
	/* Sorted so that errors and duplicates are reported the same way on
	 * every file system. */
	qsort(names, n_names, sizeof(names[0]), cmp_strings);
	for (size_t i = 0; r == 0 && i < n_names; i++) {
		char path[4096];
		struct cde_spec *spec = &cat->specs[cat->n_specs];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			r = -ENAMETOOLONG;
			cde_errors_add(errs, "", "%s: path too long", dir);
			break;
		}
		r = cde_catalog_parse_file(&cat->arena, path, spec, errs);
		if (r < 0)
			break;
		for (size_t k = 0; k < cat->n_specs; k++) {
			if (strcmp(cat->specs[k].version, spec->version) == 0) {
				cde_errors_add(errs, "/specVersion", "%s: version %s is defined twice",
					       path, spec->version);
				r = -EEXIST;
			}
		}
		cat->n_specs++;
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	if (r < 0)
		goto err_free_cat;
	qsort(cat->specs, cat->n_specs, sizeof(cat->specs[0]), cmp_specs_newest_first);
	*ret = cat;
	return 0;

err_free_cat:
	cde_catalog_free(cat);
	return r;
}

struct cde_catalog *cde_catalog_free(struct cde_catalog *cat)
{
	if (cat) {
		cde_arena_release(&cat->arena);
		free(cat);
	}
	return NULL;
}

const char *cde_catalog_default_dir(void)
{
	const char *env = getenv("CDEVENTSD_CATALOG");
	struct stat st;

	if (env && *env)
		return env;
	if (stat(CDE_CATALOG_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return CDE_CATALOG_INSTALL_DIR;
	return CDE_CATALOG_SOURCE_DIR;
}

size_t cde_catalog_spec_count(const struct cde_catalog *cat)
{
	return cat->n_specs;
}

const struct cde_spec *cde_catalog_spec_at(const struct cde_catalog *cat, size_t i)
{
	return i < cat->n_specs ? &cat->specs[i] : NULL;
}

const struct cde_spec *cde_catalog_newest(const struct cde_catalog *cat)
{
	return cat->n_specs ? &cat->specs[0] : NULL;
}

static int cmp_type_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cde_event_type *)elem)->name);
}

const struct cde_event_type *cde_spec_find_type(const struct cde_spec *spec, const char *name)
{
	return bsearch(name, spec->types, spec->n_types, sizeof(spec->types[0]), cmp_type_key);
}

const struct cde_event_type *cde_spec_find_kind(const struct cde_spec *spec,
						const char *subject, const char *predicate)
{
	static const char family[] = "dev.cdevents.";
	size_t f = sizeof(family) - 1, sl = strlen(subject), pl = strlen(predicate);

	/* "dev.cdevents.<subject>.<predicate>." then a version with a dot,
	 * compared in place: a prefix printed per hook was in its profile.
	 * As long as that prefix had to fit in 256 bytes. */
	if (f + sl + pl + 2 >= 256)
		return NULL;
	for (size_t i = 0; i < spec->n_types; i++) {
		const char *name = spec->types[i].name;

		if (strncmp(name, family, f) == 0 && strncmp(name + f, subject, sl) == 0 && name[f + sl] == '.' &&
		    strncmp(name + f + sl + 1, predicate, pl) == 0 && name[f + sl + 1 + pl] == '.' &&
		    strchr(name + f + sl + pl + 2, '.'))
			return &spec->types[i];
	}
	return NULL;
}

bool cde_type_is_custom(const char *name)
{
	return strncmp(name, "dev.cdeventsx.", 14) == 0;
}
