/* Bounded message building for the texts events carry (remedies,
 * reasons): a message that grows too long is cut, never overflowed. */

#include "schemas/base/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cde_text_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}
