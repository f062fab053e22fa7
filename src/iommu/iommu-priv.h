/* SPDX-License-Identifier: MIT */
/*
 * Internal interface between the iommu module and its kernel backends, and
 * between the iommu module and the vfio module (group attach).
 *
 * The "thin shim": everything that talks to the kernel about DMA address
 * spaces goes through struct vfn_iommu_backend_ops.  The VFIO type1
 * container backend (container.c) is the one shipped; an iommufd backend
 * would implement the same table (bind a device cdev instead of a group).
 */
#ifndef VFN_SRC_IOMMU_PRIV_H
#define VFN_SRC_IOMMU_PRIV_H

#include <pthread.h>
#include <stdbool.h>

#include <vfn/iommu.h>

#include "iova.h"
#include "maptable.h"

struct vfn_iommu;

struct vfn_iommu_backend_ops {
	const char *name;
	/*
	 * Attach a VFIO group (fd of /dev/vfio/N) to the address space.  The
	 * first attach selects the IOMMU model and fills iommu->ranges and
	 * iommu->dma_avail.  -EBUSY/-EPERM/-EINVAL from the kernel mean "this
	 * group cannot share this address space": the caller then tries a new one.
	 */
	int (*attach_group)(struct vfn_iommu *iommu, int group_fd);
	/* Detach a group attached with attach_group. */
	void (*detach_group)(struct vfn_iommu *iommu, int group_fd);
	/* Program the IOMMU: @len bytes at @vaddr readable/writable at @iova. */
	int (*map)(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova);
	/* Remove the IOMMU mapping of [@iova, @iova + @len). */
	int (*unmap)(struct vfn_iommu *iommu, uint64_t iova, size_t len);
	/* Release backend resources (fds); called once, on the last put. */
	void (*destroy)(struct vfn_iommu *iommu);
};

#define VFN_IOMMU_MAX_RANGES 32

struct vfn_iommu {
	const struct vfn_iommu_backend_ops *ops;
	int refs;	      /* protected by lock */
	pthread_mutex_t lock; /* serialises map/unmap/attach */

	int fd;	     /* container fd (backend-owned), -1 if none */
	int ngroups; /* groups attached */
	bool ready;  /* IOMMU model set, ranges known */

	struct vfn_iova_range ranges[VFN_IOMMU_MAX_RANGES];
	int nranges;
	bool dma_avail_known; /* the kernel reported dma_avail */
	uint32_t dma_avail;   /* kernel's remaining DMA mappings, if known */

	struct vfn_iova_allocator iova; /* valid once ready */
	struct vfn_maptable maps;	/* vaddr <-> iova, lock-free lookup */
};

/* The VFIO type1 container backend (container.c). */
extern const struct vfn_iommu_backend_ops vfn_iommu_container_ops;

/* The software backend (soft.c): map/unmap only touch the map table. */
extern const struct vfn_iommu_backend_ops vfn_iommu_soft_ops;

/*
 * Creates a software address space (no kernel, no device attach needed)
 * whose usable range is [0, 2^48 - 1], ready for vfn_iommu_map() at once.
 * For in-process devices, which reach memory by vfn_iommu_iova_to_vaddr().
 * Returns 0 or -ENOMEM.  Release with vfn_iommu_put().
 */
int vfn_iommu_create_soft(struct vfn_iommu **out);

/* True if @iommu is a software address space. */
bool vfn_iommu_is_soft(const struct vfn_iommu *iommu);

/*
 * Allocates and initialises a struct vfn_iommu using @ops with one
 * reference; @fd is stored for the backend.  Returns 0 or -ENOMEM.
 */
int vfn_iommu_alloc(const struct vfn_iommu_backend_ops *ops, int fd, struct vfn_iommu **out);

/*
 * Called by a backend once the usable ranges are known (first attach): sets
 * up the IOVA allocator and marks the space ready.  Locked by the caller.
 * The backend sets dma_avail/dma_avail_known before.  Returns 0, -EINVAL
 * (n out of 1..VFN_IOMMU_MAX_RANGES, or no usable page), -EBUSY (already
 * ready) or -ENOMEM.
 */
int vfn_iommu_set_ranges(struct vfn_iommu *iommu, const struct vfn_iova_range *ranges, int n);

/*
 * Attaches a VFIO group fd: takes the lock and calls ops->attach_group.
 * Used by the vfio module.  Errors as ops->attach_group.
 */
int vfn_iommu_attach_group(struct vfn_iommu *iommu, int group_fd);

/*
 * Detaches a VFIO group fd attached with vfn_iommu_attach_group().  Before
 * the last group leaves, every remaining mapping is unmapped (the kernel
 * drops a container's mappings with its last group anyway) and the space
 * stops being ready until a group is attached again.
 */
void vfn_iommu_detach_group(struct vfn_iommu *iommu, int group_fd);

/*
 * Reverse lookup for software devices (the simulator): the host address of
 * @iova and the bytes mapped from there.  Lock-free.  -ENOENT if unmapped.
 */
int vfn_iommu_iova_to_vaddr(struct vfn_iommu *iommu, uint64_t iova, void **vaddr, size_t *len);

/* What VFIO_IOMMU_GET_INFO reported, as decoded by the function below. */
struct vfn_iommu_type1_caps {
	struct vfn_iova_range ranges[VFN_IOMMU_MAX_RANGES];
	int nranges; /* 0: no IOVA range capability */
	bool has_dma_avail;
	uint32_t dma_avail;
};

/*
 * Decodes a struct vfio_iommu_type1_info of @size bytes at @buf and walks its
 * capability chain (pure function, for the container backend and its tests).
 * Keeps the first VFN_IOMMU_MAX_RANGES ranges.  Returns 0, or -EINVAL if the
 * buffer is short or a capability lies outside it, overlaps the header or
 * does not move forward.
 */
int vfn_iommu_parse_type1_info(const void *buf, size_t size, struct vfn_iommu_type1_caps *caps);

#endif
