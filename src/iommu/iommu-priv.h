/* SPDX-License-Identifier: MIT */
/*
 * Internal interface between the iommu module and its kernel backends, and
 * between the iommu module and the vfio module (group attach).
 *
 * The "thin shim": everything that talks to the kernel about DMA address
 * spaces goes through struct vfn_iommu_backend_ops.  Two backends: the VFIO
 * type1 container (container.c; groups attach) and iommufd (iommufd.c; an
 * IOAS, devices opened through their VFIO cdev attach).
 */
#ifndef VFN_SRC_IOMMU_PRIV_H
#define VFN_SRC_IOMMU_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vfn/iommu.h>

#include "iova.h"
#include "maptable.h"

struct vfn_iommu;

struct vfn_iommu_backend_ops {
	const char *name;
	enum vfn_iommu_backend backend;
	/*
	 * Attach a VFIO group (fd of /dev/vfio/N) to the address space.  The
	 * first attach selects the IOMMU model and fills iommu->ranges and
	 * iommu->dma_avail.  -EBUSY/-EPERM/-EINVAL from the kernel mean "this
	 * group cannot share this address space": the caller then tries a new one.
	 */
	int (*attach_group)(struct vfn_iommu *iommu, int group_fd);
	/* Detach a group attached with attach_group. */
	void (*detach_group)(struct vfn_iommu *iommu, int group_fd);
	/*
	 * Bind a device fd opened from its VFIO cdev to the backend (iommufd
	 * only; NULL elsewhere).  Undone only by closing the device fd.
	 */
	int (*bind_device)(struct vfn_iommu *iommu, int device_fd);
	/*
	 * Attach a bound device to the address space, then read the usable
	 * ranges: the first attach sets them (vfn_iommu_set_ranges()), later
	 * ones narrow them (vfn_iommu_narrow_ranges()).  On failure the device
	 * is left detached.
	 */
	int (*attach_device)(struct vfn_iommu *iommu, int device_fd);
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

	int fd;		  /* container or /dev/iommu fd (backend-owned), -1 if none */
	uint32_t ioas_id; /* iommufd: the IOAS */
	bool compat;	  /* type1: /dev/vfio/vfio is iommufd's compat container */
	int ngroups;	  /* groups attached */
	int ndevices;	  /* cdev devices attached */
	bool ready;	  /* IOMMU model set, ranges known */

	struct vfn_iova_range ranges[VFN_IOMMU_MAX_RANGES];
	int nranges;
	bool dma_avail_known; /* the kernel reported dma_avail */
	uint32_t dma_avail;   /* kernel's remaining DMA mappings, if known */

	struct vfn_iova_allocator iova; /* valid once ready */
	struct vfn_maptable maps;	/* vaddr <-> iova, lock-free lookup */
};

/* The VFIO type1 container backend (container.c). */
extern const struct vfn_iommu_backend_ops vfn_iommu_container_ops;

/* The iommufd backend (iommufd.c). */
extern const struct vfn_iommu_backend_ops vfn_iommu_iommufd_ops;

/* Creates an empty type1 container (container.c).  Errors as vfn_iommu_create(). */
int vfn_iommu_create_type1(struct vfn_iommu **out);

/*
 * Creates an address space on a new IOAS of /dev/iommu (iommufd.c).  Errors
 * as vfn_iommu_create(): -ENOENT means /dev/iommu is missing.
 */
int vfn_iommu_create_iommufd(struct vfn_iommu **out);

/*
 * The same on an already open /dev/iommu fd @fd, which the address space
 * then owns (closed on failure too).  For tests with a fake kernel.
 */
int vfn_iommufd_create_on(int fd, struct vfn_iommu **out);

/*
 * How iommufd.c calls the kernel: ioctl(2) unless a unit test swaps in its
 * fake.  Returns what ioctl() does (-1 and errno on failure).
 */
extern int (*vfn_iommufd_ioctl)(int fd, unsigned long request, void *arg);

/*
 * The backend for @want given the facts (pure, for vfn_iommu_resolve_backend()
 * and its tests).  VFN_IOMMU_AUTO: @env ("iommufd", "type1", "auto"; NULL or
 * "" mean auto), then iommufd if @have_iommufd and @have_cdev, else type1.
 * Returns VFN_IOMMU_TYPE1 or VFN_IOMMU_IOMMUFD, or -EINVAL (unknown @want
 * or @env value).  A forced choice is returned even if the facts say it
 * cannot work: the open then fails naming what is missing.
 */
int vfn_iommu_pick_backend(enum vfn_iommu_backend want, const char *env, bool have_iommufd, bool have_cdev);

/*
 * vfn_iommu_pick_backend() with the environment and this machine's facts:
 * /dev/iommu exists; @have_cdev < 0: whether /dev/vfio/devices exists.
 */
int vfn_iommu_resolve_backend(enum vfn_iommu_backend want, int have_cdev);

/*
 * The process default address space of @backend (TYPE1 or IOMMUFD), with a
 * reference for the caller.  Errors as vfn_iommu_create().
 */
int vfn_iommu_get_default_backend(enum vfn_iommu_backend backend, struct vfn_iommu **out);

/*
 * Narrows the ready space to @ranges (what the kernel now reports): every
 * usable IOVA outside them is reserved in the allocator so that it is never
 * handed out.  Locked by the caller.  Returns 0, -EINVAL (bad @n), -EEXIST
 * (a mapping lies where the new ranges exclude) or -ENOMEM.
 */
int vfn_iommu_narrow_ranges(struct vfn_iommu *iommu, const struct vfn_iova_range *ranges, int n);

/*
 * Binds and attaches a device fd opened from its VFIO cdev (iommufd only):
 * takes the lock, calls ops->bind_device then ops->attach_device.  Sets
 * *@refused when the bind worked but the attach did not: the device may
 * then fit another, new address space (through a new device fd: a bind
 * cannot be undone).  Returns 0 or -errno; -EINVAL if @iommu is not on
 * iommufd.
 */
int vfn_iommu_attach_device(struct vfn_iommu *iommu, int device_fd, bool *refused);

/*
 * Bookkeeping after a device attached with vfn_iommu_attach_device() was
 * closed (which detached it in the kernel): the last device or group
 * leaving unmaps everything, as vfn_iommu_detach_group() does.
 */
void vfn_iommu_detach_device(struct vfn_iommu *iommu);

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
