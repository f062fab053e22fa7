/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for `vfn perf`'s latency histogram: bucket boundaries, the
 * relative error bound, and percentiles of known distributions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "histogram.h"

static struct hist h, h2;

/* Exact buckets below 2 * HIST_SUB, then HIST_SUB per power of two. */
static void test_bucket_math(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 2 * HIST_SUB; v++)
		assert_int_equal(hist_bucket(v), v);
	assert_int_equal(hist_bucket(64), 64);
	assert_int_equal(hist_bucket(65), 64);
	assert_int_equal(hist_bucket(66), 65);
	assert_int_equal(hist_bucket(127), 95);
	assert_int_equal(hist_bucket(128), 96);
	assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket_low(64), 64);
	assert_int_equal(hist_bucket_high(64), 65);
	assert_int_equal(hist_bucket_low(96), 128);
	assert_int_equal(hist_bucket_high(96), 131);
	assert_true(hist_bucket_high(HIST_BUCKETS - 1) == UINT64_MAX);
}

/* Every bucket is contiguous with the next, holds its bounds, and is narrow. */
static void test_bucket_bounds(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);

		assert_int_equal(hist_bucket(lo), i);
		assert_int_equal(hist_bucket(hi), i);
		assert_true(hi >= lo);
		/* width / low <= 1 / HIST_SUB: the relative error bound */
		assert_true((hi - lo) <= lo / HIST_SUB);
		if (i + 1 < HIST_BUCKETS)
			assert_true(hist_bucket_low(i + 1) == hi + 1);
	}
}

static void test_empty(void **state)
{
	(void)state;
	hist_init(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	assert_int_equal(hist_mean(&h), 0);
	assert_int_equal(h.count, 0);
}

/* 1..100: small values are exact. */
static void test_uniform_small(void **state)
{
	(void)state;
	hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		hist_add(&h, v);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100);
	assert_int_equal(hist_mean(&h), 50); /* 5050 / 100 */
	assert_int_equal(hist_percentile(&h, 1), 1);
	assert_int_equal(hist_percentile(&h, 10), 10);
	/* 90 shares bucket [90, 91]: the bucket's largest value is reported */
	assert_int_equal(hist_percentile(&h, 90), 91);
	assert_int_equal(hist_percentile(&h, 100), 100);
}

/* 1..10000 uniformly: percentiles within the bucket error, never below the true value. */
static void test_uniform_large(void **state)
{
	static const double pcts[] = { 50, 90, 99, 99.9, 99.99 };

	(void)state;
	hist_init(&h);
	for (uint64_t v = 1; v <= 10000; v++)
		hist_add(&h, v);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t want = (uint64_t)(pcts[i] * 100 + 0.5), got = hist_percentile(&h, pcts[i]);

		assert_true(got >= want);
		assert_true(got <= want + want / HIST_SUB);
	}
	assert_int_equal(hist_percentile(&h, 99.99), 10000);
	assert_int_equal(hist_percentile(&h, 100), 10000);
}

/* 999 fast, 1 slow: p99.9 is fast, p99.99 and max are the outlier. */
static void test_outlier(void **state)
{
	(void)state;
	hist_init(&h);
	for (int i = 0; i < 999; i++)
		hist_add(&h, 20000);
	hist_add(&h, 5000000);
	/* 20000 lies in bucket [19968, 20479]: its largest value is reported */
	assert_int_equal(hist_bucket_low(hist_bucket(20000)), 19968);
	assert_int_equal(hist_percentile(&h, 50), 20479);
	assert_int_equal(hist_percentile(&h, 99.9), 20479);
	assert_int_equal(hist_percentile(&h, 99.99), 5000000);
	assert_int_equal(h.max, 5000000);
	assert_int_equal(h.min, 20000);
}

/* Merging two halves equals recording everything in one. */
static void test_merge(void **state)
{
	(void)state;
	hist_init(&h);
	hist_init(&h2);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(v % 2 ? &h : &h2, v * 7);
	hist_merge(&h, &h2);
	assert_int_equal(h.count, 1000);
	assert_int_equal(h.min, 7);
	assert_int_equal(h.max, 7000);
	assert_int_equal(h.sum, 7 * 500500);
	assert_int_equal(hist_percentile(&h, 100), 7000);
	assert_true(hist_percentile(&h, 50) >= 3500 && hist_percentile(&h, 50) <= 3500 + 3500 / HIST_SUB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_math),   cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_empty),	      cmocka_unit_test(test_uniform_small),
		cmocka_unit_test(test_uniform_large), cmocka_unit_test(test_outlier),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
