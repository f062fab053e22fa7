/* SPDX-License-Identifier: MIT */
/*
 * The iommufd backend's own logic against a fake kernel (the
 * vfn_iommufd_ioctl hook): what it asks the kernel (IOAS ids, FIXED_IOVA
 * flags, the IOVAs it chose), how it reads the usable ranges (first attach
 * sets them, later ones narrow them, EMSGSIZE, alignment), how it fails
 * (bind vs attach, pinning, short unmap, exhausted ranges) and the backend
 * choice (vfn_iommu_pick_backend()).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iommu/iommu-priv.h"
#include "iommu/iommufd-uapi.h"

#define FAKE_IOAS 7u
#define DEV_A 100 /* device fds: never real, the fake answers for them */
#define DEV_B 101
#define MAX_MAPS 16

/* ---- the fake kernel ---- */

static struct {
	int iommufd;
	struct iommu_iova_range ranges[VFN_IOMMU_MAX_RANGES + 2];
	uint32_t nranges;
	uint64_t alignment;
	int bind_err, attach_err, map_err; /* errno to fail with, 0: succeed */
	bool short_unmap;
	int bound[2], attached[2], detached[2]; /* per device fd */
	struct iommu_ioas_map maps[MAX_MAPS];
	int nmaps;
	int unmaps, destroys;
} k;

static int dev_index(int fd)
{
	assert_true(fd == DEV_A || fd == DEV_B);
	return fd - DEV_A;
}

static int fail_with(int err)
{
	errno = err;
	return -1;
}

static int fake_ranges(struct iommu_ioas_iova_ranges *q)
{
	assert_int_equal(q->size, sizeof(*q));
	assert_int_equal(q->ioas_id, FAKE_IOAS);
	if (q->num_iovas < k.nranges) {
		q->num_iovas = k.nranges;
		return fail_with(EMSGSIZE);
	}
	memcpy((void *)(uintptr_t)q->allowed_iovas, k.ranges, k.nranges * sizeof(k.ranges[0]));
	q->num_iovas = k.nranges;
	q->out_iova_alignment = k.alignment;
	return 0;
}

static int fake_map(struct iommu_ioas_map *m)
{
	assert_int_equal(m->size, sizeof(*m));
	assert_int_equal(m->ioas_id, FAKE_IOAS);
	if (k.map_err)
		return fail_with(k.map_err);
	assert_true(k.nmaps < MAX_MAPS);
	k.maps[k.nmaps++] = *m;
	return 0;
}

static int fake_unmap(struct iommu_ioas_unmap *u)
{
	assert_int_equal(u->size, sizeof(*u));
	assert_int_equal(u->ioas_id, FAKE_IOAS);
	for (int i = 0; i < k.nmaps; i++) {
		if (k.maps[i].iova != u->iova)
			continue;
		assert_int_equal(k.maps[i].length, u->length);
		k.maps[i] = k.maps[--k.nmaps];
		k.unmaps++;
		if (k.short_unmap)
			u->length /= 2;
		return 0;
	}
	return fail_with(ENOENT);
}

static int fake_device_ioctl(int fd, unsigned long request, void *arg)
{
	int i = dev_index(fd);

	if (request == VFIO_DEVICE_BIND_IOMMUFD) {
		struct vfio_device_bind_iommufd *b = arg;

		assert_int_equal(b->argsz, sizeof(*b));
		assert_int_equal(b->iommufd, k.iommufd);
		if (k.bind_err)
			return fail_with(k.bind_err);
		k.bound[i]++;
		b->out_devid = 40 + (uint32_t)i;
		return 0;
	}
	if (request == VFIO_DEVICE_ATTACH_IOMMUFD_PT) {
		struct vfio_device_attach_iommufd_pt *a = arg;

		assert_int_equal(a->argsz, sizeof(*a));
		assert_int_equal(a->pt_id, FAKE_IOAS);
		assert_int_equal(k.bound[i], 1);
		if (k.attach_err)
			return fail_with(k.attach_err);
		k.attached[i]++;
		return 0;
	}
	if (request == VFIO_DEVICE_DETACH_IOMMUFD_PT) {
		k.detached[i]++;
		return 0;
	}
	fail_msg("unexpected device ioctl %#lx", request);
	return -1;
}

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (fd != k.iommufd)
		return fake_device_ioctl(fd, request, arg);
	if (request == IOMMU_IOAS_ALLOC) {
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = FAKE_IOAS;
		return 0;
	}
	if (request == IOMMU_IOAS_IOVA_RANGES)
		return fake_ranges(arg);
	if (request == IOMMU_IOAS_MAP)
		return fake_map(arg);
	if (request == IOMMU_IOAS_UNMAP)
		return fake_unmap(arg);
	if (request == IOMMU_DESTROY) {
		assert_int_equal(((struct iommu_destroy *)arg)->id, FAKE_IOAS);
		k.destroys++;
		return 0;
	}
	fail_msg("unexpected iommufd ioctl %#lx", request);
	return -1;
}

static void set_ranges(int n, const struct iommu_iova_range *r)
{
	memcpy(k.ranges, r, (size_t)n * sizeof(*r));
	k.nranges = (uint32_t)n;
}

/* The x86 picture: everything below 2^48 but the MSI window. */
static const struct iommu_iova_range x86_ranges[] = {
	{ 0, 0xfedfffff },
	{ 0xfef00000, (1ull << 48) - 1 },
};

static int setup(void **state)
{
	(void)state;
	memset(&k, 0, sizeof(k));
	k.iommufd = open("/dev/null", O_RDWR | O_CLOEXEC); /* owned, then closed, by the address space */
	assert_true(k.iommufd >= 0);
	k.alignment = 4096;
	set_ranges(2, x86_ranges);
	vfn_iommufd_ioctl = fake_ioctl;
	return 0;
}

static struct vfn_iommu *create(void)
{
	struct vfn_iommu *iommu;

	assert_int_equal(vfn_iommufd_create_on(k.iommufd, &iommu), 0);
	return iommu;
}

static void attach(struct vfn_iommu *iommu, int fd, int err, bool refused_expected)
{
	bool refused = !refused_expected;

	assert_int_equal(vfn_iommu_attach_device(iommu, fd, &refused), err);
	assert_int_equal(refused, refused_expected);
}

/* ---- tests ---- */

static void test_create_names_the_ioas(void **state)
{
	struct vfn_iommu *iommu = create();
	struct vfn_iova_range r[4];

	(void)state;
	assert_int_equal(iommu->ioas_id, FAKE_IOAS);
	assert_int_equal(vfn_iommu_get_backend(iommu), VFN_IOMMU_IOMMUFD);
	assert_string_equal(vfn_iommu_backend_name(iommu), "iommufd");
	/* No device yet: no ranges, no mapping. */
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 0);
	assert_int_equal(vfn_iommu_map(iommu, r, 4096, &r[0].start), -EINVAL);
	vfn_iommu_put(iommu);
	assert_int_equal(k.destroys, 1);
}

static void test_attach_reads_ranges(void **state)
{
	struct vfn_iommu *iommu = create();
	struct vfn_iova_range r[4];

	(void)state;
	attach(iommu, DEV_A, 0, false);
	assert_int_equal(k.bound[0], 1);
	assert_int_equal(k.attached[0], 1);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
}

static void test_map_fixed_iova(void **state)
{
	struct vfn_iommu *iommu = create();
	uint64_t iova, t;
	void *buf;

	(void)state;
	attach(iommu, DEV_A, 0, false);
	assert_int_equal(vfn_dma_alloc(iommu, 8192, &buf, &iova), 8192);
	assert_int_equal(k.nmaps, 1);
	assert_int_equal(k.maps[0].flags,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	assert_int_equal(k.maps[0].iova, iova);
	assert_int_equal(k.maps[0].user_va, (uintptr_t)buf);
	assert_int_equal(k.maps[0].length, 8192);
	assert_int_equal(iova, 4096); /* the lowest page but page 0 */
	assert_int_equal(vfn_iommu_translate(iommu, (char *)buf + 4100, &t, NULL), 0);
	assert_int_equal(t, iova + 4100);
	vfn_dma_free(iommu, buf, 8192);
	assert_int_equal(k.nmaps, 0);
	assert_int_equal(k.unmaps, 1);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
}

/* A second device whose reserved regions cut the IOAS narrows the allocator. */
static void test_second_device_narrows(void **state)
{
	const struct iommu_iova_range narrow[] = { { 0x100000, 0xfedfffff }, { 0xfef00000, 0xffffffff } };
	struct vfn_iommu *iommu = create();
	struct vfn_iova_range r[4];
	void *buf, *other;
	uint64_t iova;

	(void)state;
	attach(iommu, DEV_A, 0, false);
	set_ranges(2, narrow);
	attach(iommu, DEV_B, 0, false);
	assert_int_equal(iommu->ndevices, 2);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 2);
	assert_int_equal(r[0].start, 0x100000);
	assert_int_equal(r[1].last, 0xffffffff);
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf, &iova), 4096);
	assert_int_equal(iova, 0x100000);
	/* The page the first device allowed and the second does not is gone. */
	assert_int_equal(vfn_mem_alloc(4096, &other), 4096);
	assert_int_equal(vfn_iommu_map_at(iommu, other, 4096, 0x1000), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, other, 4096, 0x100000000ull), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, other, 4096, 0xfffff000), 0);
	assert_int_equal(vfn_iommu_unmap(iommu, other), 0);
	vfn_mem_free(other, 4096);
	vfn_dma_free(iommu, buf, 4096);
	/* Both devices gone: everything unmapped, ranges forgotten. */
	vfn_iommu_detach_device(iommu);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 2);
	vfn_iommu_detach_device(iommu);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 0);
	vfn_iommu_put(iommu);
}

/* A later report wider than the space (a device left meanwhile) does not widen it. */
static void test_never_widens(void **state)
{
	const struct iommu_iova_range narrow[] = { { 0x100000, 0xffffffff } };
	struct vfn_iommu *iommu = create();
	struct vfn_iova_range r[4];
	void *buf;

	(void)state;
	set_ranges(1, narrow);
	attach(iommu, DEV_A, 0, false);
	set_ranges(2, x86_ranges);
	attach(iommu, DEV_B, 0, false);
	assert_int_equal(vfn_iommu_get_ranges(iommu, r, 4), 2);
	assert_int_equal(r[0].start, 0x100000);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, 0xffffffff);
	assert_int_equal(vfn_mem_alloc(4096, &buf), 4096);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 0x1000), -ERANGE);
	assert_int_equal(vfn_iommu_map_at(iommu, buf, 4096, 0xfee00000), -ERANGE);
	vfn_mem_free(buf, 4096);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
}

/* A device whose reserved region covers an existing mapping is refused and detached. */
static void test_narrowing_over_a_mapping_is_refused(void **state)
{
	const struct iommu_iova_range narrow[] = { { 0x100000, 0xffffffff } };
	struct vfn_iommu *iommu = create();
	uint64_t iova;
	void *buf;

	(void)state;
	attach(iommu, DEV_A, 0, false);
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf, &iova), 4096);
	assert_int_equal(iova, 0x1000);
	set_ranges(1, narrow);
	attach(iommu, DEV_B, -EEXIST, true);
	assert_int_equal(k.detached[1], 1);
	assert_int_equal(iommu->ndevices, 1);
	/* The first device's space is untouched. */
	assert_int_equal(vfn_iommu_translate(iommu, buf, &iova, NULL), 0);
	assert_int_equal(iova, 0x1000);
	vfn_dma_free(iommu, buf, 4096);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
}

static void test_bind_and_attach_failures(void **state)
{
	struct vfn_iommu *iommu = create();

	(void)state;
	k.bind_err = EBUSY;
	attach(iommu, DEV_A, -EBUSY, false);
	k.bind_err = 0;
	k.attach_err = EINVAL;
	attach(iommu, DEV_B, -EINVAL, true);
	assert_int_equal(iommu->ndevices, 0);
	assert_false(iommu->ready);
	vfn_iommu_put(iommu);
}

static void test_range_report_errors(void **state)
{
	struct iommu_iova_range many[VFN_IOMMU_MAX_RANGES + 1];
	struct vfn_iommu *iommu = create();

	(void)state;
	for (int i = 0; i <= VFN_IOMMU_MAX_RANGES; i++)
		many[i] = (struct iommu_iova_range){ (uint64_t)(i + 1) << 32, ((uint64_t)(i + 1) << 32) + 0xffff };
	/* More ranges than vfn keeps: asked again with room for all, the first ones used. */
	set_ranges(VFN_IOMMU_MAX_RANGES + 1, many);
	attach(iommu, DEV_A, 0, false);
	assert_true(iommu->ready);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
	iommu = create();
	set_ranges(2, x86_ranges);
	k.alignment = 2 * vfn_page_size();
	attach(iommu, DEV_B, -EINVAL, true);
	assert_false(iommu->ready);
	vfn_iommu_put(iommu);
}

/* "IOAS range exhausted": three usable pages, a fourth mapping has no room. */
static void test_ranges_exhausted(void **state)
{
	const struct iommu_iova_range tiny[] = { { 0x1000, 0x3fff } };
	struct vfn_iommu *iommu = create();
	void *buf[4];
	uint64_t iova;

	(void)state;
	set_ranges(1, tiny);
	attach(iommu, DEV_A, 0, false);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf[i], &iova), 4096);
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf[3], &iova), -ENOSPC);
	assert_int_equal(k.nmaps, 3);
	vfn_dma_free(iommu, buf[1], 4096);
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf[1], &iova), 4096);
	assert_int_equal(iova, 0x2000);
	for (int i = 0; i < 3; i++)
		vfn_dma_free(iommu, buf[i], 4096);
	vfn_iommu_detach_device(iommu);
	vfn_iommu_put(iommu);
}

static void test_kernel_map_errors(void **state)
{
	struct vfn_iommu *iommu = create();
	uint64_t iova;
	void *buf;

	(void)state;
	attach(iommu, DEV_A, 0, false);
	k.map_err = ENOMEM; /* could not pin */
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf, &iova), -ENOMEM);
	k.map_err = 0;
	assert_int_equal(vfn_dma_alloc(iommu, 4096, &buf, &iova), 4096);
	assert_int_equal(iova, 0x1000); /* the failed attempt's IOVA was given back */
	k.short_unmap = true;
	assert_int_equal(vfn_iommu_unmap(iommu, buf), -EIO);
	assert_int_equal(vfn_iommu_translate(iommu, buf, &iova, NULL), 0); /* still ours */
	k.short_unmap = false;
	vfn_iommu_detach_device(iommu); /* forgets the half-unmapped one */
	vfn_iommu_put(iommu);
	vfn_mem_free(buf, 4096);
}

static void test_no_groups_on_iommufd(void **state)
{
	struct vfn_iommu *iommu = create();

	(void)state;
	assert_int_equal(vfn_iommu_attach_group(iommu, 3), -EINVAL);
	vfn_iommu_put(iommu);
}

static void test_pick_backend(void **state)
{
	(void)state;
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, NULL, true, true), VFN_IOMMU_IOMMUFD);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, "", true, false), VFN_IOMMU_TYPE1);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, "auto", false, true), VFN_IOMMU_TYPE1);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, "type1", true, true), VFN_IOMMU_TYPE1);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, "iommufd", false, false), VFN_IOMMU_IOMMUFD);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_AUTO, "vfio", true, true), -EINVAL);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_TYPE1, "iommufd", true, true), VFN_IOMMU_TYPE1);
	assert_int_equal(vfn_iommu_pick_backend(VFN_IOMMU_IOMMUFD, "type1", false, false), VFN_IOMMU_IOMMUFD);
	assert_int_equal(vfn_iommu_pick_backend((enum vfn_iommu_backend)9, NULL, true, true), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_create_names_the_ioas, setup),
		cmocka_unit_test_setup(test_attach_reads_ranges, setup),
		cmocka_unit_test_setup(test_map_fixed_iova, setup),
		cmocka_unit_test_setup(test_second_device_narrows, setup),
		cmocka_unit_test_setup(test_never_widens, setup),
		cmocka_unit_test_setup(test_narrowing_over_a_mapping_is_refused, setup),
		cmocka_unit_test_setup(test_bind_and_attach_failures, setup),
		cmocka_unit_test_setup(test_range_report_errors, setup),
		cmocka_unit_test_setup(test_ranges_exhausted, setup),
		cmocka_unit_test_setup(test_kernel_map_errors, setup),
		cmocka_unit_test_setup(test_no_groups_on_iommufd, setup),
		cmocka_unit_test(test_pick_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
