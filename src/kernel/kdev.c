/* SPDX-License-Identifier: MIT */
/*
 * Kernel shim, device nodes: open and validate /dev/nvmeN, /dev/ngNnM and
 * /dev/nvmeNnM, and send synchronous commands through the passthrough
 * ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>

#include "kernel/kernel.h"
#include "support/log.h"

#define SYSFS_DEV "/sys/dev"
#define PSDT_MASK (3u << 6)

/* Copies the last component of @path to @out (@len bytes, truncated). */
static void copy_basename(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t n = strlen(base);

	if (n >= len)
		n = len - 1;
	memcpy(out, base, n);
	out[n] = '\0';
}

/* The class of the sysfs device directory @dir ("nvme", "mem", ...). */
static int sysfs_subsystem(const char *dir, char *out, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(link, sizeof(link), "%s/subsystem", dir) >= sizeof(link))
		return -ENAMETOOLONG;
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	copy_basename(target, out, len);
	return 0;
}

/* True if the block device directory @dir belongs to an NVMe controller or subsystem. */
static bool sysfs_block_is_nvme(const char *dir)
{
	char parent[PATH_MAX], class[64];

	if ((size_t)snprintf(parent, sizeof(parent), "%s/..", dir) >= sizeof(parent))
		return false;
	if (sysfs_subsystem(parent, class, sizeof(class)))
		return false;
	return !strcmp(class, "nvme") || !strcmp(class, "nvme-subsystem");
}

static int classify_char(const char *path, const char *dir, struct vfn_kdev *kdev)
{
	char class[64];

	if (sysfs_subsystem(dir, class, sizeof(class))) {
		log_err("%s: char device without a sysfs class: not an NVMe device", path);
		return -ENODEV;
	}
	if (!strcmp(class, "nvme")) {
		kdev->kind = VFN_KDEV_CTRL;
		return 0;
	}
	if (!strcmp(class, "nvme-generic")) {
		kdev->kind = VFN_KDEV_NS_CHAR;
		return 0;
	}
	log_err("%s: not an NVMe device (a \"%s\" char device); expected /dev/nvmeN or /dev/ngNnM", path, class);
	return -ENODEV;
}

static int classify_block(const char *path, const char *dir, struct vfn_kdev *kdev)
{
	char attr[PATH_MAX], disk[64];

	snprintf(attr, sizeof(attr), "%s/partition", dir);
	if (!access(attr, F_OK)) {
		snprintf(attr, sizeof(attr), "%s/..", dir);
		if (!sysfs_block_is_nvme(attr)) {
			log_err("%s: not an NVMe device (a partition of another block device)", path);
			return -ENODEV;
		}
		snprintf(attr, sizeof(attr), "%s", dir);
		*strrchr(attr, '/') = '\0';
		copy_basename(attr, disk, sizeof(disk));
		log_err("%s: is a partition of /dev/%s; use the namespace", path, disk);
		return -EINVAL;
	}
	if (!sysfs_block_is_nvme(dir)) {
		log_err("%s: not an NVMe device (a block device of another driver)", path);
		return -ENODEV;
	}
	kdev->kind = VFN_KDEV_NS_BLOCK;
	return 0;
}

/* Finds what kind of NVMe node @st is through /sys/dev/{char,block}/MAJ:MIN. */
static int classify(const char *path, const struct stat *st, struct vfn_kdev *kdev)
{
	bool chr = S_ISCHR(st->st_mode);
	char node[128], *dir;
	int ret;

	snprintf(node, sizeof(node), SYSFS_DEV "/%s/%u:%u", chr ? "char" : "block", major(st->st_rdev),
		 minor(st->st_rdev));
	dir = realpath(node, NULL);
	if (!dir) {
		ret = errno == ENOMEM ? -ENOMEM : -ENODEV;
		log_err("%s: no sysfs node %s: not an NVMe device", path, node);
		return ret;
	}
	copy_basename(dir, kdev->name, sizeof(kdev->name));
	ret = chr ? classify_char(path, dir, kdev) : classify_block(path, dir, kdev);
	free(dir);
	return ret;
}

/*
 * Opens @path itself, not what it names: O_PATH touches no driver (opening
 * a watchdog, a tape or a tty has side effects), O_NOFOLLOW refuses a
 * symbolic link, so the checks below and the final open see one inode.
 */
static int open_path(const char *path, int *fd)
{
	int ret;

	if (!strchr(path, '/')) {
		log_debug("\"%s\" is not a device path (e.g. /dev/ng0n1)", path);
		return -EINVAL;
	}
	*fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	ret = -errno;
	log_err("%s: %s", path, strerror(-ret));
	return ret;
}

/* The checks on what @fd is: a device node, an NVMe one. */
static int check_node(const char *path, int fd, struct stat *st, struct vfn_kdev *kdev)
{
	if (fstat(fd, st)) {
		int ret = -errno;

		log_err("%s: %s", path, strerror(-ret));
		return ret;
	}
	if (S_ISLNK(st->st_mode)) {
		char *target = realpath(path, NULL);

		log_err("%s: is a symbolic link; give the device node itself (%s)", path,
			target ? target : "it points nowhere");
		free(target);
		return -ELOOP;
	}
	if (S_ISDIR(st->st_mode)) {
		log_err("%s: is a directory, not an NVMe device node", path);
		return -EISDIR;
	}
	if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode)) {
		log_err("%s: not a device node; expected /dev/nvmeN, /dev/ngNnM or /dev/nvmeNnM", path);
		return -ENOTTY;
	}
	return classify(path, st, kdev);
}

/*
 * Opens the node behind the O_PATH descriptor @pfd for I/O: through
 * /proc/self/fd, which reopens that very inode whatever @path names now;
 * without /proc, by name, refused if it is no longer the inode @st checked.
 */
static int reopen_node(const char *path, int pfd, const struct stat *st)
{
	const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	char self[64];
	struct stat fst;
	int fd, ret;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, flags & ~O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, flags);
	if (fd < 0) {
		ret = -errno;
		log_err("%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &fst) || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino || fst.st_rdev != st->st_rdev) {
		log_err("%s: changed while it was being opened", path);
		close(fd);
		return -ENODEV;
	}
	/* Non-blocking only for the open: the passthrough commands wait as usual. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* The namespace id of a namespace node (NVME_IOCTL_ID) into kdev->nsid. */
static int node_nsid(const char *path, struct vfn_kdev *kdev)
{
	int ret;

	if (kdev->kind == VFN_KDEV_CTRL)
		return 0;
	ret = ioctl(kdev->fd, NVME_IOCTL_ID);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -ENODEV;
		log_err("%s: NVME_IOCTL_ID: %s", path, strerror(-ret));
		return ret;
	}
	kdev->nsid = (uint32_t)ret;
	return 0;
}

int vfn_kdev_open(const char *path, struct vfn_kdev **out)
{
	struct vfn_kdev *kdev;
	struct stat st;
	int pfd, ret;

	if (!path || !out) {
		log_debug("vfn_kdev_open: NULL argument");
		return -EINVAL;
	}
	ret = open_path(path, &pfd);
	if (ret)
		return ret;
	kdev = calloc(1, sizeof(*kdev));
	if (!kdev) {
		ret = -ENOMEM;
		goto close_pfd;
	}
	ret = check_node(path, pfd, &st, kdev);
	if (ret)
		goto free_kdev;
	kdev->fd = reopen_node(path, pfd, &st);
	if (kdev->fd < 0) {
		ret = kdev->fd;
		goto free_kdev;
	}
	ret = node_nsid(path, kdev);
	if (ret)
		goto close_fd;
	close(pfd);
	log_debug("%s: %s, nsid %u", path, kdev->name, kdev->nsid);
	*out = kdev;
	return 0;

close_fd:
	close(kdev->fd);
free_kdev:
	free(kdev);
close_pfd:
	close(pfd);
	return ret;
}

void vfn_kdev_close(struct vfn_kdev *kdev)
{
	if (!kdev)
		return;
	close(kdev->fd);
	free(kdev);
}

/* Sends one passthrough ioctl @req for @sqe and converts its result. */
static int kdev_passthru(struct vfn_kdev *kdev, unsigned long req, const struct vfn_nvme_sqe *sqe, void *buf,
			 size_t len, void *meta, size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	struct nvme_passthru_cmd64 c = {
		.opcode = sqe->opcode,
		.flags = (uint8_t)(sqe->flags & ~PSDT_MASK),
		.nsid = vfn_le32_to_cpu(sqe->nsid),
		.cdw2 = vfn_le32_to_cpu(sqe->cdw2),
		.cdw3 = vfn_le32_to_cpu(sqe->cdw3),
		.addr = len ? (uintptr_t)buf : 0, /* the data pointer is ours: none without data */
		.data_len = (uint32_t)len,
		.metadata = meta_len ? (uintptr_t)meta : 0,
		.metadata_len = (uint32_t)meta_len,
		.cdw10 = vfn_le32_to_cpu(sqe->cdw10),
		.cdw11 = vfn_le32_to_cpu(sqe->cdw11),
		.cdw12 = vfn_le32_to_cpu(sqe->cdw12),
		.cdw13 = vfn_le32_to_cpu(sqe->cdw13),
		.cdw14 = vfn_le32_to_cpu(sqe->cdw14),
		.cdw15 = vfn_le32_to_cpu(sqe->cdw15),
		.timeout_ms = timeout_ms,
	};
	int ret;

	if (len > UINT32_MAX || (len && !buf) || meta_len > UINT32_MAX || (meta_len && !meta)) {
		log_debug("%s: bad buffer (%p, %zu bytes; metadata %p, %zu bytes)", kdev->name, buf, len, meta,
			  meta_len);
		return -EINVAL;
	}
	ret = ioctl(kdev->fd, req, &c);
	if (ret < 0) {
		ret = -errno;
		log_debug("%s: opcode 0x%02x: %s", kdev->name, sqe->opcode, strerror(-ret));
		return ret;
	}
	if (cqe) {
		memset(cqe, 0, sizeof(*cqe));
		cqe->dw0 = vfn_cpu_to_le32((uint32_t)c.result);
		cqe->dw1 = vfn_cpu_to_le32((uint32_t)(c.result >> 32));
		cqe->sfp = vfn_cpu_to_le16((uint16_t)(ret << 1));
	}
	/* The kernel returns the status field (without the phase tag). */
	return vfn_nvme_status_to_errno((uint16_t)ret);
}

int vfn_kdev_admin(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		   struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	if (!kdev || !sqe) {
		log_debug("vfn_kdev_admin: NULL argument");
		return -EINVAL;
	}
	return kdev_passthru(kdev, NVME_IOCTL_ADMIN64_CMD, sqe, buf, len, NULL, 0, cqe, timeout_ms);
}

int vfn_kdev_io_meta(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		     size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	if (!kdev || !sqe) {
		log_debug("kdev: I/O command: NULL device or sqe");
		return -EINVAL;
	}
	if (kdev->kind == VFN_KDEV_CTRL) {
		log_err("%s: I/O commands need a namespace node (/dev/ngXnY or /dev/nvmeXnY)", kdev->name);
		return -ENOTSUP;
	}
	return kdev_passthru(kdev, NVME_IOCTL_IO64_CMD, sqe, buf, len, meta, meta_len, cqe, timeout_ms);
}

int vfn_kdev_io(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
		uint32_t timeout_ms)
{
	return vfn_kdev_io_meta(kdev, sqe, buf, len, NULL, 0, cqe, timeout_ms);
}
