/* SPDX-License-Identifier: MIT */
/*
 * The software backend: an address space with no kernel behind it, for
 * devices that live in this process (the simulated controller).  Mapping
 * only records vaddr <-> IOVA in the map table; the device reaches host
 * memory by translating IOVAs back (vfn_iommu_iova_to_vaddr()).
 */
#include <errno.h>

#include "support/log.h"

#include "iommu-priv.h"

/* The same usable space a kernel without range reports would give. */
#define SOFT_IOVA_LAST ((1ull << 48) - 1)

static int soft_attach_group(struct vfn_iommu *iommu, int group_fd)
{
	log_debug("iommu: a software address space cannot take VFIO group fd %d", group_fd);
	return -EINVAL;
}

static void soft_detach_group(struct vfn_iommu *iommu, int group_fd)
{
}

static int soft_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	return 0;
}

static int soft_unmap(struct vfn_iommu *iommu, uint64_t iova, size_t len)
{
	return 0;
}

static void soft_destroy(struct vfn_iommu *iommu)
{
}

const struct vfn_iommu_backend_ops vfn_iommu_soft_ops = {
	.name = "soft",
	.attach_group = soft_attach_group,
	.detach_group = soft_detach_group,
	.map = soft_map,
	.unmap = soft_unmap,
	.destroy = soft_destroy,
};

int vfn_iommu_create_soft(struct vfn_iommu **out)
{
	const struct vfn_iova_range range = { .start = 0, .last = SOFT_IOVA_LAST };
	struct vfn_iommu *iommu;
	int ret;

	ret = vfn_iommu_alloc(&vfn_iommu_soft_ops, -1, &iommu);
	if (ret)
		return ret;
	pthread_mutex_lock(&iommu->lock);
	ret = vfn_iommu_set_ranges(iommu, &range, 1);
	pthread_mutex_unlock(&iommu->lock);
	if (ret) {
		vfn_iommu_put(iommu);
		return ret;
	}
	*out = iommu;
	return 0;
}

bool vfn_iommu_is_soft(const struct vfn_iommu *iommu)
{
	return iommu && iommu->ops == &vfn_iommu_soft_ops;
}
