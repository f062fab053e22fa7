/* SPDX-License-Identifier: MIT */
/*
 * The kernel's iommufd and VFIO device cdev interfaces that vfn uses, for
 * builds whose kernel headers predate them (Debian 12's linux-libc-dev is
 * 6.1: it has no <linux/iommufd.h>, and its <linux/vfio.h> has no cdev
 * ioctls).  Written by us from the Linux UAPI documentation of:
 *   /dev/iommu, IOAS alloc, IOVA ranges, map, unmap, destroy - Linux 6.2
 *   VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_{ATTACH,DETACH}_IOMMUFD_PT - 6.6
 * These are stable kernel ABI: layouts and numbers never change.  When the
 * system headers have them, theirs are used (each block below is guarded by
 * a macro those headers define).
 */
#ifndef VFN_SRC_IOMMU_IOMMUFD_UAPI_H
#define VFN_SRC_IOMMU_IOMMUFD_UAPI_H

#include <linux/types.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

#ifndef IOMMU_IOAS_ALLOC /* <linux/iommufd.h>, Linux 6.2 */

/* ioctl type of /dev/iommu; command numbers from 0x80. */
#define IOMMUFD_TYPE (';')

/* Destroys the object @id (an IOAS here). */
struct iommu_destroy {
	__u32 size; /* sizeof(struct iommu_destroy) */
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)

/* Allocates an empty I/O address space; its id comes back in out_ioas_id. */
struct iommu_ioas_alloc {
	__u32 size; /* sizeof(struct iommu_ioas_alloc) */
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)

/* An inclusive IOVA range. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * The IOVAs an IOAS may map, after the reserved regions of every attached
 * device.  In: num_iovas is the room at allowed_iovas; out: the total (the
 * ioctl fails with EMSGSIZE when it exceeds the room) and the alignment
 * every mapping's start and length must have.
 */
struct iommu_ioas_iova_ranges {
	__u32 size; /* sizeof(struct iommu_ioas_iova_ranges) */
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas; /* user pointer to struct iommu_iova_range[] */
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)

/* Flags of IOMMU_IOAS_MAP. */
#define IOMMU_IOAS_MAP_FIXED_IOVA (1 << 0) /* map at iova, not where the kernel chooses */
#define IOMMU_IOAS_MAP_WRITEABLE (1 << 1)
#define IOMMU_IOAS_MAP_READABLE (1 << 2)

/* Pins and maps user memory [user_va, user_va + length) at iova. */
struct iommu_ioas_map {
	__u32 size; /* sizeof(struct iommu_ioas_map) */
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova; /* in with FIXED_IOVA, else out */
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)

/* Unmaps whole mappings inside [iova, iova + length); length returns the bytes unmapped. */
struct iommu_ioas_unmap {
	__u32 size; /* sizeof(struct iommu_ioas_unmap) */
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)

#endif /* IOMMU_IOAS_ALLOC */

#ifndef VFIO_DEVICE_BIND_IOMMUFD /* <linux/vfio.h>, Linux 6.6 */

/*
 * Binds a device fd opened from /dev/vfio/devices/vfioN to an iommufd;
 * until then the fd accepts no other ioctl.  Undone by closing the fd.
 */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

/* Attaches a bound device to an IOAS (or a HW page table) by object id. */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

/* Detaches it again (closing the device fd does too). */
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

#endif /* VFIO_DEVICE_BIND_IOMMUFD */

#endif /* VFN_SRC_IOMMU_IOMMUFD_UAPI_H */
