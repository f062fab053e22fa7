/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/support.h>

#include "support/log.h"

struct captured {
	int calls;
	enum vfn_log_level level;
	char msg[128];
};

static void capture(enum vfn_log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	c->calls++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static int evaluated;

static int side_effect(void)
{
	return ++evaluated;
}

static void test_log_levels_filter_and_format(void **state)
{
	struct captured c = { 0 };

	(void)state;
	vfn_log_set_fn(capture, &c);

	vfn_log_set_level(VFN_LOG_NONE);
	evaluated = 0;
	log_err("never %d", side_effect());
	assert_int_equal(c.calls, 0);
	assert_int_equal(evaluated, 0); /* arguments not evaluated when off */

	vfn_log_set_level(VFN_LOG_WARN);
	log_info("too verbose");
	assert_int_equal(c.calls, 0);
	log_warn("queue %d full", 3);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, VFN_LOG_WARN);
	assert_string_equal(c.msg, "queue 3 full");

	vfn_log_set_level((enum vfn_log_level)42); /* clamped */
	assert_int_equal(vfn_log_get_level(), VFN_LOG_DEBUG);
	log_debug("dbg");
	assert_int_equal(c.calls, 2);

	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
}

static void test_mem_alloc_rounds_and_zeroes(void **state)
{
	size_t page = vfn_page_size();
	unsigned char *p = NULL;
	ssize_t len;

	(void)state;
	assert_true(page >= 4096 && (page & (page - 1)) == 0);

	len = vfn_mem_alloc(1, (void **)&p);
	assert_int_equal(len, (ssize_t)page);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % page, 0);
	for (size_t i = 0; i < page; i++)
		assert_int_equal(p[i], 0);
	vfn_mem_free(p, (size_t)len);

	len = vfn_mem_alloc(page + 1, (void **)&p);
	assert_int_equal(len, (ssize_t)(2 * page));
	vfn_mem_free(p, (size_t)len);

	assert_int_equal(vfn_mem_alloc(0, (void **)&p), -EINVAL);
	assert_int_equal(vfn_mem_alloc(SIZE_MAX, (void **)&p), -EINVAL);
	vfn_mem_free(NULL, 0);
}

static void test_endian_and_time(void **state)
{
	uint8_t raw[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	vfn_le64 v64;
	vfn_le32 v32;
	uint64_t t0, t1;

	(void)state;
	memcpy(&v64, raw, 8);
	memcpy(&v32, raw, 4);
	assert_int_equal(vfn_le64_to_cpu(v64), 0x0807060504030201ull);
	assert_int_equal(vfn_le32_to_cpu(v32), 0x04030201u);
	assert_int_equal(vfn_le16_to_cpu(vfn_cpu_to_le16(0xbeef)), 0xbeef);

	/* MMIO accessors on ordinary memory: 64-bit is low half then high. */
	uint32_t regs[2] = { 0, 0 };
	vfn_mmio_write64(regs, 0x1122334455667788ull);
	assert_int_equal(vfn_le32_to_cpu(regs[0]), 0x55667788u);
	assert_int_equal(vfn_le32_to_cpu(regs[1]), 0x11223344u);
	assert_int_equal(vfn_mmio_read64(regs), 0x1122334455667788ull);

	t0 = vfn_now_ns();
	t1 = vfn_now_ns();
	assert_true(t1 >= t0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_levels_filter_and_format),
		cmocka_unit_test(test_mem_alloc_rounds_and_zeroes),
		cmocka_unit_test(test_endian_and_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
