/* SPDX-License-Identifier: MIT */
/*
 * vfn rq: the I/O API — queue pairs, requests, and NVM command helpers.
 *
 * A queue pair (struct vfn_nvme_qpair) is one I/O SQ and its own CQ, with a
 * request tracker sized to the queue: entries - 1 requests, each with a fixed
 * command id (its index) and a slice of DMA memory for its PRP list or SGL
 * segment, all allocated when the pair is created.  The hot path allocates
 * nothing, takes no lock and makes no system call in polling mode:
 *
 *   rq = vfn_rq_alloc(qp);                        take a free command id
 *   vfn_rq_map(qp, rq, &sqe, buf, len, sgl);      data pointer (PRP or SGL)
 *   vfn_rq_post(qp, rq, &sqe);                    SQE at the tail, no doorbell
 *   ... more posts ...
 *   vfn_nvme_qpair_submit(qp);                    one doorbell for the batch
 *   vfn_nvme_qpair_reap(qp, 0);                   completions, one head write
 *
 * Data buffers belong to the caller and must be DMA-mapped in the
 * controller's address space (vfn_dma_alloc() memory or vfn_iommu_map()ped).
 * A queue pair is not thread-safe: one thread drives it at a time.
 * The structures below are public so the short functions can be inline;
 * callers read them but change only rq->cb and rq->opaque.
 *
 * Ownership: a request has exactly one owner at every moment (see enum
 * vfn_rq_state): the tracker while FREE; the caller while ALLOCATED or
 * DONE; the controller (and the driver for it) while INFLIGHT, SPLIT or
 * ABANDONED.  The caller gets it back only completed: by the controller
 * (its CQE), or by the driver once the controller was quiesced (recovery,
 * see vfn_nvme_ctrl_reset()), never while the device may still touch its
 * data buffer.  A request with a callback is handed to the callback and
 * released when it returns; one without stays DONE until vfn_rq_free().
 */
#ifndef VFN_RQ_H
#define VFN_RQ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vfn/nvme.h>
#include <vfn/queue.h>
#include <vfn/support.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfn_nvme_qpair;
struct vfn_rq;

/*
 * Completion callback, called from vfn_nvme_qpair_reap() — or, with a
 * made-up completion (rq->err set), from recovery: vfn_nvme_ctrl_reset(),
 * vfn_nvme_qpair_check_timeouts() and the synchronous helpers' waits,
 * always after the controller was quiesced.  @cqe is the completion (as
 * stored in rq->cqe).  The request is released when the callback returns
 * (unless the callback freed it itself): do not keep @rq.
 *
 * A callback may: free @rq or other requests it owns, allocate requests,
 * post and submit commands on any pair (while the controller is failed or
 * being reset the post is refused with qp->err — nothing reaches the
 * device — so re-submit after vfn_nvme_ctrl_reset() returned), send admin
 * commands (refused with -EIO while failed), read any state.  It must not
 * reap the same pair, destroy a pair, or reset or close the controller
 * (a reset from a reset's callback returns -EBUSY).
 */
typedef void (*vfn_rq_cb)(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe);

/* Life of a request, and who owns it in each state. */
enum vfn_rq_state {
	VFN_RQ_FREE = 0,  /* the tracker's: on the free list */
	VFN_RQ_ALLOCATED, /* the caller's, not posted */
	VFN_RQ_INFLIGHT,  /* the controller's: posted, completion not seen yet */
	VFN_RQ_DONE,	  /* the caller's (no callback): completed, rq->cqe and rq->err valid */
	VFN_RQ_ABANDONED, /* the driver's: the caller gave it up in flight; released by its late
			     completion (dropped) or once the controller is quiesced */
	VFN_RQ_SPLIT,	  /* the driver's until its callback: stands for a split transfer's pieces */
};

/* rq->flags */
#define VFN_RQ_F_INJECTED (1u << 0) /* never sent: completed by driver-side error injection */
#define VFN_RQ_F_HELD (1u << 1)	    /* never sent: held back by injection until it times out */
#define VFN_RQ_F_ABORTED (1u << 2)  /* timed out once: Abort was sent and answered, a second timeout expires it */
#define VFN_RQ_F_EXPIRED (1u << 3)  /* expired for good: failed with -ETIMEDOUT once the controller is quiesced */
/*
 * rq->cb holds a vfn_rq_direct_cb (cast to vfn_rq_cb) and rq->opaque its
 * argument: the completion releases the request, counts it in
 * qp->direct_done and then calls cb(opaque, err, status) with status the
 * CQE's & 0x7ff and err rq->err, else -EIO for a non-zero status, else 0.
 * For layers (the block API) whose callbacks know no vfn_rq: no wrapper
 * between the reap and their callback.
 */
#define VFN_RQ_F_DIRECT (1u << 4)

/* The callback of a VFN_RQ_F_DIRECT request (the shape of vfn_blk_cb). */
typedef void (*vfn_rq_direct_cb)(void *arg, int err, uint16_t status);

struct vfn_rq {
	uint16_t cid;  /* command id: the index in the tracker, fixed */
	uint8_t state; /* enum vfn_rq_state */
	uint8_t flags; /* VFN_RQ_F_* */
	/*
	 * 0 if the controller completed the request; else why the driver
	 * completed it with a made-up completion (status
	 * VFN_NVME_SC_HOST_ABORTED) after quiescing the controller:
	 * -ETIMEDOUT (expired: timed out after an Abort, or Abort went
	 * unanswered), -ECANCELED (controller failed or being reset),
	 * -ENODEV (device gone).
	 */
	int32_t err;
	vfn_rq_cb cb;		 /* called on completion; NULL: the request stays DONE */
	void *opaque;		 /* the caller's context */
	struct vfn_nvme_cqe cqe; /* the completion once DONE */
	void *list;		 /* PRP list / SGL segment memory of this request (DMA) */
	uint64_t list_iova;
	uint32_t list_len;	 /* bytes */
	struct vfn_rq *next;	 /* free list link */
	uint32_t pieces;	 /* SPLIT: pieces not completed yet */
	uint64_t deadline_ns;	 /* timeout deadline, set by the first timeout check that sees it (0: none yet) */
	uint64_t log_seq;	 /* its command log entry (when the log is on) */
	struct vfn_rq *inj_next; /* list of injected completions waiting for the next reap */
};

/* Completions that were not trusted, and what happened to the others. */
struct vfn_rq_stats {
	uint64_t completed;    /* delivered to a request */
	uint64_t bad_cid;      /* command id beyond the tracker: dropped */
	uint64_t not_inflight; /* command id of a request not in flight: dropped */
	uint64_t wrong_sqid;   /* SQ id of another queue: dropped */
	uint64_t late;	       /* completions of abandoned requests: dropped, id released */
	uint64_t timed_out;    /* requests completed with -ETIMEDOUT by a timeout check */
	uint64_t cancelled;    /* requests completed with -ECANCELED / -ENODEV (controller failed) */
	uint64_t injected;     /* requests completed or held by driver-side error injection */
};

/* The requests of one queue pair. */
struct vfn_rq_tracker {
	struct vfn_rq *rqs;  /* nr requests; rqs[cid].cid == cid */
	struct vfn_rq *free; /* free stack */
	uint16_t nr;
	uint16_t nr_free;
	struct vfn_rq_stats stats;
};

struct vfn_nvme_qpair {
	struct vfn_sq sq;
	struct vfn_cq cq;
	struct vfn_rq_tracker rqs;
	struct vfn_nvme_ctrl *ctrl; /* borrowed */
	struct vfn_iommu *iommu;    /* the controller's address space (borrowed) */
	size_t page_size;	    /* CC.MPS memory page size */
	size_t max_xfer;	    /* bytes one command may move (MDTS, PRP list) */
	bool sgl;		    /* the controller supports SGLs for NVM commands */
	bool sgl_dword;		    /* ... with dword alignment and granularity (SGLS 10b) */
	int efd;		    /* eventfd of the CQ's vector, -1 when polled */
	uint32_t timeout_ms;	    /* default for the synchronous helpers */
	void *list_mem;		    /* all requests' PRP list / SGL memory */
	size_t list_mem_len;
	/*
	 * Slow-path hooks (VFN_QP_HOOK_*): 0 on the hot path, so posting and
	 * completing cost one predictable branch while injection, the
	 * command log and failure handling are all off.
	 */
	uint32_t hooks;
	int err;			    /* -ECANCELED / -ENODEV while failed (posts refused) */
	struct vfn_nvme_inject *inject;	    /* driver-side error injection rules (owned) */
	struct vfn_nvme_cmdlog *cmdlog;	    /* command log ring (owned) */
	struct vfn_rq *inj_head, *inj_tail; /* injected completions to deliver at the next reap */
	struct vfn_nvme_qpair *ctrl_next;   /* the controller's list of queue pairs */
	uint16_t qprio;			    /* for re-creating the SQ on reset */
	/* The stall check of vfn_nvme_qpair_reap() (appended: the layout above is unchanged). */
	uint32_t idle_reaps;  /* empty reaps in a row with a doorbell value the MMIO register never got */
	uint64_t stall_ns;    /* when the first of those looked at the clock */
	int vector;	      /* MSI-X vector the pair's eventfd is routed from, -1 when polled (appended) */
	uint64_t rerung;      /* MMIO doorbells written after a stall with the value only the shadow had */
	bool sq_cmb;	      /* the SQ ring is in the CMB (appended) */
	bool lists_cmb;	      /* list_mem is in the CMB (appended) */
	bool sgl_mptr;	      /* SGLS bit 19: MPTR may hold an SGL descriptor (PSDT 10b) (appended) */
	bool cq_cmb;	      /* the CQ ring is in the CMB (appended) */
	uint64_t direct_done; /* VFN_RQ_F_DIRECT requests completed (appended) */
};

#define VFN_QP_HOOK_INJECT (1u << 0) /* injection rules armed, or injected completions pending */
#define VFN_QP_HOOK_LOG (1u << 1)    /* command log on */
#define VFN_QP_HOOK_FAILED (1u << 2) /* the controller failed: posts return qp->err */

/* ---- Requests (hot path) ------------------------------------------------ */

/* Takes a free request (state ALLOCATED, cb/opaque cleared); NULL if none is free. */
static inline struct vfn_rq *vfn_rq_alloc(struct vfn_nvme_qpair *qp)
{
	struct vfn_rq *rq = qp->rqs.free;

	if (vfn_unlikely(!rq))
		return NULL;
	qp->rqs.free = rq->next; /* rq->next means something only on the free list */
	qp->rqs.nr_free--;
	rq->state = VFN_RQ_ALLOCATED;
	rq->flags = 0;
	rq->cb = NULL;
	rq->opaque = NULL;
	rq->err = 0;
	rq->deadline_ns = 0;
	return rq;
}

/* Puts @rq back on the free list (internal; use vfn_rq_free()). */
static inline void vfn_rq_release(struct vfn_nvme_qpair *qp, struct vfn_rq *rq)
{
	rq->state = VFN_RQ_FREE;
	rq->next = qp->rqs.free;
	qp->rqs.free = rq;
	qp->rqs.nr_free++;
}

/*
 * Gives @rq back.  A request still in flight is abandoned instead (it
 * becomes the driver's): its command id returns to the free list only when
 * its completion arrives (and is dropped), or once the controller is
 * quiesced by a reset, so it is never reused while the controller may
 * answer it.  Freeing a free or abandoned request does nothing.
 */
static inline void vfn_rq_free(struct vfn_nvme_qpair *qp, struct vfn_rq *rq)
{
	if (rq->state == VFN_RQ_INFLIGHT)
		rq->state = VFN_RQ_ABANDONED;
	else if (rq->state == VFN_RQ_ALLOCATED || rq->state == VFN_RQ_DONE)
		vfn_rq_release(qp, rq);
}

/* The request with command id @cid, or NULL if @cid is beyond the tracker. */
static inline struct vfn_rq *vfn_rq_lookup(struct vfn_nvme_qpair *qp, uint16_t cid)
{
	return vfn_likely(cid < qp->rqs.nr) ? &qp->rqs.rqs[cid] : NULL;
}

/*
 * Sets @sqe's command id to @rq's, copies it to the SQ tail and marks @rq in
 * flight, without ringing the doorbell (vfn_nvme_qpair_submit() does).
 * -EBUSY if the SQ is full, -EINVAL if @rq is not ALLOCATED (not logged:
 * this is the hot path), qp->err (-ECANCELED while failed or being reset,
 * -EIO after a reset failed, -ENODEV device gone) while the controller is
 * failed: nothing is posted then.  A command that an injection rule matches is not sent (see
 * vfn_nvme_inject_status()) and still counts as posted.
 */
/*
 * vfn_rq_post() when a slow-path hook is on (internal, called from the
 * inline function): refuses posts with qp->err while the controller is
 * failed, applies injection rules (the command is not sent), records the
 * command in the log.  Returns as vfn_rq_post().
 */
VFN_API int vfn_rq_post_hooked(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe);

static inline int vfn_rq_post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe)
{
	struct vfn_sq *sq = &qp->sq;
	uint16_t tail, next;

	/* The hooked path also refuses a request that is not ALLOCATED. */
	if (vfn_unlikely(qp->hooks || rq->state != VFN_RQ_ALLOCATED))
		return vfn_rq_post_hooked(qp, rq, sqe);
	tail = sq->tail;
	next = (uint16_t)(tail + 1);
	if (vfn_unlikely(next == sq->entries))
		next = 0;
	/* The SQ is full when the tail would catch up with the head. */
	if (vfn_unlikely(next == sq->head))
		return -EBUSY;
	sqe->cid = vfn_cpu_to_le16(rq->cid);
	rq->state = VFN_RQ_INFLIGHT;
	memcpy(&sq->sqes[tail], sqe, sizeof(*sqe));
	sq->tail = next;
	return 0;
}

/*
 * Whether the CQ head doorbell must be written now (internal), for a
 * polled pair (a pair with interrupts writes it after every reap that
 * consumed something, so it has nothing unreported here).  The head is
 * written lazily, only when the CQEs consumed since the last write plus
 * the requests not free (an upper bound of the completions still to come)
 * could overflow the CQ, which holds entries - 1: the controller never
 * finds the CQ full, and most head writes are saved.  The tracker holds
 * entries - 1 requests, so that sum, unreported + (entries - 1 - nr_free),
 * exceeds entries - 1 exactly when unreported > nr_free: one compare.
 * vfn_nvme_qpair_submit() checks it before ringing, and the reap after
 * consuming (requests the caller has not freed yet keep the sum up).
 */
static inline bool vfn_nvme_qpair_cq_head_due(const struct vfn_nvme_qpair *qp)
{
	return qp->cq.unreported > qp->rqs.nr_free;
}

/*
 * Whether a doorbell value of @qp was written only to its shadow doorbell
 * (never to the MMIO register).  A controller that misses the shadow update
 * then waits for ever; vfn_nvme_qpair_reap() notices on its empty reaps and
 * rings the MMIO doorbell after a stall, so a caller that skips empty reaps
 * must still make them while this holds.
 */
static inline bool vfn_nvme_qpair_shadow_pending(const struct vfn_nvme_qpair *qp)
{
	return qp->sq.db_tail != qp->sq.mmio_tail || qp->cq.db_head != qp->cq.mmio_head;
}

/*
 * Writes the CQ head doorbell of @qp (internal, out of line: called from
 * vfn_nvme_qpair_submit() about once per CQ lap, so the inline path stays
 * short).
 */
VFN_API void vfn_nvme_qpair_cq_ring(struct vfn_nvme_qpair *qp);

/*
 * Rings the SQ doorbell once for everything posted since the last ring
 * (nothing if nothing was posted); first the CQ head doorbell if the new
 * commands could otherwise find the CQ full.  With shadow doorbells the
 * MMIO writes happen only when the controller's EventIdx asks for them.
 */
static inline void vfn_nvme_qpair_submit(struct vfn_nvme_qpair *qp)
{
	if (vfn_unlikely(vfn_nvme_qpair_cq_head_due(qp)))
		vfn_nvme_qpair_cq_ring(qp);
	if (qp->sq.tail != qp->sq.db_tail)
		vfn_sq_ring(&qp->sq);
}

/*
 * Fills @sqe's data pointer for @len bytes at @buf: PRPs (PRP list in @rq's
 * memory when needed), or with @sgl an SGL (Data Block descriptors, in
 * @rq's segment memory when @buf spans several mappings) and PSDT set.
 * @len 0 clears the data pointer.  @buf must be DMA-mapped; for PRPs it
 * must lie in one mapping and be dword aligned.  No allocation, no syscall.
 * Errors: -EFAULT (@buf not mapped), -EINVAL (@len beyond qp->max_xfer,
 * unaligned, PRPs across mappings, or an SGL piece not dword aligned and
 * sized when the controller asks for that: SGLS 10b, qp->sgl_dword),
 * -ENOTSUP (@sgl but the controller has no SGL support), -E2BIG (more
 * pieces than the segment holds).
 */
VFN_API int vfn_rq_map(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		       bool sgl);

/*
 * Fills @sqe's metadata pointer for @len bytes of separate metadata at
 * @meta (DMA-mapped), after vfn_rq_map() filled the data pointer.  Without
 * @sgl, MPTR is the IOVA of @meta, which must lie in one mapping (PSDT 10b
 * goes back to 01b).  With @sgl the data pointer must be an SGL
 * (vfn_rq_map() with sgl): PSDT becomes 10b and MPTR addresses one SGL
 * descriptor in @rq's segment memory, placed after the data's descriptors:
 * a Data Block when @meta lies in one mapping, else a Last Segment
 * descriptor listing one Data Block per mapping crossed (there too).  @len 0
 * clears MPTR.  No allocation, no syscall.  Errors: -EINVAL (NULL
 * argument, @len beyond qp->max_xfer, @sgl without an SGL data pointer or
 * segment memory, @meta across mappings without @sgl, a piece not dword
 * aligned and sized under SGLS 10b), -EFAULT (@meta not mapped), -ENOTSUP
 * (@sgl but the controller does not report SGLS bit 19, qp->sgl_mptr),
 * -E2BIG (data and metadata descriptors do not fit the segment memory).
 */
VFN_API int vfn_rq_map_meta(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *meta,
			    size_t len, bool sgl);

/*
 * vfn_rq_map_iova() for everything but one dword-aligned piece within a
 * memory page (internal, called from the inline function): PRP2 or a PRP
 * list, @len 0, and the errors.  Returns as vfn_rq_map_iova().
 */
VFN_API int vfn_rq_map_iova_list(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, uint64_t iova,
				 size_t len);

/*
 * The fast path of vfn_rq_map() for callers that keep the device address
 * of their buffers (e.g. from vfn_dma_alloc()): PRPs for @len bytes at
 * device address @iova, which must be contiguous in the controller's
 * address space (one mapping) and dword aligned.  No translation; @len 0
 * clears the data pointer.  Inline for a piece within one memory page
 * (PRP1 only); longer ones build PRP2 or a PRP list in @rq's memory.
 * @qp, @rq and @sqe are not checked (hot path).  Errors: -EINVAL (@len
 * beyond qp->max_xfer, @iova not dword aligned).
 */
static inline int vfn_rq_map_iova(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, uint64_t iova,
				  size_t len)
{
	size_t room = qp->page_size - ((size_t)iova & (qp->page_size - 1));

	/* 1..room bytes (len 0 wraps), dword aligned, within the transfer limit. */
	if (vfn_likely(len - 1 < room && !(iova & 3) && len <= qp->max_xfer)) {
		sqe->flags &= (uint8_t)~0xc0u; /* PSDT 00b: PRPs */
		sqe->dptr.prp1 = vfn_cpu_to_le64(iova);
		sqe->dptr.prp2 = 0;
		return 0;
	}
	return vfn_rq_map_iova_list(qp, rq, sqe, iova, len);
}

/*
 * Fills @sqe with a Read or Write (@opcode VFN_NVME_CMD_READ/WRITE) of @nlb
 * (1..65536) logical blocks at @slba of namespace @nsid: every other field
 * 0 (no FUA, no PI, PRPs), the data pointer to be set by vfn_rq_map_iova()
 * or vfn_rq_map().  Nothing is checked (hot path): @nlb 0 wraps to 65536.
 * The command an application builds per I/O on the request API; `vfn perf
 * --sqe-per-io` counts it with the driver (docs/perf.md, block API cost).
 */
static inline void vfn_nvme_rw_sqe(struct vfn_nvme_sqe *sqe, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
#if !defined(__cplusplus)
	/* As an application writes it in C: the compiler clears and fills in a few wide stores. */
	*sqe = (struct vfn_nvme_sqe){
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};
#else
	__builtin_memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = vfn_cpu_to_le32(nsid);
	sqe->cdw10 = vfn_cpu_to_le32((uint32_t)slba);
	sqe->cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32));
	sqe->cdw12 = vfn_cpu_to_le32(nlb - 1);
#endif
}

/*
 * Completion, one CQE (internal: the reap of vfn_nvme_qpair_reap() and the
 * inline poll of <vfn/blk-inline.h> are made of these, so both trust and
 * consume a CQE the same way).
 */

/*
 * The request of @qp in flight that @cqe, read after its phase tag,
 * completes: @qp's SQ, a command id of the tracker, a request in flight.
 * NULL for anything else, the reap's to count and drop.
 */
static inline __attribute__((always_inline)) struct vfn_rq *vfn_rq__cqe_rq(struct vfn_nvme_qpair *qp,
									   const struct vfn_nvme_cqe *cqe)
{
	uint16_t cid = vfn_le16_to_cpu(cqe->cid);

	if (vfn_unlikely(vfn_le16_to_cpu(cqe->sqid) != qp->sq.qid || cid >= qp->rqs.nr ||
			 qp->rqs.rqs[cid].state != VFN_RQ_INFLIGHT))
		return NULL;
	return &qp->rqs.rqs[cid];
}

/*
 * Consumes @cqe at the CQ head for its request @rq (vfn_rq__cqe_rq()):
 * copies it to @rq, which becomes DONE, pops it, takes the SQ head it
 * reports and counts it.
 */
static inline __attribute__((always_inline)) void vfn_rq__consume(struct vfn_nvme_qpair *qp, struct vfn_rq *rq,
								  const struct vfn_nvme_cqe *cqe)
{
	rq->cqe = *cqe;
	vfn_cq_pop(&qp->cq); /* the slot stays ours until the head doorbell says otherwise */
	if (vfn_likely(vfn_le16_to_cpu(rq->cqe.sqhd) < qp->sq.entries))
		qp->sq.head = vfn_le16_to_cpu(rq->cqe.sqhd);
	qp->rqs.stats.completed++;
	rq->state = VFN_RQ_DONE;
}

/* Completes DONE VFN_RQ_F_DIRECT request @rq with @cqe as that flag describes. */
static inline __attribute__((always_inline)) void vfn_rq__call_direct(struct vfn_nvme_qpair *qp, struct vfn_rq *rq,
								      const struct vfn_nvme_cqe *cqe)
{
	vfn_rq_direct_cb cb = (vfn_rq_direct_cb)(void (*)(void))rq->cb; /* stored so, see VFN_RQ_F_DIRECT */
	void *arg = rq->opaque;
	uint16_t status = vfn_nvme_cqe_status(cqe) & 0x7ff;
	int err = rq->err;

	if (vfn_unlikely(err | status))
		err = err ? err : -EIO;
	vfn_rq_release(qp, rq);
	qp->direct_done++;
	cb(arg, err, status);
}

/*
 * Consumes up to @max posted completions (0: all), then writes the CQ head
 * doorbell at most once: after every batch with interrupts, lazily when
 * polled (see vfn_nvme_qpair_cq_head_due()).  Each valid one is copied to
 * its request, updates the SQ head, and either calls rq->cb (then releases
 * the request) or leaves the request DONE.  Completions with an unknown
 * command id, of a request not in flight, or naming another SQ are counted
 * in qp->rqs.stats, logged and dropped; those of abandoned requests release
 * them.  A completion that leaves every request free ends the reap: nothing
 * more is owed, and a stray CQE behind it is left to the next reap.  The
 * pair's hooks (injection, command log) are sampled once per reap.
 *
 * Missed shadow doorbells: with shadow doorbells the MMIO register gets
 * a new value only when EventIdx asks for it.  When reaps keep finding
 * nothing for VFN_QP_STALL_MS (the clock is read every 1024 empty reaps
 * when polled, at every one with interrupts) while the SQ tail (or CQ
 * head) published in the shadow doorbell is one the MMIO register never
 * got and the SQ has entries the controller has not reported fetching,
 * that value is written to the MMIO doorbell, once, counted in
 * qp->rerung and logged: a controller that missed the shadow update (QEMU
 * 7.2 can, docs/io.md) sees it.  A doorbell is never written with the
 * value its register already holds (an Invalid Doorbell Write Value).
 *
 * Returns the number of CQEs consumed.  No syscall.
 */
#define VFN_QP_STALL_MS 2
VFN_API int vfn_nvme_qpair_reap(struct vfn_nvme_qpair *qp, int max);

/*
 * Waits for @rq (posted and submitted, no callback) to complete, reaping
 * the queue meanwhile: spins in polling mode, sleeps on the eventfd in
 * interrupt mode.  @timeout_ms 0 uses qp->timeout_ms.  Returns 0 (the
 * completion is in rq->cqe, whatever its status), or -ETIMEDOUT, -ENODEV
 * (device gone), -EIO (controller fatal status), or -ECANCELED / -EIO
 * when the controller failed otherwise or a reset failed.  On any error @rq
 * is no longer the caller's (do not free it).  A timeout is handled as
 * vfn_nvme_qpair_check_timeouts() handles a callback's request: Abort,
 * then another @timeout_ms; a command that Abort ends returns 0 with
 * status Command Abort Requested in rq->cqe.  If Abort goes unanswered or
 * the command still does not complete, the controller is quiesced and
 * failed (every pair's posts then fail with -ECANCELED until
 * vfn_nvme_ctrl_reset()), @rq is released and -ETIMEDOUT returned: a
 * wedged queue cannot keep command ids for ever.  Only a pair without a
 * controller leaves @rq abandoned after -ETIMEDOUT, in flight, released
 * by its late completion.  The Abort is an admin command: an asynchronous
 * event callback due meanwhile runs from inside this wait, on this thread.
 * After the other errors the controller was quiesced first and @rq is
 * released.  With the command log on, a timeout
 * dumps it at debug log level.
 */
VFN_API int vfn_rq_wait(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, uint32_t timeout_ms);

/* ---- Queue pairs -------------------------------------------------------- */

struct vfn_nvme_qpair_opts {
	uint32_t entries;    /* SQ and CQ entries, 2..info->qpair_max_entries; 0: 256 (capped) */
	bool irq;	     /* one MSI-X vector (= qid) on an eventfd; false: polled */
	uint32_t timeout_ms; /* default for the synchronous helpers; 0: 30000 */
	/*
	 * Put the SQ ring in the Controller Memory Buffer (vfn/cmb.h), which
	 * vfn_nvme_cmb_enable() is called for here; -ENOTSUP if the
	 * controller has no CMB or CMBSZ.SQS is clear.
	 */
	bool sq_cmb;
	/*
	 * Put the requests' PRP lists and SGL segments in the CMB; -ENOTSUP
	 * if there is none or CMBSZ.LISTS is clear.
	 */
	bool lists_cmb;
	/* Appended: */
	bool vector_set; /* with irq: use @vector instead of vector qid */
	uint16_t vector; /* with irq and vector_set: MSI-X vector 0..count-1; pairs given the same
			    vector share it (one eventfd, one CQ interrupt vector, IV) */
	uint8_t qprio;	 /* SQ priority at Create I/O SQ (QPRIO): 0 urgent, 1 high, 2 medium,
			    3 low; used under weighted round robin (ctrl opts ams) */
	/*
	 * Appended: put the CQ ring in the CMB (vfn_nvme_cmb_enable() is
	 * called for it; Create I/O CQ gets its CMB address); -ENOTSUP if
	 * the controller has no CMB or CMBSZ.CQS is clear (QEMU 7.2).
	 */
	bool cq_cmb;
};

/*
 * Creates I/O CQ and SQ @qid (1..info->nr_sq/nr_cq) and their request
 * tracker; with opts->irq also an eventfd (EFD_NONBLOCK|EFD_CLOEXEC) bound
 * to MSI-X vector @qid (opts->vector with opts->vector_set).  Pairs on the
 * same vector share its eventfd: a wait on one pair may consume a signal
 * meant for another, whose own wait then finds its completion on its next
 * reap (vfn_rq_wait() reaps before it sleeps).  This allows more queue
 * pairs than vectors.  @opts may be NULL.  The pair is owned by the
 * caller: vfn_nvme_qpair_destroy() it before closing @ctrl.
 * Errors: -EINVAL (bad qid or entries), -EBUSY (a pair with @qid exists:
 * refused before anything, its vector and queues untouched), -ENOTSUP (irq
 * but no such vector), -EIO (the controller refused a Create command, see
 * the log, or it failed), -ENODEV, -ENOMEM, or as vfn_dma_alloc().
 * Nothing stays behind on failure.
 */
VFN_API int vfn_nvme_qpair_create(struct vfn_nvme_ctrl *ctrl, uint16_t qid, const struct vfn_nvme_qpair_opts *opts,
				  struct vfn_nvme_qpair **out);

/*
 * Deletes the SQ then the CQ on the controller, unroutes the vector, closes
 * the eventfd and frees everything (requests still in flight are forgotten,
 * their callbacks not called).  If a Delete fails the controller may still
 * use the rings: they stay mapped (retired, their IOVA not handed out
 * again) until the controller is disabled by a reset or close.  On a
 * failed controller (quiesced) nothing is sent.  Not from a callback.
 * NULL is ignored.
 */
VFN_API void vfn_nvme_qpair_destroy(struct vfn_nvme_qpair *qp);

/*
 * The eventfd the queue's vector signals (for the caller's own poll/epoll
 * loop; read it to reset the count), or -1 for a polled queue.  Owned by @qp.
 */
VFN_API int vfn_nvme_qpair_eventfd(const struct vfn_nvme_qpair *qp);

/*
 * After reading the pair's eventfd in the caller's own loop: re-arms the
 * interrupt when it is level-triggered (INTx, which VFIO masks each time it
 * fires: one syscall); nothing with MSI/MSI-X or a polled pair.  The
 * library's own waits do this themselves.
 */
VFN_API void vfn_nvme_qpair_irq_ack(struct vfn_nvme_qpair *qp);

/* ---- NVM command helpers ------------------------------------------------ */

struct vfn_nvme_io_opts {
	uint32_t timeout_ms; /* per command (synchronous helpers); 0: qp->timeout_ms */
	bool sgl;	     /* describe the data with SGLs instead of PRPs */
	/* Metadata and protection information (vfn/pi.h), for namespaces with ns->ms != 0: */
	void *meta;	   /* separate metadata (ns->mset false): nlb x ns->ms bytes, DMA-mapped (or CMB),
			     sent by MPTR (in one mapping, or as an SGL: @meta_sgl); NULL for none */
	size_t meta_len;   /* bytes at @meta; 0: not checked beyond its mapping */
	size_t buf_len;	   /* bytes at the data buffer; 0: not checked */
	uint8_t prinfo;	   /* PRINFO: VFN_PI_PRACT | VFN_PI_PRCHK_* (CDW12 bits 29:26) */
	uint64_t ref_tag;  /* initial reference tag (CDW14; bits 47:32 in CDW3 with the
			     64-bit guard); advanced per split piece for PI types 1/2,
			     wrapping; wider than 32 (48) bits on a PI namespace: -EINVAL */
	uint16_t app_tag;  /* CDW15 bits 15:0 */
	uint16_t app_mask; /* CDW15 bits 31:16 */
	bool fua;	   /* Force Unit Access (CDW12 bit 30) */
	/*
	 * How separate metadata goes when @sgl is set (appended):
	 * VFN_NVME_META_SGL_AUTO (0) as an SGL (PSDT 10b) when the controller
	 * reports SGLS bit 19 (qp->sgl_mptr), else as a contiguous buffer
	 * (PSDT 01b); _OFF always contiguous; _FORCE an SGL even when the
	 * controller does not report the bit (testing a controller that
	 * parses it anyway; -EINVAL without @sgl).  A contiguous metadata
	 * buffer must lie in one mapping; an SGL one may span mappings.
	 */
	uint8_t meta_sgl;
};

#define VFN_NVME_META_SGL_AUTO 0
#define VFN_NVME_META_SGL_OFF 1
#define VFN_NVME_META_SGL_FORCE 2

/* Dataset Management range (16 bytes, wire format). */
struct vfn_nvme_dsm_range {
	vfn_le32 cattr; /* context attributes */
	vfn_le32 nlb;	/* length in logical blocks (not 0's based) */
	vfn_le64 slba;
};

#if !defined(__cplusplus)
_Static_assert(sizeof(struct vfn_nvme_dsm_range) == 16, "DSM range is 16 bytes");
#else
static_assert(sizeof(struct vfn_nvme_dsm_range) == 16, "DSM range is 16 bytes");
#endif

/* DSM attribute: Deallocate (CDW11 bit 2). */
#define VFN_NVME_DSM_AD (1u << 2)

/*
 * Sends @sqe (command id and data pointer filled in by vfn) with @len bytes
 * of data at @buf (DMA-mapped, may be NULL/0) and waits for it.  The
 * completion is copied to @cqe (may be NULL).  @opts may be NULL.
 * Returns 0 on success status, -EIO on an error status (see @cqe),
 * -ETIMEDOUT/-ENODEV as vfn_rq_wait(), -EBUSY (no free request),
 * -ECANCELED/-ENODEV while the controller is failed, or as vfn_rq_map().
 */
VFN_API int vfn_nvme_io_sync(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
			     const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe);

/*
 * vfn_nvme_io_sync() with @meta_len bytes of separate metadata at @meta
 * (DMA-mapped; NULL/0: none): vfn fills MPTR too, as an SGL or a contiguous
 * buffer as opts->sgl and opts->meta_sgl choose (see vfn_nvme_io_opts and
 * vfn_rq_map_meta(); opts->meta and meta_len are not used here).  Returns
 * as vfn_nvme_io_sync(); before anything is sent also -EINVAL (@meta and
 * @meta_len not both set, _FORCE without opts->sgl, a contiguous metadata
 * buffer across mappings) or -ENOTSUP (opts->sgl, metadata across mappings
 * and a controller without metadata SGLs under _AUTO), or as
 * vfn_rq_map_meta().
 */
VFN_API int vfn_nvme_io_sync_meta(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
				  void *meta, size_t meta_len, const struct vfn_nvme_io_opts *opts,
				  struct vfn_nvme_cqe *cqe);

/*
 * Read / Write @nlb logical blocks from @slba of namespace @ns into / from
 * @buf (DMA-mapped).  @buf holds @nlb * ns->lba_size bytes, or, on an
 * extended-LBA namespace (ns->mset) whose metadata moves, @nlb *
 * ns->block_size (each block's data then its metadata).  A separate-metadata
 * namespace needs opts->meta (@nlb * ns->ms bytes).  With PI and
 * opts->prinfo PRACT where the metadata is only the PI tuple, no metadata
 * moves (the controller inserts / strips it).  Transfers larger than
 * qp->max_xfer are split into several commands (metadata pointer and, for
 * PI types 1/2, reference tag advanced per piece), posted together as far as
 * requests allow.  On an error status (e.g. VFN_PI_SC_GUARD) the first
 * failing completion is in @cqe.  The metadata buffer goes as one
 * contiguous buffer, or with opts->sgl as an SGL when the controller
 * supports metadata SGLs (opts->meta_sgl): then it may span mappings, each
 * piece of a split transfer getting its own descriptors.  Returns 0,
 * -EINVAL before anything is sent (@nlb 0, the range wraps, a metadata
 * buffer missing, not mapped (in one piece when contiguous) or shorter
 * than needed, opts->buf_len short, PRINFO on a namespace without PI,
 * metadata given without metadata, _FORCE without opts->sgl), -ENOTSUP
 * (opts->sgl, metadata across mappings, the controller without metadata
 * SGLs), or as vfn_nvme_io_sync().
 */
VFN_API int vfn_nvme_read(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb,
			  void *buf, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe);
VFN_API int vfn_nvme_write(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb,
			   const void *buf, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe);

/* Write Zeroes over @nlb blocks from @slba, split in 65536-block commands; as vfn_nvme_read(). */
VFN_API int vfn_nvme_write_zeroes(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba,
				  uint64_t nlb, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe);

/* Flush namespace @nsid's volatile write cache.  Returns as vfn_nvme_io_sync(). */
VFN_API int vfn_nvme_flush(struct vfn_nvme_qpair *qp, uint32_t nsid, const struct vfn_nvme_io_opts *opts,
			   struct vfn_nvme_cqe *cqe);

/*
 * Dataset Management with Deallocate for @nr (1..256) @ranges, which must
 * be DMA-mapped.  -EINVAL if @nr is out of range; else as vfn_nvme_io_sync().
 */
VFN_API int vfn_nvme_dsm_deallocate(struct vfn_nvme_qpair *qp, uint32_t nsid, const struct vfn_nvme_dsm_range *ranges,
				    unsigned int nr, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe);

/*
 * Asynchronous Read / Write, posted without ringing the doorbell
 * (vfn_nvme_qpair_submit() does); @cb (required) gets the completion from
 * vfn_nvme_qpair_reap(), with @opaque in rq->opaque.  A transfer larger
 * than qp->max_xfer (or 65536 blocks) is split: its pieces and one more
 * request that stands for them are taken at once or not at all, and @cb is
 * called once, when the last piece completes, with that extra request and
 * the first failing piece's completion (or the last piece's).
 * Returns 0, -EBUSY (not enough free requests or SQ slots now: nothing
 * posted, retry after reaping), -EINVAL (@nlb 0, no @cb, a namespace whose
 * metadata needs vfn_nvme_rw_async()'s buffer, or more pieces than the
 * queue has requests or SQ slots at all: it would never fit), or as
 * vfn_rq_map() (nothing posted).
 */
VFN_API int vfn_nvme_read_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba,
				uint32_t nlb, void *buf, bool sgl, vfn_rq_cb cb, void *opaque);
VFN_API int vfn_nvme_write_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba,
				 uint32_t nlb, const void *buf, bool sgl, vfn_rq_cb cb, void *opaque);

/* Asynchronous Flush of namespace @nsid; as vfn_nvme_read_async(). */
VFN_API int vfn_nvme_flush_async(struct vfn_nvme_qpair *qp, uint32_t nsid, vfn_rq_cb cb, void *opaque);

/* Asynchronous Write Zeroes, split in 65536-block commands; as vfn_nvme_read_async(). */
VFN_API int vfn_nvme_write_zeroes_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba,
					uint32_t nlb, vfn_rq_cb cb, void *opaque);

/*
 * Asynchronous Read, Write, Compare or Write Zeroes (@opcode) with the
 * metadata, PRINFO, tags, FUA and SGL choice of @opts (timeout_ms unused;
 * may be NULL), laid out and checked as vfn_nvme_read() (-EINVAL before
 * anything is posted); split as vfn_nvme_read_async(), the pieces advancing
 * MPTR and the reference tag.  @cb gets the completion (a PI failure: its
 * status, e.g. VFN_PI_SC_GUARD).
 */
VFN_API int vfn_nvme_rw_async(struct vfn_nvme_qpair *qp, uint8_t opcode, const struct vfn_nvme_ns_info *ns,
			      uint64_t slba, uint32_t nlb, void *buf, const struct vfn_nvme_io_opts *opts, vfn_rq_cb cb,
			      void *opaque);

/* Asynchronous Dataset Management Deallocate; as vfn_nvme_read_async(). */
VFN_API int vfn_nvme_dsm_deallocate_async(struct vfn_nvme_qpair *qp, uint32_t nsid,
					  const struct vfn_nvme_dsm_range *ranges, unsigned int nr, vfn_rq_cb cb,
					  void *opaque);

/*
 * The general form: posts @sqe (command id and data pointer filled in)
 * with @len bytes at @buf, without ringing the doorbell.  As
 * vfn_nvme_read_async().
 */
VFN_API int vfn_nvme_io_async(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len, bool sgl,
			      vfn_rq_cb cb, void *opaque);

/* ---- Robustness: timeouts, error injection, command log ----------------- */

/*
 * Times out the pair's requests that have a callback: a request in flight
 * is timed from the first check that sees it (so call this periodically,
 * e.g. every second; @now_ns 0 reads vfn_now_ns(); not from a callback).
 * When one is past its deadline, the CQ is reaped first (a completion
 * already posted is no timeout).  Once qp->timeout_ms has passed, Abort is
 * sent for it (waiting up to qp->timeout_ms for the answer) and it gets
 * another qp->timeout_ms: the request stays in flight — if the controller
 * aborts it, it completes from the controller with Command Abort
 * Requested (rq->err 0).  If that passes too, or Abort goes unanswered,
 * the controller is quiesced (see vfn_nvme_ctrl_reset()) and marked
 * failed (-ECANCELED), then every request of the pair fails: the expired
 * ones with -ETIMEDOUT, the others with -ECANCELED (status
 * VFN_NVME_SC_HOST_ABORTED); other pairs fail theirs at their next check.
 * A command held back by injection (never sent) times out at its first
 * deadline.  Also reads CSTS: on CSTS.CFS (-ECANCELED) or all-ones
 * (-ENODEV), or if another pair or a failed reset marked the controller
 * failed, the controller is quiesced (if not yet), every request in
 * flight fails with that error and posts are refused until a
 * vfn_nvme_ctrl_reset() succeeds.  With the command log on, a timeout
 * dumps it at debug log level.  No allocation; blocks only while an Abort
 * is waited for or the controller is quiesced.  Returns the number of
 * requests the driver completed with a made-up error completion (those the
 * controller ended itself meanwhile are not counted), or -EINVAL.
 */
VFN_API int vfn_nvme_qpair_check_timeouts(struct vfn_nvme_qpair *qp, uint64_t now_ns);

/*
 * Driver-side error injection (works on any controller): the next @count
 * commands with @opcode posted on @qp are not sent; each is completed at
 * the next vfn_nvme_qpair_reap() with @status (SCT << 8 | SC, plus
 * CRD/M/DNR bits; rq->err 0).  Up to 8 rules per pair, checked in the
 * order added.  Errors: -EINVAL (NULL @qp, @count 0), -ENOSPC, -ENOMEM.
 */
VFN_API int vfn_nvme_inject_status(struct vfn_nvme_qpair *qp, uint8_t opcode, uint32_t count, uint16_t status);

/*
 * Like vfn_nvme_inject_status(), but the commands are held back: they are
 * never sent nor completed, until vfn_nvme_qpair_check_timeouts() times
 * them out (-ETIMEDOUT; their command ids are free again at once).
 */
VFN_API int vfn_nvme_inject_timeout(struct vfn_nvme_qpair *qp, uint8_t opcode, uint32_t count);

/* Removes every injection rule of @qp (held-back commands stay held).  NULL is ignored. */
VFN_API void vfn_nvme_inject_clear(struct vfn_nvme_qpair *qp);

/*
 * Turns the command log of @qp on with a ring of the last @entries
 * submitted commands and their completions (replacing an earlier log), or
 * off with @entries 0.  Costs one SQE and CQE copy per command while on.
 * Errors: -EINVAL (NULL @qp, @entries > 65536), -ENOMEM.
 */
VFN_API int vfn_nvme_qpair_log_enable(struct vfn_nvme_qpair *qp, uint32_t entries);

/*
 * Prints the command log of @qp to @f, oldest first, one line per command,
 * in spec terms: sequence number, queue, command id, opcode name, NSID and
 * CDW10..15, then the completion's status name and value, DW0 and SQ head,
 * or "pending", "timed out" and the like.  Returns the number of lines, 0
 * when the log is off or empty, -EINVAL (NULL argument) or -EIO (write
 * error).
 */
VFN_API int vfn_nvme_qpair_log_dump(const struct vfn_nvme_qpair *qp, FILE *f);

/*
 * As vfn_nvme_qpair_log_dump(), into @buf (@len bytes, always
 * NUL-terminated when @len > 0).  Returns the length of the whole text
 * (snprintf style: larger than @len - 1 if it was cut), or -EINVAL.
 */
VFN_API int vfn_nvme_qpair_log_snprint(const struct vfn_nvme_qpair *qp, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFN_RQ_H */
