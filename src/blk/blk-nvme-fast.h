/* SPDX-License-Identifier: MIT */
/*
 * The nvme backend's fast path, inlined into vfn_blk_readv()/writev(): a
 * read or write of one segment, in one mapping the queue translated last,
 * within the max request size, on a pair with no slow-path hooks, becomes
 * one command written straight into the SQ, with no request context
 * (struct blk_req), no planner and no backend call.  The reap calls its
 * callback directly (VFN_RQ_F_DIRECT).
 * Anything else returns false and takes the general path, which
 * validates and reports errors.
 */
#ifndef VFN_SRC_BLK_BLK_NVME_FAST_H
#define VFN_SRC_BLK_BLK_NVME_FAST_H

#include "blk/blk-priv.h"

static inline __attribute__((always_inline)) bool blk_nvme_fast_rw(struct vfn_blk_queue *q, uint8_t opcode,
								   const struct iovec *iov, uint64_t off,
								   uint32_t cdw12_flags, vfn_blk_cb cb, void *arg)
{
	struct vfn_nvme_qpair *qp = q->qp;
	uint64_t len = iov->iov_len, iova, slba, page_left;
	uintptr_t va = (uintptr_t)iov->iov_base;
	struct vfn_nvme_sqe *sqe;
	struct vfn_rq *rq;
	uint16_t tail, next;

	/*
	 * Whole blocks within the device (block_mask has bit 63 too: off + len
	 * cannot wrap), room for a request and a command, no hooks, and the
	 * cached mapping holds the buffer (an end that wraps lands below
	 * c_va, so the difference is huge).  The error cases are the general
	 * path's.
	 */
	if (vfn_unlikely(((off | len) & q->block_mask) || off + len > q->size || blk_inflight(q) >= q->depth ||
			 !qp->rqs.free || qp->hooks || va < q->c_va || va + len - q->c_va > q->c_len ||
			 q->c_gen != __atomic_load_n(q->map_gen, __ATOMIC_RELAXED)))
		return false;
	iova = va + q->c_delta;
	/*
	 * 1 byte to two memory pages (4 KiB: the fast path needs the pair's
	 * to be; max_request is at least 8 KiB then), dword-aligned; a PRP
	 * list is the general path's.
	 */
	page_left = 4096 - (iova & 4095);
	if (vfn_unlikely(len - 1 >= page_left + 4096 || (iova & 3)))
		return false;
	tail = qp->sq.tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == qp->sq.entries))
		next = 0;
	if (vfn_unlikely(next == qp->sq.head))
		return false;
	rq = qp->rqs.free;
	slba = off >> q->block_shift;
	sqe = &qp->sq.sqes[tail]; /* the controller reads it only after the tail moves */
	sqe->opcode = opcode;
	sqe->flags = 0; /* PSDT 00b: PRPs */
	sqe->cid = vfn_cpu_to_le16(rq->cid);
	sqe->nsid = vfn_cpu_to_le32(q->nsid);
	sqe->cdw2 = 0;
	sqe->cdw3 = 0;
	sqe->mptr = 0;
	sqe->dptr.prp1 = vfn_cpu_to_le64(iova);
	sqe->dptr.prp2 = vfn_cpu_to_le64(len > page_left ? iova + page_left : 0);
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	sqe->cdw12 = vfn_cpu_to_le32(((uint32_t)(len >> q->block_shift) - 1) | cdw12_flags); /* NLB 0's based */
	sqe->cdw13 = 0;
	sqe->cdw14 = 0;
	sqe->cdw15 = 0;
	qp->sq.tail = next;
	qp->rqs.free = rq->next;
	qp->rqs.nr_free--;
	rq->state = VFN_RQ_INFLIGHT;
	rq->flags = VFN_RQ_F_DIRECT; /* the reap calls @cb itself (qp->direct_done counts it) */
	rq->err = 0;
	rq->deadline_ns = 0;
	rq->cb = (vfn_rq_cb)(void (*)(void))cb;
	rq->opaque = arg;
	q->fast_posted++; /* in flight: fast_posted - qp->direct_done (blk_inflight) */
	return true;
}

#endif
