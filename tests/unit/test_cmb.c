/* SPDX-License-Identifier: MIT */
/* The CMB allocator (src/nvme/cmb-heap.c) and the CMB API without a CMB. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/cmb.h>
#include <vfn/nvme.h>
#include <vfn/support.h>

#include "nvme/cmb-heap.h"
#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define MiB (1024ull * 1024)

static void assert_all_free(struct vfn_cmb_heap *h)
{
	uint64_t total, largest;

	vfn_cmb_heap_stats(h, &total, &largest);
	assert_int_equal(total, h->size);
	assert_int_equal(largest, h->size);
}

static void test_heap_fit_and_merge(void **state)
{
	struct vfn_cmb_heap h;
	uint64_t a, b, c, d, total, largest;

	(void)state;
	assert_int_equal(vfn_cmb_heap_init(&h, 64 * 1024 + 100, 4096), 0);
	assert_int_equal(h.size, 64 * 1024); /* rounded down to the granule */
	assert_int_equal(vfn_cmb_heap_alloc(&h, 1, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(vfn_cmb_heap_alloc(&h, 4097, &b), 0); /* two granules */
	assert_int_equal(b, 4096);
	assert_int_equal(vfn_cmb_heap_alloc(&h, 4096, &c), 0);
	assert_int_equal(c, 3 * 4096);
	vfn_cmb_heap_stats(&h, &total, &largest);
	assert_int_equal(total, 12 * 4096);
	/* Too large: refused, nothing taken. */
	assert_int_equal(vfn_cmb_heap_alloc(&h, 13 * 4096, &d), -ENOMEM);
	assert_int_equal(vfn_cmb_heap_alloc(&h, 0, &d), -EINVAL);
	/* Free the middle piece: a hole of two granules that the next fit reuses. */
	assert_int_equal(vfn_cmb_heap_free(&h, b), 0);
	assert_int_equal(vfn_cmb_heap_free(&h, b), -ENOENT);	    /* double free */
	assert_int_equal(vfn_cmb_heap_free(&h, 4096 * 2), -ENOENT); /* not a piece's start */
	assert_int_equal(vfn_cmb_heap_alloc(&h, 8192, &d), 0);
	assert_int_equal(d, 4096);
	assert_int_equal(vfn_cmb_heap_free(&h, d), 0);
	/* Freed neighbours merge: everything is one piece again. */
	assert_int_equal(vfn_cmb_heap_free(&h, a), 0);
	assert_int_equal(vfn_cmb_heap_free(&h, c), 0);
	assert_all_free(&h);
	assert_int_equal(vfn_cmb_heap_alloc(&h, 64 * 1024, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(vfn_cmb_heap_alloc(&h, 1, &b), -ENOMEM);
	assert_int_equal(vfn_cmb_heap_free(&h, a), 0);
	vfn_cmb_heap_fini(&h);
	assert_int_equal(vfn_cmb_heap_init(&h, 100, 4096), -EINVAL);
	assert_int_equal(vfn_cmb_heap_init(&h, MiB, 3000), -EINVAL);
}

#define THREADS 4
#define ROUNDS 2000

/* Each thread allocates and frees pieces, checking no one else got the same bytes. */
static uint8_t owner[256];

static void *heap_worker(void *arg)
{
	struct vfn_cmb_heap *h = ((void **)arg)[0];
	uint8_t me = (uint8_t)(uintptr_t)((void **)arg)[1];
	uint64_t offs[8];
	int failures = 0;

	for (int r = 0; r < ROUNDS; r++) {
		unsigned int n = 1 + (unsigned int)(r % 8);

		for (unsigned int i = 0; i < n; i++) {
			if (vfn_cmb_heap_alloc(h, 4096 * (1 + (r + i) % 3), &offs[i])) {
				n = i;
				break;
			}
			if (__atomic_exchange_n(&owner[offs[i] / 4096], me, __ATOMIC_SEQ_CST) != 0)
				failures++;
		}
		for (unsigned int i = 0; i < n; i++) {
			__atomic_store_n(&owner[offs[i] / 4096], 0, __ATOMIC_SEQ_CST);
			if (vfn_cmb_heap_free(h, offs[i]))
				failures++;
		}
	}
	return (void *)(uintptr_t)failures;
}

static void test_heap_threads(void **state)
{
	struct vfn_cmb_heap h;
	pthread_t t[THREADS];
	void *args[THREADS][2];

	(void)state;
	assert_int_equal(vfn_cmb_heap_init(&h, 256 * 4096, 4096), 0);
	for (int i = 0; i < THREADS; i++) {
		args[i][0] = &h;
		args[i][1] = (void *)(uintptr_t)(i + 1);
		assert_int_equal(pthread_create(&t[i], NULL, heap_worker, args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_int_equal((uintptr_t)ret, 0);
	}
	assert_all_free(&h);
	vfn_cmb_heap_fini(&h);
}

/* The simulator has no CMB: the API says so instead of crashing. */
static void test_cmb_on_sim(void **state)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_cmb_info info;
	uint64_t addr;
	size_t len;
	void *p;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -ENOTSUP);
	assert_int_equal(vfn_nvme_cmb_enable(ctrl), -ENOTSUP);
	assert_int_equal(vfn_nvme_cmb_alloc(ctrl, 4096, &p, &addr), -ENOTSUP);
	assert_int_equal(vfn_nvme_cmb_translate(ctrl, &len, &addr, &len), -ENOENT);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * vfn_nvme_cmb_free(NULL) is ignored as the header says: nothing on stderr
 * (it logged "(nil) was not allocated from the CMB"); a foreign pointer is
 * still reported.
 */
static size_t stderr_of_free(struct vfn_nvme_ctrl *ctrl, void *p)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	long n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), 2), 2);
	vfn_nvme_cmb_free(ctrl, p);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = ftell(f) > 0 ? ftell(f) : lseek(fileno(f), 0, SEEK_END);
	fclose(f);
	return (size_t)n;
}

static void test_cmb_free_null(void **state)
{
	struct vfn_nvme_ctrl *ctrl;
	int x;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	vfn_log_set_level(VFN_LOG_ERR); /* the default is no log at all */
	assert_int_equal(stderr_of_free(ctrl, NULL), 0);
	assert_true(stderr_of_free(ctrl, &x) > 0);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_nvme_ctrl_close(ctrl);
}

static void put32(struct vfn_nvme_ctrl *ctrl, uint32_t off, uint32_t v)
{
	vfn_mmio_write32((uint8_t *)ctrl->hw.regs + off, v);
}

/*
 * CMBLOC/CMBSZ decoded by vfn_nvme_cmb_get_info(), with the register values
 * put into the simulator's register file (it has no CMB of its own): first
 * what QEMU 7.2 shows for cmb_size_mb=16, then a 1.4 controller (CAP.CMBS)
 * whose CMBMSC.CRE the call must set.
 */
static void test_cmb_regs_decode(void **state)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_cmb_info info;
	uint64_t cap;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	cap = ctrl->cap;

	/* BIR 2, OFST 0; SZ 16 x SZU 1 MiB, SQS LISTS RDS WDS (QEMU 7.2, legacy-cmb). */
	put32(ctrl, VFN_NVME_REG_CMBLOC, 0x2);
	put32(ctrl, VFN_NVME_REG_CMBSZ, 16u << 12 | 2u << 8 | 0x1d);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_int_equal(info.size, 16 * MiB);
	assert_int_equal(info.offset, 0);
	assert_int_equal(info.bar, 2);
	assert_true(info.sqs);
	assert_false(info.cqs);
	assert_true(info.lists);
	assert_true(info.rds);
	assert_true(info.wds);
	assert_false(info.msc);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBMSC), 0);

	/* BIR 4 at OFST 3 x 64 KiB, 5 x 64 KiB, CQS only; CAP.CMBS: CRE gets set. */
	ctrl->cap = cap | 1ull << 57;
	put32(ctrl, VFN_NVME_REG_CMBLOC, 3u << 12 | 4);
	put32(ctrl, VFN_NVME_REG_CMBSZ, 5u << 12 | 1u << 8 | 0x2);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_int_equal(info.size, 5 * 65536);
	assert_int_equal(info.offset, 3 * 65536);
	assert_int_equal(info.bar, 4);
	assert_false(info.sqs);
	assert_true(info.cqs);
	assert_false(info.lists);
	assert_false(info.rds);
	assert_false(info.wds);
	assert_true(info.msc);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBMSC), VFN_NVME_CMBMSC_CRE);

	/* SZU 15 / 13 (reserved): 4 KiB << 60 wrapped to a 0-byte unit; SZU 7 a 1 TiB one. */
	put32(ctrl, VFN_NVME_REG_CMBSZ, 16u << 12 | 15u << 8 | 0x1);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	put32(ctrl, VFN_NVME_REG_CMBSZ, 16u << 12 | 13u << 8 | 0x1);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	put32(ctrl, VFN_NVME_REG_CMBSZ, 16u << 12 | 7u << 8 | 0x1);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	/* SZU 6 (64 GiB), the largest defined unit, still decodes. */
	put32(ctrl, VFN_NVME_REG_CMBSZ, 2u << 12 | 6u << 8 | 0x1);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_int_equal(info.size, 2ull << 36);

	/* CMBLOC.BIR 1, 6, 7 (reserved): -EPROTO, not a BAR number handed to the mapping. */
	put32(ctrl, VFN_NVME_REG_CMBLOC, 1);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	put32(ctrl, VFN_NVME_REG_CMBLOC, 6);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	put32(ctrl, VFN_NVME_REG_CMBLOC, 7);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -EPROTO);
	put32(ctrl, VFN_NVME_REG_CMBLOC, 5);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_int_equal(info.bar, 5);

	/* CMBSZ 0: no CMB. */
	put32(ctrl, VFN_NVME_REG_CMBSZ, 0);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), -ENOTSUP);

	put32(ctrl, VFN_NVME_REG_CMBLOC, 0);
	put32(ctrl, VFN_NVME_REG_CMBMSC, 0);
	ctrl->cap = cap;
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * PMRCAP decoded by vfn_nvme_pmr_get_info() on values put into the
 * simulator's register file; the simulator has no PMR BAR, so enabling
 * and the accessors say -ENOTSUP and PMRCTL stays 0.
 */
static void test_pmr_regs_decode(void **state)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_pmr_info info;
	uint8_t buf[16] = { 0 };
	size_t len;
	uint64_t cap;
	void *p;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	cap = ctrl->cap;
	assert_int_equal(vfn_nvme_pmr_get_info(ctrl, &info), -ENOTSUP); /* CAP.PMRS clear */
	assert_int_equal(vfn_nvme_pmr_enable(ctrl), -ENOTSUP);

	/* QEMU 7.2's PMRCAP: RDS, WDS, BIR 4, PMRWBM 2 (a PMRSTS read), CMSS. */
	ctrl->cap = cap | 1ull << 56;
	put32(ctrl, VFN_NVME_REG_PMRCAP, 0x8 | 0x10 | 4u << 5 | 2u << 10 | 1u << 24);
	assert_int_equal(vfn_nvme_pmr_get_info(ctrl, &info), 0);
	assert_int_equal(info.bar, 4);
	assert_true(info.rds);
	assert_true(info.wds);
	assert_int_equal(info.wbm, 2);
	assert_int_equal(info.timeout_ms, 0);
	assert_int_equal(info.size, 0);

	/* PMRTO 3 in minutes (PMRTU 1); then 7 x 500 ms; BIR 2, no RDS/WDS, PMRWBM 1. */
	put32(ctrl, VFN_NVME_REG_PMRCAP, 3u << 16 | 1u << 8 | 2u << 5 | 1u << 10);
	assert_int_equal(vfn_nvme_pmr_get_info(ctrl, &info), 0);
	assert_int_equal(info.timeout_ms, 180000);
	assert_int_equal(info.bar, 2);
	assert_false(info.rds);
	assert_false(info.wds);
	assert_int_equal(info.wbm, 1);
	put32(ctrl, VFN_NVME_REG_PMRCAP, 7u << 16);
	assert_int_equal(vfn_nvme_pmr_get_info(ctrl, &info), 0);
	assert_int_equal(info.timeout_ms, 3500);

	/* No BAR to map on the simulator: not enabled, nothing written to PMRCTL. */
	assert_int_equal(vfn_nvme_pmr_enable(ctrl), -ENOTSUP);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRCTL), 0);
	assert_int_equal(vfn_nvme_pmr_map(ctrl, &p, &len), -ENOTSUP);
	assert_int_equal(vfn_nvme_pmr_read(ctrl, 0, buf, sizeof(buf)), -ENOTSUP);
	assert_int_equal(vfn_nvme_pmr_write(ctrl, 0, buf, sizeof(buf)), -ENOTSUP);

	put32(ctrl, VFN_NVME_REG_PMRCAP, 0);
	ctrl->cap = cap;
	vfn_nvme_ctrl_close(ctrl);
}

/* Writes then reads @n blocks at @slba through @qp from host memory; the data reads back equal. */
static void cq_cmb_write_read(struct vfn_nvme_ctrl *ctrl, struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns,
			      uint64_t slba, uint8_t *w, uint8_t *r, uint8_t seed)
{
	struct vfn_nvme_cqe cqe;

	for (size_t i = 0; i < ns->lba_size; i++)
		w[i] = (uint8_t)(seed + i * 7);
	memset(r, 0, ns->lba_size);
	assert_int_equal(vfn_nvme_write(qp, ns, slba, 1, w, NULL, &cqe), 0);
	assert_int_equal(vfn_nvme_read(qp, ns, slba, 1, r, NULL, &cqe), 0);
	assert_memory_equal(w, r, ns->lba_size);
	(void)ctrl;
}

/*
 * An I/O CQ in the CMB (CMBSZ.CQS=1, sim option cmb_mb): Create I/O CQ got
 * the CMB address, the simulator posts its completions into its CMB memory
 * and the host reaps them from there, 5 laps of a 4-entry CQ (phase flips);
 * after a controller reset the CQ is re-created in the same place.
 */
static void test_cq_in_cmb_sim(void **state)
{
	struct vfn_nvme_qpair_opts opts = { .entries = 4, .cq_cmb = true };
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_cmb_info info;
	struct vfn_sim *sim;
	uint8_t *w, *r, *cqes;
	uint64_t addr, iova;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:cmb_mb=2", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_int_equal(info.size, 2 * MiB);
	assert_int_equal(info.bar, 2);
	assert_true(info.cqs && info.sqs);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 2 * ns.lba_size, (void **)&w, &iova) > 0);
	r = w + ns.lba_size;
	sim = vfn_sim_from_hw(&ctrl->hw);
	assert_non_null(sim);

	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), 0);
	assert_true(qp->cq_cmb);
	cqes = (uint8_t *)qp->cq.cqes;
	/* The ring is the simulator's CMB memory, at the CMB's bus address. */
	assert_ptr_equal(cqes, sim->cmb);
	assert_int_equal(qp->cq.iova, VFN_SIM_CMB_BUS);
	assert_int_equal(vfn_nvme_cmb_translate(ctrl, cqes, &addr, &len), 0);
	assert_int_equal(addr, qp->cq.iova);
	assert_int_equal(vfn_nvme_cmb_translate(ctrl, qp->sq.sqes, &addr, &len), -ENOENT); /* SQ: host memory */
	for (unsigned int i = 0; i < 10; i++)
		cq_cmb_write_read(ctrl, qp, &ns, 3 * i, w, r, (uint8_t)(0x40 + i));
	/* 20 completions on 4 entries: 5 laps, head back at 0, the 6th lap's phase (0). */
	assert_int_equal(qp->cq.head, 0);
	assert_int_equal(qp->cq.phase, 0);
	for (unsigned int i = 0; i < 4; i++) {
		const struct vfn_nvme_cqe *c = (const struct vfn_nvme_cqe *)(sim->cmb + i * sizeof(*c));

		assert_int_equal(vfn_le16_to_cpu(c->sqid), 1);
		assert_int_equal(vfn_le16_to_cpu(c->sfp) & 1, 1); /* 5th lap: phase 1 */
		assert_int_equal(vfn_le16_to_cpu(c->sfp) >> 1, 0);
	}

	/* Reset: the pair is re-created with its CQ where it was, and I/O goes on. */
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	assert_ptr_equal(qp->cq.cqes, cqes);
	assert_int_equal(qp->cq.iova, VFN_SIM_CMB_BUS);
	for (unsigned int i = 0; i < 6; i++)
		cq_cmb_write_read(ctrl, qp, &ns, 100 + i, w, r, (uint8_t)(0x90 + i));
	assert_int_equal(qp->cq.head, 0); /* 12 completions: 3 laps */
	assert_int_equal(qp->cq.phase, 0);
	vfn_nvme_qpair_destroy(qp);

	/* Destroyed: the ring went back to the CMB allocator (the next piece starts at 0 again). */
	assert_int_equal(vfn_nvme_cmb_alloc(ctrl, 2 * MiB, (void **)&cqes, &addr), 0);
	assert_int_equal(addr, VFN_SIM_CMB_BUS);
	vfn_nvme_cmb_free(ctrl, cqes);
	/* SQ and CQ both in the CMB. */
	opts.sq_cmb = true;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 2, &opts, &qp), 0);
	assert_int_equal(vfn_nvme_cmb_translate(ctrl, qp->sq.sqes, &addr, &len), 0);
	assert_int_equal(addr, qp->sq.iova);
	for (unsigned int i = 0; i < 5; i++)
		cq_cmb_write_read(ctrl, qp, &ns, 200 + i, w, r, (uint8_t)(0xa0 + i));
	vfn_nvme_qpair_destroy(qp);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), w, 2 * ns.lba_size);
	vfn_nvme_ctrl_close(ctrl);
}

/* cq_cmb is refused with -ENOTSUP where CMBSZ.CQS=0 (cmb_cqs=0, as QEMU 7.2) or without a CMB; sq_cmb still works. */
static void test_cq_cmb_refused_sim(void **state)
{
	struct vfn_nvme_qpair_opts opts = { .entries = 4, .cq_cmb = true };
	struct vfn_nvme_cmb_info info;
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_qpair *qp = NULL;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:cmb_mb=1,cmb_cqs=0", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_cmb_get_info(ctrl, &info), 0);
	assert_false(info.cqs);
	assert_true(info.sqs);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), -ENOTSUP);
	assert_null(qp);
	opts.cq_cmb = false;
	opts.sq_cmb = true;
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), 0); /* qid 1 free again */
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);

	opts = (struct vfn_nvme_qpair_opts){ .entries = 4, .cq_cmb = true };
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, &opts, &qp), -ENOTSUP);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * CMB peer-to-peer on two simulators (each its own address space): A reads
 * a block into B's CMB through A's mapping of it, B writes it out from its
 * CMB by its CMB address, and B's read-back equals what A had written.
 * Without the mapping (before, and after the unmap) A's read is refused.
 */
static void test_cmb_p2p_sim(void **state)
{
	struct vfn_nvme_ctrl *a, *b;
	struct vfn_nvme_qpair *qa, *qb;
	struct vfn_nvme_ns_info nsa, nsb;
	struct vfn_nvme_cqe cqe;
	struct vfn_sim *simb;
	uint8_t *host, *back, *peer;
	uint64_t iova, cmb_addr, t;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PA", NULL, &a), 0);
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PB,cmb_mb=1", NULL, &b), 0);
	assert_ptr_not_equal(vfn_nvme_ctrl_iommu(a), vfn_nvme_ctrl_iommu(b));
	assert_int_equal(vfn_nvme_ns_get_info(a, 1, &nsa), 0);
	assert_int_equal(vfn_nvme_ns_get_info(b, 1, &nsb), 0);
	assert_int_equal(vfn_nvme_qpair_create(a, 1, NULL, &qa), 0);
	assert_int_equal(vfn_nvme_qpair_create(b, 1, NULL, &qb), 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(a), 8192, (void **)&host, &t) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(b), 8192, (void **)&back, &t) > 0);
	for (unsigned int i = 0; i < 8192; i++)
		host[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(vfn_nvme_write(qa, &nsa, 10, 2, host, NULL, &cqe), 0);

	assert_int_equal(vfn_nvme_cmb_p2p_map(a, a, &iova), -EINVAL);
	assert_int_equal(vfn_nvme_cmb_p2p_map(b, a, &iova), -ENOTSUP); /* A has no CMB */
	assert_int_equal(vfn_nvme_cmb_enable(b), 0);
	assert_int_equal(vfn_nvme_cmb_alloc(b, 8192, (void **)&peer, &cmb_addr), 0);
	assert_int_equal(cmb_addr, VFN_SIM_CMB_BUS);
	memset(peer, 0, 8192);
	/* Not mapped into A: A cannot name B's CMB. */
	assert_int_equal(vfn_nvme_read(qa, &nsa, 10, 2, peer, NULL, &cqe), -EFAULT);

	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &iova), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &t), -EEXIST);
	assert_int_equal(vfn_iommu_translate(vfn_nvme_ctrl_iommu(a), peer, &t, &len), 0);
	assert_int_equal(t, iova);
	assert_int_equal(len, 1 * MiB);
	assert_int_equal(vfn_nvme_read(qa, &nsa, 10, 2, peer, NULL, &cqe), 0);
	simb = vfn_sim_from_hw(&b->hw);
	assert_ptr_equal(peer, simb->cmb);
	assert_memory_equal(simb->cmb, host, 8192); /* landed in B's CMB */
	/* B writes from its CMB (by CMB address) to its own namespace; reads back into host memory. */
	assert_int_equal(vfn_nvme_write(qb, &nsb, 20, 2, peer, NULL, &cqe), 0);
	memset(back, 0, 8192);
	assert_int_equal(vfn_nvme_read(qb, &nsb, 20, 2, back, NULL, &cqe), 0);
	assert_memory_equal(back, host, 8192);

	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), -ENOENT);
	assert_int_equal(vfn_nvme_read(qa, &nsa, 10, 2, peer, NULL, &cqe), -EFAULT);
	vfn_nvme_cmb_free(b, peer);
	vfn_dma_free(vfn_nvme_ctrl_iommu(a), host, 8192);
	vfn_dma_free(vfn_nvme_ctrl_iommu(b), back, 8192);
	vfn_nvme_qpair_destroy(qa);
	vfn_nvme_qpair_destroy(qb);
	vfn_nvme_ctrl_close(a);
	vfn_nvme_ctrl_close(b);
}

/*
 * CMB peer-to-peer and closing: the peer closed while still mapped into A
 * takes its mapping out of A's address space (else A's IOMMU keeps pointing
 * at the freed CMB: a later DMA of A's lands in memory that is gone); the
 * mapper closed first leaves nothing behind; p2p_unmap removes only what
 * p2p_map made, never the caller's own mapping of the same memory.
 */
static void test_cmb_p2p_close_sim(void **state)
{
	struct vfn_nvme_ctrl *a, *b;
	uint64_t iova, t;
	uint8_t *peer;
	size_t len;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PA", NULL, &a), 0);
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PB,cmb_mb=1", NULL, &b), 0);
	/* Not mapped: -ENOENT, also while the caller maps the CMB itself (that mapping stays). */
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), -ENOENT);
	assert_int_equal(vfn_nvme_cmb_enable(b), 0);
	assert_int_equal(vfn_nvme_cmb_alloc(b, 4096, (void **)&peer, &t), 0);
	vfn_nvme_cmb_free(b, peer);
	assert_int_equal(vfn_iommu_map(vfn_nvme_ctrl_iommu(a), peer, 1 * MiB, &iova), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), -ENOENT);
	assert_int_equal(vfn_iommu_translate(vfn_nvme_ctrl_iommu(a), peer, &t, &len), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &t), -EEXIST);
	assert_int_equal(vfn_iommu_unmap(vfn_nvme_ctrl_iommu(a), peer), 0);

	/* Mapped twice: -EEXIST; unmapped, mapped again. */
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &iova), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &t), -EEXIST);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), -ENOENT);
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &iova), 0);

	/* The peer closes first: its CMB leaves A's address space. */
	vfn_nvme_ctrl_close(b);
	assert_int_equal(vfn_iommu_translate(vfn_nvme_ctrl_iommu(a), peer, &t, &len), -ENOENT);

	/* The mapper closes first: the peer closes after it without touching A's freed state (ASan). */
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PB,cmb_mb=1", NULL, &b), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &iova), 0);
	vfn_nvme_ctrl_close(a);
	assert_int_equal(vfn_nvme_ctrl_open("sim:sn=P2PA", NULL, &a), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), -ENOENT); /* a new A (maybe the same address): nothing mapped */
	assert_int_equal(vfn_nvme_cmb_p2p_map(a, b, &iova), 0);
	assert_int_equal(vfn_nvme_cmb_p2p_unmap(a, b), 0);
	vfn_nvme_ctrl_close(b);
	vfn_nvme_ctrl_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_fit_and_merge), cmocka_unit_test(test_heap_threads),
		cmocka_unit_test(test_cmb_on_sim),	   cmocka_unit_test(test_cmb_regs_decode),
		cmocka_unit_test(test_pmr_regs_decode),	   cmocka_unit_test(test_cmb_free_null),
		cmocka_unit_test(test_cq_in_cmb_sim),	   cmocka_unit_test(test_cq_cmb_refused_sim),
		cmocka_unit_test(test_cmb_p2p_sim),	   cmocka_unit_test(test_cmb_p2p_close_sim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
