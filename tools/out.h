/* SPDX-License-Identifier: MIT */
/*
 * One output interface for both formats, so each command lists its fields
 * once: "normal" prints aligned "key : value" lines for people (as nvme-cli
 * does), "json" prints the same keys for programs.
 *
 * Fields of NVMe data structures can also be described by a table (struct
 * field) and printed straight from the raw little-endian bytes.
 */
#ifndef VFN_TOOLS_OUT_H
#define VFN_TOOLS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

enum out_fmt {
	OUT_NORMAL,
	OUT_JSON,
};

struct out {
	enum out_fmt fmt;
	bool human; /* -H: decode bit fields (normal format) */
	int keyw;   /* normal: width of the key column */
	struct json json;
};

/* Parses "normal" or "json"; -EINVAL for anything else. */
int out_parse_fmt(const char *s, enum out_fmt *fmt);

void out_init(struct out *o, enum out_fmt fmt, bool human, int keyw);

/* The top-level object: JSON "{", or @title on its own line (if not NULL). */
void out_begin(struct out *o, const char *title);
void out_end(struct out *o);

void out_u(struct out *o, const char *key, uint64_t v); /* decimal */
void out_x(struct out *o, const char *key, uint64_t v); /* hex (normal) */
/* At most OUT_STR_MAX bytes of @s (stops at a NUL), trailing spaces removed. */
#define OUT_STR_MAX 256
void out_s(struct out *o, const char *key, const char *s, size_t n);

/* A list of items (JSON array of objects; normal: the caller prints). */
void out_list_begin(struct out *o, const char *key);
void out_list_end(struct out *o);
void out_item_begin(struct out *o);
void out_item_end(struct out *o);

/*
 * A register: its raw value in hex (JSON: an object whose "value" is it),
 * then its decoded fields.  @note (printf format, may be NULL) explains a
 * field's value in normal output only.
 */
void out_reg_begin(struct out *o, const char *key, uint64_t v, int hexdigits);
void out_reg_field(struct out *o, const char *name, uint64_t v, const char *note, ...)
	__attribute__((format(printf, 4, 5)));
void out_reg_end(struct out *o);

/* How a field of a raw little-endian structure is shown. */
enum field_kind {
	FIELD_DEC,   /* integer of 1..8 bytes, decimal */
	FIELD_HEX,   /* integer of 1..8 bytes, hex in normal output */
	FIELD_STR,   /* space-padded ASCII, shown trimmed */
	FIELD_BIG,   /* 16-byte integer, decimal */
	FIELD_BYTES, /* bytes in order as hex digits (GUIDs, EUI-64) */
};

/* A bit range of a field, explained under it with -H. */
struct field_bits {
	uint8_t hi, lo;
	const char *desc;
};

struct field {
	const char *name;
	uint16_t off;
	uint16_t len;
	enum field_kind kind;
	const struct field_bits *bits; /* ends with a NULL desc; may be NULL */
};

/* Prints @n fields described by @tab from the structure at @raw. */
void out_fields(struct out *o, const struct field *tab, size_t n, const void *raw);

/* Little-endian integer of @len (1..8) bytes at @p. */
uint64_t out_le(const void *p, size_t len);

/* Copies @n bytes of @s into @buf (@n + 1 bytes) without trailing spaces/NULs. */
void out_trim(char *buf, const char *s, size_t n);

#endif
