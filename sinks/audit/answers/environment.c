/* What runs where (GET /v1/environments/{environment}): the service
 * events of one environment replayed in the order they happened. Each
 * service holds its current placement and the one before it; a
 * deployment of the artifact already running changes nothing (it has
 * run since the first), a rollback is a placement like any other (the
 * service runs what it rolled back to, and the one before is what it
 * left), and a removal forgets the service. The answer borrows nothing:
 * it is built as JSON before the list is released. */

#include "sinks/audit/answers/environment.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/answer_list.h"

struct placement {
	const struct cde_answer_event *e;	/* borrowed from the list */
	const char *artifact;
};

struct running {
	const char *service;
	struct placement cur, prev;
};

struct board {
	struct running *v;
	size_t n, cap;
};

static bool is_service_here(const struct cde_answer_event *e, void *ctx)
{
	const char *env = cde_answer_event_ref(e, "environment");

	return strcmp(e->subject_type, "service") == 0 && !e->custom && env && strcmp(env, ctx) == 0;
}

static struct running *find(struct board *b, const char *service)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].service, service) == 0)
			return &b->v[i];
	return NULL;
}

static struct running *add(struct board *b, const char *service)
{
	struct running *grown;

	grown = cde_answer_grow(b->v, &b->cap, b->n, sizeof(b->v[0]));
	if (!grown)
		return NULL;
	b->v = grown;
	b->v[b->n] = (struct running){ .service = service };
	return &b->v[b->n++];
}

static void drop(struct board *b, struct running *r)
{
	*r = b->v[--b->n];
}

static int play(struct board *b, const struct cde_answer_event *e)
{
	struct running *r = find(b, e->subject_id);
	const char *artifact = cde_answer_event_ref(e, "artifactId");

	if (strcmp(e->predicate, "removed") == 0) {
		if (r)
			drop(b, r);
		return 0;
	}
	if (strcmp(e->predicate, "deployed") != 0 && strcmp(e->predicate, "upgraded") != 0 &&
	    strcmp(e->predicate, "rolledback") != 0)
		return 0;
	if (!artifact)
		return 0;
	if (!r && !(r = add(b, e->subject_id)))
		return -ENOMEM;
	if (r->cur.e && strcmp(r->cur.artifact, artifact) == 0)
		return 0;
	r->prev = r->cur;
	r->cur = (struct placement){ .e = e, .artifact = artifact };
	return 0;
}

static const char *timestamp_of(const struct cde_answer_event *e)
{
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(e->event, "context");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ctx, "timestamp");

	return cJSON_IsString(ts) ? ts->valuestring : "";
}

/* {"artifactId", "since", "seq", "chainId", "principal", "change"} into @o. */
static bool put_placement(cJSON *o, const struct placement *p)
{
	return cJSON_AddStringToObject(o, "artifactId", p->artifact) &&
	       cJSON_AddStringToObject(o, "since", timestamp_of(p->e)) &&
	       cJSON_AddNumberToObject(o, "seq", (double)p->e->seq) &&
	       cJSON_AddStringToObject(o, "chainId", p->e->chain_id) &&
	       cJSON_AddStringToObject(o, "principal", p->e->principal) &&
	       cJSON_AddStringToObject(o, "change", p->e->predicate);
}

static cJSON *running_json(const struct running *r)
{
	cJSON *o = cJSON_CreateObject(), *prev = NULL;

	if (!o || !cJSON_AddStringToObject(o, "service", r->service) || !put_placement(o, &r->cur))
		goto err;
	if (!r->prev.e) {
		if (!cJSON_AddNullToObject(o, "previous"))
			goto err;
		return o;
	}
	prev = cJSON_CreateObject();
	if (!prev || !put_placement(prev, &r->prev) || !cJSON_AddItemToObject(o, "previous", prev))
		goto err;
	return o;
err:
	cJSON_Delete(prev);
	cJSON_Delete(o);
	return NULL;
}

static int by_service(const void *pa, const void *pb)
{
	return strcmp(((const struct running *)pa)->service, ((const struct running *)pb)->service);
}

static cJSON *board_json(struct board *b, const char *environment)
{
	cJSON *o = cJSON_CreateObject(), *list;

	if (!cJSON_AddStringToObject(o, "environment", environment) || !(list = cJSON_AddArrayToObject(o, "services")))
		goto err;
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(b->v[0]), by_service);
	for (size_t i = 0; i < b->n; i++) {
		cJSON *item = running_json(&b->v[i]);

		if (!item || !cJSON_AddItemToArray(list, item)) {
			cJSON_Delete(item);
			goto err;
		}
	}
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}

int cde_answer_environment(const struct cde_audit_source *src, const char *environment, cJSON **ret)
{
	struct cde_audit_filter f = { .environment = environment };
	struct cde_answer_list l = { 0 };
	struct board b = { 0 };
	cJSON *out = NULL;
	int r = cde_answer_list_fill(&l, src, &f, is_service_here, (void *)environment);

	if (r == 0) {
		cde_answer_list_sort(&l);
		for (size_t i = 0; i < l.n && r == 0; i++)
			r = play(&b, &l.v[i]);
	}
	if (r == 0) {
		out = board_json(&b, environment);
		r = out ? 0 : -ENOMEM;
	}
	free(b.v);
	cde_answer_list_release(&l);
	if (r == 0)
		*ret = out;
	return r;
}
