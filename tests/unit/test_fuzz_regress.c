/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for what the fuzzers (fuzz/) found; each names the
 * fuzzer and the corpus file that holds the input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim.h"

/*
 * fuzz: devstr, corpus regress-leading-zero-octal.  Numbers in a sim:
 * option are decimal or 0x hex (docs/sim.md); strtoull base 0 read a
 * leading 0 as octal: nsze=050 gave 40 blocks, lbads=09 was refused.
 */
static void test_sim_opts_leading_zero_is_decimal(void **state)
{
	struct vfn_sim_opts o;

	(void)state;
	assert_int_equal(vfn_sim_parse_opts("sim:nsze=050,nn=010,lbads=09,mdts=08,ttr_ms=0100", &o), 0);
	assert_int_equal(o.nsze, 50);
	assert_int_equal(o.nn, 10);
	assert_int_equal(o.lbads, 9);
	assert_int_equal(o.mdts, 8);
	assert_int_equal(o.ttr_ms, 100);
	assert_int_equal(o.to, 1);

	assert_int_equal(vfn_sim_parse_opts("sim:mqes=0x3F,nsze=0X10", &o), 0);
	assert_int_equal(o.mqes, 63);
	assert_int_equal(o.nsze, 16);

	/* Still refused: a bare 0x, a hex digit without the prefix, a sign or space after the prefix. */
	assert_int_equal(vfn_sim_parse_opts("sim:nn=0x", &o), -EINVAL);
	assert_int_equal(vfn_sim_parse_opts("sim:nn=1f", &o), -EINVAL);
	assert_int_equal(vfn_sim_parse_opts("sim:nn=0x-1", &o), -EINVAL);
	assert_int_equal(vfn_sim_parse_opts("sim:nn=0x 1", &o), -EINVAL);
	assert_int_equal(vfn_sim_parse_opts("sim:nn=0x0x1", &o), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_opts_leading_zero_is_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
