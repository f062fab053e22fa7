/* SPDX-License-Identifier: MIT */
/*
 * Block API backend "nvme": vfn's own driver on VFIO or the simulator.
 * Each queue is an I/O queue pair (with its MSI-X vector on an eventfd
 * unless polled); a request becomes one NVMe command, or several when it
 * is larger than MDTS or its iovecs cannot be described by one PRP list
 * (split at block boundaries, or copied through the queue's bounce
 * buffers when no such split exists).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/iommu.h>
#include <vfn/pci.h>

#include "blk/blk-priv.h"
#include "dev/dev-priv.h"
#include "support/log.h"

/* ---- open ------------------------------------------------------------------ */

static size_t nvme_page_size(void)
{
	return 4096; /* CC.MPS 0: vfn's driver runs 4 KiB memory pages */
}

int vfn_blk_nvme_open(struct vfn_blk *blk, const char *uri, const struct vfn_blk_opts *opts)
{
	struct vfn_dev_opts dopts = { .nsid = opts ? opts->nsid : 0, .timeout_ms = opts ? opts->timeout_ms : 0 };
	char bdf[VFN_PCI_BDF_LEN];
	const struct vfn_dev_info *info;
	size_t page = nvme_page_size(), list_max = page / 8 * page;
	int ret;

	if (!strncmp(uri, "sim:", 4))
		dopts.backend = "sim";
	else if (!vfn_pci_parse_bdf(uri, bdf))
		dopts.backend = "vfio";
	else {
		log_debug("blk: %s: the nvme backend takes a PCI address or sim:", uri);
		return -EINVAL;
	}
	ret = vfn_dev_open(uri, &dopts, &blk->dev);
	if (ret)
		return ret;
	info = vfn_dev_get_info(blk->dev);
	if (!info->nsid || !info->io || info->ms) {
		log_info("blk: %s: no active namespace, no I/O queue, or a format with metadata", uri);
		vfn_dev_close(blk->dev);
		return -ENOTSUP;
	}
	blk->nsid = info->nsid;
	blk->block_size = info->lba_size;
	blk->size = info->nsze * info->lba_size;
	blk->max_request = info->max_xfer && info->max_xfer < list_max ? info->max_xfer : list_max;
	blk->buf_align = page;
	blk->timeout_ms = dopts.timeout_ms ? dopts.timeout_ms : 30000;
	blk->ops = &vfn_blk_nvme_ops;
	return 0;
}

static void nvme_close(struct vfn_blk *blk)
{
	vfn_dev_close(blk->dev);
}

static int nvme_mem_register(struct vfn_blk *blk, void *buf, size_t len)
{
	uint64_t iova;

	return vfn_iommu_map(vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(blk->dev)), buf, len, &iova);
}

static void nvme_mem_unregister(struct vfn_blk *blk, void *buf, size_t len)
{
	(void)len;
	vfn_iommu_unmap(vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(blk->dev)), buf);
}

/* ---- queues ---------------------------------------------------------------- */

static int bounce_alloc(struct vfn_blk_queue *q, uint32_t nr)
{
	struct vfn_iommu *iommu = vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(q->blk->dev));
	size_t len = q->blk->max_request < BLK_BOUNCE_MAX_LEN ? q->blk->max_request : BLK_BOUNCE_MAX_LEN;
	ssize_t got;

	len &= ~((size_t)q->blk->block_size - 1);
	q->bounce_free = calloc(nr, sizeof(*q->bounce_free));
	if (!q->bounce_free)
		return -ENOMEM;
	got = vfn_dma_alloc(iommu, len * nr, (void **)&q->bounce_mem, &q->bounce_iova);
	if (got < 0) {
		free(q->bounce_free);
		return (int)got;
	}
	q->bounce_len = len;
	q->nr_bounce = q->nr_bounce_free = nr;
	for (uint32_t i = 0; i < nr; i++)
		q->bounce_free[i] = i;
	return 0;
}

static void bounce_free(struct vfn_blk_queue *q)
{
	vfn_dma_free(vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(q->blk->dev)), q->bounce_mem, q->bounce_len * q->nr_bounce);
	free(q->bounce_free);
}

/*
 * Commands the pair holds: at least the depth and one more (a callback may
 * resubmit before its command's id is free), and, as the controller
 * allows, twice that and at least 255 (a 256-entry ring, as `vfn perf`
 * opens): a polled pair writes the CQ head doorbell when the CQEs it has
 * not reported could exceed the free requests (vfn_nvme_qpair_cq_head_due()),
 * about once per reap with a ring of depth + 2 entries, about once per
 * lap with this one.  The queue's own limit stays q->depth.
 */
static uint32_t nvme_queue_cmds(uint32_t depth, uint32_t max_qd)
{
	uint32_t want = 2 * (depth + 1) > 255 ? 2 * (depth + 1) : 255;

	return want < max_qd ? want : max_qd;
}

static int nvme_queue_open(struct vfn_blk_queue *q, const struct vfn_blk_queue_opts *o)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(q->blk->dev);
	uint32_t nr;
	int ret;

	/* One command more than the depth: a callback may resubmit before its command's id is free. */
	if (q->depth + 1 > info->max_qd) {
		log_debug("blk: queue depth %u beyond the controller's %u - 1", q->depth, info->max_qd);
		return -EINVAL;
	}
	ret = vfn_dev_ctrl_qpair_open(q->blk->dev, nvme_queue_cmds(q->depth, info->max_qd), !o->polled, &q->hot.qp,
				      &q->qid);
	if (ret)
		return ret;
	nr = q->hot.qp->rqs.nr; /* pieces[] is indexed by command id */
	q->pieces = calloc(nr, sizeof(*q->pieces));
	q->plan = calloc(q->depth, sizeof(*q->plan));
	if (!q->pieces || !q->plan) {
		ret = -ENOMEM;
		goto free_arrays;
	}
	ret = bounce_alloc(q, o->bounce_bufs);
	if (ret)
		goto free_arrays;
	q->efd = vfn_nvme_qpair_eventfd(q->hot.qp);
	/*
	 * INTx: VFIO masks the line each time it fires; the caller reads the
	 * fd and polls, so the poll re-arms it (an ioctl per poll, INTx only).
	 */
	q->irq_rearm = q->efd >= 0 && vfn_nvme_ctrl_irq_mode(vfn_dev_nvme_ctrl(q->blk->dev)) == VFN_NVME_IRQ_INTX;
	if (q->irq_rearm) /* polled through nvme_poll, which re-arms: not the fast poll */
		q->hot.polling = BLK_POLL_BACKEND;
	/* The fast path's copies (vfn_blk__fast_rw() in <vfn/blk-inline.h>): it moves at most 8 KiB, in 4 KiB memory pages. */
	q->hot.size = q->blk->size;
	q->hot.block_mask = (q->blk->block_size - 1) | (1ull << 63);
	q->hot.block_shift = q->blk->block_shift;
	q->hot.nsid = q->blk->nsid;
	/* The pair holds entries - 1 commands: its free commands imply SQ room (vfn_blk__fast_rw() in <vfn/blk-inline.h>). */
	q->hot.fast = q->hot.qp->page_size == 4096 && q->hot.qp->rqs.nr >= q->depth + 1 &&
		      q->blk->max_request >= 8192 && q->hot.qp->max_xfer >= 8192 &&
		      q->hot.qp->rqs.nr < q->hot.qp->sq.entries;
	q->hot.fast_min_free = q->hot.fast ? (uint16_t)(q->hot.qp->rqs.nr - q->depth) : 0xffff;
	return 0;

free_arrays:
	free(q->pieces);
	free(q->plan);
	vfn_dev_ctrl_qpair_close(q->blk->dev, q->hot.qp, q->qid);
	return ret;
}

static void nvme_queue_close(struct vfn_blk_queue *q)
{
	vfn_dev_ctrl_qpair_close(q->blk->dev, q->hot.qp, q->qid);
	bounce_free(q);
	free(q->pieces);
	free(q->plan);
}

/* ---- completion ------------------------------------------------------------ */

static void nvme_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_blk_queue *q = rq->opaque;
	struct blk_piece p = q->pieces[rq->cid];
	uint16_t status = vfn_nvme_cqe_status(cqe) & 0x7ff;
	int ret = vfn_unlikely(rq->err) ? rq->err : vfn_nvme_status_to_errno(status);

	/*
	 * The command is free before the callback (as a fast-path one is):
	 * the fast path counts free commands for the depth (vfn_blk__fast_rw() in <vfn/blk-inline.h>).
	 */
	vfn_rq_free(qp, rq);
	q->slow_cmds--;
	if (vfn_unlikely(p.bounce >= 0)) {
		struct blk_req *req = p.req;

		if (p.op == BLK_READ && !ret)
			vfn_blk_iov_copy(req->iov, req->iovcnt, p.off, q->bounce_mem + (size_t)p.bounce * q->bounce_len,
					 p.len, true);
		q->bounce_free[q->nr_bounce_free++] = (uint32_t)p.bounce;
	}
	blk_piece_done(q, p.req, ret, status);
}

static int nvme_poll(struct vfn_blk_queue *q, uint32_t max)
{
	uint64_t before = blk_completed(q);

	vfn_nvme_qpair_submit(q->hot.qp);
	vfn_nvme_qpair_reap(q->hot.qp, (int)max);
	if (vfn_unlikely(q->irq_rearm)) /* INTx: VFIO masked the line when it fired */
		vfn_nvme_qpair_irq_ack(q->hot.qp);
	return (int)(blk_completed(q) - before);
}

static int nvme_flush(struct vfn_blk_queue *q)
{
	vfn_nvme_qpair_submit(q->hot.qp);
	return 0;
}

static int nvme_expire(struct vfn_blk_queue *q)
{
	int ret = vfn_nvme_qpair_check_timeouts(q->hot.qp, 0);

	return ret < 0 ? ret : 0;
}

static bool nvme_ready(const struct vfn_blk_queue *q)
{
	return vfn_cq_peek(&q->hot.qp->cq) != NULL;
}

/* ---- submission ------------------------------------------------------------ */

/* Takes a request of the pair for a piece of @req; the caller checked one is free. */
static inline struct vfn_rq *nvme_rq(struct vfn_blk_queue *q, struct blk_req *req, enum blk_op op, uint64_t off,
				     uint32_t len, int32_t bounce)
{
	struct vfn_rq *rq = vfn_rq_alloc(q->hot.qp);

	rq->cb = nvme_done;
	rq->opaque = q;
	q->pieces[rq->cid] = (struct blk_piece){ req, off, len, bounce, (uint8_t)op, q };
	q->slow_cmds++;
	return rq;
}

/*
 * Posts the pieces' commands.  A post refused midway (the controller
 * failed) completes the request with that error once the posted pieces
 * are back; refused at the first, nothing was sent and the error returns.
 */
static int nvme_post(struct vfn_blk_queue *q, struct blk_req *req, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe,
		     uint32_t *posted)
{
	int ret = vfn_rq_post(q->hot.qp, rq, sqe);

	if (vfn_unlikely(ret)) {
		struct blk_piece *p = &q->pieces[rq->cid];

		if (p->bounce >= 0)
			q->bounce_free[q->nr_bounce_free++] = (uint32_t)p->bounce;
		vfn_rq_free(q->hot.qp, rq);
		q->slow_cmds--;
		if (*posted)
			req->ret = ret;
		return ret;
	}
	(*posted)++;
	q->hot.stats.commands++;
	return 0;
}

/*
 * The end of a submission of @n pieces of which @posted went out: none is
 * the first refusal's error; otherwise the request waits for those.
 */
static int nvme_posted(struct vfn_blk_queue *q, struct blk_req *req, uint32_t posted, uint32_t n)
{
	if (!posted)
		return req->ret ? req->ret : -EIO;
	req->pieces = posted;
	if (n > 1)
		q->hot.stats.split++;
	return 0;
}

/* Flush, Write Zeroes, Discard: no data from the caller. */
static int nvme_submit_nodata(struct vfn_blk_queue *q, enum blk_op op, uint64_t off, uint64_t len, struct blk_req *req)
{
	uint64_t chunk = (op == BLK_DISCARD ? NVME_MAX_DSM_NLB : NVME_MAX_NLB) << q->blk->block_shift;
	uint32_t n = op == BLK_FLUSH ? 1 : (uint32_t)((len + chunk - 1) / chunk), posted = 0;
	struct vfn_nvme_sqe sqe;

	if (n > q->depth)
		return -E2BIG;
	if (n > q->hot.qp->rqs.nr_free)
		return -EAGAIN;
	req->pieces = n;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t l = len - (uint64_t)i * chunk < chunk ? len - (uint64_t)i * chunk : chunk;
		uint64_t o = off + (uint64_t)i * chunk;
		struct vfn_rq *rq = nvme_rq(q, req, op, 0, 0, -1);

		if (op == BLK_FLUSH) {
			blk_nvme_sqe(q->blk, &sqe, NVME_CMD_FLUSH, 0, 0, 0);
			sqe.cdw10 = sqe.cdw11 = sqe.cdw12 = 0;
		} else if (op == BLK_WZ) {
			blk_nvme_sqe(q->blk, &sqe, NVME_CMD_WRITE_ZEROES, o, l, 0);
		} else {
			struct vfn_nvme_dsm_range *r = rq->list;

			/* The range goes in the request's PRP list memory: DMA-mapped, within a page. */
			r->cattr = 0;
			r->nlb = vfn_cpu_to_le32((uint32_t)(l >> q->blk->block_shift));
			r->slba = vfn_cpu_to_le64(o >> q->blk->block_shift);
			blk_nvme_sqe(q->blk, &sqe, NVME_CMD_DSM, 0, 0, 0);
			sqe.cdw10 = 0; /* NR: one range (0's based) */
			sqe.cdw11 = vfn_cpu_to_le32(VFN_NVME_DSM_AD);
			sqe.cdw12 = 0;
			sqe.dptr.prp1 = vfn_cpu_to_le64(rq->list_iova);
		}
		if (nvme_post(q, req, rq, &sqe, &posted))
			break;
	}
	return nvme_posted(q, req, posted, n);
}

/* One stretch of a request's memory: mapped (contiguous IOVA from @iova) or not. */
struct blk_chunk {
	uint8_t *va;
	uint64_t iova;
	size_t len;
	bool mapped;
};

/* The next chunk of segment @seg from byte @skip of it. */
static void chunk_at(struct vfn_iommu *iommu, const struct iovec *seg, size_t skip, struct blk_chunk *c)
{
	size_t mapped;

	c->va = (uint8_t *)seg->iov_base + skip;
	c->len = seg->iov_len - skip;
	c->mapped = !vfn_iommu_translate(iommu, c->va, &c->iova, &mapped);
	if (c->mapped && mapped < c->len)
		c->len = mapped;
}

/* Planner state: the piece being built. */
struct blk_planner {
	struct vfn_blk_queue *q;
	uint32_t n;	   /* pieces closed */
	uint32_t bounced;  /* of them bounce pieces */
	uint64_t ps, pl;   /* current piece: start, length */
	bool bounce;	   /* current piece goes through a bounce buffer */
	uint64_t last_end; /* IOVA right after the current piece's last chunk */
};

static int plan_close(struct blk_planner *pl)
{
	if (!pl->pl)
		return 0;
	if (pl->n == pl->q->depth)
		return -E2BIG;
	pl->q->plan[pl->n++] = (struct blk_piece){ NULL, pl->ps, (uint32_t)pl->pl, pl->bounce ? 0 : -1, 0, pl->q };
	pl->bounced += pl->bounce;
	pl->ps += pl->pl;
	pl->pl = 0;
	pl->bounce = false;
	return 0;
}

/* Adds up to c->len bytes of @c to the plan; returns how many it took, or -errno. */
static int64_t plan_chunk(struct blk_planner *pl, const struct blk_chunk *c)
{
	struct vfn_blk_queue *q = pl->q;
	uint64_t bs = q->blk->block_size, pos = pl->ps + pl->pl, take, cut;
	size_t page = nvme_page_size();
	bool fits =
		c->mapped && !(c->iova & 3) && (!pl->pl || (!(pl->last_end & (page - 1)) && !(c->iova & (page - 1))));

	if (pl->bounce) {
		/* Back to the device's own memory at the first block boundary that allows it. */
		if (pl->pl && c->mapped && !(pos & (bs - 1)) && !(c->iova & 3))
			return plan_close(pl);
		take = c->len < q->bounce_len - pl->pl ? c->len : q->bounce_len - pl->pl;
		pl->pl += take;
		if (pl->pl == q->bounce_len && plan_close(pl))
			return -E2BIG;
		return (int64_t)take;
	}
	if (fits) {
		take = c->len < q->blk->max_request - pl->pl ? c->len : q->blk->max_request - pl->pl;
		pl->pl += take;
		pl->last_end = c->iova + take;
		if (pl->pl == q->blk->max_request && plan_close(pl))
			return -E2BIG;
		return (int64_t)take;
	}
	if (pl->pl && !(pos & (bs - 1)))
		return plan_close(pl); /* a new piece starts with this chunk */
	/* No block boundary here: bounce from the last one before it. */
	cut = pos & ~(bs - 1);
	if (cut > pl->ps) {
		uint64_t rest = pos - cut;

		pl->pl = cut - pl->ps;
		if (plan_close(pl))
			return -E2BIG;
		pl->pl = rest;
	}
	pl->bounce = true;
	return 0;
}

/* Splits a read/write into pieces in q->plan. Returns their number or -errno. */
static int nvme_plan(struct vfn_blk_queue *q, const struct iovec *iov, int iovcnt, uint32_t *bounced)
{
	struct vfn_iommu *iommu = q->hot.qp->iommu;
	struct blk_planner pl = { .q = q };
	struct blk_chunk c;

	for (int i = 0; i < iovcnt; i++) {
		size_t skip = 0;

		while (skip < iov[i].iov_len) {
			int64_t took;

			chunk_at(iommu, &iov[i], skip, &c);
			took = plan_chunk(&pl, &c);
			if (took < 0)
				return (int)took;
			skip += (size_t)took;
		}
	}
	if (plan_close(&pl))
		return -E2BIG;
	*bounced = pl.bounced;
	return (int)pl.n;
}

/*
 * The plan when splitting at PRP boundaries needs more commands than the
 * queue has (many small segments): the whole request through the bounce
 * buffers, bounce_len bytes per piece.  Returns the pieces or -E2BIG.
 */
static int nvme_plan_bounce(struct vfn_blk_queue *q, uint64_t len, uint32_t *bounced)
{
	uint64_t pieces;
	uint32_t n;

	if (!q->bounce_len)
		return -E2BIG;
	pieces = (len + q->bounce_len - 1) / q->bounce_len;
	if (pieces > q->depth || pieces > q->nr_bounce)
		return -E2BIG;
	n = (uint32_t)pieces;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t o = (uint64_t)i * q->bounce_len;

		q->plan[i] = (struct blk_piece){ NULL, o, (uint32_t)(len - o < q->bounce_len ? len - o : q->bounce_len),
						 0,    0, q };
	}
	*bounced = n;
	return (int)n;
}

/* PRPs of a piece in several chunks (each boundary page-aligned: the plan checked). */
static void nvme_prp_chunks(struct vfn_blk_queue *q, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe,
			    const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
	uint64_t page = nvme_page_size(), first = 0;
	vfn_le64 *list = rq->list;
	bool have_first = false;
	uint32_t n = 0;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t skip;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		skip = (size_t)off;
		off = 0;
		while (skip < iov[i].iov_len && len) {
			struct blk_chunk c;
			uint64_t a, end;

			chunk_at(q->hot.qp->iommu, &iov[i], skip, &c);
			if (c.len > len)
				c.len = (size_t)len;
			/* The first entry may start inside a page; every other one is a page. */
			for (a = c.iova, end = c.iova + c.len; a < end; a = (a & ~(page - 1)) + page) {
				if (!have_first) {
					first = a;
					have_first = true;
				} else {
					list[n++] = vfn_cpu_to_le64(a);
				}
			}
			skip += c.len;
			len -= c.len;
		}
	}
	sqe->flags &= (uint8_t)~0xc0u;
	sqe->dptr.prp1 = vfn_cpu_to_le64(first);
	sqe->dptr.prp2 = n == 0 ? 0 : n == 1 ? list[0] : vfn_cpu_to_le64(rq->list_iova);
}

/* A read/write in the pieces of q->plan. */
static int nvme_submit_plan(struct vfn_blk_queue *q, enum blk_op op, const struct iovec *iov, int iovcnt, uint64_t off,
			    uint32_t flags, struct blk_req *req, uint32_t n)
{
	uint8_t opcode = op == BLK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
	struct vfn_nvme_sqe sqe;
	uint32_t posted = 0;

	req->pieces = n;
	for (uint32_t i = 0; i < n; i++) {
		struct blk_piece *p = &q->plan[i];
		int32_t b = p->bounce < 0 ? -1 : (int32_t)q->bounce_free[--q->nr_bounce_free];
		struct vfn_rq *rq = nvme_rq(q, req, op, p->off, p->len, b);

		blk_nvme_sqe(q->blk, &sqe, opcode, off + p->off, p->len, flags);
		if (b >= 0) {
			uint8_t *buf = q->bounce_mem + (size_t)b * q->bounce_len;

			if (op == BLK_WRITE)
				vfn_blk_iov_copy(iov, iovcnt, p->off, buf, p->len, false);
			vfn_rq_map_iova(q->hot.qp, rq, &sqe, q->bounce_iova + (uint64_t)b * q->bounce_len, p->len);
			q->hot.stats.bounced++;
		} else {
			nvme_prp_chunks(q, rq, &sqe, iov, iovcnt, p->off, p->len);
		}
		if (nvme_post(q, req, rq, &sqe, &posted))
			break;
	}
	return nvme_posted(q, req, posted, n);
}

/* Read or Write of @len (1..) bytes at byte @off: blk_nvme_sqe() for the hot path. */
static inline void nvme_rw_sqe(const struct vfn_blk *blk, struct vfn_nvme_sqe *sqe, enum blk_op op, uint64_t off,
			       uint64_t len, uint32_t flags)
{
	uint64_t slba = off >> blk->block_shift;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op == BLK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
	sqe->nsid = vfn_cpu_to_le32(blk->nsid);
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	/* NLB 0's based; VFN_BLK_FUA is bit 0, FUA bit 30 */
	sqe->cdw12 = vfn_cpu_to_le32(((uint32_t)(len >> blk->block_shift) - 1) | ((flags & VFN_BLK_FUA) << 30));
}

/* Everything but one segment in one mapping within MDTS: split, bounce, no data. */
static __attribute__((noinline)) int nvme_submit_slow(struct vfn_blk_queue *q, enum blk_op op, const struct iovec *iov,
						      int iovcnt, uint64_t off, uint64_t len, uint32_t flags,
						      struct blk_req *req)
{
	uint32_t bounced = 0;
	int n;

	if (op > BLK_WRITE)
		return nvme_submit_nodata(q, op, off, len, req);
	req->iov = iov;
	req->iovcnt = iovcnt;
	n = nvme_plan(q, iov, iovcnt, &bounced);
	if (n == -E2BIG)
		n = nvme_plan_bounce(q, len, &bounced);
	if (n < 0)
		return n;
	if ((uint32_t)n > q->hot.qp->rqs.nr_free || bounced > q->nr_bounce_free)
		return bounced > q->nr_bounce ? -E2BIG : -EAGAIN;
	return nvme_submit_plan(q, op, iov, iovcnt, off, flags, req, (uint32_t)n);
}

/*
 * The device address of @len bytes at @va, when one mapping holds them: the
 * queue remembers the last mapping it translated, so that I/O from the
 * same buffers skips the lookup.  An unregistration anywhere on the handle
 * empties the cache (c_len 0, vfn_blk_mem_unregister()); one racing with
 * the translation here is caught by blk->map_gen.
 */
static inline bool nvme_iova(struct vfn_blk_queue *q, const void *va, size_t len, uint64_t *iova)
{
	uintptr_t d = (uintptr_t)va - q->hot.c_va;
	size_t c_len = __atomic_load_n(&q->hot.c_len, __ATOMIC_RELAXED);
	uint32_t gen;
	size_t mapped;

	if (vfn_likely(d < c_len && len <= c_len - d)) {
		*iova = q->hot.c_iova + d;
		return true;
	}
	gen = __atomic_load_n(&q->blk->map_gen, __ATOMIC_SEQ_CST);
	if (vfn_iommu_translate(q->hot.qp->iommu, va, iova, &mapped))
		return false;
	q->hot.c_va = (uintptr_t)va;
	q->hot.c_iova = *iova;
	__atomic_store_n(&q->hot.c_len, mapped, __ATOMIC_SEQ_CST);
	/*
	 * An unregistration since the load of gen (it bumps the gen, then
	 * empties the caches) may have emptied the cache before the store
	 * above: empty it again.  Seq_cst: either it sees this store (and
	 * empties it after) or this load sees its bump.
	 */
	if (__atomic_load_n(&q->blk->map_gen, __ATOMIC_SEQ_CST) != gen)
		__atomic_store_n(&q->hot.c_len, 0, __ATOMIC_SEQ_CST);
	return len <= mapped;
}

static int nvme_submit(struct vfn_blk_queue *q, struct blk_req *req, const struct iovec *iov, int iovcnt, uint64_t off,
		       uint64_t len)
{
	enum blk_op op = (enum blk_op)req->op;
	uint32_t flags = req->flags;
	struct vfn_nvme_qpair *qp = q->hot.qp;
	struct vfn_nvme_sqe sqe;
	struct vfn_rq *rq;
	uint64_t iova;
	int ret;

	/* One segment in one mapping within MDTS: one command, no planning. */
	if (vfn_unlikely(op > BLK_WRITE || iovcnt != 1 || len > q->blk->max_request || !qp->rqs.free ||
			 !nvme_iova(q, iov->iov_base, len, &iova) || (iova & 3)))
		return nvme_submit_slow(q, op, iov, iovcnt, off, len, flags, req);
	rq = vfn_rq_alloc(qp);
	rq->cb = nvme_done;
	rq->opaque = q;
	q->pieces[rq->cid].req = req;
	q->pieces[rq->cid].bounce = -1;
	nvme_rw_sqe(q->blk, &sqe, op, off, len, flags);
	vfn_rq_map_iova(qp, rq, &sqe, iova, len);
	ret = vfn_rq_post(qp, rq, &sqe);
	if (vfn_unlikely(ret)) {
		vfn_rq_free(qp, rq);
		return ret;
	}
	q->slow_cmds++;
	req->pieces = 1;
	q->hot.stats.commands++;
	return 0;
}

const struct blk_ops vfn_blk_nvme_ops = {
	.queue_open = nvme_queue_open,
	.queue_close = nvme_queue_close,
	.submit = nvme_submit,
	.poll = nvme_poll,
	.flush = nvme_flush,
	.ready = nvme_ready,
	.mem_register = nvme_mem_register,
	.mem_unregister = nvme_mem_unregister,
	.close = nvme_close,
	.expire = nvme_expire,
};
