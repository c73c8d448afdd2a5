#pragma once
/* Hex digits, for the percent-encodings, signatures and hashes. */

/* The value of the hex digit @c (either case), or -1. */
static inline int cde_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
