/* SPDX-License-Identifier: MIT */
/*
 * vfn vfio: one PCI function opened through VFIO — its regions (BARs and
 * config space), MSI-X interrupts delivered to eventfds, reset, and the DMA
 * address space (struct vfn_iommu) it is attached to.
 *
 * The device fd comes from its VFIO cdev (/dev/vfio/devices/vfioN, attached
 * to an iommufd IOAS) or from its IOMMU group (/dev/vfio/N, attached to a
 * type1 container); everything done on it is the same either way.
 */
#ifndef VFN_VFIO_H
#define VFN_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vfn/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_vfio_dev;

/* Region indexes, as VFIO numbers them for PCI devices. */
enum vfn_vfio_region_index {
	VFN_VFIO_REGION_BAR0 = 0,
	VFN_VFIO_REGION_BAR5 = 5,
	VFN_VFIO_REGION_ROM = 6,
	VFN_VFIO_REGION_CONFIG = 7,
};

/* Interrupt types, as VFIO numbers them for PCI devices. */
enum vfn_vfio_irq_index {
	VFN_VFIO_IRQ_INTX = 0,
	VFN_VFIO_IRQ_MSI = 1,
	VFN_VFIO_IRQ_MSIX = 2,
};

#define VFN_VFIO_REGION_READ (1u << 0)
#define VFN_VFIO_REGION_WRITE (1u << 1)
#define VFN_VFIO_REGION_MMAP (1u << 2)

struct vfn_vfio_region {
	uint64_t size;	 /* bytes; 0 if the region does not exist */
	uint64_t offset; /* offset of the region in the device fd */
	uint32_t flags;	 /* VFN_VFIO_REGION_* */
};

/*
 * Open options.  Zero-initialise them: 0 is every field's default, and new
 * fields are added at the end, off at 0.
 */
struct vfn_vfio_opts {
	/*
	 * Address space to attach to; its backend decides how the device is
	 * opened (iommufd: through its cdev, type1: through its group).
	 * NULL: the process default of the backend chosen below, or a new
	 * one when the kernel will not let this device share it.  Devices of
	 * one IOMMU group always share their group's address space.
	 */
	struct vfn_iommu *iommu;
	/*
	 * VFN_IOMMU_AUTO: $VFN_IOMMU, else iommufd + cdev when /dev/iommu
	 * exists and the device has a cdev, else type1.  Forcing a backend
	 * other than @iommu's is -EINVAL.
	 */
	enum vfn_iommu_backend backend;
};

/*
 * The backend vfn_vfio_open() would use for @bdf with @want (see struct
 * vfn_vfio_opts.backend): VFN_IOMMU_TYPE1 or VFN_IOMMU_IOMMUFD, or
 * -EINVAL (bad @want, bad VFN_IOMMU value, malformed address).  Whether
 * the chosen one will work is found out by the open.
 */
VFN_API int vfn_vfio_pick_backend(const char *bdf, enum vfn_iommu_backend want);

/*
 * Opens @bdf through VFIO and reads its regions.  On iommufd: opens its cdev
 * /dev/vfio/devices/vfioN, binds it to the address space's iommufd and
 * attaches it to the IOAS.  On type1: finds its IOMMU group, opens
 * /dev/vfio/N, attaches the group to the container and gets the device fd.
 * @opts may be NULL.  Errors: -EINVAL (malformed address, bad backend
 * choice), -ENODEV (no such function), -ENOENT (no IOMMU group, or vfio or
 * iommufd not loaded: no /dev/vfio/vfio or /dev/iommu), -ENXIO (iommufd
 * asked for but the device has no cdev), -EBUSY (the device is bound to
 * another driver than vfio-pci, or it or its group is held by another
 * process, or already attached to another address space than
 * @opts->iommu), -EPERM/-EACCES (permissions on /dev/vfio or /dev/iommu),
 * -ENOTSUP (not a VFIO PCI device), -ENOMEM, or the kernel's -errno.  On
 * failure nothing stays open.  The log (info level) names the path taken.
 */
VFN_API int vfn_vfio_open(const char *bdf, const struct vfn_vfio_opts *opts, struct vfn_vfio_dev **out);

/*
 * Closes the device: disables interrupts, unmaps BARs, closes the fds and
 * drops the address-space reference.  NULL is ignored.
 */
VFN_API void vfn_vfio_close(struct vfn_vfio_dev *dev);

/* The canonical BDF the device was opened with. */
VFN_API const char *vfn_vfio_bdf(const struct vfn_vfio_dev *dev);

/* The address space the device is attached to (borrowed reference). */
VFN_API struct vfn_iommu *vfn_vfio_iommu(const struct vfn_vfio_dev *dev);

/* The VFIO device fd (owned by @dev), for ioctls vfn does not wrap. */
VFN_API int vfn_vfio_device_fd(const struct vfn_vfio_dev *dev);

/* Fills @info for region @index.  -EINVAL if @index is out of range. */
VFN_API int vfn_vfio_region_info(const struct vfn_vfio_dev *dev, unsigned int index, struct vfn_vfio_region *info);

/*
 * Reads/writes @len bytes at @off of region @index with pread/pwrite on the
 * device fd (works whether or not the region is mmappable).  Returns 0,
 * -EINVAL (out of the region's bounds, or region not readable/writable),
 * -EIO (short transfer), or -errno.
 */
VFN_API int vfn_vfio_region_read(struct vfn_vfio_dev *dev, unsigned int index, uint64_t off, void *buf, size_t len);
VFN_API int vfn_vfio_region_write(struct vfn_vfio_dev *dev, unsigned int index, uint64_t off, const void *buf,
				  size_t len);

/*
 * Maps BAR @bar into memory and stores its address and size.  The mapping is
 * owned by @dev, made once and reused, and removed by vfn_vfio_close().
 * -ENOTSUP if the region cannot be mmapped (use vfn_vfio_region_read/write),
 * -EINVAL if the BAR does not exist, or -errno from mmap.
 */
VFN_API int vfn_vfio_map_bar(struct vfn_vfio_dev *dev, unsigned int bar, void **addr, size_t *len);

/* Config space accessors (little-endian values converted to CPU order). */
VFN_API int vfn_vfio_cfg_read8(struct vfn_vfio_dev *dev, uint32_t off, uint8_t *v);
VFN_API int vfn_vfio_cfg_read16(struct vfn_vfio_dev *dev, uint32_t off, uint16_t *v);
VFN_API int vfn_vfio_cfg_read32(struct vfn_vfio_dev *dev, uint32_t off, uint32_t *v);
VFN_API int vfn_vfio_cfg_write16(struct vfn_vfio_dev *dev, uint32_t off, uint16_t v);
VFN_API int vfn_vfio_cfg_write32(struct vfn_vfio_dev *dev, uint32_t off, uint32_t v);

/* Sets or clears the Bus Master Enable bit in the command register. */
VFN_API int vfn_vfio_set_bus_master(struct vfn_vfio_dev *dev, bool enable);

/*
 * Returns the number of vectors the device offers for interrupt type @index
 * (VFN_VFIO_IRQ_MSIX, ...), 0 if none, or -errno.  For the type in use,
 * once the kernel gave fewer when switching it on (vfio-pci's "only N
 * available", e.g. multi-message MSI without interrupt remapping): that N.
 */
VFN_API int vfn_vfio_irq_count(struct vfn_vfio_dev *dev, unsigned int index);

/*
 * Routes vectors @start .. @start+@count-1 of the interrupt type in use
 * (MSI-X unless vfn_vfio_irq_set_mode() or vfn_vfio_irq_auto() chose
 * another) to the eventfds in @efds (-1 in an entry leaves that vector
 * unrouted); other vectors keep their routing.  The first call switches the
 * type on for all its vectors, or for as many as the kernel says it can
 * give (then those are the vectors the type has).  The eventfds stay owned
 * by the caller.  Returns 0, -EINVAL (@count 0, or range beyond
 * vfn_vfio_irq_count()), -ENOMEM, -ENOSPC (the range is beyond the vectors
 * the kernel gave), or -errno from VFIO_DEVICE_SET_IRQS.
 */
VFN_API int vfn_vfio_irq_enable(struct vfn_vfio_dev *dev, unsigned int start, unsigned int count, const int *efds);

/* Switches the interrupt type in use off (all its vectors).  0 if it was not on. */
VFN_API int vfn_vfio_irq_disable(struct vfn_vfio_dev *dev);

/*
 * Chooses the interrupt type vfn_vfio_irq_enable()/_disable() work on:
 * VFN_VFIO_IRQ_MSIX (the default), VFN_VFIO_IRQ_MSI or VFN_VFIO_IRQ_INTX
 * (one vector, 0, masked by VFIO each time it fires: see
 * vfn_vfio_irq_unmask()).  Returns 0, -EINVAL, -EBUSY (interrupts of the
 * current type are on: vfn_vfio_irq_disable() first), -ENOTSUP (the device
 * has none of that type), or -errno from VFIO_DEVICE_GET_IRQ_INFO.
 */
VFN_API int vfn_vfio_irq_set_mode(struct vfn_vfio_dev *dev, unsigned int index);

/*
 * Chooses the interrupt type by what the function has and the kernel
 * accepts: MSI-X, else MSI, else INTx.  Each type the function offers
 * (VFIO_DEVICE_GET_IRQ_INFO count > 0) is switched on with all its vectors
 * unrouted (VFIO_DEVICE_SET_IRQS); a type the kernel refuses there (e.g.
 * -ENOSPC: no vectors left, -EINVAL: MSI disabled, -ENODEV: no INTx line)
 * is logged (info) and the next one tried; vfio-pci's "only N available"
 * (a positive answer, the type left off) is asked again with N, and the type
 * is used with N vectors (vfn_vfio_irq_count()).  The chosen type stays on, every
 * vector unrouted: vfn_vfio_irq_enable() then routes vectors, and
 * vfn_vfio_irq_disable() switches it off (the type stays chosen).  Returns
 * the chosen enum vfn_vfio_irq_index, -EINVAL (NULL), -EBUSY (interrupts
 * are on: vfn_vfio_irq_disable() first), -ENOTSUP (no type offered), or the
 * -errno of the last refusal (then the type in use is left as it was).
 */
VFN_API int vfn_vfio_irq_auto(struct vfn_vfio_dev *dev);

/* The interrupt type in use (enum vfn_vfio_irq_index), or -EINVAL. */
VFN_API int vfn_vfio_irq_mode(const struct vfn_vfio_dev *dev);

/*
 * In INTx mode, unmasks the line VFIO masked when it fired (call after
 * reading its eventfd); 0 and nothing done in the other modes or while
 * off.  -errno from VFIO_DEVICE_SET_IRQS.
 */
VFN_API int vfn_vfio_irq_unmask(struct vfn_vfio_dev *dev);

/*
 * Resets the function (VFIO_DEVICE_RESET: FLR or whatever the kernel has).
 * -ENOTSUP if the device offers no reset.
 */
VFN_API int vfn_vfio_reset(struct vfn_vfio_dev *dev);

/*
 * PCI hot reset (secondary bus or slot reset: VFIO_DEVICE_PCI_HOT_RESET)
 * where VFIO allows it: every function the reset reaches must belong to
 * the caller (through the group path: be in the device's IOMMU group; the
 * cdev path: owned through the iommufd context, as the kernel reports it
 * in VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) and be bound to vfio-pci
 * (sysfs), and none but @dev's own may be open in this process through
 * another vfn_vfio_dev (a sibling function of a multifunction device, or a
 * second handle on this one): its state would be lost under that handle;
 * close it first.  Returns 0, -ENOTSUP (no bus or slot reset for this
 * function, e.g. on a root bus), -EBUSY (it would reach a function in
 * another group, not owned, not on vfio-pci, or open here through another
 * handle; the log names it), -ENOMEM, or -errno from VFIO.  Nothing is
 * reset when it refuses.
 */
VFN_API int vfn_vfio_hot_reset(struct vfn_vfio_dev *dev);

/* What vfn_vfio_hot_reset() checks first, without resetting: 0 if allowed, else its errors. */
VFN_API int vfn_vfio_hot_reset_check(struct vfn_vfio_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* VFN_VFIO_H */
