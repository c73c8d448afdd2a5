/* JSON pointer construction for error reports. Segments are escaped per
 * RFC 6901 so a reported pointer can be resolved against the document. */

#include "schemas/base/json_pointer.h"

#include <stdio.h>
#include <string.h>

static const char overflow_tail[] = "/...";

void cde_ptr_init(struct cde_ptr *p)
{
	p->len = 0;
	p->overflow = false;
	p->buf[0] = '\0';
}

static void mark_overflow(struct cde_ptr *p)
{
	/* Keep the tail readable: a truncated pointer must not look like a
	 * real one that happens to be shorter. */
	if (!p->overflow) {
		size_t at = p->len;

		if (at > CDE_PTR_MAX - sizeof(overflow_tail))
			at = CDE_PTR_MAX - sizeof(overflow_tail);
		memcpy(p->buf + at, overflow_tail, sizeof(overflow_tail));
		p->len = at + sizeof(overflow_tail) - 1;
		p->overflow = true;
	}
}

static bool append(struct cde_ptr *p, const char *s, size_t n)
{
	if (p->overflow || p->len + n + sizeof(overflow_tail) > CDE_PTR_MAX) {
		mark_overflow(p);
		return false;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return true;
}

size_t cde_ptr_push(struct cde_ptr *p, const char *key)
{
	size_t mark = p->overflow ? (size_t)-1 : p->len;

	if (!append(p, "/", 1))
		return mark;
	for (const char *c = key; *c; c++) {
		bool ok;

		if (*c == '~')
			ok = append(p, "~0", 2);
		else if (*c == '/')
			ok = append(p, "~1", 2);
		else
			ok = append(p, c, 1);
		if (!ok)
			break;
	}
	return mark;
}

size_t cde_ptr_push_index(struct cde_ptr *p, size_t index)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "/%zu", index);
	size_t mark = p->overflow ? (size_t)-1 : p->len;

	append(p, num, (size_t)n);
	return mark;
}

void cde_ptr_pop(struct cde_ptr *p, size_t mark)
{
	/* A mark taken while already overflowing means "stay overflowed". */
	if (mark == (size_t)-1)
		return;
	p->len = mark;
	p->overflow = false;
	p->buf[mark] = '\0';
}

const char *cde_ptr_str(const struct cde_ptr *p)
{
	return p->buf;
}
