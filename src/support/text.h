/* SPDX-License-Identifier: MIT */
/* Small text helpers: hex digits (PCI addresses, VF tokens), Identify strings. */
#ifndef VFN_SRC_SUPPORT_TEXT_H
#define VFN_SRC_SUPPORT_TEXT_H

#include <stddef.h>
#include <string.h>

/* The value of hex digit @c (either case), or -1 if it is not one. */
static inline int vfn_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Copies the space-padded ASCII Identify field @src (@n bytes: SN, MN, FR)
 * into @dst (at least @n + 1 bytes) without its trailing spaces and NULs.
 */
static inline void vfn_id_string(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
		dst[--n] = '\0';
}

#endif
