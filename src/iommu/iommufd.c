/* SPDX-License-Identifier: MIT */
/*
 * The iommufd backend: one address space is one IOAS of its own /dev/iommu
 * fd.  Devices opened through their VFIO cdev are bound to that fd
 * (VFIO_DEVICE_BIND_IOMMUFD) and attached to the IOAS
 * (VFIO_DEVICE_ATTACH_IOMMUFD_PT).  After every attach the IOAS's usable
 * ranges are read again (IOMMU_IOAS_IOVA_RANGES): the first attach sets up
 * the IOVA allocator, later ones narrow it, since each device's reserved
 * regions (e.g. the x86 MSI window) are taken out of the IOAS.  vfn chooses
 * every IOVA itself and maps with IOMMU_IOAS_MAP_FIXED_IOVA.
 *
 * Pinned pages are accounted to the process's RLIMIT_MEMLOCK unless it has
 * CAP_IPC_LOCK; iommufd has no count limit like type1's dma_entry_limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/log.h"

#include "iommu-priv.h"
#include "iommufd-uapi.h"

#define IOMMUFD_PATH "/dev/iommu"

static int sys_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

int (*vfn_iommufd_ioctl)(int fd, unsigned long request, void *arg) = sys_ioctl;

/* The ioctl through the hook: 0 or -errno. */
static int call(int fd, unsigned long request, void *arg)
{
	return vfn_iommufd_ioctl(fd, request, arg) ? -errno : 0;
}

/*
 * One IOMMU_IOAS_IOVA_RANGES call with room for @room ranges at @kr: the
 * count the kernel reports (possibly more than @room: -EMSGSIZE, nothing
 * else to rely on then) in *@count, the alignment in *@align.
 */
static int query_ranges(struct vfn_iommu *iommu, struct iommu_iova_range *kr, uint32_t room, uint32_t *count,
			uint64_t *align)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = iommu->ioas_id,
		.num_iovas = room,
		.allowed_iovas = (uintptr_t)kr,
	};
	int ret = call(iommu->fd, IOMMU_IOAS_IOVA_RANGES, &q);

	*count = q.num_iovas;
	*align = q.out_iova_alignment;
	return ret;
}

/*
 * IOMMU_IOAS_IOVA_RANGES into @r (room for VFN_IOMMU_MAX_RANGES).  Returns
 * the number of ranges, or -errno.  With more ranges than that, the call is
 * repeated with room for all of them and the first VFN_IOMMU_MAX_RANGES
 * are used (a subset of the usable space is usable).  A zero or
 * larger-than-page alignment is -EINVAL.
 */
static int read_ranges(struct vfn_iommu *iommu, struct vfn_iova_range *r)
{
	struct iommu_iova_range kr[VFN_IOMMU_MAX_RANGES], *all = kr;
	uint32_t n, room = VFN_IOMMU_MAX_RANGES;
	uint64_t align;
	int ret = query_ranges(iommu, kr, room, &n, &align);

	if (ret == -EMSGSIZE && n > room) {
		room = n;
		all = calloc(room, sizeof(*all));
		if (!all)
			return -ENOMEM;
		ret = query_ranges(iommu, all, room, &n, &align);
		if (!ret && n <= room)
			log_info("iommu: the IOAS has %u usable IOVA ranges; vfn uses the first %d", n,
				 VFN_IOMMU_MAX_RANGES);
	}
	if (!ret && (!n || n > room || !align || align > vfn_page_size())) {
		log_err("iommu: IOMMU_IOAS_IOVA_RANGES: %u ranges, alignment %#llx (page size %#zx)", n,
			(unsigned long long)align, vfn_page_size());
		ret = -EINVAL;
	} else if (ret) {
		log_err("iommu: IOMMU_IOAS_IOVA_RANGES failed: %d", ret);
	}
	for (uint32_t i = 0; !ret && i < n && i < VFN_IOMMU_MAX_RANGES; i++) {
		r[i].start = all[i].start;
		r[i].last = all[i].last;
	}
	if (all != kr)
		free(all);
	return ret ? ret : (int)(n < VFN_IOMMU_MAX_RANGES ? n : VFN_IOMMU_MAX_RANGES);
}

/* Reads the ranges after an attach: the first sets them, later ones narrow them. */
static int update_ranges(struct vfn_iommu *iommu)
{
	struct vfn_iova_range r[VFN_IOMMU_MAX_RANGES];
	int n = read_ranges(iommu, r);

	if (n < 0)
		return n;
	if (!iommu->ready)
		return vfn_iommu_set_ranges(iommu, r, n);
	return vfn_iommu_narrow_ranges(iommu, r, n);
}

static int iommufd_bind_device(struct vfn_iommu *iommu, int device_fd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = iommu->fd };
	int ret = call(device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (ret)
		log_err("iommu: VFIO_DEVICE_BIND_IOMMUFD failed: %d", ret);
	else
		log_debug("iommu: device fd %d bound to iommufd %d as device %u", device_fd, iommu->fd, bind.out_devid);
	return ret;
}

static int iommufd_attach_device(struct vfn_iommu *iommu, int device_fd)
{
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach), .pt_id = iommu->ioas_id };
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	int ret = call(device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	if (ret) {
		log_debug("iommu: VFIO_DEVICE_ATTACH_IOMMUFD_PT to IOAS %u failed: %d", iommu->ioas_id, ret);
		return ret;
	}
	ret = update_ranges(iommu);
	if (ret) {
		if (call(device_fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach))
			log_err("iommu: VFIO_DEVICE_DETACH_IOMMUFD_PT failed: %d", -errno);
		return ret;
	}
	log_debug("iommu: device fd %d attached to IOAS %u", device_fd, iommu->ioas_id);
	return 0;
}

static int iommufd_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = iommu->ioas_id,
		.user_va = (uintptr_t)vaddr,
		.length = len,
		.iova = iova,
	};
	int ret = call(iommu->fd, IOMMU_IOAS_MAP, &map);

	if (!ret)
		return 0;
	if (ret == -ENOMEM)
		log_err("iommu: cannot pin %zu bytes: locked memory limit (ulimit -l) reached?", len);
	else
		log_err("iommu: IOMMU_IOAS_MAP of %zu bytes at iova %#llx failed: %d", len, (unsigned long long)iova,
			ret);
	return ret;
}

static int iommufd_unmap(struct vfn_iommu *iommu, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = iommu->ioas_id,
		.iova = iova,
		.length = len,
	};
	int ret = call(iommu->fd, IOMMU_IOAS_UNMAP, &unmap);

	if (ret) {
		log_err("iommu: IOMMU_IOAS_UNMAP at iova %#llx failed: %d", (unsigned long long)iova, ret);
		return ret;
	}
	if (unmap.length != len) {
		log_err("iommu: IOMMU_IOAS_UNMAP at iova %#llx unmapped %llu of %zu bytes", (unsigned long long)iova,
			(unsigned long long)unmap.length, len);
		return -EIO;
	}
	return 0;
}

static void iommufd_destroy(struct vfn_iommu *iommu)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = iommu->ioas_id };

	/* Closing the fd destroys the IOAS too; this says so if it is still in use. */
	if (call(iommu->fd, IOMMU_DESTROY, &d))
		log_debug("iommu: IOMMU_DESTROY of IOAS %u: %d", iommu->ioas_id, -errno);
	close(iommu->fd);
	iommu->fd = -1;
}

const struct vfn_iommu_backend_ops vfn_iommu_iommufd_ops = {
	.name = "iommufd",
	.backend = VFN_IOMMU_IOMMUFD,
	.bind_device = iommufd_bind_device,
	.attach_device = iommufd_attach_device,
	.map = iommufd_map,
	.unmap = iommufd_unmap,
	.destroy = iommufd_destroy,
};

int vfn_iommufd_create_on(int fd, struct vfn_iommu **out)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int ret = call(fd, IOMMU_IOAS_ALLOC, &alloc);

	if (ret) {
		log_err("iommu: IOMMU_IOAS_ALLOC failed: %d", ret);
		close(fd);
		return ret;
	}
	ret = vfn_iommu_alloc(&vfn_iommu_iommufd_ops, fd, out);
	if (ret) {
		close(fd); /* the IOAS goes with it */
		return ret;
	}
	(*out)->ioas_id = alloc.out_ioas_id;
	log_debug("iommu: IOAS %u on iommufd %d", alloc.out_ioas_id, fd);
	return 0;
}

int vfn_iommu_create_iommufd(struct vfn_iommu **out)
{
	int fd = open(IOMMUFD_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_err("iommu: no %s: iommufd not loaded (modprobe iommufd), or use VFN_IOMMU=type1",
				IOMMUFD_PATH);
		else
			log_err("iommu: cannot open %s: %d", IOMMUFD_PATH, ret);
		return ret;
	}
	return vfn_iommufd_create_on(fd, out);
}
