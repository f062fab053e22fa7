/* SPDX-License-Identifier: MIT */
/*
 * The reset storm: 1000 controller resets (STORM_RESETS) with I/O in
 * flight on 4 queue pairs of the simulated controller, under randomly
 * injected faults — dropped and delayed commands, CSTS.CFS, timeouts
 * escalated through Abort, a controller that never becomes ready on some
 * restarts.  Checks that every command completes exactly once (success or
 * an error), that a request without a callback stays its caller's, that
 * every call on a controller whose reset failed returns -EIO, and that
 * data written before each reset reads back intact.  Memory errors and
 * leaks are for ASan and valgrind (suite memcheck) to find.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>

#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define NR_QP 4
#define ENTRIES 16		     /* per queue: 15 requests */
#define MAX_OPS (ENTRIES - 2)	     /* commands in flight per pair (one request stays for the raw one) */
#define LBAS 64			     /* each pair owns LBAs [qid * LBAS, qid * LBAS + LBAS) */
#define TIMEOUT_MS 2000u	     /* the pairs' timeout: checks run on made-up clocks, never wait for it */
#define NEVER_READY_EVERY 250	     /* one restart in that many never becomes ready (each costs CAP.TO) */
#define SPEC "sim:lbads=9,nsze=4096" /* 512-byte blocks */
#define RB_PER_QP 2		     /* LBAs read back per pair after each reset */

enum {
	OP_FREE,
	OP_ISSUED
};

struct storm;

/* One asynchronous command the storm issued; one buffer each. */
struct op {
	struct storm *st;
	int state;
	unsigned int qp;
	uint32_t lba;
	bool write;
	uint32_t gen; /* the pattern written */
	uint8_t *buf;
};

/* What the storm knows about one LBA of a pair. */
struct lba_state {
	bool busy;    /* a command on it is in flight */
	bool unknown; /* a write to it failed: its contents are either version */
	uint32_t gen; /* pattern it holds (0: zeros, never written) */
};

struct storm {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	struct vfn_nvme_qpair *qp[NR_QP];
	struct vfn_nvme_ns_info ns;
	uint8_t *mem; /* op buffers, then the read-back buffers */
	size_t mem_len;
	uint8_t *rb_buf[NR_QP * RB_PER_QP];
	struct op ops[NR_QP][MAX_OPS];
	struct lba_state lbas[NR_QP][LBAS];
	unsigned int inflight[NR_QP];
	uint32_t gen;
	uint64_t rng;
	bool resetting; /* callbacks running inside vfn_nvme_ctrl_reset() */
	/* counts */
	unsigned long issued, ok, failed, resubmitted, refused, checked, raw, resets, failed_resets, timeouts, fatals;
};

static uint32_t rnd(struct storm *st, uint32_t n)
{
	/* xorshift64*: reproducible from the seed */
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return (uint32_t)((st->rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static uint8_t pattern(unsigned int qp, uint32_t lba, uint32_t gen, size_t i)
{
	return gen ? (uint8_t)(gen * 131 + qp * 17 + lba * 7 + i) : 0;
}

static void check_data(struct storm *st, unsigned int qp, uint32_t lba, const uint8_t *buf)
{
	const struct lba_state *l = &st->lbas[qp][lba];

	if (l->unknown)
		return;
	for (size_t i = 0; i < st->ns.lba_size; i++) {
		if (buf[i] != pattern(qp, lba, l->gen, i))
			fail_msg("pair %u LBA %u byte %zu: 0x%02x, expected version %u (0x%02x)", qp, lba, i, buf[i],
				 l->gen, pattern(qp, lba, l->gen, i));
	}
	st->checked++;
}

static int issue(struct storm *st, unsigned int qp);

static void op_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct op *op = rq->opaque;
	struct storm *st = op->st;
	struct lba_state *l = &st->lbas[op->qp][op->lba];
	bool ok = !rq->err && !vfn_nvme_cqe_status(cqe);

	/* Exactly once: a second completion of the same command finds the op free. */
	assert_int_equal(op->state, OP_ISSUED);
	assert_ptr_equal(qp, st->qp[op->qp]);
	if (st->resetting || rq->err)
		assert_int_equal(vfn_nvme_reg_read32(st->ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, 0);
	op->state = OP_FREE;
	st->inflight[op->qp]--;
	l->busy = false;
	if (ok)
		st->ok++;
	else
		st->failed++;
	if (op->write) {
		/* A write that failed may or may not have reached the medium. */
		l->unknown = !ok;
		if (ok)
			l->gen = op->gen;
	} else if (ok) {
		check_data(st, op->qp, op->lba, op->buf);
	}
	/* Callbacks may give their request back themselves, and submit more (refused during a reset). */
	if (rnd(st, 4) == 0)
		vfn_rq_free(qp, rq);
	if (rnd(st, 3) == 0) {
		int ret = issue(st, op->qp);

		if (!ret)
			st->resubmitted++;
		else if (ret != -EBUSY)
			st->refused++;
		if (st->resetting)
			assert_int_not_equal(ret, 0);
	}
}

/* Issues one read or write on a free LBA of pair @qp; 0, -EBUSY (nothing free) or the post's error. */
static int issue(struct storm *st, unsigned int qp)
{
	struct op *op = NULL;
	uint32_t lba = rnd(st, LBAS);
	int ret;

	for (unsigned int i = 0; i < MAX_OPS && !op; i++)
		if (st->ops[qp][i].state == OP_FREE)
			op = &st->ops[qp][i];
	for (unsigned int n = 0; n < LBAS && st->lbas[qp][lba].busy; n++)
		lba = (lba + 1) % LBAS;
	if (!op || st->lbas[qp][lba].busy)
		return -EBUSY;
	*op = (struct op){ .st = st, .state = OP_ISSUED, .qp = qp, .lba = lba, .write = rnd(st, 2), .buf = op->buf };
	if (op->write) {
		op->gen = ++st->gen;
		for (size_t i = 0; i < st->ns.lba_size; i++)
			op->buf[i] = pattern(qp, lba, op->gen, i);
		ret = vfn_nvme_write_async(st->qp[qp], &st->ns, (uint64_t)qp * LBAS + lba, 1, op->buf, rnd(st, 2),
					   op_done, op);
	} else {
		memset(op->buf, 0xa5, st->ns.lba_size);
		ret = vfn_nvme_read_async(st->qp[qp], &st->ns, (uint64_t)qp * LBAS + lba, 1, op->buf, rnd(st, 2),
					  op_done, op);
	}
	if (ret) {
		op->state = OP_FREE;
		return ret;
	}
	st->lbas[qp][lba].busy = true;
	st->inflight[qp]++;
	st->issued++;
	return 0;
}

static void arm(struct storm *st, enum vfn_sim_fault_action action, unsigned int qp, uint32_t delay_ms)
{
	struct vfn_sim_fault f = {
		.action = action,
		.sqid = (int)qp + 1,
		.opcode = rnd(st, 2) ? VFN_NVME_CMD_WRITE : VFN_NVME_CMD_READ,
		.nth = 1 + rnd(st, 4),
		.delay_ms = delay_ms,
	};

	assert_int_equal(vfn_sim_fault_add(st->sim, &f), 0);
}

/* Arms this round's command faults: drops, short delays (they complete) and long ones (a reset ends them). */
static void arm_faults(struct storm *st)
{
	for (unsigned int n = rnd(st, 4); n; n--) {
		unsigned int qp = rnd(st, NR_QP);

		switch (rnd(st, 3)) {
		case 0:
			arm(st, VFN_SIM_FAULT_DROP, qp, 0);
			break;
		case 1:
			arm(st, VFN_SIM_FAULT_DELAY, qp, 1 + rnd(st, 5));
			break;
		default:
			arm(st, VFN_SIM_FAULT_DELAY, qp, 10000);
			break;
		}
	}
}

/* Fills every pair, rings, reaps a little: some complete, the rest stays in flight. */
static void run_io(struct storm *st)
{
	for (unsigned int q = 0; q < NR_QP; q++) {
		unsigned int want = rnd(st, MAX_OPS + 1);

		while (st->inflight[q] < want && !issue(st, q))
			;
		vfn_nvme_qpair_submit(st->qp[q]);
	}
	for (unsigned int round = rnd(st, 3); round; round--)
		for (unsigned int q = 0; q < NR_QP; q++)
			vfn_nvme_qpair_reap(st->qp[q], (int)rnd(st, 4));
}

/*
 * Timeouts on a made-up clock: a pair's commands expire, Abort goes out
 * (a dropped command is not found), the second expiry quiesces the
 * controller and fails them.
 */
static void expire(struct storm *st)
{
	struct vfn_nvme_qpair *qp = st->qp[rnd(st, NR_QP)];
	uint64_t t0 = vfn_now_ns(), t = (uint64_t)TIMEOUT_MS * 1000000;
	int n = 0;

	for (int i = 0; i < 3; i++) {
		int ret = vfn_nvme_qpair_check_timeouts(qp, t0 + (uint64_t)i * t);

		assert_true(ret >= 0);
		n += ret;
	}
	st->timeouts += (unsigned long)n;
}

/* CSTS.CFS: the next check quiesces the controller and fails that pair's commands. */
static void fatal(struct storm *st)
{
	vfn_sim_fault_fatal(st->sim);
	assert_true(vfn_nvme_qpair_check_timeouts(st->qp[rnd(st, NR_QP)], 0) >= 0);
	assert_int_equal(vfn_nvme_ctrl_failed(st->ctrl), -ECANCELED);
	st->fatals++;
}

/* A raw request without a callback, posted on pair 0: the caller's through whatever comes. */
static struct vfn_rq *raw_post(struct storm *st)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_rq *rq = vfn_rq_alloc(st->qp[0]);

	if (!rq)
		return NULL;
	if (vfn_rq_post(st->qp[0], rq, &sqe)) {
		vfn_rq_free(st->qp[0], rq);
		return NULL;
	}
	vfn_nvme_qpair_submit(st->qp[0]);
	st->raw++;
	return rq;
}

/* After a reset the raw request is DONE (completed or failed) and still not free; its owner frees it. */
static void raw_check(struct storm *st, struct vfn_rq *rq)
{
	if (!rq)
		return;
	assert_int_equal(rq->state, VFN_RQ_DONE);
	assert_true(rq->err == 0 || rq->err == -ECANCELED || rq->err == -ETIMEDOUT);
	vfn_rq_free(st->qp[0], rq);
}

/* A controller whose reset failed: every call says -EIO, nothing crashes. */
static void check_dead(struct storm *st)
{
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];

	assert_int_equal(vfn_nvme_ctrl_failed(st->ctrl), -EIO);
	for (unsigned int q = 0; q < NR_QP; q++) {
		assert_int_equal(st->inflight[q], 0);
		vfn_nvme_qpair_submit(st->qp[q]);
		assert_int_equal(vfn_nvme_qpair_reap(st->qp[q], 0), 0);
		assert_int_equal(issue(st, q), -EIO);
		assert_int_equal(vfn_nvme_qpair_check_timeouts(st->qp[q], 0), 0);
	}
	assert_int_equal(vfn_nvme_identify(st->ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), -EIO);
}

static void reset(struct storm *st, bool never_ready)
{
	int ret;

	vfn_sim_fault_never_ready(st->sim, never_ready);
	st->resetting = true;
	ret = vfn_nvme_ctrl_reset(st->ctrl);
	st->resetting = false;
	st->resets++;
	/* Whatever was outstanding completed, once. */
	for (unsigned int q = 0; q < NR_QP; q++)
		assert_int_equal(st->inflight[q], 0);
	if (never_ready) {
		assert_int_equal(ret, -ETIMEDOUT);
		st->failed_resets++;
		check_dead(st);
		vfn_sim_fault_never_ready(st->sim, false);
		st->resetting = true;
		ret = vfn_nvme_ctrl_reset(st->ctrl);
		st->resetting = false;
		st->resets++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(vfn_nvme_ctrl_failed(st->ctrl), 0);
	vfn_sim_fault_clear(st->sim);
}

struct rb {
	struct storm *st;
	unsigned int qp;
	uint32_t lba;
	uint8_t *buf;
	bool done;
};

static void rb_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct rb *r = rq->opaque;

	(void)qp;
	assert_false(r->done);
	assert_int_equal(rq->err, 0);
	assert_int_equal(vfn_nvme_cqe_status(cqe), 0);
	check_data(r->st, r->qp, r->lba, r->buf);
	r->done = true;
}

/* Data written before the reset reads back: two LBAs of each pair, all read at once. */
static void read_back(struct storm *st)
{
	struct rb rb[NR_QP * RB_PER_QP];
	uint64_t deadline = vfn_now_ns() + 10000000000ull;
	unsigned int n = 0, done;

	for (unsigned int q = 0; q < NR_QP; q++) {
		for (unsigned int i = 0; i < RB_PER_QP; i++, n++) {
			rb[n] = (struct rb){ .st = st, .qp = q, .lba = rnd(st, LBAS), .buf = st->rb_buf[n] };
			memset(rb[n].buf, 0x5a, st->ns.lba_size);
			assert_int_equal(vfn_nvme_read_async(st->qp[q], &st->ns, (uint64_t)q * LBAS + rb[n].lba, 1,
							     rb[n].buf, false, rb_done, &rb[n]),
					 0);
		}
		vfn_nvme_qpair_submit(st->qp[q]);
	}
	do {
		done = 0;
		for (unsigned int q = 0; q < NR_QP; q++)
			vfn_nvme_qpair_reap(st->qp[q], 0);
		for (unsigned int i = 0; i < n; i++)
			done += rb[i].done;
	} while (done < n && vfn_now_ns() < deadline);
	assert_int_equal(done, n);
}

static void aer_cb(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	(void)ctrl;
	(void)dw0;
	(void)arg;
}

static void storm_open(struct storm *st, uint64_t seed)
{
	struct vfn_nvme_qpair_opts qo = { .entries = ENTRIES, .timeout_ms = TIMEOUT_MS };
	uint64_t iova;

	memset(st, 0, sizeof(*st));
	st->rng = seed ? seed : 1;
	assert_int_equal(vfn_nvme_ctrl_open(SPEC, NULL, &st->ctrl), 0);
	st->sim = vfn_sim_from_hw(&st->ctrl->hw);
	assert_int_equal(vfn_nvme_ns_get_info(st->ctrl, 1, &st->ns), 0);
	assert_int_equal(vfn_nvme_aer_set_callback(st->ctrl, aer_cb, NULL), 0);
	for (unsigned int q = 0; q < NR_QP; q++) {
		qo.irq = q & 1;
		assert_int_equal(vfn_nvme_qpair_create(st->ctrl, (uint16_t)(q + 1), &qo, &st->qp[q]), 0);
	}
	st->mem_len = (size_t)(NR_QP * MAX_OPS + NR_QP * RB_PER_QP) * st->ns.lba_size;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(st->ctrl), st->mem_len, (void **)&st->mem, &iova) > 0);
	for (unsigned int q = 0; q < NR_QP; q++)
		for (unsigned int i = 0; i < MAX_OPS; i++)
			st->ops[q][i].buf = st->mem + (size_t)(q * MAX_OPS + i) * st->ns.lba_size;
	for (unsigned int i = 0; i < NR_QP * RB_PER_QP; i++)
		st->rb_buf[i] = st->mem + (size_t)(NR_QP * MAX_OPS + i) * st->ns.lba_size;
}

static void storm_close(struct storm *st)
{
	vfn_dma_free(vfn_nvme_ctrl_iommu(st->ctrl), st->mem, st->mem_len);
	for (unsigned int q = 0; q < NR_QP; q++)
		vfn_nvme_qpair_destroy(st->qp[q]);
	vfn_nvme_ctrl_close(st->ctrl);
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static void test_reset_storm(void **state)
{
	unsigned long resets = env_ul("STORM_RESETS", 1000), seed = env_ul("STORM_SEED", 0x5eed);
	struct storm *st = calloc(1, sizeof(*st));

	(void)state;
	assert_non_null(st);
	storm_open(st, seed);
	for (unsigned long i = 0; i < resets; i++) {
		struct vfn_rq *raw;
		uint32_t what = rnd(st, 10);

		arm_faults(st);
		run_io(st);
		raw = rnd(st, 4) ? NULL : raw_post(st);
		if (what == 0)
			fatal(st);
		else if (what == 1)
			expire(st);
		reset(st, i % NEVER_READY_EVERY == NEVER_READY_EVERY / 2);
		raw_check(st, raw);
		read_back(st);
	}
	storm_close(st);
	printf("# storm (seed %#lx): %lu resets (%lu failed), %lu commands (%lu ok, %lu failed, %lu submitted from "
	       "callbacks, %lu refused there), %lu raw, %lu timed out, %lu CSTS.CFS, %lu data checks\n",
	       seed, st->resets, st->failed_resets, st->issued, st->ok, st->failed, st->resubmitted, st->refused,
	       st->raw, st->timeouts, st->fatals, st->checked);
	assert_int_equal(st->issued, st->ok + st->failed);
	assert_true(st->resets >= resets);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
