/* SPDX-License-Identifier: MIT */
/*
 * The reset storm against a real controller: QEMU's, through VFIO in the
 * guest (run by test-io.sh in the io boot, which then checks the kernel
 * log for IOMMU faults), or the simulated one on the host (storm-io-sim).
 * VFN_TEST_STORM_RESETS resets (default 100) with I/O in flight on four
 * queue pairs (two with interrupts), each reset from a different state:
 * commands still queued, completed but not reaped, timed out on a
 * made-up clock (Abort sent to the controller, then the escalation that
 * quiesces it), held back or completed by driver-side injection.  Every
 * command must complete exactly once, the callbacks of failed commands run
 * with the controller stopped, and data written before each reset reads
 * back.  Public API only.
 *   VFN_BDF            the controller's address, or a sim: device string
 *   VFN_TEST_LBA_SIZE  namespace 1's logical block size
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

#include <vfn/vfn.h>

#define NR_QP 4
#define ENTRIES 32
#define MAX_OPS 24	  /* commands in flight per pair */
#define LBAS 256	  /* pair q owns LBAs FIRST_LBA + q * LBAS .. + LBAS - 1 */
#define FIRST_LBA 8192	  /* clear of what the other guest tests write */
#define TIMEOUT_MS 10000u /* only made-up clocks reach it */

struct storm;

struct op {
	struct storm *st;
	bool busy;
	unsigned int qp;
	uint32_t lba;
	bool write;
	uint32_t gen;
	uint8_t *buf;
};

struct lba_state {
	bool busy, unknown;
	uint32_t gen; /* 0: not written by the storm yet: not checked */
	bool written;
};

struct storm {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_iommu *iommu;
	struct vfn_nvme_qpair *qp[NR_QP];
	struct vfn_nvme_ns_info ns;
	uint8_t *mem;
	size_t mem_len;
	struct op ops[NR_QP][MAX_OPS];
	struct lba_state lbas[NR_QP][LBAS];
	unsigned int inflight[NR_QP];
	uint32_t gen;
	uint64_t rng;
	bool in_reset;
	unsigned long issued, ok, failed, checked, resets, aborted, deleted, expired, injected;
};

static uint32_t rnd(struct storm *st, uint32_t n)
{
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return (uint32_t)((st->rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static uint64_t lba_of(unsigned int qp, uint32_t lba)
{
	return FIRST_LBA + (uint64_t)qp * LBAS + lba;
}

/* Every 8-byte word names its LBA, its index and the version: misplaced or stale data shows. */
static void fill(const struct storm *st, uint8_t *buf, uint64_t lba, uint32_t gen)
{
	for (size_t i = 0; i < st->ns.lba_size / 8; i++) {
		uint64_t v = (uint64_t)gen << 40 ^ lba << 12 ^ i;

		memcpy(buf + i * 8, &v, 8);
	}
}

static void check(struct storm *st, unsigned int qp, uint32_t lba, const uint8_t *buf)
{
	const struct lba_state *l = &st->lbas[qp][lba];
	uint8_t *want;

	if (!l->written || l->unknown)
		return;
	want = malloc(st->ns.lba_size);
	assert_non_null(want);
	fill(st, want, lba_of(qp, lba), l->gen);
	if (memcmp(want, buf, st->ns.lba_size))
		fail_msg("pair %u LBA %llu does not hold version %u", qp, (unsigned long long)lba_of(qp, lba), l->gen);
	free(want);
	st->checked++;
}

static void op_done(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct op *op = rq->opaque;
	struct storm *st = op->st;
	struct lba_state *l = &st->lbas[op->qp][op->lba];
	uint16_t status = vfn_nvme_cqe_status(cqe) & 0x7ff;
	bool ok = !rq->err && !status;

	assert_true(op->busy); /* exactly once */
	assert_ptr_equal(qp, st->qp[op->qp]);
	/* Failed by the driver (but for a command injection held back, never sent), or completed
	 * during a reset: the controller is stopped. */
	if ((rq->err && !(rq->flags & VFN_RQ_F_HELD)) || st->in_reset)
		assert_int_equal(vfn_nvme_reg_read32(st->ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, 0);
	if (status == VFN_NVME_SC_ABORT_REQ)
		st->aborted++;
	if (status == VFN_NVME_SC_ABORT_QUEUE)
		st->deleted++; /* ended by the controller: its SQ was deleted before the disable */
	if (rq->err == -ETIMEDOUT)
		st->expired++;
	op->busy = false;
	l->busy = false;
	st->inflight[op->qp]--;
	if (ok)
		st->ok++;
	else
		st->failed++;
	if (op->write) {
		l->unknown = !ok;
		if (ok) {
			l->gen = op->gen;
			l->written = true;
		}
	} else if (ok) {
		check(st, op->qp, op->lba, op->buf);
	}
}

static int issue(struct storm *st, unsigned int qp)
{
	struct op *op = NULL;
	uint32_t lba = rnd(st, LBAS);
	int ret;

	for (unsigned int i = 0; i < MAX_OPS && !op; i++)
		if (!st->ops[qp][i].busy)
			op = &st->ops[qp][i];
	for (unsigned int n = 0; n < LBAS && st->lbas[qp][lba].busy; n++)
		lba = (lba + 1) % LBAS;
	if (!op || st->lbas[qp][lba].busy)
		return -EBUSY;
	op->busy = true;
	op->qp = qp;
	op->lba = lba;
	op->write = rnd(st, 2);
	if (op->write) {
		op->gen = ++st->gen;
		fill(st, op->buf, lba_of(qp, lba), op->gen);
		ret = vfn_nvme_write_async(st->qp[qp], &st->ns, lba_of(qp, lba), 1, op->buf, rnd(st, 2), op_done, op);
	} else {
		memset(op->buf, 0xa5, st->ns.lba_size);
		ret = vfn_nvme_read_async(st->qp[qp], &st->ns, lba_of(qp, lba), 1, op->buf, rnd(st, 2), op_done, op);
	}
	if (ret) {
		op->busy = false;
		return ret;
	}
	st->lbas[qp][lba].busy = true;
	st->inflight[qp]++;
	st->issued++;
	return 0;
}

/* Driver-side injection on a pair: statuses and held-back commands (never sent). */
static void inject(struct storm *st, unsigned int qp)
{
	uint8_t opcode = rnd(st, 2) ? VFN_NVME_CMD_WRITE : VFN_NVME_CMD_READ;

	if (rnd(st, 2))
		assert_int_equal(vfn_nvme_inject_status(st->qp[qp], opcode, 1 + rnd(st, 3), VFN_NVME_SC_INTERNAL), 0);
	else
		assert_int_equal(vfn_nvme_inject_timeout(st->qp[qp], opcode, 1 + rnd(st, 2)), 0);
	st->injected++;
}

/* Timeouts on a made-up clock: Abort goes to the controller, the next expiry quiesces it. */
static void expire(struct storm *st, unsigned int qp)
{
	uint64_t t0 = vfn_now_ns(), t = (uint64_t)TIMEOUT_MS * 1000000;

	for (int i = 0; i < 3; i++)
		assert_true(vfn_nvme_qpair_check_timeouts(st->qp[qp], t0 + (uint64_t)i * t) >= 0);
}

/* A synchronous write of one LBA per pair: known data for the read-backs after the reset. */
static void write_known(struct storm *st)
{
	uint8_t *buf = st->mem + st->mem_len - st->ns.lba_size;

	for (unsigned int q = 0; q < NR_QP; q++) {
		uint32_t lba = rnd(st, LBAS);
		struct lba_state *l = &st->lbas[q][lba];

		l->gen = ++st->gen;
		fill(st, buf, lba_of(q, lba), l->gen);
		assert_int_equal(vfn_nvme_write(st->qp[q], &st->ns, lba_of(q, lba), 1, buf, NULL, NULL), 0);
		l->written = true;
		l->unknown = false;
	}
}

static void round_io(struct storm *st)
{
	write_known(st);
	for (unsigned int q = 0; q < NR_QP; q++) {
		unsigned int want = 1 + rnd(st, MAX_OPS);

		if (!rnd(st, 8))
			inject(st, q);
		while (st->inflight[q] < want && !issue(st, q))
			;
		if (rnd(st, 4))
			vfn_nvme_qpair_submit(st->qp[q]); /* else: posted, never rung before the reset */
	}
	for (unsigned int q = 0; q < NR_QP; q++)
		if (rnd(st, 2))
			vfn_nvme_qpair_reap(st->qp[q], (int)rnd(st, 8));
	if (!rnd(st, 6))
		expire(st, rnd(st, NR_QP));
}

static void reset(struct storm *st)
{
	st->in_reset = true;
	assert_int_equal(vfn_nvme_ctrl_reset(st->ctrl), 0);
	st->in_reset = false;
	st->resets++;
	for (unsigned int q = 0; q < NR_QP; q++) {
		assert_int_equal(st->inflight[q], 0);
		vfn_nvme_inject_clear(st->qp[q]);
	}
}

/* Data written before the reset reads back: three LBAs of each pair, synchronously. */
static void read_back(struct storm *st)
{
	uint8_t *buf = st->mem + st->mem_len - st->ns.lba_size;

	for (unsigned int q = 0; q < NR_QP; q++)
		for (int i = 0; i < 3; i++) {
			uint32_t lba = rnd(st, LBAS);

			memset(buf, 0x5a, st->ns.lba_size);
			assert_int_equal(vfn_nvme_read(st->qp[q], &st->ns, lba_of(q, lba), 1, buf, NULL, NULL), 0);
			check(st, q, lba, buf);
		}
}

static void storm_open(struct storm *st)
{
	struct vfn_nvme_qpair_opts qo = { .entries = ENTRIES, .timeout_ms = TIMEOUT_MS };
	const char *lba_size = getenv("VFN_TEST_LBA_SIZE");
	uint64_t iova;

	assert_non_null(getenv("VFN_BDF"));
	assert_int_equal(vfn_nvme_ctrl_open(getenv("VFN_BDF"), NULL, &st->ctrl), 0);
	st->iommu = vfn_nvme_ctrl_iommu(st->ctrl);
	assert_int_equal(vfn_nvme_ns_get_info(st->ctrl, 1, &st->ns), 0);
	if (lba_size)
		assert_int_equal(st->ns.lba_size, strtoul(lba_size, NULL, 0));
	assert_true(st->ns.nsze >= FIRST_LBA + NR_QP * LBAS);
	for (unsigned int q = 0; q < NR_QP; q++) {
		qo.irq = q & 1;
		assert_int_equal(vfn_nvme_qpair_create(st->ctrl, (uint16_t)(q + 1), &qo, &st->qp[q]), 0);
	}
	st->mem_len = (size_t)(NR_QP * MAX_OPS + 1) * st->ns.lba_size;
	assert_true(vfn_dma_alloc(st->iommu, st->mem_len, (void **)&st->mem, &iova) > 0);
	for (unsigned int q = 0; q < NR_QP; q++)
		for (unsigned int i = 0; i < MAX_OPS; i++)
			st->ops[q][i] =
				(struct op){ .st = st, .buf = st->mem + (size_t)(q * MAX_OPS + i) * st->ns.lba_size };
}

static void test_reset_storm(void **state)
{
	const char *n = getenv("VFN_TEST_STORM_RESETS");
	unsigned long resets = n ? strtoul(n, NULL, 0) : 100;
	struct storm *st = calloc(1, sizeof(*st));

	(void)state;
	assert_non_null(st);
	st->rng = 0x5707e;
	storm_open(st);
	for (unsigned long i = 0; i < resets; i++) {
		round_io(st);
		reset(st);
		read_back(st);
	}
	printf("# %lu resets, %lu commands (%lu ok, %lu failed; %lu aborted by Abort, %lu by SQ deletion, %lu expired), "
	       "%lu injection rules, %lu data checks\n",
	       st->resets, st->issued, st->ok, st->failed, st->aborted, st->deleted, st->expired, st->injected,
	       st->checked);
	assert_int_equal(st->issued, st->ok + st->failed);
	assert_true(st->checked > 0);
	vfn_dma_free(st->iommu, st->mem, st->mem_len);
	for (unsigned int q = 0; q < NR_QP; q++)
		vfn_nvme_qpair_destroy(st->qp[q]);
	vfn_nvme_ctrl_close(st->ctrl);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
