/* Arena allocation: a catalog is hundreds of small nodes that are built
 * once at load and freed together, so one list of blocks replaces
 * hundreds of frees and cannot leak a node on an error path. */

#include "schemas/base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 16384

struct cde_arena_block {
	struct cde_arena_block *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

void *cde_arena_alloc(struct cde_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct cde_arena_block *b = a->head;

	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (!b || b->size - b->used < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->size = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;

	b->used += size;
	memset(p, 0, size);
	return p;
}

char *cde_arena_strdup(struct cde_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = cde_arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void cde_arena_release(struct cde_arena *a)
{
	while (a->head) {
		struct cde_arena_block *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}
