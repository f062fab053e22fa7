/* SPDX-License-Identifier: MIT */
/*
 * Device handle backend "kernel": the Linux nvme driver's passthrough
 * through the kernel shim (src/kernel).  Synchronous commands are the
 * ioctls; a vfn_dev_queue is an io_uring URING_CMD ring on /dev/ngXnY, or,
 * when the kernel has none or the node is a block device, the I/O ioctl
 * run at submit time with the completion handed out by the next poll.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/dev-priv.h"
#include "support/log.h"

#define KDEV_MAX_QD 4096u

/* ---- probe and open ------------------------------------------------------ */

static int kernel_probe(const char *uri, char *why, size_t len)
{
	if (!strchr(uri, '/')) {
		snprintf(why, len, "not a device path (e.g. /dev/nvme0, /dev/ng0n1, /dev/nvme0n1)");
		return -EINVAL;
	}
	return 0;
}

static void kernel_close(struct vfn_dev *dev)
{
	vfn_kdev_close(dev->kdev);
}

/* One number from the namespace disk's /sys/block/nvmeXnY/queue/@attr, or @dflt. */
static unsigned long kernel_queue_attr(const struct vfn_kdev *kdev, const char *attr, unsigned long dflt)
{
	unsigned long v = dflt;
	unsigned int ctrl, ns;
	char path[128];
	FILE *f;

	if (sscanf(kdev->name, "ng%un%u", &ctrl, &ns) != 2 && sscanf(kdev->name, "nvme%un%u", &ctrl, &ns) != 2)
		return dflt;
	snprintf(path, sizeof(path), "/sys/block/nvme%un%u/queue/%s", ctrl, ns, attr);
	f = fopen(path, "re");
	if (!f)
		return dflt;
	if (fscanf(f, "%lu", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/*
 * The block layer's limit on one passthrough command: max_hw_sectors_kb,
 * and max_segments pages, one less for a buffer that does not start on a
 * page (the synchronous calls take any memory).  0: unknown.
 */
static size_t kernel_max_hw(const struct vfn_kdev *kdev)
{
	size_t hw, segs, page = (size_t)sysconf(_SC_PAGESIZE);

	hw = (size_t)kernel_queue_attr(kdev, "max_hw_sectors_kb", 0) * 1024;
	segs = kernel_queue_attr(kdev, "max_segments", 0);
	if (segs > 1 && (!hw || (segs - 1) * page < hw))
		hw = (segs - 1) * page;
	return hw;
}

/*
 * The block layer maps a passthrough buffer whose address is aligned to
 * the queue's dma_alignment (a mask: 3 for NVMe since Linux 6.0) straight
 * into the command; any other it bounces, and copies the whole bounce back
 * after a read whatever became of it, zeroes included.  Without the
 * namespace disk's limit (a controller node, older kernels) the block
 * layer's default, 511.
 */
#define KDEV_DEFAULT_DMA_ALIGN 511ul

static int kernel_open(struct vfn_dev *dev, const char *uri, const struct vfn_dev_opts *opts)
{
	int ret;

	(void)opts;
	ret = vfn_kdev_open(uri, &dev->kdev);
	if (ret)
		return ret;
	dev->kalign = kernel_queue_attr(dev->kdev, "dma_alignment", KDEV_DEFAULT_DMA_ALIGN);
	return 0;
}

/*
 * MDTS is in units of CAP.MPSMIN, which the kernel does not show; the
 * Linux driver needs 4 KiB pages, so 4 KiB is taken, then lowered to the
 * block layer's limit when the namespace disk is there.
 */
static void kernel_limits(struct vfn_dev *dev)
{
	size_t mdts = dev->mdts && dev->mdts < 40 ? (size_t)4096 << dev->mdts : 0, hw = kernel_max_hw(dev->kdev);

	if (hw && (!mdts || hw < mdts))
		mdts = hw;
	dev->info.max_xfer = mdts;
	dev->info.max_queues = 0;
	dev->info.max_qd = KDEV_MAX_QD;
	dev->info.io = dev->kdev->kind != VFN_KDEV_CTRL;
}

/* ---- synchronous commands ------------------------------------------------ */

/*
 * One passthrough ioctl.  A buffer the kernel would bounce (see
 * kernel_open()) goes through a page-aligned copy of our own instead,
 * copied back only when the controller completed the command: what it did
 * not write stays as it was, as on VFIO.
 */
static int kernel_sync(struct vfn_dev *dev, bool admin, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		       struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	ssize_t blen = 0;
	void *b = buf;
	int ret;

	if (len && len <= UINT32_MAX && ((uintptr_t)buf & dev->kalign)) {
		blen = vfn_mem_alloc(len, &b);
		if (blen < 0)
			return (int)blen;
		memcpy(b, buf, len);
	}
	ret = admin ? vfn_kdev_admin(dev->kdev, sqe, b, len, cqe, timeout_ms)
		    : vfn_kdev_io(dev->kdev, sqe, b, len, cqe, timeout_ms);
	if (blen) {
		/* The ioctl returns once the kernel is done with the buffer, whatever the result. */
		if (vfn_dev_completed(ret, cqe) && (sqe->opcode & VFN_NVME_XFER_FROM_DEV))
			memcpy(buf, b, len);
		vfn_mem_free(b, (size_t)blen);
	}
	return ret;
}

static int kernel_admin(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	return kernel_sync(dev, true, sqe, buf, len, cqe, timeout_ms);
}

static int kernel_io(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		     struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	return kernel_sync(dev, false, sqe, buf, len, cqe, timeout_ms);
}

/* The metadata goes as the ioctl's metadata/metadata_len (the driver maps or bounces it). */
static int kernel_io_meta(struct vfn_dev *dev, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			  size_t meta_len, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	if (len && ((uintptr_t)buf & dev->kalign)) {
		log_debug("%s: data buffer %p not aligned for the driver: use vfn_dev_buf_alloc()", dev->info.name,
			  buf);
		return -EINVAL;
	}
	return vfn_kdev_io_meta(dev->kdev, sqe, buf, len, meta, meta_len, cqe, timeout_ms);
}

static ssize_t kernel_buf_alloc(struct vfn_dev *dev, size_t len, void **buf)
{
	(void)dev;
	return vfn_mem_alloc(len, buf);
}

static void kernel_buf_free(struct vfn_dev *dev, void *buf, size_t len)
{
	(void)dev;
	vfn_mem_free(buf, len);
}

/* ---- queues ---------------------------------------------------------------- */

static int kernel_ring_init(struct vfn_dev_queue *q)
{
	int ret = vfn_kring_create(q->dev->kdev, q->depth, &q->ring);

	if (ret)
		return ret;
	/* Each command carries the handle's timeout; the driver ends it there. */
	vfn_kring_set_timeout(q->ring, q->dev->timeout_ms);
	q->timeout_ms = vfn_kring_timeout(q->ring);
	q->ctx = calloc(q->depth, sizeof(*q->ctx));
	q->free_slots = calloc(q->depth, sizeof(*q->free_slots));
	if (!q->ctx || !q->free_slots) {
		free(q->ctx);
		free(q->free_slots);
		vfn_kring_destroy(q->ring);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < q->depth; i++)
		q->free_slots[i] = q->depth - 1 - i;
	q->nr_free = q->depth;
	return 0;
}

static int kernel_queue_create(struct vfn_dev_queue *q)
{
	struct vfn_kdev *kdev = q->dev->kdev;
	int ret;

	if (kdev->kind == VFN_KDEV_CTRL) {
		log_err("%s: a controller node takes no I/O; use a namespace node (/dev/ngXnY)", q->dev->info.name);
		return -ENOTSUP;
	}
	if (kdev->kind == VFN_KDEV_NS_CHAR) {
		ret = kernel_ring_init(q);
		if (ret != -ENOTSUP)
			return ret;
	}
	log_info("%s: no io_uring passthrough here; the queue runs each command through the I/O ioctl",
		 q->dev->info.name);
	q->done = calloc(q->depth, sizeof(*q->done));
	return q->done ? 0 : -ENOMEM;
}

static void kernel_queue_destroy(struct vfn_dev_queue *q)
{
	vfn_kring_destroy(q->ring);
	free(q->ctx);
	free(q->free_slots);
	free(q->done);
}

/* The ioctl fallback: runs the command now, keeps its completion for poll. */
static int kernel_sync_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			      void *meta, size_t meta_len, vfn_dev_cb cb, void *arg)
{
	struct vfn_dev_done *d = &q->done[(q->done_head + q->inflight) % q->depth];

	d->ctx = (struct vfn_dev_ctx){ cb, arg };
	memset(&d->cqe, 0, sizeof(d->cqe));
	d->ret = meta_len ? kernel_io_meta(q->dev, sqe, buf, len, meta, meta_len, &d->cqe, q->dev->timeout_ms)
			  : kernel_sync(q->dev, false, sqe, buf, len, &d->cqe, q->dev->timeout_ms);
	if (!vfn_dev_completed(d->ret, &d->cqe))
		d->cqe.sfp = vfn_cpu_to_le16((uint16_t)(VFN_NVME_SC_HOST_ABORTED << 1));
	q->inflight++;
	return 0;
}

static int kernel_submit(struct vfn_dev_queue *q, const struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			 size_t meta_len, vfn_dev_cb cb, void *arg)
{
	uint32_t slot;
	int ret;

	if (!q->ring)
		return kernel_sync_submit(q, sqe, buf, len, meta, meta_len, cb, arg);
	slot = q->free_slots[q->nr_free - 1];
	ret = vfn_kring_submit_meta(q->ring, sqe, buf, len, meta, meta_len, slot);
	if (vfn_unlikely(ret))
		return ret;
	q->nr_free--;
	q->ctx[slot] = (struct vfn_dev_ctx){ cb, arg };
	q->inflight++;
	return 0;
}

static int kernel_sync_poll(struct vfn_dev_queue *q, uint32_t max)
{
	uint32_t n = 0;

	while (q->inflight && (!max || n < max)) {
		struct vfn_dev_done d = q->done[q->done_head];

		q->done_head = (q->done_head + 1) % q->depth;
		q->inflight--;
		q->completed++;
		n++;
		d.ctx.cb(d.ctx.arg, d.ret, &d.cqe);
	}
	return (int)n;
}

static void kernel_ring_done(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_dev_queue *q = arg;
	struct vfn_dev_ctx c = q->ctx[user_data];

	q->free_slots[q->nr_free++] = (uint32_t)user_data;
	q->inflight--;
	q->completed++;
	c.cb(c.arg, ret, cqe);
}

/*
 * Hands what is queued to the kernel, if anything (no system call
 * otherwise).  The kernel may take only some: the rest stay queued for the
 * next poll.  A full kernel (-EAGAIN, -EBUSY) or a signal is not an error:
 * the commands stay queued.
 */
static int kernel_flush(struct vfn_dev_queue *q)
{
	int ret;

	if (!vfn_kring_queued(q->ring))
		return 0;
	ret = vfn_kring_flush(q->ring);
	if (ret == -EAGAIN || ret == -EBUSY || ret == -EINTR)
		return 0;
	return ret < 0 ? ret : 0;
}

/*
 * vfn_dev_wait() on the ring: until a callback ran, submits what is still
 * queued and waits in the kernel, at most q->timeout_ms in all.
 */
static int kernel_ring_wait(struct vfn_dev_queue *q, uint32_t max, uint32_t before)
{
	uint64_t deadline = vfn_now_ns() + (uint64_t)q->timeout_ms * 1000000, now;
	int ret;

	for (;;) {
		now = vfn_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		ret = vfn_kring_wait(q->ring, 1, (uint32_t)((deadline - now + 999999) / 1000000));
		if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
		vfn_kring_reap(q->ring, max, kernel_ring_done, q);
		if (q->completed != before || !q->inflight)
			return (int)(q->completed - before);
	}
}

static int kernel_poll(struct vfn_dev_queue *q, uint32_t max, bool wait)
{
	uint32_t before = q->completed;
	int ret;

	if (!q->ring)
		return kernel_sync_poll(q, max);
	ret = kernel_flush(q);
	if (ret)
		return ret;
	vfn_kring_reap(q->ring, max, kernel_ring_done, q);
	if (q->completed != before || !wait || !q->inflight)
		return (int)(q->completed - before);
	return kernel_ring_wait(q, max, before);
}

static const struct vfn_dev_ops kernel_ops = {
	.io_meta = kernel_io_meta,
	.admin = kernel_admin,
	.io = kernel_io,
	.queue_create = kernel_queue_create,
	.queue_destroy = kernel_queue_destroy,
	.submit = kernel_submit,
	.poll = kernel_poll,
	.buf_alloc = kernel_buf_alloc,
	.buf_free = kernel_buf_free,
	.limits = kernel_limits,
	.close = kernel_close,
};

const struct vfn_dev_backend_desc vfn_dev_backend_kernel = {
	.name = "kernel",
	.id = VFN_DEV_KERNEL,
	.probe = kernel_probe,
	.open = kernel_open,
	.ops = &kernel_ops,
};
