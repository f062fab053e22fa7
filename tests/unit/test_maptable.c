/* SPDX-License-Identifier: MIT */
/*
 * Map table (iommu/maptable.c), including lookups racing a writer thread,
 * and the address-space layer (iommu/iommu.c) over a fake kernel backend.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iommu/iommu-priv.h"
#include "iommu/maptable.h"

static void expect_entry(const struct vfn_maptable *t, uint64_t vaddr, uint64_t start, uint64_t len, uint64_t iova)
{
	struct vfn_map_entry e;

	assert_int_equal(vfn_maptable_lookup(t, vaddr, &e), 0);
	assert_int_equal(e.vaddr, start);
	assert_int_equal(e.len, len);
	assert_int_equal(e.iova, iova);
}

static void test_lookup_edges(void **state)
{
	struct vfn_maptable t;
	struct vfn_map_entry e;

	(void)state;
	vfn_maptable_init(&t);
	assert_int_equal(vfn_maptable_lookup(&t, 0x10000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_insert(&t, 0x10000, 0x3000, 0x5000), 0);
	assert_int_equal(vfn_maptable_insert(&t, 0x20000, 0x1000, 0x9000), 0);
	expect_entry(&t, 0x10000, 0x10000, 0x3000, 0x5000);		 /* start */
	expect_entry(&t, 0x11234, 0x10000, 0x3000, 0x5000);		 /* middle */
	expect_entry(&t, 0x12fff, 0x10000, 0x3000, 0x5000);		 /* last byte */
	assert_int_equal(vfn_maptable_lookup(&t, 0x13000, &e), -ENOENT); /* one past */
	assert_int_equal(vfn_maptable_lookup(&t, 0xffff, &e), -ENOENT);
	assert_int_equal(vfn_maptable_lookup(&t, 0, &e), -ENOENT);
	expect_entry(&t, 0x20fff, 0x20000, 0x1000, 0x9000);
	assert_int_equal(vfn_maptable_lookup(&t, 0x21000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_lookup(&t, UINT64_MAX, &e), -ENOENT);
	vfn_maptable_destroy(&t);
}

static void test_insert_rejects(void **state)
{
	struct vfn_maptable t;

	(void)state;
	vfn_maptable_init(&t);
	assert_int_equal(vfn_maptable_insert(&t, 0x10000, 0x3000, 0x5000), 0);
	assert_int_equal(vfn_maptable_insert(&t, 0x12000, 0x1000, 0x90000), -EEXIST);
	assert_int_equal(vfn_maptable_insert(&t, 0xf000, 0x2000, 0x90000), -EEXIST);
	assert_int_equal(vfn_maptable_insert(&t, 0x0, 0x100000, 0x90000), -EEXIST);
	assert_int_equal(vfn_maptable_insert(&t, 0x40000, 0x1000, 0x7000), -EEXIST);
	assert_int_equal(vfn_maptable_insert(&t, 0x40000, 0x2000, 0x4000), -EEXIST);
	assert_int_equal(vfn_maptable_insert(&t, 0x40000, 0, 0x90000), -EINVAL);
	assert_int_equal(vfn_maptable_insert(&t, UINT64_MAX - 0xfff, 0x2000, 0x90000), -EINVAL);
	assert_int_equal(vfn_maptable_insert(&t, 0x40000, 0x2000, UINT64_MAX), -EINVAL);
	/* Touching ranges are fine. */
	assert_int_equal(vfn_maptable_insert(&t, 0x13000, 0x1000, 0x8000), 0);
	assert_int_equal(vfn_maptable_insert(&t, 0xf000, 0x1000, 0x4000), 0);
	assert_true(vfn_maptable_overlaps(&t, 0x12000, 0x1000));
	assert_false(vfn_maptable_overlaps(&t, 0x14000, 0x1000));
	assert_false(vfn_maptable_overlaps(&t, 0xe000, 0x1000));
	vfn_maptable_destroy(&t);
}

static void test_remove(void **state)
{
	struct vfn_maptable t;
	struct vfn_map_entry e;

	(void)state;
	vfn_maptable_init(&t);
	assert_int_equal(vfn_maptable_insert(&t, 0x10000, 0x3000, 0x5000), 0);
	assert_int_equal(vfn_maptable_insert(&t, 0x20000, 0x1000, 0x1000), 0);
	assert_int_equal(vfn_maptable_remove(&t, 0x11000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_remove(&t, 0x30000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_remove(&t, 0x10000, &e), 0);
	assert_int_equal(e.vaddr, 0x10000);
	assert_int_equal(e.len, 0x3000);
	assert_int_equal(e.iova, 0x5000);
	assert_int_equal(vfn_maptable_lookup(&t, 0x10000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0x5000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_remove(&t, 0x10000, NULL), -ENOENT);
	expect_entry(&t, 0x20000, 0x20000, 0x1000, 0x1000);
	assert_int_equal(vfn_maptable_first(&t, &e), 0);
	assert_int_equal(e.vaddr, 0x20000);
	assert_int_equal(vfn_maptable_remove(&t, 0x20000, NULL), 0);
	assert_int_equal(vfn_maptable_first(&t, &e), -ENOENT);
	/* The freed ranges can be recorded again. */
	assert_int_equal(vfn_maptable_insert(&t, 0x10000, 0x1000, 0x5000), 0);
	vfn_maptable_destroy(&t);
}

static void test_reverse_lookup(void **state)
{
	struct vfn_maptable t;
	struct vfn_map_entry e;

	(void)state;
	vfn_maptable_init(&t);
	/* IOVA order differs from vaddr order. */
	assert_int_equal(vfn_maptable_insert(&t, 0x10000, 0x2000, 0x80000), 0);
	assert_int_equal(vfn_maptable_insert(&t, 0x30000, 0x1000, 0x1000), 0);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0x81fff, &e), 0);
	assert_int_equal(e.vaddr, 0x10000);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0x1000, &e), 0);
	assert_int_equal(e.vaddr, 0x30000);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0x2000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0x82000, &e), -ENOENT);
	assert_int_equal(vfn_maptable_lookup_iova(&t, 0, &e), -ENOENT);
	vfn_maptable_destroy(&t);
}

/* 1000 entries inserted out of order: far past the initial capacity. */
static void test_growth(void **state)
{
	const uint64_t n = 1000;
	struct vfn_maptable t;
	struct vfn_map_entry e;

	(void)state;
	vfn_maptable_init(&t);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = (k * 617) % n; /* 617 is prime to 1000 */

		/* vaddr ascending with i, iova descending. */
		assert_int_equal(vfn_maptable_insert(&t, 0x100000 + i * 0x2000, 0x1000, 0x10000000 - i * 0x1000), 0);
	}
	assert_non_null(t.retired);
	for (uint64_t i = 0; i < n; i++) {
		expect_entry(&t, 0x100000 + i * 0x2000 + 0x800, 0x100000 + i * 0x2000, 0x1000, 0x10000000 - i * 0x1000);
		assert_int_equal(vfn_maptable_lookup(&t, 0x100000 + i * 0x2000 + 0x1000, &e), -ENOENT);
		assert_int_equal(vfn_maptable_lookup_iova(&t, 0x10000000 - i * 0x1000 + 5, &e), 0);
		assert_int_equal(e.vaddr, 0x100000 + i * 0x2000);
	}
	for (uint64_t i = 0; i < n; i += 2)
		assert_int_equal(vfn_maptable_remove(&t, 0x100000 + i * 0x2000, NULL), 0);
	for (uint64_t i = 0; i < n; i++) {
		int want = (i % 2) ? 0 : -ENOENT;

		assert_int_equal(vfn_maptable_lookup(&t, 0x100000 + i * 0x2000, &e), want);
		assert_int_equal(vfn_maptable_lookup_iova(&t, 0x10000000 - i * 0x1000, &e), want);
	}
	vfn_maptable_destroy(&t);
}

/* ---- a writer churning while a reader translates ---- */

#define FIXED_VADDR 0x7000000ull
#define FIXED_LEN 0x4000ull
#define FIXED_IOVA 0x40000000ull
#define CHURN_ROUNDS 10000
#define CHURN_ENTRIES 100

struct race {
	struct vfn_maptable t;
	int done;
	int errors;
	long lookups;
};

static void *churn(void *arg)
{
	struct race *r = arg;

	for (int round = 0; round < CHURN_ROUNDS; round++) {
		/* Entries on both sides of the fixed one, in both spaces. */
		for (uint64_t i = 0; i < CHURN_ENTRIES; i++) {
			uint64_t va = (i & 1 ? 0x1000000 : 0x9000000) + (i + round % 7) * 0x2000;

			if (vfn_maptable_insert(&r->t, va, 0x1000, 0x1000 + i * 0x10000))
				__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		}
		for (uint64_t i = 0; i < CHURN_ENTRIES; i++) {
			uint64_t va = (i & 1 ? 0x1000000 : 0x9000000) + (i + round % 7) * 0x2000;

			if (vfn_maptable_remove(&r->t, va, NULL))
				__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		}
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void check_fixed(struct race *r, uint64_t off)
{
	struct vfn_map_entry e;

	if (vfn_maptable_lookup(&r->t, FIXED_VADDR + off, &e) || e.vaddr != FIXED_VADDR || e.iova != FIXED_IOVA ||
	    e.len != FIXED_LEN)
		__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
	if (vfn_maptable_lookup_iova(&r->t, FIXED_IOVA + off, &e) || e.vaddr != FIXED_VADDR)
		__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
}

static void test_concurrent_lookup(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	pthread_t writer;

	(void)state;
	assert_non_null(r);
	vfn_maptable_init(&r->t);
	assert_int_equal(vfn_maptable_insert(&r->t, FIXED_VADDR, FIXED_LEN, FIXED_IOVA), 0);
	assert_int_equal(pthread_create(&writer, NULL, churn, r), 0);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		check_fixed(r, (uint64_t)(r->lookups % (long)FIXED_LEN));
		r->lookups++;
	}
	assert_int_equal(pthread_join(writer, NULL), 0);
	check_fixed(r, FIXED_LEN - 1);
	assert_int_equal(r->errors, 0);
	assert_true(r->lookups > 0);
	assert_int_equal(r->t.count, 1);
	vfn_maptable_destroy(&r->t);
	free(r);
}

/* ---- struct vfn_iommu over a fake backend ---- */

#define FAKE_MAX_CALLS 64

struct fake_call {
	uint64_t vaddr;
	uint64_t iova;
	size_t len;
};

static struct fake {
	int maps, unmaps, attaches, detaches, destroys;
	int fail_map; /* next map returns this, once */
	struct fake_call map[FAKE_MAX_CALLS];
	struct fake_call unmap[FAKE_MAX_CALLS];
} fake;

static const struct vfn_iova_range fake_ranges[] = {
	{ 0, 0xfedfffff },
	{ 0xfef00000, (1ull << 39) - 1 },
};

static int fake_attach(struct vfn_iommu *iommu, int group_fd)
{
	fake.attaches++;
	if (iommu->ngroups)
		return 0;
	return vfn_iommu_set_ranges(iommu, fake_ranges, 2);
}

static void fake_detach(struct vfn_iommu *iommu, int group_fd)
{
	fake.detaches++;
}

static int fake_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	int ret = fake.fail_map;
	struct fake_call *c = &fake.map[fake.maps++ % FAKE_MAX_CALLS];

	c->vaddr = (uintptr_t)vaddr;
	c->len = len;
	c->iova = iova;
	fake.fail_map = 0;
	return ret;
}

static int fake_unmap(struct vfn_iommu *iommu, uint64_t iova, size_t len)
{
	struct fake_call *c = &fake.unmap[fake.unmaps++ % FAKE_MAX_CALLS];

	c->iova = iova;
	c->len = len;
	return 0;
}

static void fake_destroy(struct vfn_iommu *iommu)
{
	fake.destroys++;
}

static const struct vfn_iommu_backend_ops fake_ops = {
	.name = "fake",
	.attach_group = fake_attach,
	.detach_group = fake_detach,
	.map = fake_map,
	.unmap = fake_unmap,
	.destroy = fake_destroy,
};

/* A new address space on the recording backend, its record cleared; no ranges yet. */
static struct vfn_iommu *fake_alloc(void)
{
	struct vfn_iommu *iommu;

	memset(&fake, 0, sizeof(fake));
	assert_int_equal(vfn_iommu_alloc(&fake_ops, -1, &iommu), 0);
	return iommu;
}

static int fake_setup(void **state)
{
	struct vfn_iommu *iommu;

	memset(&fake, 0, sizeof(fake));
	if (vfn_iommu_alloc(&fake_ops, -1, &iommu))
		return -1;
	if (vfn_iommu_set_ranges(iommu, fake_ranges, 2)) {
		vfn_iommu_put(iommu);
		return -1;
	}
	*state = iommu;
	return 0;
}

static int fake_teardown(void **state)
{
	vfn_iommu_put(*state);
	return fake.destroys == 1 ? 0 : -1;
}

static void test_iommu_not_ready(void **state)
{
	struct vfn_iommu *iommu;
	struct vfn_iova_range r[2];
	uint64_t iova;
	void *buf;

	(void)state;
	iommu = fake_alloc();
	assert_int_equal(vfn_mem_alloc(4096, &buf), 4096);
	assert_int_equal(vfn_iommu_map(iommu, buf, 4096, &iova), -EINVAL);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 2), 0);
	assert_int_equal(fake.maps, 0);

	/* The first group brings the ranges; the last one takes them away. */
	assert_int_equal(vfn_iommu_attach_group(iommu, 7), 0);
	assert_int_equal(vfn_iommu_attach_group(iommu, 8), 0);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 2), 2);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(vfn_iommu_map(iommu, buf, 4096, &iova), 0);
	vfn_iommu_detach_group(iommu, 8);
	assert_int_equal(fake.unmaps, 0);
	vfn_iommu_detach_group(iommu, 7);
	assert_int_equal(fake.detaches, 2);
	assert_int_equal(fake.unmaps, 1); /* unmapped before the last detach */
	assert_int_equal(fake.unmap[0].iova, iova);
	assert_int_equal(vfn_iommu_translate(iommu, buf, &iova, NULL), -ENOENT);
	assert_int_equal(vfn_iommu_map(iommu, buf, 4096, &iova), -EINVAL);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 2), 0);

	assert_int_equal(vfn_iommu_attach_group(iommu, 7), 0);
	assert_int_equal(vfn_iommu_map(iommu, buf, 4096, &iova), 0);
	vfn_iommu_detach_group(iommu, 7);
	vfn_iommu_put(iommu);
	assert_int_equal(fake.destroys, 1);
	vfn_mem_free(buf, 4096);
}

static void test_iommu_dma_alloc(void **state)
{
	struct vfn_iommu *iommu = *state;
	uint64_t iova, iova2;
	size_t len;
	void *va, *back;
	ssize_t n;

	n = vfn_dma_alloc(iommu, 5000, &va, &iova);
	assert_int_equal(n, 8192);
	assert_non_null(va);
	assert_int_not_equal(iova, 0);
	assert_int_equal(iova % 4096, 0);
	assert_int_equal(((uint8_t *)va)[8191], 0);
	((uint8_t *)va)[8191] = 0xa5;
	assert_int_equal(fake.maps, 1);
	assert_int_equal(fake.map[0].vaddr, (uintptr_t)va);
	assert_int_equal(fake.map[0].len, 8192);
	assert_int_equal(fake.map[0].iova, iova);

	assert_int_equal(vfn_iommu_translate(iommu, (uint8_t *)va + 100, &iova2, &len), 0);
	assert_int_equal(iova2, iova + 100);
	assert_int_equal(len, 8192 - 100);
	assert_int_equal(vfn_iommu_translate(iommu, (uint8_t *)va + 8192, &iova2, &len), -ENOENT);
	assert_int_equal(vfn_iommu_iova_to_vaddr(iommu, iova + 4097, &back, &len), 0);
	assert_ptr_equal(back, (uint8_t *)va + 4097);
	assert_int_equal(len, 8192 - 4097);
	assert_int_equal(vfn_iommu_iova_to_vaddr(iommu, iova + 8192, &back, &len), -ENOENT);

	vfn_dma_free(iommu, va, (size_t)n);
	assert_int_equal(fake.unmaps, 1);
	assert_int_equal(fake.unmap[0].iova, iova);
	assert_int_equal(fake.unmap[0].len, 8192);
	assert_int_equal(vfn_iommu_translate(iommu, va, &iova2, NULL), -ENOENT);
	vfn_dma_free(iommu, NULL, 4096);
	assert_int_equal(fake.unmaps, 1);
}

/* Overlapping and unaligned maps never reach the kernel. */
static void test_iommu_map_rejects(void **state)
{
	struct vfn_iommu *iommu = *state;
	uint64_t iova, iova2 = 42;
	void *va;

	assert_int_equal(vfn_dma_alloc(iommu, 8192, &va, &iova), 8192);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)va + 4096, 4096, &iova2), -EEXIST);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)va - 4096, 8192, &iova2), -EEXIST);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)va + 1, 4096, &iova2), -EINVAL);
	assert_int_equal(vfn_iommu_map(iommu, va, 100, &iova2), -EINVAL);
	assert_int_equal(vfn_iommu_map(iommu, va, 0, &iova2), -EINVAL);
	assert_int_equal(vfn_iommu_map(iommu, NULL, 4096, &iova2), -EINVAL);
	assert_int_equal(iova2, 42); /* untouched on failure */
	assert_int_equal(fake.maps, 1);
	vfn_dma_free(iommu, va, 8192);
}

static void test_iommu_map_failure(void **state)
{
	struct vfn_iommu *iommu = *state;
	uint64_t iova, avail = vfn_iova_avail(&iommu->iova);
	void *buf, *va;

	assert_int_equal(vfn_mem_alloc(16384, &buf), 16384);
	fake.fail_map = -EIO;
	assert_int_equal(vfn_iommu_map(iommu, buf, 16384, &iova), -EIO);
	assert_int_equal(fake.maps, 1);
	assert_int_equal(vfn_iova_avail(&iommu->iova), avail); /* IOVA given back */
	assert_int_equal(vfn_iommu_translate(iommu, buf, &iova, NULL), -ENOENT);

	/* The same IOVA is handed out again. */
	assert_int_equal(vfn_iommu_map(iommu, buf, 16384, &iova), 0);
	assert_int_equal(iova, fake.map[0].iova);
	assert_int_equal(fake.map[1].iova, iova);

	fake.fail_map = -ENOSPC;
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &va, &iova), -ENOSPC);
	assert_int_equal(vfn_iova_avail(&iommu->iova), avail - 16384);
	assert_int_equal(vfn_iommu_unmap(iommu, buf), 0);
	assert_int_equal(vfn_iova_avail(&iommu->iova), avail);
	vfn_mem_free(buf, 16384);
}

static void test_iommu_map_at_and_unmap(void **state)
{
	struct vfn_iommu *iommu = *state;
	uint64_t iova;
	void *buf;

	assert_int_equal(vfn_mem_alloc(3 * 4096, &buf), 3 * 4096);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 0xfee00000), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 0), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 1ull << 39), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 0x100000), 0);
	assert_int_equal(vfn_iommu_map_at(iommu, (uint8_t *)buf + 4096, 4096, 0x100000), -EEXIST);
	assert_int_equal(vfn_iommu_map_at(iommu, (uint8_t *)buf + 4096, 4096, 0x100001), -EINVAL);
	assert_int_equal(fake.maps, 1);
	assert_int_equal(vfn_iommu_translate(iommu, (uint8_t *)buf + 4095, &iova, NULL), 0);
	assert_int_equal(iova, 0x100fff);

	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)buf + 4096, 2 * 4096, &iova), 0);
	assert_int_equal(vfn_iommu_unmap(iommu, (uint8_t *)buf + 2 * 4096), -ENOENT);
	assert_int_equal(vfn_iommu_unmap(iommu, (uint8_t *)buf + 4096), 0);
	assert_int_equal(vfn_iommu_unmap(iommu, (uint8_t *)buf + 4096), -ENOENT);
	assert_int_equal(fake.unmaps, 1);
	assert_int_equal(fake.unmap[0].iova, iova);
	assert_int_equal(fake.unmap[0].len, 2 * 4096);
	/* Still mapped: the first page. */
	assert_int_equal(vfn_iommu_translate(iommu, buf, &iova, NULL), 0);
	assert_int_equal(iova, 0x100000);
	assert_int_equal(vfn_iommu_unmap(iommu, buf), 0);
	vfn_mem_free(buf, 3 * 4096);
}

static void test_iommu_dma_avail(void **state)
{
	struct vfn_iommu *iommu;
	uint64_t iova[3];
	void *buf;

	(void)state;
	iommu = fake_alloc();
	iommu->dma_avail_known = true;
	iommu->dma_avail = 2;
	assert_int_equal(vfn_iommu_set_ranges(iommu, fake_ranges, 2), 0);
	assert_int_equal(vfn_iommu_set_ranges(iommu, fake_ranges, 2), -EBUSY);
	assert_int_equal(vfn_mem_alloc(3 * 4096, &buf), 3 * 4096);
	assert_int_equal(vfn_iommu_map(iommu, buf, 4096, &iova[0]), 0);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)buf + 4096, 4096, &iova[1]), 0);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)buf + 8192, 4096, &iova[2]), -ENOSPC);
	assert_int_equal(fake.maps, 2);
	assert_int_equal(vfn_iommu_unmap(iommu, buf), 0);
	assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)buf + 8192, 4096, &iova[2]), 0);
	assert_int_equal(iommu->dma_avail, 0);
	vfn_iommu_put(iommu);
	vfn_mem_free(buf, 3 * 4096);
}

static void test_iommu_put_unmaps_leftovers(void **state)
{
	struct vfn_iommu *iommu;
	uint64_t iova[3];
	void *buf;

	(void)state;
	iommu = fake_alloc();
	assert_int_equal(vfn_iommu_set_ranges(iommu, fake_ranges, 2), 0);
	assert_int_equal(vfn_mem_alloc(3 * 4096, &buf), 3 * 4096);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_iommu_map(iommu, (uint8_t *)buf + i * 4096, 4096, &iova[i]), 0);

	vfn_iommu_get(iommu);
	vfn_iommu_put(iommu);
	assert_int_equal(fake.unmaps, 0);
	assert_int_equal(fake.destroys, 0);
	vfn_iommu_put(iommu);
	assert_int_equal(fake.unmaps, 3);
	assert_int_equal(fake.destroys, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fake.unmap[i].iova, iova[i]);
		assert_int_equal(fake.unmap[i].len, 4096);
	}
	vfn_iommu_put(NULL);
	vfn_mem_free(buf, 3 * 4096);
}

static void test_iommu_set_ranges_rejects(void **state)
{
	const struct vfn_iova_range page0 = { 0, 4095 };
	struct vfn_iommu *iommu;

	(void)state;
	iommu = fake_alloc();
	assert_int_equal(vfn_iommu_set_ranges(iommu, fake_ranges, 0), -EINVAL);
	assert_int_equal(vfn_iommu_set_ranges(iommu, fake_ranges, VFN_IOMMU_MAX_RANGES + 1), -EINVAL);
	assert_int_equal(vfn_iommu_set_ranges(iommu, &page0, 1), -EINVAL);
	assert_false(iommu->ready);
	vfn_iommu_put(iommu);
}

/* Without /dev/vfio/vfio and /dev/iommu (this build host), creation fails cleanly. */
static void test_iommu_create_without_vfio(void **state)
{
	struct vfn_iommu *iommu = NULL;

	(void)state;
	if (access("/dev/vfio/vfio", F_OK) == 0 || access("/dev/iommu", F_OK) == 0) {
		skip();
		return;
	}
	assert_int_equal(vfn_iommu_create(&iommu), -ENOENT);
	assert_null(iommu);
	/* Not remembered: each call tries again and fails the same way. */
	assert_int_equal(vfn_iommu_get_default(&iommu), -ENOENT);
	assert_int_equal(vfn_iommu_get_default(&iommu), -ENOENT);
	assert_null(iommu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_edges),
		cmocka_unit_test(test_insert_rejects),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_reverse_lookup),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_concurrent_lookup),
		cmocka_unit_test(test_iommu_not_ready),
		cmocka_unit_test_setup_teardown(test_iommu_dma_alloc, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_iommu_map_rejects, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_iommu_map_failure, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_iommu_map_at_and_unmap, fake_setup, fake_teardown),
		cmocka_unit_test(test_iommu_dma_avail),
		cmocka_unit_test(test_iommu_put_unmaps_leftovers),
		cmocka_unit_test(test_iommu_set_ranges_rejects),
		cmocka_unit_test(test_iommu_create_without_vfio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
