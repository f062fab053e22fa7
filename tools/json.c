/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->has_items[0] = false;
}

/* Nesting deeper than JSON_MAX_DEPTH shares the last slot (still valid JSON). */
static bool *has_items(struct json *j)
{
	return &j->has_items[j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH - 1];
}

static void indent(struct json *j)
{
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void put_escaped(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Separator, newline and indentation before a value, then its key if any. */
static void begin_value(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(*has_items(j) ? ",\n" : "\n", j->f);
		*has_items(j) = true;
		indent(j);
	}
	if (key) {
		put_escaped(j->f, key, SIZE_MAX);
		fputs(": ", j->f);
	}
}

static void open_container(struct json *j, const char *key, char c)
{
	begin_value(j, key);
	fputc(c, j->f);
	j->depth++;
	*has_items(j) = false;
}

static void close_container(struct json *j, char c)
{
	bool had_items = *has_items(j);

	if (j->depth > 0)
		j->depth--;
	if (had_items) {
		fputc('\n', j->f);
		indent(j);
	}
	fputc(c, j->f);
}

void json_obj_begin(struct json *j, const char *key)
{
	open_container(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_container(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	open_container(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_container(j, ']');
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, SIZE_MAX);
}

void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	begin_value(j, key);
	put_escaped(j->f, s, n);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	begin_value(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_digits(struct json *j, const char *key, const char *digits)
{
	begin_value(j, key);
	fputs(digits, j->f);
}

void json_null(struct json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	fputc('\n', j->f);
}
