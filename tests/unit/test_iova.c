/* SPDX-License-Identifier: MIT */
/*
 * IOVA allocator (iommu/iova.c) and the decoding of the kernel's IOVA range
 * report (vfn_iommu_parse_type1_info in iommu/container.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/vfio.h>

#include "iommu/iommu-priv.h"
#include "iommu/iova.h"

#define PAGE 4096ull
#define MSI_START 0xfee00000ull
#define MSI_LAST 0xfeefffffull

static void init_ok(struct vfn_iova_allocator *a, const struct vfn_iova_range *r, int n)
{
	assert_int_equal(vfn_iova_init(a, r, n, PAGE), 0);
}

/* Total bytes in a's used blocks. */
static uint64_t used_bytes(const struct vfn_iova_allocator *a)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < a->used.n; i++)
		sum += a->used.v[i].last - a->used.v[i].start + 1;
	return sum;
}

static void test_init_trims_and_merges(void **state)
{
	/* Unsorted, overlapping, unaligned, one smaller than a page. */
	struct vfn_iova_range r[] = {
		{ 0x20800, 0x40fff }, /* -> [0x21000, 0x40fff] */
		{ 0x0, 0x10fff },     /* -> [0x1000, 0x10fff] (page 0 gone) */
		{ 0x11000, 0x11fff }, /* adjacent: merges with the previous */
		{ 0x30000, 0x50ffe }, /* overlaps, end trimmed to 0x4ffff */
		{ 0x60010, 0x60ff0 }, /* no whole page: dropped */
	};
	struct vfn_iova_allocator a;

	(void)state;
	init_ok(&a, r, 5);
	assert_int_equal(a.usable.n, 2);
	assert_int_equal(a.usable.v[0].start, 0x1000);
	assert_int_equal(a.usable.v[0].last, 0x11fff);
	assert_int_equal(a.usable.v[1].start, 0x21000);
	assert_int_equal(a.usable.v[1].last, 0x4ffff);
	assert_int_equal(vfn_iova_avail(&a), 0x11000 + 0x2f000);
	vfn_iova_destroy(&a);
}

static void test_init_rejects(void **state)
{
	struct vfn_iova_range good = { 0, 0xfffff };
	struct vfn_iova_range backwards = { 0x2000, 0x1000 };
	struct vfn_iova_range page0 = { 0, PAGE - 1 };
	struct vfn_iova_range tiny = { 0x1001, 0x1ffe };
	struct vfn_iova_allocator a;

	(void)state;
	assert_int_equal(vfn_iova_init(&a, &good, 1, 0), -EINVAL);
	assert_int_equal(vfn_iova_init(&a, &good, 1, 3000), -EINVAL);
	assert_int_equal(vfn_iova_init(&a, &good, 0, PAGE), -EINVAL);
	assert_int_equal(vfn_iova_init(&a, &backwards, 1, PAGE), -EINVAL);
	assert_int_equal(vfn_iova_init(&a, &page0, 1, PAGE), -EINVAL);
	assert_int_equal(vfn_iova_init(&a, &tiny, 1, PAGE), -EINVAL);
}

/* The x86 layout: nothing ever lands at 0 or in the MSI window. */
static void test_msi_hole(void **state)
{
	struct vfn_iova_range r[] = {
		{ 0, MSI_START - 1 },
		{ MSI_LAST + 1, (1ull << 33) - 1 },
	};
	const uint64_t len = 16ull << 20;
	struct vfn_iova_allocator a;
	const uint64_t below = MSI_START - PAGE, above = (1ull << 33) - (MSI_LAST + 1);
	uint64_t iova, total;
	int count = 0, ret;

	(void)state;
	init_ok(&a, r, 2);
	total = vfn_iova_avail(&a);
	assert_int_equal(total, below + above);
	assert_int_equal(total, (1ull << 33) - PAGE - (1ull << 20));
	while ((ret = vfn_iova_alloc(&a, len, &iova)) == 0) {
		assert_int_not_equal(iova, 0);
		assert_true(iova + len - 1 < MSI_START || iova > MSI_LAST);
		assert_int_equal(iova % PAGE, 0);
		count++;
	}
	assert_int_equal(ret, -ENOSPC);
	/* First fit fills below the hole, then above it. */
	assert_int_equal(count, below / len + above / len);
	assert_int_equal(below / len, 254);
	assert_true(vfn_iova_avail(&a) < len);
	assert_int_equal(vfn_iova_avail(&a) + used_bytes(&a), total);

	assert_int_equal(vfn_iova_alloc_at(&a, 0, PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, MSI_START, PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, MSI_START - PAGE, 2 * PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, MSI_LAST + 1 - PAGE, 2 * PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, 1ull << 33, PAGE), -ERANGE);
	vfn_iova_destroy(&a);
}

static void test_exhaust_and_reuse(void **state)
{
	struct vfn_iova_range r = { 0, 16 * PAGE - 1 }; /* 15 usable pages */
	struct vfn_iova_allocator a;
	uint64_t iova[15], again;

	(void)state;
	init_ok(&a, &r, 1);
	for (int i = 0; i < 15; i++) {
		assert_int_equal(vfn_iova_alloc(&a, PAGE, &iova[i]), 0);
		assert_int_equal(iova[i], (uint64_t)(i + 1) * PAGE);
	}
	assert_int_equal(vfn_iova_alloc(&a, PAGE, &again), -ENOSPC);
	assert_int_equal(vfn_iova_avail(&a), 0);
	assert_int_equal(vfn_iova_free(&a, iova[6], PAGE), 0);
	assert_int_equal(vfn_iova_alloc(&a, 2 * PAGE, &again), -ENOSPC);
	assert_int_equal(vfn_iova_alloc(&a, PAGE, &again), 0);
	assert_int_equal(again, iova[6]);
	for (int i = 0; i < 15; i++)
		assert_int_equal(vfn_iova_free(&a, iova[i], PAGE), 0);
	/* Everything coalesced back into one extent. */
	assert_int_equal(a.free.n, 1);
	assert_int_equal(a.used.n, 0);
	assert_int_equal(vfn_iova_avail(&a), 15 * PAGE);
	assert_int_equal(vfn_iova_alloc(&a, 15 * PAGE, &again), 0);
	assert_int_equal(again, PAGE);
	vfn_iova_destroy(&a);
}

static void test_fragmentation(void **state)
{
	struct vfn_iova_range r = { PAGE, 17 * PAGE - 1 }; /* 16 pages */
	struct vfn_iova_allocator a;
	uint64_t iova[16], big;

	(void)state;
	init_ok(&a, &r, 1);
	for (int i = 0; i < 16; i++)
		assert_int_equal(vfn_iova_alloc(&a, PAGE, &iova[i]), 0);
	for (int i = 0; i < 16; i += 2)
		assert_int_equal(vfn_iova_free(&a, iova[i], PAGE), 0);
	assert_int_equal(vfn_iova_avail(&a), 8 * PAGE);
	assert_int_equal(a.free.n, 8);
	assert_int_equal(vfn_iova_alloc(&a, 2 * PAGE, &big), -ENOSPC);

	/* Freeing page 5 joins 4, 5 and 6 into one 3-page extent. */
	assert_int_equal(vfn_iova_free(&a, iova[5], PAGE), 0);
	assert_int_equal(a.free.n, 7);
	assert_int_equal(vfn_iova_alloc(&a, 4 * PAGE, &big), -ENOSPC);
	assert_int_equal(vfn_iova_alloc(&a, 3 * PAGE, &big), 0);
	assert_int_equal(big, iova[4]);
	assert_int_equal(vfn_iova_free(&a, big, 3 * PAGE), 0);
	assert_int_equal(vfn_iova_alloc(&a, 2 * PAGE, &big), 0);
	assert_int_equal(big, iova[4]);
	vfn_iova_destroy(&a);
}

static void test_bad_free(void **state)
{
	struct vfn_iova_range r = { 0, 64 * PAGE - 1 };
	struct vfn_iova_allocator a;
	uint64_t x, y, avail;

	(void)state;
	init_ok(&a, &r, 1);
	assert_int_equal(vfn_iova_alloc(&a, 4 * PAGE, &x), 0);
	assert_int_equal(vfn_iova_alloc(&a, 2 * PAGE, &y), 0);
	avail = vfn_iova_avail(&a);

	assert_int_equal(vfn_iova_free(&a, x, 2 * PAGE), -EINVAL);    /* partial */
	assert_int_equal(vfn_iova_free(&a, x + PAGE, PAGE), -EINVAL); /* inside */
	assert_int_equal(vfn_iova_free(&a, x, 6 * PAGE), -EINVAL);    /* spans two */
	assert_int_equal(vfn_iova_free(&a, x, 0), -EINVAL);
	assert_int_equal(vfn_iova_free(&a, 40 * PAGE, PAGE), -EINVAL); /* never allocated */
	assert_int_equal(vfn_iova_free(&a, 0, PAGE), -EINVAL);
	assert_int_equal(vfn_iova_avail(&a), avail);

	assert_int_equal(vfn_iova_free(&a, x, 4 * PAGE), 0);
	assert_int_equal(vfn_iova_free(&a, x, 4 * PAGE), -EINVAL); /* double */
	assert_int_equal(vfn_iova_avail(&a), avail + 4 * PAGE);
	/* The freed block is reused from its start. */
	assert_int_equal(vfn_iova_alloc(&a, PAGE, &x), 0);
	assert_int_equal(x, PAGE);
	assert_int_equal(vfn_iova_alloc(&a, 3 * PAGE, &x), 0);
	assert_int_equal(x, 2 * PAGE);
	assert_int_equal(vfn_iova_alloc(&a, 3, &x), -EINVAL);
	assert_int_equal(vfn_iova_alloc(&a, 0, &x), -EINVAL);
	vfn_iova_destroy(&a);
}

static void test_alloc_at(void **state)
{
	struct vfn_iova_range r = { 0, 32 * PAGE - 1 };
	struct vfn_iova_allocator a;
	uint64_t iova;

	(void)state;
	init_ok(&a, &r, 1);
	assert_int_equal(vfn_iova_alloc_at(&a, 10 * PAGE, 4 * PAGE), 0); /* splits */
	assert_int_equal(a.free.n, 2);
	assert_int_equal(vfn_iova_alloc_at(&a, 13 * PAGE, PAGE), -EEXIST);
	assert_int_equal(vfn_iova_alloc_at(&a, 8 * PAGE, 4 * PAGE), -EEXIST);
	assert_int_equal(vfn_iova_alloc_at(&a, 30 * PAGE, 4 * PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, 10 * PAGE + 1, PAGE), -EINVAL);
	assert_int_equal(vfn_iova_alloc_at(&a, 20 * PAGE, PAGE + 1), -EINVAL);
	assert_int_equal(vfn_iova_alloc_at(&a, 14 * PAGE, PAGE), 0); /* right after */
	assert_int_equal(vfn_iova_alloc_at(&a, 31 * PAGE, PAGE), 0); /* last page */
	assert_int_equal(vfn_iova_alloc_at(&a, PAGE, PAGE), 0);	     /* first page */
	assert_int_equal(vfn_iova_alloc(&a, PAGE, &iova), 0);
	assert_int_equal(iova, 2 * PAGE);
	assert_int_equal(vfn_iova_alloc(&a, 9 * PAGE, &iova), 0);
	assert_int_equal(iova, 15 * PAGE);
	assert_int_equal(vfn_iova_free(&a, 10 * PAGE, 4 * PAGE), 0);
	assert_int_equal(vfn_iova_alloc_at(&a, 10 * PAGE, 4 * PAGE), 0);
	vfn_iova_destroy(&a);
}

/*
 * vfn_iova_restrict(): the space shrinks to its intersection with new ranges,
 * blocks handed out stay (and must lie inside), a failure changes nothing.
 */
static void test_restrict(void **state)
{
	struct vfn_iova_range r = { 0, 64 * PAGE - 1 };
	struct vfn_iova_range cut[] = { { 8 * PAGE + 17, 20 * PAGE - 1 }, { 40 * PAGE, 100 * PAGE } };
	struct vfn_iova_range beside = { 200 * PAGE, 300 * PAGE };
	struct vfn_iova_range over_block = { 0, 9 * PAGE - 1 };
	struct vfn_iova_allocator a;
	uint64_t iova;

	(void)state;
	init_ok(&a, &r, 1);
	assert_int_equal(vfn_iova_alloc_at(&a, 10 * PAGE, 2 * PAGE), 0);
	assert_int_equal(vfn_iova_restrict(&a, &beside, 1), -ENOSPC);	  /* nothing in common */
	assert_int_equal(vfn_iova_restrict(&a, &over_block, 1), -EEXIST); /* the block is outside */
	assert_int_equal(vfn_iova_avail(&a), 61 * PAGE);		  /* both left it alone */
	/* [9, 20) and [40, 64) pages: the partial page at 8 + 17 bytes is dropped. */
	assert_int_equal(vfn_iova_restrict(&a, cut, 2), 0);
	assert_int_equal(a.usable.n, 2);
	assert_int_equal(a.usable.v[0].start, 9 * PAGE);
	assert_int_equal(a.usable.v[1].last, 64 * PAGE - 1);
	assert_int_equal(vfn_iova_avail(&a), (11 - 2 + 24) * PAGE);
	assert_int_equal(vfn_iova_alloc(&a, PAGE, &iova), 0);
	assert_int_equal(iova, 9 * PAGE);
	assert_int_equal(vfn_iova_alloc_at(&a, 30 * PAGE, PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc(&a, 9 * PAGE, &iova), 0); /* only after the cut */
	assert_int_equal(iova, 40 * PAGE);
	assert_int_equal(vfn_iova_free(&a, 10 * PAGE, 2 * PAGE), 0); /* carried over exactly */
	vfn_iova_destroy(&a);
}

/* A range that ends at the top of the 64-bit space. */
static void test_top_of_space(void **state)
{
	struct vfn_iova_range r = { UINT64_MAX - 16 * PAGE + 1, UINT64_MAX };
	struct vfn_iova_allocator a;
	uint64_t iova;

	(void)state;
	init_ok(&a, &r, 1);
	assert_int_equal(vfn_iova_avail(&a), 16 * PAGE);
	assert_int_equal(vfn_iova_alloc_at(&a, UINT64_MAX - PAGE + 1, 2 * PAGE), -ERANGE);
	assert_int_equal(vfn_iova_alloc_at(&a, UINT64_MAX - PAGE + 1, PAGE), 0);
	assert_int_equal(vfn_iova_alloc(&a, 15 * PAGE, &iova), 0);
	assert_int_equal(iova, r.start);
	assert_int_equal(vfn_iova_free(&a, UINT64_MAX - PAGE + 1, PAGE), 0);
	assert_int_equal(vfn_iova_free(&a, iova, 15 * PAGE), 0);
	assert_int_equal(a.free.n, 1);
	assert_int_equal(a.free.v[0].last, UINT64_MAX);
	vfn_iova_destroy(&a);
}

/* ---- randomized check against a page bitmap ---- */

#define MODEL_PAGES 1100
#define MODEL_MAX_BLOCKS 256

enum page_state {
	P_HOLE,
	P_FREE,
	P_USED
};

struct model {
	enum page_state page[MODEL_PAGES];
	uint64_t blk_iova[MODEL_MAX_BLOCKS];
	uint64_t blk_len[MODEL_MAX_BLOCKS];
	int nblk;
	uint64_t rng;
};

static uint64_t rnd(struct model *m)
{
	/* xorshift64: deterministic on every libc. */
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

/* Lowest page index where @n pages are free, or -1. */
static long model_first_fit(const struct model *m, int n)
{
	int run = 0;

	for (int p = 0; p < MODEL_PAGES; p++) {
		run = m->page[p] == P_FREE ? run + 1 : 0;
		if (run == n)
			return p - n + 1;
	}
	return -1;
}

static void model_mark(struct model *m, uint64_t iova, uint64_t len, enum page_state from, enum page_state to)
{
	for (uint64_t p = iova / PAGE; p < (iova + len) / PAGE; p++) {
		assert_true(p < MODEL_PAGES);
		assert_int_equal(m->page[p], from);
		m->page[p] = to;
	}
}

static void model_add(struct model *m, uint64_t iova, uint64_t len)
{
	model_mark(m, iova, len, P_FREE, P_USED);
	m->blk_iova[m->nblk] = iova;
	m->blk_len[m->nblk] = len;
	m->nblk++;
}

static void step_alloc(struct model *m, struct vfn_iova_allocator *a)
{
	int n = 1 + (int)(rnd(m) % 8);
	long fit = model_first_fit(m, n);
	uint64_t iova;
	int ret = vfn_iova_alloc(a, (uint64_t)n * PAGE, &iova);

	if (fit < 0) {
		assert_int_equal(ret, -ENOSPC);
		return;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(iova, (uint64_t)fit * PAGE);
	model_add(m, iova, (uint64_t)n * PAGE);
}

static void step_alloc_at(struct model *m, struct vfn_iova_allocator *a)
{
	int p = (int)(rnd(m) % (MODEL_PAGES + 20)), n = 1 + (int)(rnd(m) % 4);
	int expect = 0;

	for (int i = p; i < p + n; i++) {
		if (i >= MODEL_PAGES || m->page[i] == P_HOLE) {
			expect = -ERANGE;
			break;
		}
		if (m->page[i] == P_USED)
			expect = -EEXIST;
	}
	assert_int_equal(vfn_iova_alloc_at(a, (uint64_t)p * PAGE, (uint64_t)n * PAGE), expect);
	if (!expect)
		model_add(m, (uint64_t)p * PAGE, (uint64_t)n * PAGE);
}

static void step_free(struct model *m, struct vfn_iova_allocator *a)
{
	int i = (int)(rnd(m) % (uint64_t)m->nblk);
	uint64_t iova = m->blk_iova[i], len = m->blk_len[i];

	if (len > PAGE && rnd(m) % 4 == 0) /* a partial free is refused */
		assert_int_equal(vfn_iova_free(a, iova, len - PAGE), -EINVAL);
	assert_int_equal(vfn_iova_free(a, iova, len), 0);
	assert_int_equal(vfn_iova_free(a, iova, len), -EINVAL);
	model_mark(m, iova, len, P_USED, P_FREE);
	m->nblk--;
	m->blk_iova[i] = m->blk_iova[m->nblk];
	m->blk_len[i] = m->blk_len[m->nblk];
}

static void model_check(const struct model *m, const struct vfn_iova_allocator *a)
{
	uint64_t nfree = 0, nused = 0;

	for (int p = 0; p < MODEL_PAGES; p++) {
		nfree += m->page[p] == P_FREE;
		nused += m->page[p] == P_USED;
	}
	assert_int_equal(vfn_iova_avail(a), nfree * PAGE);
	assert_int_equal(used_bytes(a), nused * PAGE);
	assert_int_equal(a->used.n, (size_t)m->nblk);
	/* Free extents are sorted, disjoint and never adjacent (coalesced). */
	for (size_t i = 1; i < a->free.n; i++)
		assert_true(a->free.v[i - 1].last + 1 < a->free.v[i].start);
}

static void test_random_vs_bitmap(void **state)
{
	/* Pages 1..299 and 400..1099 usable; page 0 is reserved, 300..399 a hole. */
	struct vfn_iova_range r[] = {
		{ 0, 300 * PAGE - 1 },
		{ 400 * PAGE, MODEL_PAGES * PAGE - 1 },
	};
	struct model *m = calloc(1, sizeof(*m));
	struct vfn_iova_allocator a;

	(void)state;
	assert_non_null(m);
	m->rng = 0x9e3779b97f4a7c15ull;
	for (int p = 0; p < MODEL_PAGES; p++)
		m->page[p] = (p == 0 || (p >= 300 && p < 400)) ? P_HOLE : P_FREE;
	init_ok(&a, r, 2);
	for (int step = 0; step < 20000; step++) {
		uint64_t op = rnd(m) % 10;

		if (m->nblk && (op < 4 || m->nblk == MODEL_MAX_BLOCKS))
			step_free(m, &a);
		else if (op < 8)
			step_alloc(m, &a);
		else
			step_alloc_at(m, &a);
		model_check(m, &a);
	}
	while (m->nblk)
		step_free(m, &a);
	model_check(m, &a);
	assert_int_equal(a.free.n, 2);
	vfn_iova_destroy(&a);
	free(m);
}

/* ---- VFIO_IOMMU_GET_INFO decoding ---- */

struct info_buf {
	uint8_t b[1024];
	size_t size;
};

static void put_info(struct info_buf *ib, uint32_t flags, uint32_t cap_offset)
{
	struct vfio_iommu_type1_info info = {
		.argsz = sizeof(ib->b),
		.flags = flags,
		.cap_offset = cap_offset,
	};

	memset(ib->b, 0, sizeof(ib->b));
	memcpy(ib->b, &info, sizeof(info));
	ib->size = sizeof(info);
}

static size_t put_ranges(struct info_buf *ib, size_t off, uint32_t next, const struct vfio_iova_range *r, uint32_t n)
{
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1, .next = next },
		.nr_iovas = n,
	};

	memcpy(ib->b + off, &cap, sizeof(cap));
	memcpy(ib->b + off + sizeof(cap), r, n * sizeof(*r));
	ib->size = off + sizeof(cap) + n * sizeof(*r);
	return ib->size;
}

static size_t put_dma_avail(struct info_buf *ib, size_t off, uint32_t next, uint32_t avail)
{
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1, .next = next },
		.avail = avail,
	};

	memcpy(ib->b + off, &cap, sizeof(cap));
	ib->size = off + sizeof(cap);
	return ib->size;
}

static void test_parse_info(void **state)
{
	const struct vfio_iova_range r[] = {
		{ 0, MSI_START - 1 },
		{ MSI_LAST + 1, (1ull << 39) - 1 },
	};
	struct vfn_iommu_type1_caps caps;
	struct info_buf ib;

	(void)state;
	/* No capabilities at all. */
	put_info(&ib, VFIO_IOMMU_INFO_PGSIZES, 0);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), 0);
	assert_int_equal(caps.nranges, 0);
	assert_false(caps.has_dma_avail);

	/* Ranges at 24 (48 bytes), an unknown capability at 72, DMA avail at 80. */
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 24);
	assert_int_equal(put_ranges(&ib, 24, 72, r, 2), 72);
	memcpy(ib.b + 72, &(struct vfio_info_cap_header){ .id = 2, .version = 1, .next = 80 }, 8);
	put_dma_avail(&ib, 80, 0, 65535);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), 0);
	assert_int_equal(caps.nranges, 2);
	assert_int_equal(caps.ranges[0].start, 0);
	assert_int_equal(caps.ranges[0].last, MSI_START - 1);
	assert_int_equal(caps.ranges[1].start, MSI_LAST + 1);
	assert_int_equal(caps.ranges[1].last, (1ull << 39) - 1);
	assert_true(caps.has_dma_avail);
	assert_int_equal(caps.dma_avail, 65535);

	/* Truncated: the last capability does not fit. */
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size - 1, &caps), -EINVAL);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, 16, &caps), -EINVAL);
}

static void test_parse_info_malformed(void **state)
{
	const struct vfio_iova_range r = { 0, (1ull << 39) - 1 };
	struct vfio_iova_range many[40];
	struct vfn_iommu_type1_caps caps;
	struct info_buf ib;

	(void)state;
	/* Offset outside the buffer, and inside the info header. */
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 400);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, 64, &caps), -EINVAL);
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 8);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, 64, &caps), -EINVAL);

	/* A chain that points back at itself. */
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 24);
	put_ranges(&ib, 24, 24, &r, 1);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), -EINVAL);

	/* More ranges announced than the buffer holds; and zero ranges. */
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 24);
	put_ranges(&ib, 24, 0, &r, 1);
	memcpy(ib.b + 24 + 8, &(uint32_t){ 3 }, 4);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), -EINVAL);
	memcpy(ib.b + 24 + 8, &(uint32_t){ 0 }, 4);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), -EINVAL);

	/* Too many ranges: the first VFN_IOMMU_MAX_RANGES are kept. */
	for (int i = 0; i < 40; i++) {
		many[i].start = (uint64_t)(i + 1) << 20;
		many[i].end = ((uint64_t)(i + 1) << 20) + 0xfff;
	}
	put_info(&ib, VFIO_IOMMU_INFO_CAPS, 24);
	put_ranges(&ib, 24, 0, many, 40);
	assert_int_equal(vfn_iommu_parse_type1_info(ib.b, ib.size, &caps), 0);
	assert_int_equal(caps.nranges, VFN_IOMMU_MAX_RANGES);
	assert_int_equal(caps.ranges[VFN_IOMMU_MAX_RANGES - 1].start, (uint64_t)VFN_IOMMU_MAX_RANGES << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_trims_and_merges),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_msi_hole),
		cmocka_unit_test(test_exhaust_and_reuse),
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_bad_free),
		cmocka_unit_test(test_alloc_at),
		cmocka_unit_test(test_top_of_space),
		cmocka_unit_test(test_restrict),
		cmocka_unit_test(test_random_vs_bitmap),
		cmocka_unit_test(test_parse_info),
		cmocka_unit_test(test_parse_info_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
