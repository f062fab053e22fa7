/* SPDX-License-Identifier: MIT */
/*
 * Robustness of the I/O path: request timeouts, controller failure
 * (CSTS.CFS, device gone) and controller reset with queue re-creation.
 *
 * Every recovery follows one order (docs/io.md, "Recovery"):
 *   1. quiesce: stop the controller's DMA (vfn_nvme_ctrl_quiesce(): CC.EN=0
 *      and CSTS.RDY=0, else a function-level reset, else bus mastering off);
 *   2. fail what is outstanding: deliver the completions the controller
 *      posted before it stopped, then complete the rest with a made-up
 *      completion (vfn_nvme_qpair_fail());
 *   3. free or re-create (vfn_nvme_ctrl_reset(), vfn_nvme_qpair_destroy()).
 * A request reaches its owner only completed by the controller, or after
 * step 1; the failure state is published only after step 1 too.
 */
#include <errno.h>

#include "nvme/ctrl-priv.h"
#include "nvme/rq-priv.h"
#include "support/log.h"

int vfn_nvme_ctrl_failed(const struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl) {
		log_debug("ctrl_failed: NULL controller");
		return -EINVAL;
	}
	return __atomic_load_n(&ctrl->failed, __ATOMIC_ACQUIRE);
}

/* How bad a failure state is: the state only moves up this scale until a reset succeeds. */
static int fail_rank(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ECANCELED:
		return 1;
	case -EIO:
		return 2;
	default:
		return 3; /* -ENODEV */
	}
}

/* Raises @ctrl's failure to @err if that ranks higher; true if it did (*@was: the previous value). */
static bool ctrl_mark_failed(struct vfn_nvme_ctrl *ctrl, int err, int *was)
{
	int cur = __atomic_load_n(&ctrl->failed, __ATOMIC_ACQUIRE);

	do {
		if (fail_rank(cur) >= fail_rank(err))
			return false;
	} while (!__atomic_compare_exchange_n(&ctrl->failed, &cur, err, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	*was = cur;
	return true;
}

void vfn_nvme_ctrl_set_failed(struct vfn_nvme_ctrl *ctrl, int err)
{
	int was;

	if (ctrl_mark_failed(ctrl, err, &was))
		log_err("%s: controller failed (%d, was %d): outstanding commands fail", ctrl->hw.name, err, was);
}

int vfn_nvme_ctrl_fail(struct vfn_nvme_ctrl *ctrl, int err)
{
	pthread_mutex_lock(&ctrl->recovery_lock);
	if (!ctrl->quiesced) {
		if (vfn_nvme_ctrl_quiesce(ctrl) == -ENODEV)
			err = -ENODEV;
		ctrl->quiesced = true;
	}
	vfn_nvme_ctrl_set_failed(ctrl, err);
	pthread_mutex_unlock(&ctrl->recovery_lock);
	return vfn_nvme_ctrl_failed(ctrl);
}

/*
 * Completes @rq with a made-up completion (Command Aborted By Host) and
 * @err; the controller no longer has it (stopped, or never sent).  With a
 * callback the request is released once the callback returns (unless the
 * callback freed it); without one it stays DONE for its owner, the caller.
 */
static void rq_fail(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, int err)
{
	rq->cqe = (struct vfn_nvme_cqe){
		.sqhd = vfn_cpu_to_le16(qp->sq.head),
		.sqid = vfn_cpu_to_le16(qp->sq.qid),
		.cid = vfn_cpu_to_le16(rq->cid),
		.sfp = vfn_cpu_to_le16((uint16_t)(VFN_NVME_SC_HOST_ABORTED << 1)),
	};
	rq->err = err;
	rq->state = VFN_RQ_DONE;
	if (qp->hooks & VFN_QP_HOOK_LOG)
		vfn_nvme_cmdlog_complete(qp, rq, &rq->cqe);
	vfn_rq_call(qp, rq, &rq->cqe);
}

int vfn_nvme_qpair_fail(struct vfn_nvme_qpair *qp, int err)
{
	struct vfn_rq_tracker *t = &qp->rqs;
	int n = 0;

	/* Posts are refused from now on, also those the callbacks below make. */
	qp->err = err;
	vfn_nvme_qpair_update_hooks(qp);
	/* What the controller completed before it stopped completed for real. */
	vfn_nvme_qpair_reap(qp, 0);
	qp->inj_head = qp->inj_tail = NULL;
	vfn_nvme_qpair_update_hooks(qp);
	for (unsigned int i = 0; i < t->nr; i++) {
		struct vfn_rq *rq = &t->rqs[i];
		bool expired = rq->flags & VFN_RQ_F_EXPIRED;

		if (rq->state != VFN_RQ_INFLIGHT)
			continue;
		if (expired)
			t->stats.timed_out++;
		else
			t->stats.cancelled++;
		rq_fail(qp, rq, expired ? -ETIMEDOUT : err);
		n++;
	}
	if (n)
		log_err("SQ %u: %d commands failed (%d)", qp->sq.qid, n, err);
	return n;
}

/* 0, or the controller's failure (seen before, or now in CSTS: then it is quiesced and marked). */
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
	return vfn_nvme_ctrl_fail(qp->ctrl, ret == -ENODEV ? -ENODEV : -ECANCELED);
}

/*
 * Sends Abort for @rq and waits @timeout_ms.  True if the controller
 * answered, whatever it said (aborted: the command then completes with
 * Command Abort Requested; not aborted, limit exceeded: it may still
 * complete): it is alive, the command gets another timeout.  False if not.
 */
static bool qpair_abort(struct vfn_nvme_qpair *qp, const struct vfn_rq *rq, uint32_t timeout_ms)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_ADMIN_ABORT,
		.cdw10 = vfn_cpu_to_le32((uint32_t)rq->cid << 16 | qp->sq.qid),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	ret = vfn_nvme_admin_sync(qp->ctrl, &sqe, NULL, 0, &cqe, timeout_ms);
	if (!ret || (ret == -EIO && vfn_nvme_cqe_status(&cqe))) {
		log_info("%s: Abort of SQ %u cid %u answered: status 0x%x, %s", qp->ctrl->hw.name, qp->sq.qid, rq->cid,
			 vfn_nvme_cqe_status(&cqe), ret || (vfn_le32_to_cpu(cqe.dw0) & 1) ? "not aborted" : "aborted");
		return true;
	}
	log_err("%s: Abort of SQ %u cid %u not answered (%d): quiescing the controller", qp->ctrl->hw.name, qp->sq.qid,
		rq->cid, ret);
	return false;
}

/*
 * @rq's deadline passed: the first time, Abort and another timeout; the
 * second time, or if Abort goes unanswered, it expires.  True if it did
 * (the controller must be quiesced before it is failed).
 */
static bool rq_expire(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, uint64_t now, uint64_t timeout_ns)
{
	bool aborted = rq->flags & VFN_RQ_F_ABORTED;

	log_err("SQ %u: command %u timed out after %u ms%s", qp->sq.qid, rq->cid, qp->timeout_ms,
		aborted ? " again (after Abort)" : "");
	if (!aborted && qpair_abort(qp, rq, qp->timeout_ms)) {
		rq->flags |= VFN_RQ_F_ABORTED;
		rq->deadline_ns = now + timeout_ns;
		return false;
	}
	rq->flags |= VFN_RQ_F_EXPIRED;
	return true;
}

/* A request injection held back was never sent: it times out at once, nothing to stop. */
static void rq_expire_held(struct vfn_nvme_qpair *qp, struct vfn_rq *rq)
{
	log_err("SQ %u: command %u (held back by injection) timed out after %u ms", qp->sq.qid, rq->cid,
		qp->timeout_ms);
	qp->rqs.stats.timed_out++;
	rq_fail(qp, rq, -ETIMEDOUT);
}

/*
 * The timeout walk: returns the number of requests completed with an
 * error; sets *@escalate when one expired for good.
 */
static int qpair_expire_walk(struct vfn_nvme_qpair *qp, uint64_t now, bool *escalate)
{
	uint64_t timeout_ns = (uint64_t)qp->timeout_ms * 1000000;
	struct vfn_rq_tracker *t = &qp->rqs;
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
		if (rq->flags & VFN_RQ_F_HELD) {
			rq_expire_held(qp, rq);
			n++;
		} else if (*escalate || !qp->ctrl) {
			rq->flags |= VFN_RQ_F_EXPIRED; /* no more Aborts once one went unanswered */
			*escalate = true;
		} else {
			*escalate = rq_expire(qp, rq, now, timeout_ns);
		}
	}
	return n;
}

int vfn_nvme_qpair_sync_timeout(struct vfn_nvme_qpair *qp, uint32_t timeout_ms, bool (*done)(const void *arg),
				bool (*mine)(const struct vfn_rq *rq, const void *arg), const void *arg)
{
	uint32_t wait_ms = timeout_ms && timeout_ms < qp->timeout_ms ? timeout_ms : qp->timeout_ms;
	struct vfn_rq_tracker *t = &qp->rqs;
	bool answered = true, sent = false;
	int err;

	if (!qp->ctrl)
		return -ETIMEDOUT; /* nothing to quiesce: the caller abandons them */
	/* A controller that failed meanwhile (CSTS, another pair) is not a timeout. */
	err = qpair_ctrl_state(qp);
	if (err) {
		if (qp->err != err)
			vfn_nvme_qpair_fail(qp, err);
		return err;
	}
	for (unsigned int i = 0; i < t->nr && answered; i++) {
		struct vfn_rq *rq = &t->rqs[i];

		if (rq->state != VFN_RQ_INFLIGHT || !mine(rq, arg))
			continue;
		if (rq->flags & VFN_RQ_F_HELD) {
			rq_expire_held(qp, rq); /* never sent: nothing to stop */
			continue;
		}
		sent = true;
		answered = qpair_abort(qp, rq, wait_ms);
		if (answered)
			rq->flags |= VFN_RQ_F_ABORTED;
	}
	if (!sent)
		return done(arg) ? -ETIMEDOUT : vfn_rq_wait_cond(qp, done, arg, timeout_ms);
	if (answered) {
		err = vfn_rq_wait_cond(qp, done, arg, timeout_ms);
		if (err != -ETIMEDOUT)
			return err;
	}
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->rqs[i].state == VFN_RQ_INFLIGHT && mine(&t->rqs[i], arg))
			t->rqs[i].flags |= VFN_RQ_F_EXPIRED;
	/* Quiesce first: only then may the expired commands (and the rest) be failed. */
	err = vfn_nvme_ctrl_fail(qp->ctrl, -ECANCELED);
	vfn_nvme_qpair_fail(qp, err);
	return -ETIMEDOUT;
}

/* True if a request of @qp with a callback is past its deadline. */
static bool qpair_any_expired(const struct vfn_nvme_qpair *qp, uint64_t now)
{
	const struct vfn_rq_tracker *t = &qp->rqs;

	for (unsigned int i = 0; i < t->nr; i++) {
		const struct vfn_rq *rq = &t->rqs[i];

		if (rq->state == VFN_RQ_INFLIGHT && rq->cb && rq->deadline_ns && now >= rq->deadline_ns)
			return true;
	}
	return false;
}

static int qpair_expire(struct vfn_nvme_qpair *qp, uint64_t now)
{
	bool escalate = false;
	int n, err = -ECANCELED;

	/* A completion already posted is no timeout (as Linux polls the CQ before it aborts). */
	if (qpair_any_expired(qp, now))
		vfn_nvme_qpair_reap(qp, 0);
	n = qpair_expire_walk(qp, now, &escalate);

	if (!escalate)
		return n;
	/* Quiesce first: only then may the expired commands (and the rest) be failed. */
	if (qp->ctrl)
		err = vfn_nvme_ctrl_fail(qp->ctrl, -ECANCELED);
	return n + vfn_nvme_qpair_fail(qp, err);
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
	return n;
}

/*
 * Step 2 for every pair of @ctrl: all refuse posts first, so no callback
 * can post on a pair not failed yet; then each fails what it has
 * outstanding with @err.
 */
static void ctrl_fail_qpairs(struct vfn_nvme_ctrl *ctrl, int err)
{
	struct vfn_nvme_qpair *qp;

	for (qp = ctrl->qpairs; qp; qp = qp->ctrl_next) {
		qp->err = err;
		vfn_nvme_qpair_update_hooks(qp);
	}
	for (qp = ctrl->qpairs; qp; qp = qp->ctrl_next)
		vfn_nvme_qpair_fail(qp, err);
}

/*
 * Steps 1 and 2: quiesces @ctrl (again, even if that happened before: an
 * earlier quiesce may have ended with bus mastering off), marks it failed
 * and fails what is outstanding.  Returns the quiesce's result.
 */
static int ctrl_stop(struct vfn_nvme_ctrl *ctrl, int err)
{
	int ret;

	pthread_mutex_lock(&ctrl->recovery_lock);
	ret = vfn_nvme_ctrl_quiesce(ctrl);
	ctrl->quiesced = true;
	if (ret == -ENODEV || err != -ECANCELED)
		vfn_nvme_ctrl_set_failed(ctrl, ret == -ENODEV ? -ENODEV : err);
	else if (ctrl_mark_failed(ctrl, err, &(int){ 0 })) /* a reset asked for: no error to report */
		log_info("%s: stopped for the reset: outstanding commands are cancelled", ctrl->hw.name);
	pthread_mutex_unlock(&ctrl->recovery_lock);
	ctrl_fail_qpairs(ctrl, vfn_nvme_ctrl_failed(ctrl));
	return ret;
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

/* Step 3: the controller and every pair as at creation. */
static int ctrl_recreate(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	pthread_mutex_lock(&ctrl->recovery_lock);
	ctrl->quiesced = false; /* being enabled: a failure from here on quiesces it again */
	pthread_mutex_unlock(&ctrl->recovery_lock);
	__atomic_store_n(&ctrl->restarting, 1, __ATOMIC_RELEASE);
	ret = vfn_nvme_ctrl_restart(ctrl);
	if (!ret)
		ret = ctrl_restart_qpairs(ctrl);
	__atomic_store_n(&ctrl->restarting, 0, __ATOMIC_RELEASE);
	return ret;
}

/* Everything works again: posts and admin commands go through. */
static void ctrl_mark_live(struct vfn_nvme_ctrl *ctrl)
{
	for (struct vfn_nvme_qpair *qp = ctrl->qpairs; qp; qp = qp->ctrl_next) {
		qp->err = 0;
		vfn_nvme_qpair_update_hooks(qp);
	}
	__atomic_store_n(&ctrl->failed, 0, __ATOMIC_RELEASE);
}

/*
 * Routes every vector in use to its eventfd again, MSI-X (or MSI/INTx)
 * switched off and on first so that the kernel rewrites the function's
 * vector table whatever a reset left in it.
 */
static int ctrl_irq_reroute(struct vfn_nvme_ctrl *ctrl)
{
	int ret = 0;

	pthread_mutex_lock(&ctrl->admin.lock);
	for (unsigned int v = 0; v < ctrl->nr_vecs; v++) {
		if (!ctrl->vecs[v].refs)
			continue;
		if (!ret) /* the first vector in use: off, then on with it below */
			ret = ctrl->hw.ops->irq_disable(&ctrl->hw) ? -EIO : 1;
		if (ret < 0)
			break;
		if (ctrl->hw.ops->irq_enable(&ctrl->hw, v, 1, &ctrl->vecs[v].efd)) {
			ret = -EIO;
			break;
		}
	}
	pthread_mutex_unlock(&ctrl->admin.lock);
	if (ret < 0)
		log_err("%s: re-routing interrupt vectors after the reset failed", ctrl->hw.name);
	return ret < 0 ? ret : 0;
}

/* The function-level reset between quiescing and re-creating (vfn_nvme_ctrl_reset_function()). */
static int ctrl_between_flr(struct vfn_nvme_ctrl *ctrl)
{
	int ret = ctrl->hw.ops->reset(&ctrl->hw);

	if (ret) {
		log_err("%s: function-level reset failed: %d", ctrl->hw.name, ret);
		return ret;
	}
	return ctrl_irq_reroute(ctrl);
}

/* The PCI hot reset between quiescing and re-creating (vfn_nvme_ctrl_reset_bus()). */
static int ctrl_between_hot(struct vfn_nvme_ctrl *ctrl)
{
	int ret = ctrl->hw.ops->hot_reset(&ctrl->hw, false);

	if (ret == -EBUSY) {
		/*
		 * Refused before anything was reset: by vfn_vfio_hot_reset()'s
		 * own check, which passed before the quiesce (a function it
		 * reaches was opened or rebound meanwhile, by another thread),
		 * or by VFIO (contention).  The controller is only stopped:
		 * ctrl_reset_run() re-creates it and returns -EBUSY.
		 */
		log_info("%s: PCI hot reset refused after the quiesce: the controller is re-enabled without it",
			 ctrl->hw.name);
		return 1;
	}
	if (ret) {
		log_err("%s: PCI hot reset failed: %d", ctrl->hw.name, ret);
		return ret;
	}
	return ctrl_irq_reroute(ctrl);
}

/* NSSR between quiescing and re-creating (vfn_nvme_ctrl_reset_subsystem()). */
static int ctrl_between_nssr(struct vfn_nvme_ctrl *ctrl)
{
	uint8_t *regs = ctrl->hw.regs;
	uint64_t deadline = vfn_now_ns() + (uint64_t)ctrl->rdy_timeout_ms * 1000000;
	uint32_t csts;

	vfn_mmio_write32(regs + VFN_NVME_REG_NSSR, VFN_NVME_NSSR_RESET);
	for (;;) {
		struct timespec ts = { 0, 1000000 };

		csts = vfn_mmio_read32(regs + VFN_NVME_REG_CSTS);
		if (csts == UINT32_MAX) {
			log_err("%s: device gone after the NVM subsystem reset (link down?)", ctrl->hw.name);
			return -ENODEV;
		}
		if (csts & VFN_NVME_CSTS_NSSRO)
			break;
		if (vfn_now_ns() > deadline) {
			log_err("%s: CSTS.NSSRO did not rise within CAP.TO after the NVM subsystem reset",
				ctrl->hw.name);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	vfn_mmio_write32(regs + VFN_NVME_REG_CSTS, VFN_NVME_CSTS_NSSRO); /* W1C */
	return ctrl_irq_reroute(ctrl);
}

static int ctrl_reset_run(struct vfn_nvme_ctrl *ctrl, const char *what, int (*between)(struct vfn_nvme_ctrl *))
{
	int ret, refused = 0;

	log_info("%s: %s", ctrl->hw.name, what);
	ret = ctrl_stop(ctrl, -ECANCELED);
	if (!ret && between)
		ret = between(ctrl);
	if (ret > 0) { /* refused before anything was reset: re-created as after a controller reset, -EBUSY */
		refused = -EBUSY;
		ret = 0;
	}
	if (!ret) {
		ret = ctrl_recreate(ctrl);
		if (ret)
			ctrl_stop(ctrl, -EIO); /* it may have been enabled meanwhile */
	}
	if (ret) {
		/* Quiesced by now: this only marks it (and the pairs, whose posts fail with it). */
		ctrl_fail_qpairs(ctrl, vfn_nvme_ctrl_fail(ctrl, ret == -ENODEV ? -ENODEV : -EIO));
		log_err("%s: reset failed (%d): the controller stays failed until a reset succeeds", ctrl->hw.name,
			ret);
		return ret;
	}
	ctrl_mark_live(ctrl);
	ret = vfn_nvme_aer_rearm(ctrl);
	return refused ? refused : ret;
}

/* One reset at a time: -EBUSY while another runs (or from one of its callbacks). */
static int ctrl_reset_with(struct vfn_nvme_ctrl *ctrl, const char *what, int (*between)(struct vfn_nvme_ctrl *))
{
	int ret;

	if (__atomic_exchange_n(&ctrl->resetting, 1, __ATOMIC_ACQ_REL)) {
		log_debug("%s: %s refused: a reset is running (called from one of its callbacks?)", ctrl->hw.name,
			  what);
		return -EBUSY;
	}
	ret = ctrl_reset_run(ctrl, what, between);
	__atomic_store_n(&ctrl->resetting, 0, __ATOMIC_RELEASE);
	return ret;
}

int vfn_nvme_ctrl_reset(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl) {
		log_debug("ctrl_reset: NULL controller");
		return -EINVAL;
	}
	return ctrl_reset_with(ctrl, "controller reset", NULL);
}

int vfn_nvme_ctrl_reset_subsystem(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl) {
		log_debug("ctrl_reset_subsystem: NULL controller");
		return -EINVAL;
	}
	if (!vfn_nvme_cap_nssrs(ctrl->cap)) {
		log_err("%s: no NVM subsystem reset (CAP.NSSRS is 0)", ctrl->hw.name);
		return -EOPNOTSUPP;
	}
	return ctrl_reset_with(ctrl, "NVM subsystem reset", ctrl_between_nssr);
}

int vfn_nvme_ctrl_reset_function(struct vfn_nvme_ctrl *ctrl)
{
	if (!ctrl) {
		log_debug("ctrl_reset_function: NULL controller");
		return -EINVAL;
	}
	return ctrl_reset_with(ctrl, "function-level reset", ctrl_between_flr);
}

int vfn_nvme_ctrl_reset_bus(struct vfn_nvme_ctrl *ctrl)
{
	int ret;

	if (!ctrl) {
		log_debug("ctrl_reset_bus: NULL controller");
		return -EINVAL;
	}
	/* Refused before anything is stopped: the controller stays as it is. */
	if (!ctrl->hw.ops->hot_reset) {
		log_err("%s: no PCI hot reset here (not a VFIO device)", ctrl->hw.name);
		return -ENOTSUP;
	}
	ret = ctrl->hw.ops->hot_reset(&ctrl->hw, true);
	if (ret) {
		/* The VFIO check logged the cause (and the fix): one line, not two. */
		log_debug("%s: PCI hot reset refused (%d): the controller is untouched", ctrl->hw.name, ret);
		return ret;
	}
	return ctrl_reset_with(ctrl, "PCI hot reset", ctrl_between_hot);
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
