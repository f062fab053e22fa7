/* SPDX-License-Identifier: MIT */
/*
 * The nvme backend's fast path, inlined into vfn_blk_readv()/writev(): a
 * read or write of one segment, in one mapping the queue translated last,
 * within the max request size, on a pair with no slow-path hooks, becomes
 * one command written straight into the SQ, with no request context
 * (struct blk_req), no planner and no backend call.  Its callback runs
 * from blk_nvme_fast_done() (blk-nvme.c), one level under the reap.
 * Anything else returns BLK_SLOW and takes the general path, which
 * validates and reports errors.
 */
#ifndef VFN_SRC_BLK_BLK_NVME_FAST_H
#define VFN_SRC_BLK_BLK_NVME_FAST_H

#include "blk/blk-priv.h"

#define BLK_SLOW 1 /* not for the fast path: take the general one */

void blk_nvme_fast_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe);

static inline __attribute__((always_inline)) int blk_nvme_fast_rw(struct vfn_blk_queue *q, uint8_t opcode,
								  const struct iovec *iov, uint64_t off,
								  uint32_t cdw12_flags, vfn_blk_cb cb, void *arg)
{
	struct vfn_nvme_qpair *qp = q->qp;
	struct vfn_sq *sq = &qp->sq;
	uint64_t len = iov->iov_len, end = off + len, iova, slba;
	uintptr_t d = (uintptr_t)iov->iov_base - q->c_va;
	struct vfn_nvme_sqe *sqe;
	struct vfn_rq *rq;
	uint16_t tail, next;

	/* Whole blocks within the device, 1..max_request bytes; the error cases are the general path's. */
	if (vfn_unlikely(((off | len) & q->block_mask) || len - 1 >= q->max_request || end > q->size || end < len))
		return BLK_SLOW;
	/* Room (requests, commands), no hooks, the cached mapping holds the buffer. */
	if (vfn_unlikely(q->inflight >= q->depth || !qp->rqs.free || qp->hooks || d >= q->c_len || len > q->c_len - d ||
			 q->c_gen != __atomic_load_n(q->map_gen, __ATOMIC_RELAXED)))
		return BLK_SLOW;
	iova = q->c_iova + d;
	tail = sq->tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == sq->entries))
		next = 0;
	if (vfn_unlikely((iova & 3) || next == sq->head))
		return BLK_SLOW;
	rq = qp->rqs.free; /* taken below, once the command is built */
	slba = off >> q->block_shift;
	sqe = &sq->sqes[tail]; /* the controller reads it only after the tail moves */
	sqe->opcode = opcode;
	sqe->flags = 0; /* PSDT 00b: PRPs */
	sqe->cid = vfn_cpu_to_le16(rq->cid);
	sqe->nsid = vfn_cpu_to_le32(q->nsid);
	sqe->cdw2 = 0;
	sqe->cdw3 = 0;
	sqe->mptr = 0;
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	sqe->cdw12 = vfn_cpu_to_le32(((uint32_t)(len >> q->block_shift) - 1) | cdw12_flags); /* NLB 0's based */
	sqe->cdw13 = 0;
	sqe->cdw14 = 0;
	sqe->cdw15 = 0;
	if (vfn_likely(len - 1 < 4096 - (iova & 4095))) { /* within one memory page (the pair's: fast needs 4 KiB) */
		sqe->dptr.prp1 = vfn_cpu_to_le64(iova);
		sqe->dptr.prp2 = 0;
	} else if (vfn_rq_map_iova_list(qp, rq, sqe, iova, len)) { /* the request's PRP list */
		return BLK_SLOW;
	}
	qp->rqs.free = rq->next;
	qp->rqs.nr_free--;
	rq->state = VFN_RQ_INFLIGHT;
	rq->flags = 0;
	rq->err = 0;
	rq->deadline_ns = 0;
	rq->cb = blk_nvme_fast_done;
	rq->opaque = q;
	q->cbs[rq->cid] = (struct blk_fast_cb){ cb, arg };
	sq->tail = next;
	q->inflight++;
	q->stats.requests++;
	return 0;
}

#endif
