/* A list of the audit records an analysis works on. The log gives them
 * in seq order, which is the order they were received; an analysis
 * reasons about when they happened (events are often posted late, or
 * replayed), so the list is sorted by context.timestamp with seq as the
 * tie-break, which keeps the order stable for equal times. */

#include "sinks/audit/answers/answer_list.h"

#include <errno.h>
#include <stdlib.h>

struct fill {
	struct cde_answer_list *l;
	cde_answer_keep_fn keep;
	void *ctx;
};

void *cde_answer_grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t more = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return v;
	if (more > SIZE_MAX / size)
		return NULL;
	p = realloc(v, more * size);
	if (p)
		*cap = more;
	return p;
}

static int on_record(void *ctx, const struct cde_audit_record *rec)
{
	struct fill *f = ctx;
	struct cde_answer_event e, *grown;
	int r = cde_answer_event_read(rec, &e);

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	if (f->keep && !f->keep(&e, f->ctx)) {
		cde_answer_event_release(&e);
		return 0;
	}
	grown = cde_answer_grow(f->l->v, &f->l->cap, f->l->n, sizeof(f->l->v[0]));
	if (!grown) {
		cde_answer_event_release(&e);
		return -ENOMEM;
	}
	f->l->v = grown;
	f->l->v[f->l->n++] = e;
	return 0;
}

int cde_answer_list_fill(struct cde_answer_list *l, const struct cde_audit_source *src,
			 const struct cde_audit_filter *f, cde_answer_keep_fn keep, void *ctx)
{
	struct fill fill = { .l = l, .keep = keep, .ctx = ctx };

	return src->query(src->ctx, f, on_record, &fill);
}

static int by_time(const void *pa, const void *pb)
{
	const struct cde_answer_event *a = pa, *b = pb;

	if (a->time.tv_sec != b->time.tv_sec)
		return a->time.tv_sec < b->time.tv_sec ? -1 : 1;
	if (a->time.tv_nsec != b->time.tv_nsec)
		return a->time.tv_nsec < b->time.tv_nsec ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void cde_answer_list_sort(struct cde_answer_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), by_time);
}

void cde_answer_list_release(struct cde_answer_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		cde_answer_event_release(&l->v[i]);
	free(l->v);
	*l = (struct cde_answer_list){ 0 };
}

double cde_answer_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}
