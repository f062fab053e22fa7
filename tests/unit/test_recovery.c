/* SPDX-License-Identifier: MIT */
/*
 * Robustness of the I/O path against the simulated controller's faults:
 * request timeouts, Abort, controller failure (CSTS.CFS, surprise removal)
 * and reset with queue re-creation, asynchronous events, driver-side error
 * injection and the command log; the recovery contract (quiesce, then fail,
 * then free or re-create; who owns a request; what a failed reset leaves).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/dev.h>
#include <vfn/nvme.h>
#include <vfn/rq.h>

#include "iommu/iommu-priv.h"
#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define STATUS(cqe) (vfn_nvme_cqe_status(cqe) & 0x7ff)
#define TIMEOUT_MS 200u
#define BUF_LEN (16 * 4096)

struct env {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ns_info ns;
	uint8_t *buf; /* BUF_LEN bytes, DMA-mapped */
	uint64_t iova;
};

/* What a callback saw; with @ctrl set, also CC and CSTS at that moment. */
struct seen {
	int calls;
	int err;
	uint16_t status;
	uint16_t cid;
	struct vfn_nvme_ctrl *ctrl;
	uint32_t cc, csts;
};

static void seen_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct seen *s = rq->opaque;

	(void)qp;
	s->calls++;
	s->err = rq->err;
	s->status = STATUS(cqe);
	s->cid = rq->cid;
	if (s->ctrl) {
		s->cc = vfn_nvme_reg_read32(s->ctrl, VFN_NVME_REG_CC);
		s->csts = vfn_nvme_reg_read32(s->ctrl, VFN_NVME_REG_CSTS);
	}
}

/* The callback ran with the controller stopped: CC.EN=0 and CSTS.RDY=0 (no DMA any more). */
static void assert_quiesced_in_cb(const struct seen *s)
{
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->cc & VFN_NVME_CC_EN, 0);
	assert_int_equal(s->csts & VFN_NVME_CSTS_RDY, 0);
}

static void env_open(struct env *e, const char *spec)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 16, .timeout_ms = TIMEOUT_MS };

	memset(e, 0, sizeof(*e));
	assert_int_equal(vfn_nvme_ctrl_open(spec, NULL, &e->ctrl), 0);
	e->sim = vfn_sim_from_hw(&e->ctrl->hw);
	assert_non_null(e->sim);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 1, &qo, &e->qp), 0);
	assert_int_equal(vfn_nvme_ns_get_info(e->ctrl, 1, &e->ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(e->ctrl), BUF_LEN, (void **)&e->buf, &e->iova), BUF_LEN);
}

static void env_close(struct env *e)
{
	vfn_dma_free(vfn_nvme_ctrl_iommu(e->ctrl), e->buf, BUF_LEN);
	vfn_nvme_qpair_destroy(e->qp);
	vfn_nvme_ctrl_close(e->ctrl);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Writes a pattern of @blocks blocks at @slba, reads it back and compares. */
static void write_read_back(struct env *e, struct vfn_nvme_qpair *qp, uint64_t slba, uint32_t blocks, uint8_t seed)
{
	size_t len = (size_t)blocks * e->ns.lba_size;

	assert_true(2 * len <= BUF_LEN);
	for (size_t i = 0; i < len; i++)
		e->buf[i] = (uint8_t)(seed + i * 7);
	memset(e->buf + len, 0, len);
	assert_int_equal(vfn_nvme_write(qp, &e->ns, slba, blocks, e->buf, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, slba, blocks, e->buf + len, NULL, NULL), 0);
	assert_memory_equal(e->buf, e->buf + len, len);
}

/* Reaps until @s saw a completion (or about 2 s passed). */
static void reap_until(struct vfn_nvme_qpair *qp, const struct seen *s, int calls)
{
	for (int i = 0; i < 2000 && s->calls < calls; i++) {
		vfn_nvme_qpair_reap(qp, 0);
		if (s->calls < calls)
			sleep_ms(1);
	}
	assert_int_equal(s->calls, calls);
}

static int write_async(struct env *e, struct vfn_nvme_qpair *qp, uint64_t slba, struct seen *s)
{
	int ret = vfn_nvme_write_async(qp, &e->ns, slba, 1, e->buf, false, seen_cb, s);

	vfn_nvme_qpair_submit(qp);
	return ret;
}

static void arm(struct env *e, enum vfn_sim_fault_action action, uint8_t opcode, uint32_t delay_ms)
{
	struct vfn_sim_fault f = { .action = action, .sqid = 1, .opcode = opcode, .delay_ms = delay_ms };

	assert_int_equal(vfn_sim_fault_add(e->sim, &f), 0);
}

/*
 * The controller refuses Delete I/O SQ from now on: a quiesce cannot have
 * it abort its commands itself (it deletes a working controller's queues
 * first), the driver fails them.
 */
static void refuse_deletes(struct env *e)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_STATUS,
				   .sqid = 0,
				   .opcode = VFN_NVME_ADMIN_DELETE_SQ,
				   .repeat = true,
				   .status = VFN_NVME_SC_INTERNAL };

	assert_int_equal(vfn_sim_fault_add(e->sim, &f), 0);
}

/* Ended by the controller itself: its SQ was deleted before the disable (Command Aborted due to SQ Deletion). */
static void assert_aborted_by_deletion(const struct seen *s)
{
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->err, 0);
	assert_int_equal(s->status, VFN_NVME_SC_ABORT_QUEUE);
}

/* Arms @action (@delay_ms) for writes on the first pair, posts one write at LBA 0 and waits @wait_ms. */
static void faulted_write(struct env *e, enum vfn_sim_fault_action action, uint32_t delay_ms, struct seen *s,
			  unsigned int wait_ms)
{
	arm(e, action, VFN_NVME_CMD_WRITE, delay_ms);
	assert_int_equal(write_async(e, e->qp, 0, s), 0);
	sleep_ms(wait_ms);
}

#define T_NS (TIMEOUT_MS * 1000000ull)

/* A command held back by injection (never sent): the first check starts the clock, the next times it out. */
static void expect_held_timeout(struct vfn_nvme_qpair *qp, uint64_t t0)
{
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0 + T_NS), 1);
}

/*
 * A sent command that never completes: the first timeout sends Abort
 * (answered "not aborted": nothing completes), the second expires it: the
 * controller is quiesced, then the command fails with -ETIMEDOUT.
 */
static void expect_one_timeout(struct vfn_nvme_qpair *qp, uint64_t t0)
{
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0 + T_NS), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(qp->ctrl), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0 + 2 * T_NS), 1);
	assert_int_equal(vfn_nvme_ctrl_failed(qp->ctrl), -ECANCELED);
}

/*
 * A dropped completion: Abort first (the controller answers "not aborted",
 * the command keeps its callback), then it expires: the controller is
 * quiesced, the callback gets -ETIMEDOUT; a reset brings I/O back.
 */
static void test_timeout_then_reset(void **state)
{
	struct seen s = { 0 }, other = { 0 };
	uint64_t t0 = vfn_now_ns();
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	s.ctrl = e.ctrl;
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	assert_int_equal(write_async(&e, e.qp, 0, &s), 0);
	assert_int_equal(write_async(&e, e.qp, 1, &other), 0);
	reap_until(e.qp, &other, 1); /* the second one completes normally */
	assert_int_equal(other.status, 0);
	/* First check starts the clock, the one after the timeout sends Abort. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + T_NS - 1), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + T_NS), 0);
	assert_int_equal(s.calls, 0); /* not failed after Abort: the controller still has it */
	assert_int_equal(e.qp->rqs.rqs[s.cid].flags & VFN_RQ_F_ABORTED, VFN_RQ_F_ABORTED);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + 2 * T_NS - 1), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + 2 * T_NS), 1);
	assert_quiesced_in_cb(&s);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(s.status, VFN_NVME_SC_HOST_ABORTED);
	assert_int_equal(e.qp->rqs.stats.timed_out, 1);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	/* The controller is stopped: the command id came back with the callback. */
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	/* Checking again does not complete it twice. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + 10 * T_NS), 0);
	assert_int_equal(s.calls, 1);

	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	assert_int_equal(s.calls, 1);
	write_read_back(&e, e.qp, 8, 4, 0x11);
	env_close(&e);
}

/* A delayed command is aborted: it completes with Command Abort Requested. */
static void test_abort(void **state)
{
	struct seen s = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20); /* the controller fetches it and holds it back */
	vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(s.calls, 0);
	/* The first request of a new pair has command id 0. */
	assert_int_equal(vfn_nvme_abort(e.ctrl, 1, 0), 0);
	reap_until(e.qp, &s, 1);
	assert_int_equal(s.status, VFN_NVME_SC_ABORT_REQ);
	assert_int_equal(s.err, 0);
	/* Nothing left to abort. */
	assert_int_equal(vfn_nvme_abort(e.ctrl, 1, 7), -ENOENT);
	assert_int_equal(vfn_nvme_abort(NULL, 1, 7), -EINVAL);
	env_close(&e);
}

/* CSTS.CFS during I/O: outstanding commands fail with -ECANCELED, a reset recovers both pairs (one with interrupts). */
static void test_fatal_then_reset(void **state)
{
	struct vfn_nvme_qpair_opts irq = { .irq = true };
	struct seen s[3] = { 0 }, late = { 0 };
	struct vfn_nvme_qpair *qp2;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &irq, &qp2), 0);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	for (int i = 0; i < 2; i++) {
		s[i].ctrl = e.ctrl;
		assert_int_equal(write_async(&e, e.qp, (uint64_t)i, &s[i]), 0);
	}
	sleep_ms(20);
	vfn_sim_fault_fatal(e.sim);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, 0), 2);
	for (int i = 0; i < 2; i++) {
		assert_quiesced_in_cb(&s[i]);
		assert_int_equal(s[i].err, -ECANCELED);
		assert_int_equal(s[i].status, VFN_NVME_SC_HOST_ABORTED);
	}
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	/* Posts are refused on every pair; the other pair learns at its next check. */
	assert_int_equal(write_async(&e, e.qp, 3, &late), -ECANCELED);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp2, 0), 0);
	assert_int_equal(write_async(&e, qp2, 3, &late), -ECANCELED);
	assert_int_equal(e.qp->rqs.stats.cancelled, 2);

	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	write_read_back(&e, e.qp, 16, 8, 0x22);
	write_read_back(&e, qp2, 32, 2, 0x33); /* waits on the eventfd: the vector is back */
	assert_int_equal(qp2->cq.vector, 2);
	assert_true(vfn_nvme_qpair_eventfd(qp2) >= 0);
	/* The delayed commands died with the reset: nothing comes late. */
	assert_int_equal(s[0].calls + s[1].calls, 2);
	vfn_nvme_qpair_destroy(qp2);
	env_close(&e);
}

/* The synchronous helpers see the failure too and fail the pair. */
static void test_fatal_sync(void **state)
{
	struct seen s = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20);
	vfn_sim_fault_fatal(e.sim);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, NULL, NULL), -EIO);
	assert_int_equal(s.err, -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 0, 1, 0x44);
	env_close(&e);
}

/* Surprise removal: -ENODEV everywhere, no hang; the reset cannot help. */
static void test_removal(void **state)
{
	struct seen s = { 0 }, late = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	faulted_write(&e, VFN_SIM_FAULT_DROP, 0, &s, 10);
	vfn_sim_fault_remove(e.sim);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, 0), 1);
	assert_int_equal(s.err, -ENODEV);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ENODEV);
	assert_int_equal(write_async(&e, e.qp, 1, &late), -ENODEV);
	assert_int_equal(vfn_nvme_flush(e.qp, 1, NULL, NULL), -ENODEV);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), -ENODEV);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ENODEV);
	assert_int_equal(write_async(&e, e.qp, 1, &late), -ENODEV);
	assert_int_equal(late.calls, 0);
	env_close(&e);
}

struct events {
	int n;
	uint32_t dw0[8];
};

static void aer_cb(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct events *ev = arg;
	uint32_t result;

	if (ev->n < 8)
		ev->dw0[ev->n] = dw0;
	ev->n++;
	/* The callback may send admin commands. */
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &result, NULL, 0), 0);
}

static void poll_events(struct vfn_nvme_ctrl *ctrl, struct events *ev, int want)
{
	for (int i = 0; i < 2000 && ev->n < want; i++) {
		assert_true(vfn_nvme_admin_poll(ctrl) >= 0);
		if (ev->n < want)
			sleep_ms(1);
	}
	assert_int_equal(ev->n, want);
}

/* Events reach the callback, AERs are re-armed, also after a reset. */
static void test_aer(void **state)
{
	struct events ev = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_aer_set_callback(e.ctrl, aer_cb, &ev), 0);
	assert_int_equal(e.ctrl->admin.aer_limit, VFN_SIM_AERL + 1);
	assert_int_equal(vfn_sim_event_raise(e.sim, 0x1, 0x01, VFN_NVME_LOG_SMART), 0);
	poll_events(e.ctrl, &ev, 1);
	assert_int_equal(ev.dw0[0], 0x1u | 0x01u << 8 | (uint32_t)VFN_NVME_LOG_SMART << 16);
	/* More events than AERs outstanding: each is re-armed after it completes. */
	for (uint8_t i = 0; i < 6; i++)
		assert_int_equal(vfn_sim_event_raise(e.sim, 0x2, i, VFN_NVME_LOG_ERROR), 0);
	poll_events(e.ctrl, &ev, 7);
	for (int i = 1; i < 7; i++)
		assert_int_equal((ev.dw0[i] >> 8) & 0xff, (uint32_t)(i - 1));
	/* An admin command also delivers events. */
	assert_int_equal(vfn_sim_event_raise(e.sim, 0x2, 0x9, VFN_NVME_LOG_ERROR), 0);
	sleep_ms(20);
	assert_int_equal(vfn_nvme_set_features(e.ctrl, VFN_NVME_FEAT_VOLATILE_WC, 0, 1, NULL, NULL, 0), 0);
	poll_events(e.ctrl, &ev, 8);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(vfn_sim_event_raise(e.sim, 0x0, 0x3, VFN_NVME_LOG_ERROR), 0);
	poll_events(e.ctrl, &ev, 9);
	assert_int_equal(vfn_nvme_aer_set_callback(NULL, aer_cb, &ev), -EINVAL);
	env_close(&e);
}

/* Injected statuses and timeouts, on the driver side only. */
static void test_inject(void **state)
{
	struct vfn_nvme_cqe cqe;
	struct seen s = { 0 };
	uint64_t t0 = vfn_now_ns();
	uint16_t st = VFN_NVME_SC_READ_ERROR | 1u << 14;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(e.qp->hooks, 0);
	assert_int_equal(vfn_nvme_inject_status(e.qp, VFN_NVME_CMD_READ, 2, st), 0);
	assert_int_equal(e.qp->hooks, VFN_QP_HOOK_INJECT);
	/* The write goes through: the rule is for reads. */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 1, e.buf, NULL, NULL), 0);
	assert_int_equal(e.qp->rqs.stats.injected, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, NULL, &cqe), -EIO);
		assert_int_equal(vfn_nvme_cqe_status(&cqe), st);
	}
	assert_int_equal(e.qp->rqs.stats.injected, 2);
	assert_int_equal(e.qp->hooks, 0); /* rule used up */
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, NULL, &cqe), 0);

	/* Held back: times out, its command id comes back at once. */
	assert_int_equal(vfn_nvme_inject_timeout(e.qp, VFN_NVME_CMD_FLUSH, 1), 0);
	assert_int_equal(vfn_nvme_flush_async(e.qp, 1, seen_cb, &s), 0);
	vfn_nvme_qpair_submit(e.qp);
	expect_held_timeout(e.qp, t0);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0); /* never sent: nothing to stop */
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	/* A held sync command gives its id back too. */
	assert_int_equal(vfn_nvme_inject_timeout(e.qp, VFN_NVME_CMD_FLUSH, 1), 0);
	assert_int_equal(vfn_nvme_flush(e.qp, 1, &(struct vfn_nvme_io_opts){ .timeout_ms = 20 }, NULL), -ETIMEDOUT);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);

	assert_int_equal(vfn_nvme_inject_status(e.qp, VFN_NVME_CMD_WRITE, 0, st), -EINVAL);
	assert_int_equal(vfn_nvme_inject_status(NULL, VFN_NVME_CMD_WRITE, 1, st), -EINVAL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(vfn_nvme_inject_status(e.qp, 0x7f, 1, st), 0);
	assert_int_equal(vfn_nvme_inject_status(e.qp, 0x7f, 1, st), -ENOSPC);
	vfn_nvme_inject_clear(e.qp);
	assert_int_equal(e.qp->hooks, 0);
	env_close(&e);
}

/* The command log decodes commands and completions in spec terms. */
static void test_cmdlog(void **state)
{
	uint64_t t0 = vfn_now_ns();
	struct seen s = { 0 };
	char text[4096];
	struct env e;
	FILE *f;
	char *mem = NULL;
	size_t memlen = 0;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_log_snprint(e.qp, text, sizeof(text)), 0);
	assert_int_equal(vfn_nvme_qpair_log_enable(e.qp, 4), 0);
	write_read_back(&e, e.qp, 5, 1, 0x55);
	assert_int_equal(vfn_nvme_inject_status(e.qp, VFN_NVME_CMD_READ, 1, VFN_NVME_SC_READ_ERROR | 1u << 14), 0);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 5, 1, e.buf, NULL, NULL), -EIO);
	assert_true(vfn_nvme_qpair_log_snprint(e.qp, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "#1 SQ 1 cid 0 Write (0x01) nsid 1 cdw10 0x00000005 cdw11 0x00000000 "
				     "cdw12 0x00000000 cdw13 0x00000000 cdw14 0x00000000 cdw15 0x00000000 -> "
				     "Successful Completion (0x000) dw0 0x00000000 sqhd 1\n"));
	assert_non_null(strstr(text, "#2 SQ 1 cid 0 Read (0x02) nsid 1 cdw10 0x00000005"));
	assert_non_null(strstr(text, "#3 SQ 1 cid 0 Read (0x02)"));
	assert_non_null(strstr(text, "-> Unrecovered Read Error (0x281 DNR) dw0 0x00000000 sqhd 2 [injected]\n"));

	/* A timed-out command, and one still pending; the ring keeps the last 4. */
	assert_int_equal(vfn_nvme_inject_timeout(e.qp, VFN_NVME_CMD_FLUSH, 1), 0);
	assert_int_equal(vfn_nvme_flush_async(e.qp, 1, seen_cb, &s), 0);
	expect_held_timeout(e.qp, t0);
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	assert_int_equal(write_async(&e, e.qp, 9, &s), 0);
	assert_true(vfn_nvme_qpair_log_snprint(e.qp, text, sizeof(text)) > 0);
	assert_null(strstr(text, "#1 "));
	assert_non_null(strstr(text, "#2 "));
	assert_non_null(strstr(text, "#4 SQ 1 cid 0 Flush (0x00) nsid 1"));
	assert_non_null(strstr(text, "-> Command Aborted By Host (0x371) dw0 0x00000000 sqhd 2 [timed out]\n"));
	assert_non_null(strstr(text, "#5 SQ 1 cid 0 Write (0x01) nsid 1 cdw10 0x00000009"));
	assert_non_null(strstr(text, "-> pending\n"));

	/* The same text through a FILE, and a buffer too small for it. */
	f = open_memstream(&mem, &memlen);
	assert_non_null(f);
	assert_int_equal(vfn_nvme_qpair_log_dump(e.qp, f), 4);
	fclose(f);
	assert_string_equal(mem, text);
	free(mem);
	assert_int_equal(vfn_nvme_qpair_log_snprint(e.qp, text, 10), (int)memlen);
	assert_int_equal(strlen(text), 9);
	assert_int_equal(vfn_nvme_qpair_log_dump(NULL, stderr), -EINVAL);
	assert_int_equal(vfn_nvme_qpair_log_enable(e.qp, 0), 0);
	assert_int_equal(vfn_nvme_qpair_log_snprint(e.qp, text, sizeof(text)), 0);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	env_close(&e);
}

/* Wrong completions are dropped, never trusted; the pair goes on. */
static void test_wrong_cid_timeout(void **state)
{
	struct seen s = { 0 };
	uint64_t t0 = vfn_now_ns();
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	faulted_write(&e, VFN_SIM_FAULT_WRONG_CID, 0, &s, 10);
	vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(s.calls, 0);
	assert_true(e.qp->rqs.stats.bad_cid + e.qp->rqs.stats.not_inflight == 1);
	expect_one_timeout(e.qp, t0);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 1, 1, 0x66);
	env_close(&e);
}

/* A timeout whose Abort goes unanswered too: the controller is failed, the rest cancelled, reset recovers. */
static void test_timeout_unanswered(void **state)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = VFN_NVME_ADMIN_ABORT };
	struct seen s = { 0 }, slow = { 0 };
	uint64_t t0 = vfn_now_ns();
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	s.ctrl = slow.ctrl = e.ctrl;
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	assert_int_equal(write_async(&e, e.qp, 0, &s), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0), 0);
	assert_int_equal(write_async(&e, e.qp, 1, &slow), 0); /* posted later: not timed out yet */
	sleep_ms(10);
	/* The Abort goes unanswered: no second chance, the controller is quiesced, then both end. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + T_NS), 1);
	assert_quiesced_in_cb(&s);
	assert_quiesced_in_cb(&slow);
	assert_int_equal(s.err, -ETIMEDOUT);
	/* The controller answers admin commands again: it deleted the SQ, aborting what it held. */
	assert_aborted_by_deletion(&slow);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(e.qp->rqs.stats.timed_out, 1);
	assert_int_equal(e.qp->rqs.stats.cancelled, 0);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 2, 2, 0x77);
	env_close(&e);
}

/* ---- The recovery contract ------------------------------------------------ */

/* A controller a reset failed on: every call fails with -EIO, nothing crashes or touches freed memory. */
static void assert_dead(struct env *e, struct seen *late)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 8 };
	struct vfn_nvme_qpair *qp3 = NULL;
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];

	/* Whatever was posted before the reset is rung now: doorbells of a stopped controller, in live memory. */
	vfn_nvme_qpair_submit(e->qp);
	assert_int_equal(vfn_nvme_qpair_reap(e->qp, 0), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(e->ctrl), -EIO);
	assert_int_equal(write_async(e, e->qp, 3, late), -EIO);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e->qp, 0), 0);
	assert_int_equal(vfn_nvme_write(e->qp, &e->ns, 0, 1, e->buf, NULL, NULL), -EIO);
	assert_int_equal(vfn_nvme_identify(e->ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), -EIO);
	assert_int_equal(vfn_nvme_abort(e->ctrl, 1, 0), -EIO);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 3, &qo, &qp3), -EIO);
	assert_null(qp3);
	assert_int_equal(late->calls, 0);
}

/*
 * Item 1: a reset whose restart fails (the controller never becomes
 * ready) frees nothing the pairs point at: the shadow doorbell pages stay.
 * Every call then fails with -EIO; a later reset recovers.
 */
static void test_failed_reset_never_ready(void **state)
{
	struct seen s = { 0 }, late = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_true(vfn_nvme_ctrl_get_info(e.ctrl)->shadow_doorbells);
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20);
	/* Posted, not rung: the submit after the failed reset rings it. */
	assert_int_equal(vfn_nvme_write_async(e.qp, &e.ns, 1, 1, e.buf, false, seen_cb, &late), 0);
	vfn_sim_fault_never_ready(e.sim, true);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), -ETIMEDOUT);
	assert_aborted_by_deletion(&s);
	/* Never rung: the controller never saw it, the driver failed it. */
	assert_int_equal(late.calls, 1);
	assert_int_equal(late.err, -ECANCELED);
	late = (struct seen){ 0 };
	assert_dead(&e, &late);
	vfn_sim_fault_never_ready(e.sim, false);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	write_read_back(&e, e.qp, 4, 2, 0x81);
	env_close(&e);
}

/* Item 1, another way to fail: the controller comes back but refuses to re-create the pair. */
static void test_failed_reset_recreate(void **state)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_STATUS,
				   .sqid = 0,
				   .opcode = VFN_NVME_ADMIN_CREATE_CQ,
				   .status = VFN_NVME_SC_QID_INVALID | 1u << 14 };
	struct seen late = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), -EIO);
	assert_dead(&e, &late);
	/* The next reset is just as refused... */
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -EIO);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 6, 1, 0x82);
	env_close(&e);
}

/*
 * Item 2: reset runs the callbacks of what was outstanding only once the
 * controller is stopped — whether the controller ended the commands itself
 * (its queues deleted first) or, refusing that, the driver failed them.
 */
static void test_reset_quiesces_first(void **state)
{
	struct vfn_nvme_qpair_opts irq = { .irq = true, .entries = 8 };
	struct seen s[4] = { 0 };
	struct vfn_nvme_qpair *qp2;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &irq, &qp2), 0);
	for (int i = 0; i < 4; i++) {
		struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DELAY,
					   .sqid = i < 2 ? 1 : 2,
					   .opcode = VFN_NVME_CMD_WRITE,
					   .delay_ms = 10000 };

		s[i].ctrl = e.ctrl;
		assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(write_async(&e, i < 2 ? e.qp : qp2, (uint64_t)i, &s[i]), 0);
	sleep_ms(20);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	for (int i = 0; i < 4; i++) {
		assert_quiesced_in_cb(&s[i]);
		assert_aborted_by_deletion(&s[i]);
	}
	write_read_back(&e, qp2, 10, 2, 0x83);

	refuse_deletes(&e);
	for (int i = 0; i < 4; i++) {
		struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DELAY,
					   .sqid = i < 2 ? 1 : 2,
					   .opcode = VFN_NVME_CMD_WRITE,
					   .delay_ms = 10000 };

		s[i] = (struct seen){ .ctrl = e.ctrl };
		assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(write_async(&e, i < 2 ? e.qp : qp2, (uint64_t)i, &s[i]), 0);
	sleep_ms(20);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	for (int i = 0; i < 4; i++) {
		assert_quiesced_in_cb(&s[i]);
		assert_int_equal(s[i].err, -ECANCELED);
		assert_int_equal(s[i].status, VFN_NVME_SC_HOST_ABORTED);
	}
	vfn_sim_fault_clear(e.sim);
	write_read_back(&e, qp2, 12, 2, 0x8b);
	vfn_nvme_qpair_destroy(qp2);
	env_close(&e);
}

/* What a callback running inside a reset tries, and what it got. */
struct in_reset {
	struct env *e;
	struct vfn_nvme_qpair *other;
	int calls;
	int post_same, post_other, admin, reset;
	struct seen dummy;
};

static void in_reset_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct in_reset *r = rq->opaque;
	uint32_t dw0;

	(void)cqe;
	r->calls++;
	vfn_rq_free(qp, rq); /* allowed: its own request */
	r->post_same = vfn_nvme_write_async(qp, &r->e->ns, 20, 1, r->e->buf, false, seen_cb, &r->dummy);
	r->post_other = vfn_nvme_write_async(r->other, &r->e->ns, 21, 1, r->e->buf, false, seen_cb, &r->dummy);
	r->admin = vfn_nvme_get_features(r->e->ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &dw0, NULL, 0);
	r->reset = vfn_nvme_ctrl_reset(r->e->ctrl);
}

/*
 * Inside a reset's callbacks: posting (on this pair or on one the reset
 * has not reached yet) is refused, admin commands too, a nested reset
 * returns -EBUSY; freeing the request is fine.  Nothing was sent.
 */
static void test_callbacks_during_reset(void **state)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 8 };
	struct vfn_nvme_qpair *qp2, *first;
	struct in_reset r;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &qo, &qp2), 0);
	/* The reset fails the list's head first: its callback posts on the pair failed after it. */
	first = e.ctrl->qpairs;
	r = (struct in_reset){ .e = &e, .other = first == qp2 ? e.qp : qp2 };
	refuse_deletes(&e);
	{
		struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DELAY,
					   .sqid = first->sq.qid,
					   .opcode = VFN_NVME_CMD_WRITE,
					   .delay_ms = 10000 };

		assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	}
	assert_int_equal(vfn_nvme_write_async(first, &e.ns, 0, 1, e.buf, false, in_reset_cb, &r), 0);
	vfn_nvme_qpair_submit(first);
	sleep_ms(20);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.post_same, -ECANCELED);
	assert_int_equal(r.post_other, -ECANCELED);
	assert_int_equal(r.admin, -EIO);
	assert_int_equal(r.reset, -EBUSY);
	assert_int_equal(r.dummy.calls, 0);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	assert_int_equal(qp2->rqs.nr_free, qp2->rqs.nr);
	vfn_sim_fault_clear(e.sim);
	write_read_back(&e, e.qp, 22, 1, 0x8c);
	write_read_back(&e, qp2, 23, 1, 0x8d);
	vfn_nvme_qpair_destroy(qp2);
	env_close(&e);
}

/*
 * Item 2, the timeout path: Abort of a command the controller holds is
 * answered "aborted"; the command is not failed by the driver but
 * completes from the controller with Command Abort Requested, once.
 */
static void test_timeout_abort_completes(void **state)
{
	uint64_t t0 = vfn_now_ns();
	struct seen s = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + T_NS), 0);
	assert_int_equal(s.calls, 0);
	reap_until(e.qp, &s, 1);
	assert_int_equal(s.status, VFN_NVME_SC_ABORT_REQ);
	assert_int_equal(s.err, 0);
	assert_int_equal(e.qp->rqs.stats.timed_out, 0);
	/* Nothing left to expire; the controller never failed. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + 5 * T_NS), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	write_read_back(&e, e.qp, 2, 1, 0x84);
	env_close(&e);
}

/*
 * A sync helper's command whose completion never comes (a wedged CQ):
 * Abort ("not aborted"), one more timeout, then the controller is quiesced
 * and failed; the command id comes back, so later calls say the controller
 * failed (-ECANCELED) instead of running out of requests (-EBUSY) for
 * ever, and a reset brings I/O back.
 */
static void test_sync_timeout_escalates(void **state)
{
	const struct vfn_nvme_io_opts o = { .timeout_ms = 20 };
	struct vfn_nvme_cqe cqe;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_READ, 0);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, &o, NULL), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	assert_int_equal(e.qp->rqs.stats.timed_out, 1);
	for (uint32_t i = 0; i < e.qp->rqs.nr + 1u; i++)
		assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, &o, NULL), -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	vfn_sim_fault_clear(e.sim);
	write_read_back(&e, e.qp, 3, 1, 0x91);

	/* A single-command sync helper (vfn_rq_wait()) and a split transfer take the same path. */
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_FLUSH, 0);
	assert_int_equal(vfn_nvme_flush(e.qp, 1, &o, &cqe), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, BUF_LEN / e.ns.lba_size, e.buf, &o, NULL), -ETIMEDOUT);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 4, 1, 0x92);
	env_close(&e);
}

/* A sync command the controller holds: Abort ends it with Command Abort Requested, the controller stays up. */
static void test_sync_timeout_abort_completes(void **state)
{
	const struct vfn_nvme_io_opts o = { .timeout_ms = 20 };
	struct vfn_nvme_cqe cqe;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_FLUSH, 10000);
	assert_int_equal(vfn_nvme_flush(e.qp, 1, &o, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), VFN_NVME_SC_ABORT_REQ);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	write_read_back(&e, e.qp, 2, 1, 0x93);
	env_close(&e);
}

/*
 * The sync timeout's edges: a piece held back by injection (never sent)
 * times out without failing the controller, on the split path as on the
 * single-command one; the caller's timeout bounds the Abort too (both the
 * read and its Abort dropped: done in well under the pair's timeout); a
 * controller gone meanwhile is reported as gone, not as a timeout.
 */
static void test_sync_timeout_edges(void **state)
{
	struct vfn_sim_fault abort_drop = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = VFN_NVME_ADMIN_ABORT };
	const struct vfn_nvme_io_opts o = { .timeout_ms = 20 }, o5 = { .timeout_ms = 5 };
	uint64_t t0, timed_out;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_inject_timeout(e.qp, VFN_NVME_CMD_READ, 1), 0);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, &o, NULL), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), 0);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	write_read_back(&e, e.qp, 6, 1, 0x94);

	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_READ, 0);
	assert_int_equal(vfn_sim_fault_add(e.sim, &abort_drop), 0);
	t0 = vfn_now_ns();
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, &o, NULL), -ETIMEDOUT);
	assert_true(vfn_now_ns() - t0 < TIMEOUT_MS * 1000000ull);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	vfn_sim_fault_clear(e.sim);

	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_READ, 0);
	timed_out = e.qp->rqs.stats.timed_out;
	vfn_sim_fault_remove(e.sim);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 1, e.buf, &o5, NULL), -ENODEV);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ENODEV);
	assert_int_equal(e.qp->rqs.stats.timed_out, timed_out);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	env_close(&e);
}

/* CSTS.CFS seen by a sync helper: the controller is stopped before the outstanding callback runs. */
static void test_fatal_quiesces_first(void **state)
{
	struct seen s = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	s.ctrl = e.ctrl;
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20);
	vfn_sim_fault_fatal(e.sim);
	assert_int_equal(vfn_nvme_flush(e.qp, 1, NULL, NULL), -EIO);
	assert_quiesced_in_cb(&s);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 0, 1, 0x85);
	env_close(&e);
}

/*
 * Item 2, escalation: a controller that ignores CC.EN=0 is reset
 * (function-level reset) before the callbacks run; one that ignores that
 * too gets bus mastering turned off: DMA provably stops (a delayed read
 * never lands in its buffer), the reset fails, and once the controller
 * behaves a reset brings bus mastering and I/O back.
 */
static void test_quiesce_escalates(void **state)
{
	struct seen s = { 0 }, r = { 0 };
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	s.ctrl = e.ctrl;
	refuse_deletes(&e); /* nothing stops the wedged controller but the disable, the FLR or bus mastering */
	faulted_write(&e, VFN_SIM_FAULT_DELAY, 10000, &s, 20);
	vfn_sim_fault_wedge(e.sim, 1);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0); /* CAP.TO, then function-level reset */
	assert_quiesced_in_cb(&s);
	write_read_back(&e, e.qp, 3, 1, 0x86);

	/* A read the controller runs 0.9 s from now (past the CAP.TO of 0.5 s the reset waits), into 0xee. */
	memset(e.buf, 0xee, 4096);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_READ, 900);
	assert_int_equal(vfn_nvme_read_async(e.qp, &e.ns, 3, 1, e.buf, false, seen_cb, &r), 0);
	vfn_nvme_qpair_submit(e.qp);
	sleep_ms(20);
	vfn_sim_fault_wedge(e.sim, 2);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), -EIO);
	assert_true(__atomic_load_n(&e.sim->dma_off, __ATOMIC_ACQUIRE));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -EIO);
	sleep_ms(1000); /* past the delayed read's time: it must not have moved data */
	for (int i = 0; i < 4096; i++)
		assert_int_equal(e.buf[i], 0xee);
	assert_int_equal(vfn_nvme_qpair_reap(e.qp, 0), 0);

	vfn_sim_fault_wedge(e.sim, 0);
	vfn_sim_fault_clear(e.sim);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_false(__atomic_load_n(&e.sim->dma_off, __ATOMIC_ACQUIRE));
	write_read_back(&e, e.qp, 5, 1, 0x87);
	env_close(&e);
}

/*
 * Item 3: a request without a callback belongs to its caller through a
 * reset: it is completed (DONE, -ECANCELED), not released, and no
 * vfn_rq_alloc() hands it out until the caller frees it.  One the caller
 * gave up on (freed while in flight) is the driver's: the reset releases it.
 */
static void test_reset_keeps_callers_request(void **state)
{
	struct vfn_rq *rq, *gone, *taken[16];
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_WRITE, .nsid = vfn_cpu_to_le32(1) };
	unsigned int n = 0;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	refuse_deletes(&e); /* the driver, not the controller, ends the commands */
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	rq = vfn_rq_alloc(e.qp);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf, 4096, false), 0);
	assert_int_equal(vfn_rq_post(e.qp, rq, &sqe), 0);
	gone = vfn_rq_alloc(e.qp);
	assert_int_equal(vfn_rq_map(e.qp, gone, &sqe, e.buf, 4096, false), 0);
	assert_int_equal(vfn_rq_post(e.qp, gone, &sqe), 0);
	vfn_nvme_qpair_submit(e.qp);
	vfn_rq_free(e.qp, gone); /* given up: abandoned */
	assert_int_equal(gone->state, VFN_RQ_ABANDONED);
	sleep_ms(20);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_int_equal(rq->state, VFN_RQ_DONE);
	assert_int_equal(rq->err, -ECANCELED);
	assert_int_equal(STATUS(&rq->cqe), VFN_NVME_SC_HOST_ABORTED);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr - 1);
	while ((taken[n] = vfn_rq_alloc(e.qp))) {
		assert_ptr_not_equal(taken[n], rq);
		n++;
	}
	assert_int_equal(n, e.qp->rqs.nr - 1);
	while (n)
		vfn_rq_free(e.qp, taken[--n]);
	vfn_rq_free(e.qp, rq);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr);
	vfn_sim_fault_clear(e.sim);
	write_read_back(&e, e.qp, 7, 1, 0x88);
	env_close(&e);
}

/* Item 4: a second pair on a qid in use is refused before anything, the live pair keeps its interrupts. */
static void test_qid_in_use(void **state)
{
	struct vfn_nvme_qpair_opts irq = { .irq = true, .entries = 8 };
	struct vfn_nvme_qpair *qp2, *again = NULL;
	struct seen s = { 0 };
	struct pollfd pfd;
	uint64_t count;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &irq, &qp2), 0);
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &irq, &again), -EBUSY);
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 1, &irq, &again), -EBUSY);
	assert_null(again);
	/* Still routed (the sim signals its own duplicate of the pair's eventfd: the poll below tells whose). */
	assert_true(__atomic_load_n(&e.sim->efds[2], __ATOMIC_ACQUIRE) >= 0);
	/* The vector still signals the live pair's eventfd. */
	pfd = (struct pollfd){ .fd = vfn_nvme_qpair_eventfd(qp2), .events = POLLIN };
	while (read(pfd.fd, &count, sizeof(count)) > 0)
		;
	assert_int_equal(write_async(&e, qp2, 9, &s), 0);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	reap_until(qp2, &s, 1);
	assert_int_equal(s.status, 0);
	vfn_nvme_qpair_destroy(qp2);
	/* Free again: the qid can be used. */
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &irq, &qp2), 0);
	write_read_back(&e, qp2, 11, 1, 0x89);
	vfn_nvme_qpair_destroy(qp2);
	env_close(&e);
}

/* Item 6: closing a controller with pairs still created is refused; the pairs keep working. */
static void test_close_with_qpairs(void **state)
{
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	vfn_nvme_ctrl_close(e.ctrl);
	write_read_back(&e, e.qp, 12, 1, 0x8a);
	env_close(&e); /* destroy, then close: both go through */
}

/* The device address of @vaddr, which must be mapped. */
static uint64_t iova_of(struct env *e, const void *vaddr)
{
	uint64_t iova;

	assert_int_equal(vfn_iommu_translate(vfn_nvme_ctrl_iommu(e->ctrl), vaddr, &iova, NULL), 0);
	return iova;
}

/* True if @iova is mapped (to anything). */
static bool iova_mapped(struct env *e, uint64_t iova)
{
	void *vaddr;

	return vfn_iommu_iova_to_vaddr(vfn_nvme_ctrl_iommu(e->ctrl), iova, &vaddr, NULL) == 0;
}

/*
 * Item 6: a Delete SQ the controller refuses leaves the rings mapped
 * (retired: their IOVA is not handed out again) until the controller is
 * disabled by the next reset.
 */
static void test_delete_failure_retires(void **state)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_STATUS,
				   .sqid = 0,
				   .opcode = VFN_NVME_ADMIN_DELETE_SQ,
				   .status = VFN_NVME_SC_INTERNAL };
	struct vfn_nvme_qpair_opts qo = { .entries = 8 };
	struct vfn_nvme_qpair *qp2;
	uint64_t sq, cq, list;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	assert_int_equal(vfn_nvme_qpair_create(e.ctrl, 2, &qo, &qp2), 0);
	sq = iova_of(&e, qp2->sq.sqes);
	cq = iova_of(&e, qp2->cq.cqes);
	list = iova_of(&e, qp2->list_mem);
	assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	vfn_nvme_qpair_destroy(qp2);
	assert_true(iova_mapped(&e, sq));
	assert_true(iova_mapped(&e, cq));
	assert_true(iova_mapped(&e, list));
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	assert_false(iova_mapped(&e, sq));
	assert_false(iova_mapped(&e, cq));
	assert_false(iova_mapped(&e, list));
	env_close(&e);
}

static size_t nr_mappings(struct env *e)
{
	return vfn_nvme_ctrl_iommu(e->ctrl)->maps.count;
}

/*
 * Item 6: a harness hammering a controller that drops admin commands does
 * not pile up mappings: the retired buffers go once the controller is
 * disabled (reset), or when the late completion comes.
 */
static void test_admin_retired_freed(void **state)
{
	struct vfn_sim_fault drop = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = VFN_NVME_ADMIN_IDENTIFY };
	struct vfn_sim_fault slow = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = 0, .opcode = VFN_NVME_ADMIN_IDENTIFY, .delay_ms = 100
	};
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_IDENTIFY, .cdw10 = vfn_cpu_to_le32(VFN_NVME_CNS_CTRL) };
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];
	size_t maps;
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	maps = nr_mappings(&e);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(vfn_sim_fault_add(e.sim, &drop), 0);
		assert_int_equal(vfn_nvme_admin_sync(e.ctrl, &sqe, id, sizeof(id), NULL, 20), -ETIMEDOUT);
		assert_int_equal(nr_mappings(&e), maps + 1); /* the old bounce page, retired */
		assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
		assert_int_equal(nr_mappings(&e), maps);
	}
	assert_int_equal(vfn_sim_fault_add(e.sim, &slow), 0);
	assert_int_equal(vfn_nvme_admin_sync(e.ctrl, &sqe, id, sizeof(id), NULL, 20), -ETIMEDOUT);
	assert_int_equal(nr_mappings(&e), maps + 1);
	sleep_ms(150);
	assert_int_equal(vfn_nvme_admin_poll(e.ctrl), 0); /* the late completion: its buffer goes */
	assert_int_equal(nr_mappings(&e), maps);
	env_close(&e);
}

struct race {
	struct vfn_nvme_ctrl *ctrl;
	int err;
};

static void *race_fn(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 2000; i++)
		vfn_nvme_ctrl_set_failed(r->ctrl, r->err);
	return NULL;
}

/* Item 6: the failure state only rises (compare-and-swap), also under a race. */
static void test_set_failed_cas(void **state)
{
	struct race r[3];
	pthread_t th[3];
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	vfn_nvme_ctrl_set_failed(e.ctrl, -EIO);
	vfn_nvme_ctrl_set_failed(e.ctrl, -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -EIO);
	vfn_nvme_ctrl_set_failed(e.ctrl, -ENODEV);
	vfn_nvme_ctrl_set_failed(e.ctrl, -EIO);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ENODEV);
	for (int round = 0; round < 20; round++) {
		__atomic_store_n(&e.ctrl->failed, 0, __ATOMIC_RELEASE);
		for (int i = 0; i < 3; i++) {
			r[i] = (struct race){ e.ctrl, i == 0 ? -ECANCELED : i == 1 ? -EIO : -ENODEV };
			assert_int_equal(pthread_create(&th[i], NULL, race_fn, &r[i]), 0);
		}
		for (int i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
		assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ENODEV);
	}
	__atomic_store_n(&e.ctrl->failed, 0, __ATOMIC_RELEASE);
	env_close(&e);
}

/* Item 6: SGLS = 10b (dword granularity) is honoured: misaligned SGL pieces are refused before posting. */
static void test_sgl_dword(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_WRITE };
	struct vfn_nvme_io_opts sgl = { .sgl = true };
	struct vfn_rq *rq;
	struct env e;

	(void)state;
	env_open(&e, "sim:sgls=2,lbads=9");
	rq = vfn_rq_alloc(e.qp);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf + 1, 512, true), -EINVAL);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf, 6, true), -EINVAL);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf + 4, 8, true), 0);
	vfn_rq_free(e.qp, rq);
	for (int i = 0; i < 1024; i++)
		e.buf[i] = (uint8_t)(i * 3);
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 2, e.buf, &sgl, NULL), 0);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 2, e.buf + 1024, &sgl, NULL), 0);
	assert_memory_equal(e.buf, e.buf + 1024, 1024);
	env_close(&e);

	env_open(&e, "sim:sgls=0");
	rq = vfn_rq_alloc(e.qp);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf, 4096, true), -ENOTSUP);
	vfn_rq_free(e.qp, rq);
	env_close(&e);
}

struct log_capture {
	char text[8192];
	size_t len;
};

static void capture_log(enum vfn_log_level level, const char *msg, void *arg)
{
	struct log_capture *c = arg;
	int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s\n", msg);

	(void)level;
	if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
		c->len += (size_t)n;
}

/*
 * Item 6: shutdown waits max(RTD3E, 5 s), not CAP.TO: a controller whose
 * shutdown takes 650 ms (CAP.TO 500 ms, no RTD3E) completes it.
 */
static void test_shutdown_waits(void **state)
{
	struct log_capture c = { .len = 0 };
	struct vfn_nvme_ctrl *ctrl;
	uint64_t t0;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:shn_ms=650", NULL, &ctrl), 0);
	vfn_log_set_fn(capture_log, &c);
	vfn_log_set_level(VFN_LOG_INFO);
	t0 = vfn_now_ns();
	vfn_nvme_ctrl_close(ctrl);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	assert_true(vfn_now_ns() - t0 >= 650000000ull);
	assert_null(strstr(c.text, "shutdown not complete"));
}

/*
 * Item 16: a device handle's max_qd is a depth a queue can have: with
 * CAP.MQES = 65535 (65536 entries, beyond the 16-bit rings) it is 65534.
 */
static void test_dev_max_qd(void **state)
{
	struct vfn_dev_queue *q;
	struct vfn_dev *dev;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:mqes=65535", NULL, &dev), 0);
	assert_int_equal(vfn_dev_get_info(dev)->max_qd, 65534);
	assert_int_equal(vfn_dev_queue_create(dev, vfn_dev_get_info(dev)->max_qd, &q), 0);
	vfn_dev_queue_destroy(q);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_then_reset),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_fatal_then_reset),
		cmocka_unit_test(test_fatal_sync),
		cmocka_unit_test(test_removal),
		cmocka_unit_test(test_aer),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_cmdlog),
		cmocka_unit_test(test_wrong_cid_timeout),
		cmocka_unit_test(test_timeout_unanswered),
		cmocka_unit_test(test_failed_reset_never_ready),
		cmocka_unit_test(test_failed_reset_recreate),
		cmocka_unit_test(test_reset_quiesces_first),
		cmocka_unit_test(test_callbacks_during_reset),
		cmocka_unit_test(test_timeout_abort_completes),
		cmocka_unit_test(test_sync_timeout_escalates),
		cmocka_unit_test(test_sync_timeout_abort_completes),
		cmocka_unit_test(test_sync_timeout_edges),
		cmocka_unit_test(test_fatal_quiesces_first),
		cmocka_unit_test(test_quiesce_escalates),
		cmocka_unit_test(test_reset_keeps_callers_request),
		cmocka_unit_test(test_qid_in_use),
		cmocka_unit_test(test_close_with_qpairs),
		cmocka_unit_test(test_delete_failure_retires),
		cmocka_unit_test(test_admin_retired_freed),
		cmocka_unit_test(test_set_failed_cas),
		cmocka_unit_test(test_sgl_dword),
		cmocka_unit_test(test_shutdown_waits),
		cmocka_unit_test(test_dev_max_qd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
