// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Interrupt modes on the simulator: several queue pairs sharing one
 * MSI-X vector (one eventfd), more pairs than vectors in use.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <vfn/nvme.h>
#include <vfn/rq.h>
#include <vfn/sim.h>
#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define NR_PAIRS 4
#define NR_IO_VECS 2 /* vectors 1 and 2 for 4 pairs: as QEMU's msix_qsize=3 */
#define BUF_LEN 4096

static void done_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int *count = rq->opaque;

	(void)qp;
	if (!(vfn_le16_to_cpu(cqe->sfp) >> 1))
		(*count)++;
}

/* The eventfd @efd fires within a second; its count is consumed. */
static void assert_fires(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(read(efd, &n, sizeof(n)), (ssize_t)sizeof(n));
	assert_true(n >= 1);
}

static void test_shared_vector(void **state)
{
	struct vfn_nvme_qpair *qp[NR_PAIRS + 1] = { 0 };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	int done[NR_PAIRS + 1] = { 0 };
	uint64_t iova;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	sim = vfn_sim_from_hw(&ctrl->hw);
	assert_non_null(sim);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), BUF_LEN, (void **)&buf, &iova), BUF_LEN);
	memset(buf, 0x5a, BUF_LEN);
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		struct vfn_nvme_qpair_opts o = {
			.entries = 16, .irq = true, .vector_set = true, .vector = (uint16_t)(1 + (q - 1) % NR_IO_VECS)
		};

		assert_int_equal(vfn_nvme_qpair_create(ctrl, q, &o, &qp[q]), 0);
		assert_int_equal(qp[q]->vector, 1 + (q - 1) % NR_IO_VECS);
		assert_int_equal(qp[q]->cq.vector, 1 + (q - 1) % NR_IO_VECS);
	}
	/* Pairs on one vector share its eventfd; the two vectors have their own. */
	assert_int_equal(vfn_nvme_qpair_eventfd(qp[1]), vfn_nvme_qpair_eventfd(qp[3]));
	assert_int_equal(vfn_nvme_qpair_eventfd(qp[2]), vfn_nvme_qpair_eventfd(qp[4]));
	assert_int_not_equal(vfn_nvme_qpair_eventfd(qp[1]), vfn_nvme_qpair_eventfd(qp[2]));
	assert_true(sim->efds[1] >= 0 && sim->efds[2] >= 0);
	assert_int_equal(sim->efds[3], -1);
	assert_int_equal(sim->efds[4], -1);

	/* A command on each pair: its vector's eventfd fires, every completion arrives. */
	for (uint16_t q = 1; q <= NR_PAIRS; q++) {
		assert_int_equal(vfn_nvme_write_async(qp[q], &ns, q, 1, buf, false, done_cb, &done[q]), 0);
		vfn_nvme_qpair_submit(qp[q]);
		assert_fires(vfn_nvme_qpair_eventfd(qp[q]));
		for (int i = 0; i < 1000 && !done[q]; i++)
			vfn_nvme_qpair_reap(qp[q], 0);
		assert_int_equal(done[q], 1);
	}
	/* Synchronous I/O waits on the shared eventfd too. */
	for (int round = 0; round < 8; round++)
		for (uint16_t q = 1; q <= NR_PAIRS; q++)
			assert_int_equal(vfn_nvme_read(qp[q], &ns, q, 1, buf, NULL, NULL), 0);

	/* The vector stays routed while a pair uses it, unrouted after the last. */
	vfn_nvme_qpair_destroy(qp[1]);
	assert_true(sim->efds[1] >= 0);
	assert_int_equal(vfn_nvme_write_async(qp[3], &ns, 9, 1, buf, false, done_cb, &done[3]), 0);
	vfn_nvme_qpair_submit(qp[3]);
	assert_fires(vfn_nvme_qpair_eventfd(qp[3]));
	for (int i = 0; i < 1000 && done[3] < 2; i++)
		vfn_nvme_qpair_reap(qp[3], 0);
	assert_int_equal(done[3], 2);
	vfn_nvme_qpair_destroy(qp[3]);
	assert_int_equal(sim->efds[1], -1);
	assert_true(sim->efds[2] >= 0);
	vfn_nvme_qpair_destroy(qp[2]);
	vfn_nvme_qpair_destroy(qp[4]);
	assert_int_equal(sim->efds[2], -1);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, BUF_LEN);
	vfn_nvme_ctrl_close(ctrl);
}

/* A vector beyond the controller's is refused, nothing left behind. */
static void test_vector_beyond(void **state)
{
	struct vfn_nvme_qpair_opts o = { .irq = true, .vector_set = true, .vector = VFN_SIM_NR_VECTORS };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), -ENOTSUP);
	assert_null(qp);
	o.vector = 0; /* the admin vector may be shared too */
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_int_equal(qp->cq.vector, 0);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
}

/* Opens sim: (with @admin_irq or not) and times a Get Features the controller holds back 50 ms. */
static void admin_delayed(bool admin_irq, uint64_t *wakes, int *efd0)
{
	struct vfn_nvme_ctrl_opts opts = { .admin_irq = admin_irq };
	struct vfn_sim_fault f = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = 0, .opcode = VFN_NVME_ADMIN_GET_FEATURES, .delay_ms = 50
	};
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	uint32_t dw0 = 0;

	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), 0);
	sim = vfn_sim_from_hw(&ctrl->hw);
	*efd0 = sim->efds[0];
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	if (ctrl->admin_efd >= 0) { /* bring-up's interrupts: the count they left behind */
		uint64_t stale;

		(void)!read(ctrl->admin_efd, &stale, sizeof(stale));
	}
	ctrl->admin_irq_wakes = 0;
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &dw0, NULL, 0), 0);
	assert_true(dw0 != 0);
	*wakes = ctrl->admin_irq_wakes;
	assert_int_equal(ctrl->admin_efd >= 0, admin_irq);
	vfn_nvme_ctrl_close(ctrl);
}

/* opts.admin_irq: vector 0 routed, a slow admin command wakes the waiter through it. */
static void test_admin_irq(void **state)
{
	uint64_t wakes;
	int efd0;

	(void)state;
	admin_delayed(true, &wakes, &efd0);
	assert_true(efd0 >= 0);
	assert_int_equal(wakes, 1);
	admin_delayed(false, &wakes, &efd0);
	assert_int_equal(efd0, -1);
	assert_int_equal(wakes, 0);
}

/* The admin vector shared with an I/O pair: the pair's destruction leaves it routed. */
static void test_admin_vector_shared(void **state)
{
	struct vfn_nvme_ctrl_opts opts = { .admin_irq = true };
	struct vfn_nvme_qpair_opts o = { .irq = true, .vector_set = true, .vector = 0 };
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), 0);
	sim = vfn_sim_from_hw(&ctrl->hw);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_int_equal(vfn_nvme_qpair_eventfd(qp), ctrl->admin_efd);
	assert_int_equal(ctrl->vecs[0].refs, 2);
	vfn_nvme_qpair_destroy(qp);
	assert_int_equal(ctrl->vecs[0].refs, 1);
	assert_true(sim->efds[0] >= 0);
	vfn_nvme_ctrl_close(ctrl);
}

/* The interrupt type option: the simulator has MSI-X only. */
static void test_irq_mode_sim(void **state)
{
	struct vfn_nvme_ctrl_opts opts = { .irq_mode = VFN_NVME_IRQ_MSIX };
	struct vfn_nvme_ctrl *ctrl = NULL;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), 0);
	assert_false(ctrl->irq_level);
	vfn_nvme_ctrl_close(ctrl);
	ctrl = NULL;
	opts.irq_mode = VFN_NVME_IRQ_INTX;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), -ENOTSUP);
	opts.irq_mode = VFN_NVME_IRQ_MSI;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), -ENOTSUP);
	opts.irq_mode = 4;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &opts, &ctrl), -EINVAL);
	assert_null(ctrl);
}

/* A write on @qp that raises its vector's eventfd, reaped. */
static void irq_write(struct vfn_nvme_qpair *qp, struct vfn_nvme_ns_info *ns, uint64_t slba, void *buf)
{
	int done = 0;

	assert_int_equal(vfn_nvme_write_async(qp, ns, slba, 1, buf, false, done_cb, &done), 0);
	vfn_nvme_qpair_submit(qp);
	assert_fires(vfn_nvme_qpair_eventfd(qp));
	for (int i = 0; i < 100000 && !done; i++)
		vfn_nvme_qpair_reap(qp, 0);
	assert_int_equal(done, 1);
}

/*
 * Function-level and NVM subsystem resets on the simulator (CAP.NSSRS):
 * the subsystem really reset (its count), data kept, interrupt-driven I/O
 * on the re-created pairs; no NSSRS: -EOPNOTSUPP, nothing done.
 */
static void test_resets_sim(void **state)
{
	struct vfn_nvme_qpair_opts o = { .entries = 16, .irq = true };
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	uint8_t *buf, *rb;
	uint64_t iova;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	sim = vfn_sim_from_hw(&ctrl->hw);
	assert_true(vfn_nvme_cap_nssrs(ctrl->cap));
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &o, &qp), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), BUF_LEN, (void **)&buf, &iova), BUF_LEN);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), BUF_LEN, (void **)&rb, &iova), BUF_LEN);
	for (int round = 0; round < 2; round++) {
		memset(buf, 0x11 * (round + 1), ns.lba_size);
		irq_write(qp, &ns, 50 + (uint64_t)round, buf);
		if (round) {
			assert_int_equal(__atomic_load_n(&sim->nr_nssr, __ATOMIC_ACQUIRE), 0);
			assert_int_equal(vfn_nvme_ctrl_reset_subsystem(ctrl), 0);
			assert_int_equal(__atomic_load_n(&sim->nr_nssr, __ATOMIC_ACQUIRE), 1);
		} else {
			assert_int_equal(vfn_nvme_ctrl_reset_function(ctrl), 0);
		}
		assert_int_equal(vfn_nvme_ctrl_failed(ctrl), 0);
		assert_true(sim->efds[1] >= 0);
		memset(rb, 0, ns.lba_size);
		assert_int_equal(vfn_nvme_read(qp, &ns, 50 + (uint64_t)round, 1, rb, NULL, NULL), 0);
		assert_memory_equal(rb, buf, ns.lba_size);
		irq_write(qp, &ns, 60, buf);
	}
	ctrl->cap &= ~(1ull << 36); /* as QEMU 7.2: CAP.NSSRS 0 */
	assert_int_equal(vfn_nvme_ctrl_reset_subsystem(ctrl), -EOPNOTSUPP);
	assert_int_equal(__atomic_load_n(&sim->nr_nssr, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(vfn_nvme_ctrl_failed(ctrl), 0);
	irq_write(qp, &ns, 61, buf);
	vfn_nvme_qpair_destroy(qp);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, BUF_LEN);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), rb, BUF_LEN);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * Weighted round robin with urgent priority (CC.AMS 001b) on the
 * simulator: with HPW 3 and LPW 0 and all commands queued before the
 * controller looks, the urgent SQ's commands are fetched first, then per
 * round 4 from the high SQ for 1 from the low one.
 */
static void test_wrr(void **state)
{
	struct vfn_nvme_ctrl_opts copts = { .ams = VFN_NVME_AMS_WRR };
	static const uint8_t prio[4] = { 0, 3, 1, 0 }; /* qid 1 low, 2 high, 3 urgent */
	static const unsigned int count[4] = { 0, 8, 8, 3 };
	static const uint16_t want[19] = { 3, 3, 3, 2, 2, 2, 2, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1 };
	struct vfn_nvme_qpair *qp[4] = { 0 };
	uint8_t ab, lpw, mpw, hpw;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_sim *sim;
	int done = 0;
	uint32_t n0;
	uint64_t iova;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &copts, &ctrl), 0);
	sim = vfn_sim_from_hw(&ctrl->hw);
	assert_true(ctrl->cap & VFN_NVME_CAP_AMS_WRR);
	assert_int_equal(vfn_nvme_set_arbitration(ctrl, 7, 0, 1, 3), 0);
	assert_int_equal(vfn_nvme_get_arbitration(ctrl, &ab, &lpw, &mpw, &hpw), 0);
	assert_int_equal(ab, 7);
	assert_int_equal(lpw, 0);
	assert_int_equal(mpw, 1);
	assert_int_equal(hpw, 3);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), BUF_LEN, (void **)&buf, &iova), BUF_LEN);
	for (uint16_t q = 1; q <= 3; q++) {
		struct vfn_nvme_qpair_opts o = { .entries = 32, .qprio = prio[q] };

		assert_int_equal(vfn_nvme_qpair_create(ctrl, q, &o, &qp[q]), 0);
		assert_int_equal(sim->sqs[q].qprio, prio[q]);
	}
	n0 = __atomic_load_n(&sim->nr_fetched, __ATOMIC_ACQUIRE);
	vfn_sim_bus_master(sim, false); /* everything queued before the controller looks */
	for (uint16_t q = 1; q <= 3; q++) {
		for (unsigned int i = 0; i < count[q]; i++)
			assert_int_equal(vfn_nvme_write_async(qp[q], &ns, i, 1, buf, false, done_cb, &done), 0);
		vfn_nvme_qpair_submit(qp[q]);
	}
	vfn_sim_bus_master(sim, true);
	for (int i = 0; i < 1000000 && done < 19; i++)
		for (uint16_t q = 1; q <= 3; q++)
			vfn_nvme_qpair_reap(qp[q], 0);
	assert_int_equal(done, 19);
	assert_int_equal(__atomic_load_n(&sim->nr_fetched, __ATOMIC_ACQUIRE) - n0, 19);
	for (unsigned int i = 0; i < 19; i++)
		assert_int_equal(sim->fetch_log[(n0 + i) % 256], want[i]);
	for (uint16_t q = 1; q <= 3; q++)
		vfn_nvme_qpair_destroy(qp[q]);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, BUF_LEN);
	vfn_nvme_ctrl_close(ctrl);
	copts.ams = 2; /* vendor specific: not offered */
	assert_int_equal(vfn_nvme_ctrl_open("sim:", &copts, &ctrl), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_vector), cmocka_unit_test(test_vector_beyond),
		cmocka_unit_test(test_admin_irq),     cmocka_unit_test(test_admin_vector_shared),
		cmocka_unit_test(test_irq_mode_sim),  cmocka_unit_test(test_resets_sim),
		cmocka_unit_test(test_wrr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
