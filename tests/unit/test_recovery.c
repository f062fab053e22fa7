/* SPDX-License-Identifier: MIT */
/*
 * Robustness of the I/O path against the simulated controller's faults:
 * request timeouts, Abort, controller failure (CSTS.CFS, surprise removal)
 * and reset with queue re-creation, asynchronous events, driver-side error
 * injection and the command log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>

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

/* What a callback saw. */
struct seen {
	int calls;
	int err;
	uint16_t status;
	uint16_t cid;
};

static void seen_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct seen *s = rq->opaque;

	(void)qp;
	s->calls++;
	s->err = rq->err;
	s->status = STATUS(cqe);
	s->cid = rq->cid;
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

/* Arms @action (@delay_ms) for writes on the first pair, posts one write at LBA 0 and waits @wait_ms. */
static void faulted_write(struct env *e, enum vfn_sim_fault_action action, uint32_t delay_ms, struct seen *s,
			  unsigned int wait_ms)
{
	arm(e, action, VFN_NVME_CMD_WRITE, delay_ms);
	assert_int_equal(write_async(e, e->qp, 0, s), 0);
	sleep_ms(wait_ms);
}

/* The first check starts the clock, the one TIMEOUT_MS later times out one request. */
static void expect_one_timeout(struct vfn_nvme_qpair *qp, uint64_t t0)
{
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0 + TIMEOUT_MS * 1000000ull), 1);
}

/* A dropped completion times out (-ETIMEDOUT to the callback); a reset brings I/O back. */
static void test_timeout_then_reset(void **state)
{
	struct seen s = { 0 }, other = { 0 };
	uint64_t t0 = vfn_now_ns();
	struct env e;

	(void)state;
	env_open(&e, "sim:");
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	assert_int_equal(write_async(&e, e.qp, 0, &s), 0);
	assert_int_equal(write_async(&e, e.qp, 1, &other), 0);
	reap_until(e.qp, &other, 1); /* the second one completes normally */
	assert_int_equal(other.status, 0);
	/* First check starts the clock, the one after the timeout fires. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + TIMEOUT_MS * 1000000ull - 1), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + TIMEOUT_MS * 1000000ull), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(s.status, VFN_NVME_SC_HOST_ABORTED);
	assert_int_equal(e.qp->rqs.stats.timed_out, 1);
	/* Its command id stays abandoned: the controller may still answer. */
	assert_int_equal(e.qp->rqs.rqs[s.cid].state, VFN_RQ_ABANDONED);
	assert_int_equal(e.qp->rqs.nr_free, e.qp->rqs.nr - 1);
	/* Checking again does not complete it twice. */
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + 10 * TIMEOUT_MS * 1000000ull), 0);
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
	for (int i = 0; i < 2; i++)
		assert_int_equal(write_async(&e, e.qp, (uint64_t)i, &s[i]), 0);
	sleep_ms(20);
	vfn_sim_fault_fatal(e.sim);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, 0), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s[i].calls, 1);
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
	expect_one_timeout(e.qp, t0);
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
	expect_one_timeout(e.qp, t0);
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
	arm(&e, VFN_SIM_FAULT_DROP, VFN_NVME_CMD_WRITE, 0);
	arm(&e, VFN_SIM_FAULT_DELAY, VFN_NVME_CMD_WRITE, 10000);
	assert_int_equal(vfn_sim_fault_add(e.sim, &f), 0);
	assert_int_equal(write_async(&e, e.qp, 0, &s), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0), 0);
	assert_int_equal(write_async(&e, e.qp, 1, &slow), 0); /* posted later: not timed out yet */
	sleep_ms(10);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(e.qp, t0 + TIMEOUT_MS * 1000000ull), 2);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(slow.err, -ECANCELED);
	assert_int_equal(vfn_nvme_ctrl_failed(e.ctrl), -ECANCELED);
	assert_int_equal(e.qp->rqs.stats.timed_out, 1);
	assert_int_equal(e.qp->rqs.stats.cancelled, 1);
	assert_int_equal(vfn_nvme_ctrl_reset(e.ctrl), 0);
	write_read_back(&e, e.qp, 2, 2, 0x77);
	env_close(&e);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
