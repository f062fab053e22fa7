/* SPDX-License-Identifier: MIT */
/*
 * Block API backend "io_uring_cmd": NVMe commands through the kernel nvme
 * driver's io_uring passthrough on a generic namespace node (/dev/ngXnY),
 * over the device handle's kernel queues (src/dev/dev-kernel.c, one
 * io_uring URING_CMD ring per queue, src/kernel/kring.c).
 *
 * The kernel builds the data pointer from one buffer per command, so a
 * request of one segment is split at MDTS only; a request of several
 * segments goes through the queue's bounce buffers (counted).  The queue's
 * fd is an eventfd registered with its ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk/blk-priv.h"
#include "dev/dev-priv.h"
#include "kernel/kernel.h"
#include "support/log.h"

int vfn_blk_pt_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts)
{
	struct vfn_dev_opts dopts = { .backend = "kernel", .nsid = opts ? opts->nsid : 0 };
	const struct vfn_dev_info *info;
	int ret;

	ret = vfn_dev_open(uri, &dopts, &blk->dev);
	if (ret)
		return ret;
	info = vfn_dev_get_info(blk->dev);
	if (blk->dev->kdev->kind != VFN_KDEV_NS_CHAR || !info->nsid || info->ms) {
		log_info("blk: %s: io_uring_cmd takes a generic namespace node (/dev/ngXnY) without metadata", uri);
		vfn_dev_close(blk->dev);
		return -EINVAL;
	}
	blk->nsid = info->nsid;
	blk->block_size = info->lba_size;
	blk->size = info->nsze * info->lba_size;
	blk->max_request = info->max_xfer ? info->max_xfer : NVME_MAX_NLB * (size_t)info->lba_size;
	if (blk->max_request > NVME_MAX_NLB * (size_t)info->lba_size)
		blk->max_request = NVME_MAX_NLB * (size_t)info->lba_size;
	blk->buf_align = 4; /* the block layer maps dword-aligned memory without bouncing (Linux 6.0+) */
	blk->ops = &vfn_blk_pt_ops;
	return 0;
}

static void pt_close(struct vfn_blk *blk)
{
	vfn_dev_close(blk->dev);
}

/* The kernel takes any memory: nothing to register. */
static int pt_mem_register(struct vfn_blk *blk, void *buf, size_t len)
{
	(void)blk;
	(void)buf;
	(void)len;
	return 0;
}

static void pt_mem_unregister(struct vfn_blk *blk, void *buf, size_t len)
{
	(void)blk;
	(void)buf;
	(void)len;
}

/* ---- queues ---------------------------------------------------------------- */

static int pt_queue_open(struct vfn_blk_queue *q, const struct vfn_blk_queue_opts *o)
{
	uint32_t n = q->depth + 1;
	ssize_t got;
	int ret;

	q->pieces = calloc(n, sizeof(*q->pieces));
	q->ranges = calloc(n, sizeof(*q->ranges));
	q->piece_free = calloc(n, sizeof(*q->piece_free));
	q->bounce_free = calloc(o->bounce_bufs, sizeof(*q->bounce_free));
	if (!q->pieces || !q->ranges || !q->piece_free || !q->bounce_free) {
		ret = -ENOMEM;
		goto free_arrays;
	}
	for (uint32_t i = 0; i < n; i++)
		q->piece_free[q->nr_piece_free++] = i;
	q->bounce_len = q->blk->max_request < BLK_BOUNCE_MAX_LEN ? q->blk->max_request : BLK_BOUNCE_MAX_LEN;
	got = vfn_mem_alloc(q->bounce_len * o->bounce_bufs, (void **)&q->bounce_mem);
	if (got < 0) {
		ret = (int)got;
		goto free_arrays;
	}
	q->nr_bounce = q->nr_bounce_free = o->bounce_bufs;
	for (uint32_t i = 0; i < o->bounce_bufs; i++)
		q->bounce_free[i] = i;
	ret = vfn_dev_queue_create(q->blk->dev, n, &q->dq);
	if (ret)
		goto free_bounce;
	if (!q->dq->ring) {
		log_info(
			"blk: no io_uring passthrough in this kernel (the queue would run each command synchronously)");
		ret = -ENOTSUP;
		goto destroy;
	}
	if (!o->polled) {
		q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ret = q->efd < 0 ? -errno : vfn_kring_register_eventfd(q->dq->ring, q->efd);
		if (ret)
			goto destroy;
	}
	return 0;

destroy:
	if (q->efd >= 0)
		close(q->efd);
	vfn_dev_queue_destroy(q->dq);
free_bounce:
	vfn_mem_free(q->bounce_mem, q->bounce_len * q->nr_bounce);
free_arrays:
	free(q->pieces);
	free(q->ranges);
	free(q->piece_free);
	free(q->bounce_free);
	return ret;
}

static void pt_queue_close(struct vfn_blk_queue *q)
{
	vfn_dev_queue_destroy(q->dq);
	if (q->efd >= 0)
		close(q->efd);
	vfn_mem_free(q->bounce_mem, q->bounce_len * q->nr_bounce);
	free(q->pieces);
	free(q->ranges);
	free(q->piece_free);
	free(q->bounce_free);
}

/* ---- I/O ----------------------------------------------------------------- */

static void pt_done(void *arg, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct blk_piece *p = arg;
	struct vfn_blk_queue *q = p->q;
	struct blk_req *req = p->req;

	if (p->bounce >= 0) {
		if (p->op == BLK_READ && !ret)
			vfn_blk_iov_copy(req->iov, req->iovcnt, p->off,
					 q->bounce_mem + (size_t)p->bounce * q->bounce_len, p->len, true);
		q->bounce_free[q->nr_bounce_free++] = (uint32_t)p->bounce;
	}
	q->piece_free[q->nr_piece_free++] = (uint32_t)(p - q->pieces);
	blk_piece_done(q, req, ret, vfn_nvme_cqe_status(cqe) & 0x7ff);
}

static int pt_poll(struct vfn_blk_queue *q, uint32_t max)
{
	uint64_t before = q->hot.stats.completed;
	int ret = vfn_dev_poll(q->dq, max);

	return ret < 0 ? ret : (int)(q->hot.stats.completed - before);
}

static int pt_flush(struct vfn_blk_queue *q)
{
	int ret = vfn_kring_queued(q->dq->ring) ? vfn_kring_flush(q->dq->ring) : 0;

	return ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR ? ret : 0;
}

static bool pt_ready(const struct vfn_blk_queue *q)
{
	return vfn_kring_ready(q->dq->ring);
}

/* Queues one command for @p; on a refusal gives @p (and its bounce buffer) back. */
static int pt_send(struct vfn_blk_queue *q, struct blk_piece *p, struct vfn_nvme_sqe *sqe, void *buf, size_t len)
{
	int ret = vfn_dev_submit(q->dq, sqe, buf, len, pt_done, p);

	if (vfn_unlikely(ret)) {
		if (p->bounce >= 0)
			q->bounce_free[q->nr_bounce_free++] = (uint32_t)p->bounce;
		q->piece_free[q->nr_piece_free++] = (uint32_t)(p - q->pieces);
		return ret;
	}
	q->hot.stats.commands++;
	return 0;
}

static struct blk_piece *pt_piece(struct vfn_blk_queue *q, struct blk_req *req, enum blk_op op, uint64_t off,
				  uint64_t len, bool bounce)
{
	struct blk_piece *p = &q->pieces[q->piece_free[--q->nr_piece_free]];

	*p = (struct blk_piece){ req,		off,
				 (uint32_t)len, bounce ? (int32_t)q->bounce_free[--q->nr_bounce_free] : -1,
				 (uint8_t)op,	q };
	return p;
}

/* The bytes of each piece: MDTS for one segment, a bounce buffer for several, a command's limit else. */
static uint64_t pt_chunk(const struct vfn_blk_queue *q, enum blk_op op, int iovcnt)
{
	if (op == BLK_DISCARD)
		return NVME_MAX_DSM_NLB << q->blk->block_shift;
	if (op == BLK_WZ)
		return (uint64_t)NVME_MAX_NLB << q->blk->block_shift;
	return iovcnt == 1 ? q->blk->max_request : q->bounce_len;
}

static int pt_submit(struct vfn_blk_queue *q, struct blk_req *req, const struct iovec *iov, int iovcnt, uint64_t off,
		     uint64_t len)
{
	enum blk_op op = (enum blk_op)req->op;
	uint32_t flags = req->flags;
	static const uint8_t opcodes[] = { NVME_CMD_READ, NVME_CMD_WRITE, NVME_CMD_FLUSH, NVME_CMD_WRITE_ZEROES,
					   NVME_CMD_DSM };
	uint64_t chunk = pt_chunk(q, op, iovcnt), done = 0;
	uint32_t n = op == BLK_FLUSH ? 1 : (uint32_t)((len + chunk - 1) / chunk), posted = 0;
	bool bounce = op <= BLK_WRITE && iovcnt > 1;
	struct vfn_nvme_sqe sqe;
	int ret = 0;

	if (n > q->depth || (bounce && n > q->nr_bounce))
		return -E2BIG;
	if (n > q->nr_piece_free || (bounce && n > q->nr_bounce_free))
		return -EAGAIN;
	req->iov = iov;
	req->iovcnt = iovcnt;
	req->pieces = n;
	for (uint32_t i = 0; i < n; i++, done += chunk) {
		uint64_t l = len - done < chunk ? len - done : chunk;
		struct blk_piece *p = pt_piece(q, req, op, done, l, bounce);
		void *buf = NULL;
		size_t blen = 0;

		blk_nvme_sqe(q->blk, &sqe, opcodes[op], off + done, l, flags);
		if (op <= BLK_WRITE) {
			blen = (size_t)l;
			buf = bounce ? q->bounce_mem + (size_t)p->bounce * q->bounce_len
				     : (uint8_t *)iov->iov_base + done;
			if (bounce && op == BLK_WRITE)
				vfn_blk_iov_copy(iov, iovcnt, done, buf, blen, false);
			q->hot.stats.bounced += bounce;
		} else if (op == BLK_FLUSH) {
			sqe.cdw10 = sqe.cdw11 = sqe.cdw12 = 0;
		} else if (op == BLK_DISCARD) {
			struct vfn_nvme_dsm_range *r = &q->ranges[p - q->pieces];

			r->cattr = 0;
			r->nlb = vfn_cpu_to_le32((uint32_t)(l >> q->blk->block_shift));
			r->slba = vfn_cpu_to_le64((off + done) >> q->blk->block_shift);
			sqe.cdw10 = 0; /* NR: one range (0's based) */
			sqe.cdw11 = vfn_cpu_to_le32(VFN_NVME_DSM_AD);
			sqe.cdw12 = 0;
			buf = r;
			blen = sizeof(*r);
		}
		ret = pt_send(q, p, &sqe, buf, blen);
		if (ret)
			break;
		posted++;
	}
	if (!posted)
		return ret;
	if (posted < n) {
		req->pieces = posted;
		req->ret = ret;
	}
	if (n > 1)
		q->hot.stats.split++;
	return 0;
}

const struct blk_ops vfn_blk_pt_ops = {
	.queue_open = pt_queue_open,
	.queue_close = pt_queue_close,
	.submit = pt_submit,
	.poll = pt_poll,
	.flush = pt_flush,
	.ready = pt_ready,
	.mem_register = pt_mem_register,
	.mem_unregister = pt_mem_unregister,
	.close = pt_close,
};
