/* Pod analysis: container states. Each containerStatuses item is read
 * into a candidate ranked by how much it tells (an OOM kill over a crash
 * loop over a plain exit), and the most telling one explains the pod. */

#include "sizing/pod_internal.h"

static const char *const image_pull_reasons[] = {
	"ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "ImageInspectError", NULL,
};

/* Reads state.terminated (or lastState.terminated) @t into @c. */
static void read_terminated(struct cde_json_reader *r, const cJSON *t, struct cde_pod_candidate *c)
{
	double code;
	const char *reason = cde_json_read_string(r, t, "reason");

	c->message = cde_json_read_string(r, t, "message");
	c->finished_at = cde_json_read_string(r, t, "finishedAt");
	if (!cde_json_read_required(r, t, "exitCode", cJSON_Number,
				    "a terminated container has one") ||
	    !cde_json_read_whole(r, t, "exitCode", -2147483648.0, 2147483647.0, &code))
		return;
	c->has_exit_code = true;
	c->exit_code = (int)code;
	c->last_reason = reason;
	if (eq(reason, "OOMKilled")) {
		c->rank = CDE_POD_RANK_OOM;
		c->reason = CDE_POD_OOM_KILLED;
	} else if (c->exit_code == 0) {
		c->rank = CDE_POD_RANK_DONE;
		c->reason = CDE_POD_SUCCEEDED;
	} else if (eq(reason, "ContainerCannotRun") || eq(reason, "StartError")) {
		c->rank = CDE_POD_RANK_CANNOT_RUN;
		c->reason = CDE_POD_FAILED;
	} else {
		c->rank = CDE_POD_RANK_EXIT;
		c->reason = CDE_POD_ERROR;
	}
}

static void read_waiting(struct cde_json_reader *r, const cJSON *w, struct cde_pod_candidate *c)
{
	const char *reason = cde_json_read_string(r, w, "reason");

	c->message = cde_json_read_string(r, w, "message");
	c->last_reason = reason;
	if (eq(reason, "CrashLoopBackOff")) {
		c->rank = CDE_POD_RANK_BACK_OFF;
		c->reason = CDE_POD_CRASH_LOOP_BACK_OFF;
	} else if (eq(reason, "ImagePullBackOff")) {
		c->rank = CDE_POD_RANK_CONFIG;
		c->reason = CDE_POD_IMAGE_PULL_BACK_OFF;
	} else if (in_list(reason, image_pull_reasons)) {
		c->rank = CDE_POD_RANK_CONFIG;
		c->reason = CDE_POD_ERR_IMAGE_PULL;
	} else if (eq(reason, "CreateContainerConfigError")) {
		c->rank = CDE_POD_RANK_CONFIG;
		c->reason = CDE_POD_CREATE_CONTAINER_CONFIG_ERROR;
	} else if (eq(reason, "CreateContainerError") || eq(reason, "RunContainerError")) {
		c->rank = CDE_POD_RANK_CANNOT_RUN;
		c->reason = CDE_POD_FAILED;
	} else {
		c->rank = CDE_POD_RANK_ALIVE;
		c->reason = CDE_POD_PENDING;
	}
}

/* Reads one containerStatuses item into @c. */
static void read_container_status(struct cde_json_reader *r, const cJSON *st, bool init,
				  struct cde_pod_candidate *c)
{
	const cJSON *state, *last, *t, *w;
	double restarts;

	memset(c, 0, sizeof(*c));
	c->status = st;
	c->init = init;
	cde_json_read_required(r, st, "name", cJSON_String, "the container's name");
	cde_json_read_string(r, st, "image");
	cde_json_read_string(r, st, "imageID");
	cde_json_read_whole(r, st, "restartCount", 0, 2147483647.0, &restarts);
	state = cde_json_read_member(r, st, "state", cJSON_Object);
	last = cde_json_read_member(r, st, "lastState", cJSON_Object);
	if (state) {
		size_t mark = cde_ptr_push(&r->p, "state");

		t = cde_json_read_member(r, state, "terminated", cJSON_Object);
		w = cde_json_read_member(r, state, "waiting", cJSON_Object);
		if (cde_json_read_member(r, state, "running", cJSON_Object)) {
			c->rank = CDE_POD_RANK_ALIVE;
			c->reason = CDE_POD_RUNNING;
		}
		if (t) {
			size_t m2 = cde_ptr_push(&r->p, "terminated");

			read_terminated(r, t, c);
			cde_ptr_pop(&r->p, m2);
		} else if (w) {
			size_t m2 = cde_ptr_push(&r->p, "waiting");

			read_waiting(r, w, c);
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
	if (last) {
		size_t mark = cde_ptr_push(&r->p, "lastState");

		t = cde_json_read_member(r, last, "terminated", cJSON_Object);
		cde_json_read_member(r, last, "waiting", cJSON_Object);
		cde_json_read_member(r, last, "running", cJSON_Object);
		if (t) {
			struct cde_pod_candidate prev;
			size_t m2 = cde_ptr_push(&r->p, "terminated");

			memset(&prev, 0, sizeof(prev));
			read_terminated(r, t, &prev);
			/* A crash loop is explained by the run that crashed,
			 * whose message (the tail of its log, with
			 * FallbackToLogsOnError) beats "back-off 5m0s". */
			if (c->reason == CDE_POD_CRASH_LOOP_BACK_OFF) {
				c->has_exit_code = prev.has_exit_code;
				c->exit_code = prev.exit_code;
				c->last_reason = prev.last_reason;
				c->finished_at = prev.finished_at;
				if (prev.message && prev.message[0])
					c->message = prev.message;
			}
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
}

/* Reads initContainerStatuses then containerStatuses; keeps in @best the
 * most telling state (the first on a tie) and in @first the first regular
 * container, which names a pod that succeeded or was stopped as a whole. */
void cde_pod_read_statuses(struct cde_json_reader *r, const cJSON *status,
			   struct cde_pod_candidate *best, struct cde_pod_candidate *first)
{
	static const struct {
		const char *key;
		bool init;
	} lists[] = { { "initContainerStatuses", true }, { "containerStatuses", false } };

	memset(best, 0, sizeof(*best));
	memset(first, 0, sizeof(*first));
	for (size_t l = 0; l < 2; l++) {
		const cJSON *list = cde_json_read_member(r, status, lists[l].key, cJSON_Array), *st;
		size_t mark, i = 0;

		if (!list)
			continue;
		mark = cde_ptr_push(&r->p, lists[l].key);
		cJSON_ArrayForEach(st, list) {
			size_t m2 = cde_ptr_push_index(&r->p, i++);
			struct cde_pod_candidate c;

			if (!cJSON_IsObject(st)) {
				cde_json_reader_fail(r, NULL,
						     "must be an object (a container status)");
			} else {
				read_container_status(r, st, lists[l].init, &c);
				if (c.rank > best->rank)
					*best = c;
				if (!lists[l].init && !first->status)
					*first = c;
			}
			cde_ptr_pop(&r->p, m2);
		}
		cde_ptr_pop(&r->p, mark);
	}
}

/* The containerStatuses item named @name (from a message), or NULL. */
const cJSON *cde_pod_status_named(const cJSON *status, const char *name, size_t len, bool *init)
{
	static const char *const keys[] = { "initContainerStatuses", "containerStatuses" };

	for (size_t l = 0; l < 2; l++) {
		const cJSON *st;

		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(status, keys[l])) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(st, "name");

			if (cJSON_IsString(n) && strlen(n->valuestring) == len &&
			    strncmp(n->valuestring, name, len) == 0) {
				*init = l == 0;
				return st;
			}
		}
	}
	return NULL;
}

/* The candidate of one status item, read again: its errors, if any, were
 * reported by cde_pod_read_statuses already. */
void cde_pod_candidate_for(const cJSON *st, bool init, struct cde_pod_candidate *c)
{
	struct cde_errors scratch;
	struct cde_json_reader r;

	cde_errors_reset(&scratch);
	cde_json_reader_init(&r, "", &scratch);
	read_container_status(&r, st, init, c);
}
