/* SPDX-License-Identifier: MIT */
/*
 * The kernel shim: NVMe commands through the Linux nvme driver instead of
 * VFIO.  Internal (hidden) interface; the device handle is built on it.
 *
 *   vfn_kdev_*   one open device node: /dev/nvmeN (controller, admin only),
 *                /dev/ngNnM (generic namespace char device), /dev/nvmeNnM
 *                (namespace block device); synchronous admin and I/O
 *                commands through NVME_IOCTL_ADMIN64_CMD / NVME_IOCTL_IO64_CMD
 *   vfn_kring_*  asynchronous I/O through io_uring IORING_OP_URING_CMD
 *                (NVME_URING_CMD_IO) on a generic char device, with rings
 *                of 128-byte SQEs and 32-byte CQEs set up by hand (no
 *                liburing)
 *
 * Return contract as vfn_nvme_admin_sync(): 0 on success, -EIO when the
 * controller completed the command with an error status (the completion is
 * in @cqe), another negative errno when the kernel refused or failed it.
 * See docs/kernel.md.
 */
#ifndef VFN_SRC_KERNEL_KERNEL_H
#define VFN_SRC_KERNEL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/nvme.h>

enum vfn_kdev_kind {
	VFN_KDEV_CTRL,	   /* /dev/nvmeN: controller char device */
	VFN_KDEV_NS_CHAR,  /* /dev/ngNnM: generic namespace char device */
	VFN_KDEV_NS_BLOCK, /* /dev/nvmeNnM: namespace block device */
};

struct vfn_kdev {
	int fd;
	enum vfn_kdev_kind kind;
	uint32_t nsid; /* from NVME_IOCTL_ID; 0 for a controller */
	char name[64]; /* the sysfs name, e.g. "ng0n1" */
};

/*
 * Opens the NVMe device node @path and checks with fstat and sysfs that it
 * is one (the kind goes to kdev->kind).  Free with vfn_kdev_close().
 * Errors: -EINVAL (@path has no '/', e.g. a PCI address; or it is a
 * partition of a namespace), -ENOENT, -EISDIR, -ENOTTY (not a device
 * node), -ENODEV (a device, but not an NVMe one), -EACCES, -ENOMEM, or
 * what open/NVME_IOCTL_ID said.
 */
int vfn_kdev_open(const char *path, struct vfn_kdev **out);

/* Closes the node and frees @kdev.  NULL is ignored. */
void vfn_kdev_close(struct vfn_kdev *kdev);

/*
 * Sends the admin command @sqe through NVME_IOCTL_ADMIN64_CMD (any kind of
 * node).  The kernel picks the command id and builds the data pointer for
 * @buf/@len (may be NULL/0; the direction comes from the opcode); @sqe's
 * cid, mptr and dptr are ignored.  @timeout_ms 0: the driver's default.
 * The completion (DW0/DW1 = the result, the status) goes to @cqe (may be
 * NULL).  Returns 0, -EIO (error status), or the kernel's -errno.
 */
int vfn_kdev_admin(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		   struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);

/*
 * Sends the I/O command @sqe through NVME_IOCTL_IO64_CMD on a namespace
 * node, as vfn_kdev_admin().  The nsid is sent as given (the kernel refuses
 * one that is not the node's).  -ENOTSUP on a controller node.
 */
int vfn_kdev_io(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, struct vfn_nvme_cqe *cqe,
		uint32_t timeout_ms);

/* vfn_kdev_io() with a separate metadata buffer (the ioctl's metadata/metadata_len). */
int vfn_kdev_io_meta(struct vfn_kdev *kdev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
		     size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms);

/* ---- io_uring passthrough ------------------------------------------------ */

struct vfn_kring;

/*
 * Called by vfn_kring_reap() once per completion: @ret is 0, -EIO (error
 * status in @cqe) or the kernel's -errno; @cqe holds DW0/DW1 and the status
 * (sqhd, sqid, cid are 0: the kernel does not report them).  With a
 * -errno the controller did not complete the command: @cqe is a made-up
 * completion with status Command Aborted By Host (VFN_NVME_SC_HOST_ABORTED).
 */
typedef void (*vfn_kring_cb_t)(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe);

/*
 * Tells whether the running kernel offers what vfn_kring_create() needs:
 * io_uring with SQE128/CQE32 rings, IORING_FEAT_EXT_ARG (wait with a
 * timeout) and IORING_OP_URING_CMD.  Returns 0 or
 * -ENOTSUP (logged with the reason: no io_uring, io_uring_disabled, too old),
 * or a resource error of io_uring_setup (-EMFILE, -ENOMEM).
 */
int vfn_kring_probe(void);

/*
 * Sets up an io_uring of @entries (1..4096, rounded up to a power of 2 by
 * the kernel) submission slots for URING_CMD I/O on @kdev, a generic char
 * device (borrowed: it must outlive the ring).  The completion ring has
 * twice as many slots, so at most that many commands are in flight.
 * Errors: -ENOTSUP (no io_uring passthrough in this kernel, or @kdev is not
 * a /dev/ngXnY node: fall back to vfn_kdev_io()), -EINVAL, -ENOMEM, or the
 * kernel's -errno.
 */
int vfn_kring_create(struct vfn_kdev *kdev, uint32_t entries, struct vfn_kring **out);

/*
 * Unmaps and closes the ring.  Commands queued and not yet taken by the
 * kernel are dropped unsent; those it took may still move data until they
 * complete, so it first waits for them (their completions are discarded),
 * at most vfn_kring_timeout() in all (then logs how many it left behind).
 * NULL is ignored.
 */
void vfn_kring_destroy(struct vfn_kring *ring);

/*
 * The timeout the kernel driver gives each command submitted from now on
 * (nvme_uring_cmd.timeout_ms, as the ioctls' timeout_ms): past it the
 * driver aborts the command (and, if that fails, resets the controller) and
 * completes it with an error.  0 (the default): the driver's io_timeout.
 */
void vfn_kring_set_timeout(struct vfn_kring *ring, uint32_t timeout_ms);

/* The per-command timeout in effect: vfn_kring_set_timeout()'s, else nvme_core.io_timeout (ms). */
uint32_t vfn_kring_timeout(const struct vfn_kring *ring);

/*
 * Queues the I/O command @sqe on @buf/@len (the caller's memory, untouched
 * until the completion) with @user_data, without a system call.  Returns 0
 * or -EBUSY (the submission ring is full, or as many commands are in
 * flight as the completion ring holds: flush and reap first).
 */
int vfn_kring_submit(struct vfn_kring *ring, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, uint64_t user_data);

/* vfn_kring_submit() with a separate metadata buffer (the command's metadata/metadata_len). */
int vfn_kring_submit_meta(struct vfn_kring *ring, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			  size_t meta_len, uint64_t user_data);

/*
 * Hands the queued commands to the kernel (one io_uring_enter) and, when
 * @wait_nr is not 0, waits in the same call until at least @wait_nr
 * completions are there to reap.  The kernel may take fewer commands than
 * were queued (and then returns without waiting): the others stay queued
 * for the next call (vfn_kring_queued()).  Returns how many commands were
 * submitted, or -errno (-EINTR: interrupted; nothing is lost, call again).
 */
int vfn_kring_enter(struct vfn_kring *ring, uint32_t wait_nr);

/* vfn_kring_enter(@ring, 0): submits the queued batch. */
int vfn_kring_flush(struct vfn_kring *ring);

/*
 * vfn_kring_enter(@ring, @wait_nr) (1..) waiting at most @timeout_ms (0:
 * without limit): -ETIMEDOUT when that passed first (the commands stay in
 * flight), else as vfn_kring_enter().
 */
int vfn_kring_wait(struct vfn_kring *ring, uint32_t wait_nr, uint32_t timeout_ms);

/* Commands queued with vfn_kring_submit() that the kernel has not taken yet. */
uint32_t vfn_kring_queued(const struct vfn_kring *ring);

/*
 * Consumes up to @max (0: all) completions, calling @cb (not NULL) for
 * each, without a system call.  Each CQE's slot is handed back to the
 * kernel before its callback runs, so @cb may submit and enter; it must
 * not reap on the same ring.  When the CQ is empty but the kernel flagged
 * an overflow (IORING_SQ_CQ_OVERFLOW), one io_uring_enter moves the
 * overflowed completions in and they are reaped too.  Returns how many.
 */
int vfn_kring_reap(struct vfn_kring *ring, uint32_t max, vfn_kring_cb_t cb, void *arg);

/*
 * Registers the eventfd @efd with the ring (IORING_REGISTER_EVENTFD): the
 * kernel signals it for every completion posted.  0 or -errno.
 */
int vfn_kring_register_eventfd(struct vfn_kring *ring, int efd);

/* True when completions are waiting for vfn_kring_reap() (no system call). */
bool vfn_kring_ready(const struct vfn_kring *ring);

/* Commands submitted to the kernel or queued, and not yet reaped. */
uint32_t vfn_kring_inflight(const struct vfn_kring *ring);

#endif
