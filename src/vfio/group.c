/* SPDX-License-Identifier: MIT */
/*
 * The group + type1 container attach path: BDF -> IOMMU group number ->
 * /dev/vfio/N -> attach the group to an address space -> device fd.
 *
 * A VFIO group can be opened once per system, so groups are process-wide:
 * devices of one group share one group fd and one address space, through a
 * refcounted list.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/iommu-priv.h"
#include "support/log.h"
#include "vfio-priv.h"

struct vfn_vfio_group {
	int num; /* IOMMU group number: /dev/vfio/num */
	int fd;
	int refs;		 /* devices open in the group */
	struct vfn_iommu *iommu; /* attached to; reference held */
	struct vfn_vfio_group *next;
};

/* Protects groups and every group's refs. */
static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfn_vfio_group *groups;

static struct vfn_vfio_group *group_find(int num)
{
	struct vfn_vfio_group *grp;

	for (grp = groups; grp; grp = grp->next)
		if (grp->num == num)
			return grp;
	return NULL;
}

/* Opens /dev/vfio/@num and checks the group is usable.  Returns the fd. */
static int group_open_fd(int num, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[32];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/vfio/%d", num);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_err("no %s: is %s bound to vfio-pci?", path, bdf);
		else if (ret == -EBUSY)
			log_err("group %d is in use by another process", num);
		else
			log_err("cannot open %s: errno %d", path, -ret);
		return ret;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		log_err("group %d: VFIO_GROUP_GET_STATUS failed: errno %d", num, -ret);
		goto close_fd;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_err("group %d is not viable: bind every device in it to vfio-pci", num);
		ret = -EBUSY;
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return ret;
}

/* The errors with which the kernel refuses to add a group to a container. */
static bool attach_refused(int err)
{
	return err == -EBUSY || err == -EPERM || err == -EINVAL;
}

/*
 * Attaches @grp to @requested, or to the process default; when the kernel
 * refuses to put the group in the default address space, to a new one.
 * On success grp->iommu holds a reference.
 */
static int group_attach(struct vfn_vfio_group *grp, struct vfn_iommu *requested)
{
	struct vfn_iommu *iommu = requested;
	int ret;

	if (requested) {
		vfn_iommu_get(requested);
	} else {
		ret = vfn_iommu_get_default_backend(VFN_IOMMU_TYPE1, &iommu);
		if (ret) {
			log_err("no default address space: errno %d", -ret);
			return ret;
		}
	}

	ret = vfn_iommu_attach_group(iommu, grp->fd);
	if (ret && !requested && attach_refused(ret)) {
		log_info("group %d cannot share the default address space (errno %d): using its own", grp->num, -ret);
		vfn_iommu_put(iommu);
		ret = vfn_iommu_create_type1(&iommu);
		if (ret) {
			log_err("cannot create an address space: errno %d", -ret);
			return ret;
		}
		ret = vfn_iommu_attach_group(iommu, grp->fd);
	}
	if (ret) {
		log_err("group %d: cannot attach to the address space: errno %d", grp->num, -ret);
		vfn_iommu_put(iommu);
		return ret;
	}
	grp->iommu = iommu;
	return 0;
}

/* Opens group @num, attaches it and adds it to the list.  Locked. */
static int group_new(int num, const char *bdf, struct vfn_iommu *requested, struct vfn_vfio_group **out)
{
	struct vfn_vfio_group *grp;
	int ret;

	grp = calloc(1, sizeof(*grp));
	if (!grp)
		return -ENOMEM;
	grp->num = num;
	grp->refs = 1;
	grp->fd = group_open_fd(num, bdf);
	if (grp->fd < 0) {
		ret = grp->fd;
		goto free_grp;
	}
	ret = group_attach(grp, requested);
	if (ret)
		goto close_fd;

	grp->next = groups;
	groups = grp;
	*out = grp;
	return 0;

close_fd:
	close(grp->fd);
free_grp:
	free(grp);
	return ret;
}

/* Finds or opens group @num with a reference for the caller.  Locked. */
static int group_get_locked(int num, const char *bdf, struct vfn_iommu *requested, struct vfn_vfio_group **out)
{
	struct vfn_vfio_group *grp = group_find(num);

	if (!grp)
		return group_new(num, bdf, requested, out);
	if (requested && requested != grp->iommu) {
		log_err("group %d is already attached to another address space", num);
		return -EBUSY;
	}
	grp->refs++;
	*out = grp;
	return 0;
}

/*
 * Drops a reference; the last one detaches and closes the group.  The lock
 * is held until the group fd is closed, so that a concurrent open of the
 * same group never finds /dev/vfio/N still busy.
 */
static void group_put(struct vfn_vfio_group *grp)
{
	struct vfn_vfio_group **pp;

	pthread_mutex_lock(&groups_lock);
	if (--grp->refs > 0)
		goto unlock;
	for (pp = &groups; *pp != grp; pp = &(*pp)->next)
		;
	*pp = grp->next;
	vfn_iommu_detach_group(grp->iommu, grp->fd);
	close(grp->fd);
	vfn_iommu_put(grp->iommu);
	free(grp);
unlock:
	pthread_mutex_unlock(&groups_lock);
}

/* VFIO_GROUP_GET_DEVICE_FD, with the reason of a failure in the log. */
static int group_device_fd(struct vfn_vfio_group *grp, const char *bdf)
{
	char name[VFN_PCI_BDF_LEN + 48];
	int fd, ret, drv;

	ret = vfio_vf_token_name(bdf, name, sizeof(name));
	if (ret)
		return ret;
	fd = ioctl(grp->fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd >= 0)
		return fd;
	ret = -errno;
	drv = vfn_vfio_check_driver(bdf); /* rebound meanwhile? logs to what */
	if (drv)
		return drv;
	log_err("%s: VFIO_GROUP_GET_DEVICE_FD on group %d failed: errno %d", bdf, grp->num, -ret);
	return ret;
}

static int group_attach_open(struct vfn_vfio_dev *dev, struct vfn_iommu *requested)
{
	struct vfn_vfio_group *grp;
	int num, ret;

	num = vfn_pci_iommu_group(dev->bdf);
	if (num < 0) {
		if (num == -ENOENT)
			log_err("%s has no IOMMU group: is the IOMMU enabled?", dev->bdf);
		return num;
	}

	pthread_mutex_lock(&groups_lock);
	ret = group_get_locked(num, dev->bdf, requested, &grp);
	pthread_mutex_unlock(&groups_lock);
	if (ret)
		return ret;

	ret = group_device_fd(grp, dev->bdf);
	if (ret < 0) {
		group_put(grp);
		return ret;
	}
	dev->fd = ret;
	dev->attach_priv = grp;
	vfn_iommu_get(grp->iommu);
	dev->iommu = grp->iommu;
	log_debug("%s: device fd %d from group %d", dev->bdf, dev->fd, num);
	return 0;
}

static void group_attach_close(struct vfn_vfio_dev *dev)
{
	group_put(dev->attach_priv);
	dev->attach_priv = NULL;
}

int vfn_vfio_group_of(struct vfn_vfio_dev *dev, int *num)
{
	struct vfn_vfio_group *grp = dev->attach_priv;

	if (dev->attach != &vfn_vfio_group_attach_ops || !grp)
		return -1;
	*num = grp->num;
	return grp->fd;
}

const struct vfn_vfio_attach_ops vfn_vfio_group_attach_ops = {
	.name = "group",
	.open = group_attach_open,
	.close = group_attach_close,
};
