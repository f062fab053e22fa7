/* SPDX-License-Identifier: MIT */
/*
 * One PCI function opened through VFIO: everything done on the device fd,
 * whichever attach path (vfio-priv.h) produced it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "iommu/iommu-priv.h"
#include "support/log.h"
#include "vfio-priv.h"

int vfn_vfio_check_driver(const char *bdf)
{
	char drv[64];
	int ret;

	ret = vfn_pci_get_driver(bdf, drv, sizeof(drv));
	if (ret == -ENAMETOOLONG) {
		log_err("%s: bound to another driver than vfio-pci; run `vfn bind %s`", bdf, bdf);
		return -EBUSY;
	}
	if (ret == -ENODEV) {
		log_err("%s: no such PCI function", bdf);
		return ret;
	}
	if (ret) {
		log_err("%s: cannot read its driver: errno %d", bdf, -ret);
		return ret;
	}
	if (!drv[0]) {
		log_err("%s: not bound to vfio-pci; run `vfn bind %s`", bdf, bdf);
		return -EBUSY;
	}
	if (strcmp(drv, "vfio-pci")) {
		log_err("%s: bound to %s, not vfio-pci; run `vfn bind %s`", bdf, drv, bdf);
		return -EBUSY;
	}
	return 0;
}

/*
 * The devices open in this process (vfio-priv.h), linked through
 * open_next.  A PCI hot reset holds the lock from its check to its ioctl,
 * so that no function it reaches is opened meanwhile.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfn_vfio_dev *registry;

void vfn_vfio_registry_add(struct vfn_vfio_dev *dev)
{
	pthread_mutex_lock(&registry_lock);
	dev->open_next = registry;
	registry = dev;
	pthread_mutex_unlock(&registry_lock);
}

void vfn_vfio_registry_del(struct vfn_vfio_dev *dev)
{
	pthread_mutex_lock(&registry_lock);
	for (struct vfn_vfio_dev **pp = &registry; *pp; pp = &(*pp)->open_next) {
		if (*pp == dev) {
			*pp = dev->open_next;
			break;
		}
	}
	dev->open_next = NULL;
	pthread_mutex_unlock(&registry_lock);
}

/* A device open in this process, other than @self, at @bdf (canonical), or NULL; registry lock held. */
static struct vfn_vfio_dev *registry_find_other(const struct vfn_vfio_dev *self, const char *bdf)
{
	for (struct vfn_vfio_dev *d = registry; d; d = d->open_next)
		if (d != self && !strcmp(d->bdf, bdf))
			return d;
	return NULL;
}

/* Closes the device fd, then lets the attach path release the rest. */
static void release_device(struct vfn_vfio_dev *dev)
{
	close(dev->fd);
	dev->fd = -1;
	dev->attach->close(dev);
	vfn_iommu_put(dev->iommu);
	dev->iommu = NULL;
}

static int read_msix_count(struct vfn_vfio_dev *dev)
{
	int ret;

	dev->irq_index = VFIO_PCI_MSIX_IRQ_INDEX;
	if (dev->num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX)
		return 0;
	ret = vfn_vfio_irq_count(dev, VFIO_PCI_MSIX_IRQ_INDEX);
	if (ret < 0)
		return ret;
	dev->msix_count = (unsigned int)ret;
	return 0;
}

static int read_device_info(struct vfn_vfio_dev *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret;

	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info)) {
		ret = -errno;
		log_err("%s: VFIO_DEVICE_GET_INFO failed: errno %d", dev->bdf, -ret);
		return ret;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		log_err("%s: not a VFIO PCI device (flags 0x%x)", dev->bdf, info.flags);
		return -ENOTSUP;
	}
	dev->flags = info.flags;
	dev->num_irqs = info.num_irqs;
	dev->nregions = info.num_regions < VFIO_PCI_NUM_REGIONS ? info.num_regions : VFIO_PCI_NUM_REGIONS;
	return read_msix_count(dev);
}

static uint32_t region_flags(uint32_t vfio_flags)
{
	uint32_t flags = 0;

	if (vfio_flags & VFIO_REGION_INFO_FLAG_READ)
		flags |= VFN_VFIO_REGION_READ;
	if (vfio_flags & VFIO_REGION_INFO_FLAG_WRITE)
		flags |= VFN_VFIO_REGION_WRITE;
	if (vfio_flags & VFIO_REGION_INFO_FLAG_MMAP)
		flags |= VFN_VFIO_REGION_MMAP;
	return flags;
}

/* Caches regions[0 .. nregions-1]; absent ones (EINVAL: no VGA) stay empty. */
static int read_regions(struct vfn_vfio_dev *dev)
{
	for (unsigned int i = 0; i < dev->nregions; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };
		struct vfn_vfio_region *r = &dev->regions[i];
		int ret;

		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &info)) {
			ret = -errno;
			if (ret == -EINVAL) {
				log_debug("%s: region %u absent", dev->bdf, i);
				continue;
			}
			log_err("%s: VFIO_DEVICE_GET_REGION_INFO %u failed: errno %d", dev->bdf, i, -ret);
			return ret;
		}
		r->size = info.size;
		r->offset = info.offset;
		r->flags = region_flags(info.flags);
		log_debug("%s: region %u: size 0x%llx offset 0x%llx flags 0x%x", dev->bdf, i,
			  (unsigned long long)r->size, (unsigned long long)r->offset, info.flags);
	}
	return 0;
}

int vfn_vfio_pick_backend(const char *bdf, enum vfn_iommu_backend want)
{
	char canon[VFN_PCI_BDF_LEN], cdev[64];

	if (!bdf || vfn_pci_parse_bdf(bdf, canon)) {
		log_debug("vfio: pick_backend: malformed PCI address '%s'", bdf ? bdf : "(null)");
		return -EINVAL;
	}
	return vfn_iommu_resolve_backend(want, !vfn_pci_vfio_cdev(canon, cdev, sizeof(cdev)));
}

/* The attach path for @opts: @opts->iommu's backend, else the one picked. */
static int choose_attach(struct vfn_vfio_dev *dev, const struct vfn_vfio_opts *opts)
{
	enum vfn_iommu_backend want = opts ? opts->backend : VFN_IOMMU_AUTO;
	int b;

	if (opts && opts->iommu) {
		b = (int)vfn_iommu_get_backend(opts->iommu);
		if (b != VFN_IOMMU_TYPE1 && b != VFN_IOMMU_IOMMUFD) {
			log_debug("vfio_open: the address space is not a kernel one (%s)",
				  vfn_iommu_backend_name(opts->iommu));
			return -EINVAL;
		}
		if (want != VFN_IOMMU_AUTO && (int)want != b) {
			log_debug("vfio_open: backend %d asked for with a %s address space", (int)want,
				  vfn_iommu_backend_name(opts->iommu));
			return -EINVAL;
		}
	} else {
		b = vfn_vfio_pick_backend(dev->bdf, want);
		if (b < 0)
			return b;
	}
	dev->attach = b == VFN_IOMMU_IOMMUFD ? &vfn_vfio_cdev_attach_ops : &vfn_vfio_group_attach_ops;
	return 0;
}

int vfn_vfio_open(const char *bdf, const struct vfn_vfio_opts *opts, struct vfn_vfio_dev **out)
{
	struct vfn_vfio_dev *dev;
	int ret;

	if (!bdf || !out) {
		log_debug("vfio_open: NULL %s", bdf ? "out" : "bdf");
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->fd = -1;

	ret = vfn_pci_parse_bdf(bdf, dev->bdf);
	if (ret) {
		log_debug("vfio_open: malformed PCI address '%s'", bdf);
		goto free_dev;
	}
	ret = vfn_vfio_check_driver(dev->bdf);
	if (ret)
		goto free_dev;
	ret = choose_attach(dev, opts);
	if (ret)
		goto free_dev;
	ret = dev->attach->open(dev, opts ? opts->iommu : NULL);
	if (ret)
		goto free_dev;
	ret = read_device_info(dev);
	if (ret)
		goto release_device;
	ret = read_regions(dev);
	if (ret)
		goto release_device;

	log_info("%s: opened through VFIO (%s, %s), %u regions, %u MSI-X vectors", dev->bdf, dev->attach->name,
		 vfn_iommu_backend_name(dev->iommu), dev->nregions, dev->msix_count);
	vfn_vfio_registry_add(dev);
	*out = dev;
	return 0;

release_device:
	release_device(dev);
free_dev:
	free(dev);
	return ret;
}

void vfn_vfio_close(struct vfn_vfio_dev *dev)
{
	if (!dev)
		return;
	vfn_vfio_registry_del(dev);
	vfn_vfio_irq_disable(dev);
	for (unsigned int i = 0; i < VFN_VFIO_NUM_BARS; i++)
		if (dev->bars[i])
			munmap(dev->bars[i], dev->regions[i].size);
	release_device(dev);
	free(dev);
}

const char *vfn_vfio_bdf(const struct vfn_vfio_dev *dev)
{
	return dev ? dev->bdf : NULL;
}

struct vfn_iommu *vfn_vfio_iommu(const struct vfn_vfio_dev *dev)
{
	return dev ? dev->iommu : NULL;
}

int vfn_vfio_device_fd(const struct vfn_vfio_dev *dev)
{
	if (!dev) {
		log_debug("vfio_device_fd: NULL device");
		return -EINVAL;
	}
	return dev->fd;
}

int vfn_vfio_region_info(const struct vfn_vfio_dev *dev, unsigned int index, struct vfn_vfio_region *info)
{
	if (!dev || !info) {
		log_debug("vfio_region_info: NULL argument");
		return -EINVAL;
	}
	if (index >= dev->nregions) {
		log_debug("%s: region %u out of range (%u regions)", dev->bdf, index, dev->nregions);
		return -EINVAL;
	}
	*info = dev->regions[index];
	return 0;
}

/*
 * Checks an access of @len bytes at @off of region @index that needs
 * @need (VFN_VFIO_REGION_READ or _WRITE) and returns the region.
 */
static const struct vfn_vfio_region *region_check(const struct vfn_vfio_dev *dev, unsigned int index, uint64_t off,
						  size_t len, const void *buf, uint32_t need)
{
	const struct vfn_vfio_region *r;

	if (!dev || !buf) {
		log_debug("vfio region access: NULL argument");
		return NULL;
	}
	if (index >= dev->nregions || !(dev->regions[index].flags & need)) {
		log_debug("%s: region %u does not exist or does not allow %s", dev->bdf, index,
			  need == VFN_VFIO_REGION_READ ? "reads" : "writes");
		return NULL;
	}
	r = &dev->regions[index];
	if (len > r->size || off > r->size - len) {
		log_debug("%s: region %u: %zu bytes at 0x%llx are beyond its 0x%llx bytes", dev->bdf, index, len,
			  (unsigned long long)off, (unsigned long long)r->size);
		return NULL;
	}
	return r;
}

int vfn_vfio_region_read(struct vfn_vfio_dev *dev, unsigned int index, uint64_t off, void *buf, size_t len)
{
	const struct vfn_vfio_region *r = region_check(dev, index, off, len, buf, VFN_VFIO_REGION_READ);
	ssize_t n;

	if (!r)
		return -EINVAL;
	do {
		n = pread(dev->fd, buf, len, (off_t)(r->offset + off));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len) {
		log_err("%s: region %u: short read (%zd of %zu bytes)", dev->bdf, index, n, len);
		return -EIO;
	}
	return 0;
}

int vfn_vfio_region_write(struct vfn_vfio_dev *dev, unsigned int index, uint64_t off, const void *buf, size_t len)
{
	const struct vfn_vfio_region *r = region_check(dev, index, off, len, buf, VFN_VFIO_REGION_WRITE);
	ssize_t n;

	if (!r)
		return -EINVAL;
	do {
		n = pwrite(dev->fd, buf, len, (off_t)(r->offset + off));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len) {
		log_err("%s: region %u: short write (%zd of %zu bytes)", dev->bdf, index, n, len);
		return -EIO;
	}
	return 0;
}

int vfn_vfio_map_bar(struct vfn_vfio_dev *dev, unsigned int bar, void **addr, size_t *len)
{
	const struct vfn_vfio_region *r;
	void *p;

	if (!dev || !addr || !len || bar >= VFN_VFIO_NUM_BARS || bar >= dev->nregions) {
		log_debug("vfio_map_bar: NULL argument or BAR %u out of range", bar);
		return -EINVAL;
	}
	r = &dev->regions[bar];
	if (!r->size || (uint64_t)(size_t)r->size != r->size) {
		log_debug("%s: BAR%u does not exist or cannot fit in memory", dev->bdf, bar);
		return -EINVAL;
	}
	if (!(r->flags & VFN_VFIO_REGION_MMAP)) {
		log_debug("%s: BAR%u cannot be mmapped", dev->bdf, bar);
		return -ENOTSUP;
	}
	if (!dev->bars[bar]) {
		p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, (off_t)r->offset);
		if (p == MAP_FAILED) {
			int ret = -errno;

			log_err("%s: mmap of BAR%u failed: errno %d", dev->bdf, bar, -ret);
			return ret;
		}
		dev->bars[bar] = p;
	}
	*addr = dev->bars[bar];
	*len = r->size;
	return 0;
}

int vfn_vfio_cfg_read8(struct vfn_vfio_dev *dev, uint32_t off, uint8_t *v)
{
	return vfn_vfio_region_read(dev, VFN_VFIO_REGION_CONFIG, off, v, sizeof(*v));
}

int vfn_vfio_cfg_read16(struct vfn_vfio_dev *dev, uint32_t off, uint16_t *v)
{
	vfn_le16 le;
	int ret;

	if (!v) {
		log_debug("vfio_cfg_read16: NULL value");
		return -EINVAL;
	}
	ret = vfn_vfio_region_read(dev, VFN_VFIO_REGION_CONFIG, off, &le, sizeof(le));
	if (!ret)
		*v = vfn_le16_to_cpu(le);
	return ret;
}

int vfn_vfio_cfg_read32(struct vfn_vfio_dev *dev, uint32_t off, uint32_t *v)
{
	vfn_le32 le;
	int ret;

	if (!v) {
		log_debug("vfio_cfg_read32: NULL value");
		return -EINVAL;
	}
	ret = vfn_vfio_region_read(dev, VFN_VFIO_REGION_CONFIG, off, &le, sizeof(le));
	if (!ret)
		*v = vfn_le32_to_cpu(le);
	return ret;
}

int vfn_vfio_cfg_write16(struct vfn_vfio_dev *dev, uint32_t off, uint16_t v)
{
	vfn_le16 le = vfn_cpu_to_le16(v);

	return vfn_vfio_region_write(dev, VFN_VFIO_REGION_CONFIG, off, &le, sizeof(le));
}

int vfn_vfio_cfg_write32(struct vfn_vfio_dev *dev, uint32_t off, uint32_t v)
{
	vfn_le32 le = vfn_cpu_to_le32(v);

	return vfn_vfio_region_write(dev, VFN_VFIO_REGION_CONFIG, off, &le, sizeof(le));
}

int vfn_vfio_set_bus_master(struct vfn_vfio_dev *dev, bool enable)
{
	uint16_t cmd, want;
	int ret;

	ret = vfn_vfio_cfg_read16(dev, PCI_COMMAND, &cmd);
	if (ret)
		return ret;
	want = enable ? (uint16_t)(cmd | PCI_COMMAND_MASTER) : (uint16_t)(cmd & ~PCI_COMMAND_MASTER);
	if (want == cmd)
		return 0;
	return vfn_vfio_cfg_write16(dev, PCI_COMMAND, want);
}

int vfn_vfio_irq_count(struct vfn_vfio_dev *dev, unsigned int index)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };
	int ret;

	if (!dev) {
		log_debug("vfio_irq_count: NULL device");
		return -EINVAL;
	}
	if (index >= dev->num_irqs)
		return 0;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &info)) {
		ret = -errno;
		log_err("%s: VFIO_DEVICE_GET_IRQ_INFO %u failed: errno %d", dev->bdf, index, -ret);
		return ret;
	}
	if (index == dev->irq_index && dev->irq_given && dev->irq_given < info.count)
		return (int)dev->irq_given; /* the kernel gave fewer when switching it on */
	return info.count > INT32_MAX ? INT32_MAX : (int)info.count;
}

static const char *irq_index_name(unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return "INTx";
	case VFIO_PCI_MSI_IRQ_INDEX:
		return "MSI";
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return "MSI-X";
	default:
		return "?";
	}
}

/*
 * VFIO_DEVICE_SET_IRQS routing vectors @start..@start+@count-1 of the
 * device's interrupt type to @efds; NULL @efds means "unrouted" for all.
 * 0, -errno, or (switching MSI/MSI-X on) the positive number of vectors
 * vfio-pci could have given when it cannot give them all: then the type
 * is left off.
 */
static int irq_set_raw(struct vfn_vfio_dev *dev, unsigned int start, unsigned int count, const int *efds)
{
	size_t argsz = sizeof(struct vfio_irq_set) + (size_t)count * sizeof(int32_t);
	struct vfio_irq_set *set;
	int32_t *fds;
	int ret = 0;

	set = calloc(1, argsz);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)argsz;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = dev->irq_index;
	set->start = start;
	set->count = count;
	fds = (int32_t *)set->data;
	for (unsigned int i = 0; i < count; i++)
		fds[i] = efds ? efds[i] : -1;

	ret = ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set);
	if (ret < 0)
		ret = -errno;
	free(set);
	return ret;
}

/* irq_set_raw(), a positive vector count (the type left off) a refusal: -ENOSPC. */
static int irq_set(struct vfn_vfio_dev *dev, unsigned int start, unsigned int count, const int *efds)
{
	int ret = irq_set_raw(dev, start, count, efds);

	if (ret > 0) {
		log_info("%s: VFIO_DEVICE_SET_IRQS (%s %u+%u): only %d vectors available", dev->bdf,
			 irq_index_name(dev->irq_index), start, count, ret);
		ret = -ENOSPC;
	}
	return ret;
}

/*
 * Switches the type in use on, every vector unrouted.  When vfio-pci
 * cannot give all dev->msix_count vectors it answers with how many it can
 * (a multi-message MSI function on a host without interrupt remapping: 1)
 * and leaves the type off; as QEMU's vfio-pci does, ask again with that
 * many, which then become the vectors the device has.
 */
static int irq_switch_on(struct vfn_vfio_dev *dev)
{
	unsigned int all = dev->msix_count;
	int ret = irq_set_raw(dev, 0, dev->msix_count, NULL);

	if (ret > 0 && (unsigned int)ret < dev->msix_count) {
		log_info("%s: %s: the kernel gives %d of the %u vectors; using %d", dev->bdf,
			 irq_index_name(dev->irq_index), ret, dev->msix_count, ret);
		dev->msix_count = (unsigned int)ret;
		ret = irq_set_raw(dev, 0, dev->msix_count, NULL);
		if (!ret)
			dev->irq_given = dev->msix_count;
	}
	if (ret > 0) {
		log_info("%s: VFIO_DEVICE_SET_IRQS (%s 0+%u): only %d vectors available", dev->bdf,
			 irq_index_name(dev->irq_index), dev->msix_count, ret);
		ret = -ENOSPC;
	}
	if (ret)
		dev->msix_count = all;
	return ret;
}

/* irq_set(), its failure logged. */
static int msix_set(struct vfn_vfio_dev *dev, unsigned int start, unsigned int count, const int *efds)
{
	int ret = irq_set(dev, start, count, efds);

	if (ret)
		log_err("%s: VFIO_DEVICE_SET_IRQS (%s %u+%u) failed: errno %d", dev->bdf,
			irq_index_name(dev->irq_index), start, count, -ret);
	return ret;
}

int vfn_vfio_irq_enable(struct vfn_vfio_dev *dev, unsigned int start, unsigned int count, const int *efds)
{
	int ret;

	if (!dev || !efds || !count) {
		log_debug("vfio_irq_enable: NULL argument or no vectors");
		return -EINVAL;
	}
	if (start >= dev->msix_count || count > dev->msix_count - start) {
		log_debug("%s: %s vectors %u+%u beyond the %u the device has", dev->bdf, irq_index_name(dev->irq_index),
			  start, count, dev->msix_count);
		return -EINVAL;
	}
	if (!dev->msix_enabled) {
		/* Switch the type on for all its vectors (or as many as the kernel gives), every one unrouted. */
		ret = irq_switch_on(dev);
		if (ret) {
			log_err("%s: switching %s on (VFIO_DEVICE_SET_IRQS) failed: errno %d", dev->bdf,
				irq_index_name(dev->irq_index), -ret);
			return ret;
		}
		dev->msix_enabled = true;
		if (start >= dev->msix_count || count > dev->msix_count - start) {
			log_err("%s: %s vectors %u+%u: the kernel gives only %u", dev->bdf,
				irq_index_name(dev->irq_index), start, count, dev->msix_count);
			return -ENOSPC;
		}
	}
	return msix_set(dev, start, count, efds);
}

int vfn_vfio_irq_disable(struct vfn_vfio_dev *dev)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	int ret;

	if (!dev) {
		log_debug("vfio_irq_disable: NULL device");
		return -EINVAL;
	}
	if (!dev->msix_enabled)
		return 0;
	set.index = dev->irq_index;
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set)) {
		ret = -errno;
		log_err("%s: disabling %s failed: errno %d", dev->bdf, irq_index_name(dev->irq_index), -ret);
		return ret;
	}
	dev->msix_enabled = false;
	return 0;
}

int vfn_vfio_irq_set_mode(struct vfn_vfio_dev *dev, unsigned int index)
{
	int n;

	if (!dev || index > VFIO_PCI_MSIX_IRQ_INDEX) {
		log_debug("vfio_irq_set_mode: NULL device or index %u not INTx/MSI/MSI-X", index);
		return -EINVAL;
	}
	if (dev->msix_enabled) {
		log_err("%s: %s is on: disable it before switching interrupt type", dev->bdf,
			irq_index_name(dev->irq_index));
		return -EBUSY;
	}
	n = vfn_vfio_irq_count(dev, index);
	if (n < 0)
		return n;
	if (!n) {
		log_err("%s: the function has no %s interrupt (VFIO reports 0 vectors); choose another type", dev->bdf,
			irq_index_name(index));
		return -ENOTSUP;
	}
	dev->irq_index = index;
	dev->msix_count = (unsigned int)n;
	dev->irq_given = 0;
	return 0;
}

int vfn_vfio_irq_auto(struct vfn_vfio_dev *dev)
{
	static const unsigned int order[] = { VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
					      VFIO_PCI_INTX_IRQ_INDEX };
	unsigned int old_index, old_count, old_given;
	int ret = -ENOTSUP;

	if (!dev) {
		log_debug("vfio_irq_auto: NULL device");
		return -EINVAL;
	}
	if (dev->msix_enabled) {
		log_err("%s: %s is on: disable it before choosing the interrupt type again", dev->bdf,
			irq_index_name(dev->irq_index));
		return -EBUSY;
	}
	old_index = dev->irq_index;
	old_count = dev->msix_count;
	old_given = dev->irq_given;
	dev->irq_given = 0; /* each type counted as VFIO offers it, switch-on tells the rest */
	for (unsigned int i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int n = vfn_vfio_irq_count(dev, order[i]), r;

		if (n <= 0) {
			log_debug("%s: no %s interrupt", dev->bdf, irq_index_name(order[i]));
			if (n < 0)
				ret = n;
			continue;
		}
		dev->irq_index = order[i];
		dev->msix_count = (unsigned int)n;
		/* Switched on with every vector unrouted: what the kernel refuses, it refuses here. */
		r = irq_switch_on(dev);
		if (!r) {
			dev->msix_enabled = true;
			log_info("%s: %s interrupts, %u vector%s", dev->bdf, irq_index_name(order[i]), dev->msix_count,
				 dev->msix_count == 1 ? "" : "s");
			return (int)order[i];
		}
		log_info("%s: the kernel refused %s (VFIO_DEVICE_SET_IRQS: errno %d)%s", dev->bdf,
			 irq_index_name(order[i]), -r, order[i] ? ": trying the next type" : "");
		ret = r;
	}
	dev->irq_index = old_index;
	dev->msix_count = old_count;
	dev->irq_given = old_given;
	log_err("%s: no usable interrupt type (MSI-X, MSI and INTx absent or refused): %d", dev->bdf, ret);
	return ret;
}

int vfn_vfio_irq_mode(const struct vfn_vfio_dev *dev)
{
	return dev ? (int)dev->irq_index : -EINVAL;
}

int vfn_vfio_irq_unmask(struct vfn_vfio_dev *dev)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};

	if (!dev)
		return -EINVAL;
	if (dev->irq_index != VFIO_PCI_INTX_IRQ_INDEX || !dev->msix_enabled)
		return 0;
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &set)) {
		int ret = -errno;

		log_err("%s: unmasking INTx failed: errno %d", dev->bdf, -ret);
		return ret;
	}
	return 0;
}

/* Linux 6.8 UAPI (iommufd cdev path), absent from older headers. */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0)
#endif
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1)
#endif
#define HOT_RESET_DEVID_NOT_OWNED UINT32_MAX /* VFIO_PCI_DEVID_NOT_OWNED */

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: the functions a bus/slot reset would reach (free() it), or NULL with *@err. */
static struct vfio_pci_hot_reset_info *hot_reset_info(struct vfn_vfio_dev *dev, int *err)
{
	struct vfio_pci_hot_reset_info probe = { .argsz = sizeof(probe) }, *info;
	size_t argsz;

	if (!ioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &probe) || errno != ENOSPC) {
		log_err("%s: no bus or slot reset offered (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: errno %d)", dev->bdf,
			errno);
		*err = -ENOTSUP;
		return NULL;
	}
	argsz = sizeof(*info) + (size_t)probe.count * sizeof(struct vfio_pci_dependent_device);
	info = calloc(1, argsz);
	if (!info) {
		*err = -ENOMEM;
		return NULL;
	}
	info->argsz = (uint32_t)argsz;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info)) {
		*err = -errno;
		log_err("%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO failed: errno %d", dev->bdf, -*err);
		free(info);
		return NULL;
	}
	return info;
}

/*
 * The canonical address of function @d that a hot reset of @dev reaches.
 * VFIO reports only the low 16 bits of its PCI domain (segment is a
 * __u16: domain 0x10000 and up, e.g. behind Intel VMD, comes as 0); a bus
 * or slot reset stays within @dev's domain, so the domain is @dev's.
 */
static void dep_bdf(const struct vfn_vfio_dev *dev, const struct vfio_pci_dependent_device *d,
		    char out[VFN_PCI_BDF_LEN])
{
	unsigned long dom = strtoul(dev->bdf, NULL, 16);

	if ((dom & 0xffffu) != d->segment) /* not @dev's domain after all: as reported */
		dom = d->segment;
	snprintf(out, VFN_PCI_BDF_LEN, "%04lx:%02x:%02x.%x", dom & 0xfffffffful, d->bus & 0xffu,
		 (d->devfn >> 3) & 0x1fu, d->devfn & 7u);
}

/*
 * Refuses (-EBUSY) when a function the reset reaches is open in this
 * process through another vfn_vfio_dev than @dev: the kernel would allow it
 * (same group, or same iommufd context) and reset it under that handle's
 * feet.  Registry lock held.
 */
static int hot_reset_check_siblings(struct vfn_vfio_dev *dev, const struct vfio_pci_hot_reset_info *info)
{
	int ret = 0;

	for (uint32_t i = 0; i < info->count; i++) {
		const struct vfio_pci_dependent_device *d = &info->devices[i];
		char bdf[VFN_PCI_BDF_LEN];

		dep_bdf(dev, d, bdf);
		if (!registry_find_other(dev, bdf))
			continue;
		if (!strcmp(bdf, dev->bdf))
			log_err("%s: a bus reset would also reset %s through another handle open in this process; "
				"close it first",
				dev->bdf, bdf);
		else
			log_err("%s: a bus reset would also reset %s, open in this process; close it first", dev->bdf,
				bdf);
		ret = -EBUSY;
	}
	return ret;
}

/*
 * Refuses (-EBUSY) when a function the reset reaches, other than @dev's,
 * is not bound to vfio-pci: vfio-pci refuses the reset then
 * (VFIO_DEVICE_PCI_HOT_RESET: EINVAL on 6.1, measured), which would come
 * after the controller was stopped.
 */
static int hot_reset_check_drivers(struct vfn_vfio_dev *dev, const struct vfio_pci_hot_reset_info *info)
{
	for (uint32_t i = 0; i < info->count; i++) {
		const struct vfio_pci_dependent_device *d = &info->devices[i];
		char bdf[VFN_PCI_BDF_LEN], drv[64];
		int r;

		dep_bdf(dev, d, bdf);
		if (!strcmp(bdf, dev->bdf))
			continue;
		r = vfn_pci_get_driver(bdf, drv, sizeof(drv));
		if (!r && !strcmp(drv, "vfio-pci"))
			continue;
		if (r == -ENODEV) { /* `vfn bind` cannot help there */
			log_err("%s: a bus reset would also reset %s, which VFIO reports and sysfs does not show (is "
				"/sys the host's?)",
				dev->bdf, bdf);
			return -EBUSY;
		}
		log_err("%s: a bus reset would also reset %s, %s%s%s; run `vfn bind %s` first", dev->bdf, bdf,
			r	 ? "whose driver cannot be read"
			: drv[0] ? "bound to "
				 : "bound to no driver",
			!r && drv[0] ? drv : "", !r && drv[0] ? ", not vfio-pci" : "", bdf);
		return -EBUSY;
	}
	return 0;
}

/* vfn_vfio_hot_reset_check() with the registry lock held. */
static int hot_reset_check_locked(struct vfn_vfio_dev *dev)
{
	struct vfio_pci_hot_reset_info *info;
	int ret = 0, num = -1, gfd;

	info = hot_reset_info(dev, &ret);
	if (!info)
		return ret;
	ret = hot_reset_check_drivers(dev, info);
	if (ret) {
		free(info);
		return ret;
	}
	gfd = vfn_vfio_group_of(dev, &num);
	/*
	 * The cdev path: the kernel reports devids and whether every function
	 * reached is owned (bound to our iommufd context or in a group with
	 * one that is); asked here, so that a refusal comes before the
	 * controller is stopped rather than from VFIO_DEVICE_PCI_HOT_RESET after.
	 */
	if (gfd < 0 && (info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) &&
	    !(info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)) {
		for (uint32_t i = 0; i < info->count; i++) {
			char bdf[VFN_PCI_BDF_LEN];

			if (info->devices[i].group_id != HOT_RESET_DEVID_NOT_OWNED) /* devid: the same field */
				continue;
			dep_bdf(dev, &info->devices[i], bdf);
			log_err("%s: a bus reset would also reset %s, not owned here", dev->bdf, bdf);
		}
		ret = -EBUSY;
	}
	/* Every function the reset reaches must be ours: in our group. */
	for (uint32_t i = 0; gfd >= 0 && i < info->count && !ret; i++) {
		if (info->devices[i].group_id != (uint32_t)num) {
			char bdf[VFN_PCI_BDF_LEN];

			dep_bdf(dev, &info->devices[i], bdf);
			log_err("%s: a bus reset would also reset %s (IOMMU group %u, not ours)", dev->bdf, bdf,
				info->devices[i].group_id);
			ret = -EBUSY;
		}
	}
	if (!ret)
		ret = hot_reset_check_siblings(dev, info);
	free(info);
	return ret;
}

int vfn_vfio_hot_reset_check(struct vfn_vfio_dev *dev)
{
	int ret;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	ret = hot_reset_check_locked(dev);
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

int vfn_vfio_hot_reset(struct vfn_vfio_dev *dev)
{
	union {
		struct vfio_pci_hot_reset r;
		uint8_t raw[sizeof(struct vfio_pci_hot_reset) + sizeof(int32_t)];
	} u;
	int ret, num = -1, gfd;

	if (!dev)
		return -EINVAL;
	/* Held to the ioctl: no function the check passed is opened meanwhile. */
	pthread_mutex_lock(&registry_lock);
	ret = hot_reset_check_locked(dev);
	if (ret) {
		pthread_mutex_unlock(&registry_lock);
		return ret;
	}
	gfd = vfn_vfio_group_of(dev, &num);
	memset(&u, 0, sizeof(u));
	u.r.argsz = gfd >= 0 ? sizeof(u) : sizeof(u.r);
	u.r.count = gfd >= 0 ? 1 : 0; /* the cdev path: the device's iommufd context vouches */
	if (gfd >= 0)
		memcpy(u.r.group_fds, &(int32_t){ gfd }, sizeof(int32_t));
	if (ioctl(dev->fd, VFIO_DEVICE_PCI_HOT_RESET, &u.r)) {
		ret = -errno;
		log_err("%s: VFIO_DEVICE_PCI_HOT_RESET failed: errno %d", dev->bdf, -ret);
	}
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

int vfn_vfio_reset(struct vfn_vfio_dev *dev)
{
	int ret;

	if (!dev) {
		log_debug("vfio_reset: NULL device");
		return -EINVAL;
	}
	if (!(dev->flags & VFIO_DEVICE_FLAGS_RESET)) {
		log_debug("%s: the device offers no reset", dev->bdf);
		return -ENOTSUP;
	}
	if (ioctl(dev->fd, VFIO_DEVICE_RESET)) {
		ret = -errno;
		log_err("%s: VFIO_DEVICE_RESET failed: errno %d", dev->bdf, -ret);
		return ret;
	}
	return 0;
}
