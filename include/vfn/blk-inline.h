/* SPDX-License-Identifier: MIT */
/*
 * vfn blk, inline: the block API's hot calls without a call into the
 * library.  Opt-in: with VFN_BLK_INLINE defined before <vfn/blk.h>,
 * vfn_blk_readv(), vfn_blk_writev(), vfn_blk_queue_submit() and
 * vfn_blk_queue_poll() are function-like macros over the always-inline
 * helpers below.  A one-segment read or write on an nvme queue is then
 * written into the SQ, the doorbell rung and its completion reaped with
 * no call into the library (the reap's checks are the library's own, from
 * <vfn/rq.h>); anything the helpers do not take goes to the library's
 * function of the same name, which behaves as without them.  Each
 * argument is evaluated once (the helpers are functions); the name
 * without a call (&vfn_blk_readv, a function pointer) is the library's
 * function, and so is every call a wrapper, LD_PRELOAD or ltrace sees.
 * The price: library code is compiled into the caller (the fast path, the
 * doorbell, the reap of direct completions with its CQE checks and its
 * stall-watch fields), so a library fix there reaches the caller when it
 * is rebuilt, as with the request API's inline calls; and the layouts it
 * uses (struct vfn_blk_queue_hot, the first member of every queue, and
 * those of <vfn/rq.h> and <vfn/queue.h>) are the ABI: a change of them
 * changes the library's soname.
 */
#ifndef VFN_BLK_INLINE_H
#define VFN_BLK_INLINE_H

#include <vfn/blk.h>
#include <vfn/rq.h>

/*
 * What the inline calls read of a queue: its first member, read and
 * written by the library's code only (here and in the library; the
 * caller's own code touches none of it).  Public for the same reason
 * struct vfn_nvme_qpair is: a one-segment read or write on an nvme queue,
 * the doorbell and the poll need no call into the library.
 */
struct vfn_blk_queue_hot {
	struct vfn_nvme_qpair *qp; /* the nvme backend's pair; NULL on io_uring */
	uintptr_t c_va;		   /* the last mapping translated: from c_va, c_len bytes at c_iova */
	size_t c_len; /* atomic: 0 (empty) before the first translation and from vfn_blk_mem_unregister() */
	uint64_t c_iova;
	uint64_t size;		/* the device's bytes */
	uint64_t block_mask;	/* the block size - 1, and bit 63 (no offset + length can wrap) */
	uint32_t block_shift;	/* log2 of the block size */
	uint32_t nsid;		/* the namespace */
	uint16_t fast_min_free; /* the pair's commands minus the depth; 0xffff: no fast path */
	uint8_t polling;	/* 1: inside a poll; 2: polled through the backend (both: the library's poll) */
	bool fast;		/* an nvme queue: the inline doorbell */
	struct vfn_blk_stats stats;
};

#define VFN_BLK__POLLING 1u /* hot.polling: inside vfn_blk_queue_poll() (a callback may not poll again) */

/*
 * The nvme fast path: a read or write of one segment, in the mapping the
 * queue translated last, within two memory pages, on a pair with no
 * slow-path hooks, becomes one command written straight into the SQ; the
 * reap calls @cb itself (VFN_RQ_F_DIRECT).  Returns 1 when queued, 0 when
 * refused untouched, -1 when refused after @cb and @arg went into the
 * pair's free request (the library's call reads them from there).
 * Anything refused goes to the library, which checks and reports errors.
 */
static inline __attribute__((always_inline)) int vfn_blk__fast_rw(struct vfn_blk_queue *queue, uint8_t opcode,
								  const struct iovec *iov, uint64_t off,
								  uint32_t cdw12_flags, vfn_blk_cb cb, void *arg)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;
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
	 */
	if (vfn_unlikely(((off | len) & q->block_mask) || off + len > q->size || d >= c_len || d + len > c_len))
		return 0;
	qp = q->qp;
	/*
	 * Room for a request: every request in flight holds at least one
	 * command of the pair, so more than fast_min_free (nr - depth) free
	 * commands means fewer than depth requests in flight, and at least one
	 * free command (the library counts exactly).  The SQ then has room
	 * too: the pair holds entries - 1 commands and each slot from the head
	 * the controller reported to the tail is a command whose completion
	 * was not reaped.  No hooks.
	 */
	if (vfn_unlikely(qp->rqs.nr_free <= q->fast_min_free || qp->hooks))
		return 0;
	/* The free request holds the callback from now on (a free request's are unused). */
	rq = qp->rqs.free;
	rq->cb = (vfn_rq_cb)(void (*)(void))cb; /* the reap calls @cb itself (VFN_RQ_F_DIRECT) */
	rq->opaque = arg;
	iova = d + q->c_iova;
	/* 1 byte to two 4 KiB pages, dword-aligned; a PRP list is the library's. */
	po = iova & 4095;
	if (vfn_unlikely(((len - 1) | (po + len - 1)) >= 8192 || (iova & 3))) /* len - 1: len 0 too */
		return -1;
	prp2 = po + len > 4096 ? iova - po + 4096 : 0; /* the next page when the data crosses into it */
	/* Everything checked: what comes from memory below is loaded anew (fewer registers to save). */
	__asm__ volatile("" ::: "memory");
	tail = qp->sq.tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == qp->sq.entries))
		next = 0;
	slba = off >> q->block_shift;
	sqe = &qp->sq.sqes[tail]; /* the controller reads it only after the tail moves (the doorbell) */
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

static inline __attribute__((always_inline)) int vfn_blk__readv(struct vfn_blk_queue *q, const struct iovec *iov,
								int iovcnt, uint64_t offset, vfn_blk_cb cb, void *arg)
{
	if (vfn_likely(iovcnt == 1 && iov) && vfn_likely(vfn_blk__fast_rw(q, 0x02, iov, offset, 0, cb, arg) > 0))
		return 0;
	return (vfn_blk_readv)(q, iov, iovcnt, offset, cb, arg);
}

static inline __attribute__((always_inline)) int vfn_blk__writev(struct vfn_blk_queue *q, const struct iovec *iov,
								 int iovcnt, uint64_t offset, uint32_t flags,
								 vfn_blk_cb cb, void *arg)
{
	/* VFN_BLK_FUA is bit 0, the command's FUA bit 30 */
	if (vfn_likely(iovcnt == 1 && iov && !(flags & ~VFN_BLK_FUA)) &&
	    vfn_likely(vfn_blk__fast_rw(q, 0x01, iov, offset, flags << 30, cb, arg) > 0))
		return 0;
	return (vfn_blk_writev)(q, iov, iovcnt, offset, flags, cb, arg);
}

static inline __attribute__((always_inline)) int vfn_blk__queue_submit(struct vfn_blk_queue *queue)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;

	if (vfn_likely(q->fast)) {
		vfn_nvme_qpair_submit(q->qp); /* as the request API rings */
		return 0;
	}
	return (vfn_blk_queue_submit)(queue);
}

/*
 * The poll of an nvme queue whose doorbells are rung, on a pair without
 * hooks: the reap of vfn_nvme_qpair_reap() made here for the direct
 * completions (the fast path's), with its per-CQE steps (<vfn/rq.h>) and
 * its CQ head policy.  The first CQE it does not take (a stray one, a
 * general-path request) and what follows go to the library's poll, within
 * what is left of @max; so does an empty CQ while a doorbell value sits
 * only in a shadow doorbell (the library's reap watches for a controller
 * that missed it).
 */
static inline __attribute__((always_inline)) int vfn_blk__queue_poll(struct vfn_blk_queue *queue, uint32_t max)
{
	struct vfn_blk_queue_hot *q = (struct vfn_blk_queue_hot *)(void *)queue;
	struct vfn_nvme_qpair *qp = q->qp;
	struct vfn_nvme_cqe *cqe;
	struct vfn_rq *rq;
	uint32_t n = 0;
	int ret;

	/* One test for a poll inside a poll and a queue without the inline poll (io_uring, INTx). */
	if (vfn_unlikely(q->polling) || vfn_unlikely(qp->sq.tail != qp->sq.db_tail || qp->hooks))
		return (vfn_blk_queue_poll)(queue, max);
	cqe = vfn_cq_peek(&qp->cq);
	if (!cqe) {
		/*
		 * What the library's reap does here, with no CQ head to write:
		 * every reap and submit of a block queue leaves it reported
		 * with interrupts and not due when polled, and they are the
		 * only consumers of its CQ.
		 */
		if (vfn_nvme_qpair_shadow_pending(qp))
			return (vfn_blk_queue_poll)(queue, max);
		qp->idle_reaps = 0; /* no stall to watch */
		qp->stall_ns = 0;
		return 0;
	}
	q->polling = VFN_BLK__POLLING;
	for (;;) {
		rq = vfn_rq__cqe_rq(qp, cqe);
		if (vfn_unlikely(!rq || !(rq->flags & VFN_RQ_F_DIRECT))) {
			q->polling = 0; /* not inside a poll: the library's poll does not fail */
			ret = (vfn_blk_queue_poll)(queue, max ? max - n : 0);
			return ret < 0 ? ret : (int)n + ret;
		}
		vfn_rq__consume(qp, rq, cqe);
		vfn_rq__call_direct(qp, rq, &rq->cqe);
		n++;
		/* The last completion owed ends it, with no look at the next slot (nor can the head be due). */
		if (qp->rqs.nr_free == qp->rqs.nr)
			break;
		if ((max && n == max) || !(cqe = vfn_cq_peek(&qp->cq))) {
			if (qp->efd < 0 && vfn_nvme_qpair_cq_head_due(qp)) /* polled: the CQ head when due */
				vfn_nvme_qpair_cq_ring(qp);
			break;
		}
	}
	if (qp->efd >= 0 && qp->cq.unreported) /* with interrupts: the CQ head after every reap */
		vfn_nvme_qpair_cq_ring(qp);
	qp->idle_reaps = 0;
	qp->stall_ns = 0;
	q->polling = 0;
	return (int)n;
}

#if defined(VFN_BLK_INLINE)
#define vfn_blk_readv(...) vfn_blk__readv(__VA_ARGS__)
#define vfn_blk_writev(...) vfn_blk__writev(__VA_ARGS__)
#define vfn_blk_queue_submit(q) vfn_blk__queue_submit(q)
#define vfn_blk_queue_poll(q, max) vfn_blk__queue_poll(q, max)
#endif

#endif /* VFN_BLK_INLINE_H */
