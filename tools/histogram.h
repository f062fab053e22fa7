/* SPDX-License-Identifier: MIT */
/*
 * A log-linear latency histogram for `vfn perf`: exact below 2^HIST_SUB_BITS,
 * then 2^HIST_SUB_BITS buckets per power of two (relative error under
 * 1/2^HIST_SUB_BITS, about 3%), covering every uint64_t value.  Recording
 * is a few instructions and never allocates; percentiles are computed at
 * the end.  Values are in whatever unit the caller records (clock ticks).
 */
#ifndef VFN_TOOLS_HISTOGRAM_H
#define VFN_TOOLS_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Buckets: HIST_SUB exact ones, then HIST_SUB for each of the 64 - HIST_SUB_BITS higher powers of two. */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum; /* wraps only after 2^64 ticks in total */
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

/* Empties @h. */
void hist_init(struct hist *h);

/* The bucket index of @v. */
static inline unsigned int hist_bucket(uint64_t v)
{
	unsigned int msb, shift;

	if (v < HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return ((shift + 1) << HIST_SUB_BITS) + (unsigned int)((v >> shift) - HIST_SUB);
}

/* Smallest and largest value that land in bucket @idx (< HIST_BUCKETS). */
uint64_t hist_bucket_low(unsigned int idx);
uint64_t hist_bucket_high(unsigned int idx);

/* Records one value. */
static inline void hist_add(struct hist *h, uint64_t v)
{
	h->buckets[hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Adds everything recorded in @from to @to. */
void hist_merge(struct hist *to, const struct hist *from);

/*
 * The value at percentile @pct (0 < @pct <= 100): the largest value of the
 * bucket that holds the ceil(@pct / 100 * count)-th smallest value, clamped
 * to [min, max] (so it is exact for values below HIST_SUB and for the
 * extremes).  0 if nothing was recorded.
 */
uint64_t hist_percentile(const struct hist *h, double pct);

/* The mean, rounded down; 0 if nothing was recorded. */
uint64_t hist_mean(const struct hist *h);

#endif
