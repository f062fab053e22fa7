/* SPDX-License-Identifier: MIT */
/*
 * Queues: doorbells, SQE fetch, CQE post, interrupts, delayed commands.
 */
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"
#include "support/log.h"

#define SQ_BURST 64			/* SQEs fetched from one SQ per pass, for fairness */
#define SIM_EVENT_ERROR 0x0		/* Asynchronous Event Type: Error status */
#define SIM_EVENT_INVALID_DB_VALUE 0x01 /* Invalid Doorbell Write Value */
#define SIM_IC_THR_MASK 0xffu		/* Interrupt Coalescing: Aggregation Threshold, 0's based */
#define SIM_IC_TIME_MASK 0xff00u	/* Aggregation Time, 100 us units; 0: no delay */
#define SIM_IC_TIME_UNIT_NS 100000u

static uint32_t *doorbell(struct vfn_sim *sim, uint16_t qid, bool cq)
{
	return (uint32_t *)(sim->regs + VFN_NVME_REG_DBS + (2u * qid + (cq ? 1 : 0)) * 4);
}

/* The shadow doorbell (@eventidx false) or EventIdx entry of an I/O queue, or NULL. */
static uint32_t *dbbuf_entry(struct vfn_sim *sim, uint16_t qid, bool cq, bool eventidx)
{
	uint64_t base = eventidx ? sim->dbbuf_eis : sim->dbbuf_dbs;

	if (!qid || !base)
		return NULL;
	return vfn_sim_dma_ptr(sim, base + (2u * qid + (cq ? 1 : 0)) * 4, sizeof(uint32_t));
}

/*
 * Pairs with the host's wmb before its doorbell (or shadow doorbell) store:
 * the SQEs are visible after this load.
 */
static uint32_t doorbell_load(struct vfn_sim *sim, uint16_t qid, bool cq)
{
	uint32_t *shadow = dbbuf_entry(sim, qid, cq, false);

	if (shadow)
		return le32toh(__atomic_load_n(shadow, __ATOMIC_ACQUIRE));
	return le32toh(__atomic_load_n(doorbell(sim, qid, cq), __ATOMIC_ACQUIRE));
}

/* The number of entries of queue @qid. */
static uint32_t queue_size(const struct vfn_sim *sim, uint16_t qid, bool cq)
{
	return cq ? sim->cqs[qid].size : sim->sqs[qid].size;
}

/*
 * Keeps EventIdx one entry behind @v (a queue index, so modulo the queue
 * size): the host's next update never crosses it, so it skips the MMIO write.
 */
static void eventidx_store(struct vfn_sim *sim, uint16_t qid, bool cq, uint32_t v)
{
	uint32_t *ei = dbbuf_entry(sim, qid, cq, true);
	uint32_t size = queue_size(sim, qid, cq);

	if (ei && size)
		__atomic_store_n(ei, htole32((v % size + size - 1) % size), __ATOMIC_RELEASE);
}

void vfn_sim_dbbuf_init(struct vfn_sim *sim, uint16_t qid, bool cq)
{
	uint32_t *shadow = dbbuf_entry(sim, qid, cq, false);
	uint32_t v = le32toh(__atomic_load_n(doorbell(sim, qid, cq), __ATOMIC_ACQUIRE));

	if (!shadow)
		return;
	__atomic_store_n(shadow, htole32(v), __ATOMIC_RELEASE);
	eventidx_store(sim, qid, cq, v);
}

void vfn_sim_doorbells_clear(struct vfn_sim *sim, uint16_t qid, bool all)
{
	uint16_t first = all ? 0 : qid, last = all ? VFN_SIM_NR_IO_QUEUES : qid;

	for (uint16_t q = first; q <= last; q++) {
		__atomic_store_n(doorbell(sim, q, false), 0, __ATOMIC_RELEASE);
		__atomic_store_n(doorbell(sim, q, true), 0, __ATOMIC_RELEASE);
	}
}

/* Queues an Invalid Doorbell Write Value event for the host's next AER (once per bad value). */
static void bad_doorbell(struct vfn_sim *sim, uint16_t qid, bool cq, uint32_t v, uint32_t *seen)
{
	if (*seen == v)
		return;
	*seen = v;
	log_debug("sim: invalid %s doorbell value %u for queue %u", cq ? "CQ head" : "SQ tail", v, qid);
	vfn_sim_event_queue(sim, SIM_EVENT_ERROR, SIM_EVENT_INVALID_DB_VALUE, VFN_NVME_LOG_ERROR, true);
}

bool vfn_sim_cq_has_room(const struct vfn_sim *sim, uint16_t sqid)
{
	const struct vfn_sim_cq *cq = &sim->cqs[sim->sqs[sqid].cqid];

	/* A CQ that is not there has no room (and no size to divide by). */
	if (!cq->valid || cq->size < 2)
		return false;
	return (cq->tail + 1) % cq->size != cq->head;
}

static void err_log_add(struct vfn_sim *sim, uint16_t sqid, uint16_t cid, uint16_t status)
{
	uint8_t *e = sim->stats.err_log[0];
	uint64_t count = ++sim->stats.errors;
	vfn_le64 c = vfn_cpu_to_le64(count);
	vfn_le16 s = vfn_cpu_to_le16(sqid), i = vfn_cpu_to_le16(cid), st = vfn_cpu_to_le16((uint16_t)(status << 1));
	vfn_le16 loc = vfn_cpu_to_le16(0xffff); /* parameter error location: not reported */

	memmove(sim->stats.err_log[1], sim->stats.err_log[0], sizeof(sim->stats.err_log) - 64);
	memset(e, 0, 64);
	memcpy(e, &c, 8);
	memcpy(e + 8, &s, 2);
	memcpy(e + 10, &i, 2);
	memcpy(e + 12, &st, 2);
	memcpy(e + 14, &loc, 2);
}

/* Whether @cqid's interrupts wait for Interrupt Coalescing: never for the admin CQ, nor with CD or TIME 0. */
static bool irq_coalesced(const struct vfn_sim *sim, uint16_t cqid)
{
	return cqid && (sim->feat.irq_coalesce & SIM_IC_TIME_MASK) &&
	       !(sim->feat.irq_config[sim->cqs[cqid].iv] & VFN_SIM_IRQ_CD);
}

/* Whether @cqid's pending completions are to be signalled now; *@now is read once, lazily. */
static bool irq_due(const struct vfn_sim *sim, uint16_t cqid, uint64_t *now)
{
	const struct vfn_sim_cq *cq = &sim->cqs[cqid];
	uint32_t thr = sim->feat.irq_coalesce & SIM_IC_THR_MASK;
	uint64_t time_ns = (uint64_t)((sim->feat.irq_coalesce & SIM_IC_TIME_MASK) >> 8) * SIM_IC_TIME_UNIT_NS;

	if (!irq_coalesced(sim, cqid) || cq->irq_pending > thr)
		return true;
	if (!*now)
		*now = vfn_now_ns();
	return *now - cq->irq_since_ns >= time_ns;
}

/* Posts one CQE; @phase_flip posts it with the previous pass's phase (a fault). */
static void cq_post(struct vfn_sim *sim, uint16_t sqid, uint16_t cid, uint32_t dw0, uint16_t status, bool phase_flip)
{
	struct vfn_sim_sq *sq = &sim->sqs[sqid];
	struct vfn_sim_cq *cq = &sim->cqs[sq->cqid];
	struct vfn_nvme_cqe *cqe = vfn_sim_dma_ptr(sim, cq->iova + (uint64_t)cq->tail * sizeof(*cqe), sizeof(*cqe));
	uint16_t phase = cq->phase ^ (phase_flip ? 1 : 0);

	if (status & 0x7ff)
		err_log_add(sim, sqid, cid, status);
	if (!cqe) {
		log_err("sim: CQ %u memory at %#llx is not mapped; completion lost", sq->cqid,
			(unsigned long long)cq->iova);
		return;
	}
	cqe->dw0 = vfn_cpu_to_le32(dw0);
	cqe->dw1 = vfn_cpu_to_le32(sim->cqe_dw1);
	sim->cqe_dw1 = 0;
	cqe->sqhd = vfn_cpu_to_le16(sq->head);
	cqe->sqid = vfn_cpu_to_le16(sqid);
	cqe->cid = vfn_cpu_to_le16(cid);
	/* The phase tag last: pairs with the host's read of it before dma_rmb and the rest. */
	__atomic_store_n(&cqe->sfp, vfn_cpu_to_le16((uint16_t)(status << 1 | phase)), __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	if (cq->ien && !cq->irq_pending++ && irq_coalesced(sim, sq->cqid))
		cq->irq_since_ns = vfn_now_ns();
}

void vfn_sim_post(struct vfn_sim *sim, uint16_t sqid, uint16_t cid, uint32_t dw0, uint16_t status)
{
	cq_post(sim, sqid, cid, dw0, status, false);
}

void vfn_sim_irqs_flush(struct vfn_sim *sim)
{
	uint64_t now = 0;

	for (uint16_t i = 0; i <= VFN_SIM_NR_IO_QUEUES; i++) {
		struct vfn_sim_cq *cq = &sim->cqs[i];
		uint64_t one = 1;
		int efd;

		if (!cq->irq_pending || !irq_due(sim, i, &now))
			continue;
		cq->irq_pending = 0;
		efd = __atomic_load_n(&sim->efds[cq->iv], __ATOMIC_ACQUIRE);
		if (efd >= 0 && write(efd, &one, sizeof(one)) != sizeof(one))
			log_debug("sim: interrupt vector %u: eventfd write failed", cq->iv);
	}
}

/* Command errors are not worth retrying (Do Not Retry), but for transfer errors and aborts. */
static uint16_t with_dnr(uint16_t status)
{
	switch (status) {
	case VFN_NVME_SC_SUCCESS:
	case VFN_SIM_STATUS_DEFERRED:
	case VFN_NVME_SC_DATA_XFER_ERROR:
	case VFN_NVME_SC_ABORT_REQ:
	case VFN_NVME_SC_ABORT_QUEUE:
		return status;
	default:
		return status | 0x4000;
	}
}

static uint16_t exec(struct vfn_sim *sim, uint16_t sqid, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint16_t status;

	*dw0 = 0;
	sim->cqe_dw1 = 0;
	status = vfn_sim_mgmt_gate(sim, sqid, sqe); /* a sanitize holds most commands off */
	if (!status && sqid == 0)
		status = vfn_sim_admin_exec(sim, sqe, dw0);
	else if (!status)
		status = vfn_sim_nvm_exec(sim, sqe, dw0);
	if (status && status != VFN_SIM_STATUS_DEFERRED)
		log_debug("sim: sq %u cid %u %s rejected: %s (0x%x)", sqid, vfn_le16_to_cpu(sqe->cid),
			  vfn_nvme_opcode_str(sqid == 0, sqe->opcode), vfn_nvme_status_str(status), status);
	return with_dnr(status);
}

/* Holds @sqe back for @delay_ms; completes it at once if there is no room to hold it. */
static bool delay_cmd(struct vfn_sim *sim, uint16_t sqid, const struct vfn_nvme_sqe *sqe, uint32_t delay_ms)
{
	for (unsigned int i = 0; i < VFN_SIM_MAX_DELAYED; i++) {
		struct vfn_sim_delayed *d = &sim->delayed[i];

		if (d->used)
			continue;
		*d = (struct vfn_sim_delayed){
			.used = true, .sqid = sqid, .sqe = *sqe, .due_ns = vfn_now_ns() + (uint64_t)delay_ms * 1000000
		};
		sim->nr_delayed++;
		return true;
	}
	log_debug("sim: no room to delay a command; running it now");
	return false;
}

bool vfn_sim_sq_holds(struct vfn_sim *sim, uint16_t sqid, uint16_t cid)
{
	struct vfn_sim_sq *sq = &sim->sqs[sqid];
	uint32_t tail = doorbell_load(sim, sqid, false);

	if (!sq->valid || tail >= sq->size)
		return false;
	for (uint32_t i = sq->head; i != tail; i = (i + 1) % sq->size) {
		struct vfn_nvme_sqe *p = vfn_sim_dma_ptr(sim, sq->iova + (uint64_t)i * sizeof(*p), sizeof(*p));

		if (p && vfn_le16_to_cpu(p->cid) == cid)
			return true;
	}
	return false;
}

/* True (and the abort consumed) if the host asked to abort this fetched command. */
static bool abort_pending(struct vfn_sim *sim, uint16_t sqid, uint16_t cid)
{
	for (unsigned int i = 0; i < sim->nr_aborts; i++) {
		if (sim->aborts[i].sqid != sqid || sim->aborts[i].cid != cid)
			continue;
		sim->aborts[i] = sim->aborts[--sim->nr_aborts];
		return true;
	}
	return false;
}

/* Runs a fetched command under the armed faults. */
static void run_cmd(struct vfn_sim *sim, uint16_t sqid, const struct vfn_nvme_sqe *sqe)
{
	uint16_t cid = vfn_le16_to_cpu(sqe->cid), status = 0;
	uint32_t dw0 = 0, delay_ms = 0;
	enum vfn_sim_verdict v;

	if (sim->nr_aborts && abort_pending(sim, sqid, cid)) {
		vfn_sim_post(sim, sqid, cid, 0, VFN_NVME_SC_ABORT_REQ);
		return;
	}
	v = vfn_sim_fault_check(sim, sqid, sqe->opcode, &status, &delay_ms);
	switch (v) {
	case VFN_SIM_DELAY:
		if (delay_cmd(sim, sqid, sqe, delay_ms))
			return;
		break;
	case VFN_SIM_STATUS:
		vfn_sim_post(sim, sqid, cid, 0, status);
		return;
	default:
		break;
	}
	status = exec(sim, sqid, sqe, &dw0);
	if (status == VFN_SIM_STATUS_DEFERRED || v == VFN_SIM_DROP)
		return;
	if (v == VFN_SIM_RUN_WRONG_CID)
		cid = (uint16_t)~cid;
	cq_post(sim, sqid, cid, dw0, status, v == VFN_SIM_RUN_WRONG_PHASE);
}

/* Fetches and runs what the host queued on @sqid, while its CQ has room. */
static bool sq_step(struct vfn_sim *sim, uint16_t sqid, unsigned int max)
{
	struct vfn_sim_sq *sq = &sim->sqs[sqid];
	uint32_t tail = doorbell_load(sim, sqid, false);
	unsigned int n = 0;

	if (tail >= sq->size) {
		bad_doorbell(sim, sqid, false, tail, &sq->db_seen);
		return false;
	}
	if (tail != sq->db_seen) {
		sq->db_seen = tail;
		eventidx_store(sim, sqid, false, tail);
	}
	/*
	 * shadow_miss: EventIdx follows the shadow tail, as above, but the
	 * SQEs are fetched only up to the tail the MMIO doorbell announced.
	 */
	if (sim->opts.shadow_miss && sqid && sim->dbbuf_dbs) {
		tail = le32toh(__atomic_load_n(doorbell(sim, sqid, false), __ATOMIC_ACQUIRE));
		if (tail >= sq->size)
			return false; /* not a value the host wrote: nothing announced yet */
	}
	while (sq->head != tail && n < max && sq->valid && vfn_sim_cq_has_room(sim, sqid)) {
		struct vfn_nvme_sqe *p = vfn_sim_dma_ptr(sim, sq->iova + (uint64_t)sq->head * sizeof(*p), sizeof(*p));
		struct vfn_nvme_sqe sqe;

		if (!p) {
			log_err("sim: SQ %u memory at %#llx is not mapped", sqid, (unsigned long long)sq->iova);
			return n > 0;
		}
		sqe = *p;
		if (++sq->head == sq->size)
			sq->head = 0;
		if (sqid)
			sim->fetch_log[sim->nr_fetched++ % 256] = sqid;
		run_cmd(sim, sqid, &sqe);
		n++;
	}
	return n > 0;
}

static bool cq_step(struct vfn_sim *sim, uint16_t cqid)
{
	struct vfn_sim_cq *cq = &sim->cqs[cqid];
	uint32_t head = doorbell_load(sim, cqid, true);

	if (head == cq->head)
		return false;
	if (head >= cq->size) {
		bad_doorbell(sim, cqid, true, head, &cq->db_seen);
		return false;
	}
	cq->head = head;
	eventidx_store(sim, cqid, true, head);
	return true;
}

/* Runs the delayed commands that are due (the SQ may be gone: dropped then). */
static bool delayed_step(struct vfn_sim *sim)
{
	uint64_t now = vfn_now_ns();
	bool did = false;

	for (unsigned int i = 0; i < VFN_SIM_MAX_DELAYED && sim->nr_delayed; i++) {
		struct vfn_sim_delayed *d = &sim->delayed[i];
		uint32_t dw0 = 0;
		uint16_t status;

		if (!d->used || now < d->due_ns || !vfn_sim_cq_has_room(sim, d->sqid))
			continue;
		d->used = false;
		sim->nr_delayed--;
		status = exec(sim, d->sqid, &d->sqe, &dw0);
		if (status != VFN_SIM_STATUS_DEFERRED)
			vfn_sim_post(sim, d->sqid, vfn_le16_to_cpu(d->sqe.cid), dw0, status);
		did = true;
	}
	return did;
}

/*
 * One round of weighted round robin with urgent priority (CC.AMS 001b):
 * the admin SQ, then urgent SQs (QPRIO 0) as strict priority, then each
 * high, medium and low SQ for its class's weight + 1 commands (Arbitration
 * feature HPW/MPW/LPW), at most 2^AB at a time (AB 7: no limit).
 */
static bool wrr_step(struct vfn_sim *sim)
{
	uint32_t arb = sim->feat.arbitration, ab = arb & 7;
	unsigned int burst = ab == 7 ? SQ_BURST : 1u << ab;
	unsigned int weight[4] = { SQ_BURST, ((arb >> 24) & 0xff) + 1, ((arb >> 16) & 0xff) + 1,
				   ((arb >> 8) & 0xff) + 1 };
	bool did = false;

	if (sim->sqs[0].valid)
		did |= sq_step(sim, 0, SQ_BURST);
	for (unsigned int prio = 0; prio < 4; prio++) {
		unsigned int max = prio && weight[prio] > burst ? burst : weight[prio];

		for (uint16_t q = 1; q <= VFN_SIM_NR_IO_QUEUES; q++)
			if (sim->sqs[q].valid && sim->sqs[q].qprio == prio)
				did |= sq_step(sim, q, max);
	}
	return did;
}

bool vfn_sim_queues_step(struct vfn_sim *sim)
{
	bool did = false;

	for (uint16_t q = 0; q <= VFN_SIM_NR_IO_QUEUES; q++)
		if (sim->cqs[q].valid)
			did |= cq_step(sim, q);
	if (sim->nr_delayed)
		did |= delayed_step(sim);
	if (((sim->cc >> VFN_NVME_CC_AMS_SHIFT) & 7) == 1)
		return wrr_step(sim) || did;
	for (uint16_t q = 0; q <= VFN_SIM_NR_IO_QUEUES; q++)
		if (sim->sqs[q].valid)
			did |= sq_step(sim, q, SQ_BURST);
	return did;
}
