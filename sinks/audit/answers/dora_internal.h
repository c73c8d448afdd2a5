#pragma once
/* What dora.c (reading the log) and dora_keys.c (the keys from what was
 * read) share; not for the rest of the tree. */

#include <stdbool.h>

#include "sinks/audit/answers/answer_list.h"
#include "sinks/audit/answers/dora.h"

struct dora_deploy {
	const struct cde_answer_event *e;	/* in dora_run.deploys */
	const char *artifact;
	bool rollback, failed;
};

/* One service in one environment: its deployments and rollbacks in the
 * order they happened. */
struct dora_pair {
	const char *service, *environment;
	struct dora_deploy *v;
	size_t n, cap;
};

struct dora_incident {
	const char *id;
	struct timespec start, end;
	bool resolved;
	struct dora_pair *pair;			/* NULL: linked to none */
};

/* When a chain's change was merged and its first build came. */
struct dora_chain {
	const char *id;
	struct timespec merged, built;
	bool has_merged, has_built;
};

struct dora_run {
	const struct cde_audit_source *src;
	const struct cde_dora_params *p;
	char since[32];				/* the log is read from here (received at) */
	struct cde_answer_list deploys, incident_events;
	struct dora_pair *pairs;
	size_t n_pairs, cap_pairs;
	struct dora_incident *incidents;
	size_t n_incidents, cap_incidents;
	struct dora_chain *chains;		/* sorted by id */
	size_t n_chains;
};

bool cde_dora_in_window(const struct dora_run *run, const struct timespec *t);

/* Reads when the chains of the deployments in the window began. */
int cde_dora_read_chains(struct dora_run *run);

/* The keys of each pair into @out. */
int cde_dora_run_report(struct dora_run *run, struct cde_dora_report *out);

void cde_dora_run_release(struct dora_run *run);
