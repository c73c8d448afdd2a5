#pragma once
/* What a gate's evaluation keeps while it reads the log (gate.c), and
 * the answer made of it (gate_judge.c). Internal to the gate. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sinks/audit/answers/answer_index.h"
#include "sinks/audit/answers/gate.h"
#include "sinks/audit/answers/gate_anchor.h"

#define CHAIN_ID_MAX 513

/* How the soak of a deployment ended: the service there after it. */
enum soak_end {
	SOAK_ON,
	SOAK_ROLLED_BACK,	/* rolled back to another artifact */
	SOAK_REPLACED,		/* deployed or upgraded to another artifact */
	SOAK_REMOVED,
};

/* What one requirement found. */
struct found {
	uint64_t seq;			/* its evidence (0: none) */
	struct timespec when;		/* when it happened (see the top) */
	char outcome[16];		/* tests: the latest run's */
	struct timespec at;		/* deployed: when the log took the deployment */
	char *service;			/* deployed: the service deployed, owned */
	uint64_t ended;			/* deployed: what ended its soak, */
	enum soak_end how;		/* and how */
};

/* The latest run of one test case. */
struct case_run {
	char *id, *type;
	uint64_t seq;
	struct timespec when;
	char outcome[16];
};

struct eval {
	const struct cde_gate *gate;
	const char *artifact;
	struct found found[CDE_GATE_REQUIRE_MAX];
	struct case_run *cases;
	size_t n_cases, cap_cases;
	struct cde_answer_index case_ix;	/* case id -> its index in cases */
	char **chains;			/* owned */
	size_t n_chains, cap_chains;
	struct cde_answer_index chain_ix;	/* chain id -> its index in chains */
	uint64_t rows;			/* read so far, by all the reads */
	bool too_large;			/* past the gate's events_max: not judged */
	uint64_t retired_seq;		/* retention cut the chain @retired up to this seq: */
	char retired[CHAIN_ID_MAX];	/* not judged either */
	bool retired_artifact;		/* the cut named the artifact itself, not a chain */
	uint64_t chain_seq;		/* the latest event naming the artifact, */
	char chain[CHAIN_ID_MAX];	/* and its chain */
	bool by_artifact;		/* the first read: collect chains */
	struct cde_gate_anchors anchors;	/* with `from`: whose evidence a chain holds */
	int error;
};

/* The rows a gate reads at most: its own events_max, else the default. */
uint64_t cde_gate_events_max(const struct cde_gate *g);

/* The answer to @ev's question at @now, as cde_gate_evaluate describes
 * it, or NULL when out of memory. */
cJSON *cde_gate_answer(const struct eval *ev, time_t now);
