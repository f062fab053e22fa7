/* SPDX-License-Identifier: MIT */
/* The no-op address space backend shared by the unit tests (fake-iommu.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "iommu/iommu-priv.h"

#include "fake-iommu.h"

static int fake_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	(void)iommu, (void)vaddr, (void)len, (void)iova;
	return 0;
}

static int fake_unmap(struct vfn_iommu *iommu, uint64_t iova, size_t len)
{
	(void)iommu, (void)iova, (void)len;
	return 0;
}

static void fake_destroy(struct vfn_iommu *iommu)
{
	(void)iommu;
}

static const struct vfn_iommu_backend_ops fake_ops = {
	.name = "fake",
	.map = fake_map,
	.unmap = fake_unmap,
	.destroy = fake_destroy,
};

void fake_iommu_alloc(struct vfn_iommu **iommu)
{
	struct vfn_iova_range r = { 0x100000, 0xffffffffull };

	assert_int_equal(vfn_iommu_alloc(&fake_ops, -1, iommu), 0);
	assert_int_equal(vfn_iommu_set_ranges(*iommu, &r, 1), 0);
}
