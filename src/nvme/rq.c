/* SPDX-License-Identifier: MIT */
/* The request tracker, data pointers of requests, and the completion side. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfn/cmb.h>

#include "nvme/ctrl-priv.h"
#include "nvme/prp.h"
#include "nvme/rq-priv.h"
#include "support/log.h"

#define RQ_LIST_MIN 256u	     /* room for 16 SGL descriptors */
#define RQ_CSTS_CHECK_NS 10000000ull /* CSTS read interval while waiting */

int vfn_rq_tracker_init(struct vfn_rq_tracker *t, uint32_t nr, void *list_mem, uint64_t list_iova, uint32_t list_len)
{
	if (nr == 0 || nr > UINT16_MAX) {
		log_debug("rq: %u requests outside 1..65535", nr);
		return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	t->rqs = calloc(nr, sizeof(*t->rqs));
	if (!t->rqs)
		return -ENOMEM;
	t->nr = (uint16_t)nr;
	/* Push in reverse so that cid 0 is on top of the free stack. */
	for (uint32_t i = nr; i-- > 0;) {
		struct vfn_rq *rq = &t->rqs[i];

		rq->cid = (uint16_t)i;
		if (list_mem) {
			rq->list = (uint8_t *)list_mem + (size_t)i * list_len;
			rq->list_iova = list_iova + (uint64_t)i * list_len;
			rq->list_len = list_len;
		}
		rq->next = t->free;
		t->free = rq;
	}
	t->nr_free = t->nr;
	return 0;
}

void vfn_rq_tracker_fini(struct vfn_rq_tracker *t)
{
	free(t->rqs);
	memset(t, 0, sizeof(*t));
}

uint32_t vfn_rq_list_len(size_t page_size, size_t *max_xfer)
{
	/* One page of PRP entries covers this many bytes, even from an offset. */
	size_t page_covers = page_size / sizeof(vfn_le64) * page_size;
	size_t want = *max_xfer && *max_xfer < page_covers ? *max_xfer : page_covers;
	size_t need = (want / page_size + 1) * sizeof(vfn_le64);
	uint32_t len = RQ_LIST_MIN;

	while (len < need && len < page_size)
		len <<= 1;
	*max_xfer = want;
	return len;
}

static void rq_dptr_clear(struct vfn_nvme_sqe *sqe)
{
	sqe->flags = (uint8_t)(sqe->flags & ~0xc0u);
	sqe->dptr.prp1 = 0;
	sqe->dptr.prp2 = 0;
}

/* PRPs for @len (1..max_xfer) bytes at device address @iova. */
static int rq_prp_iova(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, uint64_t iova,
		       size_t len)
{
	struct vfn_prp_list list = { rq->list, rq->list_iova, rq->list_len / sizeof(vfn_le64) };
	uint64_t prp1, prp2 = 0;
	int ret;

	if (vfn_likely((iova & (qp->page_size - 1)) + len <= qp->page_size && !(iova & 3))) {
		/* The common case: one memory page, PRP1 only. */
		prp1 = iova;
	} else {
		ret = vfn_prp_build(iova, len, qp->page_size, list.vaddr ? &list : NULL, &prp1, &prp2);
		if (ret)
			return ret;
	}
	sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_PRP);
	sqe->dptr.prp1 = vfn_cpu_to_le64(prp1);
	sqe->dptr.prp2 = vfn_cpu_to_le64(prp2);
	return 0;
}

/* The device address of @buf: DMA-mapped host memory, or else the controller's CMB. */
static int rq_translate(struct vfn_nvme_qpair *qp, const void *buf, uint64_t *iova, size_t *mapped)
{
	if (vfn_likely(!vfn_iommu_translate(qp->iommu, buf, iova, mapped)))
		return 0;
	return qp->ctrl ? vfn_nvme_cmb_translate(qp->ctrl, buf, iova, mapped) : -EFAULT;
}

static int rq_map_prp(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *buf, size_t len)
{
	uint64_t iova;
	size_t mapped;

	if (rq_translate(qp, buf, &iova, &mapped)) {
		log_debug("rq: buffer %p is not DMA-mapped", buf);
		return -EFAULT;
	}
	if (mapped < len) {
		log_debug("rq: %zu bytes at %p span mappings (%zu in the first): use an SGL", len, buf, mapped);
		return -EINVAL;
	}
	return rq_prp_iova(qp, rq, sqe, iova, len);
}

int vfn_rq_map_iova_list(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, uint64_t iova,
			 size_t len)
{
	if (!len) {
		rq_dptr_clear(sqe);
		return 0;
	}
	if (len > qp->max_xfer) {
		log_debug("rq_map_iova: %zu bytes beyond the queue's transfer limit %zu", len, qp->max_xfer);
		return -EINVAL;
	}
	return rq_prp_iova(qp, rq, sqe, iova, len);
}

/* Data Block descriptors for @len bytes at @buf, one per mapping crossed, in @descs (room for @max). */
static int rq_sgl_blocks(struct vfn_nvme_qpair *qp, struct vfn_nvme_sgl_desc *descs, size_t max, const uint8_t *buf,
			 size_t len, size_t *nr)
{
	size_t n = 0;

	while (len) {
		uint64_t iova;
		size_t mapped, chunk;

		if (rq_translate(qp, buf, &iova, &mapped)) {
			log_debug("rq: buffer %p is not DMA-mapped", (const void *)buf);
			return -EFAULT;
		}
		if (n == max) {
			log_debug("rq: buffer spans more than %zu mappings", max);
			return -E2BIG;
		}
		chunk = mapped < len ? mapped : len;
		if (qp->sgl_dword && ((iova | chunk) & 3)) {
			log_debug(
				"rq: SGL piece of %zu bytes at %#llx: the controller wants dword alignment and granularity",
				chunk, (unsigned long long)iova);
			return -EINVAL;
		}
		vfn_sgl_data_block(&descs[n++], iova, (uint32_t)chunk);
		buf += chunk;
		len -= chunk;
	}
	*nr = n;
	return 0;
}

static int rq_map_sgl(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *buf, size_t len)
{
	struct vfn_nvme_sgl_desc *dptr = &sqe->dptr.sgl;
	size_t nr;
	int ret;

	if (!qp->sgl) {
		log_debug("rq: SGL asked for but the controller has no SGL support");
		return -ENOTSUP;
	}
	if (!rq->list) {
		log_debug("rq: request %u has no segment memory", rq->cid);
		return -EINVAL;
	}
	ret = rq_sgl_blocks(qp, rq->list, rq->list_len / sizeof(*dptr), buf, len, &nr);
	if (ret)
		return ret;
	if (nr == 1) {
		*dptr = *(struct vfn_nvme_sgl_desc *)rq->list;
	} else {
		memset(dptr, 0, sizeof(*dptr));
		dptr->addr = vfn_cpu_to_le64(rq->list_iova);
		dptr->length = vfn_cpu_to_le32((uint32_t)(nr * sizeof(*dptr)));
		dptr->type = VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4;
	}
	sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
	return 0;
}

int vfn_rq_map(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *buf, size_t len, bool sgl)
{
	if (!qp || !rq || !sqe || (len && !buf)) {
		log_debug("rq_map: NULL argument");
		return -EINVAL;
	}
	if (!len) {
		rq_dptr_clear(sqe);
		return 0;
	}
	if (len > qp->max_xfer) {
		log_debug("rq_map: %zu bytes beyond the queue's transfer limit %zu", len, qp->max_xfer);
		return -EINVAL;
	}
	return sgl ? rq_map_sgl(qp, rq, sqe, buf, len) : rq_map_prp(qp, rq, sqe, buf, len);
}

/* Descriptors of @rq's segment memory that @sqe's data SGL uses (built by rq_map_sgl()). */
static size_t rq_sgl_used(const struct vfn_rq *rq, const struct vfn_nvme_sqe *sqe)
{
	const struct vfn_nvme_sgl_desc *d = &sqe->dptr.sgl;

	if ((d->type >> 4) == VFN_NVME_SGL_TYPE_LAST_SEGMENT && vfn_le64_to_cpu(d->addr) == rq->list_iova)
		return vfn_le32_to_cpu(d->length) / sizeof(*d);
	return 0;
}

static bool rq_psdt_sgl(const struct vfn_nvme_sqe *sqe)
{
	unsigned int psdt = sqe->flags & 0xc0u;

	return psdt == VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG || psdt == VFN_NVME_SQE_PSDT_SGL_MPTR_SGL;
}

/*
 * MPTR as an SGL (PSDT 10b): the one descriptor MPTR addresses sits in
 * @rq's segment right after the data's descriptors (16-byte aligned, as
 * the list memory is); when @meta crosses mappings it is a Last Segment
 * descriptor for the Data Blocks that follow it.
 */
int vfn_rq_map_meta_sgl(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, const void *meta,
			size_t len)
{
	struct vfn_nvme_sgl_desc *descs = rq->list;
	size_t max = rq->list_len / sizeof(*descs), first, nr;
	int ret;

	if (!rq_psdt_sgl(sqe) || !descs) {
		log_debug("rq: a metadata SGL needs an SGL data pointer and segment memory (cid %u)", rq->cid);
		return -EINVAL;
	}
	first = rq_sgl_used(rq, sqe);
	if (first + 1 >= max) {
		log_debug("rq: no room for metadata descriptors after %zu data descriptors", first);
		return -E2BIG;
	}
	ret = rq_sgl_blocks(qp, descs + first + 1, max - first - 1, meta, len, &nr);
	if (ret)
		return ret;
	if (nr == 1) {
		descs[first] = descs[first + 1];
	} else {
		memset(&descs[first], 0, sizeof(descs[first]));
		descs[first].addr = vfn_cpu_to_le64(rq->list_iova + (first + 1) * sizeof(*descs));
		descs[first].length = vfn_cpu_to_le32((uint32_t)(nr * sizeof(*descs)));
		descs[first].type = VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4;
	}
	sqe->mptr = vfn_cpu_to_le64(rq->list_iova + first * sizeof(*descs));
	sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
	return 0;
}

/* MPTR as the IOVA of a contiguous buffer (one mapping); PSDT 10b becomes 01b. */
int vfn_rq_map_meta_contig(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, const void *meta, size_t len)
{
	uint64_t iova;
	size_t mapped;

	if (rq_translate(qp, meta, &iova, &mapped)) {
		log_debug("rq: metadata buffer %p is not DMA-mapped", meta);
		return -EFAULT;
	}
	if (mapped < len) {
		log_debug("rq: %zu bytes of metadata at %p span mappings (%zu in the first): use an SGL", len, meta,
			  mapped);
		return -EINVAL;
	}
	sqe->mptr = vfn_cpu_to_le64(iova);
	if ((sqe->flags & 0xc0u) == VFN_NVME_SQE_PSDT_SGL_MPTR_SGL)
		sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
	return 0;
}

int vfn_rq_map_meta(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe, void *meta, size_t len,
		    bool sgl)
{
	if (!qp || !rq || !sqe || (len && !meta)) {
		log_debug("rq_map_meta: NULL argument");
		return -EINVAL;
	}
	if (!len) {
		sqe->mptr = 0;
		if ((sqe->flags & 0xc0u) == VFN_NVME_SQE_PSDT_SGL_MPTR_SGL)
			sqe->flags = (uint8_t)((sqe->flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
		return 0;
	}
	if (len > qp->max_xfer) {
		log_debug("rq_map_meta: %zu bytes beyond the queue's transfer limit %zu", len, qp->max_xfer);
		return -EINVAL;
	}
	if (!sgl)
		return vfn_rq_map_meta_contig(qp, sqe, meta, len);
	if (!qp->sgl_mptr) {
		log_debug("rq_map_meta: the controller reports no metadata SGLs (SGLS bit 19)");
		return -ENOTSUP;
	}
	return vfn_rq_map_meta_sgl(qp, rq, sqe, meta, len);
}

__attribute__((noinline, cold)) void vfn_nvme_qpair_cq_ring(struct vfn_nvme_qpair *qp)
{
	vfn_cq_ring(&qp->cq);
}

/*
 * A completion the hot path does not deliver: for another SQ, with an
 * unknown command id, or for a request not in flight.  Counts and drops it
 * (an abandoned request's id is released).
 */
static __attribute__((noinline, cold)) void rq_complete_odd(struct vfn_nvme_qpair *qp, const struct vfn_nvme_cqe *cqe)
{
	uint16_t cid = vfn_le16_to_cpu(cqe->cid), sqid = vfn_le16_to_cpu(cqe->sqid);
	struct vfn_rq_stats *st = &qp->rqs.stats;
	struct vfn_rq *rq = vfn_rq_lookup(qp, cid);

	if (sqid != qp->sq.qid) {
		st->wrong_sqid++;
		log_err("CQ %u: completion for SQ %u (cid %u) dropped", qp->cq.qid, sqid, cid);
	} else if (!rq) {
		st->bad_cid++;
		log_err("SQ %u: completion with unknown cid %u dropped", sqid, cid);
	} else if (rq->state == VFN_RQ_ABANDONED) {
		st->late++;
		log_info("SQ %u: late completion of abandoned cid %u dropped", sqid, cid);
		vfn_rq_release(qp, rq);
	} else {
		st->not_inflight++;
		log_err("SQ %u: completion of cid %u, not in flight (state %u), dropped", sqid, cid, rq->state);
	}
	/* A stray CQE took a slot no request accounted for. */
	if (vfn_nvme_qpair_cq_head_due(qp))
		vfn_nvme_qpair_cq_ring(qp);
}

/*
 * Consumes the CQE at the head (@cqe) and delivers it to its request, or
 * counts and drops it.  @hooked: the reap of a pair with slow-path hooks
 * (the command log may be on).  Returns true if it delivered it and every
 * request is free now: the controller owes no completion.
 */
static inline __attribute__((always_inline)) bool rq_complete(struct vfn_nvme_qpair *qp, const struct vfn_nvme_cqe *cqe,
							      bool hooked)
{
	struct vfn_rq *rq = vfn_rq__cqe_rq(qp, cqe);

	if (vfn_unlikely(!rq)) {
		/*
		 * The slot stays ours after the pop until the head doorbell is
		 * written, which rq_complete_odd() does only after reading it.
		 */
		vfn_cq_pop(&qp->cq);
		rq_complete_odd(qp, cqe);
		return false;
	}
	vfn_rq__consume(qp, rq, cqe);
	if (hooked && (qp->hooks & VFN_QP_HOOK_LOG))
		vfn_nvme_cmdlog_complete(qp, rq, &rq->cqe);
	vfn_rq_call(qp, rq, &rq->cqe);
	return qp->rqs.nr_free == qp->rqs.nr;
}

/* vfn_nvme_qpair_reap() with @last = max - 1; @hooked as rq_complete(). */
#define QP_STALL_POLLS 1024u /* empty polled reaps between clock reads */

/*
 * A reap found nothing while a doorbell value sits only in the shadow
 * doorbell.  Past VFN_QP_STALL_MS of that, the MMIO doorbell gets it: a
 * controller that missed the shadow update would otherwise never look at
 * the queue again.  Only values the register never held are written.
 */
static __attribute__((noinline, cold)) void qpair_idle(struct vfn_nvme_qpair *qp)
{
	struct vfn_sq *sq = &qp->sq;
	struct vfn_cq *cq = &qp->cq;
	bool sq_due, cq_due;
	uint64_t now;

	if (qp->err || (qp->efd < 0 && ++qp->idle_reaps % QP_STALL_POLLS))
		return;
	now = vfn_now_ns();
	if (!qp->stall_ns) {
		qp->stall_ns = now;
		return;
	}
	if (now - qp->stall_ns < VFN_QP_STALL_MS * 1000000ull)
		return;
	qp->stall_ns = 0;
	qp->idle_reaps = 0;
	sq_due = sq->db_tail != sq->mmio_tail && sq->head != sq->db_tail; /* entries not reported fetched */
	cq_due = cq->db_head != cq->mmio_head;
	if (!sq_due && !cq_due)
		return;
	qp->rerung++;
	log_info(
		"SQ %u: no completion for %u ms: MMIO doorbells get the shadow's SQ tail %u (was %u), CQ head %u (was %u)",
		sq->qid, VFN_QP_STALL_MS, sq->db_tail, sq->mmio_tail, cq->db_head, cq->mmio_head);
	/* The SQEs and the shadow values were ordered before the shadow writes; this only repeats them over MMIO. */
	if (sq_due) {
		sq->mmio_tail = sq->db_tail;
		sq->mmio_db_writes++;
		vfn_mmio_write32(sq->db, sq->db_tail);
	}
	if (cq_due) {
		cq->mmio_head = cq->db_head;
		cq->mmio_db_writes++;
		vfn_mmio_write32(cq->db, cq->db_head);
	}
}

static inline __attribute__((always_inline)) int qpair_reap(struct vfn_nvme_qpair *qp, unsigned int last, bool hooked)
{
	unsigned int n = 0;
	struct vfn_nvme_cqe *cqe;

	if (hooked && (qp->hooks & VFN_QP_HOOK_INJECT))
		n = (unsigned int)vfn_nvme_inject_deliver(qp);
	while (n <= last && (cqe = vfn_cq_peek(&qp->cq))) {
		n++;
		/*
		 * The last completion owed: stop without looking at the next
		 * slot (a stray CQE there waits for the next reap).  Nor can
		 * the head be due: no request is out to add to the unreported
		 * CQEs.
		 */
		if (rq_complete(qp, cqe, hooked))
			goto out;
	}
	/*
	 * A polled pair reports the head when the bound of
	 * vfn_nvme_qpair_cq_head_due() says so: a completion whose request
	 * the caller keeps (not freed yet), or that a callback re-posts,
	 * leaves the sum as high as before, so the head must not wait for
	 * the next submit to be reported.
	 */
	if (qp->efd < 0 && vfn_nvme_qpair_cq_head_due(qp))
		vfn_nvme_qpair_cq_ring(qp);
out:
	/* A pair with interrupts reports the head after every reap. */
	if (qp->efd >= 0 && qp->cq.unreported)
		vfn_nvme_qpair_cq_ring(qp);
	if (vfn_unlikely(!n) && vfn_nvme_qpair_shadow_pending(qp)) {
		qpair_idle(qp);
	} else {
		qp->idle_reaps = 0;
		qp->stall_ns = 0;
	}
	return (int)n;
}

/* The reap of a pair with injection, the command log or a failure on. */
static __attribute__((noinline, cold)) int qpair_reap_hooked(struct vfn_nvme_qpair *qp, unsigned int last)
{
	return qpair_reap(qp, last, true);
}

int vfn_nvme_qpair_reap(struct vfn_nvme_qpair *qp, int max)
{
	/* max <= 0 wraps to a limit no reap reaches (0: UINT_MAX). */
	unsigned int last = (unsigned int)max - 1u;

	/* Hooks are sampled once: a callback that turns one on affects the next reap. */
	if (vfn_unlikely(qp->hooks))
		return qpair_reap_hooked(qp, last);
	return qpair_reap(qp, last, false);
}

/* Sleeps on the eventfd until it fires or @deadline passes, and resets it. */
static void rq_sleep_irq(struct vfn_nvme_qpair *qp, uint64_t deadline)
{
	uint64_t now = vfn_now_ns(), count;
	struct pollfd pfd = { .fd = qp->efd, .events = POLLIN };
	int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);

	if (poll(&pfd, 1, ms) > 0) {
		if (read(qp->efd, &count, sizeof(count)) < 0)
			log_debug("CQ %u: eventfd read failed", qp->cq.qid);
		vfn_nvme_ctrl_irq_ack(qp->ctrl);
	}
}

/*
 * 0 while the controller works; once it failed (CSTS now: then it is
 * quiesced and marked; or another pair or thread saw it) the pair's
 * requests are failed and -EIO (CSTS.CFS), -ENODEV or the failure state
 * comes back.
 */
static int rq_ctrl_check(struct vfn_nvme_qpair *qp)
{
	int failed = vfn_nvme_ctrl_failed(qp->ctrl), ret = 0;

	if (!failed) {
		ret = vfn_nvme_ctrl_check_csts(qp->ctrl);
		if (!ret)
			return 0;
		failed = vfn_nvme_ctrl_fail(qp->ctrl, ret == -ENODEV ? -ENODEV : -ECANCELED);
	}
	if (qp->err != failed)
		vfn_nvme_qpair_fail(qp, failed);
	return ret ? ret : failed;
}

int vfn_rq_wait_cond(struct vfn_nvme_qpair *qp, bool (*cond)(const void *arg), const void *arg, uint32_t timeout_ms)
{
	uint64_t now = vfn_now_ns(), next_check = now + RQ_CSTS_CHECK_NS;
	uint64_t deadline = now + (uint64_t)(timeout_ms ? timeout_ms : qp->timeout_ms) * 1000000;
	int ret;

	for (;;) {
		vfn_nvme_qpair_reap(qp, 0);
		if (cond(arg))
			return 0;
		now = vfn_now_ns();
		if (now > deadline)
			return -ETIMEDOUT;
		if (now > next_check && qp->ctrl) {
			ret = rq_ctrl_check(qp);
			if (ret)
				return ret;
			next_check = now + RQ_CSTS_CHECK_NS;
		}
		if (qp->efd >= 0)
			rq_sleep_irq(qp, deadline < next_check ? deadline : next_check);
	}
}

static bool rq_not_inflight(const void *arg)
{
	return ((const struct vfn_rq *)arg)->state != VFN_RQ_INFLIGHT;
}

static bool rq_is(const struct vfn_rq *rq, const void *arg)
{
	return rq == arg;
}

int vfn_rq_wait(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, uint32_t timeout_ms)
{
	int ret;

	if (!qp || !rq || rq->state != VFN_RQ_INFLIGHT) {
		log_debug("rq_wait: NULL argument or request not in flight");
		return -EINVAL;
	}
	ret = vfn_rq_wait_cond(qp, rq_not_inflight, rq, timeout_ms);
	if (ret == -ETIMEDOUT && !(rq->flags & VFN_RQ_F_HELD))
		ret = vfn_nvme_qpair_sync_timeout(qp, timeout_ms, rq_not_inflight, rq_is, rq);
	if (rq->state == VFN_RQ_DONE && !rq->err)
		return 0; /* completed by the controller (also when it failed right after) */
	if (rq->state == VFN_RQ_DONE) {
		/* Failed by the driver once the controller was stopped: nothing uses it any more. */
		int err = rq->err;

		vfn_rq_release(qp, rq);
		return ret ? ret : err;
	}
	if (!ret) {
		log_debug("rq_wait: cid %u was completed through its callback", rq->cid);
		return -EINVAL;
	}
	log_err("SQ %u: command %u abandoned: %d", qp->sq.qid, rq->cid, ret);
	if (qp->hooks & VFN_QP_HOOK_LOG)
		vfn_nvme_cmdlog_debug_dump(qp);
	if (rq->flags & VFN_RQ_F_HELD) {
		/* Held back by injection, never sent: no completion will come. */
		vfn_rq_release(qp, rq);
		return ret;
	}
	rq->state = VFN_RQ_ABANDONED;
	return ret;
}

int vfn_rq_post_hooked(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe)
{
	if (vfn_unlikely(rq->state != VFN_RQ_ALLOCATED))
		return -EINVAL;
	if (qp->hooks & VFN_QP_HOOK_FAILED)
		return qp->err;
	sqe->cid = vfn_cpu_to_le16(rq->cid);
	if ((qp->hooks & VFN_QP_HOOK_INJECT) && vfn_nvme_inject_post(qp, rq, sqe)) {
		if (qp->hooks & VFN_QP_HOOK_LOG)
			vfn_nvme_cmdlog_post(qp, rq, sqe);
		return 0;
	}
	if (!vfn_sq_space(&qp->sq))
		return -EBUSY;
	rq->state = VFN_RQ_INFLIGHT;
	vfn_sq_post(&qp->sq, sqe);
	if (qp->hooks & VFN_QP_HOOK_LOG)
		vfn_nvme_cmdlog_post(qp, rq, sqe);
	return 0;
}
