/* The table of what changed between the older CDEvents releases and 0.5.1,
 * read off the official schemas (../shared/cdevents-spec/vX/schemas).
 *
 * What needs no row, because it holds for every type: context.version
 * becomes context.specversion; the type keeps its subject and predicate
 * and takes the version 0.5.1's catalog gives them; subject.type goes
 * (0.5.1 names the subject by the type only); id, source, timestamp,
 * chainId, links (0.4.1 and 0.5.1 share their shape; schemaUri goes,
 * since it names a schema of the old shape),
 * subject.id, subject.source and customData keep their place. Fields
 * whose format 0.5.1 made stricter (0.1.2's free-text sources, url ->
 * uri with format uri) are checked against the 0.5.1 catalog after the
 * rows below, not listed here: a value it refuses is dropped, or the
 * upgrade refused when 0.5.1 requires it. */

#include "events/upgrade.h"

#define ALL_OLDER "0.5.1"

static const char *const run_outcomes[] = {
	"success", "success", "failure", "failure", "cancel", "cancel", "error", "error",
	/* Jenkins' Result words, as the Jenkins plugin sends them. */
	"aborted", "cancel", NULL,
};

static const char *const test_outcomes[] = {
	"pass", "success", "fail", "failure", "cancel", "cancel", "error", "error", NULL,
};

const struct cde_upgrade_rule cde_upgrade_rules[] = {
	/* 0.5.0 renamed url to uri and gave it format uri. */
	{ "pipelinerun", "*", ALL_OLDER, CDE_UPGRADE_RENAME, "/url", "/uri", NULL, "renamed uri in 0.5.0" },
	{ "taskrun", "*", ALL_OLDER, CDE_UPGRADE_RENAME, "/url", "/uri", NULL, "renamed uri in 0.5.0" },
	{ "environment", "created", ALL_OLDER, CDE_UPGRADE_RENAME, "/url", "/uri", NULL, "renamed uri in 0.5.0" },
	{ "environment", "modified", ALL_OLDER, CDE_UPGRADE_RENAME, "/url", "/uri", NULL, "renamed uri in 0.5.0" },
	{ "repository", "*", ALL_OLDER, CDE_UPGRADE_RENAME, "/url", "/uri", NULL, "renamed uri in 0.5.0" },
	{ "testsuiterun", "queued", ALL_OLDER, CDE_UPGRADE_RENAME, "/testSuite/url", "/testSuite/uri", NULL,
	  "renamed uri in 0.5.0" },
	/* 0.5.0 gave a pipeline run's outcome an enum, and renamed the test
	 * outcomes pass and fail to success and failure. */
	{ "pipelinerun", "finished", ALL_OLDER, CDE_UPGRADE_VALUES, "/outcome", NULL, run_outcomes,
	  "0.5.0 took only success, failure, cancel, error" },
	{ "testcaserun", "finished", ALL_OLDER, CDE_UPGRADE_VALUES, "/outcome", NULL, test_outcomes,
	  "0.5.0 renamed pass and fail success and failure" },
	{ "testsuiterun", "finished", ALL_OLDER, CDE_UPGRADE_VALUES, "/outcome", NULL, test_outcomes,
	  "0.5.0 renamed pass and fail success and failure" },
};

const size_t cde_upgrade_n_rules = sizeof(cde_upgrade_rules) / sizeof(cde_upgrade_rules[0]);

/* 0.3.0 replaced the test case and test suite events (content-free) by
 * test case runs and test suite runs, whose required environment the old
 * ones never had: no mapping would be honest. */
const struct cde_upgrade_gone cde_upgrade_gone[] = {
	{ "testcase", "0.3.0 replaced testcase events by testcaserun ones, which require an environment" },
	{ "testsuite", "0.3.0 replaced testsuite events by testsuiterun ones, which require an environment" },
};

const size_t cde_upgrade_n_gone = sizeof(cde_upgrade_gone) / sizeof(cde_upgrade_gone[0]);
