#pragma once
/* A bump allocator for data that lives and dies together (a catalog). */

#include <stddef.h>

struct cde_arena_block;

struct cde_arena {
	struct cde_arena_block *head;
};

/* Returns @size zeroed bytes aligned for any type, or NULL when out of
 * memory. Freed only by cde_arena_release. */
void *cde_arena_alloc(struct cde_arena *a, size_t size);

/* Copies @s into the arena; NULL when out of memory. */
char *cde_arena_strdup(struct cde_arena *a, const char *s);

/* Frees every allocation of @a and leaves it empty and reusable. */
void cde_arena_release(struct cde_arena *a);
