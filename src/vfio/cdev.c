/* SPDX-License-Identifier: MIT */
/*
 * The VFIO device cdev + iommufd attach path: BDF -> sysfs vfio-dev/vfioN ->
 * open /dev/vfio/devices/vfioN -> bind it to the address space's iommufd
 * and attach it to its IOAS.  No groups, no container: each device is on
 * its own, and any number of them can share one IOAS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "iommu/iommu-priv.h"
#include "support/log.h"
#include "vfio-priv.h"

/* Opens the cdev of @dev->bdf.  Returns the fd or -errno, logged with the fix. */
static int cdev_open_fd(const struct vfn_vfio_dev *dev)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = vfn_pci_vfio_cdev(dev->bdf, path, sizeof(path));
	if (ret == -ENOENT) {
		log_err("%s has no VFIO device cdev (/dev/vfio/devices/vfioN): the kernel lacks"
			" CONFIG_VFIO_DEVICE_CDEV (Linux 6.6+); use VFN_IOMMU=type1",
			dev->bdf);
		return -ENXIO;
	}
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	if (ret == -ENOENT)
		log_err("%s: sysfs names %s but there is no such node; mount devtmpfs on /dev", dev->bdf, path);
	else if (ret == -EACCES || ret == -EPERM)
		log_err("%s: permission denied on %s; run as root or give this user access to it and to /dev/iommu",
			dev->bdf, path);
	else
		log_err("%s: cannot open %s: errno %d", dev->bdf, path, -ret);
	return ret;
}

/*
 * Attaches the device fd @fd to @iommu.  *@refused as
 * vfn_iommu_attach_device(); @fd is closed on failure.
 */
static int cdev_attach(struct vfn_vfio_dev *dev, struct vfn_iommu *iommu, int fd, bool *refused)
{
	int ret = vfn_iommu_attach_device(iommu, fd, refused);

	if (!ret)
		return 0;
	close(fd);
	/* The kernel refuses a second bind with EINVAL, a group held open with EBUSY. */
	if (!*refused && (ret == -EBUSY || ret == -EINVAL)) {
		log_err("%s is in use: another process (or this one) has it or its IOMMU group open", dev->bdf);
		return -EBUSY;
	}
	return ret;
}

/* The default IOAS, or a new one when the kernel will not attach the device to it. */
static int cdev_attach_default(struct vfn_vfio_dev *dev, int fd, struct vfn_iommu **out)
{
	struct vfn_iommu *iommu;
	bool refused;
	int ret;

	ret = vfn_iommu_get_default_backend(VFN_IOMMU_IOMMUFD, &iommu);
	if (ret) {
		close(fd);
		return ret;
	}
	ret = cdev_attach(dev, iommu, fd, &refused);
	if (ret && refused) {
		/* A bind cannot be undone: the new IOAS needs a new device fd. */
		log_info("%s cannot share the default IOAS (errno %d): using its own", dev->bdf, -ret);
		vfn_iommu_put(iommu);
		fd = cdev_open_fd(dev);
		if (fd < 0)
			return fd;
		ret = vfn_iommu_create_backend(VFN_IOMMU_IOMMUFD, &iommu);
		if (ret) {
			close(fd);
			return ret;
		}
		ret = cdev_attach(dev, iommu, fd, &refused);
	}
	if (ret) {
		vfn_iommu_put(iommu);
		return ret;
	}
	dev->fd = fd;
	*out = iommu;
	return 0;
}

static int cdev_attach_open(struct vfn_vfio_dev *dev, struct vfn_iommu *requested)
{
	struct vfn_iommu *iommu = requested;
	bool refused;
	int fd, ret;

	fd = cdev_open_fd(dev);
	if (fd < 0)
		return fd;
	if (requested) {
		ret = cdev_attach(dev, requested, fd, &refused);
		if (!ret) {
			vfn_iommu_get(requested);
			dev->fd = fd;
		}
	} else {
		ret = cdev_attach_default(dev, fd, &iommu);
	}
	if (ret) {
		log_err("%s: cannot attach to the IOAS: errno %d", dev->bdf, -ret);
		return ret;
	}
	dev->iommu = iommu; /* the reference taken above */
	log_debug("%s: device fd %d from its cdev, IOAS %u", dev->bdf, dev->fd, iommu->ioas_id);
	return 0;
}

/* The device fd is closed: the kernel has detached it; only bookkeeping is left. */
static void cdev_attach_close(struct vfn_vfio_dev *dev)
{
	vfn_iommu_detach_device(dev->iommu);
}

const struct vfn_vfio_attach_ops vfn_vfio_cdev_attach_ops = {
	.name = "cdev",
	.open = cdev_attach_open,
	.close = cdev_attach_close,
};
