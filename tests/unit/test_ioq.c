/* SPDX-License-Identifier: MIT */
/*
 * I/O queue memory and argument checks, on a controller struct built by hand:
 * the register window is ordinary memory and DMA goes through an address
 * space with a no-op backend.  Nothing here sends a command.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/rq.h>

#include "iommu/iommu-priv.h"
#include "nvme/ctrl-priv.h"

#include "fake-iommu.h"

#define REGS_LEN 0x2000

static int setup(void **state)
{
	struct vfn_nvme_ctrl *ctrl = calloc(1, sizeof(*ctrl));

	assert_non_null(ctrl);
	ctrl->hw.regs = calloc(1, REGS_LEN);
	ctrl->hw.regs_len = REGS_LEN;
	strcpy(ctrl->hw.name, "unit");
	fake_iommu_alloc(&ctrl->hw.iommu);
	ctrl->cap = 0x7ff | 2ull << 32; /* MQES 2047, DSTRD 2: 16-byte doorbell stride */
	ctrl->db_stride = 16;
	ctrl->page_size = 4096;
	ctrl->info.nr_sq = 4;
	ctrl->info.nr_cq = 4;
	ctrl->info.max_xfer = 128 * 1024;
	*state = ctrl;
	return 0;
}

static int teardown(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;

	vfn_iommu_put(ctrl->hw.iommu);
	free(ctrl->hw.regs);
	free(ctrl);
	return 0;
}

static void test_cq_alloc(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	struct vfn_cq cq;
	uint64_t iova;

	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 3, 100), 0);
	assert_int_equal(cq.qid, 3);
	assert_int_equal(cq.entries, 100);
	assert_int_equal(cq.head, 0);
	assert_int_equal(cq.phase, 1);
	assert_int_equal(cq.vector, -1);
	assert_int_equal(cq.efd, -1);
	/* CQ3HDBL: 0x1000 + (2 * 3 + 1) * stride. */
	assert_ptr_equal(cq.db, (uint8_t *)ctrl->hw.regs + 0x1000 + 7 * 16);
	assert_int_equal(vfn_iommu_translate(ctrl->hw.iommu, cq.cqes, &iova, NULL), 0);
	assert_int_equal(iova, cq.iova);
	for (size_t i = 0; i < 100 * sizeof(struct vfn_nvme_cqe); i++)
		assert_int_equal(((uint8_t *)cq.cqes)[i], 0);
	vfn_nvme_cq_free(ctrl, &cq);
	assert_null(cq.cqes);
	vfn_nvme_cq_free(ctrl, &cq); /* idempotent */
}

static void test_sq_alloc(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	struct vfn_cq cq;
	struct vfn_sq sq;

	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 1, 2), 0);
	assert_int_equal(vfn_nvme_sq_alloc(ctrl, &sq, 1, 65535, &cq), 0);
	assert_ptr_equal(sq.db, (uint8_t *)ctrl->hw.regs + 0x1000 + 2 * 16);
	assert_ptr_equal(sq.cq, &cq);
	assert_int_equal(sq.entries, 65535);
	assert_int_equal(vfn_sq_space(&sq), 65534);
	assert_int_equal(vfn_nvme_sq_alloc(ctrl, &sq, 1, 16, NULL), -EINVAL);
	vfn_nvme_sq_free(ctrl, &sq);
	vfn_nvme_cq_free(ctrl, &cq);
}

/*
 * The event-index rule against its definition, walked slot by slot: ring
 * iff the controller's EventIdx is one of the values the doorbell moved
 * over, [old, new) around the ring (a value k below 0 in 16 bits standing
 * for entries - k, any other value outside the ring always rings).  Every old/new pair of
 * several ring sizes, every EventIdx in the ring and the awkward ones
 * outside it.
 */
static int need_mmio_by_walking(uint16_t ei, uint16_t old, uint16_t new_, uint16_t entries)
{
	if (ei >= 0x10000 - entries)
		ei = (uint16_t)(ei - (0x10000 - entries)); /* -k: k slots before the end */
	else if (ei >= entries)
		return 1;
	for (uint16_t v = old; v != new_; v = (uint16_t)((v + 1u) % entries))
		if (v == ei)
			return 1;
	return 0;
}

static void test_db_need_mmio(void **state)
{
	static const uint16_t sizes[] = { 2, 3, 5, 8, 33, 64 };
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint16_t e = sizes[i];
		const uint16_t outside[] = { e,
					     (uint16_t)(e + 1),
					     0x7fff,
					     0x8000,
					     (uint16_t)(0x10000 - e),
					     (uint16_t)(0xffff - e),
					     0xfffe,
					     0xffff };
		unsigned int rings = 0;

		for (uint16_t old = 0; old < e; old++)
			for (uint16_t new_ = 0; new_ < e; new_++) {
				for (uint16_t ei = 0; ei < e; ei++) {
					int want = need_mmio_by_walking(ei, old, new_, e);

					assert_int_equal(vfn_db_need_mmio(ei, old, new_, e), want);
					rings += (unsigned int)want;
				}
				for (size_t k = 0; k < sizeof(outside) / sizeof(outside[0]); k++)
					assert_int_equal(vfn_db_need_mmio(outside[k], old, new_, e),
							 need_mmio_by_walking(outside[k], old, new_, e));
			}
		/* Each EventIdx lies in [old, new) for e * (e - 1) / 2 of the e * e pairs. */
		assert_int_equal(rings, (unsigned int)e * e * (e - 1u) / 2u);
	}
}

/* cq.unreported: CQEs popped since the head doorbell was written, whatever head was written. */
static void test_cq_unreported(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	struct vfn_cq cq;

	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 1, 8), 0);
	assert_int_equal(cq.unreported, 0);
	for (int i = 0; i < 3; i++)
		vfn_cq_pop(&cq);
	assert_int_equal(cq.unreported, 3);
	vfn_cq_write_head(&cq, 1); /* a test writing a stale head: 2 still unreported */
	assert_int_equal(cq.unreported, 2);
	assert_int_equal(cq.db_head, 1);
	vfn_cq_ring(&cq);
	assert_int_equal(cq.unreported, 0);
	assert_int_equal(cq.db_head, 3);
	for (int i = 0; i < 6; i++)
		vfn_cq_pop(&cq); /* head 3 -> 1, across the wrap */
	assert_int_equal(cq.head, 1);
	assert_int_equal(cq.phase, 0);
	assert_int_equal(cq.unreported, 6);
	vfn_cq_write_head(&cq, 7);
	assert_int_equal(cq.unreported, 2);
	assert_int_equal(cq.mmio_db_writes, 3);
	vfn_nvme_cq_free(ctrl, &cq);
}

static void test_alloc_rejects(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	struct vfn_cq cq = { 0 };
	struct vfn_sq sq = { 0 };

	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 1, 1), -EINVAL);
	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 1, 65536), -EINVAL);
	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 0, 16), -EINVAL);
	/* CQ127HDBL ends at 0x1000 + 255 * 16 + 4, inside the 8 KiB window; SQ128TDBL starts at its end. */
	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 127, 16), 0);
	vfn_nvme_cq_free(ctrl, &cq);
	assert_int_equal(vfn_nvme_cq_alloc(ctrl, &cq, 128, 16), -EINVAL);
	assert_int_equal(vfn_nvme_sq_alloc(ctrl, &sq, 128, 16, &cq), -EINVAL);
	assert_int_equal(vfn_nvme_cq_alloc(NULL, &cq, 1, 16), -EINVAL);
	assert_int_equal(vfn_nvme_cq_alloc(ctrl, NULL, 1, 16), -EINVAL);
	assert_null(cq.cqes);
	/* Commands for queues that have no ring are refused before reaching the device. */
	assert_int_equal(vfn_nvme_cq_create(ctrl, &cq, -1, NULL), -EINVAL);
	assert_int_equal(vfn_nvme_sq_create(ctrl, &sq, 0, NULL), -EINVAL);
}

static void test_qpair_rejects(void **state)
{
	struct vfn_nvme_ctrl *ctrl = *state;
	struct vfn_nvme_qpair_opts opts = { .entries = 16 };
	struct vfn_nvme_qpair *qp = NULL;

	assert_int_equal(vfn_nvme_qpair_create(ctrl, 0, &opts, &qp), -EINVAL);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 5, &opts, &qp), -EINVAL); /* 4 granted */
	opts.entries = 1;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), -EINVAL);
	opts.entries = 2049; /* CAP.MQES + 2 */
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), -EINVAL);
	assert_int_equal(vfn_nvme_qpair_create(NULL, 1, &opts, &qp), -EINVAL);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, NULL), -EINVAL);
	assert_null(qp);
	vfn_nvme_qpair_destroy(NULL);
	assert_int_equal(vfn_nvme_qpair_eventfd(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cq_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sq_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_rejects, setup, teardown),
		cmocka_unit_test(test_db_need_mmio),
		cmocka_unit_test_setup_teardown(test_cq_unreported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qpair_rejects, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
