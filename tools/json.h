/* SPDX-License-Identifier: MIT */
/*
 * A tiny streaming JSON writer: objects, arrays, strings, unsigned numbers
 * and null, pretty-printed with two-space indentation.
 *
 * Values inside an object take a key; values inside an array or at the top
 * level take NULL.  Strings are escaped so the output is always valid JSON:
 * quote, backslash and control characters, and bytes outside ASCII (device
 * strings are not guaranteed to be UTF-8) become \uXXXX escapes.
 */
#ifndef VFN_TOOLS_JSON_H
#define VFN_TOOLS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;			/* open containers */
	bool has_items[JSON_MAX_DEPTH]; /* container at this depth has a value */
};

void json_init(struct json *j, FILE *f);

void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);

/* A NUL-terminated string. */
void json_str(struct json *j, const char *key, const char *s);
/* At most @n bytes of @s (stops at a NUL). */
void json_strn(struct json *j, const char *key, const char *s, size_t n);
void json_u64(struct json *j, const char *key, uint64_t v);
/* A number already formatted as decimal digits (e.g. a 128-bit value). */
void json_digits(struct json *j, const char *key, const char *digits);
void json_null(struct json *j, const char *key);

/* Ends the document with a newline (call once the top value is closed). */
void json_finish(struct json *j);

#endif
