#pragma once
/* Shared by the cmocka unit tests: the project's catalog and the official
 * spec files in ../shared, whose locations meson passes in the
 * environment. Everything here is static inline: each test is one file. */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schemas/catalog.h"
#include "schemas/base/json_strict.h"
#include "schemas/base/read_file.h"

static inline struct cde_catalog *load_catalog(void)
{
	struct cde_catalog *cat = NULL;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_catalog_load_dir(cde_catalog_default_dir(), &cat, &errs), 0);
	return cat;
}

static inline const char *spec_dir(void)
{
	const char *d = getenv("CDE_SPEC_DIR");

	return d ? d : "../shared/cdevents-spec";
}

/* Parses a JSON literal written in a test; fails the test when it is not
 * valid JSON. */
static inline cJSON *json(const char *text)
{
	struct cde_errors errs;
	cJSON *doc = NULL;

	cde_errors_reset(&errs);
	assert_int_equal(cde_json_parse(text, strlen(text), &doc, &errs), 0);
	return doc;
}

static inline cJSON *read_json_file(const char *path)
{
	char *buf;
	size_t len;
	cJSON *doc;

	assert_int_equal(cde_read_file(path, 1 << 24, &buf, &len), 0);
	struct cde_errors errs;

	cde_errors_reset(&errs);
	assert_int_equal(cde_json_parse(buf, len, &doc, &errs), 0);
	free(buf);
	return doc;
}

/* True when @errs holds an error at exactly @pointer whose reason
 * contains @reason_part. */
static inline int has_error(const struct cde_errors *errs, const char *pointer,
			    const char *reason_part)
{
	for (size_t i = 0; i < errs->count; i++)
		if (strcmp(errs->items[i].pointer, pointer) == 0 &&
		    strstr(errs->items[i].reason, reason_part))
			return 1;
	return 0;
}

static inline void print_errors(const struct cde_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		print_message("  %s: %s\n", errs->items[i].pointer, errs->items[i].reason);
}

/* The project's catalog, for test groups that run with
 * cmocka_run_group_tests(tests, catalog_setup, catalog_teardown). */
static struct cde_catalog *cat __attribute__((unused));

static inline int catalog_setup(void **state)
{
	cat = load_catalog();
	return 0;
}

static inline int catalog_teardown(void **state)
{
	cat = cde_catalog_free(cat);
	return 0;
}
