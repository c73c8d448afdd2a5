#pragma once
/* Shared by the libFuzzer targets (issue 8). Each target is one file and
 * one program, so everything here is static inline. Whatever a target
 * needs for every input (the catalog, the configured clusters) is built
 * once in LLVMFuzzerInitialize and never changes afterwards: an input
 * must not leave anything behind for the next one. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cde_build_config.h"
#include "config/config.h"
#include "events/hooks.h"
#include "schemas/catalog.h"
#include "schemas/base/errors.h"
#include "schemas/base/json_strict.h"
#include "sizing/sizing.h"

/* libFuzzer's entry points; declared here for -Wmissing-prototypes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run with a message: libFuzzer saves the input that got here. */
#define FUZZ_CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz check failed: %s: ", #cond);	\
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

static inline void fuzz_print_errors(const struct cde_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "  %s: %s\n", errs->items[i].pointer, errs->items[i].reason);
}

/* The project's catalog: $CDEVENTSD_CATALOG, else the source tree's (never
 * an installed one, which may be older than the code under test). */
static inline struct cde_catalog *fuzz_load_catalog(void)
{
	const char *dir = getenv("CDEVENTSD_CATALOG");
	struct cde_catalog *cat = NULL;
	struct cde_errors errs;

	if (!dir || !*dir)
		dir = CDE_CATALOG_SOURCE_DIR;
	cde_errors_reset(&errs);
	if (cde_catalog_load_dir(dir, &cat, &errs) != 0) {
		fprintf(stderr, "fuzz: cannot load the catalog from %s\n", dir);
		fuzz_print_errors(&errs);
		abort();
	}
	return cat;
}

/* A NUL-terminated copy of the input, for the APIs that take C strings.
 * Bytes after an embedded NUL are simply not seen by them. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The configured clusters a hook or a sizing request may name, as the
 * daemon passes them from its configuration (config.h's clusters:). */
#define FUZZ_CLUSTERS 2

static inline void fuzz_load_clusters(struct cde_sizing_named_cluster clusters[FUZZ_CLUSTERS])
{
	static const char *const defs[FUZZ_CLUSTERS][2] = {
		{ "prod-gke", "{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\", \"nodes\": 10}" },
		{ "batch-aks", "{\"provider\": \"aks\", \"nodeCpu\": \"7.5\", \"nodeMemory\": \"30Gi\", \"maxPods\": 30,"
			       " \"aksVersion\": \"1.30\", \"podOverhead\": {\"cpu\": \"250m\", \"memory\": \"120Mi\"}}" },
	};

	for (size_t i = 0; i < FUZZ_CLUSTERS; i++) {
		struct cde_errors errs;
		cJSON *c = NULL;
		char at[96];

		cde_errors_reset(&errs);
		memset(&clusters[i], 0, sizeof(clusters[i]));
		snprintf(clusters[i].name, sizeof(clusters[i].name), "%s", defs[i][0]);
		snprintf(at, sizeof(at), "/clusters/%s", defs[i][0]);
		if (cde_json_parse(defs[i][1], strlen(defs[i][1]), &c, &errs) != 0 ||
		    cde_sizing_cluster_parse(c, at, &clusters[i].cluster, &errs) != 0) {
			fprintf(stderr, "fuzz: cluster %s does not parse\n", defs[i][0]);
			fuzz_print_errors(&errs);
			abort();
		}
		cJSON_Delete(c);
	}
}
