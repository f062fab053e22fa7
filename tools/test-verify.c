/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for `vfn perf --verify`: the block pattern catches a block at
 * the wrong LBA, a stale generation, another run's seed, a torn transfer,
 * zeroes and a read that moved nothing; the record claims free slots only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verify.h"

#define LBS 512u
#define NLB 4u
#define SEED 0x1234567890abcdefull

static uint64_t buf[NLB * LBS / 8];

/* A fill checks clean; the stamp holds magic, LBA, seed, generation and size. */
static void test_fill_check(void **state)
{
	struct verify_mismatch mm = { 0 };

	(void)state;
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), 0);
	assert_memory_equal(&buf[0], "vfnverif", 8);
	assert_int_equal(buf[1], 100);
	assert_int_equal(buf[2], SEED);
	assert_int_equal(buf[3], 7 | (uint64_t)LBS << 32);
	assert_int_equal(buf[LBS / 8 + 1], 101);
	/* The filler differs between blocks and is not a constant. */
	assert_int_not_equal(buf[4], buf[LBS / 8 + 4]);
	assert_int_not_equal(buf[4], buf[5]);
}

/* The same blocks checked as another LBA: every block differs, at the LBA word. */
static void test_wrong_lba(void **state)
{
	struct verify_mismatch mm = { 0 };

	(void)state;
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	assert_int_equal(verify_check(buf, LBS, NLB, 104, SEED, 7, &mm), NLB);
	assert_int_equal(mm.lba, 104);
	assert_int_equal(mm.gen, 7);
	assert_true(mm.stamped);
	assert_int_equal(mm.found_lba, 100);
	assert_int_equal(mm.found_gen, 7);
	assert_int_equal(mm.offset, 8);
}

/* A stale generation (the block before the last write) and another run's seed. */
static void test_stale_and_seed(void **state)
{
	struct verify_mismatch mm = { 0 };

	(void)state;
	verify_fill(buf, LBS, NLB, 100, SEED, 6);
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), NLB);
	assert_int_equal(mm.lba, 100);
	assert_int_equal(mm.found_gen, 6);
	assert_int_equal(mm.offset, 24);
	verify_fill(buf, LBS, NLB, 100, SEED + 1, 7);
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), NLB);
	assert_int_equal(mm.found_seed, SEED + 1);
	assert_int_equal(mm.offset, 16);
}

/* A torn transfer: block 2's second half is the previous generation's. */
static void test_torn(void **state)
{
	static uint64_t old[NLB * LBS / 8];
	struct verify_mismatch mm = { 0 };

	(void)state;
	verify_fill(old, LBS, NLB, 100, SEED, 6);
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	memcpy((char *)buf + 2 * LBS + 256, (char *)old + 2 * LBS + 256, 256);
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), 1);
	assert_int_equal(mm.lba, 102);
	assert_true(mm.stamped);
	assert_int_equal(mm.found_gen, 7);
	assert_in_range(mm.offset, 256, 263);
	/* One flipped byte is found at its offset. */
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	((unsigned char *)buf)[3 * LBS + 301] ^= 0x10;
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), 1);
	assert_int_equal(mm.lba, 103);
	assert_int_equal(mm.offset, 301);
}

/* Zeroes, and a poisoned buffer that a read did not overwrite. */
static void test_zero_and_poison(void **state)
{
	struct verify_mismatch mm = { 0 };

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(verify_check(buf, LBS, NLB, 0, SEED, 1, &mm), NLB);
	assert_false(mm.stamped);
	assert_int_equal(mm.lba, 0);
	assert_int_equal(mm.offset, 0);
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	verify_poison(buf, LBS, NLB);
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), NLB);
	assert_false(mm.stamped);
	/* Only the last word poisoned: caught at that word. */
	verify_fill(buf, LBS, NLB, 100, SEED, 7);
	verify_poison(buf, LBS, NLB);
	for (unsigned int b = 0; b < NLB; b++)
		buf[b * LBS / 8] = 0x66697265766e6676ull;
	assert_int_equal(verify_check(buf, LBS, NLB, 100, SEED, 7, &mm), NLB);
	assert_true(mm.stamped);
	assert_in_range(mm.offset, LBS - 8, LBS - 1);
}

/* Claims skip busy slots (wrapping); release records the generation. */
static void test_map(void **state)
{
	struct verify_map m = { 0 };

	(void)state;
	assert_int_equal(verify_map_init(&m, 0), -EINVAL);
	assert_int_equal(verify_map_init(&m, VERIFY_MAX_SLOTS + 1), -EINVAL);
	assert_int_equal(verify_map_init(&m, 4), 0);
	assert_int_equal(verify_map_gen(&m, 2), 0);
	assert_int_equal(verify_map_claim(&m, 2), 2);
	assert_int_equal(verify_map_claim(&m, 2), 3);
	assert_int_equal(verify_map_claim(&m, 2), 0);
	assert_int_equal(verify_map_claim(&m, 3), 1);
	verify_map_release(&m, 3, 5);
	assert_int_equal(verify_map_gen(&m, 3), 5);
	assert_int_equal(verify_map_claim(&m, 0), 3);
	assert_int_equal(verify_map_gen(&m, 3), 5);
	verify_map_release(&m, 0, 9);
	assert_int_equal(verify_map_claim(&m, 1), 0);
	verify_map_fini(&m);
	assert_null(m.rec);
	assert_int_equal(verify_next_gen(0), 1);
	assert_int_equal(verify_next_gen(41), 42);
	assert_int_equal(verify_next_gen(VERIFY_GEN_MAX), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_check),	cmocka_unit_test(test_wrong_lba),
		cmocka_unit_test(test_stale_and_seed),	cmocka_unit_test(test_torn),
		cmocka_unit_test(test_zero_and_poison), cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
