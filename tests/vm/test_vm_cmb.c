/* SPDX-License-Identifier: MIT */
/*
 * The Controller Memory Buffer (vfn/cmb.h) against QEMU's controller in a
 * guest (meson test cmb): discovery gives what QEMU was configured with,
 * enabling programs CMBMSC, an I/O SQ in the CMB and data buffers in the
 * CMB carry writes that read back equal.
 *   VFN_BDF          the controller (bound to vfio-pci)
 *   VFN_TEST_CMB_MB  QEMU's cmb_size_mb
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>

struct env {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_ns_info ns;
	uint8_t *hbuf, *hbuf2; /* host DMA buffers */
	size_t len;
};

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint64_t iova;

	assert_non_null(e);
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF"), NULL, &e->ctrl), 0);
	assert_int_equal(vfn_nvme_ns_get_info(e->ctrl, 1, &e->ns), 0);
	e->len = 64 * 1024;
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(e->ctrl), e->len, (void **)&e->hbuf, &iova) > 0);
	assert_true(vfn_dma_alloc(vfn_nvme_ctrl_iommu(e->ctrl), e->len, (void **)&e->hbuf2, &iova) > 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	vfn_dma_free(vfn_nvme_ctrl_iommu(e->ctrl), e->hbuf, e->len);
	vfn_dma_free(vfn_nvme_ctrl_iommu(e->ctrl), e->hbuf2, e->len);
	vfn_nvme_ctrl_close(e->ctrl);
	free(e);
	return 0;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = seed ^ (uint32_t)(i * 2654435761u);

		memcpy(p + i, &v, 4);
	}
}

/* QEMU 7.2: the 1.4 scheme (CAP.CMBS), BAR2 offset 0, SQS/RDS/WDS/LISTS, cmb_size_mb MiB. */
static void test_info(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_cmb_info info;
	uint64_t mb = strtoull(env_str("VFN_TEST_CMB_MB"), NULL, 0);

	assert_true(vfn_nvme_cap_cmbs(vfn_nvme_reg_read64(e->ctrl, VFN_NVME_REG_CAP)));
	assert_int_equal(vfn_nvme_cmb_get_info(e->ctrl, &info), 0);
	assert_int_equal(info.size, mb << 20);
	assert_int_equal(info.bar, 2);
	assert_int_equal(info.offset, 0);
	assert_true(info.msc);
	assert_true(info.sqs);
	assert_false(info.cqs);
	assert_true(info.rds);
	assert_true(info.wds);
	/* CRE is on now: CMBSZ.SZ reads the MiB count in 1 MiB units (SZU 2). */
	assert_int_equal(vfn_nvme_reg_read32(e->ctrl, VFN_NVME_REG_CMBSZ) >> 12, mb);
	assert_int_equal((vfn_nvme_reg_read32(e->ctrl, VFN_NVME_REG_CMBSZ) >> 8) & 0xf, 2);
}

/* Enabled: CMBMSC has CRE, CMSE and a non-zero base address; CBAI clear; the whole CMB allocatable. */
static void test_enable_alloc(void **state)
{
	struct env *e = *state;
	uint64_t mb = strtoull(env_str("VFN_TEST_CMB_MB"), NULL, 0), msc, a, b, t;
	void *p, *q;
	size_t len;

	assert_int_equal(vfn_nvme_cmb_enable(e->ctrl), 0);
	assert_int_equal(vfn_nvme_cmb_enable(e->ctrl), 0); /* idempotent */
	msc = vfn_nvme_reg_read64(e->ctrl, VFN_NVME_REG_CMBMSC);
	assert_int_equal(msc & 3, VFN_NVME_CMBMSC_CRE | VFN_NVME_CMBMSC_CMSE);
	assert_true(msc >> 12 != 0);
	assert_int_equal(vfn_nvme_reg_read32(e->ctrl, VFN_NVME_REG_CMBSTS) & VFN_NVME_CMBSTS_CBAI, 0);
	fprintf(stderr, "# CMBMSC 0x%llx\n", (unsigned long long)msc);

	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, mb << 20, &p, &a), 0);
	assert_int_equal(a, msc & ~0xfffull); /* the first piece starts at CBA */
	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, 1, &q, &b), -ENOMEM);
	assert_int_equal(vfn_nvme_cmb_translate(e->ctrl, (uint8_t *)p + 4096, &t, &len), 0);
	assert_int_equal(t, a + 4096);
	assert_int_equal(len, (mb << 20) - 4096);
	/* Host stores into the BAR mapping read back (QEMU's CMB memory). */
	memset(p, 0x5a, 4096);
	assert_int_equal(((volatile uint8_t *)p)[4095], 0x5a);
	vfn_nvme_cmb_free(e->ctrl, p);
	assert_int_equal(vfn_nvme_cmb_translate(e->ctrl, e->hbuf, &t, &len), -ENOENT);
}

/* Writes @blocks from @w at @slba then reads them into @r and compares, through @qp. */
static void write_read(struct env *e, struct vfn_nvme_qpair *qp, uint64_t slba, uint8_t *w, uint8_t *r, size_t len,
		       uint32_t seed)
{
	uint64_t nlb = len / e->ns.lba_size;
	struct vfn_nvme_cqe cqe;

	fill(w, len, seed);
	memset(r, 0, len);
	assert_int_equal(vfn_nvme_write(qp, &e->ns, slba, nlb, w, NULL, &cqe), 0);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, slba, nlb, r, NULL, &cqe), 0);
	assert_memory_equal(w, r, len);
}

/* An I/O SQ in the CMB: the ring is there, and 3 laps of it write and read back. */
static void test_sq_in_cmb(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair_opts opts = { .entries = 16, .sq_cmb = true };
	struct vfn_nvme_qpair *qp;
	uint64_t addr;
	size_t len;

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 1, &opts, &qp), 0);
	assert_int_equal(vfn_nvme_cmb_translate(e->ctrl, qp->sq.sqes, &addr, &len), 0);
	assert_int_equal(addr, qp->sq.iova);
	for (uint32_t i = 0; i < 3 * 16; i++)
		write_read(e, qp, 8 * i, e->hbuf, e->hbuf2, 4096, 0x1000 + i);
	vfn_nvme_qpair_destroy(qp);
}

/* Data buffers in the CMB: written from it, read into it; a host buffer reads the same. */
static void test_data_in_cmb(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_cqe cqe;
	uint8_t *w, *r;
	uint64_t wa, ra;
	size_t len = 32 * 1024;

	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, len, (void **)&w, &wa), 0);
	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, len, (void **)&r, &ra), 0);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 1, NULL, &qp), 0);
	write_read(e, qp, 1024, w, r, len, 0xc0ffee);
	/* The write took the CMB's bytes: a host-memory read sees them. */
	memset(e->hbuf, 0, len);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 1024, len / e->ns.lba_size, e->hbuf, NULL, &cqe), 0);
	assert_memory_equal(e->hbuf, w, len);
	vfn_nvme_qpair_destroy(qp);

	/* SQ and data both in the CMB. */
	struct vfn_nvme_qpair_opts opts = { .entries = 8, .sq_cmb = true };

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 2, &opts, &qp), 0);
	for (uint32_t i = 0; i < 20; i++)
		write_read(e, qp, 2048 + 64 * i, w, r, len, 0xbeef0000 + i);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_cmb_free(e->ctrl, w);
	vfn_nvme_cmb_free(e->ctrl, r);
}

/*
 * PRP lists in the CMB: 64 KiB transfers (16 pages: PRP1 + a list of 15)
 * whose list the controller reads from the CMB; with data in host memory,
 * then with the SQ, the lists and the data all in the CMB.
 */
static void test_lists_in_cmb(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair_opts opts = { .entries = 8, .lists_cmb = true };
	struct vfn_nvme_qpair *qp;
	uint64_t addr, wa, ra;
	uint8_t *w, *r;
	size_t len;

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 4, &opts, &qp), 0);
	assert_true(qp->lists_cmb);
	assert_int_equal(vfn_nvme_cmb_translate(e->ctrl, qp->list_mem, &addr, &len), 0);
	assert_true(e->len >= 65536);
	for (uint32_t i = 0; i < 10; i++)
		write_read(e, qp, 8192 + 128 * i, e->hbuf, e->hbuf2, 65536, 0x11570000 + i);
	vfn_nvme_qpair_destroy(qp);

	opts.sq_cmb = true;
	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, 65536, (void **)&w, &wa), 0);
	assert_int_equal(vfn_nvme_cmb_alloc(e->ctrl, 65536, (void **)&r, &ra), 0);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 4, &opts, &qp), 0);
	for (uint32_t i = 0; i < 10; i++)
		write_read(e, qp, 16384 + 128 * i, w, r, 65536, 0xa1100000 + i);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_cmb_free(e->ctrl, w);
	vfn_nvme_cmb_free(e->ctrl, r);
}

/* A controller reset re-creates the pair with its SQ where it was, in the CMB, and I/O goes on. */
static void test_reset_sq_in_cmb(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair_opts opts = { .entries = 16, .sq_cmb = true };
	struct vfn_nvme_qpair *qp;
	uint64_t addr, msc;
	size_t len;

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 3, &opts, &qp), 0);
	write_read(e, qp, 4096, e->hbuf, e->hbuf2, 8192, 0x5eed);
	msc = vfn_nvme_reg_read64(e->ctrl, VFN_NVME_REG_CMBMSC);
	assert_int_equal(vfn_nvme_ctrl_reset(e->ctrl), 0);
	assert_int_equal(vfn_nvme_reg_read64(e->ctrl, VFN_NVME_REG_CMBMSC), msc);
	assert_int_equal(vfn_nvme_cmb_translate(e->ctrl, qp->sq.sqes, &addr, &len), 0);
	assert_int_equal(addr, qp->sq.iova);
	for (uint32_t i = 0; i < 20; i++)
		write_read(e, qp, 4096 + 16 * i, e->hbuf, e->hbuf2, 8192, 0xa11 + i);
	vfn_nvme_qpair_destroy(qp);
}

/*
 * QEMU 7.2's CMBSZ has CQS clear: a CQ in the CMB is refused with -ENOTSUP
 * and one log line naming CMBSZ.CQS=0; nothing is left behind (qid 5 is
 * free again for a pair in host memory).
 */
static void test_cq_cmb_refused(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair_opts opts = { .entries = 16, .cq_cmb = true };
	struct vfn_nvme_qpair *qp = NULL;
	char line[512] = "", extra[512];
	FILE *f = tmpfile();
	int saved = dup(2), ret, lines = 0;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), 2), 2);
	vfn_log_set_level(VFN_LOG_ERR); /* the default is no log at all */
	ret = vfn_nvme_qpair_create(e->ctrl, 5, &opts, &qp);
	vfn_log_set_level(VFN_LOG_NONE);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(f);
	while (fgets(lines ? extra : line, sizeof(line), f))
		lines++;
	fclose(f);
	fprintf(stderr, "# cq_cmb on QEMU: %d, %d line(s): %s", ret, lines, line);
	assert_int_equal(ret, -ENOTSUP);
	assert_null(qp);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(line, "CMBSZ.CQS=0"));
	opts.cq_cmb = false;
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 5, &opts, &qp), 0);
	write_read(e, qp, 6000, e->hbuf, e->hbuf2, 4096, 0xc0c0);
	vfn_nvme_qpair_destroy(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_enable_alloc),
		cmocka_unit_test(test_sq_in_cmb),
		cmocka_unit_test(test_data_in_cmb),
		cmocka_unit_test(test_reset_sq_in_cmb),
		cmocka_unit_test(test_lists_in_cmb),
		cmocka_unit_test(test_cq_cmb_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
