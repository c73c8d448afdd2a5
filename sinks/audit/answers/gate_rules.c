/* Reads `gates:` into plain structs. Every word a gate takes is one the
 * events carry (an outcome of testsuiterun/testcaserun.finished, a
 * testCase.type, an environment's id), and a word they cannot carry is
 * refused here with its pointer: a gate that asked for evidence no event
 * holds would deny forever, and nobody would know why. */

#include "sinks/audit/answers/gate_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_read.h"

static const char *const outcomes[] = { "success", "failure", "cancel", "error", NULL };
static const char *const case_types[] = { "performance", "functional", "unit", "security", "compliance",
					  "integration", "e2e", "other", NULL };

static bool one_of(const char *s, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

static bool one_of_n(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

/* "24h", "90m", "30s", "7d" into seconds; -1 when it is none of them. */
static int64_t parse_window(const char *s)
{
	char *end;
	unsigned long long n;

	if (*s < '0' || *s > '9')
		return -1;
	n = strtoull(s, &end, 10);
	if (end[0] == '\0' || end[1] != '\0' || n > 366ull * 86400)
		return -1;
	switch (end[0]) {
	case 's': return (int64_t)n;
	case 'm': return (int64_t)n * 60;
	case 'h': return (int64_t)n * 3600;
	case 'd': return (int64_t)n * 86400;
	default: return -1;
	}
}

/* Copies the string @v into @dst, or fails at the current place. */
static int copy_word(struct cde_json_reader *rd, const cJSON *v, char *dst, size_t size, const char *what)
{
	if (!cde_json_read_value(rd, v, cJSON_String, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY, what))
		return -EINVAL;
	if (strlen(v->valuestring) >= size)
		return cde_json_reader_fail(rd, NULL, "longer than %zu bytes", size - 1);
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

/* The outcome member of @obj (default success), one of the spec's. */
static int read_outcome(struct cde_json_reader *rd, const cJSON *obj, char out[16])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "outcome");

	snprintf(out, 16, "success");
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !one_of(v->valuestring, outcomes))
		return cde_json_reader_fail(rd, "outcome", "must be one of success, failure, cancel, error "
					    "(the outcome of a finished test run)");
	snprintf(out, 16, "%s", v->valuestring);
	return 0;
}

/* Fails on each member of @obj not in @known (NULL-terminated). */
static int refuse_unknown(struct cde_json_reader *rd, const cJSON *obj, const char *const *known, const char *hint)
{
	const cJSON *m;
	int r = 0;

	cJSON_ArrayForEach(m, obj)
		if (!one_of(m->string, known))
			r = cde_json_reader_fail(rd, m->string, "unknown key (known: %s)", hint);
	return r;
}

static int add(struct cde_gate *g, struct cde_json_reader *rd, const struct cde_gate_requirement *req)
{
	if (g->n == CDE_GATE_REQUIRE_MAX)
		return cde_json_reader_fail(rd, NULL, "more than %d requirements in one gate", CDE_GATE_REQUIRE_MAX);
	g->require[g->n++] = *req;
	return 0;
}

/* tests: {suites: [ID...], outcome}: one requirement per suite. */
static int read_tests(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *v)
{
	static const char *const known[] = { "suites", "outcome", NULL };
	struct cde_gate_requirement req = { .need = CDE_GATE_TESTS };
	const cJSON *suites, *s;
	int r = 0;
	size_t i = 0;

	if (!cde_json_read_value(rd, v, cJSON_Object, CDE_JSON_REQUIRED, " ({suites: [ID...], outcome})"))
		return -EINVAL;
	r |= refuse_unknown(rd, v, known, "suites, outcome");
	r |= read_outcome(rd, v, req.outcome);
	suites = cde_json_read_as(rd, v, "suites", cJSON_Array, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY,
				  " of test suite ids (testSuite.id)");
	if (!suites)
		return -EINVAL;
	cJSON_ArrayForEach(s, suites) {
		size_t at = cde_ptr_push(&rd->p, "suites"), at2 = cde_ptr_push_index(&rd->p, i++);

		if (copy_word(rd, s, req.name, sizeof(req.name), " (a testSuite.id)") < 0 || r)
			r = -EINVAL;
		else
			r = add(g, rd, &req);
		cde_ptr_pop(&rd->p, at2);
		cde_ptr_pop(&rd->p, at);
	}
	return r;
}

static int read_test_case(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *v)
{
	static const char *const known[] = { "type", "outcome", NULL };
	struct cde_gate_requirement req = { .need = CDE_GATE_TEST_CASE };
	const cJSON *type;
	int r;

	if (!cde_json_read_value(rd, v, cJSON_Object, CDE_JSON_REQUIRED, " ({type, outcome})"))
		return -EINVAL;
	r = refuse_unknown(rd, v, known, "type, outcome") | read_outcome(rd, v, req.outcome);
	type = cJSON_GetObjectItemCaseSensitive(v, "type");
	if (!cJSON_IsString(type) || !one_of(type->valuestring, case_types))
		return cde_json_reader_fail(rd, "type", "must be a testCase.type: performance, functional, unit, "
					    "security, compliance, integration, e2e or other");
	snprintf(req.name, sizeof(req.name), "%s", type->valuestring);
	return r ? -EINVAL : add(g, rd, &req);
}

static int read_deployed(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *v)
{
	static const char *const known[] = { "environment", "not_rolled_back_for", NULL };
	struct cde_gate_requirement req = { .need = CDE_GATE_DEPLOYED, .window = "0s" };
	const cJSON *w;
	size_t at;
	int r;

	if (!cde_json_read_value(rd, v, cJSON_Object, CDE_JSON_REQUIRED, " ({environment, not_rolled_back_for})"))
		return -EINVAL;
	r = refuse_unknown(rd, v, known, "environment, not_rolled_back_for");
	at = cde_ptr_push(&rd->p, "environment");
	r |= copy_word(rd, cJSON_GetObjectItemCaseSensitive(v, "environment"), req.name, sizeof(req.name),
		       " (an environment's id)");
	cde_ptr_pop(&rd->p, at);
	w = cJSON_GetObjectItemCaseSensitive(v, "not_rolled_back_for");
	if (w && (!cJSON_IsString(w) || strlen(w->valuestring) >= sizeof(req.window) ||
		  (req.window_s = parse_window(w->valuestring)) < 0))
		r = cde_json_reader_fail(rd, "not_rolled_back_for", "must be a duration such as 30s, 90m, 24h "
					 "or 7d (at most 366d)");
	else if (w)
		snprintf(req.window, sizeof(req.window), "%s", w->valuestring);
	return r ? -EINVAL : add(g, rd, &req);
}

/* One entry of require: a map with one key, the kind of evidence. */
static int read_requirement(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *item)
{
	struct cde_gate_requirement req = { 0 };
	const cJSON *v;
	size_t at;
	int r = -EINVAL;

	if (!cde_json_read_value(rd, item, cJSON_Object, CDE_JSON_REQUIRED,
				 " with one key: build, tests, test_case, artifact, sbom or deployed"))
		return -EINVAL;
	if (cJSON_GetArraySize(item) != 1)
		return cde_json_reader_fail(rd, NULL, "must have exactly one key: build, tests, test_case, "
					    "artifact, sbom or deployed");
	v = item->child;
	at = cde_ptr_push(&rd->p, v->string);
	if (strcmp(v->string, "tests") == 0) {
		r = read_tests(g, rd, v);
	} else if (strcmp(v->string, "test_case") == 0) {
		r = read_test_case(g, rd, v);
	} else if (strcmp(v->string, "deployed") == 0) {
		r = read_deployed(g, rd, v);
	} else if (strcmp(v->string, "build") == 0) {
		req.need = CDE_GATE_BUILD;
		r = cJSON_IsTrue(v) ? add(g, rd, &req)
		    : cde_json_reader_fail(rd, NULL, "must be true: build.finished carries no outcome in "
					   "CDEvents 0.5.1, so the evidence is a finished build naming the "
					   "artifact (artifactId), which only a build that made it has");
	} else if (strcmp(v->string, "artifact") == 0) {
		req.need = CDE_GATE_SIGNED;
		r = cJSON_IsString(v) && strcmp(v->valuestring, "signed") == 0
		    ? add(g, rd, &req) : cde_json_reader_fail(rd, NULL, "must be signed (artifact.signed)");
	} else if (strcmp(v->string, "sbom") == 0) {
		req.need = CDE_GATE_SBOM;
		r = cJSON_IsTrue(v) ? add(g, rd, &req)
		    : cde_json_reader_fail(rd, NULL, "must be true (artifact.packaged with an sbom)");
	} else {
		cde_ptr_pop(&rd->p, at);
		return cde_json_reader_fail(rd, v->string, "unknown requirement (known: build, tests, test_case, "
					    "artifact, sbom, deployed)");
	}
	cde_ptr_pop(&rd->p, at);
	return r;
}

/* from: [PRINCIPAL...]: the principals whose events are evidence. */
static int read_from(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *v)
{
	const cJSON *from = cde_json_read_as(rd, v, "from", cJSON_Array, CDE_JSON_NON_EMPTY,
					     " of principals' names (whose events are evidence)");
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(v, "from");
	const cJSON *name;
	size_t at, i = 0;
	int r = 0;

	if (!from)	/* absent or null: any principal; else the error is told */
		return given && !cJSON_IsNull(given) ? -EINVAL : 0;
	if (cJSON_GetArraySize(from) > CDE_GATE_FROM_MAX)
		return cde_json_reader_fail(rd, "from", "more than %d principals", CDE_GATE_FROM_MAX);
	at = cde_ptr_push(&rd->p, "from");
	cJSON_ArrayForEach(name, from) {
		size_t at2 = cde_ptr_push_index(&rd->p, i++);

		if (copy_word(rd, name, g->from[g->n_from], sizeof(g->from[0]), " (a principal's name)") < 0)
			r = -EINVAL;
		else
			g->n_from++;
		cde_ptr_pop(&rd->p, at2);
	}
	cde_ptr_pop(&rd->p, at);
	return r;
}

static int read_gate(struct cde_gate *g, struct cde_json_reader *rd, const cJSON *v)
{
	static const char *const known[] = { "enforce", "from", "require", NULL };
	const cJSON *require, *item, *enforce;
	size_t i = 0;
	int r;

	if (strlen(v->string) >= sizeof(g->environment) || !*v->string)
		return cde_json_reader_fail(rd, NULL, "not an environment's id (1 to %zu bytes)",
					    sizeof(g->environment) - 1);
	snprintf(g->environment, sizeof(g->environment), "%s", v->string);
	if (!cde_json_read_value(rd, v, cJSON_Object, CDE_JSON_REQUIRED, " ({enforce, from, require: [...]})"))
		return -EINVAL;
	r = refuse_unknown(rd, v, known, "enforce, from, require");
	enforce = cde_json_read_as(rd, v, "enforce", CDE_JSON_BOOL, 0, NULL);
	g->enforce = cJSON_IsTrue(enforce);
	if (cJSON_GetObjectItemCaseSensitive(v, "enforce") && !enforce)
		r = -EINVAL;
	r |= read_from(g, rd, v);
	require = cde_json_read_as(rd, v, "require", cJSON_Array, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY,
				   " of requirements");
	if (!require)
		return -EINVAL;
	cJSON_ArrayForEach(item, require) {
		size_t at = cde_ptr_push(&rd->p, "require"), at2 = cde_ptr_push_index(&rd->p, i++);

		r |= read_requirement(g, rd, item);
		cde_ptr_pop(&rd->p, at2);
		cde_ptr_pop(&rd->p, at);
	}
	return r ? -EINVAL : 0;
}

int cde_gate_set_parse(const cJSON *gates, const char *file, struct cde_gate_set *ret, struct cde_errors *errs)
{
	struct cde_json_reader rd;
	const cJSON *v;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!gates || cJSON_IsNull(gates))
		return 0;
	cde_json_reader_init(&rd, "/gates", errs);
	rd.file = file;
	rd.yaml_words = true;
	if (!cde_json_read_value(&rd, gates, cJSON_Object, 0, " from environments to gates"))
		return -EINVAL;
	if (cJSON_GetArraySize(gates) > CDE_GATES_MAX)
		return cde_json_reader_fail(&rd, NULL, "more than %d gates", CDE_GATES_MAX);
	cJSON_ArrayForEach(v, gates) {
		size_t at = cde_ptr_push(&rd.p, v->string);

		r |= read_gate(&ret->gates[ret->n++], &rd, v);
		cde_ptr_pop(&rd.p, at);
	}
	if (r)
		memset(ret, 0, sizeof(*ret));
	return r ? -EINVAL : 0;
}

int cde_gate_set_check_from(const struct cde_gate_set *set, const char *const *names, size_t n, const char *file,
			    struct cde_errors *errs)
{
	struct cde_json_reader rd;
	int r = 0;

	cde_json_reader_init(&rd, "/gates", errs);
	rd.file = file;
	for (size_t i = 0; i < set->n; i++) {
		const struct cde_gate *g = &set->gates[i];
		size_t at = cde_ptr_push(&rd.p, g->environment), at2 = cde_ptr_push(&rd.p, "from");

		for (size_t k = 0; k < g->n_from; k++) {
			size_t at3 = cde_ptr_push_index(&rd.p, k);

			/* A name no principal has would make every event of the
			 * gate's evidence untrusted: it could only ever deny. */
			if (!one_of_n(g->from[k], names, n))
				r = cde_json_reader_fail(&rd, NULL, "no principal is named \"%s\" (a gate takes "
							 "evidence only from principals: of principals:, or anonymous "
							 "without them)", g->from[k]);
			cde_ptr_pop(&rd.p, at3);
		}
		cde_ptr_pop(&rd.p, at2);
		cde_ptr_pop(&rd.p, at);
	}
	return r;
}

const struct cde_gate *cde_gate_set_find(const struct cde_gate_set *set, const char *environment)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (strcmp(set->gates[i].environment, environment) == 0)
			return &set->gates[i];
	return NULL;
}
