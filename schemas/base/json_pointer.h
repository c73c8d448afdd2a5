#pragma once
/* JSON pointers (RFC 6901) built while walking a document. */

#include <stdbool.h>
#include <stddef.h>

#define CDE_PTR_MAX 512

/* A pointer under construction. Walkers push a segment on the way down and
 * pop back to the mark push returned on the way up, so no allocation is
 * needed however deep the walk goes. */
struct cde_ptr {
	size_t len;
	bool overflow;
	char buf[CDE_PTR_MAX];
};

/* Sets @p to the root pointer "". */
void cde_ptr_init(struct cde_ptr *p);

/* Appends "/" and @key escaped (~ as ~0, / as ~1). Returns the mark to pass to
 * cde_ptr_pop. A pointer that would not fit ends in "/..." instead. */
size_t cde_ptr_push(struct cde_ptr *p, const char *key);

/* Appends "/" and the decimal @index. Returns the mark for cde_ptr_pop. */
size_t cde_ptr_push_index(struct cde_ptr *p, size_t index);

/* Restores @p to what it was when @mark was returned. */
void cde_ptr_pop(struct cde_ptr *p, size_t mark);

/* The pointer as a C string ("" for the root). */
const char *cde_ptr_str(const struct cde_ptr *p);
