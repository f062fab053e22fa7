/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the tool's JSON writer and output helpers: exact bytes for
 * nesting, escaping and numbers, since scripts parse `vfn -o json`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "json.h"
#include "out.h"

struct capture {
	char *buf;
	size_t len;
	struct json j;
};

static void capture_start(struct capture *c)
{
	FILE *f = open_memstream(&c->buf, &c->len);

	assert_non_null(f);
	json_init(&c->j, f);
}

/* Ends the capture and checks it against @want. */
static void capture_check(struct capture *c, const char *want)
{
	fclose(c->j.f);
	assert_string_equal(c->buf, want);
	free(c->buf);
}

static void test_nesting(void **state)
{
	struct capture c;

	capture_start(&c);
	json_obj_begin(&c.j, NULL);
	json_str(&c.j, "a", "x");
	json_arr_begin(&c.j, "l");
	json_obj_begin(&c.j, NULL);
	json_u64(&c.j, "n", 1);
	json_obj_end(&c.j);
	json_null(&c.j, NULL);
	json_arr_end(&c.j);
	json_obj_end(&c.j);
	json_finish(&c.j);
	capture_check(&c, "{\n  \"a\": \"x\",\n  \"l\": [\n    {\n      \"n\": 1\n    },\n    null\n  ]\n}\n");
}

static void test_empty_containers(void **state)
{
	struct capture c;

	capture_start(&c);
	json_arr_begin(&c.j, NULL);
	json_arr_end(&c.j);
	json_finish(&c.j);
	capture_check(&c, "[]\n");

	capture_start(&c);
	json_obj_begin(&c.j, NULL);
	json_obj_begin(&c.j, "o");
	json_obj_end(&c.j);
	json_obj_end(&c.j);
	capture_check(&c, "{\n  \"o\": {}\n}");
}

static void test_escaping(void **state)
{
	struct capture c;

	capture_start(&c);
	json_str(&c.j, NULL, "q\"b\\n\nt\t\x01\x7f\xff");
	capture_check(&c, "\"q\\\"b\\\\n\\nt\\t\\u0001\\u007f\\u00ff\"");

	capture_start(&c);
	json_str(&c.j, "k\"", "");
	capture_check(&c, "\"k\\\"\": \"\"");
}

static void test_strn_stops(void **state)
{
	struct capture c;

	capture_start(&c);
	json_strn(&c.j, NULL, "abcdef", 3);
	capture_check(&c, "\"abc\"");

	capture_start(&c);
	json_strn(&c.j, NULL, "ab\0cd", 5);
	capture_check(&c, "\"ab\"");
}

static void test_numbers(void **state)
{
	struct capture c;

	capture_start(&c);
	json_arr_begin(&c.j, NULL);
	json_u64(&c.j, NULL, 0);
	json_u64(&c.j, NULL, UINT64_MAX);
	json_digits(&c.j, NULL, "340282366920938463463374607431768211455");
	json_arr_end(&c.j);
	capture_check(&c, "[\n  0,\n  18446744073709551615,\n  340282366920938463463374607431768211455\n]");
}

static void test_deep_nesting_stays_balanced(void **state)
{
	struct capture c;

	capture_start(&c);
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_arr_begin(&c.j, NULL);
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_arr_end(&c.j);
	assert_int_equal(c.j.depth, 0);
	fclose(c.j.f);
	assert_int_equal(c.buf[0], '[');
	assert_int_equal(c.buf[c.len - 1], ']');
	free(c.buf);
}

static void test_out_helpers(void **state)
{
	const uint8_t le[] = { 0x00, 0x54, 0x52, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05 };
	enum out_fmt fmt = OUT_NORMAL;
	char buf[OUT_STR_MAX + 1];

	assert_int_equal(out_le(le, 3), 0x525400);
	assert_int_equal(out_le(le, 9), 0x04030201ff525400ULL); /* at most 8 bytes */
	out_trim(buf, "QEMU    ", 8);
	assert_string_equal(buf, "QEMU");
	out_trim(buf, "ab\0     ", 8);
	assert_string_equal(buf, "ab");
	out_trim(buf, "        ", 8);
	assert_string_equal(buf, "");
	assert_int_equal(out_parse_fmt("json", &fmt), 0);
	assert_int_equal(fmt, OUT_JSON);
	assert_int_equal(out_parse_fmt("JSON", &fmt), -EINVAL);
	assert_int_equal(out_parse_fmt("", &fmt), -EINVAL);
	assert_int_equal(fmt, OUT_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting),	    cmocka_unit_test(test_empty_containers),
		cmocka_unit_test(test_escaping),    cmocka_unit_test(test_strn_stops),
		cmocka_unit_test(test_numbers),	    cmocka_unit_test(test_deep_nesting_stays_balanced),
		cmocka_unit_test(test_out_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
