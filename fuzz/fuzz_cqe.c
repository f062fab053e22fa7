/* SPDX-License-Identifier: MIT */
/*
 * Completion processing fed with arbitrary CQEs.  One simulated controller
 * ("sim:nil=1") with four I/O queue pairs (2, 5 and 32 entries polled, 8
 * entries with an interrupt vector: a head doorbell write per reap) is opened
 * once.  The controller never fetches from them: their SQ doorbells are
 * never rung, so the sim stays a well-behaved bystander and this harness
 * plays the misbehaving device, writing CQEs straight into the CQ ring —
 * any command id, SQ id, status, SQ head, DW0/DW1, with the right or the
 * wrong phase tag, at any slot — between posts, frees and reaps of
 * vfn_nvme_qpair_reap() with any budget.
 *
 * A model of the tracker follows every step and checks: nothing is
 * completed twice; a CQE naming another SQ, an unknown command id or a
 * request not in flight is dropped and counted in qp->rqs.stats, one of an
 * abandoned request releases it; every callback (and every DONE request)
 * gets exactly its CQE; reap consumes exactly the run of CQEs carrying the
 * current phase (up to its budget), stopping right after delivering a
 * completion that leaves every request free; the SQ head follows the completions;
 * the free list is exactly the FREE requests; and after draining every
 * request is free again.  The queue pair is then put back in its initial
 * state, so each input runs from the same start.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>

#include "input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_QP 4
#define MAX_OPS 96
#define MAX_ENTRIES 32 /* the largest queue pair */
#define MAX_RQ (MAX_ENTRIES - 1)

static const uint32_t qp_entries[NR_QP] = { 2, 5, 32, 8 };
static const bool qp_irq[NR_QP] = { false, false, false, true };
static struct vfn_nvme_ctrl *ctrl;
static struct vfn_nvme_qpair *qps[NR_QP];

enum cb_mode {
	CB_NONE,   /* no callback: the request stays DONE */
	CB_PLAIN,  /* released by reap after the callback */
	CB_FREE,   /* the callback frees the request itself */
	CB_REPOST, /* the callback frees it, takes a request again and posts it */
	NR_CB_MODES,
};

/* What the tracker should look like. */
struct model {
	struct vfn_nvme_qpair *qp;
	uint8_t state[MAX_RQ];
	uint8_t mode[MAX_RQ];
	struct vfn_nvme_cqe cqe[MAX_RQ]; /* the completion a DONE request holds */
	struct vfn_rq_stats stats;
	uint16_t sq_head, sq_tail;
	/* The reap in progress: the ring as it was, and how far it has been delivered. */
	struct vfn_nvme_cqe ring[MAX_ENTRIES];
	uint16_t head;
	int run, done; /* CQEs reap will consume; those accounted for */
	bool draining;
};

static struct model m;

static struct vfn_nvme_sqe flush_sqe(void)
{
	struct vfn_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = VFN_NVME_CMD_FLUSH;
	sqe.nsid = vfn_cpu_to_le32(1);
	return sqe;
}

/* Posts @rq (ALLOCATED) as the model predicts: in flight, or -EBUSY and freed when the SQ is full. */
static void post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, uint8_t mode)
{
	struct vfn_nvme_sqe sqe = flush_sqe();
	bool full = (uint16_t)((m.sq_tail + 1u) % qp->sq.entries) == m.sq_head;
	int ret = vfn_rq_post(qp, rq, &sqe);

	if (full) {
		assert(ret == -EBUSY && rq->state == VFN_RQ_ALLOCATED);
		vfn_rq_free(qp, rq);
		m.state[rq->cid] = VFN_RQ_FREE;
		return;
	}
	assert(ret == 0 && rq->state == VFN_RQ_INFLIGHT);
	assert(vfn_le16_to_cpu(qp->sq.sqes[m.sq_tail].cid) == rq->cid);
	m.sq_tail = (uint16_t)((m.sq_tail + 1u) % qp->sq.entries);
	m.state[rq->cid] = VFN_RQ_INFLIGHT;
	m.mode[rq->cid] = mode;
}

/*
 * Accounts for the next CQE of the snapshot as reap must have handled it;
 * returns the request it was delivered to (state now DONE in the model), or
 * -1 if it was dropped.
 */
static int model_consume(void)
{
	const struct vfn_nvme_cqe *c = &m.ring[(m.head + m.done) % m.qp->cq.entries];
	uint16_t cid = vfn_le16_to_cpu(c->cid), sqhd = vfn_le16_to_cpu(c->sqhd);

	assert(m.done < m.run);
	m.done++;
	if (vfn_le16_to_cpu(c->sqid) != m.qp->sq.qid) {
		m.stats.wrong_sqid++;
		return -1;
	}
	if (cid >= m.qp->rqs.nr) {
		m.stats.bad_cid++;
		return -1;
	}
	if (m.state[cid] == VFN_RQ_ABANDONED) {
		m.stats.late++;
		m.state[cid] = VFN_RQ_FREE;
		return -1;
	}
	if (m.state[cid] != VFN_RQ_INFLIGHT) {
		m.stats.not_inflight++;
		return -1;
	}
	if (sqhd < m.qp->sq.entries)
		m.sq_head = sqhd;
	m.stats.completed++;
	m.state[cid] = VFN_RQ_DONE;
	m.cqe[cid] = *c;
	return cid;
}

/* After delivering a completion that leaves every request free, reap stops looking. */
static void model_stop_if_idle(void)
{
	for (unsigned int i = 0; i < m.qp->rqs.nr; i++)
		if (m.state[i] != VFN_RQ_FREE)
			return;
	m.run = m.done;
}

/* Runs the model up to the completion that should reach a callback next (or to the end of the run). */
static int model_next_callback(void)
{
	while (m.done < m.run) {
		int cid = model_consume();

		if (cid >= 0 && m.mode[cid] != CB_NONE)
			return cid;
	}
	return -1;
}

static void cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int cid = model_next_callback();

	assert(qp == m.qp && cid == rq->cid && rq->state == VFN_RQ_DONE);
	assert(!memcmp(cqe, &m.cqe[cid], sizeof(*cqe)) && !memcmp(&rq->cqe, cqe, sizeof(*cqe)));
	assert(qp->sq.head == m.sq_head);
	if (m.mode[cid] == CB_PLAIN) {
		m.state[cid] = VFN_RQ_FREE; /* reap releases it after the callback */
		model_stop_if_idle();
		return;
	}
	vfn_rq_free(qp, rq);
	assert(rq->state == VFN_RQ_FREE);
	m.state[cid] = VFN_RQ_FREE;
	if (m.mode[cid] == CB_REPOST && !m.draining) {
		struct vfn_rq *again = vfn_rq_alloc(qp);

		assert(again == rq && !again->cb); /* the one just freed is on top */
		again->cb = cb;
		m.state[cid] = VFN_RQ_ALLOCATED;
		post(qp, again, CB_REPOST);
	}
	model_stop_if_idle();
}

/* How many CQEs reap(@max) must consume: the run carrying the expected phase. */
static int phase_run(const struct vfn_nvme_qpair *qp, int max)
{
	uint16_t head = qp->cq.head, phase = qp->cq.phase;
	int n = 0;

	while ((max <= 0 || n < max) && (vfn_le16_to_cpu(m.ring[head].sfp) & 1) == phase) {
		n++;
		if (++head == qp->cq.entries) {
			head = 0;
			phase ^= 1;
		}
	}
	return n;
}

static void check_tracker(const struct vfn_nvme_qpair *qp)
{
	const struct vfn_rq *rq = qp->rqs.free;
	unsigned int nr_free = 0, walked = 0;

	for (unsigned int i = 0; i < qp->rqs.nr; i++) {
		assert(qp->rqs.rqs[i].cid == i && qp->rqs.rqs[i].state == m.state[i]);
		nr_free += m.state[i] == VFN_RQ_FREE;
		if (m.state[i] == VFN_RQ_DONE)
			assert(!memcmp(&qp->rqs.rqs[i].cqe, &m.cqe[i], sizeof(m.cqe[i])));
	}
	for (; rq && walked <= qp->rqs.nr; rq = rq->next, walked++)
		assert(rq->state == VFN_RQ_FREE);
	assert(!rq && walked == nr_free && qp->rqs.nr_free == nr_free);
	assert(!memcmp(&qp->rqs.stats, &m.stats, sizeof(m.stats)));
	assert(qp->sq.head == m.sq_head && qp->sq.tail == m.sq_tail);
}

static void reap(struct vfn_nvme_qpair *qp, int max)
{
	int n;

	memcpy(m.ring, qp->cq.cqes, qp->cq.entries * sizeof(m.ring[0]));
	m.head = qp->cq.head;
	m.run = phase_run(qp, max);
	m.done = 0;
	n = vfn_nvme_qpair_reap(qp, max);
	assert(n == m.run);
	assert(model_next_callback() < 0); /* every callback was made */
	assert(qp->cq.head == (m.head + n) % qp->cq.entries);
	check_tracker(qp);
	/* The head doorbell: always current with a vector; polled, never so stale the CQ could overflow. */
	if (qp->efd >= 0)
		assert(qp->cq.db_head == qp->cq.head);
	else
		assert((qp->cq.head + qp->cq.entries - qp->cq.db_head) % qp->cq.entries + qp->rqs.nr -
			       qp->rqs.nr_free <=
		       qp->cq.entries - 1u);
}

/* The phase tag the CQE at @slot must carry to be seen on the current pass. */
static uint16_t slot_phase(const struct vfn_nvme_qpair *qp, uint16_t slot)
{
	return slot >= qp->cq.head ? qp->cq.phase : qp->cq.phase ^ 1;
}

/* Writes a CQE of the fuzzer's making somewhere in the ring. */
static void write_cqe(struct vfn_nvme_qpair *qp, struct input *in)
{
	uint16_t slot = (uint16_t)((qp->cq.head + in_u8(in)) % qp->cq.entries);
	uint8_t flags = in_u8(in);
	uint16_t cid = (flags & 1) ? in_u16(in) : (uint16_t)(in_u8(in) % (qp->rqs.nr + 2));
	uint16_t sqid = (flags & 2) ? in_u16(in) : qp->sq.qid;
	uint16_t sqhd = (flags & 4) ? in_u16(in) : (uint16_t)(in_u8(in) % qp->sq.entries);
	uint16_t status = in_u16(in) & 0x7fff;
	uint16_t phase = slot_phase(qp, slot) ^ ((flags & 8) ? 1 : 0);
	struct vfn_nvme_cqe *c = &qp->cq.cqes[slot];

	c->dw0 = vfn_cpu_to_le32(in_u32(in));
	c->dw1 = (flags & 16) ? vfn_cpu_to_le32(in_u32(in)) : 0;
	c->sqhd = vfn_cpu_to_le16(sqhd);
	c->sqid = vfn_cpu_to_le16(sqid);
	c->cid = vfn_cpu_to_le16(cid);
	c->sfp = vfn_cpu_to_le16((uint16_t)(status << 1 | phase));
}

static void op_alloc(struct vfn_nvme_qpair *qp, bool and_post, uint8_t mode)
{
	struct vfn_rq *rq = vfn_rq_alloc(qp);

	if (!rq) {
		for (unsigned int i = 0; i < qp->rqs.nr; i++)
			assert(m.state[i] != VFN_RQ_FREE);
		return;
	}
	assert(m.state[rq->cid] == VFN_RQ_FREE && rq->state == VFN_RQ_ALLOCATED && !rq->cb);
	m.state[rq->cid] = VFN_RQ_ALLOCATED;
	if (!and_post)
		return;
	rq->cb = mode == CB_NONE ? NULL : cb;
	post(qp, rq, mode);
}

static void op_free(struct vfn_nvme_qpair *qp, uint16_t cid)
{
	uint8_t *s = &m.state[cid];

	vfn_rq_free(qp, &qp->rqs.rqs[cid]);
	if (*s == VFN_RQ_INFLIGHT)
		*s = VFN_RQ_ABANDONED;
	else if (*s == VFN_RQ_ALLOCATED || *s == VFN_RQ_DONE)
		*s = VFN_RQ_FREE;
}

/* Completes everything still owed with good CQEs, frees what is held: all requests free again. */
static void drain(struct vfn_nvme_qpair *qp)
{
	uint16_t slot = qp->cq.head;

	m.draining = true;
	for (uint16_t s = 0; s < qp->cq.entries; s++)
		qp->cq.cqes[s].sfp = vfn_cpu_to_le16(slot_phase(qp, s) ^ 1);
	for (uint16_t cid = 0; cid < qp->rqs.nr; cid++) {
		struct vfn_nvme_cqe *c = &qp->cq.cqes[slot];

		if (m.state[cid] != VFN_RQ_INFLIGHT && m.state[cid] != VFN_RQ_ABANDONED)
			continue;
		memset(c, 0, sizeof(*c));
		c->sqhd = vfn_cpu_to_le16(0xffff); /* beyond the ring: ignored */
		c->sqid = vfn_cpu_to_le16(qp->sq.qid);
		c->cid = vfn_cpu_to_le16(cid);
		c->sfp = vfn_cpu_to_le16(slot_phase(qp, slot));
		slot = (uint16_t)((slot + 1u) % qp->cq.entries);
	}
	reap(qp, 0);
	for (uint16_t cid = 0; cid < qp->rqs.nr; cid++)
		op_free(qp, cid);
	check_tracker(qp);
	assert(qp->rqs.nr_free == qp->rqs.nr);
	m.draining = false;
}

/* Back to the state right after creation: empty rings, cid 0 on top of the free stack, no stats. */
static void reset(struct vfn_nvme_qpair *qp)
{
	qp->rqs.free = NULL;
	for (unsigned int i = qp->rqs.nr; i-- > 0;) {
		qp->rqs.rqs[i].next = qp->rqs.free;
		qp->rqs.free = &qp->rqs.rqs[i];
	}
	memset(&qp->rqs.stats, 0, sizeof(qp->rqs.stats));
	memset(qp->cq.cqes, 0, qp->cq.entries * sizeof(qp->cq.cqes[0]));
	qp->cq.head = 0;
	qp->cq.phase = 1;
	vfn_cq_write_head(&qp->cq, 0);
	qp->sq.head = qp->sq.tail = 0;
}

/* One step: the low 3 bits of the op byte choose it, the high bits are its argument. */
static void run_op(struct vfn_nvme_qpair *qp, struct input *in)
{
	uint8_t op = in_u8(in), arg = op >> 3;

	switch (op & 7) {
	case 0:
	case 1:
		op_alloc(qp, true, (uint8_t)(arg % NR_CB_MODES));
		break;
	case 2:
		op_alloc(qp, false, CB_NONE);
		break;
	case 3:
		op_free(qp, (uint16_t)(in_u8(in) % qp->rqs.nr));
		check_tracker(qp);
		break;
	case 4:
	case 5:
		write_cqe(qp, in);
		break;
	default:
		reap(qp, arg % 4);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vfn_nvme_qpair_opts o = { 0 };

	(void)argc;
	(void)argv;
	if (vfn_nvme_ctrl_open("sim:nil=1,nsze=64", NULL, &ctrl))
		abort();
	for (int i = 0; i < NR_QP; i++) {
		o.entries = qp_entries[i];
		o.irq = qp_irq[i];
		if (vfn_nvme_qpair_create(ctrl, (uint16_t)(i + 1), &o, &qps[i]))
			abort();
		assert(qps[i]->rqs.nr == qp_entries[i] - 1 && qps[i]->rqs.nr <= MAX_RQ);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct vfn_nvme_qpair *qp = qps[in_u8(&in) % NR_QP];

	memset(&m, 0, sizeof(m));
	m.qp = qp;
	for (int i = 0; i < MAX_OPS && in.left; i++)
		run_op(qp, &in);
	reap(qp, 0);
	drain(qp);
	reset(qp);
	return 0;
}
