/* SPDX-License-Identifier: MIT */
/*
 * Robustness of the I/O path: request timeouts, controller failure
 * (CSTS.CFS, device gone) and controller reset with queue re-creation.
 */
#include <errno.h>

#include "nvme/ctrl-priv.h"
#include "support/log.h"

int vfn_nvme_ctrl_failed(const struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl) {
		log_debug("ctrl_failed: NULL controller");
		return -EINVAL;
	}
	return __atomic_load_n(&ctrl->failed, __ATOMIC_ACQUIRE);
}

void vfn_nvme_ctrl_set_failed(struct vfn_nvme_ctrl *ctrl, int err)
{
	int cur = __atomic_load_n(&ctrl->failed, __ATOMIC_ACQUIRE);

	if (cur == err || cur == -ENODEV)
		return;
	if (!cur)
		log_err("%s: controller failed (%d): failing every outstanding command", ctrl->hw.name, err);
	__atomic_store_n(&ctrl->failed, err, __ATOMIC_RELEASE);
}

/*
 * Completes @rq with a made-up completion (Command Aborted By Host) and
 * @err.  A request that was sent stays abandoned afterwards (its command
 * id comes back with a late completion or a reset); one held back by
 * injection was never sent and is released once its callback returns.
 */
static void rq_fail(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, int err)
{
	bool held = rq->flags & VFN_RQ_F_HELD;

	rq->cqe = (struct vfn_nvme_cqe){
		.sqhd = vfn_cpu_to_le16(qp->sq.head),
		.sqid = vfn_cpu_to_le16(qp->sq.qid),
		.cid = vfn_cpu_to_le16(rq->cid),
		.sfp = vfn_cpu_to_le16((uint16_t)(VFN_NVME_SC_HOST_ABORTED << 1)),
	};
	rq->err = err;
	rq->state = held && rq->cb ? VFN_RQ_DONE : VFN_RQ_ABANDONED;
	if (qp->hooks & VFN_QP_HOOK_LOG)
		vfn_nvme_cmdlog_complete(qp, rq, &rq->cqe);
	if (!rq->cb)
		return; /* a synchronous waiter sees the state and rq->err */
	rq->cb(qp, rq, &rq->cqe);
	if (held && rq->state == VFN_RQ_DONE)
		vfn_rq_release(qp, rq);
}

int vfn_nvme_qpair_fail(struct vfn_nvme_qpair *qp, int err)
{
	struct vfn_rq_tracker *t = &qp->rqs;
	int n = 0;

	qp->err = err;
	/* Posts are refused from now on, also those the callbacks below make. */
	qp->inj_head = qp->inj_tail = NULL;
	vfn_nvme_qpair_update_hooks(qp);
	for (unsigned int i = 0; i < t->nr; i++) {
		if (t->rqs[i].state != VFN_RQ_INFLIGHT)
			continue;
		rq_fail(qp, &t->rqs[i], err);
		t->stats.cancelled++;
		n++;
	}
	if (n)
		log_err("SQ %u: %d commands failed with %d", qp->sq.qid, n, err);
	return n;
}

/* 0, or the controller's failure (seen before, or now in CSTS). */
static int qpair_ctrl_state(struct vfn_nvme_qpair *qp)
{
	int ret;

	if (!qp->ctrl)
		return 0;
	ret = vfn_nvme_ctrl_failed(qp->ctrl);
	if (ret)
		return ret;
	ret = vfn_nvme_ctrl_check_csts(qp->ctrl);
	if (!ret)
		return 0;
	vfn_nvme_ctrl_set_failed(qp->ctrl, ret == -ENODEV ? -ENODEV : -ECANCELED);
	return vfn_nvme_ctrl_failed(qp->ctrl);
}

/*
 * Asks the controller to abort timed-out @rq, waiting qp->timeout_ms: any
 * answer (aborted, not found, limit exceeded) shows it alive; none marks
 * the controller failed (-ECANCELED).  A command held back by injection
 * was never sent: nothing to ask.
 */
static void qpair_abort_probe(struct vfn_nvme_qpair *qp, const struct vfn_rq *rq)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_ABORT,
		.cdw10 = vfn_cpu_to_le32((uint32_t)rq->cid << 16 | qp->sq.qid),
	};
	int ret;

	if (!qp->ctrl || (rq->flags & VFN_RQ_F_HELD))
		return;
	ret = vfn_nvme_admin_sync(qp->ctrl, &sqe, NULL, 0, NULL, qp->timeout_ms);
	if (ret == 0 || ret == -EIO)
		return;
	log_err("%s: Abort of SQ %u cid %u not answered (%d): controller failed", qp->ctrl->hw.name, qp->sq.qid,
		rq->cid, ret);
	vfn_nvme_ctrl_set_failed(qp->ctrl, ret == -ENODEV ? -ENODEV : -ECANCELED);
}

static int qpair_expire(struct vfn_nvme_qpair *qp, uint64_t now)
{
	uint64_t timeout_ns = (uint64_t)qp->timeout_ms * 1000000;
	struct vfn_rq_tracker *t = &qp->rqs;
	bool probed = false;
	int n = 0;

	for (unsigned int i = 0; i < t->nr; i++) {
		struct vfn_rq *rq = &t->rqs[i];

		if (rq->state != VFN_RQ_INFLIGHT || !rq->cb)
			continue;
		if (!rq->deadline_ns) {
			rq->deadline_ns = now + timeout_ns;
			continue;
		}
		if (now < rq->deadline_ns)
			continue;
		log_err("SQ %u: command %u timed out after %u ms", qp->sq.qid, rq->cid, qp->timeout_ms);
		if (!probed && !(rq->flags & VFN_RQ_F_HELD)) {
			/* One Abort per check: enough to tell a slow command from a dead controller. */
			qpair_abort_probe(qp, rq);
			probed = true;
		}
		t->stats.timed_out++;
		n++;
		rq_fail(qp, rq, -ETIMEDOUT);
	}
	return n;
}

int vfn_nvme_qpair_check_timeouts(struct vfn_nvme_qpair *qp, uint64_t now_ns)
{
	int err, n;

	if (!qp) {
		log_debug("check_timeouts: NULL queue pair");
		return -EINVAL;
	}
	err = qpair_ctrl_state(qp);
	if (err)
		return qp->err == err ? 0 : vfn_nvme_qpair_fail(qp, err);
	n = qpair_expire(qp, now_ns ? now_ns : vfn_now_ns());
	if (n && (qp->hooks & VFN_QP_HOOK_LOG))
		vfn_nvme_cmdlog_debug_dump(qp);
	err = qp->ctrl ? vfn_nvme_ctrl_failed(qp->ctrl) : 0;
	if (err)
		n += vfn_nvme_qpair_fail(qp, err); /* the Abort went unanswered */
	return n;
}

/* Fails every pair of @ctrl with @err (those not failed with it yet). */
static void ctrl_fail_qpairs(struct vfn_nvme_ctrl *ctrl, int err)
{
	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qp; qp = qp->ctrl_next)
		if (qp->err != err)
			vfn_nvme_qpair_fail(qp, err);
}

static int ctrl_restart_qpairs(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qp; qp = qp->ctrl_next) {
		ret = vfn_nvme_qpair_restart(qp);
		if (ret) {
			log_err("%s: re-creating queue pair %u failed: %d", ctrl->hw.name, qp->sq.qid, ret);
			return ret;
		}
	}
	return 0;
}

int vfn_nvme_ctrl_reset(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	if (!ctrl) {
		log_debug("ctrl_reset: NULL controller");
		return -EINVAL;
	}
	log_info("%s: controller reset", ctrl->hw.name);
	vfn_nvme_ctrl_set_failed(ctrl, -ECANCELED);
	ctrl_fail_qpairs(ctrl, vfn_nvme_ctrl_failed(ctrl));
	ret = vfn_nvme_ctrl_restart(ctrl);
	if (!ret)
		ret = ctrl_restart_qpairs(ctrl);
	if (ret) {
		vfn_nvme_ctrl_set_failed(ctrl, ret == -ENODEV ? -ENODEV : -ECANCELED);
		ctrl_fail_qpairs(ctrl, vfn_nvme_ctrl_failed(ctrl));
		return ret;
	}
	__atomic_store_n(&ctrl->failed, 0, __ATOMIC_RELEASE);
	return vfn_nvme_aer_rearm(ctrl);
}

int vfn_nvme_abort(struct vfn_nvme_ctrl *ctrl, uint16_t sqid, uint16_t cid)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_ABORT,
		.cdw10 = vfn_cpu_to_le32((uint32_t)cid << 16 | sqid),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	ret = vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 0);
	if (ret)
		return ret;
	if (vfn_le32_to_cpu(cqe.dw0) & 1) {
		log_debug("%s: Abort of SQ %u cid %u: command not aborted", ctrl->hw.name, sqid, cid);
		return -ENOENT;
	}
	return 0;
}
