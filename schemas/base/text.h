#pragma once
/* Building bounded messages. */

#include <stddef.h>

/* Appends printf output to the string in @buf (@size bytes), keeping it
 * terminated; what does not fit is cut. */
void cde_text_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
