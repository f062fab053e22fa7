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

static inline __attribute__((always_inline)) int blk_nvme_fast_rw(struct vfn_blk_queue *q, uint8_t opcode,
								  const struct iovec *iov, uint64_t off,
								  uint32_t cdw12_flags, vfn_blk_cb cb, void *arg)
{
	uint64_t len = iov->iov_len, iova, slba, po, prp2;
	uintptr_t d = (uintptr_t)iov->iov_base - q->c_va; /* a buffer below c_va: huge */
	size_t c_len = __atomic_load_n(&q->c_len, __ATOMIC_RELAXED);
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_sqe *sqe;
	struct vfn_rq *rq;
	uint16_t tail, next;

	/*
	 * Whole blocks within the device (block_mask has bit 63 too: off + len
	 * cannot wrap), and the cached mapping holds the buffer (c_len is 0 on
	 * a queue that never translated: io_uring's, where q->qp is NULL; and
	 * after an unregistration; len < 2^63 and c_len too, so d + len
	 * cannot wrap once d < c_len).
	 * The error cases are the general path's.
	 */
	if (vfn_unlikely(((off | len) & q->block_mask) || off + len > q->size || d >= c_len || d + len > c_len))
		return 0;
	qp = q->qp;
	/*
	 * Room for a request: every request in flight holds at least one
	 * command of the pair, so more than fast_min_free (nr - depth) free
	 * commands means fewer than depth requests in flight, and at least one
	 * free command (the general path counts exactly; 0xffff: a queue
	 * without the fast path).  The SQ then has room too: the pair holds
	 * entries - 1 commands and each slot from the head the controller
	 * reported to the tail is a command whose completion was not reaped.
	 * No hooks.
	 */
	if (vfn_unlikely(qp->rqs.nr_free <= q->fast_min_free || qp->hooks))
		return 0;
	/*
	 * The free request holds the callback from now on (a free request's
	 * are unused): a refusal from here on (-1) passes it back from there
	 * (blk_readv_late()), so no register keeps it through the rest.
	 */
	rq = qp->rqs.free;
	rq->cb = (vfn_rq_cb)(void (*)(void))cb; /* the reap calls @cb itself (VFN_RQ_F_DIRECT) */
	rq->opaque = arg;
	iova = d + q->c_iova;
	/*
	 * 1 byte to two memory pages (4 KiB: the fast path needs the pair's
	 * to be; max_request is at least 8 KiB then), dword-aligned; a PRP
	 * list is the general path's.
	 */
	po = iova & 4095;
	if (vfn_unlikely(((len - 1) | (po + len - 1)) >= 8192 || (iova & 3))) /* len - 1: len 0 too */
		return -1;
	prp2 = po + len > 4096 ? iova - po + 4096 : 0; /* the next page when the data crosses into it */
	/*
	 * Everything checked: what comes from memory below is loaded anew, so
	 * no loaded value waits in a register through the checks (fewer
	 * registers to save).
	 */
	__asm__ volatile("" ::: "memory");
	tail = qp->sq.tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == qp->sq.entries))
		next = 0;
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
	sqe->dptr.prp2 = vfn_cpu_to_le64(prp2);
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
	rq->flags = VFN_RQ_F_DIRECT; /* qp->direct_done counts its completion */
	rq->err = 0;
	rq->deadline_ns = 0;
	return 1;
}

#endif
