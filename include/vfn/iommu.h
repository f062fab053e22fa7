/* SPDX-License-Identifier: MIT */
/*
 * vfn iommu: DMA address spaces.
 *
 * A struct vfn_iommu is one I/O virtual address space: an iommufd IOAS
 * (/dev/iommu, devices opened through their VFIO cdev) or a VFIO type1
 * container (/dev/vfio/vfio, devices opened through their group).  It hands
 * out IOVAs from the ranges the kernel reports as usable,
 * maps caller memory at them, and translates virtual addresses back to IOVAs
 * (lock-free, for the I/O hot path).  Devices opened by one process share the
 * default address space where the kernel allows it.
 */
#ifndef VFN_IOMMU_H
#define VFN_IOMMU_H

#include <stddef.h>
#include <stdint.h>

#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_iommu;

/* An inclusive range of IOVAs [start, last]. */
struct vfn_iova_range {
	uint64_t start;
	uint64_t last;
};

/* The kernel interfaces an address space can be built on. */
enum vfn_iommu_backend {
	/*
	 * The environment variable VFN_IOMMU ("iommufd", "type1" or "auto")
	 * if set, else iommufd where the kernel has /dev/iommu and the VFIO
	 * device cdev, else type1.
	 */
	VFN_IOMMU_AUTO = 0,
	VFN_IOMMU_TYPE1 = 1,   /* VFIO group + type1 container, /dev/vfio/vfio */
	VFN_IOMMU_IOMMUFD = 2, /* an IOAS of /dev/iommu + the VFIO device cdev */
};

/*
 * Creates a new, empty address space on @backend.  VFN_IOMMU_AUTO resolves
 * as documented above (the cdev test: /dev/vfio/devices exists).  A type1
 * container chooses its IOMMU model when the first group is attached; an
 * IOAS is allocated at once and learns its usable IOVA ranges from the
 * first device attached.  Returns 0 and stores it in *@out, or -ENOENT
 * (no /dev/vfio/vfio: vfio not loaded; no /dev/iommu: iommufd not
 * loaded), -EACCES, -EINVAL (unknown @backend or VFN_IOMMU value,
 * unsupported VFIO API), -ENOMEM.  Release with vfn_iommu_put().
 */
VFN_API int vfn_iommu_create_backend(enum vfn_iommu_backend backend, struct vfn_iommu **out);

/* vfn_iommu_create_backend(VFN_IOMMU_AUTO, @out). */
VFN_API int vfn_iommu_create(struct vfn_iommu **out);

/*
 * The backend @iommu is built on: VFN_IOMMU_TYPE1 or VFN_IOMMU_IOMMUFD;
 * VFN_IOMMU_AUTO for NULL and for the software spaces of simulated devices.
 */
VFN_API enum vfn_iommu_backend vfn_iommu_get_backend(const struct vfn_iommu *iommu);

/*
 * A static name for display: "iommufd", "type1", "type1 (iommufd compat)"
 * once a group is attached to a /dev/vfio/vfio that iommufd serves, or
 * "soft" for in-process devices.  "(null)" for NULL.
 */
VFN_API const char *vfn_iommu_backend_name(const struct vfn_iommu *iommu);

/*
 * Returns the process-wide default address space, creating it on first use,
 * with a reference the caller owns (drop it with vfn_iommu_put()).  There is
 * one default per backend; this is the one VFN_IOMMU_AUTO resolves to.  The
 * default itself lives until the process exits (it keeps one reference of its
 * own), but holds mappings only while a device is attached.  Thread-safe; a
 * failed creation is retried by the next call.  Same errors as
 * vfn_iommu_create().
 */
VFN_API int vfn_iommu_get_default(struct vfn_iommu **out);

/* Takes a reference on @iommu. */
VFN_API void vfn_iommu_get(struct vfn_iommu *iommu);

/*
 * Drops a reference; the last one unmaps every remaining mapping and closes
 * the container.  NULL is ignored.
 */
VFN_API void vfn_iommu_put(struct vfn_iommu *iommu);

/*
 * Maps @len bytes at @vaddr (both page-aligned) for device read/write at an
 * IOVA chosen from the usable ranges; stores it in *@iova.
 * Errors: -EINVAL (unaligned, zero length, no device attached yet),
 * -EEXIST (overlaps an existing mapping), -ENOSPC (no IOVA space left in the
 * usable ranges, or the kernel's DMA mapping limit reached), -ENOMEM (also:
 * the kernel could not pin the memory), or the kernel's -errno.
 */
VFN_API int vfn_iommu_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t *iova);

/*
 * Like vfn_iommu_map() but at the caller's chosen @iova (page-aligned), for
 * tests that need a specific address.  -ERANGE if @iova..@iova+@len-1 is not
 * inside a usable range, -EEXIST if it overlaps an allocated IOVA.
 */
VFN_API int vfn_iommu_map_at(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova);

/*
 * Unmaps the mapping that starts at @vaddr and returns its IOVA space to the
 * allocator for reuse.  -ENOENT if no mapping starts there, or the kernel's
 * -errno (the mapping then stays).
 */
VFN_API int vfn_iommu_unmap(struct vfn_iommu *iommu, void *vaddr);

/*
 * Translates @vaddr (any byte inside a mapping) to its IOVA.  If @len is not
 * NULL it receives the number of mapped bytes from @vaddr to the end of the
 * mapping.  Lock-free and syscall-free: safe on the I/O hot path, concurrently
 * with map/unmap from other threads.  -ENOENT if @vaddr is not mapped.
 */
VFN_API int vfn_iommu_translate(struct vfn_iommu *iommu, const void *vaddr, uint64_t *iova, size_t *len);

/*
 * Copies up to @max usable IOVA ranges into @ranges and returns how many
 * there are in total (which may exceed @max; 0 before a device is attached).
 * They are the kernel's report, or [0, 2^48 - 1] (minus the MSI window
 * 0xfee00000-0xfeefffff on x86) from type1 kernels that report none.  On
 * iommufd, a device attached later that narrows the IOAS's ranges (its
 * reserved regions) narrows these too; detaching one does not widen them.  Page 0 is
 * never handed out, so an IOVA of 0 is always a bug.
 */
VFN_API int vfn_iommu_get_ranges(struct vfn_iommu *iommu, struct vfn_iova_range *ranges, int max);

/*
 * Allocates @len bytes (rounded up to pages) of zeroed memory and maps it.
 * Returns the rounded length and stores the address and IOVA; on failure
 * leaves nothing allocated or mapped and returns a negative errno as
 * vfn_mem_alloc()/vfn_iommu_map() do.  Release with vfn_dma_free().
 */
VFN_API ssize_t vfn_dma_alloc(struct vfn_iommu *iommu, size_t len, void **vaddr, uint64_t *iova);

/*
 * Unmaps and frees memory from vfn_dma_alloc(); NULL @vaddr is ignored.  If
 * the kernel refuses the unmap, the memory is kept (logged), since the device
 * may still reach it.
 */
VFN_API void vfn_dma_free(struct vfn_iommu *iommu, void *vaddr, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFN_IOMMU_H */
