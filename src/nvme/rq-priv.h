/* SPDX-License-Identifier: MIT */
/* The request tracker's setup, shared by the queue pair code and its tests. */
#ifndef VFN_SRC_NVME_RQ_PRIV_H
#define VFN_SRC_NVME_RQ_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfn/rq.h>

/*
 * Sets up @nr (1..65535) requests with command ids 0..@nr-1, all free (cid 0
 * is handed out first), request i getting @list_len bytes of list memory at
 * @list_mem + i * @list_len (device address @list_iova + i * @list_len).
 * @list_mem may be NULL (then requests have no list memory).
 * Returns 0, -EINVAL (@nr 0) or -ENOMEM.
 */
int vfn_rq_tracker_init(struct vfn_rq_tracker *t, uint32_t nr, void *list_mem, uint64_t list_iova, uint32_t list_len);

/* Frees the requests; the list memory stays the caller's. */
void vfn_rq_tracker_fini(struct vfn_rq_tracker *t);

/*
 * Bytes of list memory one request needs to describe @max_xfer bytes with
 * PRPs in @page_size pages (a power of two, at least 256 for a few SGL
 * descriptors, at most one page), and the transfer size it then covers
 * (stored in *@max_xfer: @max_xfer, or what one list page covers if less
 * or if @max_xfer is 0 for "no limit").
 */
uint32_t vfn_rq_list_len(size_t page_size, size_t *max_xfer);

/*
 * Reaps @qp until @cond(@arg) holds: spins when polled, sleeps on the
 * eventfd with interrupts, reads CSTS every 10 ms.  Returns 0, -ETIMEDOUT
 * after @timeout_ms (0: qp->timeout_ms), -ENODEV or -EIO (CSTS; then the
 * controller is marked failed and @qp's requests fail, see
 * vfn_nvme_qpair_fail()).
 */
/*
 * Calls the callback of DONE request @rq (if any) with completion @cqe:
 * a VFN_RQ_F_DIRECT one after releasing @rq, any other before releasing it
 * unless the callback freed it.
 */
static inline __attribute__((always_inline)) void vfn_rq_call(struct vfn_nvme_qpair *qp, struct vfn_rq *rq,
							      const struct vfn_nvme_cqe *cqe)
{
	if (rq->flags & VFN_RQ_F_DIRECT) {
		vfn_rq__call_direct(qp, rq, cqe);
		return;
	}
	if (rq->cb) {
		rq->cb(qp, rq, cqe);
		/* Unless the callback freed (and maybe reused) it itself. */
		if (rq->state == VFN_RQ_DONE)
			vfn_rq_release(qp, rq);
	}
}

int vfn_rq_wait_cond(struct vfn_nvme_qpair *qp, bool (*cond)(const void *arg), const void *arg, uint32_t timeout_ms);

/*
 * vfn_rq_map_meta() with @sgl, without its argument checks and whatever
 * the controller reports (the _FORCE policy of vfn_nvme_io_opts).
 */
int vfn_rq_map_meta_sgl(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, const void *meta,
			size_t len);

/* vfn_rq_map_meta() without @sgl, without its argument checks. */
int vfn_rq_map_meta_contig(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, const void *meta, size_t len);

#endif
