/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the vfio module.
 *
 * The "thin shim": how a device fd is obtained from the kernel, and attached
 * to a DMA address space, goes through struct vfn_vfio_attach_ops: the group
 * + type1 container path (group.c) and the device cdev + iommufd path
 * (cdev.c).  Everything done on the device fd itself
 * (regions, BAR mmap, config space, IRQs, reset) is shared code in device.c.
 */
#ifndef VFN_SRC_VFIO_PRIV_H
#define VFN_SRC_VFIO_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/vfio.h>

#include <vfn/pci.h>
#include <vfn/vfio.h>

struct vfn_vfio_attach_ops {
	const char *name;
	/*
	 * Obtains the device fd of dev->bdf and attaches the device to
	 * @requested (NULL: the process default, or a new address space when
	 * the kernel will not let the device share the default one).
	 * On success sets dev->fd, dev->iommu (a reference owned by @dev,
	 * dropped by device.c) and dev->attach_priv.  On failure nothing is
	 * held and dev->fd stays -1.  Errors as vfn_vfio_open().
	 */
	int (*open)(struct vfn_vfio_dev *dev, struct vfn_iommu *requested);
	/*
	 * Releases what open() set up besides the device fd and dev->iommu.
	 * Called after device.c has closed dev->fd.
	 */
	void (*close)(struct vfn_vfio_dev *dev);
};

/* VFIO groups + type1 containers (group.c). */
extern const struct vfn_vfio_attach_ops vfn_vfio_group_attach_ops;

/* VFIO device cdevs + iommufd (cdev.c). */
extern const struct vfn_vfio_attach_ops vfn_vfio_cdev_attach_ops;

/* group.c: the group fd (and its number in *@num) of a device opened through its group, else -1. */
int vfn_vfio_group_of(struct vfn_vfio_dev *dev, int *num);

/* BARs are regions 0..5. */
#define VFN_VFIO_NUM_BARS (VFN_VFIO_REGION_BAR5 + 1)

struct vfn_vfio_dev {
	char bdf[VFN_PCI_BDF_LEN]; /* canonical */
	int fd;			   /* device fd, -1 if not open */
	struct vfn_iommu *iommu;   /* reference held */
	const struct vfn_vfio_attach_ops *attach;
	void *attach_priv; /* the attach path's state */

	uint32_t flags;	       /* VFIO_DEVICE_FLAGS_* */
	unsigned int num_irqs; /* interrupt indexes */
	unsigned int nregions; /* entries valid in regions[] */
	struct vfn_vfio_region regions[VFIO_PCI_NUM_REGIONS];
	void *bars[VFN_VFIO_NUM_BARS]; /* mmap of each BAR, or NULL */

	unsigned int msix_count; /* MSI-X vectors offered */
	/*
	 * MSI-X is on in the kernel.  The first vfn_vfio_irq_enable() switches
	 * it on for the whole table (unrouted vectors get -1), so that later
	 * calls can route any range without turning it off and on again.
	 */
	bool msix_enabled;
	/*
	 * Appended: the interrupt type vfn_vfio_irq_enable() routes
	 * (VFIO_PCI_*_IRQ_INDEX, MSI-X unless vfn_vfio_irq_set_mode() chose
	 * another); msix_count and msix_enabled then describe that type.
	 */
	unsigned int irq_index;
	/*
	 * Appended: the next device open in this process (the registry of
	 * device.c that a PCI hot reset consults); registry lock held.
	 */
	struct vfn_vfio_dev *open_next;
	/*
	 * Appended: the vectors of irq_index the kernel gave when switching it
	 * on gave fewer than VFIO offers (vfn_vfio_irq_count() then says
	 * this many); 0: all of them.
	 */
	unsigned int irq_given;
};

/*
 * The process-wide registry of open VFIO devices (device.c): vfn_vfio_open()
 * adds the device once it is open, vfn_vfio_close() removes it first.  A PCI
 * hot reset refuses to reach a function registered here other than its
 * caller.  Thread-safe (a mutex); never touched on the I/O path.  Exposed for
 * unit tests, which register devices they faked.
 */
void vfn_vfio_registry_add(struct vfn_vfio_dev *dev);
void vfn_vfio_registry_del(struct vfn_vfio_dev *dev);

/*
 * Checks that @bdf exists and is bound to vfio-pci.  Returns 0, -ENODEV
 * (no such function), -EBUSY (unbound or bound to another driver; the log
 * names the driver), or -errno from sysfs.
 */
int vfn_vfio_check_driver(const char *bdf);

/*
 * The name to give VFIO_GROUP_GET_DEVICE_FD for @bdf: "BDF vf_token=UUID"
 * when vfn_vf_token_use() set a token and @bdf is a VF or an SR-IOV PF,
 * else the BDF (src/vfio/vf-token.c).
 */
int vfio_vf_token_name(const char *bdf, char *buf, size_t len);

#endif
