#pragma once
/* Shared by the files of the pod analysis in sizing/ (pod_read.c,
 * pod_status.c, pod_messages.c, pod_outcome.c); not for other folders. */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "schemas/base/json_pointer.h"
#include "schemas/base/json_read.h"
#include "sizing/pod_outcome.h"

/* ---- reading the document (pod_read.c; the typed reader is
 * schemas/base/json_read.h) ---- */

/* What one container asks of the scheduler. A limit without a request is
 * a request of the same size (the API server defaults it so). */
struct cde_pod_resources {
	struct cde_pod_quantity mem_limit, mem_request, cpu_limit, cpu_request;
};

/* Reads the containers of spec: checks their shape, finds the one named
 * @name (for its resources, env and image) and adds up the pod's
 * requests the way the scheduler does: regular containers and sidecars
 * (init containers with restartPolicy Always) run together, each other
 * init container runs alone beside the sidecars started before it. */
struct cde_pod_spec_facts {
	const cJSON *container;		/* the spec of the container @name, or NULL */
	struct cde_pod_resources res;	/* its resources */
	struct cde_pod_quantity pod_mem, pod_cpu;
};

/* Reads spec (NULL: nothing) into *@f, with container @name's resources. */
void cde_pod_read_spec(struct cde_json_reader *r, const cJSON *spec, const char *name,
		       struct cde_pod_spec_facts *f);

/* The executor heap Spark set in SPARK_EXECUTOR_MEMORY of @container. */
void cde_pod_read_spark_heap(const cJSON *container, struct cde_pod_quantity *heap);

/* ---- container states and their ranking (pod_status.c) ---- */

/* How telling a container's state is: the highest wins. */
enum cde_pod_rank {
	CDE_POD_RANK_NONE = 0,
	CDE_POD_RANK_DONE = 5,			/* terminated with exit code 0 */
	CDE_POD_RANK_ALIVE = 10,		/* running, or waiting to start */
	CDE_POD_RANK_EXIT = 60,			/* terminated non-zero */
	CDE_POD_RANK_CANNOT_RUN = 65,		/* could not be created or started */
	CDE_POD_RANK_CONFIG = 70,		/* image or configuration missing */
	CDE_POD_RANK_BACK_OFF = 80,		/* crashing again and again */
	CDE_POD_RANK_OOM = 90,
};

/* What one container status says, ranked. */
struct cde_pod_candidate {
	enum cde_pod_rank rank;
	enum cde_pod_reason reason;
	const cJSON *status;		/* the containerStatuses item */
	bool init;
	const char *message;
	bool has_exit_code;
	int exit_code;
	const char *last_reason;
	const char *finished_at;
};

/* Reads initContainerStatuses then containerStatuses of @status; keeps in
 * @best the most telling state (the first on a tie) and in @first the
 * first regular container. */
void cde_pod_read_statuses(struct cde_json_reader *r, const cJSON *status,
			   struct cde_pod_candidate *best, struct cde_pod_candidate *first);

/* The container status item named by the @len bytes of @name, or NULL;
 * *@init tells which list it is in. */
const cJSON *cde_pod_status_named(const cJSON *status, const char *name, size_t len, bool *init);

/* The candidate of one status item @st, read again without errors. */
void cde_pod_candidate_for(const cJSON *st, bool init, struct cde_pod_candidate *c);

/* ---- the scheduler's and the kubelet's messages (pod_messages.c) ---- */

/* Counts the scheduler's reasons in an Unschedulable message @msg. */
void cde_pod_parse_unschedulable(const char *msg, struct cde_pod_unschedulable *u);

/* The ConfigMap or Secret (and key) a CreateContainerConfigError names. */
void cde_pod_parse_config_error(const char *msg, struct cde_pod_outcome *o);

/* The resource an eviction message @msg names, and the status item of
 * the container it names in *@ret_container (untouched when none). */
void cde_pod_parse_eviction(const char *msg, const cJSON *status, struct cde_pod_outcome *o,
			    const cJSON **ret_container, bool *ret_init);

/* ---- small string helpers ---- */

static inline bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Copies at most @n bytes of @s into @buf (size @size), terminated. */
static inline void copy_n(char *buf, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static inline bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}
