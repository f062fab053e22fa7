/* SPDX-License-Identifier: MIT */
/*
 * Guest test: controller bring-up and identify against QEMU's emulated NVMe
 * controller through real VFIO.  The host tells us what QEMU was configured
 * with through the environment:
 *   VFN_BDF            the controller's address (0000:00:01.0)
 *   VFN_TEST_SERIAL    -device nvme,serial=...
 *   VFN_TEST_IMG_SIZE  size in bytes of the namespace's backing image
 *   VFN_TEST_LBA_SIZE  logical_block_size of the namespace
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

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static uint64_t env_u64(const char *name)
{
	return strtoull(env(name), NULL, 0);
}

static int open_ctrl(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open(env("VFN_BDF"), NULL, &ctrl), 0);
	*state = ctrl;
	return 0;
}

static int close_ctrl(void **state)
{
	vfn_nvme_ctrl_close(*state);
	return 0;
}

static void test_registers_after_init(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	uint64_t cap = vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP);
	uint32_t cc = vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC);
	uint32_t csts = vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS);
	uint32_t vs = vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS);

	assert_true(cc & VFN_NVME_CC_EN);
	assert_true(csts & VFN_NVME_CSTS_RDY);
	assert_false(csts & VFN_NVME_CSTS_CFS);
	/* What the driver programmed: 64-byte SQEs, 16-byte CQEs, NVM set. */
	assert_int_equal((cc >> VFN_NVME_CC_IOSQES_SHIFT) & 0xf, 6);
	assert_int_equal((cc >> VFN_NVME_CC_IOCQES_SHIFT) & 0xf, 4);
	/* CC.CSS: all I/O command sets when CAP.CSS bit 6 offers them (QEMU 7.2 does), else NVM. */
	assert_int_equal((cc >> VFN_NVME_CC_CSS_SHIFT) & 0x7,
			 vfn_nvme_cap_css(cap) & VFN_NVME_CAP_CSS_CSI ? VFN_NVME_CC_CSS_CSI : VFN_NVME_CC_CSS_NVM);
	assert_true(vfn_nvme_cap_css(cap) & VFN_NVME_CAP_CSS_CSI);
	/* QEMU 7.2's controller: NVMe 1.4, 2047 + 1 entries, NVM set. */
	assert_int_equal(vs, 0x10400);
	assert_int_equal(vfn_nvme_cap_mqes(cap), 0x7ff);
	assert_true(vfn_nvme_cap_css(cap) & VFN_NVME_CAP_CSS_NVM);
	/* The admin queue registers hold what we gave the controller. */
	assert_int_not_equal(vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_ASQ), 0);
	assert_int_not_equal(vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_ACQ), 0);
}

static void test_identify_controller(void **state)
{
	const struct vfn_nvme_ctrl_info *info = vfn_nvme_ctrl_get_info(*state);

	assert_int_equal(info->vid, 0x1b36);
	assert_int_equal(info->ssvid, 0x1af4);
	assert_string_equal(info->mn, "QEMU NVMe Ctrl");
	assert_string_equal(info->sn, env("VFN_TEST_SERIAL"));
	assert_int_equal(info->nn, 256);
	/* QEMU's default mdts=7 with 4 KiB MPSMIN: 512 KiB. */
	assert_int_equal(info->mdts, 7);
	assert_int_equal(info->max_xfer, 512 * 1024);
	assert_true(info->nr_sq >= 1 && info->nr_cq >= 1);
}

static void test_identify_namespace(void **state)
{
	uint64_t lba = env_u64("VFN_TEST_LBA_SIZE");
	struct vfn_nvme_ns_info ns;
	uint32_t nsids[8];

	assert_int_equal(vfn_nvme_ns_list_active(*state, 0, nsids, 8), 1);
	assert_int_equal(nsids[0], 1);

	assert_int_equal(vfn_nvme_ns_get_info(*state, 1, &ns), 0);
	assert_int_equal(ns.nsid, 1);
	assert_int_equal(ns.lba_size, lba);
	assert_int_equal(ns.nsze, env_u64("VFN_TEST_IMG_SIZE") / lba);
	assert_int_equal(ns.ncap, ns.nsze);
	assert_int_equal(ns.ms, 0);

	assert_int_equal(vfn_nvme_ns_get_info(*state, 2, &ns), -ENOENT);
	assert_int_equal(vfn_nvme_ns_get_info(*state, 0xfffffff0, &ns), -ENOENT);
}

static void test_admin_error_status_surfaces(void **state)
{
	struct vfn_nvme_sqe sqe = { .opcode = 0xc1 /* not an admin opcode */ };
	struct vfn_nvme_cqe cqe;
	uint32_t nq = 0;

	assert_int_equal(vfn_nvme_admin_sync(*state, &sqe, NULL, 0, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_OPCODE);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "Invalid Command Opcode");

	/* Get Features Number of Queues answers what Set Features granted. */
	assert_int_equal(vfn_nvme_get_features(*state, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &nq, NULL, 0), 0);
	assert_int_equal((nq & 0xffff) + 1, vfn_nvme_ctrl_get_info(*state)->nr_sq);
}

/* After close the controller must be shut down: check with a raw VFIO open. */
static void test_shutdown_on_close(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;
	struct vfn_vfio_dev *dev = NULL;
	void *bar;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open(env("VFN_BDF"), NULL, &ctrl), 0);
	vfn_nvme_ctrl_close(ctrl);

	assert_int_equal(vfn_vfio_open(env("VFN_BDF"), NULL, &dev), 0);
	assert_int_equal(vfn_vfio_map_bar(dev, 0, &bar, &len), 0);
	uint32_t cc = vfn_mmio_read32((uint8_t *)bar + VFN_NVME_REG_CC);
	uint32_t csts = vfn_mmio_read32((uint8_t *)bar + VFN_NVME_REG_CSTS);
	fprintf(stderr, "# after close: CC 0x%08x CSTS 0x%08x\n", cc, csts);
	assert_false(cc & VFN_NVME_CC_EN);
	assert_false(csts & VFN_NVME_CSTS_RDY);
	vfn_vfio_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers_after_init, open_ctrl, close_ctrl),
		cmocka_unit_test_setup_teardown(test_identify_controller, open_ctrl, close_ctrl),
		cmocka_unit_test_setup_teardown(test_identify_namespace, open_ctrl, close_ctrl),
		cmocka_unit_test_setup_teardown(test_admin_error_status_surfaces, open_ctrl, close_ctrl),
		cmocka_unit_test(test_shutdown_on_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
