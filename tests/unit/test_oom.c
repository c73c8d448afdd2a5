/* Allocation failures (SQLite's test_malloc.c): the config loader, the
 * catalog, the JSON parser and the validator, the hook translator and the
 * pod hook, the upgrade of an older event run with their 1st, 2nd, ... allocation failing, once with that
 * one alone failing and once with every later one failing too, until a
 * run needs no failure. Each failing run must return -ENOMEM (or, when
 * the failure could be absorbed, exactly what the run without failures
 * returned), leave its outputs untouched, and free everything it
 * allocated. Allocations of libcde.a, cJSON, libcyaml and libyaml are all
 * reached (tests/unit/oom.h tells how). */

#include "tests/unit/helpers.h"
#include "tests/unit/fixtures.h"

#include <dirent.h>
#include <dlfcn.h>
#include <unistd.h>

#include "config/config.h"
#include "events/hooks.h"
#include "events/pod_hook.h"
#include "schemas/base/jcs.h"
#include "events/upgrade.h"
#include "schemas/validate.h"
#include "sizing/sizing.h"
#include "tests/unit/oom.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What one call under test is, for exercise(). */
struct target {
	const char *name;
	/* The call: returns 0 or a negative errno; keeps its outputs in @arg. */
	int (*run)(void *arg);
	/* After a run that returned @r: when @first, keeps the outputs as the
	 * reference; otherwise checks them (untouched after -ENOMEM, the
	 * reference's otherwise), printing what differs and returning false.
	 * Frees the outputs either way. */
	bool (*check)(void *arg, int r, bool first);
	/* The call must make at least this many allocations. */
	unsigned long min_calls;
};

/* Totals, printed at the end. */
static unsigned long total_runs, total_allocs;

/* When set, the check callbacks say what is wrong. */
static bool verbose;

/* Kinds of problems still to print in detail in this test. */
static unsigned reports_left;

/* The first frame of a failed allocation's stack that lies in this
 * program past the allocator's entry (so in libcde.a, or in the test):
 * the call site that ran out of memory, whatever library allocated. */
static void *site_of(const struct oom_stats *st)
{
	Dl_info self, info;
	int i = 0;

	dladdr((void *)site_of, &self);
	while (i < st->failed_trace_n && st->failed_trace[i] != st->failed_caller)
		i++;
	for (; i < st->failed_trace_n; i++)
		if (dladdr(st->failed_trace[i], &info) && info.dli_fbase == self.dli_fbase)
			return st->failed_trace[i];
	return st->failed_caller;
}

/* A kind of wrong outcome: one call site, one return value. */
struct problem {
	void *site;
	int r;
	bool leaks, wrong_outputs, persistent;
	unsigned long first_n, count;
	enum oom_source source;
};

/* Runs again with the same failure, keeping the stack of allocation
 * @index, and prints it. */
static void trace_again(const struct target *t, void *arg, unsigned long fail_at, bool persistent,
			unsigned long index, const char *what)
{
	struct oom_stats st;
	int r;

	oom_arm(fail_at, persistent, index);
	r = t->run(arg);
	oom_disarm(&st);
	print_message("    stack of %s (allocation %lu):\n", what, index);
	oom_print_trace();
	verbose = true;
	t->check(arg, r, false);
	verbose = false;
}

/* Prints one kind of problem, with the stacks of the failed allocation
 * and of the first allocation left behind, from its first occurrence. */
static void report(const struct target *t, void *arg, const struct problem *p)
{
	struct oom_stats st;
	unsigned long leaked = 0;
	int r;

	print_message("  %s: %lu time(s) an allocation (%s) failed under ", t->name, p->count,
		      oom_source_name(p->source));
	oom_print_caller(p->site);
	print_message("    first at allocation %lu%s: returned %d (%s)%s%s\n", p->first_n,
		      p->persistent ? " and every later one" : " alone", p->r,
		      p->r ? strerror(-p->r) : "success", p->wrong_outputs ? ", outputs wrong" : "",
		      p->leaks ? ", memory left allocated" : "");
	oom_arm(p->first_n, p->persistent, 0);
	r = t->run(arg);
	oom_disarm(&st);
	verbose = true;
	t->check(arg, r, false);
	verbose = false;
	if (oom_live(true))
		leaked = oom_live_index(0);
	trace_again(t, arg, p->first_n, p->persistent, p->first_n, "the failed allocation");
	if (leaked)
		trace_again(t, arg, p->first_n, p->persistent, leaked, "the first allocation not freed");
}

/* The loop of SQLite's test_malloc.c over @t. Returns the number of runs
 * that went wrong (and prints how); *@ret_calls (if not NULL) is how many
 * allocations a run without failures makes, at least @t->min_calls. */
static unsigned long exercise(const struct target *t, void *arg, unsigned long *ret_calls)
{
	static struct problem problems[64];
	struct oom_stats base, st;
	unsigned long n, n_problems = 0, absorbed = 0, runs = 0;
	size_t kinds = 0;
	int r0, r;

	oom_arm(0, false, 0);
	r0 = t->run(arg);
	oom_disarm(&base);
	assert_true(t->check(arg, r0, true));
	if (oom_live(true)) {
		print_message("  %s: leaks without any failure\n", t->name);
		fail();
	}
	for (int persistent = 0; persistent < 2; persistent++) {
		for (n = 1;; n++) {
			struct problem p;
			size_t k;

			oom_arm(n, persistent, 0);
			r = t->run(arg);
			oom_disarm(&st);
			runs++;
			/* In this order: the check frees the outputs. */
			p = (struct problem){ .r = r, .persistent = persistent, .first_n = n, .count = 1,
					      .source = st.failed_source };
			p.wrong_outputs = !t->check(arg, r, false);
			p.leaks = oom_live(false) > 0;
			if (!st.failed) {
				/* Fewer than n allocations: the loop is done. */
				if (r != r0 || p.wrong_outputs || p.leaks || st.calls != base.calls) {
					print_message("  %s: a run without failures changed: %d, %lu allocations%s%s\n",
						      t->name, r, st.calls, p.wrong_outputs ? ", outputs wrong" : "",
						      p.leaks ? ", memory left allocated" : "");
					oom_live(true);
					n_problems++;
				}
				break;
			}
			if (!p.wrong_outputs && !p.leaks && (r == -ENOMEM || r == r0)) {
				absorbed += r == r0;	/* a failure it could do without */
				continue;
			}
			n_problems++;
			p.site = site_of(&st);
			for (k = 0; k < kinds; k++)
				if (problems[k].site == p.site && problems[k].r == p.r &&
				    problems[k].source == p.source &&
				    problems[k].leaks == p.leaks && problems[k].wrong_outputs == p.wrong_outputs)
					break;
			if (k < kinds)
				problems[k].count++;
			else if (kinds < N(problems))
				problems[kinds++] = p;
		}
	}
	print_message("  %s: %lu allocations (libcde %lu, cJSON %lu, libcyaml %lu, libyaml %lu), "
		      "%lu runs, %lu failures absorbed, %lu wrong in %zu ways\n", t->name, base.calls,
		      base.by_source[OOM_LIBCDE], base.by_source[OOM_CJSON], base.by_source[OOM_CYAML],
		      base.by_source[OOM_YAML], runs, absorbed, n_problems, kinds);
	for (size_t k = 0; k < kinds && reports_left; k++, reports_left--)
		report(t, arg, &problems[k]);
	total_runs += runs;
	total_allocs += base.calls;
	assert_true(base.calls >= t->min_calls);
	/* Each pass failed every allocation of a clean run in turn, then ran
	 * once more without a failure: nothing was skipped. */
	assert_true(runs >= 2 * (base.calls + 1));
	if (ret_calls)
		*ret_calls = base.calls;
	return n_problems;
}

/* ---- events, compared without what is generated afresh ---- */

/* The event as compact JSON, without context.id and context.timestamp. */
static char *event_text(const struct cde_event *ev)
{
	cJSON *doc = cJSON_Duplicate(cde_event_json(ev), true);
	cJSON *context = cJSON_GetObjectItemCaseSensitive(doc, "context");
	char *text;

	assert_non_null(doc);
	cJSON_DeleteItemFromObjectCaseSensitive(context, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(context, "timestamp");
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(text);
	cJSON_Delete(doc);
	return text;
}

static bool same_errors(const struct cde_errors *a, const struct cde_errors *b)
{
	if (a->count != b->count || a->dropped != b->dropped)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i].pointer, b->items[i].pointer) != 0 ||
		    strcmp(a->items[i].reason, b->items[i].reason) != 0)
			return false;
	return true;
}

/* ---- the config loader ---- */

static const char rich_config[] =
	"listen: 0.0.0.0:9720\n"
	"state_dir: /var/lib/cdeventsd\n"
	"catalog_dir: /usr/share/cdeventsd/catalog\n"
	"source: /cdeventsd\n"
	"log_level: debug\n"
	"log_format: json\n"
	"audit:\n"
	"  sync: normal\n"
	"  hmac_key_file: /etc/cdeventsd/audit.key\n"
	"  checkpoint_every: 500\n"
	"  max_age: 400d\n"
	"  max_size: 20GiB\n"
	"  retention_interval: 30m\n"
	"limits:\n"
	"  body_max: 2MiB\n"
	"  head_max: 32KiB\n"
	"  headers_max: 80\n"
	"  head_timeout: 5s\n"
	"  body_timeout: 20s\n"
	"  idle_timeout: 1m\n"
	"  max_connections: 512\n"
	"  max_connections_per_address: 32\n"
	"  queue_max: 5000\n"
	"metrics:\n"
	"  max_series: 100\n"
	"  price_cpu_hour: 0.0475\n"
	"  price_gib_hour: 0.0064\n"
	"principals:\n"
	"  - name: jenkins\n"
	"    scopes: [emit, query]\n"
	"    token_file: /etc/cdeventsd/tokens/jenkins\n"
	"  - name: tekton\n"
	"    token_env: CDEVENTSD_TOKEN_TEKTON\n"
	"  - name: github\n"
	"    scopes: [emit]\n"
	"    github_secret_file: /etc/cdeventsd/github.secret\n"
	"  - name: argo\n"
	"    scopes: [emit, query]\n"
	"    sources: [/argo, /argo-cd/]\n"
	"    webhook_secret_files:\n"
	"      - /etc/cdeventsd/argo-2026.whsec\n"
	"      - /etc/cdeventsd/argo-2025.whsec\n"
	CDE_TEST_SINKS_YAML
	"  - sinks: [audit-hook]\n"
	"    filter:\n"
	"      any:\n"
	"        - exact: {type: dev.cdevents.service.deployed}\n"
	"        - suffix: {source: /prod}\n"
	"  - sinks: [jsonl]\n"
	"clusters:\n"
	"  prod-gke:\n"
	"    provider: gke\n"
	"    nodeCpu: 16\n"
	"    nodeMemory: 64Gi\n"
	"    nodes: 10\n"
	"  batch-eks:\n"
	"    provider: eks\n"
	"    nodeCpu: 8\n"
	"    nodeMemory: 32Gi\n"
	"    maxPods: 29\n"
	"  kata-aks:\n"
	"    provider: aks\n"
	"    nodeCpu: 8\n"
	"    nodeMemory: 32Gi\n"
	"    maxPods: 30\n"
	"    aksVersion: \"1.29\"\n"
	"    podOverhead: {cpu: 250m, memory: 160Mi}\n";

struct config_arg {
	char path[64];
	struct cde_config cfg, before, expected;
	struct cde_errors errs;
};

static int config_run(void *arg)
{
	struct config_arg *a = arg;

	cde_errors_reset(&a->errs);
	return cde_config_load_file(a->path, &a->cfg, &a->errs);
}

static bool config_check(void *arg, int r, bool first)
{
	struct config_arg *a = arg;
	bool ok = true;

	if (first && r != 0)
		print_errors(&a->errs);
	if (first)
		a->expected = a->cfg;
	else if (r == 0)
		ok = memcmp(&a->cfg, &a->expected, sizeof(a->cfg)) == 0;
	else
		ok = memcmp(&a->cfg, &a->before, sizeof(a->cfg)) == 0;
	if (verbose) {
		print_errors(&a->errs);
		if (!ok)
			print_message("    the configuration is not the one expected\n");
	}
	a->cfg = a->before;
	return ok;
}

static void the_config_loader_runs_out_of_memory_cleanly(void **state)
{
	static struct config_arg a;
	const struct target t = { "cde_config_load_file", config_run, config_check, 200 };
	struct cde_errors errs;
	unsigned long problems;
	int fd;

	snprintf(a.path, sizeof(a.path), "/tmp/cde-oom-XXXXXX");
	fd = mkstemp(a.path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rich_config, strlen(rich_config)), (ssize_t)strlen(rich_config));
	close(fd);
	/* Not the defaults, so that "unchanged" means something. */
	cde_config_defaults(&a.before);
	snprintf(a.before.source, sizeof(a.before.source), "/before");
	a.before.n_sinks = 1;
	snprintf(a.before.sinks[0].name, sizeof(a.before.sinks[0].name), "old");
	a.cfg = a.before;
	reports_left = 12;
	problems = exercise(&t, &a, NULL);
	unlink(a.path);
	assert_int_equal(problems, 0);
	assert_int_equal(a.expected.n_principals, 4);
	assert_int_equal(a.expected.n_sinks, 3);
	assert_int_equal(a.expected.n_routes, 3);
	assert_int_equal(a.expected.n_clusters, 3);
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_check(&a.expected, &errs), 0);
}

/* ---- the catalog (the arena) ---- */

struct catalog_arg {
	char dir[64];
	struct cde_catalog *cat;
	struct cde_errors errs;
};

#define UNTOUCHED ((void *)0x1)

static int catalog_run(void *arg)
{
	struct catalog_arg *a = arg;

	a->cat = UNTOUCHED;
	cde_errors_reset(&a->errs);
	return cde_catalog_load_dir(a->dir, &a->cat, &a->errs);
}

static bool catalog_check(void *arg, int r, bool first)
{
	struct catalog_arg *a = arg;
	bool ok;

	if (r == 0) {
		ok = a->cat != UNTOUCHED && cde_catalog_spec_count(a->cat) == 1;
		cde_catalog_free(a->cat);
	} else {
		ok = a->cat == UNTOUCHED;
		if (first || verbose)
			print_errors(&a->errs);
	}
	return ok;
}

/* One spec version's catalog file, in a directory of its own: loading
 * all three in each run would make the loop quadratic in minutes. */
static void the_catalog_runs_out_of_memory_cleanly(void **state)
{
	static struct catalog_arg a;
	const struct target t = { "cde_catalog_load_dir", catalog_run, catalog_check, 1000 };
	char src[1024], dst[1024];
	unsigned long problems;
	char *buf;
	size_t len;
	FILE *f;

	snprintf(a.dir, sizeof(a.dir), "/tmp/cde-oom-catalog-XXXXXX");
	assert_non_null(mkdtemp(a.dir));
	snprintf(src, sizeof(src), "%s/v0.3.0.json", cde_catalog_default_dir());
	snprintf(dst, sizeof(dst), "%s/v0.3.0.json", a.dir);
	assert_int_equal(cde_read_file(src, 1 << 24, &buf, &len), 0);
	f = fopen(dst, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
	reports_left = 12;
	problems = exercise(&t, &a, NULL);
	unlink(dst);
	rmdir(a.dir);
	assert_int_equal(problems, 0);
}

/* ---- the JSON parser and the validator ---- */

struct validate_arg {
	const char *name;
	char *text;
	size_t len;
	int r_parse, r_validate;
	bool doc_touched;		/* cde_json_parse failed but set *ret_doc */
	unsigned long validate_allocs;
	struct cde_errors errs;
	/* the reference */
	int r_parse0, r_validate0;
	struct cde_errors errs0;
};

static int validate_run(void *arg)
{
	struct validate_arg *a = arg;
	cJSON *doc = UNTOUCHED;
	unsigned long before;

	a->r_validate = 1;
	a->doc_touched = false;
	a->validate_allocs = 0;
	cde_errors_reset(&a->errs);
	a->r_parse = cde_json_parse(a->text, a->len, &doc, &a->errs);
	if (a->r_parse < 0) {
		a->doc_touched = doc != UNTOUCHED;
		return a->r_parse;
	}
	before = oom_calls();
	a->r_validate = cde_validate(cat, doc, NULL, &a->errs);
	a->validate_allocs = oom_calls() - before;
	cJSON_Delete(doc);
	return a->r_validate;
}

static bool validate_check(void *arg, int r, bool first)
{
	struct validate_arg *a = arg;
	bool ok = a->validate_allocs == 0 && !a->doc_touched;

	if (a->doc_touched)
		print_message("    %s: cde_json_parse failed but set *ret_doc\n", a->name);
	if (a->validate_allocs)
		print_message("    %s: cde_validate made %lu allocations\n", a->name, a->validate_allocs);
	if (verbose)
		print_message("    %s: parse %d, validate %d (without failures: %d, %d)\n", a->name,
			      a->r_parse, a->r_validate, a->r_parse0, a->r_validate0);
	if (verbose)
		print_errors(&a->errs);
	if (first) {
		a->r_parse0 = a->r_parse;
		a->r_validate0 = a->r_validate;
		a->errs0 = a->errs;
	} else if (r != -ENOMEM && (a->r_parse != a->r_parse0 || a->r_validate != a->r_validate0 ||
				    !same_errors(&a->errs, &a->errs0))) {
		ok = false;
	}
	return ok;
}

/* Returns the number of runs that went wrong. */
static unsigned long validate_one(const char *name, char *text, size_t len, int expected)
{
	struct validate_arg a = { .name = name, .text = text, .len = len };
	/* Malformed text is refused by a scan that allocates nothing. */
	const struct target t = { name, validate_run, validate_check, strcmp(name, "not JSON") != 0 };
	unsigned long problems = exercise(&t, &a, NULL);

	if (a.r_parse0 == 0 && a.r_validate0 != expected) {
		print_message("%s:\n", name);
		print_errors(&a.errs0);
	}
	assert_int_equal(a.r_parse0 ? a.r_parse0 : a.r_validate0, expected);
	return problems;
}

/* Every official conformance example, read from ../shared at run time. */
static void parsing_and_validating_conformance_examples_run_out_of_memory_cleanly(void **state)
{
	static const char *const versions[] = { "v0.5.1", "v0.4.1", "v0.3.0" };
	unsigned long problems = 0;
	size_t files = 0;

	reports_left = 4;
	for (size_t v = 0; v < N(versions); v++) {
		char dir[1024];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s/conformance", spec_dir(), versions[v]);
		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d))) {
			char path[2048], name[300];
			char *buf;
			size_t len;

			if (!strstr(de->d_name, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			snprintf(name, sizeof(name), "%s/%s", versions[v], de->d_name);
			assert_int_equal(cde_read_file(path, 1 << 24, &buf, &len), 0);
			problems += validate_one(name, buf, len, 0);
			free(buf);
			files++;
		}
		closedir(d);
	}
	assert_true(files >= 100);
	assert_int_equal(problems, 0);
}

#define CTX(type) "\"context\": {\"specversion\": \"0.5.1\", \"id\": \"1\", \"source\": \"/s\", " \
	"\"type\": \"" type "\", \"timestamp\": \"2024-01-01T00:00:00Z\"}"

static void invalid_events_run_out_of_memory_cleanly(void **state)
{
	static const struct {
		const char *name, *text;
		int expected;
	} cases[] = {
		{ "missing subject", "{" CTX("dev.cdevents.service.deployed.0.3.0") "}", -EINVAL },
		{ "wrong types", "{" CTX("dev.cdevents.service.deployed.0.3.0") ", \"subject\": "
		  "{\"id\": 7, \"content\": {\"environment\": \"prod\", \"artifactId\": [1]}}}", -EINVAL },
		{ "unknown field", "{" CTX("dev.cdevents.build.started.0.3.0") ", \"subject\": "
		  "{\"id\": \"b\", \"content\": {}, \"colour\": \"red\"}, \"extra\": {\"a\": [1, 2, 3]}}", -EINVAL },
		{ "unknown type", "{" CTX("dev.cdevents.nothing.happened.0.1.0") ", \"subject\": "
		  "{\"id\": \"x\", \"content\": {}}}", -EINVAL },
		{ "bad formats", "{\"context\": {\"specversion\": \"0.5.1\", \"id\": \"\", \"source\": "
		  "\"::not a uri\", \"type\": \"dev.cdevents.build.queued.0.3.0\", \"timestamp\": "
		  "\"yesterday\"}, \"subject\": {\"id\": \"b\", \"content\": {}}}", -EINVAL },
		{ "duplicate key", "{\"context\": {}, \"context\": {}}", -EINVAL },
		{ "not JSON", "{\"context\": [1, 2, {\"a\": tru}]}", -EINVAL },
		{ "custom type", "{" CTX("dev.cdeventsx.acme-thing.happened.0.1.0") ", \"subject\": "
		  "{\"id\": \"x\", \"content\": {\"anything\": {\"goes\": [1, \"two\", null]}}}}", 0 },
	};

	unsigned long problems = 0;

	reports_left = 4;
	for (size_t i = 0; i < N(cases); i++) {
		char *text = strdup(cases[i].text);

		assert_non_null(text);
		problems += validate_one(cases[i].name, text, strlen(text), cases[i].expected);
		free(text);
	}
	assert_int_equal(problems, 0);
}

/* ---- the hook translator ---- */

static struct cde_sizing_named_cluster configured[1];

static const struct cde_hook_defaults with_clusters = {
	.source = "/jenkins", .clusters = configured, .n_clusters = 1,
};

struct hook_arg {
	const char *kind;
	cJSON *payload;
	struct cde_event *ev;
	struct cde_errors errs;
	char *expected;		/* the reference event's text */
	int r0;
	struct cde_errors errs0;
};

static int hook_run(void *arg)
{
	struct hook_arg *a = arg;

	a->ev = UNTOUCHED;
	cde_errors_reset(&a->errs);
	return cde_hook_translate(cat, a->kind, a->payload, &with_clusters, &a->ev, &a->errs);
}

static bool hook_check(void *arg, int r, bool first)
{
	struct hook_arg *a = arg;
	char *text;
	bool ok = true;

	if (r != 0) {
		ok = a->ev == UNTOUCHED;
		if (!ok && verbose)
			print_message("    *ret was changed on failure\n");
		if (first) {
			a->r0 = r;
			a->errs0 = a->errs;
		} else if (r != -ENOMEM && (r != a->r0 || !same_errors(&a->errs, &a->errs0))) {
			ok = false;
		}
		if (verbose)
			print_errors(&a->errs);
		return ok;
	}
	if (a->ev == UNTOUCHED || !a->ev)
		return false;
	text = event_text(a->ev);
	if (first) {
		a->r0 = 0;
		a->expected = text;
	} else {
		ok = strcmp(text, a->expected) == 0;
		if (!ok && verbose)
			print_message("    a different event:\n    %s\n    instead of\n    %s\n", text,
				      a->expected);
		cJSON_free(text);
	}
	cde_event_unref(a->ev);
	return ok;
}

static void hook_runs_out_of_memory_cleanly(const char *kind, const char *payload, int expected,
					    unsigned long min)
{
	struct hook_arg a = { .kind = kind, .payload = json(payload) };
	char name[64];
	const struct target t = { name, hook_run, hook_check, min };

	snprintf(name, sizeof(name), "cde_hook_translate(%s)", kind);
	reports_left = 12;
	assert_int_equal(exercise(&t, &a, NULL), 0);
	if (a.r0 != expected)
		print_errors(&a.errs0);
	assert_int_equal(a.r0, expected);
	cJSON_free(a.expected);
	cJSON_Delete(a.payload);
}

static void a_sized_deploy_hook_runs_out_of_memory_cleanly(void **state)
{
	hook_runs_out_of_memory_cleanly("deploy",
		"{\"phase\": \"deployed\", \"subject\": \"etl\", \"environment\": "
		"{\"id\": \"prod\", \"source\": \"/clusters/eu\"}, \"artifactId\": \"pkg:oci/etl@sha256%3Aabc\", "
		"\"chainId\": \"release-42\", \"source\": \"/jenkins/etl\", "
		"\"customData\": {\"team\": \"data\", \"tags\": [\"nightly\", \"eu\"]}, \"cluster\": \"prod-gke\", "
		"\"spark\": {\"sparkVersion\": \"3.5.1\", \"conf\": {\"spark.executor.memory\": \"8g\", "
		"\"spark.executor.cores\": 4, \"spark.executor.instances\": 6, \"spark.driver.memory\": \"4g\"}}}",
		0, 100);
}

static void a_test_hook_runs_out_of_memory_cleanly(void **state)
{
	hook_runs_out_of_memory_cleanly("test",
		"{\"phase\": \"finished\", \"level\": \"case\", \"subject\": \"t-17\", \"environment\": \"ci\", "
		"\"testCase\": {\"id\": \"etl.test_join\", \"name\": \"test_join\"}, "
		"\"testSuiteRun\": \"suite-3\", \"outcome\": \"failure\", \"reason\": \"2 != 3\", "
		"\"severity\": \"high\", \"id\": \"d4f7\", \"timestamp\": \"2025-05-01T10:00:00Z\"}",
		0, 20);
}

static void a_sized_pipeline_hook_runs_out_of_memory_cleanly(void **state)
{
	hook_runs_out_of_memory_cleanly("pipeline",
		"{\"phase\": \"started\", \"subject\": \"run-9\", \"pipelineName\": \"etl-release\", "
		"\"uri\": \"https://tekton/runs/9\", \"cluster\": {\"provider\": \"eks\", \"nodeCpu\": \"8\", "
		"\"nodeMemory\": \"32Gi\", \"maxPods\": 29, \"nodes\": 4}, "
		"\"spark\": {\"language\": \"python\", \"conf\": {\"spark.executor.memory\": \"6g\", "
		"\"spark.executor.cores\": 2}}}",
		0, 50);
}

/* Refused by the validator, after the event is built. */
static void a_hook_the_validator_refuses_runs_out_of_memory_cleanly(void **state)
{
	hook_runs_out_of_memory_cleanly("pipeline",
		"{\"phase\": \"finished\", \"subject\": \"run-9\", \"pipelineName\": \"etl-release\", "
		"\"outcome\": \"meh\", \"errors\": \"none\"}",
		-EINVAL, 10);
}

/* ---- the pod hook ---- */

static cJSON *pod_fixture(const char *name)
{
	const char *root = getenv("CDE_SOURCE_DIR");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/data/pods/%s", root ? root : ".", name);
	return read_json_file(path);
}

struct pod_arg {
	cJSON *payload;
	struct cde_event **events;
	size_t n;
	struct cde_errors errs;
	size_t n0;
	char *expected[8];
};

static int pod_run(void *arg)
{
	struct pod_arg *a = arg;

	a->events = UNTOUCHED;
	a->n = 12345;
	cde_errors_reset(&a->errs);
	return cde_pod_hook_translate(cat, a->payload, &with_clusters, &a->events, &a->n, &a->errs);
}

static bool pod_check(void *arg, int r, bool first)
{
	struct pod_arg *a = arg;
	bool ok = true;

	if (r != 0) {
		if (first || verbose)
			print_errors(&a->errs);
		ok = a->events == UNTOUCHED && a->n == 12345;
		if (!ok && verbose)
			print_message("    the outputs were changed on failure\n");
		return ok;
	}
	if (first) {
		assert_true(a->n <= N(a->expected));
		a->n0 = a->n;
	}
	if (a->n != a->n0) {
		if (verbose)
			print_message("    %zu events instead of %zu\n", a->n, a->n0);
		ok = false;
	}
	for (size_t i = 0; i < a->n && i < a->n0; i++) {
		char *text = event_text(a->events[i]);

		if (first) {
			a->expected[i] = text;
			continue;
		}
		if (strcmp(text, a->expected[i]) != 0) {
			if (verbose)
				print_message("    event %zu differs:\n    %s\n    instead of\n    %s\n", i, text,
				      a->expected[i]);
			ok = false;
		}
		cJSON_free(text);
	}
	cde_pod_hook_events_free(a->events, a->n);
	return ok;
}

static void the_pod_hook_runs_out_of_memory_cleanly(void **state)
{
	static struct pod_arg a;
	const struct target t = { "cde_pod_hook_translate", pod_run, pod_check, 100 };
	cJSON *list = json("{\"kind\": \"List\", \"items\": []}");

	cJSON_AddItemToArray(cJSON_GetObjectItem(list, "items"), pod_fixture("oomkilled-executor.json"));
	cJSON_AddItemToArray(cJSON_GetObjectItem(list, "items"), pod_fixture("unschedulable-memory.json"));
	cJSON_AddItemToArray(cJSON_GetObjectItem(list, "items"), pod_fixture("succeeded.json"));
	a.payload = cJSON_CreateObject();
	cJSON_AddItemToObject(a.payload, "pod", list);
	cJSON_AddStringToObject(a.payload, "pipelineRun", "run-42");
	cJSON_AddStringToObject(a.payload, "chainId", "release-42");
	cJSON_AddItemToObject(a.payload, "environment", json("{\"id\": \"prod\", \"source\": \"/k8s\"}"));
	cJSON_AddItemToObject(a.payload, "spark", json("{\"conf\": {\"spark.executor.memory\": \"4g\"}}"));
	cJSON_AddStringToObject(a.payload, "cluster", "prod-gke");
	reports_left = 12;
	assert_int_equal(exercise(&t, &a, NULL), 0);
	assert_int_equal(a.n0, 5);
	for (size_t i = 0; i < a.n0; i++)
		cJSON_free(a.expected[i]);
	cJSON_Delete(a.payload);
}

/* ---- the harness itself ---- */

/* Every source of allocations is reached, and under ASan what the
 * wrappers hand out is ASan's memory (so its leak check sees it). */
/* ---- printing numbers exactly (the copy made for them) ---- */

struct print_arg {
	cJSON *doc;
	char *text, *expected;
};

static int print_run(void *arg)
{
	struct print_arg *a = arg;

	a->text = cde_json_print(a->doc);
	return a->text ? 0 : -ENOMEM;
}

static bool print_check(void *arg, int r, bool first)
{
	struct print_arg *a = arg;
	bool ok = r == 0 ? a->text && strcmp(a->text, a->expected) == 0 : !a->text;

	if (first)
		ok = strcmp(a->text, a->expected) == 0;
	cJSON_free(a->text);
	a->text = NULL;
	return ok;
}

static void printing_numbers_exactly_runs_out_of_memory_cleanly(void **state)
{
	struct print_arg a = {
		.doc = json("{\"a\": 0.30000000000000004, \"b\": [9007199254740992, \"x\"], \"c\": 1}"),
		.expected = "{\"a\":0.30000000000000004,\"b\":[9007199254740992,\"x\"],\"c\":1}",
	};
	const struct target t = { "cde_json_print", print_run, print_check, 3 };

	reports_left = 4;
	assert_int_equal(exercise(&t, &a, NULL), 0);
	cJSON_Delete(a.doc);
}

struct jcs_arg {
	cJSON *doc;
	char *text;
	size_t len;
};

static int jcs_run(void *arg)
{
	struct jcs_arg *a = arg;

	return cde_jcs_serialize(a->doc, &a->text, &a->len);
}

/* A string longer than the writer's first buffer and an object of more
 * members than it sorts on its stack: both allocate. */
#define JCS_DOTS 1100
#define JCS_MEMBERS 17

static char jcs_expected[JCS_DOTS + 512];

static bool jcs_check(void *arg, int r, bool first)
{
	struct jcs_arg *a = arg;
	bool ok = r == 0 ? a->text && a->len == strlen(jcs_expected) && strcmp(a->text, jcs_expected) == 0
			 : !a->text;

	free(a->text);
	a->text = NULL;
	return ok;
}

/* The JCS writer grows its buffer and sorts each object's members. */
static void canonical_json_runs_out_of_memory_cleanly(void **state)
{
	char dots[JCS_DOTS + 1], members[JCS_MEMBERS * 8 + 1] = "", text[sizeof(jcs_expected)];
	const struct target t = { "cde_jcs_serialize", jcs_run, jcs_check, 3 };
	struct jcs_arg a = { 0 };

	memset(dots, '.', JCS_DOTS);
	dots[JCS_DOTS] = '\0';
	for (int i = 0; i < JCS_MEMBERS; i++)
		snprintf(members + strlen(members), sizeof(members) - strlen(members), "%s\"k%02d\":0",
			 i ? "," : "", i);
	snprintf(text, sizeof(text), "{\"b\": \"%s\", \"c\": {%s},"
		 " \"a\": [1e21, {\"\\ufb33\": 0, \"\\ud83d\\ude00\": \"\\u0001\"}]}", dots, members);
	snprintf(jcs_expected, sizeof(jcs_expected), "{\"a\":[1e+21,{\"\xf0\x9f\x98\x80\":\"\\u0001\",\"\xef\xac\xb3\":0}],"
		 "\"b\":\"%s\",\"c\":{%s}}", dots, members);
	a.doc = json(text);
	reports_left = 4;
	assert_int_equal(exercise(&t, &a, NULL), 0);
	cJSON_Delete(a.doc);
}

/* ---- upgrading an older event to 0.5.1 ---- */

struct upgrade_arg {
	cJSON *old, *up;
	struct cde_upgrade_notes notes;
	char *expected;		/* the reference result and its notes, as text */
};

static int upgrade_run(void *arg)
{
	struct upgrade_arg *a = arg;

	a->up = (cJSON *)UNTOUCHED;
	return cde_upgrade(cat, a->old, &a->up, &a->notes);
}

/* The upgraded event and the dropped pointers, as one text. */
static char *upgrade_text(const struct upgrade_arg *a)
{
	char *doc = cJSON_PrintUnformatted(a->up), *text = NULL;

	if (doc && asprintf(&text, "%s %zu %zu %s", doc, a->notes.dropped.count, a->notes.changed.count,
			    a->notes.dropped.count ? a->notes.dropped.items[0].pointer : "") < 0)
		text = NULL;
	cJSON_free(doc);
	return text;
}

static bool upgrade_check(void *arg, int r, bool first)
{
	struct upgrade_arg *a = arg;
	char *text;
	bool ok;

	if (r != 0) {
		ok = r == -ENOMEM && a->up == (cJSON *)UNTOUCHED && !first;
		if (!ok && verbose)
			print_message("    returned %d, *ret %s: %s\n", r,
				      a->up == (cJSON *)UNTOUCHED ? "untouched" : "changed", a->notes.refusal);
		return ok;
	}
	text = upgrade_text(a);
	cJSON_Delete(a->up);
	if (first) {
		a->expected = text;
		return text != NULL;
	}
	ok = text && strcmp(text, a->expected) == 0;
	if (!ok && verbose)
		print_message("    a different upgrade:\n    %s\n    instead of\n    %s\n", text, a->expected);
	free(text);
	return ok;
}

static void upgrading_an_older_event_runs_out_of_memory_cleanly(void **state)
{
	struct upgrade_arg a = {
		.old = json("{\"context\": {\"version\": \"0.1.2\", \"id\": \"jk-9\", \"source\": \"/jenkins\", "
			    "\"type\": \"dev.cdevents.pipelinerun.finished.0.1.0\", \"timestamp\": \"2023-01-01T00:00:00Z\"}, "
			    "\"subject\": {\"id\": \"job/etl/9\", \"type\": \"pipelineRun\", \"content\": "
			    "{\"pipelineName\": \"etl\", \"url\": \"https://jenkins.example/job/etl/9\", "
			    "\"outcome\": \"UNSTABLE\", \"errors\": \"2 tests failed\"}}, \"customData\": {\"node\": \"a\"}}"),
	};
	const struct target t = { "cde_upgrade", upgrade_run, upgrade_check, 10 };

	reports_left = 8;
	assert_int_equal(exercise(&t, &a, NULL), 0);
	assert_non_null(strstr(a.expected, " 1 2 /subject/content/outcome"));
	free(a.expected);
	cJSON_Delete(a.old);
}

static void the_wrappers_reach_every_allocator(void **state)
{
	/* Called through volatile pointers: a compiler may otherwise drop
	 * an allocation whose result is only tested (clang does). */
	char *(*volatile dup)(const char *) = strdup;
	void *(*volatile alloc)(size_t) = malloc;
	struct oom_stats st;
	char *p;
	cJSON *o;

	print_message("  libyaml interposed: %s; under ASan: %s\n", oom_yaml_interposed() ? "yes" : "no",
		      oom_under_asan() ? "yes (__real_malloc is ASan's)" : "no");
	if (!oom_yaml_interposed())
		print_message("  libyaml's allocations cannot be failed with this libyaml: skipped\n");
	oom_arm(1, false, 0);
	p = dup("x");
	oom_disarm(&st);
	assert_null(p);
	assert_true(st.failed && st.failed_source == OOM_LIBCDE);
	oom_arm(2, false, 0);
	o = cJSON_CreateObject();
	p = alloc(3);
	oom_disarm(&st);
	assert_non_null(o);
	assert_null(p);
	assert_int_equal(st.by_source[OOM_CJSON], 1);
	assert_int_equal(oom_live(false), 1);
	cJSON_Delete(o);
	assert_int_equal(oom_live(false), 0);
#if defined(__SANITIZE_ADDRESS__)
	assert_true(oom_under_asan());
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	assert_true(oom_under_asan());
#endif
#endif
}

/* Not a test: the figures of the whole program, after the cases. */
static int teardown(void **state)
{
	print_message("  %lu runs over %lu allocations\n", total_runs, total_allocs);
	return catalog_teardown(state);
}

static int setup(void **state)
{
	struct cde_errors errs;
	cJSON *c;

	oom_init();
	catalog_setup(state);
	c = json("{\"provider\": \"gke\", \"nodeCpu\": \"16\", \"nodeMemory\": \"64Gi\", \"nodes\": 10}");
	cde_errors_reset(&errs);
	snprintf(configured[0].name, sizeof(configured[0].name), "prod-gke");
	assert_int_equal(cde_sizing_cluster_parse(c, "/clusters/prod-gke", &configured[0].cluster, &errs), 0);
	cJSON_Delete(c);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_wrappers_reach_every_allocator),
		cmocka_unit_test(the_config_loader_runs_out_of_memory_cleanly),
		cmocka_unit_test(the_catalog_runs_out_of_memory_cleanly),
		cmocka_unit_test(parsing_and_validating_conformance_examples_run_out_of_memory_cleanly),
		cmocka_unit_test(invalid_events_run_out_of_memory_cleanly),
		cmocka_unit_test(a_sized_deploy_hook_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_test_hook_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_sized_pipeline_hook_runs_out_of_memory_cleanly),
		cmocka_unit_test(a_hook_the_validator_refuses_runs_out_of_memory_cleanly),
		cmocka_unit_test(the_pod_hook_runs_out_of_memory_cleanly),
		cmocka_unit_test(printing_numbers_exactly_runs_out_of_memory_cleanly),
		cmocka_unit_test(canonical_json_runs_out_of_memory_cleanly),
		cmocka_unit_test(upgrading_an_older_event_runs_out_of_memory_cleanly),
	};

	/* CDE_OOM_TESTS=pattern runs only the tests that match. */
	if (getenv("CDE_OOM_TESTS"))
		cmocka_set_test_filter(getenv("CDE_OOM_TESTS"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
