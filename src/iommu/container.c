/* SPDX-License-Identifier: MIT */
/*
 * The VFIO type1 container backend.  One container fd (/dev/vfio/vfio) per address space;
 * groups join it with VFIO_GROUP_SET_CONTAINER, the first one selects the
 * IOMMU model (type1v2 when offered, else type1) and reports the usable IOVA
 * ranges and the number of DMA mappings left through VFIO_IOMMU_GET_INFO.
 *
 * Kernels without the IOVA range capability (before 5.4) get [0, 2^48 - 1],
 * the span of a 4-level IOMMU page table, minus the MSI window
 * 0xfee00000..0xfeefffff on x86, where DMA writes are taken as interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "support/log.h"

#include "iommu-priv.h"

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"
#define DEFAULT_IOVA_LAST ((1ull << 48) - 1)

/* ---- VFIO_IOMMU_GET_INFO decoding (pure) ---- */

static int parse_iova_ranges(const uint8_t *cap, size_t avail, struct vfn_iommu_type1_caps *caps)
{
	struct vfio_iommu_type1_info_cap_iova_range hdr;
	struct vfio_iova_range r;

	if (avail < sizeof(hdr)) {
		log_debug("iommu: IOVA range capability truncated");
		return -EINVAL;
	}
	memcpy(&hdr, cap, sizeof(hdr));
	if (!hdr.nr_iovas || hdr.nr_iovas > (avail - sizeof(hdr)) / sizeof(r)) {
		log_debug("iommu: IOVA range capability with %u ranges in %zu bytes", hdr.nr_iovas, avail);
		return -EINVAL;
	}
	if (hdr.nr_iovas > VFN_IOMMU_MAX_RANGES)
		log_info("iommu: using the first %d of %u IOVA ranges", VFN_IOMMU_MAX_RANGES, hdr.nr_iovas);
	caps->nranges = 0;
	for (uint32_t i = 0; i < hdr.nr_iovas && caps->nranges < VFN_IOMMU_MAX_RANGES; i++) {
		memcpy(&r, cap + sizeof(hdr) + i * sizeof(r), sizeof(r));
		caps->ranges[caps->nranges].start = r.start;
		caps->ranges[caps->nranges].last = r.end;
		caps->nranges++;
	}
	return 0;
}

static int parse_dma_avail(const uint8_t *cap, size_t avail, struct vfn_iommu_type1_caps *caps)
{
	struct vfio_iommu_type1_info_dma_avail da;

	if (avail < sizeof(da)) {
		log_debug("iommu: DMA available capability truncated");
		return -EINVAL;
	}
	memcpy(&da, cap, sizeof(da));
	caps->has_dma_avail = true;
	caps->dma_avail = da.avail;
	return 0;
}

/* Decodes the capability at @off (known to hold a header); unknown ids are skipped. */
static int parse_cap(const uint8_t *buf, size_t size, size_t off, uint16_t id, struct vfn_iommu_type1_caps *caps)
{
	switch (id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		return parse_iova_ranges(buf + off, size - off, caps);
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		return parse_dma_avail(buf + off, size - off, caps);
	default:
		return 0;
	}
}

int vfn_iommu_parse_type1_info(const void *buf, size_t size, struct vfn_iommu_type1_caps *caps)
{
	const uint8_t *p = buf;
	struct vfio_iommu_type1_info info;
	struct vfio_info_cap_header hdr;
	size_t off;
	int ret;

	memset(caps, 0, sizeof(*caps));
	if (size < sizeof(info)) {
		log_debug("iommu: type1 info of %zu bytes is short", size);
		return -EINVAL;
	}
	memcpy(&info, p, sizeof(info));
	if (!(info.flags & VFIO_IOMMU_INFO_CAPS))
		return 0;
	for (off = info.cap_offset; off; off = hdr.next) {
		if (off < sizeof(info) || off > size - sizeof(hdr)) {
			log_debug("iommu: capability at offset %zu outside [%zu, %zu)", off, sizeof(info), size);
			return -EINVAL;
		}
		memcpy(&hdr, p + off, sizeof(hdr));
		ret = parse_cap(p, size, off, hdr.id, caps);
		if (ret)
			return ret;
		if (hdr.next && hdr.next <= off) {
			log_debug("iommu: capability chain goes back (%zu -> %u)", off, hdr.next);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- ioctls ---- */

/* The best type1 model the kernel offers, or 0. */
static unsigned long pick_type(int fd)
{
	if (ioctl(fd, VFIO_CHECK_EXTENSION, (unsigned long)VFIO_TYPE1v2_IOMMU) > 0)
		return VFIO_TYPE1v2_IOMMU;
	if (ioctl(fd, VFIO_CHECK_EXTENSION, (unsigned long)VFIO_TYPE1_IOMMU) > 0)
		return VFIO_TYPE1_IOMMU;
	return 0;
}

/* (Re)sizes *@info to @size bytes and reads VFIO_IOMMU_GET_INFO into it. */
static int info_call(int fd, struct vfio_iommu_type1_info **info, size_t size)
{
	struct vfio_iommu_type1_info *p = realloc(*info, size);
	int ret;

	if (!p)
		return -ENOMEM;
	*info = p;
	memset(p, 0, size);
	p->argsz = (uint32_t)size;
	if (ioctl(fd, VFIO_IOMMU_GET_INFO, p)) {
		ret = -errno;
		log_err("iommu: VFIO_IOMMU_GET_INFO failed: %d", ret);
		return ret;
	}
	return 0;
}

/* Reads VFIO_IOMMU_GET_INFO with all its capabilities into a malloc'ed *@out. */
static int get_info(int fd, struct vfio_iommu_type1_info **out, size_t *size)
{
	struct vfio_iommu_type1_info *info = NULL;
	int ret;

	*size = sizeof(*info);
	ret = info_call(fd, &info, *size);
	/* argsz now says how much the capabilities need: ask again with that. */
	if (!ret && info->argsz > *size) {
		*size = info->argsz;
		ret = info_call(fd, &info, *size);
	}
	if (ret) {
		free(info);
		return ret;
	}
	*out = info;
	return 0;
}

/* Fills @caps from the kernel, or with the defaults when it has no ranges. */
static int read_caps(int fd, struct vfn_iommu_type1_caps *caps)
{
	struct vfio_iommu_type1_info *info;
	size_t size;
	int ret = get_info(fd, &info, &size);

	if (ret)
		return ret;
	ret = vfn_iommu_parse_type1_info(info, size, caps);
	free(info);
	if (ret || caps->nranges)
		return ret;
	log_info("iommu: kernel reports no IOVA ranges; assuming 48-bit IOVAs");
	caps->ranges[0].start = 0;
#if defined(__x86_64__) || defined(__i386__)
	caps->ranges[0].last = 0xfedfffff;
	caps->ranges[1].start = 0xfef00000;
	caps->ranges[1].last = DEFAULT_IOVA_LAST;
	caps->nranges = 2;
#else
	caps->ranges[0].last = DEFAULT_IOVA_LAST;
	caps->nranges = 1;
#endif
	return 0;
}

/*
 * True if /dev/vfio/vfio is iommufd's compat container
 * (CONFIG_IOMMUFD_VFIO_CONTAINER) rather than vfio_iommu_type1: it knows no
 * VFIO_IOMMU_DIRTY_PAGES (ENOTTY), which type1 answers, here with EINVAL
 * for an unknown flag (EACCES before type1v2).  Display only.
 */
static bool is_iommufd_compat(int fd)
{
	struct vfio_iommu_type1_dirty_bitmap probe = { .argsz = sizeof(probe), .flags = 1u << 31 };

	return ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, &probe) && errno == ENOTTY;
}

/* First group: selects the IOMMU model and learns the usable ranges. */
static int setup_iommu(struct vfn_iommu *iommu)
{
	struct vfn_iommu_type1_caps caps;
	unsigned long type = pick_type(iommu->fd);
	int ret;

	if (ioctl(iommu->fd, VFIO_SET_IOMMU, type)) {
		ret = -errno;
		log_err("iommu: VFIO_SET_IOMMU(%lu) failed: %d", type, ret);
		return ret;
	}
	ret = read_caps(iommu->fd, &caps);
	if (ret)
		return ret;
	iommu->dma_avail_known = caps.has_dma_avail;
	iommu->dma_avail = caps.dma_avail;
	iommu->compat = is_iommufd_compat(iommu->fd);
	if (iommu->compat)
		log_debug("iommu: /dev/vfio/vfio is served by iommufd (compat container)");
	return vfn_iommu_set_ranges(iommu, caps.ranges, caps.nranges);
}

/* The N of /dev/vfio/N behind @group_fd, or -1. */
static int group_number(int group_fd)
{
	char link[32], target[64];
	const char *slash;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", group_fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	slash = strrchr(target, '/');
	return slash ? atoi(slash + 1) : -1;
}

static int check_viable(int group_fd)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int ret;

	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		log_err("iommu: VFIO_GROUP_GET_STATUS failed: %d", ret);
		return ret;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		int n = group_number(group_fd);

		log_err("iommu: group %d not viable: all devices in group %d must be bound to vfio-pci", n, n);
		return -EBUSY;
	}
	return 0;
}

static int container_attach_group(struct vfn_iommu *iommu, int group_fd)
{
	int ret = check_viable(group_fd);

	if (ret)
		return ret;
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &iommu->fd)) {
		ret = -errno;
		log_debug("iommu: VFIO_GROUP_SET_CONTAINER failed: %d", ret);
		return ret;
	}
	if (iommu->ngroups)
		return 0;
	ret = setup_iommu(iommu);
	if (ret)
		goto unset_container;
	return 0;

unset_container:
	/* The last group leaving also releases the IOMMU model. */
	ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
	return ret;
}

static void container_detach_group(struct vfn_iommu *iommu, int group_fd)
{
	if (ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER))
		log_err("iommu: VFIO_GROUP_UNSET_CONTAINER failed: %d", -errno);
}

static int container_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = len,
	};
	int ret;

	if (!ioctl(iommu->fd, VFIO_IOMMU_MAP_DMA, &map))
		return 0;
	ret = -errno;
	if (ret == -ENOSPC)
		log_err("iommu: the kernel's DMA mapping limit is reached (module parameter vfio_iommu_type1.dma_entry_limit)");
	else if (ret == -ENOMEM)
		log_err("iommu: cannot pin %zu bytes: locked memory limit (ulimit -l) reached?", len);
	else
		log_err("iommu: VFIO_IOMMU_MAP_DMA of %zu bytes at iova %#llx failed: %d", len,
			(unsigned long long)iova, ret);
	return ret;
}

static int container_unmap(struct vfn_iommu *iommu, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};
	int ret;

	if (ioctl(iommu->fd, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
		ret = -errno;
		log_err("iommu: VFIO_IOMMU_UNMAP_DMA at iova %#llx failed: %d", (unsigned long long)iova, ret);
		return ret;
	}
	if (unmap.size != len) {
		log_err("iommu: VFIO_IOMMU_UNMAP_DMA at iova %#llx unmapped %llu of %zu bytes",
			(unsigned long long)iova, (unsigned long long)unmap.size, len);
		return -EIO;
	}
	return 0;
}

static void container_destroy(struct vfn_iommu *iommu)
{
	if (iommu->fd >= 0)
		close(iommu->fd);
	iommu->fd = -1;
}

const struct vfn_iommu_backend_ops vfn_iommu_container_ops = {
	.name = "type1",
	.backend = VFN_IOMMU_TYPE1,
	.attach_group = container_attach_group,
	.detach_group = container_detach_group,
	.map = container_map,
	.unmap = container_unmap,
	.destroy = container_destroy,
};

/* Checks the container's API version and that a type1 model is offered. */
static int check_api(int fd)
{
	int version = ioctl(fd, VFIO_GET_API_VERSION);

	if (version != VFIO_API_VERSION) {
		log_err("iommu: VFIO API version %d, expected %d", version, VFIO_API_VERSION);
		return -EINVAL;
	}
	if (!pick_type(fd)) {
		log_err("iommu: the kernel offers no VFIO type1 IOMMU");
		return -EINVAL;
	}
	return 0;
}

int vfn_iommu_create_type1(struct vfn_iommu **out)
{
	int fd = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_err("iommu: no %s: vfio not loaded (modprobe vfio-pci)", VFIO_CONTAINER_PATH);
		else
			log_err("iommu: cannot open %s: %d", VFIO_CONTAINER_PATH, ret);
		return ret;
	}
	ret = check_api(fd);
	if (ret)
		goto close_fd;
	ret = vfn_iommu_alloc(&vfn_iommu_container_ops, fd, out);
	if (ret)
		goto close_fd;
	return 0;

close_fd:
	close(fd);
	return ret;
}
