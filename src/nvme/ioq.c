/* SPDX-License-Identifier: MIT */
/* I/O queues: ring memory, Create/Delete I/O SQ and CQ, interrupt coalescing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vfn/cmb.h>
#include <vfn/queue.h>
#include <vfn/rq.h>

#include "nvme/ctrl-priv.h"
#include "nvme/rq-priv.h"
#include "support/log.h"

/* QSIZE allows 65536, but struct vfn_sq/vfn_cq count entries in 16 bits. */
#define IOQ_MAX_ENTRIES 65535u

static size_t ioq_ring_len(struct vfn_nvme_ctrl *ctrl, uint32_t entries, size_t entry_size)
{
	size_t len = (size_t)entries * entry_size;

	return (len + ctrl->page_size - 1) & ~(ctrl->page_size - 1);
}

/* Checks what every queue needs: a controller, 2..65536 entries, an I/O qid with a doorbell. */
static int ioq_check(struct vfn_nvme_ctrl *ctrl, const void *q, uint16_t qid, uint32_t entries, bool cq)
{
	if (!ctrl || !q) {
		log_debug("ioq: NULL %s", ctrl ? "queue" : "controller");
		return -EINVAL;
	}
	if (entries < 2 || entries > IOQ_MAX_ENTRIES) {
		log_debug("%s: %s %u: %u entries outside 2..%u", ctrl->hw.name, cq ? "CQ" : "SQ", qid, entries,
			  IOQ_MAX_ENTRIES);
		return -EINVAL;
	}
	if (qid == 0) {
		log_debug("%s: qid 0 is the admin queue", ctrl->hw.name);
		return -EINVAL;
	}
	if (!vfn_nvme_ctrl_doorbell(ctrl, qid, cq)) {
		log_debug("%s: doorbell of %s %u beyond the register window", ctrl->hw.name, cq ? "CQ" : "SQ", qid);
		return -EINVAL;
	}
	return 0;
}

/*
 * A ring of @entries CQEs (@cq) or SQEs in the CMB (vfn_nvme_qpair_opts.cq_cmb
 * / sq_cmb), zeroed: no IOMMU mapping, the controller gets the CMB address
 * *@addr. Where CMBSZ.CQS / CMBSZ.SQS is clear it is refused with -ENOTSUP
 * before the CMB is enabled.
 */
static int ioq_ring_alloc_cmb(struct vfn_nvme_ctrl *ctrl, uint16_t qid, uint32_t entries, bool cq, void **mem,
			      uint64_t *addr)
{
	size_t entry_size = cq ? sizeof(struct vfn_nvme_cqe) : sizeof(struct vfn_nvme_sqe);
	const char *q = cq ? "CQ" : "SQ";
	struct vfn_nvme_cmb_info info;
	int ret;

	ret = vfn_nvme_cmb_get_info(ctrl, &info);
	if (ret) {
		log_err("%s: %s %u in the CMB: the controller has no usable CMB (%d)", ctrl->hw.name, q, qid, ret);
		return ret;
	}
	if (!(cq ? info.cqs : info.sqs)) {
		log_err("%s: %s %u in the CMB: refused, CMBSZ.%s=0 (%s queues not supported in the CMB)", ctrl->hw.name,
			q, qid, cq ? "CQS" : "SQS", cq ? "completion" : "submission");
		return -ENOTSUP;
	}
	ret = vfn_nvme_cmb_enable(ctrl);
	if (ret) {
		log_err("%s: %s %u in the CMB: enabling the CMB failed (%d)", ctrl->hw.name, q, qid, ret);
		return ret;
	}
	ret = vfn_nvme_cmb_alloc(ctrl, ioq_ring_len(ctrl, entries, entry_size), mem, addr);
	if (ret) {
		log_err("%s: no room for %s %u in the CMB: %d", ctrl->hw.name, q, qid, ret);
		return ret;
	}
	memset(*mem, 0, (size_t)entries * entry_size);
	return 0;
}

/* Fills *@cq for a ring at @mem / @iova (host memory or CMB). */
static void ioq_cq_init(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, uint16_t qid, uint32_t entries, void *mem,
			uint64_t iova)
{
	*cq = (struct vfn_cq){
		.cqes = mem,
		.iova = iova,
		.db = vfn_nvme_ctrl_doorbell(ctrl, qid, true),
		.qid = qid,
		.entries = (uint16_t)entries,
		.phase = 1,
		.vector = -1,
		.efd = -1,
	};
	vfn_nvme_dbbuf_slots(ctrl, qid, true, &cq->shadow_db, &cq->eventidx);
}

/* Fills *@sq for a ring at @mem / @iova (host memory or CMB) completing on @cq. */
static void ioq_sq_init(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint16_t qid, uint32_t entries, void *mem,
			uint64_t iova, struct vfn_cq *cq)
{
	*sq = (struct vfn_sq){
		.sqes = mem,
		.iova = iova,
		.db = vfn_nvme_ctrl_doorbell(ctrl, qid, false),
		.cq = cq,
		.qid = qid,
		.entries = (uint16_t)entries,
	};
	vfn_nvme_dbbuf_slots(ctrl, qid, false, &sq->shadow_db, &sq->eventidx);
}

int vfn_nvme_cq_alloc(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, uint16_t qid, uint32_t entries)
{
	uint64_t iova;
	void *mem;
	ssize_t len;
	int ret;

	ret = ioq_check(ctrl, cq, qid, entries, true);
	if (ret)
		return ret;
	len = vfn_dma_alloc(ctrl->hw.iommu, ioq_ring_len(ctrl, entries, sizeof(struct vfn_nvme_cqe)), &mem, &iova);
	if (len < 0) {
		log_debug("%s: cannot allocate CQ %u: %zd", ctrl->hw.name, qid, len);
		return (int)len;
	}
	ioq_cq_init(ctrl, cq, qid, entries, mem, iova);
	return 0;
}

/* The CQ ring in the CMB (vfn_nvme_qpair_opts.cq_cmb): no IOMMU mapping, the CMB address. */
static int ioq_cq_alloc_cmb(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, uint16_t qid, uint32_t entries)
{
	uint64_t addr;
	void *mem;
	int ret;

	ret = ioq_check(ctrl, cq, qid, entries, true);
	if (!ret)
		ret = ioq_ring_alloc_cmb(ctrl, qid, entries, true, &mem, &addr);
	if (ret)
		return ret;
	ioq_cq_init(ctrl, cq, qid, entries, mem, addr);
	return 0;
}

void vfn_nvme_cq_free(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq)
{
	if (!ctrl || !cq || !cq->cqes)
		return;
	vfn_dma_free(ctrl->hw.iommu, cq->cqes, ioq_ring_len(ctrl, cq->entries, sizeof(struct vfn_nvme_cqe)));
	cq->cqes = NULL;
}

int vfn_nvme_sq_alloc(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint16_t qid, uint32_t entries, struct vfn_cq *cq)
{
	uint64_t iova;
	void *mem;
	ssize_t len;
	int ret;

	ret = ioq_check(ctrl, sq, qid, entries, false);
	if (ret)
		return ret;
	if (!cq) {
		log_debug("%s: SQ %u without a CQ", ctrl->hw.name, qid);
		return -EINVAL;
	}
	len = vfn_dma_alloc(ctrl->hw.iommu, ioq_ring_len(ctrl, entries, sizeof(struct vfn_nvme_sqe)), &mem, &iova);
	if (len < 0) {
		log_debug("%s: cannot allocate SQ %u: %zd", ctrl->hw.name, qid, len);
		return (int)len;
	}
	ioq_sq_init(ctrl, sq, qid, entries, mem, iova, cq);
	return 0;
}

/* The SQ ring in the CMB (vfn_nvme_qpair_opts.sq_cmb): no IOMMU mapping, the CMB address. */
static int ioq_sq_alloc_cmb(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint16_t qid, uint32_t entries,
			    struct vfn_cq *cq)
{
	uint64_t addr;
	void *mem;
	int ret;

	ret = ioq_check(ctrl, sq, qid, entries, false);
	if (!ret)
		ret = ioq_ring_alloc_cmb(ctrl, qid, entries, false, &mem, &addr);
	if (ret)
		return ret;
	ioq_sq_init(ctrl, sq, qid, entries, mem, addr, cq);
	return 0;
}

void vfn_nvme_sq_free(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq)
{
	if (!ctrl || !sq || !sq->sqes)
		return;
	vfn_dma_free(ctrl->hw.iommu, sq->sqes, ioq_ring_len(ctrl, sq->entries, sizeof(struct vfn_nvme_sqe)));
	sq->sqes = NULL;
}

/* QSIZE (0's based) << 16 | QID, as Create I/O SQ/CQ's CDW10 wants it. */
static uint32_t ioq_cdw10(uint16_t qid, uint16_t entries)
{
	return (uint32_t)(uint16_t)(entries - 1) << 16 | qid;
}

static int ioq_admin(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_sqe *sqe, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_cqe c = { 0 };
	int ret;

	ret = vfn_nvme_admin_sync(ctrl, sqe, NULL, 0, &c, 0);
	if (ret)
		log_debug("%s: %s for queue %u failed: %d, status 0x%x", ctrl->hw.name,
			  vfn_nvme_opcode_str(true, sqe->opcode), vfn_le32_to_cpu(sqe->cdw10) & 0xffff, ret,
			  vfn_nvme_cqe_status(&c));
	if (cqe)
		*cqe = c;
	return ret;
}

int vfn_nvme_cq_create(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, int vector, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_CREATE_CQ };
	uint32_t cdw11 = 1; /* PC: physically contiguous */
	int ret;

	if (!ctrl || !cq || !cq->cqes || vector > 0xffff) {
		log_debug("cq_create: NULL or unallocated queue, or vector %d beyond 16 bits", vector);
		return -EINVAL;
	}
	if (vector >= 0)
		cdw11 |= (uint32_t)vector << 16 | 1u << 1; /* IV, IEN */
	sqe.dptr.prp1 = vfn_cpu_to_le64(cq->iova);
	sqe.cdw10 = vfn_cpu_to_le32(ioq_cdw10(cq->qid, cq->entries));
	sqe.cdw11 = vfn_cpu_to_le32(cdw11);
	ret = ioq_admin(ctrl, &sqe, cqe);
	if (!ret)
		cq->vector = vector;
	return ret;
}

int vfn_nvme_sq_create(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, uint8_t qprio, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_CREATE_SQ };

	if (!ctrl || !sq || !sq->sqes || !sq->cq || qprio > 3) {
		log_debug("sq_create: NULL or unallocated queue, or QPRIO %u beyond 3", qprio);
		return -EINVAL;
	}
	sqe.dptr.prp1 = vfn_cpu_to_le64(sq->iova);
	sqe.cdw10 = vfn_cpu_to_le32(ioq_cdw10(sq->qid, sq->entries));
	/* CQID, QPRIO, PC */
	sqe.cdw11 = vfn_cpu_to_le32((uint32_t)sq->cq->qid << 16 | (uint32_t)qprio << 1 | 1u);
	return ioq_admin(ctrl, &sqe, cqe);
}

static int ioq_delete(struct vfn_nvme_ctrl *ctrl, uint8_t opcode, uint16_t qid, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = opcode, .cdw10 = vfn_cpu_to_le32(qid) };

	return ioq_admin(ctrl, &sqe, cqe);
}

int vfn_nvme_cq_delete(struct vfn_nvme_ctrl *ctrl, struct vfn_cq *cq, struct vfn_nvme_cqe *cqe)
{
	if (!ctrl || !cq) {
		log_debug("cq_delete: NULL %s", ctrl ? "queue" : "controller");
		return -EINVAL;
	}
	return ioq_delete(ctrl, VFN_NVME_ADMIN_DELETE_CQ, cq->qid, cqe);
}

int vfn_nvme_sq_delete(struct vfn_nvme_ctrl *ctrl, struct vfn_sq *sq, struct vfn_nvme_cqe *cqe)
{
	if (!ctrl || !sq) {
		log_debug("sq_delete: NULL %s", ctrl ? "queue" : "controller");
		return -EINVAL;
	}
	return ioq_delete(ctrl, VFN_NVME_ADMIN_DELETE_SQ, sq->qid, cqe);
}

int vfn_nvme_set_arbitration(struct vfn_nvme_ctrl *ctrl, uint8_t ab, uint8_t lpw, uint8_t mpw, uint8_t hpw)
{
	if (ab > 7)
		return -EINVAL;
	return vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0,
				     ab | (uint32_t)lpw << 8 | (uint32_t)mpw << 16 | (uint32_t)hpw << 24, NULL, NULL,
				     0);
}

int vfn_nvme_get_arbitration(struct vfn_nvme_ctrl *ctrl, uint8_t *ab, uint8_t *lpw, uint8_t *mpw, uint8_t *hpw)
{
	uint32_t dw0 = 0;
	int ret = vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0, 0, &dw0, NULL, 0);

	if (ret)
		return ret;
	if (ab)
		*ab = dw0 & 7;
	if (lpw)
		*lpw = (uint8_t)(dw0 >> 8);
	if (mpw)
		*mpw = (uint8_t)(dw0 >> 16);
	if (hpw)
		*hpw = (uint8_t)(dw0 >> 24);
	return 0;
}

int vfn_nvme_set_irq_coalescing(struct vfn_nvme_ctrl *ctrl, uint8_t thr, uint8_t time_100us)
{
	return vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_IRQ_COALESCE, 0, (uint32_t)time_100us << 8 | thr, NULL, NULL,
				     0);
}

/* ---- Queue pairs -------------------------------------------------------- */

#define QPAIR_ENTRIES_DEFAULT 256u
#define QPAIR_TIMEOUT_MS_DEFAULT 30000u

static int qpair_check(struct vfn_nvme_ctrl *ctrl, uint16_t qid, uint32_t entries, struct vfn_nvme_qpair **out)
{
	uint32_t max = ctrl ? ctrl->info.qpair_max_entries : 0;

	if (!ctrl || !out) {
		log_debug("qpair_create: NULL %s", ctrl ? "out" : "controller");
		return -EINVAL;
	}
	if (qid == 0 || qid > ctrl->info.nr_sq || qid > ctrl->info.nr_cq) {
		log_debug("%s: qid %u outside 1..%u (granted SQs %u, CQs %u)", ctrl->hw.name, qid,
			  ctrl->info.nr_sq < ctrl->info.nr_cq ? ctrl->info.nr_sq : ctrl->info.nr_cq, ctrl->info.nr_sq,
			  ctrl->info.nr_cq);
		return -EINVAL;
	}
	if (entries < 2 || entries > max) {
		log_debug("%s: %u entries outside 2..%u (CAP.MQES + 1, at most %u)", ctrl->hw.name, entries, max,
			  IOQ_MAX_ENTRIES);
		return -EINVAL;
	}
	return 0;
}

static uint32_t qpair_entries(struct vfn_nvme_ctrl *ctrl, const struct vfn_nvme_qpair_opts *opts)
{
	uint32_t max = ctrl->info.qpair_max_entries;

	if (opts && opts->entries)
		return opts->entries;
	return QPAIR_ENTRIES_DEFAULT < max ? QPAIR_ENTRIES_DEFAULT : max;
}

/* Host memory of a pair: the struct, request list memory, tracker, rings. */
/* The requests' PRP list / SGL segment memory in the CMB (vfn_nvme_qpair_opts.lists_cmb). */
static int qpair_lists_cmb(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp, size_t len, uint64_t *addr)
{
	struct vfn_nvme_cmb_info info;
	int ret = vfn_nvme_cmb_enable(ctrl);

	if (!ret)
		ret = vfn_nvme_cmb_get_info(ctrl, &info);
	if (!ret && !info.lists) {
		log_err("%s: PRP lists in the CMB: CMBSZ.LISTS is clear", ctrl->hw.name);
		return -ENOTSUP;
	}
	if (!ret)
		ret = vfn_nvme_cmb_alloc(ctrl, len, &qp->list_mem, addr);
	if (ret) {
		log_err("%s: no room for the PRP lists in the CMB: %d", ctrl->hw.name, ret);
		return ret;
	}
	qp->lists_cmb = true;
	qp->list_mem_len = (len + 4095) & ~(size_t)4095;
	return 0;
}

static void qpair_free_lists(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp)
{
	if (qp->lists_cmb)
		vfn_nvme_cmb_free(ctrl, qp->list_mem);
	else
		vfn_dma_free(ctrl->hw.iommu, qp->list_mem, qp->list_mem_len);
	qp->list_mem = NULL;
}

static void qpair_free_cq(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp)
{
	if (qp->cq_cmb) {
		vfn_nvme_cmb_free(ctrl, qp->cq.cqes);
		qp->cq.cqes = NULL;
	} else {
		vfn_nvme_cq_free(ctrl, &qp->cq);
	}
}

static int qpair_alloc(struct vfn_nvme_ctrl *ctrl, uint16_t qid, uint32_t entries, struct vfn_nvme_qpair *qp,
		       bool sq_cmb, bool lists_cmb, bool cq_cmb)
{
	uint32_t list_len;
	uint64_t list_iova;
	ssize_t len;
	int ret;

	qp->max_xfer = ctrl->info.max_xfer;
	list_len = vfn_rq_list_len(ctrl->page_size, &qp->max_xfer);
	if (lists_cmb) {
		ret = qpair_lists_cmb(ctrl, qp, (size_t)(entries - 1) * list_len, &list_iova);
		if (ret)
			return ret;
	} else {
		len = vfn_dma_alloc(ctrl->hw.iommu, (size_t)(entries - 1) * list_len, &qp->list_mem, &list_iova);
		if (len < 0)
			return (int)len;
		qp->list_mem_len = (size_t)len;
	}
	ret = vfn_rq_tracker_init(&qp->rqs, entries - 1, qp->list_mem, list_iova, list_len);
	if (ret)
		goto free_list;
	if (cq_cmb)
		ret = ioq_cq_alloc_cmb(ctrl, &qp->cq, qid, entries);
	else
		ret = vfn_nvme_cq_alloc(ctrl, &qp->cq, qid, entries);
	if (ret)
		goto fini_tracker;
	qp->cq_cmb = cq_cmb;
	if (sq_cmb)
		ret = ioq_sq_alloc_cmb(ctrl, &qp->sq, qid, entries, &qp->cq);
	else
		ret = vfn_nvme_sq_alloc(ctrl, &qp->sq, qid, entries, &qp->cq);
	if (ret)
		goto free_cq;
	qp->sq_cmb = sq_cmb;
	return 0;

free_cq:
	qpair_free_cq(ctrl, qp);
fini_tracker:
	vfn_rq_tracker_fini(&qp->rqs);
free_list:
	qpair_free_lists(ctrl, qp);
	return ret;
}

static void qpair_free(struct vfn_nvme_qpair *qp)
{
	struct vfn_nvme_ctrl *ctrl = qp->ctrl;

	if (qp->sq_cmb) {
		vfn_nvme_cmb_free(ctrl, qp->sq.sqes);
		qp->sq.sqes = NULL;
	} else {
		vfn_nvme_sq_free(ctrl, &qp->sq);
	}
	qpair_free_cq(ctrl, qp);
	vfn_rq_tracker_fini(&qp->rqs);
	qpair_free_lists(ctrl, qp);
}

/* -ENOTSUP (logged) when AUTO found no usable interrupt type: the kernel is not asked again. */
static int ctrl_irq_usable(struct vfn_nvme_ctrl *ctrl)
{
	if (ctrl->irq_type)
		return 0;
	log_err("%s: no usable interrupt type (MSI-X, MSI and INTx absent or refused at open): use polled queues "
		"(qpair opts irq off)",
		ctrl->hw.name);
	return -ENOTSUP;
}

int vfn_nvme_irqvec_get(struct vfn_nvme_ctrl *ctrl, unsigned int vector, int *efd)
{
	int nvec = ctrl_irq_usable(ctrl);
	struct vfn_nvme_irqvec *v;
	int ret = 0;

	if (!nvec)
		nvec = ctrl->hw.ops->irq_count(&ctrl->hw);
	if (nvec < 0)
		return nvec;
	if (vector >= (unsigned int)nvec) {
		log_debug("%s: no MSI-X vector %u (%d vectors)", ctrl->hw.name, vector, nvec);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	if (!ctrl->vecs) {
		ctrl->vecs = calloc((size_t)nvec, sizeof(*ctrl->vecs));
		if (!ctrl->vecs) {
			ret = -ENOMEM;
			goto unlock;
		}
		for (int i = 0; i < nvec; i++)
			ctrl->vecs[i].efd = -1;
		ctrl->nr_vecs = (unsigned int)nvec;
	}
	if (vector >= ctrl->nr_vecs) {
		ret = -ENOTSUP;
		goto unlock;
	}
	v = &ctrl->vecs[vector];
	if (!v->refs) {
		v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->efd < 0) {
			ret = -errno;
			log_err("%s: eventfd for vector %u failed: %d", ctrl->hw.name, vector, ret);
			goto unlock;
		}
		ret = ctrl->hw.ops->irq_enable(&ctrl->hw, vector, 1, &v->efd);
		if (ret) {
			log_err("%s: routing vector %u failed: %d", ctrl->hw.name, vector, ret);
			close(v->efd);
			v->efd = -1;
			goto unlock;
		}
	}
	v->refs++;
	*efd = v->efd;
unlock:
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

int vfn_nvme_ctrl_irq_route(struct vfn_nvme_ctrl *ctrl, int vector, int efd)
{
	int nvec, ret;

	if (!ctrl || vector < 0)
		return -EINVAL;
	nvec = ctrl_irq_usable(ctrl);
	if (!nvec)
		nvec = ctrl->hw.ops->irq_count(&ctrl->hw);
	if (nvec < 0)
		return nvec;
	if (vector >= nvec) {
		log_debug("%s: no MSI-X vector %d (%d vectors)", ctrl->hw.name, vector, nvec);
		return -ENOTSUP;
	}
	/* A vector the library's own pairs (or admin queue) use stays theirs. */
	pthread_mutex_lock(&ctrl->admin.lock);
	if ((unsigned int)vector < ctrl->nr_vecs && ctrl->vecs[vector].refs) {
		pthread_mutex_unlock(&ctrl->admin.lock);
		log_debug("%s: MSI-X vector %d is in use by the library's queues", ctrl->hw.name, vector);
		return -EBUSY;
	}
	ret = ctrl->hw.ops->irq_enable(&ctrl->hw, (unsigned int)vector, 1, &efd);
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

void vfn_nvme_irqvec_put(struct vfn_nvme_ctrl *ctrl, unsigned int vector)
{
	struct vfn_nvme_irqvec *v;
	int unrouted = -1;

	pthread_mutex_lock(&ctrl->admin.lock);
	if (vector < ctrl->nr_vecs && ctrl->vecs[vector].refs) {
		v = &ctrl->vecs[vector];
		if (!--v->refs) {
			if (ctrl->hw.ops->irq_enable(&ctrl->hw, vector, 1, &unrouted))
				log_err("%s: unrouting vector %u failed", ctrl->hw.name, vector);
			close(v->efd);
			v->efd = -1;
		}
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
}

/* The eventfd of MSI-X vector @vector for @qp, shared with the other pairs on it. */
static int qpair_irq_setup(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp, unsigned int vector)
{
	int ret = vfn_nvme_irqvec_get(ctrl, vector, &qp->efd);

	if (!ret)
		qp->vector = (int)vector;
	return ret;
}

/* Drops @qp's use of its vector; the last user unroutes it and closes the eventfd. */
static void qpair_irq_teardown(struct vfn_nvme_qpair *qp)
{
	if (qp->efd < 0 || qp->vector < 0)
		return;
	vfn_nvme_irqvec_put(qp->ctrl, (unsigned int)qp->vector);
	qp->efd = -1;
	qp->vector = -1;
}

/*
 * SGLS bits 1:0: 01b any alignment, 10b dword alignment and granularity,
 * 00b/11b none; bit 19: MPTR may hold an SGL (only with SGLs at all).
 */
static void qpair_sgl_caps(struct vfn_nvme_qpair *qp, uint32_t sgls)
{
	qp->sgl = (sgls & 0x3) == 1 || (sgls & 0x3) == 2;
	qp->sgl_dword = (sgls & 0x3) == 2;
	qp->sgl_mptr = qp->sgl && (sgls & VFN_NVME_SGLS_MPTR_SGL);
}

/* Reserves @qid for @qp (linked first on the controller's list); -EBUSY if a pair has it. */
static int qpair_link(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp, uint16_t qid)
{
	int ret = 0;

	pthread_mutex_lock(&ctrl->admin.lock);
	for (struct vfn_nvme_qpair *p = ctrl->qpairs; p; p = p->ctrl_next) {
		if (p->sq.qid == qid) {
			ret = -EBUSY;
			break;
		}
	}
	if (!ret) {
		qp->sq.qid = qid; /* what the check above compares until the rings exist */
		qp->ctrl_next = ctrl->qpairs;
		ctrl->qpairs = qp;
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
	if (ret)
		log_err("%s: queue pair %u already exists: not touched", ctrl->hw.name, qid);
	return ret;
}

/* The device side: vector, then CQ, then SQ. */
static int qpair_start(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp, const struct vfn_nvme_qpair_opts *opts)
{
	bool irq = opts && opts->irq;
	int ret;

	if (irq) {
		ret = qpair_irq_setup(ctrl, qp, opts->vector_set ? opts->vector : qp->cq.qid);
		if (ret)
			return ret;
	}
	ret = vfn_nvme_cq_create(ctrl, &qp->cq, qp->vector, NULL);
	if (ret)
		goto teardown_irq;
	ret = vfn_nvme_sq_create(ctrl, &qp->sq, (uint8_t)qp->qprio, NULL);
	if (ret)
		goto delete_cq;
	return 0;

delete_cq:
	vfn_nvme_cq_delete(ctrl, &qp->cq, NULL);
teardown_irq:
	qpair_irq_teardown(qp);
	return ret;
}

/* Takes @qp off its controller's list. */
static void qpair_unlink(struct vfn_nvme_qpair *qp)
{
	struct vfn_nvme_ctrl *ctrl = qp->ctrl;
	struct vfn_nvme_qpair **p;

	pthread_mutex_lock(&ctrl->admin.lock);
	for (p = &ctrl->qpairs; *p; p = &(*p)->ctrl_next) {
		if (*p == qp) {
			*p = qp->ctrl_next;
			break;
		}
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
}

int vfn_nvme_qpair_create(struct vfn_nvme_ctrl *ctrl, uint16_t qid, const struct vfn_nvme_qpair_opts *opts,
			  struct vfn_nvme_qpair **out)
{
	struct vfn_nvme_qpair *qp;
	uint32_t entries;
	int ret;

	entries = ctrl ? qpair_entries(ctrl, opts) : 0;
	ret = qpair_check(ctrl, qid, entries, out);
	if (ret)
		return ret;
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return -ENOMEM;
	qp->ctrl = ctrl;
	qp->iommu = ctrl->hw.iommu;
	qp->page_size = ctrl->page_size;
	qpair_sgl_caps(qp, ctrl->info.sgls);
	qp->efd = -1;
	qp->vector = -1;
	qp->qprio = opts ? opts->qprio : 0;
	qp->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : QPAIR_TIMEOUT_MS_DEFAULT;
	/* A qid in use is refused before anything (vector, queues) is touched. */
	ret = qpair_link(ctrl, qp, qid);
	if (ret)
		goto free_qp;
	ret = qpair_alloc(ctrl, qid, entries, qp, opts && opts->sq_cmb, opts && opts->lists_cmb, opts && opts->cq_cmb);
	if (ret)
		goto unlink;
	ret = qpair_start(ctrl, qp, opts);
	if (ret)
		goto free_mem;
	*out = qp;
	return 0;

free_mem:
	qpair_free(qp);
unlink:
	qpair_unlink(qp);
free_qp:
	free(qp);
	return ret;
}

/* Delete SQ then CQ (the spec refuses to delete a CQ with SQs on it); 0 if both went through. */
static int qpair_delete(struct vfn_nvme_qpair *qp)
{
	int ret = vfn_nvme_sq_delete(qp->ctrl, &qp->sq, NULL);

	if (!ret)
		ret = vfn_nvme_cq_delete(qp->ctrl, &qp->cq, NULL);
	return ret;
}

/*
 * The controller may still use the pair's rings and PRP lists (a Delete
 * failed): they stay mapped, retired until the controller is disabled, so
 * their IOVA is not handed out again meanwhile.
 */
static void qpair_retire(struct vfn_nvme_qpair *qp)
{
	struct vfn_nvme_ctrl *ctrl = qp->ctrl;

	log_err("%s: queue pair %u not deleted: its memory stays mapped until the controller is disabled",
		ctrl->hw.name, qp->sq.qid);
	/* A CMB ring stays allocated (never freed): the controller may still read it. */
	if (!qp->sq_cmb)
		vfn_nvme_admin_retire(ctrl, qp->sq.sqes,
				      ioq_ring_len(ctrl, qp->sq.entries, sizeof(struct vfn_nvme_sqe)), -1);
	if (!qp->cq_cmb)
		vfn_nvme_admin_retire(ctrl, qp->cq.cqes,
				      ioq_ring_len(ctrl, qp->cq.entries, sizeof(struct vfn_nvme_cqe)), -1);
	if (!qp->lists_cmb)
		vfn_nvme_admin_retire(ctrl, qp->list_mem, qp->list_mem_len, -1);
	vfn_rq_tracker_fini(&qp->rqs);
}

void vfn_nvme_qpair_destroy(struct vfn_nvme_qpair *qp)
{
	bool retire;

	if (!qp)
		return;
	qpair_unlink(qp);
	/* A failed controller is quiesced already: nothing uses the memory any more. */
	retire = !vfn_nvme_ctrl_failed(qp->ctrl) && qpair_delete(qp) && !vfn_nvme_ctrl_failed(qp->ctrl);
	qpair_irq_teardown(qp);
	vfn_nvme_inject_free(qp);
	vfn_nvme_qpair_log_enable(qp, 0);
	if (retire)
		qpair_retire(qp);
	else
		qpair_free(qp);
	free(qp);
}

/* Host side of a queue as after creation: empty rings, indices 0, phase 1. */
static void qpair_reset_rings(struct vfn_nvme_qpair *qp)
{
	struct vfn_nvme_ctrl *ctrl = qp->ctrl;

	memset(qp->sq.sqes, 0, (size_t)qp->sq.entries * sizeof(struct vfn_nvme_sqe));
	memset(qp->cq.cqes, 0, (size_t)qp->cq.entries * sizeof(struct vfn_nvme_cqe));
	qp->sq.tail = qp->sq.head = qp->sq.db_tail = qp->sq.mmio_tail = 0;
	qp->cq.head = qp->cq.db_head = qp->cq.mmio_head = qp->cq.unreported = 0;
	qp->cq.phase = 1;
	qp->idle_reaps = 0;
	qp->stall_ns = 0;
	vfn_nvme_dbbuf_slots(ctrl, qp->sq.qid, false, &qp->sq.shadow_db, &qp->sq.eventidx);
	vfn_nvme_dbbuf_slots(ctrl, qp->cq.qid, true, &qp->cq.shadow_db, &qp->cq.eventidx);
}

/*
 * The abandoned requests come back: the controller was disabled, their
 * completions cannot come any more.  Those the caller owns (ALLOCATED,
 * DONE) stay the caller's; none is in flight (failed before).
 */
static void qpair_reset_requests(struct vfn_nvme_qpair *qp)
{
	struct vfn_rq_tracker *t = &qp->rqs;

	qp->inj_head = qp->inj_tail = NULL;
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->rqs[i].state == VFN_RQ_ABANDONED)
			vfn_rq_release(qp, &t->rqs[i]);
}

int vfn_nvme_qpair_restart(struct vfn_nvme_qpair *qp)
{
	int ret;

	qpair_reset_rings(qp);
	qpair_reset_requests(qp);
	qpair_sgl_caps(qp, qp->ctrl->info.sgls);
	ret = vfn_nvme_cq_create(qp->ctrl, &qp->cq, qp->cq.vector, NULL);
	if (ret)
		return ret;
	return vfn_nvme_sq_create(qp->ctrl, &qp->sq, (uint8_t)qp->qprio, NULL);
}

void vfn_nvme_qpair_irq_ack(struct vfn_nvme_qpair *qp)
{
	if (qp)
		vfn_nvme_ctrl_irq_ack(qp->ctrl);
}

int vfn_nvme_qpair_eventfd(const struct vfn_nvme_qpair *qp)
{
	return qp ? qp->efd : -1;
}
