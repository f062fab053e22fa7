/* SPDX-License-Identifier: MIT */
/*
 * The public fault-injection API of <vfn/sim.h>, through the shipped shared
 * library only (as an application sees it): every fault and what the
 * application gets from it — the status, the timeout, the register value.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#define OP_IDENTIFY 0x06
#define OP_GET_FEATURES 0x0a
#define OP_READ 0x02

static struct vfn_dev *open_sim(const char *spec)
{
	struct vfn_dev *dev = NULL;

	assert_int_equal(vfn_dev_open(spec, NULL, &dev), 0);
	return dev;
}

static uint64_t ms_since(uint64_t t0)
{
	return (vfn_now_ns() - t0) / 1000000;
}

/* Get Features Arbitration: a small admin command without data. */
static int get_arb(struct vfn_dev *dev, struct vfn_nvme_cqe *cqe, uint32_t timeout_ms)
{
	struct vfn_nvme_sqe sqe = { .opcode = OP_GET_FEATURES, .cdw10 = vfn_cpu_to_le32(0x01) };

	return vfn_dev_admin(dev, &sqe, NULL, 0, cqe, timeout_ms);
}

static void test_handles(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");

	(void)state;
	assert_non_null(vfn_dev_sim(dev));
	assert_ptr_equal(vfn_dev_sim(dev), vfn_nvme_ctrl_sim(vfn_dev_nvme_ctrl(dev)));
	errno = 0;
	assert_null(vfn_dev_sim(NULL));
	assert_int_equal(errno, ENOTSUP);
	errno = 0;
	assert_null(vfn_nvme_ctrl_sim(NULL));
	assert_int_equal(errno, ENOTSUP);
	assert_int_equal(vfn_sim_fault_armed(NULL), -EINVAL);
	assert_int_equal(vfn_sim_fault_add(NULL, &(struct vfn_sim_fault){ .sqid = -1, .opcode = -1 }), -EINVAL);
	assert_int_equal(vfn_sim_event_raise(NULL, 0, 0, 0), -EINVAL);
	vfn_dev_close(dev);
}

static void test_status_helper(void **state)
{
	(void)state;
	assert_int_equal(vfn_sim_status(0, 0x80, false, false), 0x0080);
	assert_int_equal(vfn_sim_status(1, 0x01, false, true), 0x4101);
	assert_int_equal(vfn_sim_status(2, 0x81, true, true), 0x6281);
	assert_int_equal(vfn_sim_status(9, 0x02, false, false), 0x0102); /* SCT is 3 bits */
}

static void test_bad_faults(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_sim *sim = vfn_dev_sim(dev);
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = 0x7f };

	(void)state;
	assert_int_equal(vfn_sim_fault_add(sim, &(struct vfn_sim_fault){ .action = 99, .sqid = -1, .opcode = -1 }),
			 -EINVAL);
	assert_int_equal(vfn_sim_fault_add(sim, &(struct vfn_sim_fault){ .sqid = 65, .opcode = -1 }), -EINVAL);
	assert_int_equal(vfn_sim_fault_add(sim, &(struct vfn_sim_fault){ .sqid = -1, .opcode = 256 }), -EINVAL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	assert_int_equal(vfn_sim_fault_armed(sim), 8);
	assert_int_equal(vfn_sim_fault_add(sim, &f), -ENOSPC);
	vfn_sim_fault_clear(sim);
	assert_int_equal(vfn_sim_fault_armed(sim), 0);
	vfn_dev_close(dev);
}

/* STATUS on Identify: the application sees exactly that status, once. */
static void test_status(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_sim *sim = vfn_dev_sim(dev);
	struct vfn_sim_fault f = {
		.action = VFN_SIM_FAULT_STATUS,
		.sqid = 0,
		.opcode = OP_IDENTIFY,
		.status = vfn_sim_status(VFN_NVME_SCT_MEDIA, 0x81, false, true),
	};
	struct vfn_nvme_cqe cqe;
	uint8_t id[4096];

	(void)state;
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	assert_int_equal(vfn_sim_fault_armed(sim), 1);
	assert_int_equal(vfn_dev_identify(dev, 1, 0, id, &cqe), -EIO);
	assert_int_equal(vfn_nvme_status_sct(vfn_nvme_cqe_status(&cqe)), VFN_NVME_SCT_MEDIA);
	assert_int_equal(vfn_nvme_status_sc(vfn_nvme_cqe_status(&cqe)), 0x81);
	assert_true(vfn_nvme_status_dnr(vfn_nvme_cqe_status(&cqe)));
	assert_int_equal(vfn_sim_fault_armed(sim), 0);
	/* One-shot: the next Identify works and says who the controller is. */
	assert_int_equal(vfn_dev_identify(dev, 1, 0, id, &cqe), 0);
	assert_memory_equal(id + 24, "vfn simulated controller", 24);
	vfn_dev_close(dev);
}

/* nth + repeat on the I/O queues: reads 1 and 2 pass, 3 and 4 fail with LBA Out of Range. */
static void test_nth_repeat_io(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_sim *sim = vfn_dev_sim(dev);
	struct vfn_sim_fault f = {
		.action = VFN_SIM_FAULT_STATUS,
		.sqid = -1,
		.opcode = OP_READ,
		.nth = 3,
		.repeat = true,
		.status = vfn_sim_status(0, VFN_NVME_SC_LBA_RANGE, false, true),
	};
	uint8_t buf[4096];
	int ret[4];

	(void)state;
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	for (int i = 0; i < 4; i++)
		ret[i] = vfn_dev_read(dev, 1, (uint64_t)i, 1, buf);
	assert_int_equal(ret[0], 0);
	assert_int_equal(ret[1], 0);
	assert_int_equal(ret[2], -EIO);
	assert_int_equal(ret[3], -EIO);
	assert_int_equal(vfn_sim_fault_armed(sim), 1); /* repeating: still armed */
	/* A write is not a read: the fault leaves it alone. */
	assert_int_equal(vfn_dev_write(dev, 1, 0, 1, buf), 0);
	vfn_sim_fault_clear(sim);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 1, buf), 0);
	vfn_dev_close(dev);
}

/* DROP: the command runs but never completes: the application's timeout fires. */
static void test_drop_times_out(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_sim *sim = vfn_dev_sim(dev);
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = OP_GET_FEATURES };
	struct vfn_nvme_cqe cqe;
	uint64_t t0;

	(void)state;
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	t0 = vfn_now_ns();
	assert_int_equal(get_arb(dev, &cqe, 200), -ETIMEDOUT);
	assert_true(ms_since(t0) >= 200);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), VFN_NVME_SC_HOST_ABORTED);
	vfn_dev_close(dev);
}

/* DELAY: completes successfully, but not before the delay. */
static void test_delay(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_sim *sim = vfn_dev_sim(dev);
	struct vfn_sim_fault f = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = 0, .opcode = OP_GET_FEATURES, .delay_ms = 150
	};
	struct vfn_nvme_cqe cqe;
	uint64_t t0, ms;

	(void)state;
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	t0 = vfn_now_ns();
	assert_int_equal(get_arb(dev, &cqe, 5000), 0);
	ms = ms_since(t0);
	assert_true(ms >= 150);
	t0 = vfn_now_ns();
	assert_int_equal(get_arb(dev, &cqe, 5000), 0); /* one-shot */
	assert_true(ms_since(t0) < 150);
	vfn_dev_close(dev);
}

/* WRONG_CID and WRONG_PHASE: the driver never matches the completion: a timeout. */
static void test_wrong_cid_phase(void **state)
{
	enum vfn_sim_fault_action acts[] = { VFN_SIM_FAULT_WRONG_CID, VFN_SIM_FAULT_WRONG_PHASE };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct vfn_dev *dev = open_sim("sim:");
		struct vfn_sim_fault f = { .action = acts[i], .sqid = 0, .opcode = OP_GET_FEATURES };
		struct vfn_nvme_cqe cqe;

		assert_int_equal(vfn_sim_fault_add(vfn_dev_sim(dev), &f), 0);
		assert_int_equal(get_arb(dev, &cqe, 150), -ETIMEDOUT);
		vfn_dev_close(dev);
	}
}

/* CFS: CSTS.CFS reads 1 and admin commands fail; a reset recovers. */
static void test_fatal(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(dev);
	struct vfn_nvme_cqe cqe;

	(void)state;
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_CFS, 0);
	vfn_sim_fault_fatal(vfn_dev_sim(dev));
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_CFS, VFN_NVME_CSTS_CFS);
	assert_int_equal(get_arb(dev, &cqe, 1000), -EIO);
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & (VFN_NVME_CSTS_CFS | VFN_NVME_CSTS_RDY),
			 VFN_NVME_CSTS_RDY);
	assert_int_equal(get_arb(dev, &cqe, 1000), 0);
	vfn_dev_close(dev);
}

/* never_ready: a reset times out after CAP.TO (to=1: 500 ms); once off, it works. */
static void test_never_ready(void **state)
{
	struct vfn_dev *dev = open_sim("sim:to=1");
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(dev);
	struct vfn_sim *sim = vfn_dev_sim(dev);
	uint64_t t0;

	(void)state;
	vfn_sim_fault_never_ready(sim, true);
	t0 = vfn_now_ns();
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), -ETIMEDOUT);
	assert_true(ms_since(t0) >= 500);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, 0);
	vfn_sim_fault_never_ready(sim, false);
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, VFN_NVME_CSTS_RDY);
	vfn_dev_close(dev);
}

/* never_ready=1 as an option: the open itself times out. */
static void test_never_ready_option(void **state)
{
	struct vfn_dev *dev = NULL;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:never_ready=1,to=1", NULL, &dev), -ETIMEDOUT);
	assert_null(dev);
}

/* Wedge 1: CC.EN 1 -> 0 is ignored, CSTS.RDY stays 1. */
static void test_wedge(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(dev);
	struct vfn_sim *sim = vfn_dev_sim(dev);
	uint32_t cc = vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC);
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)state;
	vfn_sim_fault_wedge(sim, 1);
	vfn_nvme_reg_write32(ctrl, VFN_NVME_REG_CC, cc & ~VFN_NVME_CC_EN);
	nanosleep(&ts, NULL);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_RDY, VFN_NVME_CSTS_RDY);
	vfn_sim_fault_wedge(sim, 0);
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	vfn_dev_close(dev);
}

/* Surprise removal: registers all-ones, commands -ENODEV. */
static void test_remove(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(dev);
	struct vfn_nvme_cqe cqe;

	(void)state;
	vfn_sim_fault_remove(vfn_dev_sim(dev));
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS), 0xffffffffu);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS), 0xffffffffu);
	assert_int_equal(get_arb(dev, &cqe, 1000), -ENODEV);
	vfn_dev_close(dev);
}

static void on_event(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	(void)ctrl;
	*(uint32_t *)arg = dw0;
}

/* An injected asynchronous event reaches the AER callback with its DW0. */
static void test_event(void **state)
{
	struct vfn_dev *dev = open_sim("sim:");
	struct vfn_nvme_ctrl *ctrl = vfn_dev_nvme_ctrl(dev);
	uint32_t dw0 = 0;
	uint64_t t0 = vfn_now_ns();

	(void)state;
	assert_int_equal(vfn_nvme_aer_set_callback(ctrl, on_event, &dw0), 0);
	assert_int_equal(vfn_sim_event_raise(vfn_dev_sim(dev), 0x2, 0x01, 0x02), 0);
	while (!dw0 && ms_since(t0) < 2000)
		vfn_nvme_admin_poll(ctrl);
	assert_int_equal(dw0, 0x00020102);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_status_helper),
		cmocka_unit_test(test_bad_faults),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_nth_repeat_io),
		cmocka_unit_test(test_drop_times_out),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_wrong_cid_phase),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_never_ready),
		cmocka_unit_test(test_never_ready_option),
		cmocka_unit_test(test_wedge),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
