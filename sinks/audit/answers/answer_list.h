#pragma once
/* The records an analysis keeps, read once from a cde_audit_source and
 * put in the order things happened. */

#include <stdbool.h>
#include <stddef.h>

#include "sinks/audit/answers/answer_event.h"
#include "sinks/audit/audit_reader.h"

struct cde_answer_list {
	struct cde_answer_event *v;
	size_t n, cap;
};

/* Says whether an analysis keeps @e. */
typedef bool (*cde_answer_keep_fn)(const struct cde_answer_event *e, void *ctx);

/* Appends to @l the records of @f (through @src) that read as CDEvents
 * and that @keep (NULL: all) keeps; records that do not read are
 * skipped. Returns 0, -ENOMEM, or what the source returned. */
int cde_answer_list_fill(struct cde_answer_list *l, const struct cde_audit_source *src,
			 const struct cde_audit_filter *f, cde_answer_keep_fn keep, void *ctx);

/* Orders @l by when its events happened (context.timestamp), then seq. */
void cde_answer_list_sort(struct cde_answer_list *l);

/* Frees what @l holds; leaves it empty. */
void cde_answer_list_release(struct cde_answer_list *l);

/* Makes room for one more of the @n items of @size at @v (capacity
 * *@cap), doubling it when full. Returns the array (@v, or where it
 * moved), or NULL when out of memory (@v untouched, still owned). */
void *cde_answer_grow(void *v, size_t *cap, size_t n, size_t size);

/* @a - @b in seconds. */
double cde_answer_seconds(const struct timespec *a, const struct timespec *b);
