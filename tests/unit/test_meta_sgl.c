/* SPDX-License-Identifier: MIT */
/*
 * Separate metadata described by an SGL (PSDT 10b, Identify SGLS bit 19)
 * against the simulator: the descriptors vfn_rq_map_meta() lays out in a
 * request's segment memory, metadata written through them and read back
 * (one mapping: a Data Block; across mappings: a Last Segment), split
 * transfers whose pieces each get their own descriptors, the dev handle,
 * and a controller without the bit (contiguous MPTR, -ENOTSUP, Invalid
 * Field when forced); the simulator's statuses for malformed metadata SGLs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/dev.h>
#include <vfn/iommu.h>
#include <vfn/nvme.h>
#include <vfn/pi.h>
#include <vfn/rq.h>

#include "nvme/cmb-priv.h"
#include "nvme/ctrl-priv.h"

#define SIM_SGL "sim:lbads=9,ms=8,mdts=1,mptr_sgl=1"
#define SIM_NOSGL "sim:lbads=9,ms=8,mdts=1"
#define STATUS(c) (vfn_nvme_cqe_status(&(c)) & 0x7ff)
#define BUF_LEN (64 * 1024)

/*
 * Two pages of virtual memory mapped for DMA separately, at IOVAs that
 * are not adjacent (a DMA allocation in between): a buffer crossing the
 * page boundary needs two SGL Data Blocks.
 */
struct split {
	uint8_t *p;
	void *gap;
	size_t page;
	uint64_t iova[2];
};

static uint8_t *split_map(struct vfn_iommu *mmu, struct split *s, size_t before)
{
	uint64_t iova;

	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->p = mmap(NULL, 2 * s->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(s->p != MAP_FAILED);
	assert_int_equal(vfn_iommu_map(mmu, s->p, s->page, &s->iova[0]), 0);
	assert_int_equal(vfn_dma_alloc(mmu, s->page, &s->gap, &iova), (ssize_t)s->page);
	assert_int_equal(vfn_iommu_map(mmu, s->p + s->page, s->page, &s->iova[1]), 0);
	assert_true(s->iova[0] + s->page != s->iova[1]);
	return s->p + s->page - before;
}

static void split_unmap(struct vfn_iommu *mmu, struct split *s)
{
	assert_int_equal(vfn_iommu_unmap(mmu, s->p), 0);
	assert_int_equal(vfn_iommu_unmap(mmu, s->p + s->page), 0);
	vfn_dma_free(mmu, s->gap, s->page);
	munmap(s->p, 2 * s->page);
}

struct env {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_qpair *qp;
	struct vfn_iommu *mmu;
	struct vfn_nvme_ns_info ns;
	uint8_t *buf, *rbuf, *meta, *rmeta;
	uint64_t buf_iova, meta_iova;
};

static void env_open(struct env *e, const char *spec)
{
	uint64_t iova;

	memset(e, 0, sizeof(*e));
	assert_int_equal(vfn_nvme_ctrl_open(spec, NULL, &e->ctrl), 0);
	e->mmu = vfn_nvme_ctrl_iommu(e->ctrl);
	assert_int_equal(vfn_nvme_ns_get_info(e->ctrl, 1, &e->ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 1, NULL, &e->qp), 0);
	assert_int_equal(vfn_nvme_qpair_log_enable(e->qp, 64), 0);
	assert_int_equal(vfn_dma_alloc(e->mmu, BUF_LEN, (void **)&e->buf, &e->buf_iova), BUF_LEN);
	assert_int_equal(vfn_dma_alloc(e->mmu, BUF_LEN, (void **)&e->rbuf, &iova), BUF_LEN);
	assert_int_equal(vfn_dma_alloc(e->mmu, BUF_LEN, (void **)&e->meta, &e->meta_iova), BUF_LEN);
	assert_int_equal(vfn_dma_alloc(e->mmu, BUF_LEN, (void **)&e->rmeta, &iova), BUF_LEN);
	for (size_t i = 0; i < BUF_LEN; i++) {
		e->buf[i] = (uint8_t)(i * 7 + (i >> 9));
		e->meta[i] = (uint8_t)(i * 3 + 1);
	}
}

static void env_close(struct env *e)
{
	vfn_dma_free(e->mmu, e->buf, BUF_LEN);
	vfn_dma_free(e->mmu, e->rbuf, BUF_LEN);
	vfn_dma_free(e->mmu, e->meta, BUF_LEN);
	vfn_dma_free(e->mmu, e->rmeta, BUF_LEN);
	vfn_nvme_qpair_destroy(e->qp);
	vfn_nvme_ctrl_close(e->ctrl);
}

/* Commands the log of @qp holds (each posted one is there). */
static int logged(struct vfn_nvme_qpair *qp)
{
	FILE *f = fopen("/dev/null", "w");
	int n;

	assert_non_null(f);
	n = vfn_nvme_qpair_log_dump(qp, f);
	fclose(f);
	return n;
}

static struct vfn_nvme_sqe rw_sqe(uint8_t opcode, uint64_t slba, uint32_t nlb)
{
	return (struct vfn_nvme_sqe){
		.opcode = opcode,
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};
}

/* Posts @sqe (pointers filled in already) on @rq, waits; the completion's status. */
static uint16_t run_rq(struct env *e, struct vfn_rq *rq, struct vfn_nvme_sqe *sqe)
{
	uint16_t sc;

	assert_int_equal(vfn_rq_post(e->qp, rq, sqe), 0);
	vfn_nvme_qpair_submit(e->qp);
	assert_int_equal(vfn_rq_wait(e->qp, rq, 0), 0);
	sc = STATUS(rq->cqe);
	vfn_rq_free(e->qp, rq);
	return sc;
}

static const struct vfn_nvme_sgl_desc *list_desc(const struct vfn_rq *rq, size_t i)
{
	return (const struct vfn_nvme_sgl_desc *)rq->list + i;
}

static void assert_desc(const struct vfn_nvme_sgl_desc *d, unsigned int type, uint64_t addr, uint32_t len)
{
	assert_int_equal(d->type >> 4, type);
	assert_int_equal(d->type & 0xf, 0);
	assert_int_equal(vfn_le64_to_cpu(d->addr), addr);
	assert_int_equal(vfn_le32_to_cpu(d->length), len);
}

/*
 * The request API: with SGL data, MPTR addresses one descriptor in the
 * request's segment, after the data's: a Data Block for metadata in one
 * mapping; a Last Segment listing two Data Blocks for metadata across two
 * mappings.  What is written through them reads back equal.
 */
static void test_rq_layout(void **state)
{
	struct vfn_nvme_sqe sqe;
	struct split sm, sd;
	struct vfn_rq *rq;
	uint8_t *smeta, *sdata;
	struct env e;

	(void)state;
	env_open(&e, SIM_SGL);
	assert_true(vfn_nvme_ctrl_get_info(e.ctrl)->sgls & VFN_NVME_SGLS_MPTR_SGL);
	assert_true(e.qp->sgl && e.qp->sgl_mptr);

	/* Data and metadata in one mapping each: data in the SQE, metadata a Data Block in slot 0. */
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 0, 4);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf, 4 * 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, e.meta, 4 * 8, true), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
	assert_int_equal(vfn_le64_to_cpu(sqe.mptr), rq->list_iova);
	assert_desc(&sqe.dptr.sgl, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.buf_iova, 4 * 512);
	assert_desc(list_desc(rq, 0), VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 4 * 8);
	assert_int_equal(run_rq(&e, rq, &sqe), 0);

	/* Data across two mappings (descriptors 0, 1), metadata across two: its segment at 2, blocks at 3, 4. */
	sdata = split_map(e.mmu, &sd, 1024);
	smeta = split_map(e.mmu, &sm, 12);
	memcpy(sdata, e.buf + 4096, 4 * 512);
	memcpy(smeta, e.meta + 64, 4 * 8);
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 4, 4);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, sdata, 4 * 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, smeta, 4 * 8, true), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
	assert_desc(&sqe.dptr.sgl, VFN_NVME_SGL_TYPE_LAST_SEGMENT, rq->list_iova, 32);
	assert_int_equal(vfn_le64_to_cpu(sqe.mptr), rq->list_iova + 2 * 16);
	assert_desc(list_desc(rq, 2), VFN_NVME_SGL_TYPE_LAST_SEGMENT, rq->list_iova + 3 * 16, 32);
	assert_desc(list_desc(rq, 3), VFN_NVME_SGL_TYPE_DATA_BLOCK, sm.iova[0] + sm.page - 12, 12);
	assert_desc(list_desc(rq, 4), VFN_NVME_SGL_TYPE_DATA_BLOCK, sm.iova[1], 20);
	assert_int_equal(run_rq(&e, rq, &sqe), 0);

	/* Both written blocks read back through contiguous MPTRs (PSDT 01b): what the SGLs described. */
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 8);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.rbuf, 8 * 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, e.rmeta, 8 * 8, false), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
	assert_int_equal(run_rq(&e, rq, &sqe), 0);
	assert_memory_equal(e.rbuf, e.buf, 4 * 512);
	assert_memory_equal(e.rbuf + 4 * 512, e.buf + 4096, 4 * 512);
	assert_memory_equal(e.rmeta, e.meta, 4 * 8);
	assert_memory_equal(e.rmeta + 4 * 8, e.meta + 64, 4 * 8);

	/* And read back into the split buffers through a metadata SGL. */
	memset(smeta, 0, 4 * 8);
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 4, 4);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, sdata, 4 * 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, smeta, 4 * 8, true), 0);
	assert_int_equal(run_rq(&e, rq, &sqe), 0);
	assert_memory_equal(smeta, e.meta + 64, 4 * 8);

	/* Refused: an SGL for metadata of PRP data, a contiguous MPTR across mappings, unmapped memory. */
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.rbuf, 512, false), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, e.rmeta, 8, true), -EINVAL);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.rbuf, 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, smeta, 32, false), -EINVAL);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, &sqe, 8, true), -EFAULT);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, &sqe, 8, false), -EFAULT);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, e.rmeta, 8, true), 0);
	/* @len 0 clears MPTR and goes back to PSDT 01b. */
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, NULL, 0, true), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG);
	assert_int_equal(sqe.mptr, 0);
	vfn_rq_free(e.qp, rq);
	split_unmap(e.mmu, &sm);
	split_unmap(e.mmu, &sd);
	env_close(&e);
}

/*
 * The sync helpers: 64 blocks split in 4 pieces (MDTS 8 KiB), the metadata
 * across two mappings with the boundary inside the second piece; each piece
 * gets its own descriptors.  Read back through an SGL and a contiguous
 * buffer, equal.  vfn_nvme_io_sync_meta() too.
 */
static void test_rw_split(void **state)
{
	struct vfn_nvme_io_opts o = { .sgl = true };
	struct vfn_nvme_sqe sqe;
	struct vfn_nvme_cqe c;
	struct split sm, sr;
	uint8_t *smeta, *rsmeta;
	struct env e;

	(void)state;
	env_open(&e, SIM_SGL);
	assert_int_equal(e.qp->max_xfer, 8192);
	smeta = split_map(e.mmu, &sm, 200);
	rsmeta = split_map(e.mmu, &sr, 300);
	memcpy(smeta, e.meta, 512);
	o.meta = smeta;
	o.meta_len = 512;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 100, 64, e.buf, &o, &c), 0);
	assert_int_equal(logged(e.qp), 4);
	o.meta = rsmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), 0);
	assert_memory_equal(rsmeta, e.meta, 512);
	assert_memory_equal(e.rbuf, e.buf, 64 * 512);
	/* The contiguous form of the same (_OFF), and the PRP form. */
	o = (struct vfn_nvme_io_opts){ .sgl = true, .meta = e.rmeta, .meta_sgl = VFN_NVME_META_SGL_OFF };
	memset(e.rmeta, 0, 512);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rmeta, e.meta, 512);
	o.sgl = false;
	memset(e.rmeta, 0, 512);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rmeta, e.meta, 512);

	/* _OFF or PRPs with metadata across mappings: -EINVAL, nothing sent. */
	assert_int_equal(logged(e.qp), 16);
	o.meta = smeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), -EINVAL);
	o.sgl = true;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), -EINVAL);
	o.meta_sgl = 3;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), -EINVAL);
	/* Metadata with a hole (its second page unmapped): -EINVAL before anything is sent. */
	assert_int_equal(vfn_iommu_unmap(e.mmu, sm.p + sm.page), 0);
	o = (struct vfn_nvme_io_opts){ .sgl = true, .meta = smeta };
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 64, e.rbuf, &o, &c), -EINVAL);
	assert_int_equal(vfn_iommu_map(e.mmu, sm.p + sm.page, sm.page, &sm.iova[1]), 0);
	assert_int_equal(logged(e.qp), 16);

	/* The raw form: one Read with its metadata as an SGL across the mappings. */
	memset(rsmeta, 0, 512);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 110, 16);
	o = (struct vfn_nvme_io_opts){ .sgl = true };
	assert_int_equal(vfn_nvme_io_sync_meta(e.qp, &sqe, e.rbuf, 16 * 512, rsmeta, 16 * 8, &o, &c), 0);
	assert_int_equal(sqe.flags & 0xc0, VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
	assert_memory_equal(rsmeta, e.meta + 10 * 8, 16 * 8);
	assert_int_equal(vfn_nvme_io_sync_meta(e.qp, &sqe, e.rbuf, 16 * 512, rsmeta, 0, &o, &c), -EINVAL);
	split_unmap(e.mmu, &sm);
	split_unmap(e.mmu, &sr);
	env_close(&e);
}

static void rw_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int *done = rq->opaque;

	(void)qp;
	*done = 1 + (vfn_nvme_cqe_status(cqe) & 0x7ff);
}

/* vfn_nvme_rw_async(): a split write and read with metadata across mappings. */
static void test_rw_async(void **state)
{
	struct vfn_nvme_io_opts o = { .sgl = true };
	struct split sm;
	uint8_t *smeta;
	struct env e;
	int done;

	(void)state;
	env_open(&e, SIM_SGL);
	smeta = split_map(e.mmu, &sm, 100);
	memcpy(smeta, e.meta + 8, 256);
	o.meta = smeta;
	done = 0;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_WRITE, &e.ns, 200, 32, e.buf, &o, rw_cb, &done), 0);
	vfn_nvme_qpair_submit(e.qp);
	while (!done)
		vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(done, 1);
	memset(smeta, 0, 256);
	done = 0;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_READ, &e.ns, 200, 32, e.rbuf, &o, rw_cb, &done), 0);
	vfn_nvme_qpair_submit(e.qp);
	while (!done)
		vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(done, 1);
	assert_memory_equal(smeta, e.meta + 8, 256);
	assert_memory_equal(e.rbuf, e.buf, 32 * 512);
	/* Compare reads the metadata through the SGL too: equal, then one byte off (Compare Failure). */
	done = 0;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_COMPARE, &e.ns, 200, 32, e.buf, &o, rw_cb, &done), 0);
	vfn_nvme_qpair_submit(e.qp);
	while (!done)
		vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(done, 1);
	smeta[150] ^= 0x20;
	done = 0;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_COMPARE, &e.ns, 200, 32, e.buf, &o, rw_cb, &done), 0);
	vfn_nvme_qpair_submit(e.qp);
	while (!done)
		vfn_nvme_qpair_reap(e.qp, 0);
	assert_int_equal(done, 1 + 0x285);
	split_unmap(e.mmu, &sm);
	env_close(&e);
}

/*
 * PI through a metadata SGL: the controller checks the guards it reads
 * through the descriptors; a guard broken in the second mapping's part
 * fails with 0x282.
 */
static void test_pi(void **state)
{
	struct vfn_pi_tags t = { 40, 0x1234, 0xffff, VFN_PI_PRCHK_ALL };
	struct vfn_nvme_io_opts o = {
		.sgl = true, .prinfo = VFN_PI_PRCHK_ALL, .ref_tag = 40, .app_tag = 0x1234, .app_mask = 0xffff
	};
	struct vfn_pi_format f;
	struct vfn_nvme_cqe c;
	struct split sm;
	uint8_t *smeta;
	struct env e;

	(void)state;
	env_open(&e, "sim:lbads=9,ms=8,pi=1,mptr_sgl=1");
	f = (struct vfn_pi_format){ 512, 8, VFN_PI_TYPE1, VFN_PI_PIF_16, false, false };
	smeta = split_map(e.mmu, &sm, 20);
	assert_int_equal(vfn_pi_generate(&f, e.buf, smeta, 8, &t), 0);
	o.meta = smeta;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 40, 8, e.buf, &o, &c), 0);
	memset(smeta, 0, 64);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 40, 8, e.rbuf, &o, &c), 0);
	assert_int_equal(vfn_pi_verify(&f, e.rbuf, smeta, 8, &t, NULL), 0);
	smeta[3 * 8] ^= 1; /* block 3's guard, past the page boundary */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 40, 8, e.buf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_GUARD);
	split_unmap(e.mmu, &sm);
	env_close(&e);
}

/*
 * A controller without SGLS bit 19: with SGL data, metadata in one mapping
 * falls back to a contiguous MPTR (PSDT 01b, which this sim requires);
 * across mappings -ENOTSUP, nothing sent; the request API -ENOTSUP;
 * _FORCE sends PSDT 10b and this controller answers Invalid Field.
 */
static void test_no_bit(void **state)
{
	struct vfn_nvme_io_opts o = { .sgl = true };
	struct vfn_nvme_sqe sqe;
	struct vfn_nvme_cqe c;
	struct vfn_rq *rq;
	struct split sm;
	uint8_t *smeta;
	struct env e;

	(void)state;
	env_open(&e, SIM_NOSGL);
	assert_false(vfn_nvme_ctrl_get_info(e.ctrl)->sgls & VFN_NVME_SGLS_MPTR_SGL);
	assert_true(e.qp->sgl);
	assert_false(e.qp->sgl_mptr);
	o.meta = e.meta;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 32, e.buf, &o, &c), 0);
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 32, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rmeta, e.meta, 32 * 8);
	assert_int_equal(logged(e.qp), 4);

	smeta = split_map(e.mmu, &sm, 40);
	o.meta = smeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 32, e.rbuf, &o, &c), -ENOTSUP);
	assert_int_equal(logged(e.qp), 4);
	rq = vfn_rq_alloc(e.qp);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.rbuf, 512, true), 0);
	assert_int_equal(vfn_rq_map_meta(e.qp, rq, &sqe, e.rmeta, 8, true), -ENOTSUP);
	vfn_rq_free(e.qp, rq);

	o.meta_sgl = VFN_NVME_META_SGL_FORCE;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 4, e.rbuf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_NVME_SC_INVALID_FIELD);
	o.sgl = false;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 4, e.rbuf, &o, &c), -EINVAL);
	split_unmap(e.mmu, &sm);
	env_close(&e);
}

/* A Read of one block with SGL data and PSDT 10b, MPTR @mptr given by the test: the status. */
static uint16_t raw_mptr(struct env *e, uint64_t mptr)
{
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	struct vfn_rq *rq = vfn_rq_alloc(e->qp);

	assert_int_equal(vfn_rq_map(e->qp, rq, &sqe, e->rbuf, 512, true), 0);
	sqe.flags = (uint8_t)((sqe.flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
	sqe.mptr = vfn_cpu_to_le64(mptr);
	return run_rq(e, rq, &sqe);
}

static void put_desc(uint8_t *at, unsigned int type, uint64_t addr, uint32_t len)
{
	struct vfn_nvme_sgl_desc d = { 0 };

	d.addr = vfn_cpu_to_le64(addr);
	d.length = vfn_cpu_to_le32(len);
	d.type = (uint8_t)(type << 4);
	memcpy(at, &d, sizeof(d));
}

/* The simulator's statuses for malformed metadata SGLs, and PSDT 10b where it is not reported. */
static void test_sim_statuses(void **state)
{
	uint8_t *seg;
	uint64_t seg_iova;
	struct env e;

	(void)state;
	env_open(&e, SIM_SGL);
	seg = e.meta + 4096;
	seg_iova = e.meta_iova + 4096;
	/* Well formed: a Data Block of 8 bytes. */
	put_desc(seg, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 8);
	assert_int_equal(raw_mptr(&e, seg_iova), 0);
	/*
	 * MPTR qword (8-byte) aligned but not 16: valid (SGLS bit 19 asks for
	 * a qword-aligned descriptor; the sim refused it before rev12).  Not
	 * qword aligned: Invalid Field.
	 */
	put_desc(seg + 8, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 8);
	assert_int_equal(raw_mptr(&e, seg_iova + 8), 0);
	put_desc(seg + 4, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 8);
	assert_int_equal(raw_mptr(&e, seg_iova + 4), VFN_NVME_SC_INVALID_FIELD);
	/* Shorter or longer than the 8 bytes moved: Metadata SGL Length Invalid. */
	put_desc(seg, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 4);
	assert_int_equal(raw_mptr(&e, seg_iova), VFN_NVME_SC_SGL_INVALID_METADATA);
	put_desc(seg, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 16);
	assert_int_equal(raw_mptr(&e, seg_iova), VFN_NVME_SC_SGL_INVALID_METADATA);
	/* A Last Segment of two 4-byte blocks: fine; of 24 bytes: Invalid Number of SGL Descriptors. */
	put_desc(seg, VFN_NVME_SGL_TYPE_LAST_SEGMENT, seg_iova + 16, 32);
	put_desc(seg + 16, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 4);
	put_desc(seg + 32, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova + 100, 4);
	assert_int_equal(raw_mptr(&e, seg_iova), 0);
	put_desc(seg, VFN_NVME_SGL_TYPE_LAST_SEGMENT, seg_iova + 16, 24);
	assert_int_equal(raw_mptr(&e, seg_iova), VFN_NVME_SC_SGL_INVALID_COUNT);
	/* A Bit Bucket: SGL Descriptor Type Invalid. */
	put_desc(seg, VFN_NVME_SGL_TYPE_BIT_BUCKET, 0, 8);
	assert_int_equal(raw_mptr(&e, seg_iova), VFN_NVME_SC_SGL_INVALID_TYPE);
	/* The segment, or the metadata it points at, not mapped: Data Transfer Error. */
	assert_int_equal(raw_mptr(&e, 0x10), VFN_NVME_SC_DATA_XFER_ERROR);
	put_desc(seg, VFN_NVME_SGL_TYPE_DATA_BLOCK, 0x10, 8);
	assert_int_equal(raw_mptr(&e, seg_iova), VFN_NVME_SC_DATA_XFER_ERROR);
	env_close(&e);

	/* Not reported (no mptr_sgl): PSDT 10b is Invalid Field, whatever MPTR holds. */
	env_open(&e, SIM_NOSGL);
	seg = e.meta + 4096;
	put_desc(seg, VFN_NVME_SGL_TYPE_DATA_BLOCK, e.meta_iova, 8);
	assert_int_equal(raw_mptr(&e, e.meta_iova + 4096), VFN_NVME_SC_INVALID_FIELD);
	env_close(&e);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* A random descriptor address: in the descriptor area or the metadata buffer, 0, or anything. */
static uint64_t rnd_desc_addr(const struct env *e, uint64_t descs_iova, size_t area)
{
	switch (rnd() % 4) {
	case 0:
		return rnd();
	case 1:
		return 0;
	case 2:
		return e->meta_iova + rnd() % area;
	default:
		return descs_iova + rnd() % area;
	}
}

/*
 * A hostile host: 3000 Reads and Writes whose MPTR (PSDT 10b) points at
 * random descriptors (any type, subtype and length, addresses in the
 * descriptor area, in the metadata buffer, 0 or anywhere), at any
 * alignment.  Each completes, with success or one of the statuses the
 * simulator documents; a clean round trip through a metadata SGL works
 * after.
 */
static void test_hostile_mptr(void **state)
{
	const size_t area = 32768;
	unsigned int ok = 0, bad = 0;
	struct vfn_nvme_io_opts o = { .sgl = true };
	struct vfn_nvme_cqe c;
	uint64_t descs_iova;
	uint8_t *descs;
	struct env e;

	(void)state;
	env_open(&e, SIM_SGL);
	descs = e.meta + area;
	descs_iova = e.meta_iova + area;
	for (int i = 0; i < 3000; i++) {
		uint32_t nlb = 1 + (uint32_t)(rnd() % 16);
		struct vfn_nvme_sqe sqe = rw_sqe(rnd() % 2 ? VFN_NVME_CMD_READ : VFN_NVME_CMD_WRITE, rnd() % 64, nlb);
		struct vfn_rq *rq = vfn_rq_alloc(e.qp);
		uint64_t r = rnd(), mptr;
		uint16_t sc;

		for (size_t off = 0; i % 64 == 0 && off < area; off += 16) {
			uint32_t len = rnd() % 2 ? (uint32_t)(rnd() % 8) * 16 : (uint32_t)(rnd() % 256);

			put_desc(descs + off, (unsigned int)(rnd() % 5), rnd_desc_addr(&e, descs_iova, area),
				 rnd() % 16 ? len : (uint32_t)rnd());
			if (rnd() % 8 == 0)
				descs[off + 15] |= (uint8_t)(rnd() % 16); /* a subtype */
		}
		if (r % 4 == 0)
			mptr = rnd();
		else if (r % 4 == 1)
			mptr = descs_iova + rnd() % area;
		else
			mptr = descs_iova + (rnd() % (area / 16)) * 16;
		assert_non_null(rq);
		assert_int_equal(vfn_rq_map(e.qp, rq, &sqe, e.buf, nlb * 512, true), 0);
		sqe.flags = (uint8_t)((sqe.flags & ~0xc0u) | VFN_NVME_SQE_PSDT_SGL_MPTR_SGL);
		sqe.mptr = vfn_cpu_to_le64(mptr);
		sc = run_rq(&e, rq, &sqe);
		if (!sc) {
			ok++;
			continue;
		}
		bad++;
		assert_true(sc == VFN_NVME_SC_INVALID_FIELD || sc == VFN_NVME_SC_DATA_XFER_ERROR ||
			    sc == VFN_NVME_SC_SGL_INVALID_LAST || sc == VFN_NVME_SC_SGL_INVALID_COUNT ||
			    sc == VFN_NVME_SC_SGL_INVALID_METADATA || sc == VFN_NVME_SC_SGL_INVALID_TYPE);
	}
	print_message("# hostile MPTR SGLs: %u succeeded, %u failed with an SGL status\n", ok, bad);
	assert_true(ok > 0 && bad > 0);

	o.meta = e.meta;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 500, 16, e.buf, &o, &c), 0);
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 500, 16, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rmeta, e.meta, 16 * 8);
	env_close(&e);
}

/* The sim option: reported in SGLS bit 19, refused without SGL support. */
static void test_sim_option(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	(void)state;
	assert_int_equal(vfn_nvme_ctrl_open("sim:mptr_sgl=1,sgls=0", NULL, &ctrl), -EINVAL);
	assert_int_equal(vfn_nvme_ctrl_open("sim:mptr_sgl=1,sgls=2", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_get_info(ctrl)->sgls, VFN_NVME_SGLS_MPTR_SGL | 2);
	vfn_nvme_ctrl_close(ctrl);
	assert_int_equal(vfn_nvme_ctrl_open("sim:", NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_get_info(ctrl)->sgls, 1);
	vfn_nvme_ctrl_close(ctrl);
}

struct q_done {
	int n, ret;
};

static void q_cb(void *arg, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct q_done *d = arg;

	(void)cqe;
	d->n++;
	d->ret = ret;
}

/*
 * The dev handle: metadata memory across two mappings goes as SGLs when
 * the controller takes metadata SGLs (vfn_dev_rw(), vfn_dev_submit_meta()),
 * and is refused as before otherwise (-EINVAL, -EFAULT).
 */
static void test_dev(void **state)
{
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_WRITE, 300, 8);
	struct vfn_dev_rw_opts o = { 0 };
	struct vfn_dev_queue *q = NULL;
	struct vfn_iommu *mmu;
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf, *rbuf, *smeta;
	struct split sm;
	struct q_done d = { 0 };

	(void)state;
	for (int sgl = 1; sgl >= 0; sgl--) {
		assert_int_equal(vfn_dev_open(sgl ? SIM_SGL : SIM_NOSGL, NULL, &dev), 0);
		mmu = vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(dev));
		assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&buf), 8192);
		assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&rbuf), 8192);
		for (int i = 0; i < 8192; i++)
			buf[i] = (uint8_t)(i * 5 + sgl);
		smeta = split_map(mmu, &sm, 24);
		for (int i = 0; i < 64; i++)
			smeta[i] = (uint8_t)(0x40 + i);
		o.meta = smeta;
		o.meta_len = 64;
		if (!sgl) {
			assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 300, 8, buf, 4096, &o, &c), -EINVAL);
			assert_int_equal(vfn_dev_queue_create(dev, 4, &q), 0);
			assert_int_equal(vfn_dev_submit_meta(q, &sqe, buf, 4096, smeta, 64, q_cb, &d), -EFAULT);
			vfn_dev_queue_destroy(q);
			goto next;
		}
		assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 300, 8, buf, 4096, &o, &c), 0);
		memset(smeta, 0, 64);
		assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 300, 8, rbuf, 4096, &o, &c), 0);
		assert_memory_equal(rbuf, buf, 4096);
		for (int i = 0; i < 64; i++)
			assert_int_equal(smeta[i], 0x40 + i);
		/* The queue: a write of other metadata through the SGL, read back by vfn_dev_rw(). */
		assert_int_equal(vfn_dev_queue_create(dev, 4, &q), 0);
		for (int i = 0; i < 64; i++)
			smeta[i] = (uint8_t)(0x90 - i);
		assert_int_equal(vfn_dev_submit_meta(q, &sqe, buf + 4096, 4096, smeta, 64, q_cb, &d), 0);
		while (!d.n)
			assert_true(vfn_dev_wait(q, 0) >= 0);
		assert_int_equal(d.ret, 0);
		vfn_dev_queue_destroy(q);
		memset(smeta, 0, 64);
		assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 300, 8, rbuf, 4096, &o, &c), 0);
		assert_memory_equal(rbuf, buf + 4096, 4096);
		for (int i = 0; i < 64; i++)
			assert_int_equal(smeta[i], (uint8_t)(0x90 - i));
next:
		split_unmap(mmu, &sm);
		vfn_dev_buf_free(dev, buf, 8192);
		vfn_dev_buf_free(dev, rbuf, 8192);
		vfn_dev_close(dev);
	}
}

/*
 * Separate metadata in the controller's CMB.  vfn_rq_map_meta() and the
 * data pointer translate through the CMB, but the helpers checked metadata
 * with the IOMMU only: vfn_nvme_write() with opts.meta in the CMB was
 * -EINVAL (before rev12).  The sim has no CMB: one is faked as two views of
 * one memfd, the controller's (DMA-mapped, its IOVA the "bus address") and
 * the host's (not mapped), so only the CMB translation can reach it.
 */
static void test_meta_in_cmb(void **state)
{
	struct vfn_nvme_io_opts o = { 0 };
	struct vfn_nvme_cmb *cmb;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *dev_view, *host_view;
	struct vfn_nvme_cqe c;
	uint64_t bus;
	struct env e;
	int fd;

	(void)state;
	env_open(&e, SIM_SGL);
	fd = memfd_create("cmb", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(2 * page)), 0);
	dev_view = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	host_view = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(dev_view != MAP_FAILED && host_view != MAP_FAILED);
	assert_int_equal(vfn_iommu_map(e.mmu, dev_view, 2 * page, &bus), 0);
	cmb = calloc(1, sizeof(*cmb));
	assert_non_null(cmb);
	cmb->vaddr = host_view;
	cmb->addr = bus;
	cmb->size = 2 * page;
	e.ctrl->cmb = cmb;

	/* Contiguous MPTR in the CMB: written, read back into host memory equal. */
	memcpy(host_view, e.meta, 32 * 8);
	o.meta = host_view;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 32, e.buf, &o, &c), 0);
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 32, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rmeta, e.meta, 32 * 8);
	/* As a metadata SGL (split in 4 pieces by MDTS): read into the CMB, equal. */
	o.sgl = true;
	o.meta = host_view + page;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 32, e.rbuf, &o, &c), 0);
	assert_memory_equal(host_view + page, e.meta, 32 * 8);
	/* Through vfn_nvme_io_sync_meta() too. */
	memset(host_view + page, 0, 8);
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, 0, 1);
	assert_int_equal(vfn_nvme_io_sync_meta(e.qp, &sqe, e.rbuf, 512, host_view + page, 8, &o, &c), 0);
	assert_memory_equal(host_view + page, e.meta, 8);

	e.ctrl->cmb = NULL;
	free(cmb);
	assert_int_equal(vfn_iommu_unmap(e.mmu, dev_view), 0);
	munmap(dev_view, 2 * page);
	munmap(host_view, 2 * page);
	close(fd);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rq_layout),    cmocka_unit_test(test_rw_split),
		cmocka_unit_test(test_rw_async),     cmocka_unit_test(test_pi),
		cmocka_unit_test(test_no_bit),	     cmocka_unit_test(test_sim_statuses),
		cmocka_unit_test(test_sim_option),   cmocka_unit_test(test_dev),
		cmocka_unit_test(test_hostile_mptr), cmocka_unit_test(test_meta_in_cmb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
