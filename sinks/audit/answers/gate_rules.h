#pragma once
/* Promotion gates as data (`gates:` in the configuration): per
 * environment, the evidence an artifact needs in the audit log before a
 * deployment there. Each requirement names what a CDEvents 0.5.1 event
 * carries, so that a gate is only ever asked what the log can answer. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"

#define CDE_GATES_MAX 16
#define CDE_GATE_REQUIRE_MAX 32
#define CDE_GATE_ENV_MAX 128
#define CDE_GATE_NAME_MAX 128
#define CDE_GATE_FROM_MAX 32		/* as many as there may be principals */
#define CDE_GATE_PRINCIPAL_MAX 64
/* The rows a gate's evaluation reads at most, over all its reads (the
 * events naming the artifact, their chains, the soaks): past it the gate
 * denies without judging, rather than hold the reader for seconds or
 * answer on part of the evidence. An artifact's chains hold hundreds of
 * events, a large monorepo's tens of thousands of test cases. */
#define CDE_GATE_EVENTS_MAX 200000

enum cde_gate_need {
	CDE_GATE_BUILD,		/* build.finished naming the artifact (artifactId) */
	CDE_GATE_TESTS,		/* the latest testsuiterun.finished of one suite, in its chains */
	CDE_GATE_TEST_CASE,	/* the latest run of each test case of a testCase.type */
	CDE_GATE_SIGNED,	/* artifact.signed of the artifact */
	CDE_GATE_SBOM,		/* artifact.packaged of the artifact with an sbom.uri */
	CDE_GATE_DEPLOYED,	/* service.deployed/upgraded in another environment, kept */
};

struct cde_gate_requirement {
	enum cde_gate_need need;
	char name[CDE_GATE_NAME_MAX];	/* tests: the suite's id; test_case: the testCase.type;
					 * deployed: the environment's id */
	char outcome[16];		/* tests, test_case: the outcome the latest run has */
	int64_t window_s;		/* deployed: how long without a rollback, in seconds, */
	char window[16];		/* as the file writes it ("24h") */
};

struct cde_gate {
	char environment[CDE_GATE_ENV_MAX];
	bool enforce;			/* a deployment there of a denied artifact is refused (409) */
	size_t n_from;			/* 0: evidence from any principal; else only from these */
	char from[CDE_GATE_FROM_MAX][CDE_GATE_PRINCIPAL_MAX];
	size_t n;
	struct cde_gate_requirement require[CDE_GATE_REQUIRE_MAX];
	uint64_t events_max;		/* 0: CDE_GATE_EVENTS_MAX (the configuration leaves it; tests set it) */
};

struct cde_gate_set {
	size_t n;
	struct cde_gate gates[CDE_GATES_MAX];
};

/* Reads the `gates:` map @gates (a JSON object, as the configuration's
 * YAML reads; NULL or null: no gates) into @ret. Errors name @file (NULL:
 * none) and the pointer ("/gates/prod/require/1/tests/suites: ..."), all
 * of them at once. Returns 0, or -EINVAL with @ret emptied. */
int cde_gate_set_parse(const cJSON *gates, const char *file, struct cde_gate_set *ret, struct cde_errors *errs);

/* Checks that each name of each gate's `from` in @set is one of the @n
 * @names (the configuration's principals, or "anonymous" when it has
 * none). Errors name @file and the pointer ("/gates/prod/from/1: ...").
 * Returns 0 or -EINVAL. */
int cde_gate_set_check_from(const struct cde_gate_set *set, const char *const *names, size_t n, const char *file,
			    struct cde_errors *errs);

/* The gate of @environment in @set, or NULL. */
const struct cde_gate *cde_gate_set_find(const struct cde_gate_set *set, const char *environment);
