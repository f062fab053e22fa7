/* SPDX-License-Identifier: MIT */
/*
 * An address space for unit tests whose backend does nothing: maps and
 * unmaps succeed without touching any device, so the library's own IOVA
 * bookkeeping is all there is.
 */
#ifndef VFN_TEST_FAKE_IOMMU_H
#define VFN_TEST_FAKE_IOMMU_H

struct vfn_iommu;

/*
 * Stores in *@iommu a new ready address space (IOVAs 0x100000..0xffffffff)
 * on the no-op backend; the caller drops it with vfn_iommu_put().  Fails the
 * running cmocka test on error.
 */
void fake_iommu_alloc(struct vfn_iommu **iommu);

#endif /* VFN_TEST_FAKE_IOMMU_H */
