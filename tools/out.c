/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "out.h"

int out_parse_fmt(const char *s, enum out_fmt *fmt)
{
	if (!strcmp(s, "normal"))
		*fmt = OUT_NORMAL;
	else if (!strcmp(s, "json"))
		*fmt = OUT_JSON;
	else
		return -EINVAL;
	return 0;
}

void out_init(struct out *o, enum out_fmt fmt, bool human, int keyw)
{
	o->fmt = fmt;
	o->human = human;
	o->keyw = keyw;
	json_init(&o->json, stdout);
}

void out_begin(struct out *o, const char *title)
{
	if (o->fmt == OUT_JSON)
		json_obj_begin(&o->json, NULL);
	else if (title)
		printf("%s\n", title);
}

void out_end(struct out *o)
{
	if (o->fmt == OUT_JSON) {
		json_obj_end(&o->json);
		json_finish(&o->json);
	}
}

void out_u(struct out *o, const char *key, uint64_t v)
{
	if (o->fmt == OUT_JSON)
		json_u64(&o->json, key, v);
	else
		printf("%-*s: %" PRIu64 "\n", o->keyw, key, v);
}

void out_x(struct out *o, const char *key, uint64_t v)
{
	if (o->fmt == OUT_JSON)
		json_u64(&o->json, key, v);
	else
		printf("%-*s: 0x%" PRIx64 "\n", o->keyw, key, v);
}

void out_trim(char *buf, const char *s, size_t n)
{
	size_t len = strnlen(s, n);

	while (len > 0 && s[len - 1] == ' ')
		len--;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

void out_s(struct out *o, const char *key, const char *s, size_t n)
{
	char buf[OUT_STR_MAX + 1];

	out_trim(buf, s, n < OUT_STR_MAX ? n : OUT_STR_MAX);
	if (o->fmt == OUT_JSON) {
		json_str(&o->json, key, buf);
		return;
	}
	for (char *p = buf; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '.';
	printf("%-*s: %s\n", o->keyw, key, buf);
}

void out_list_begin(struct out *o, const char *key)
{
	if (o->fmt == OUT_JSON)
		json_arr_begin(&o->json, key);
}

void out_list_end(struct out *o)
{
	if (o->fmt == OUT_JSON)
		json_arr_end(&o->json);
}

void out_item_begin(struct out *o)
{
	if (o->fmt == OUT_JSON)
		json_obj_begin(&o->json, NULL);
}

void out_item_end(struct out *o)
{
	if (o->fmt == OUT_JSON)
		json_obj_end(&o->json);
}

void out_reg_begin(struct out *o, const char *key, uint64_t v, int hexdigits)
{
	if (o->fmt == OUT_JSON) {
		json_obj_begin(&o->json, key);
		json_u64(&o->json, "value", v);
		return;
	}
	printf("%-*s: 0x%0*" PRIx64 "\n", o->keyw, key, hexdigits, v);
}

void out_reg_field(struct out *o, const char *name, uint64_t v, const char *note, ...)
{
	char upper[16];
	va_list ap;
	size_t i;

	if (o->fmt == OUT_JSON) {
		json_u64(&o->json, name, v);
		return;
	}
	for (i = 0; i < sizeof(upper) - 1 && name[i]; i++)
		upper[i] = (char)toupper((unsigned char)name[i]);
	upper[i] = '\0';
	if (!note) {
		printf("    %-7s: %" PRIu64 "\n", upper, v);
		return;
	}
	printf("    %-7s: %-6" PRIu64 "  ", upper, v);
	va_start(ap, note);
	vprintf(note, ap);
	va_end(ap);
	putchar('\n');
}

void out_reg_end(struct out *o)
{
	if (o->fmt == OUT_JSON)
		json_obj_end(&o->json);
}

uint64_t out_le(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (size_t i = len < 8 ? len : 8; i > 0; i--)
		v = v << 8 | b[i - 1];
	return v;
}

/* Formats a 16-byte little-endian integer in decimal (buf: 40 bytes). */
static void big_to_digits(const uint8_t *b, char buf[40])
{
	uint32_t limb[4]; /* most significant first */
	char rev[40];
	int n = 0;

	for (int i = 0; i < 4; i++)
		limb[i] = (uint32_t)out_le(b + 12 - 4 * i, 4);
	do {
		uint64_t rem = 0;

		for (int i = 0; i < 4; i++) {
			uint64_t cur = rem << 32 | limb[i];

			limb[i] = (uint32_t)(cur / 10);
			rem = cur % 10;
		}
		rev[n++] = (char)('0' + rem);
	} while (limb[0] | limb[1] | limb[2] | limb[3]);
	for (int i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	buf[n] = '\0';
}

static void bytes_to_hex(const uint8_t *b, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", b[i]);
	buf[2 * n] = '\0';
}

static void out_text(struct out *o, const char *key, const char *text, bool number)
{
	if (o->fmt == OUT_NORMAL)
		printf("%-*s: %s\n", o->keyw, key, text);
	else if (number)
		json_digits(&o->json, key, text);
	else
		json_str(&o->json, key, text);
}

static void out_bits(struct out *o, const struct field_bits *bits, uint64_t v)
{
	for (; bits->desc; bits++) {
		unsigned int width = bits->hi - bits->lo + 1u;
		uint64_t mask = width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;

		printf("  [%u:%u] : 0x%" PRIx64 "\t%s\n", bits->hi, bits->lo, (v >> bits->lo) & mask, bits->desc);
	}
}

static void out_field(struct out *o, const struct field *f, const uint8_t *raw)
{
	const uint8_t *p = raw + f->off;
	char text[40]; /* 2^128 has 39 digits; 16 bytes are 32 hex digits */

	switch (f->kind) {
	case FIELD_DEC:
		out_u(o, f->name, out_le(p, f->len));
		break;
	case FIELD_HEX:
		out_x(o, f->name, out_le(p, f->len));
		break;
	case FIELD_STR:
		out_s(o, f->name, (const char *)p, f->len);
		break;
	case FIELD_BIG:
		big_to_digits(p, text);
		out_text(o, f->name, text, true);
		break;
	case FIELD_BYTES:
		bytes_to_hex(p, f->len > 16 ? 16 : f->len, text);
		out_text(o, f->name, text, false);
		break;
	}
	if (o->human && o->fmt == OUT_NORMAL && f->bits && f->len <= 8)
		out_bits(o, f->bits, out_le(p, f->len));
}

void out_fields(struct out *o, const struct field *tab, size_t n, const void *raw)
{
	for (size_t i = 0; i < n; i++)
		out_field(o, &tab[i], raw);
}
