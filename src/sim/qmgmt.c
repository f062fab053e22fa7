/* SPDX-License-Identifier: MIT */
/* Queue management admin commands, Abort, and Asynchronous Event Requests. */
#include <string.h>

#include "sim/sim.h"
#include "support/log.h"

static uint32_t cdw(vfn_le32 v)
{
	return vfn_le32_to_cpu(v);
}

/* Checks what Create I/O SQ and CQ share: QSIZE, PC and a page-aligned base. */
static uint16_t create_common(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t qsize)
{
	uint64_t base = vfn_le64_to_cpu(sqe->dptr.prp1);

	if (qsize < 1 || qsize > sim->opts.mqes) {
		log_debug("sim: queue size %u (0's based) outside 1..%u", qsize, sim->opts.mqes);
		return VFN_NVME_SC_QUEUE_SIZE;
	}
	if (!(cdw(sqe->cdw11) & 1)) {
		log_debug("sim: queue not physically contiguous (CAP.CQR is set)");
		return VFN_NVME_SC_INVALID_FIELD;
	}
	if (!base || (base & (sim->page_size - 1))) {
		log_debug("sim: queue base %#llx not page-aligned", (unsigned long long)base);
		return VFN_NVME_SC_INVALID_PRP_OFFSET;
	}
	return VFN_NVME_SC_SUCCESS;
}

uint16_t vfn_sim_create_cq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint32_t cdw10 = cdw(sqe->cdw10), cdw11 = cdw(sqe->cdw11);
	uint32_t qid = cdw10 & 0xffff, qsize = cdw10 >> 16, iv = cdw11 >> 16;
	bool ien = cdw11 & 2;
	uint16_t sc;

	if (!qid || qid > sim->nr_io_cq || sim->cqs[qid].valid) {
		log_debug("sim: Create I/O CQ: invalid queue id %u", qid);
		return VFN_NVME_SC_QID_INVALID;
	}
	sc = create_common(sim, sqe, qsize);
	if (sc)
		return sc;
	if (iv >= sim->opts.vectors) {
		log_debug("sim: Create I/O CQ: interrupt vector %u beyond %u", iv, sim->opts.vectors);
		return VFN_NVME_SC_INVALID_VECTOR;
	}
	vfn_sim_doorbells_clear(sim, (uint16_t)qid, false);
	sim->cqs[qid] = (struct vfn_sim_cq){ .valid = true,
					     .iova = vfn_le64_to_cpu(sqe->dptr.prp1),
					     .size = qsize + 1,
					     .phase = 1,
					     .ien = ien,
					     .iv = (uint16_t)iv };
	vfn_sim_dbbuf_init(sim, (uint16_t)qid, true);
	return VFN_NVME_SC_SUCCESS;
}

uint16_t vfn_sim_create_sq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint32_t cdw10 = cdw(sqe->cdw10), cdw11 = cdw(sqe->cdw11);
	uint32_t qid = cdw10 & 0xffff, qsize = cdw10 >> 16, cqid = cdw11 >> 16;
	uint16_t sc;

	if (!qid || qid > sim->nr_io_sq || sim->sqs[qid].valid) {
		log_debug("sim: Create I/O SQ: invalid queue id %u", qid);
		return VFN_NVME_SC_QID_INVALID;
	}
	if (!cqid || cqid > VFN_SIM_NR_IO_QUEUES || !sim->cqs[cqid].valid) {
		log_debug("sim: Create I/O SQ: completion queue %u does not exist", cqid);
		return VFN_NVME_SC_CQ_INVALID;
	}
	sc = create_common(sim, sqe, qsize);
	if (sc)
		return sc;
	/* The tail doorbell only: the CQ head doorbell of the same id belongs to a live CQ. */
	__atomic_store_n((uint32_t *)(sim->regs + VFN_NVME_REG_DBS + 8 * qid), 0, __ATOMIC_RELEASE);
	sim->sqs[qid] = (struct vfn_sim_sq){
		.valid = true, .iova = vfn_le64_to_cpu(sqe->dptr.prp1), .size = qsize + 1, .cqid = (uint16_t)cqid
	};
	sim->sqs[qid].qprio = (uint8_t)((cdw11 >> 1) & 3);
	vfn_sim_dbbuf_init(sim, (uint16_t)qid, false);
	sim->cqs[cqid].nr_sqs++;
	return VFN_NVME_SC_SUCCESS;
}

uint16_t vfn_sim_delete_cq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint32_t qid = cdw(sqe->cdw10) & 0xffff;

	if (!qid || qid > VFN_SIM_NR_IO_QUEUES || !sim->cqs[qid].valid) {
		log_debug("sim: Delete I/O CQ: invalid queue id %u", qid);
		return VFN_NVME_SC_QID_INVALID;
	}
	if (sim->cqs[qid].nr_sqs) {
		log_debug("sim: Delete I/O CQ %u: %u SQ(s) still post to it", qid, sim->cqs[qid].nr_sqs);
		return VFN_NVME_SC_INVALID_QUEUE_DELETION;
	}
	sim->cqs[qid].valid = false;
	sim->cqs[qid].irq_pending = 0; /* no interrupt, coalesced or not, for a deleted queue */
	__atomic_store_n((uint32_t *)(sim->regs + VFN_NVME_REG_DBS + 8 * qid + 4), 0, __ATOMIC_RELEASE);
	return VFN_NVME_SC_SUCCESS;
}

/* Completes the held-back commands of @sqid with Command Aborted due to SQ Deletion. */
static void abort_delayed_of(struct vfn_sim *sim, uint16_t sqid)
{
	for (unsigned int i = 0; i < VFN_SIM_MAX_DELAYED && sim->nr_delayed; i++) {
		struct vfn_sim_delayed *d = &sim->delayed[i];

		if (!d->used || d->sqid != sqid)
			continue;
		d->used = false;
		sim->nr_delayed--;
		if (vfn_sim_cq_has_room(sim, sqid))
			vfn_sim_post(sim, sqid, vfn_le16_to_cpu(d->sqe.cid), 0, VFN_NVME_SC_ABORT_QUEUE);
	}
}

uint16_t vfn_sim_delete_sq(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint32_t qid = cdw(sqe->cdw10) & 0xffff;

	if (!qid || qid > VFN_SIM_NR_IO_QUEUES || !sim->sqs[qid].valid) {
		log_debug("sim: Delete I/O SQ: invalid queue id %u", qid);
		return VFN_NVME_SC_QID_INVALID;
	}
	abort_delayed_of(sim, (uint16_t)qid);
	for (unsigned int i = 0; i < sim->nr_aborts; i++)
		if (sim->aborts[i].sqid == qid)
			sim->aborts[i--] = sim->aborts[--sim->nr_aborts];
	sim->cqs[sim->sqs[qid].cqid].nr_sqs--;
	sim->sqs[qid].valid = false;
	__atomic_store_n((uint32_t *)(sim->regs + VFN_NVME_REG_DBS + 8 * qid), 0, __ATOMIC_RELEASE);
	return VFN_NVME_SC_SUCCESS;
}

/* Marks a command the host queued but the controller has not fetched yet; true if found. */
static bool abort_queued(struct vfn_sim *sim, uint16_t sqid, uint16_t cid)
{
	if (sqid > VFN_SIM_NR_IO_QUEUES || sim->nr_aborts > VFN_SIM_ACL || !vfn_sim_sq_holds(sim, sqid, cid))
		return false;
	sim->aborts[sim->nr_aborts].sqid = sqid;
	sim->aborts[sim->nr_aborts++].cid = cid;
	return true;
}

uint16_t vfn_sim_abort(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe, uint32_t *dw0)
{
	uint32_t cdw10 = cdw(sqe->cdw10);
	uint16_t sqid = cdw10 & 0xffff, cid = (uint16_t)(cdw10 >> 16);

	*dw0 = 1; /* bit 0 set: not aborted */
	if (abort_queued(sim, sqid, cid)) {
		*dw0 = 0;
		return VFN_NVME_SC_SUCCESS;
	}
	for (unsigned int i = 0; i < VFN_SIM_MAX_DELAYED && sim->nr_delayed; i++) {
		struct vfn_sim_delayed *d = &sim->delayed[i];

		if (!d->used || d->sqid != sqid || vfn_le16_to_cpu(d->sqe.cid) != cid ||
		    !vfn_sim_cq_has_room(sim, sqid))
			continue;
		d->used = false;
		sim->nr_delayed--;
		vfn_sim_post(sim, sqid, cid, 0, VFN_NVME_SC_ABORT_REQ);
		*dw0 = 0;
		break;
	}
	return VFN_NVME_SC_SUCCESS;
}

uint16_t vfn_sim_aer(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	if (sim->nr_aers > VFN_SIM_AERL) {
		log_debug("sim: more than %u Asynchronous Event Requests outstanding", VFN_SIM_AERL + 1);
		return VFN_NVME_SC_ASYNC_LIMIT;
	}
	sim->aer_cids[sim->nr_aers++] = vfn_le16_to_cpu(sqe->cid);
	return VFN_SIM_STATUS_DEFERRED;
}

/* Index of the oldest waiting event not masked, or -1. Under the lock. */
static int aen_next(const struct vfn_sim *sim)
{
	for (int i = 0; i < sim->nr_events; i++)
		if (!sim->events[i].maskable || !(sim->aen_masked >> (sim->events[i].dw0 & 0x7) & 1))
			return i;
	return -1;
}

/* Takes the oldest unmasked waiting event into *@event; false if there is none. */
static bool aen_take(struct vfn_sim *sim, struct vfn_sim_event *event)
{
	int i;

	pthread_mutex_lock(&sim->lock);
	i = aen_next(sim);
	if (i >= 0) {
		*event = sim->events[i];
		memmove(&sim->events[i], &sim->events[i + 1], (size_t)(sim->nr_events - i - 1) * sizeof(*event));
		__atomic_store_n(&sim->nr_events, sim->nr_events - 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sim->lock);
	return i >= 0;
}

/* Further events of the type of @dw0 wait until the host reads its log page (RAE clear). */
static void aen_mask(struct vfn_sim *sim, uint32_t dw0)
{
	sim->aen_masked |= (uint8_t)(1u << (dw0 & 0x7));
	sim->aen_lid[dw0 & 0x7] = (uint8_t)(dw0 >> 16);
}

bool vfn_sim_aer_step(struct vfn_sim *sim)
{
	struct vfn_sim_event event;
	bool did = false;

	while (sim->nr_aers && __atomic_load_n(&sim->nr_events, __ATOMIC_ACQUIRE) && vfn_sim_cq_has_room(sim, 0) &&
	       aen_take(sim, &event)) {
		if (event.maskable)
			aen_mask(sim, event.dw0);
		vfn_sim_post(sim, 0, sim->aer_cids[0], event.dw0, VFN_NVME_SC_SUCCESS);
		sim->nr_aers--;
		memmove(&sim->aer_cids[0], &sim->aer_cids[1], sim->nr_aers * sizeof(sim->aer_cids[0]));
		did = true;
	}
	return did;
}

void vfn_sim_aen_clear(struct vfn_sim *sim, uint8_t lid)
{
	for (unsigned int t = 0; t < 8; t++)
		if (sim->aen_lid[t] == lid)
			sim->aen_masked &= (uint8_t) ~(1u << t);
}

uint16_t vfn_sim_dbbuf_config(struct vfn_sim *sim, const struct vfn_nvme_sqe *sqe)
{
	uint64_t dbs = vfn_le64_to_cpu(sqe->dptr.prp1), eis = vfn_le64_to_cpu(sqe->dptr.prp2);
	size_t ps = sim->page_size;

	if (!dbs || !eis || (dbs & (ps - 1)) || (eis & (ps - 1)) || (sqe->flags & 0xc0) ||
	    !vfn_sim_dma_ptr(sim, dbs, ps) || !vfn_sim_dma_ptr(sim, eis, ps)) {
		log_debug("sim: Doorbell Buffer Config: buffers %#llx/%#llx not mapped page-aligned pages",
			  (unsigned long long)dbs, (unsigned long long)eis);
		return VFN_NVME_SC_INVALID_FIELD;
	}
	sim->dbbuf_dbs = dbs;
	sim->dbbuf_eis = eis;
	for (uint16_t q = 1; q <= VFN_SIM_NR_IO_QUEUES; q++) {
		if (sim->sqs[q].valid)
			vfn_sim_dbbuf_init(sim, q, false);
		if (sim->cqs[q].valid)
			vfn_sim_dbbuf_init(sim, q, true);
	}
	return VFN_NVME_SC_SUCCESS;
}
