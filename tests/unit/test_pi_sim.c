/* SPDX-License-Identifier: MIT */
/*
 * Metadata and end-to-end protection against the simulator: the namespace
 * geometry (DPS, ELBAF PIF, block size) through the controller and the dev
 * handle.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/dev.h>
#include <vfn/nvme.h>
#include <vfn/pi.h>
#include <vfn/rq.h>

static struct vfn_nvme_ctrl *open_ok(const char *spec)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open(spec, NULL, &ctrl), 0);
	assert_non_null(ctrl);
	return ctrl;
}

static void test_geometry_ctrl(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:lbads=9,ms=16,mset=1,pi=2,pif=2,pil=1");
	struct vfn_nvme_ns_info ns;

	(void)state;
	assert_true(vfn_nvme_ctrl_get_info(ctrl)->ctratt & VFN_PI_CTRATT_ELBAS);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(ns.lba_size, 512);
	assert_int_equal(ns.ms, 16);
	assert_true(ns.mset);
	assert_int_equal(ns.pi_type, 2);
	assert_int_equal(ns.pif, VFN_PI_PIF_64);
	assert_true(ns.pi_first);
	assert_int_equal(ns.block_size, 528);
	vfn_nvme_ctrl_close(ctrl);

	ctrl = open_ok("sim:ms=8,pi=3");
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(ns.lba_size, 4096);
	assert_int_equal(ns.ms, 8);
	assert_false(ns.mset);
	assert_int_equal(ns.pi_type, 3);
	assert_int_equal(ns.pif, VFN_PI_PIF_16);
	assert_false(ns.pi_first);
	assert_int_equal(ns.block_size, 4104);
	vfn_nvme_ctrl_close(ctrl);

	ctrl = open_ok("sim:lbads=9");
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(ns.pi_type, 0);
	assert_int_equal(ns.block_size, 512);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_geometry_dev(void **state)
{
	struct vfn_dev *dev = NULL;
	const struct vfn_dev_info *info;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:ms=64,pi=1,pif=2", NULL, &dev), 0);
	info = vfn_dev_get_info(dev);
	assert_int_equal(info->ms, 64);
	assert_int_equal(info->pi_type, 1);
	assert_int_equal(info->pif, VFN_PI_PIF_64);
	assert_false(info->pi_first);
	assert_false(info->mset);
	assert_int_equal(info->block_size, 4096 + 64);
	vfn_dev_close(dev);
}

static void test_sim_pi_options_checked(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:ms=8,pi=1,pif=2", NULL, &ctrl), -EINVAL);  /* 16-byte tuple */
	assert_int_equal(vfn_nvme_ctrl_open("sim:pi=1", NULL, &ctrl), -EINVAL);		    /* no metadata */
	assert_int_equal(vfn_nvme_ctrl_open("sim:ms=16,pi=1,pif=1", NULL, &ctrl), -EINVAL); /* 32-bit guard */
	assert_int_equal(vfn_nvme_ctrl_open("sim:ms=16,pi=4", NULL, &ctrl), -EINVAL);
	assert_null(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_ctrl),
		cmocka_unit_test(test_geometry_dev),
		cmocka_unit_test(test_sim_pi_options_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
