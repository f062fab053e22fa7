/* SPDX-License-Identifier: MIT */
/*
 * Driver-side error injection: commands an armed rule matches are never
 * sent to the controller; they complete with the rule's status at the next
 * reap, or are held back until a timeout check gives up on them.  All of
 * it runs behind qp->hooks, so the hot path pays one branch when it is off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/rq-priv.h"
#include "nvme/ctrl-priv.h"
#include "support/log.h"

#define INJECT_MAX_RULES 8

struct inject_rule {
	uint8_t opcode;
	bool hold;	 /* hold back until timeout, instead of completing */
	uint16_t status; /* SCT << 8 | SC (+ CRD/M/DNR) */
	uint32_t count;	 /* commands still to match */
};

struct vfn_nvme_inject {
	unsigned int nr;
	struct inject_rule rules[INJECT_MAX_RULES];
};

void vfn_nvme_qpair_update_hooks(struct vfn_nvme_qpair *qp)
{
	uint32_t hooks = 0;

	if ((qp->inject && qp->inject->nr) || qp->inj_head)
		hooks |= VFN_QP_HOOK_INJECT;
	if (qp->cmdlog)
		hooks |= VFN_QP_HOOK_LOG;
	if (qp->err)
		hooks |= VFN_QP_HOOK_FAILED;
	qp->hooks = hooks;
}

static int inject_add(struct vfn_nvme_qpair *qp, const struct inject_rule *rule)
{
	if (!qp || !rule->count) {
		log_debug("inject: NULL queue pair or count 0");
		return -EINVAL;
	}
	if (!qp->inject) {
		qp->inject = calloc(1, sizeof(*qp->inject));
		if (!qp->inject)
			return -ENOMEM;
	}
	if (qp->inject->nr == INJECT_MAX_RULES) {
		log_debug("SQ %u: %d injection rules already armed", qp->sq.qid, INJECT_MAX_RULES);
		return -ENOSPC;
	}
	qp->inject->rules[qp->inject->nr++] = *rule;
	vfn_nvme_qpair_update_hooks(qp);
	return 0;
}

int vfn_nvme_inject_status(struct vfn_nvme_qpair *qp, uint8_t opcode, uint32_t count, uint16_t status)
{
	struct inject_rule r = { .opcode = opcode, .status = status, .count = count };

	return inject_add(qp, &r);
}

int vfn_nvme_inject_timeout(struct vfn_nvme_qpair *qp, uint8_t opcode, uint32_t count)
{
	struct inject_rule r = { .opcode = opcode, .hold = true, .count = count };

	return inject_add(qp, &r);
}

void vfn_nvme_inject_clear(struct vfn_nvme_qpair *qp)
{
	if (!qp || !qp->inject)
		return;
	qp->inject->nr = 0;
	vfn_nvme_qpair_update_hooks(qp);
}

void vfn_nvme_inject_free(struct vfn_nvme_qpair *qp)
{
	free(qp->inject);
	qp->inject = NULL;
	qp->inj_head = qp->inj_tail = NULL;
	vfn_nvme_qpair_update_hooks(qp);
}

/* The first rule matching @opcode, counted down (and dropped at 0); false if none. */
static bool inject_take(struct vfn_nvme_inject *inj, uint8_t opcode, struct inject_rule *out)
{
	for (unsigned int i = 0; i < inj->nr; i++) {
		struct inject_rule *r = &inj->rules[i];

		if (r->opcode != opcode)
			continue;
		*out = *r;
		if (!--r->count) {
			memmove(r, r + 1, (inj->nr - i - 1) * sizeof(*r));
			inj->nr--;
		}
		return true;
	}
	return false;
}

bool vfn_nvme_inject_post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_sqe *sqe)
{
	struct inject_rule r;

	if (!qp->inject || !inject_take(qp->inject, sqe->opcode, &r))
		return false;
	qp->rqs.stats.injected++;
	rq->state = VFN_RQ_INFLIGHT;
	if (r.hold) {
		rq->flags |= VFN_RQ_F_HELD;
	} else {
		rq->flags |= VFN_RQ_F_INJECTED;
		rq->cqe = (struct vfn_nvme_cqe){
			.sqhd = vfn_cpu_to_le16(qp->sq.head),
			.sqid = vfn_cpu_to_le16(qp->sq.qid),
			.cid = sqe->cid,
			.sfp = vfn_cpu_to_le16((uint16_t)(r.status << 1)),
		};
		rq->inj_next = NULL;
		if (qp->inj_tail)
			qp->inj_tail->inj_next = rq;
		else
			qp->inj_head = rq;
		qp->inj_tail = rq;
	}
	log_debug("SQ %u: %s (0x%02x) cid %u %s by injection", qp->sq.qid, vfn_nvme_opcode_str(false, sqe->opcode),
		  sqe->opcode, rq->cid, r.hold ? "held back" : "completed");
	vfn_nvme_qpair_update_hooks(qp);
	return true;
}

int vfn_nvme_inject_deliver(struct vfn_nvme_qpair *qp)
{
	struct vfn_rq *rq = qp->inj_head, *next;
	struct vfn_nvme_cqe c;
	int n = 0;

	qp->inj_head = qp->inj_tail = NULL;
	vfn_nvme_qpair_update_hooks(qp);
	for (; rq; rq = next) {
		next = rq->inj_next;
		if (rq->state != VFN_RQ_INFLIGHT)
			continue;
		c = rq->cqe;
		rq->state = VFN_RQ_DONE;
		rq->cqe = c;
		if (qp->hooks & VFN_QP_HOOK_LOG)
			vfn_nvme_cmdlog_complete(qp, rq, &c);
		qp->rqs.stats.completed++;
		n++;
		vfn_rq_call(qp, rq, &c);
	}
	return n;
}
