/* SPDX-License-Identifier: MIT */
/*
 * Controller bring-up choices: CC.MPS against CAP.MPSMIN/MPSMAX and the
 * host page size, the shutdown timeout from RTD3E, the largest queue pair.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/rq.h>

#include "nvme/ctrl-priv.h"

static uint64_t cap_mps(unsigned int mpsmin, unsigned int mpsmax)
{
	return (uint64_t)mpsmin << 48 | (uint64_t)mpsmax << 52;
}

/* 4 KiB pages whenever CAP.MPSMIN allows, whatever the host page (64 KiB on some arm64/ppc64 kernels). */
static void test_page_size(void **state)
{
	size_t page = 0;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(0, 0), 65536, &page), 0);
	assert_int_equal(page, 4096);
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(0, 4), 65536, &page), 0);
	assert_int_equal(page, 4096);
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(0, 4), 4096, &page), 0);
	assert_int_equal(page, 4096);
	/* A controller that wants larger pages gets its minimum, if host pages hold it. */
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(1, 4), 65536, &page), 0);
	assert_int_equal(page, 8192);
	page = 0;
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(1, 4), 4096, &page), -ENOTSUP);
	assert_int_equal(vfn_nvme_ctrl_choose_page_size(cap_mps(2, 1), 65536, &page), -ENOTSUP);
	assert_int_equal(page, 0);
}

/* The simulated controller with CAP.MPSMAX = 4 KiB comes up with CC.MPS = 0 and moves data. */
static void test_mpsmax_4k(void **state)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 8 };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ctrl *ctrl;
	uint64_t iova;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:mpsmax=0", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_cap_mpsmax(vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP)), 0);
	assert_int_equal((vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC) >> VFN_NVME_CC_MPS_SHIFT) & 0xf, 0);
	assert_int_equal(ctrl->page_size, 4096);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &qo, &qp), 0);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 65536, (void **)&buf, &iova), 65536);
	for (size_t i = 0; i < 32768; i++)
		buf[i] = (uint8_t)(i * 13);
	assert_int_equal(vfn_nvme_write(qp, &ns, 0, 32768 / ns.lba_size, buf, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_read(qp, &ns, 0, 32768 / ns.lba_size, buf + 32768, NULL, NULL), 0);
	assert_memory_equal(buf, buf + 32768, 32768);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, 65536);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
}

/* Shutdown waits max(RTD3E, 5 s), at most 60 s. */
static void test_shn_timeout(void **state)
{
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	assert_int_equal(vfn_nvme_shn_timeout_ms(0), 5000);
	assert_int_equal(vfn_nvme_shn_timeout_ms(4999001), 5000);
	assert_int_equal(vfn_nvme_shn_timeout_ms(8000000), 8000);
	assert_int_equal(vfn_nvme_shn_timeout_ms(8000001), 8001);
	assert_int_equal(vfn_nvme_shn_timeout_ms(60000000), 60000);
	assert_int_equal(vfn_nvme_shn_timeout_ms(UINT32_MAX), 60000);
	assert_int_equal(vfn_nvme_ctrl_open("sim:rtd3e=8000000", NULL, &ctrl), 0);
	assert_int_equal(ctrl->shn_timeout_ms, 8000);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	assert_int_equal(ctrl->shn_timeout_ms, 5000);
	vfn_nvme_ctrl_close(ctrl);
}

/* The largest pair: CAP.MQES + 1 entries, but no more than the 16-bit rings hold. */
static void test_max_entries(void **state)
{
	struct vfn_nvme_qpair_opts qo = { .entries = 65535 };
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ctrl *ctrl;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:mqes=65535", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_get_info(ctrl)->qpair_max_entries, 65535);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &qo, &qp), 0);
	assert_int_equal(qp->sq.entries, 65535);
	assert_int_equal(qp->rqs.nr, 65534);
	assert_int_equal(vfn_nvme_flush(qp, 1, NULL, NULL), 0);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);

	assert_int_equal(vfn_nvme_ctrl_open("sim:mqes=7", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_get_info(ctrl)->qpair_max_entries, 8);
	qo.entries = 9;
	qp = NULL;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &qo, &qp), -EINVAL);
	assert_null(qp);
	qo.entries = 8;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &qo, &qp), 0);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_size),
		cmocka_unit_test(test_mpsmax_4k),
		cmocka_unit_test(test_shn_timeout),
		cmocka_unit_test(test_max_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
