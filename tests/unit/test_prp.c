/* SPDX-License-Identifier: MIT */
/* PRP and SGL builders: exact entries at every page boundary. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvme/prp.h"

#define K4 0x1000ull
#define K64 0x10000ull
#define DATA 0x100000ull /* page-aligned data IOVA */
#define LIST 0x800000ull /* page-aligned PRP list IOVA */
#define POISON 0xdeadbeefdeadbeefull

struct fixture {
	vfn_le64 *mem;
	size_t entries;
	struct vfn_prp_list list;
	uint64_t prp1, prp2;
};

/* A poisoned list of @entries slots at @iova; PRP1/PRP2 poisoned too. */
static struct fixture *fixture_new(size_t entries, uint64_t iova)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = malloc(entries * sizeof(vfn_le64));
	assert_non_null(f->mem);
	for (size_t i = 0; i < entries; i++)
		f->mem[i] = vfn_cpu_to_le64(POISON);
	f->entries = entries;
	f->list = (struct vfn_prp_list){ .vaddr = f->mem, .iova = iova, .entries = entries };
	f->prp1 = f->prp2 = POISON;
	return f;
}

static void fixture_free(struct fixture *f)
{
	free(f->mem);
	free(f);
}

static int build(struct fixture *f, uint64_t iova, size_t len, size_t page)
{
	return vfn_prp_build(iova, len, page, &f->list, &f->prp1, &f->prp2);
}

static uint64_t slot(const struct fixture *f, size_t i)
{
	return vfn_le64_to_cpu(f->mem[i]);
}

/* Slots from @from on were not written. */
static void assert_untouched_from(const struct fixture *f, size_t from)
{
	for (size_t i = from; i < f->entries; i++)
		assert_int_equal(slot(f, i), POISON);
}

static void test_one_byte(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	assert_int_equal(build(f, DATA + 0x124, 1, K4), 0);
	assert_int_equal(f->prp1, DATA + 0x124);
	assert_int_equal(f->prp2, 0);
	assert_untouched_from(f, 0);
	assert_int_equal(vfn_prp_list_slots(DATA + 0x124, 1, K4, LIST), 0);
	fixture_free(f);
}

static void test_exactly_one_page(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	assert_int_equal(build(f, DATA, K4, K4), 0);
	assert_int_equal(f->prp1, DATA);
	assert_int_equal(f->prp2, 0);
	assert_untouched_from(f, 0);
	fixture_free(f);
}

static void test_one_page_from_offset_crosses(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	assert_int_equal(build(f, DATA + 0x200, K4, K4), 0);
	assert_int_equal(f->prp1, DATA + 0x200);
	assert_int_equal(f->prp2, DATA + K4);
	assert_untouched_from(f, 0);
	fixture_free(f);
}

static void test_two_pages(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	assert_int_equal(build(f, DATA, 2 * K4, K4), 0);
	assert_int_equal(f->prp1, DATA);
	assert_int_equal(f->prp2, DATA + K4);
	assert_untouched_from(f, 0);
	assert_int_equal(vfn_prp_list_slots(DATA, 2 * K4, K4, LIST), 0);
	fixture_free(f);
}

static void test_two_pages_plus_one_byte_needs_list(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	assert_int_equal(vfn_prp_list_slots(DATA, 2 * K4 + 1, K4, LIST), 2);
	assert_int_equal(build(f, DATA, 2 * K4 + 1, K4), 0);
	assert_int_equal(f->prp1, DATA);
	assert_int_equal(f->prp2, LIST);
	assert_int_equal(slot(f, 0), DATA + K4);
	assert_int_equal(slot(f, 1), DATA + 2 * K4);
	assert_untouched_from(f, 2);
	fixture_free(f);
}

static void test_offset_ending_on_page_boundary(void **state)
{
	struct fixture *f = fixture_new(4, LIST);

	(void)state;
	/* Rest of the first page only. */
	assert_int_equal(build(f, DATA + 0x200, K4 - 0x200, K4), 0);
	assert_int_equal(f->prp1, DATA + 0x200);
	assert_int_equal(f->prp2, 0);
	/* Rest of the first page plus one full page: still no list. */
	assert_int_equal(build(f, DATA + 0x200, 2 * K4 - 0x200, K4), 0);
	assert_int_equal(f->prp2, DATA + K4);
	assert_untouched_from(f, 0);
	/* Plus two full pages: a list of two. */
	assert_int_equal(build(f, DATA + 0x200, 3 * K4 - 0x200, K4), 0);
	assert_int_equal(f->prp1, DATA + 0x200);
	assert_int_equal(f->prp2, LIST);
	assert_int_equal(slot(f, 0), DATA + K4);
	assert_int_equal(slot(f, 1), DATA + 2 * K4);
	assert_untouched_from(f, 2);
	/* One byte more touches a fourth page. */
	assert_int_equal(vfn_prp_list_slots(DATA + 0x200, 3 * K4 - 0x200 + 1, K4, LIST), 3);
	fixture_free(f);
}

static void test_list_exactly_one_page(void **state)
{
	size_t n = K4 / 8; /* 512 entries fill one list page, no chain */
	struct fixture *f = fixture_new(n + 2, LIST);

	(void)state;
	assert_int_equal(vfn_prp_list_slots(DATA, (n + 1) * K4, K4, LIST), n);
	assert_int_equal(build(f, DATA, (n + 1) * K4, K4), 0);
	assert_int_equal(f->prp1, DATA);
	assert_int_equal(f->prp2, LIST);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(slot(f, i), DATA + (i + 1) * K4);
	assert_untouched_from(f, n);
	fixture_free(f);
}

static void test_list_chains_to_second_page(void **state)
{
	size_t n = K4 / 8 + 1; /* 513 data entries: 511 + chain, then 2 */
	struct fixture *f = fixture_new(n + 3, LIST);

	(void)state;
	assert_int_equal(vfn_prp_list_slots(DATA, (n + 1) * K4, K4, LIST), n + 1);
	assert_int_equal(build(f, DATA, (n + 1) * K4, K4), 0);
	assert_int_equal(f->prp2, LIST);
	for (size_t i = 0; i < 511; i++)
		assert_int_equal(slot(f, i), DATA + (i + 1) * K4);
	assert_int_equal(slot(f, 511), LIST + K4); /* chain pointer */
	assert_int_equal(slot(f, 512), DATA + 512 * K4);
	assert_int_equal(slot(f, 513), DATA + 513 * K4);
	assert_untouched_from(f, 514);
	fixture_free(f);
}

static void test_list_chains_twice(void **state)
{
	size_t n = 511 + 511 + 5; /* two full chained pages, 5 on the third */
	struct fixture *f = fixture_new(n + 3, LIST);

	(void)state;
	assert_int_equal(build(f, DATA + 0x10, n * K4 + 1, K4), 0);
	assert_int_equal(f->prp1, DATA + 0x10);
	assert_int_equal(slot(f, 511), LIST + K4);
	assert_int_equal(slot(f, 1023), LIST + 2 * K4);
	assert_int_equal(slot(f, 510), DATA + 511 * K4);
	assert_int_equal(slot(f, 512), DATA + 512 * K4);
	assert_int_equal(slot(f, 1022), DATA + 1022 * K4);
	assert_int_equal(slot(f, 1024), DATA + 1023 * K4);
	assert_int_equal(slot(f, 1028), DATA + n * K4);
	assert_untouched_from(f, n + 2);
	assert_int_equal(vfn_prp_list_slots(DATA + 0x10, n * K4 + 1, K4, LIST), n + 2);
	fixture_free(f);
}

static void test_list_starting_mid_page_chains_early(void **state)
{
	/* Two slots left in the list's first page: one entry, then the chain. */
	uint64_t list = LIST + K4 - 16;
	struct fixture *f = fixture_new(8, list);

	(void)state;
	assert_int_equal(vfn_prp_list_slots(DATA, 4 * K4, K4, list), 4);
	assert_int_equal(build(f, DATA, 4 * K4, K4), 0);
	assert_int_equal(f->prp2, list);
	assert_int_equal(slot(f, 0), DATA + K4);
	assert_int_equal(slot(f, 1), LIST + K4);
	assert_int_equal(slot(f, 2), DATA + 2 * K4);
	assert_int_equal(slot(f, 3), DATA + 3 * K4);
	assert_untouched_from(f, 4);
	/* Exactly two entries fit without a chain. */
	assert_int_equal(vfn_prp_list_slots(DATA, 3 * K4, K4, list), 2);
	fixture_free(f);
}

static void test_list_too_small(void **state)
{
	struct fixture *f = fixture_new(513, LIST); /* 514 needed */

	(void)state;
	assert_int_equal(build(f, DATA, 514 * K4, K4), -E2BIG);
	assert_int_equal(f->prp1, POISON);
	assert_int_equal(f->prp2, POISON);
	assert_untouched_from(f, 0);

	f->list.entries = 1;
	assert_int_equal(build(f, DATA, 3 * K4, K4), -E2BIG);
	assert_untouched_from(f, 0);
	fixture_free(f);
}

/*
 * Found by fuzz_prp: counting the slots of a huge transfer walked every list
 * page, so 2^62 bytes spun for hours before -E2BIG.  The count is now a
 * closed form: instant, and still exact.
 */
static void test_huge_length_fails_fast(void **state)
{
	struct fixture *f = fixture_new(16, LIST);

	(void)state;
	/* 2^50 pages: 2^50 - 1 entries, plus a chain pointer per 511. */
	assert_int_equal(vfn_prp_list_slots(0, 1ull << 62, K4, LIST), 1128103233470495ull);
	assert_int_equal(build(f, DATA, 1ull << 62, K4), -E2BIG);
	assert_int_equal(f->prp1, POISON);
	assert_untouched_from(f, 0);
	fixture_free(f);
}

static void test_rejects_bad_arguments(void **state)
{
	struct fixture *f = fixture_new(4, LIST + 4); /* not qword aligned */
	uint64_t p1 = POISON, p2 = POISON;

	(void)state;
	assert_int_equal(build(f, DATA, 0, K4), -EINVAL);
	assert_int_equal(build(f, DATA, 3 * K4, K4), -EINVAL);
	assert_untouched_from(f, 0);
	/* Fine when no list is needed. */
	assert_int_equal(build(f, DATA, 2 * K4, K4), 0);
	assert_int_equal(build(f, DATA + 1, 16, K4), -EINVAL);		      /* not dword aligned */
	assert_int_equal(build(f, DATA, 16, 3000), -EINVAL);		      /* not a power of two */
	assert_int_equal(build(f, DATA, 16, 2048), -EINVAL);		      /* below 4 KiB */
	assert_int_equal(build(f, UINT64_MAX - K4 + 1, 2 * K4, K4), -EINVAL); /* wraps */
	assert_int_equal(vfn_prp_build(DATA, 3 * K4, K4, NULL, &p1, &p2), -EINVAL);
	assert_int_equal(p1, POISON);
	assert_int_equal(p2, POISON);
	/* The last byte of the address space is reachable. */
	assert_int_equal(vfn_prp_build(UINT64_MAX - K4 + 1, K4, K4, NULL, &p1, &p2), 0);
	assert_int_equal(p1, UINT64_MAX - K4 + 1);
	assert_int_equal(p2, 0);
	fixture_free(f);
}

static void test_64k_pages(void **state)
{
	size_t n = K64 / 8; /* 8192 entries per list page */
	struct fixture *f = fixture_new(n + 4, LIST);

	(void)state;
	assert_int_equal(build(f, DATA, 1, K64), 0);
	assert_int_equal(f->prp2, 0);
	assert_int_equal(build(f, DATA, K64, K64), 0);
	assert_int_equal(f->prp2, 0);
	assert_int_equal(build(f, DATA + 0x8000, K64, K64), 0);
	assert_int_equal(f->prp2, DATA + K64);
	assert_int_equal(build(f, DATA, 2 * K64, K64), 0);
	assert_int_equal(f->prp2, DATA + K64);
	assert_untouched_from(f, 0);

	assert_int_equal(build(f, DATA, 2 * K64 + 1, K64), 0);
	assert_int_equal(f->prp2, LIST);
	assert_int_equal(slot(f, 0), DATA + K64);
	assert_int_equal(slot(f, 1), DATA + 2 * K64);
	assert_untouched_from(f, 2);

	/* 8193 data entries: 8191, chain, then 2. */
	assert_int_equal(vfn_prp_list_slots(DATA, (n + 2) * K64, K64, LIST), n + 2);
	assert_int_equal(build(f, DATA, (n + 2) * K64, K64), 0);
	assert_int_equal(slot(f, n - 2), DATA + (n - 1) * K64);
	assert_int_equal(slot(f, n - 1), LIST + K64);
	assert_int_equal(slot(f, n), DATA + n * K64);
	assert_int_equal(slot(f, n + 1), DATA + (n + 1) * K64);
	assert_untouched_from(f, n + 2);

	/* A 4 KiB-aligned list is mid-page for 64 KiB pages: it chains at the 64 KiB boundary. */
	assert_int_equal(vfn_prp_list_slots(DATA, 4 * K64, K64, LIST + K64 - 16), 4);
	fixture_free(f);
}

static void test_sgl_single_data_block(void **state)
{
	struct vfn_sgl_chunk c = { .iova = 0x123450, .len = 0x2345 };
	struct vfn_nvme_sgl_desc d;

	(void)state;
	memset(&d, 0xff, sizeof(d));
	assert_int_equal(vfn_sgl_build(&d, &c, 1, NULL), 0);
	assert_int_equal(vfn_le64_to_cpu(d.addr), 0x123450);
	assert_int_equal(vfn_le32_to_cpu(d.length), 0x2345);
	assert_int_equal(d.type, VFN_NVME_SGL_TYPE_DATA_BLOCK << 4);
	assert_int_equal(d.rsvd[0] | d.rsvd[1] | d.rsvd[2], 0);
}

static void test_sgl_last_segment(void **state)
{
	struct vfn_sgl_chunk c[3] = { { 0x10000, 512 }, { 0x30000, 4096 }, { 0x50004, 100 } };
	struct vfn_nvme_sgl_desc descs[4], d;
	struct vfn_sgl_segment seg = { .descs = descs, .iova = 0x900010, .entries = 4 };

	(void)state;
	memset(descs, 0xff, sizeof(descs));
	assert_int_equal(vfn_sgl_build(&d, c, 3, &seg), 0);
	assert_int_equal(d.type, VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4);
	assert_int_equal(vfn_le64_to_cpu(d.addr), 0x900010);
	assert_int_equal(vfn_le32_to_cpu(d.length), 3 * 16);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(descs[i].type, VFN_NVME_SGL_TYPE_DATA_BLOCK << 4);
		assert_int_equal(vfn_le64_to_cpu(descs[i].addr), c[i].iova);
		assert_int_equal(vfn_le32_to_cpu(descs[i].length), c[i].len);
	}
	assert_int_equal(descs[3].type, 0xff); /* untouched */
}

static void test_sgl_rejects_bad_arguments(void **state)
{
	struct vfn_sgl_chunk c[3] = { { 0x10000, 512 }, { 0x30000, 0 }, { 0x50000, 8 } };
	struct vfn_nvme_sgl_desc descs[2], d;
	struct vfn_sgl_segment seg = { .descs = descs, .iova = 0x900000, .entries = 2 };

	(void)state;
	memset(&d, 0xab, sizeof(d));
	assert_int_equal(vfn_sgl_build(&d, c, 0, &seg), -EINVAL);
	assert_int_equal(vfn_sgl_build(&d, &c[1], 1, NULL), -EINVAL); /* zero length */
	assert_int_equal(vfn_sgl_build(&d, c, 2, &seg), -EINVAL);     /* zero length */
	c[1].len = 16;
	assert_int_equal(vfn_sgl_build(&d, c, 2, NULL), -EINVAL); /* no segment */
	assert_int_equal(vfn_sgl_build(&d, c, 3, &seg), -E2BIG);
	seg.iova = 0x900008;
	assert_int_equal(vfn_sgl_build(&d, c, 2, &seg), -EINVAL); /* unaligned */
	assert_int_equal(d.type, 0xab);				  /* nothing written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_byte),
		cmocka_unit_test(test_exactly_one_page),
		cmocka_unit_test(test_one_page_from_offset_crosses),
		cmocka_unit_test(test_two_pages),
		cmocka_unit_test(test_two_pages_plus_one_byte_needs_list),
		cmocka_unit_test(test_offset_ending_on_page_boundary),
		cmocka_unit_test(test_list_exactly_one_page),
		cmocka_unit_test(test_list_chains_to_second_page),
		cmocka_unit_test(test_list_chains_twice),
		cmocka_unit_test(test_list_starting_mid_page_chains_early),
		cmocka_unit_test(test_list_too_small),
		cmocka_unit_test(test_huge_length_fails_fast),
		cmocka_unit_test(test_rejects_bad_arguments),
		cmocka_unit_test(test_64k_pages),
		cmocka_unit_test(test_sgl_single_data_block),
		cmocka_unit_test(test_sgl_last_segment),
		cmocka_unit_test(test_sgl_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
