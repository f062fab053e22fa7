/* SPDX-License-Identifier: MIT */
/*
 * The simulated controller (sim:) through the public API: bring-up and
 * shutdown, Identify against the options, queue management statuses, a raw
 * I/O loop over PRPs and SGLs with wrap-around, and every injected fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/nvme.h>
#include <vfn/queue.h>

#include "nvme/ctrl-priv.h"
#include "nvme/prp.h"
#include "sim/sim.h"

#define STATUS(cqe) (vfn_nvme_cqe_status(cqe) & 0x7ff)
#define IOQ_ENTRIES 8
#define LBA 4096u

static struct vfn_nvme_ctrl *open_ok(const char *spec)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open(spec, NULL, &ctrl), 0);
	assert_non_null(ctrl);
	return ctrl;
}

static struct vfn_sim *sim_of(struct vfn_nvme_ctrl *ctrl)
{
	struct vfn_sim *sim = vfn_sim_from_hw(&ctrl->hw);

	assert_non_null(sim);
	return sim;
}

/* A raw admin command without data; returns the completion's status (SCT << 8 | SC), its DW0 in *@dw0. */
static uint16_t admin_dw0(struct vfn_nvme_ctrl *ctrl, uint8_t opcode, uint32_t cdw10, uint32_t cdw11, uint64_t prp1,
			  uint32_t *dw0)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.cdw10 = vfn_cpu_to_le32(cdw10),
		.cdw11 = vfn_cpu_to_le32(cdw11),
	};
	struct vfn_nvme_cqe cqe = { 0 };
	int ret;

	sqe.dptr.prp1 = vfn_cpu_to_le64(prp1);
	ret = vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 2000);
	assert_true(ret == 0 || ret == -EIO);
	*dw0 = vfn_le32_to_cpu(cqe.dw0);
	return STATUS(&cqe);
}

static uint16_t admin_raw(struct vfn_nvme_ctrl *ctrl, uint8_t opcode, uint32_t cdw10, uint32_t cdw11, uint64_t prp1)
{
	uint32_t dw0;

	return admin_dw0(ctrl, opcode, cdw10, cdw11, prp1, &dw0);
}

static void test_bringup_shutdown(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	uint64_t cap = vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP);
	uint32_t cc = vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC);

	assert_int_equal(vfn_nvme_cap_mqes(cap), 1023);
	assert_true(vfn_nvme_cap_cqr(cap));
	assert_int_equal(vfn_nvme_cap_dstrd(cap), 0);
	assert_int_equal(vfn_nvme_cap_css(cap), VFN_NVME_CAP_CSS_NVM);
	assert_int_equal(vfn_nvme_cap_mpsmin(cap), 0);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS), 0x10400);
	assert_int_equal(cc & VFN_NVME_CC_EN, 1);
	assert_int_equal((cc >> VFN_NVME_CC_IOSQES_SHIFT) & 0xf, 6);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS), VFN_NVME_CSTS_RDY);
	/* CSTS is read-only: the controller restores it. */
	vfn_nvme_reg_write32(ctrl, VFN_NVME_REG_CSTS, 0);
	for (int i = 0; i < 1000 && vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) != VFN_NVME_CSTS_RDY; i++)
		usleep(100);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS), VFN_NVME_CSTS_RDY);
	assert_int_equal(ctrl->info.nr_sq, 64);

	/* Shutdown by hand, as vfn_nvme_ctrl_close() does it. */
	vfn_nvme_reg_write32(ctrl, VFN_NVME_REG_CC, cc | VFN_NVME_CC_SHN_NORMAL);
	for (int i = 0; i < 1000 && !(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_SHST_MASK); i++)
		usleep(100);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS), VFN_NVME_CSTS_RDY | VFN_NVME_CSTS_SHST_COMPLETE);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_identify_matches_options(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nsze=1000,lbads=9,nn=4,mqes=63,mdts=3,sn=ABC123,ttr_ms=20");
	const struct vfn_nvme_ctrl_info *info = vfn_nvme_ctrl_get_info(ctrl);
	struct vfn_nvme_ns_info ns;
	uint32_t nsids[8], dw0;

	assert_int_equal(vfn_nvme_cap_mqes(vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP)), 63);
	assert_string_equal(info->sn, "ABC123");
	assert_string_equal(info->mn, "vfn simulated controller");
	assert_int_equal(info->vid, 0xffff);
	assert_int_equal(info->nn, 4);
	assert_int_equal(info->mdts, 3);
	assert_int_equal(info->max_xfer, 8 * 4096);
	assert_int_equal(info->ver, 0x10400);
	assert_int_equal(info->sgls & 3, 1);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 4, &ns), 0);
	assert_int_equal(ns.nsze, 1000);
	assert_int_equal(ns.lba_size, 512);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 5, &ns), -ENOENT);
	assert_int_equal(vfn_nvme_ns_list_active(ctrl, 1, nsids, 8), 3);
	assert_int_equal(nsids[0], 2);
	assert_int_equal(nsids[2], 4);

	assert_int_equal(vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_VOLATILE_WC, 0, 0, NULL, NULL, 0), 0);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_VOLATILE_WC, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(dw0, 63u | 63u << 16);
	assert_int_equal(vfn_nvme_get_features(ctrl, 0x7f, 0, 0, &dw0, NULL, 0), -EIO);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_bad_options(void **state)
{
	static const char *const bad[] = {
		"sim:bogus=1",
		"sim:nn=0",
		"sim:nn=x",
		"sim:lbads=8",
		"sim:nsze=",
		"sim:nsze=-1",
		"sim:,",
		"sim:nn=1,",
		"sim:sn=",
		"sim:sn=way_too_long_serial_number",
		"sim:nil",
		"sim:mqes=65536",
		"sim:nsze=999999999999",
	};
	struct vfn_nvme_ctrl *ctrl = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vfn_nvme_ctrl_open(bad[i], NULL, &ctrl), -EINVAL);
	assert_null(ctrl);
}

/* An I/O queue pair in one DMA allocation (SQ ring page, CQ ring page). */
struct ioq {
	struct vfn_nvme_ctrl *ctrl;
	void *mem;
	size_t len;
	uint64_t iova;
	struct vfn_sq sq;
	struct vfn_cq cq;
};

static void ioq_create(struct vfn_nvme_ctrl *ctrl, uint16_t qid, uint16_t entries, uint32_t cq_flags, struct ioq *q)
{
	struct vfn_iommu *iommu = vfn_nvme_ctrl_iommu(ctrl);
	ssize_t len = vfn_dma_alloc(iommu, 2 * 4096, &q->mem, &q->iova);

	assert_true(len > 0);
	q->ctrl = ctrl;
	q->len = (size_t)len;
	assert_int_equal(
		admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, qid | (entries - 1u) << 16, 1 | cq_flags, q->iova + 4096), 0);
	assert_int_equal(
		admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_SQ, qid | (entries - 1u) << 16, 1 | (uint32_t)qid << 16, q->iova),
		0);
	q->cq = (struct vfn_cq){ .cqes = (struct vfn_nvme_cqe *)((uint8_t *)q->mem + 4096),
				 .iova = q->iova + 4096,
				 .db = vfn_nvme_ctrl_doorbell(ctrl, qid, true),
				 .qid = qid,
				 .entries = entries,
				 .phase = 1,
				 .vector = -1,
				 .efd = -1 };
	q->sq = (struct vfn_sq){ .sqes = q->mem,
				 .iova = q->iova,
				 .db = vfn_nvme_ctrl_doorbell(ctrl, qid, false),
				 .cq = &q->cq,
				 .qid = qid,
				 .entries = entries };
	/* Shadow doorbells are on by default: the sim then reads them, not the MMIO ones. */
	vfn_nvme_dbbuf_slots(ctrl, qid, true, &q->cq.shadow_db, &q->cq.eventidx);
	vfn_nvme_dbbuf_slots(ctrl, qid, false, &q->sq.shadow_db, &q->sq.eventidx);
}

static void ioq_delete(struct ioq *q)
{
	assert_int_equal(admin_raw(q->ctrl, VFN_NVME_ADMIN_DELETE_SQ, q->sq.qid, 0, 0), 0);
	assert_int_equal(admin_raw(q->ctrl, VFN_NVME_ADMIN_DELETE_CQ, q->cq.qid, 0, 0), 0);
	vfn_dma_free(vfn_nvme_ctrl_iommu(q->ctrl), q->mem, q->len);
}

/* Waits up to @ms for the next CQE; consumes it into *@out.  False on timeout. */
static bool ioq_reap(struct ioq *q, struct vfn_nvme_cqe *out, unsigned int ms)
{
	uint64_t deadline = vfn_now_ns() + ms * 1000000ull;
	struct vfn_nvme_cqe *cqe;

	while (!(cqe = vfn_cq_peek(&q->cq))) {
		if (vfn_now_ns() > deadline)
			return false;
		usleep(10);
	}
	*out = *cqe;
	vfn_cq_pop(&q->cq);
	vfn_sq_update_head(&q->sq, out);
	vfn_cq_ring(&q->cq);
	return true;
}

static uint16_t io_sync(struct ioq *q, struct vfn_nvme_sqe *sqe)
{
	struct vfn_nvme_cqe cqe;

	vfn_sq_post(&q->sq, sqe);
	vfn_sq_ring(&q->sq);
	assert_true(ioq_reap(q, &cqe, 2000));
	assert_int_equal(vfn_le16_to_cpu(cqe.cid), vfn_le16_to_cpu(sqe->cid));
	assert_int_equal(vfn_le16_to_cpu(cqe.sqid), q->sq.qid);
	return STATUS(&cqe);
}

static struct vfn_nvme_sqe rw_sqe(uint8_t opcode, uint16_t cid, uint64_t slba, uint32_t nlb)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = opcode,
		.cid = vfn_cpu_to_le16(cid),
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};

	return sqe;
}

/* DMA memory for data and descriptor tests. */
struct bufs {
	struct vfn_iommu *iommu;
	uint8_t *data;
	uint64_t data_iova;
	uint8_t *list; /* PRP list or SGL segment memory */
	uint64_t list_iova;
};

#define DATA_LEN (128 * 4096)
#define LIST_LEN (4 * 4096)

static void bufs_alloc(struct vfn_nvme_ctrl *ctrl, struct bufs *b)
{
	b->iommu = vfn_nvme_ctrl_iommu(ctrl);
	assert_int_equal(vfn_dma_alloc(b->iommu, DATA_LEN, (void **)&b->data, &b->data_iova), DATA_LEN);
	assert_int_equal(vfn_dma_alloc(b->iommu, LIST_LEN, (void **)&b->list, &b->list_iova), LIST_LEN);
}

static void bufs_free(struct bufs *b)
{
	vfn_dma_free(b->iommu, b->data, DATA_LEN);
	vfn_dma_free(b->iommu, b->list, LIST_LEN);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 9));
}

/* Writes @len bytes from data offset @off at LBA @slba, reads them back to offset @roff, compares. */
static void prp_roundtrip(struct ioq *q, struct bufs *b, size_t off, size_t roff, size_t len, size_t list_off,
			  uint64_t slba)
{
	struct vfn_prp_list list = { .vaddr = (vfn_le64 *)(b->list + list_off),
				     .iova = b->list_iova + list_off,
				     .entries = (LIST_LEN - list_off) / 8 };
	struct vfn_nvme_sqe sqe;
	uint64_t prp1, prp2;

	fill(b->data + off, len, (unsigned int)(off + len + list_off));
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 1, slba, (uint32_t)(len / LBA));
	assert_int_equal(vfn_prp_build(b->data_iova + off, len, 4096, &list, &prp1, &prp2), 0);
	sqe.dptr.prp1 = vfn_cpu_to_le64(prp1);
	sqe.dptr.prp2 = vfn_cpu_to_le64(prp2);
	assert_int_equal(io_sync(q, &sqe), 0);

	memset(b->data + roff, 0, len);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 2, slba, (uint32_t)(len / LBA));
	assert_int_equal(vfn_prp_build(b->data_iova + roff, len, 4096, &list, &prp1, &prp2), 0);
	sqe.dptr.prp1 = vfn_cpu_to_le64(prp1);
	sqe.dptr.prp2 = vfn_cpu_to_le64(prp2);
	assert_int_equal(io_sync(q, &sqe), 0);
	assert_memory_equal(b->data + off, b->data + roff, len);
}

static void test_io_prp(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:mdts=6");
	static const size_t lens[] = { 1, 2, 3, 8, 33 }; /* in 4 KiB blocks */
	static const size_t offs[] = { 0, 4, 512, 4092 };
	static const size_t list_offs[] = { 0, 4080, 4088 }; /* list crossing a page: chained */
	struct ioq q;
	struct bufs b;

	ioq_create(ctrl, 1, 16, 0, &q);
	bufs_alloc(ctrl, &b);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
			for (size_t s = 0; s < sizeof(list_offs) / sizeof(list_offs[0]); s++)
				prp_roundtrip(&q, &b, offs[o], DATA_LEN / 2 + offs[(o + 1) % 4], lens[l] * LBA,
					      list_offs[s], l * 40);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

/* A command over SGL chunks of @sizes bytes spread through the data buffer (gaps between). */
static struct vfn_nvme_sqe sgl_sqe(struct bufs *b, uint8_t opcode, size_t base, const uint32_t *sizes, size_t nr)
{
	struct vfn_sgl_chunk chunks[8];
	struct vfn_sgl_segment seg = { .descs = (struct vfn_nvme_sgl_desc *)b->list,
				       .iova = b->list_iova,
				       .entries = LIST_LEN / 16 };
	struct vfn_nvme_sqe sqe;
	uint32_t total = 0;
	size_t at = base;

	for (size_t i = 0; i < nr; i++) {
		chunks[i] = (struct vfn_sgl_chunk){ .iova = b->data_iova + at, .len = sizes[i] };
		total += sizes[i];
		at += sizes[i] + 100;
	}
	sqe = rw_sqe(opcode, 3, 7, total / LBA);
	sqe.flags = VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG;
	assert_int_equal(vfn_sgl_build(&sqe.dptr.sgl, chunks, nr, &seg), 0);
	return sqe;
}

static void test_io_sgl(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	static const uint32_t one[] = { 2 * LBA }, three[] = { 100, 3 * LBA, 2 * LBA - 100 };
	struct vfn_nvme_sgl_desc *d;
	struct vfn_nvme_sqe sqe;
	struct ioq q;
	struct bufs b;

	ioq_create(ctrl, 2, 16, 0, &q);
	bufs_alloc(ctrl, &b);
	fill(b.data, DATA_LEN / 2, 5);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_WRITE, 0, three, 3);
	assert_int_equal(io_sync(&q, &sqe), 0);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, DATA_LEN / 2, three, 3);
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_memory_equal(b.data, b.data + DATA_LEN / 2, 100);
	assert_memory_equal(b.data + 200, b.data + DATA_LEN / 2 + 200, 3 * LBA);
	/* One Data Block in the SQE itself reads the first 2 blocks back contiguously. */
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, DATA_LEN / 4, one, 1);
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_memory_equal(b.data, b.data + DATA_LEN / 4, 100);

	/* Errors: too short, bad type, a Segment not ending in a segment descriptor, unmapped. */
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, 0, three, 3);
	sqe.cdw12 = vfn_cpu_to_le32(7);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_SGL_INVALID_DATA);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, 0, three, 3);
	d = (struct vfn_nvme_sgl_desc *)b.list;
	d[1].type = 0x40;
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_SGL_INVALID_TYPE);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, 0, three, 3);
	sqe.dptr.sgl.type = VFN_NVME_SGL_TYPE_SEGMENT << 4;
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_SGL_INVALID_LAST);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, 0, three, 3);
	sqe.dptr.sgl.length = vfn_cpu_to_le32(24);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_SGL_INVALID_COUNT);
	sqe = sgl_sqe(&b, VFN_NVME_CMD_READ, 0, one, 1);
	sqe.dptr.sgl.addr = vfn_cpu_to_le64(0x10);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_DATA_XFER_ERROR);
	/* A Segment whose only descriptor is itself: the walk gives up. */
	d = (struct vfn_nvme_sgl_desc *)b.list;
	d[0] = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.list_iova),
					   .length = vfn_cpu_to_le32(16),
					   .type = VFN_NVME_SGL_TYPE_SEGMENT << 4 };
	sqe.dptr.sgl = d[0];
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_SGL_INVALID_COUNT);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_io_errors(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nsze=64,mdts=2");
	struct vfn_nvme_sqe sqe;
	struct ioq q;
	struct bufs b;

	ioq_create(ctrl, 1, 4, 0, &q);
	bufs_alloc(ctrl, &b);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 9, 63, 2);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_LBA_RANGE);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 9, 0, 5); /* 20 KiB > MDTS 16 KiB */
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_INVALID_FIELD);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 9, 0, 2);
	sqe.nsid = vfn_cpu_to_le32(2);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_INVALID_NS);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 9, 0, 2);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	sqe.dptr.prp2 = vfn_cpu_to_le64(b.data_iova + 4096 + 8);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_INVALID_PRP_OFFSET);
	/* A PRP list page's chain pointer must be page-aligned. */
	sqe = rw_sqe(VFN_NVME_CMD_READ, 9, 0, 3);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	sqe.dptr.prp2 = vfn_cpu_to_le64(b.list_iova + 4088);
	((vfn_le64 *)b.list)[511] = vfn_cpu_to_le64(b.data_iova + 8192 + 16);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_INVALID_PRP_OFFSET);
	sqe = rw_sqe(0x7e, 9, 0, 1);
	assert_int_equal(io_sync(&q, &sqe), VFN_NVME_SC_INVALID_OPCODE);

	/* Write, Write Zeroes, read back zeros; Flush; DSM deallocate. */
	memset(b.data, 0xa5, 4096);
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 1, 10, 1);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	assert_int_equal(io_sync(&q, &sqe), 0);
	sqe = rw_sqe(VFN_NVME_CMD_WRITE_ZEROES, 2, 10, 1);
	assert_int_equal(io_sync(&q, &sqe), 0);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 3, 10, 1);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_int_equal(b.data[0] | b.data[4095], 0);
	sqe = rw_sqe(VFN_NVME_CMD_FLUSH, 4, 0, 1);
	assert_int_equal(io_sync(&q, &sqe), 0);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

/* Thousands of commands on an 8-entry queue: tail/head wrap, the phase flips, cids are reused. */
static void test_io_wrap(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_cqe cqe = { 0 };
	struct ioq q;
	struct bufs b;
	unsigned int done = 0, phase_flips = 0;

	ioq_create(ctrl, 3, IOQ_ENTRIES, 0, &q);
	bufs_alloc(ctrl, &b);
	while (done < 5000) {
		unsigned int batch = 1 + done % (IOQ_ENTRIES - 1);
		uint16_t phase = q.cq.phase;

		for (unsigned int i = 0; i < batch; i++) {
			struct vfn_nvme_sqe sqe =
				rw_sqe(i % 2 ? VFN_NVME_CMD_READ : VFN_NVME_CMD_WRITE, (uint16_t)i, done % 64, 1);

			sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova + i * 4096);
			vfn_sq_post(&q.sq, &sqe);
		}
		vfn_sq_ring(&q.sq);
		for (unsigned int i = 0; i < batch; i++) {
			assert_true(ioq_reap(&q, &cqe, 2000));
			assert_int_equal(vfn_le16_to_cpu(cqe.cid), i);
			assert_int_equal(STATUS(&cqe), 0);
		}
		phase_flips += q.cq.phase != phase;
		done += batch;
	}
	assert_int_equal(q.sq.head, q.sq.tail);
	assert_true(phase_flips > 500);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_queue_management(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:mqes=15");
	struct vfn_iommu *iommu = vfn_nvme_ctrl_iommu(ctrl);
	uint64_t iova;
	void *mem;

	assert_int_equal(vfn_dma_alloc(iommu, 4096, &mem, &iova), 4096);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 0 | 3u << 16, 1, iova), VFN_NVME_SC_QID_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 65 | 3u << 16, 1, iova), VFN_NVME_SC_QID_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 0u << 16, 1, iova), VFN_NVME_SC_QUEUE_SIZE);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 16u << 16, 1, iova), VFN_NVME_SC_QUEUE_SIZE);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 0, iova), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 1, iova + 8),
			 VFN_NVME_SC_INVALID_PRP_OFFSET);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 3 | 64u << 16, iova),
			 VFN_NVME_SC_INVALID_VECTOR);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 1, iova), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 1, iova), VFN_NVME_SC_QID_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_SQ, 1 | 3u << 16, 1 | 2u << 16, iova + 2048),
			 VFN_NVME_SC_CQ_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_SQ, 1 | 3u << 16, 1 | 1u << 16, iova), 0);
	/* Number of Queues cannot change while I/O queues exist. */
	assert_int_equal(vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, NULL, NULL, 0), -EIO);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_CQ, 1, 0, 0), VFN_NVME_SC_INVALID_QUEUE_DELETION);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_SQ, 2, 0, 0), VFN_NVME_SC_QID_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_SQ, 1, 0, 0), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_CQ, 1, 0, 0), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_CQ, 1, 0, 0), VFN_NVME_SC_QID_INVALID);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DBBUF_CONFIG, 0, 0, 0), VFN_NVME_SC_INVALID_FIELD);
	vfn_dma_free(iommu, mem, 4096);
	vfn_nvme_ctrl_close(ctrl);
}

/* One Flush through the shadow doorbells of queue pair 1 (slots 2 and 3 of @dbs), reaped. */
static void dbbuf_cmd(struct ioq *q, vfn_le32 *dbs, uint16_t cid)
{
	struct vfn_nvme_sqe io = rw_sqe(VFN_NVME_CMD_FLUSH, cid, 0, 1);

	vfn_sq_post(&q->sq, &io);
	vfn_wmb();
	VFN_WRITE_ONCE(dbs[2], vfn_cpu_to_le32(q->sq.tail));
	for (int t = 0; t < 20000 && !vfn_cq_peek(&q->cq); t++)
		usleep(10);
	assert_non_null(vfn_cq_peek(&q->cq));
	assert_int_equal(vfn_le16_to_cpu(vfn_cq_peek(&q->cq)->cid), cid);
	vfn_sq_update_head(&q->sq, vfn_cq_peek(&q->cq));
	vfn_cq_pop(&q->cq);
	VFN_WRITE_ONCE(dbs[3], vfn_cpu_to_le32(q->cq.head));
}

/* Shadow doorbells: the host updates memory, not registers; EventIdx stays one entry behind. */
static void test_dbbuf(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_DBBUF_CONFIG };
	struct vfn_nvme_cqe cqe;
	struct bufs b;
	struct ioq q;
	vfn_le32 *dbs, *eis;

	assert_true(ctrl->info.oacs & (1u << 8));
	bufs_alloc(ctrl, &b);
	dbs = (vfn_le32 *)b.list;
	eis = (vfn_le32 *)(b.list + 4096);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.list_iova);
	sqe.dptr.prp2 = vfn_cpu_to_le64(b.list_iova + 4096);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 0), 0);
	ioq_create(ctrl, 1, 8, 0, &q);
	for (uint16_t i = 0; i < 20; i++)
		dbbuf_cmd(&q, dbs, i);
	/* The registers were never written; EventIdx trails the shadow tail by one. */
	assert_int_equal(vfn_mmio_read32(q.sq.db), 0);
	assert_int_equal(vfn_mmio_read32(q.cq.db), 0);
	assert_int_equal(vfn_le32_to_cpu(eis[2]), (q.sq.tail - 1u) & 0xffff);
	for (int t = 0; t < 20000 && vfn_le32_to_cpu(VFN_READ_ONCE(eis[3])) != ((q.cq.head - 1u) & 0xffff); t++)
		usleep(10);
	assert_int_equal(vfn_le32_to_cpu(eis[3]), (q.cq.head - 1u) & 0xffff);
	/* Four more: both doorbells wrap to index 0; EventIdx is a queue index, so entries - 1. */
	for (uint16_t i = 20; i < 24; i++)
		dbbuf_cmd(&q, dbs, i);
	assert_int_equal(q.sq.tail, 0);
	assert_int_equal(q.cq.head, 0);
	assert_int_equal(vfn_le32_to_cpu(eis[2]), 8 - 1);
	for (int t = 0; t < 20000 && vfn_le32_to_cpu(VFN_READ_ONCE(eis[3])) != 8 - 1; t++)
		usleep(10);
	assert_int_equal(vfn_le32_to_cpu(eis[3]), 8 - 1);
	ioq_delete(&q);
	bufs_free(&b);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_log_pages(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_GET_LOG_PAGE };
	struct vfn_nvme_cqe cqe;
	uint8_t log[512];

	/* Make an error first: Identify with a bad CNS. */
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_IDENTIFY, 0x55, 0, 0), VFN_NVME_SC_INVALID_FIELD);
	sqe.cdw10 = vfn_cpu_to_le32(VFN_NVME_LOG_ERROR | (64 / 4 - 1) << 16);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, log, 64, &cqe, 0), 0);
	assert_int_equal(log[0], 1); /* error count */
	assert_int_equal((log[12] | log[13] << 8) >> 1 & 0x7ff, VFN_NVME_SC_INVALID_FIELD);
	sqe = (struct vfn_nvme_sqe){ .opcode = VFN_NVME_ADMIN_GET_LOG_PAGE,
				     .cdw10 = vfn_cpu_to_le32(VFN_NVME_LOG_SMART | (512 / 4 - 1) << 16) };
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, log, 512, &cqe, 0), 0);
	assert_int_equal(log[3], 100);
	sqe.cdw10 = vfn_cpu_to_le32(VFN_NVME_LOG_FW_SLOT | (512 / 4 - 1) << 16);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, log, 512, &cqe, 0), 0);
	assert_int_equal(log[0], 1);
	assert_memory_equal(log + 8, "1.0     ", 8);
	sqe.cdw10 = vfn_cpu_to_le32(0x70 | (512 / 4 - 1) << 16);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, log, 512, &cqe, 0), -EIO);
	assert_int_equal(STATUS(&cqe), VFN_NVME_SC_INVALID_LOG_PAGE);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_fault_fatal(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	uint8_t id[4096];
	uint64_t t0;

	vfn_sim_fault_fatal(sim_of(ctrl));
	assert_true(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS) & VFN_NVME_CSTS_CFS);
	t0 = vfn_now_ns();
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), -EIO);
	assert_true(vfn_now_ns() - t0 < 200000000ull);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_fault_removed(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	uint8_t id[4096];

	vfn_sim_fault_remove(sim_of(ctrl));
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS), UINT32_MAX);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), -ENODEV);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_fault_never_ready(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open("sim:never_ready=1,to=1", NULL, &ctrl), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_open("sim:ttr_ms=1000,to=1", NULL, &ctrl), -ETIMEDOUT);
	assert_null(ctrl);
	ctrl = open_ok("sim:ttr_ms=100");
	vfn_nvme_ctrl_close(ctrl);
}

static void test_fault_drop_and_status(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_sim_fault drop = {
		.action = VFN_SIM_FAULT_DROP, .sqid = 0, .opcode = VFN_NVME_ADMIN_GET_FEATURES, .nth = 2
	};
	struct vfn_sim_fault st = {
		.action = VFN_SIM_FAULT_STATUS, .sqid = -1, .opcode = -1, .status = VFN_NVME_SC_INTERNAL
	};
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_GET_FEATURES, .cdw10 = VFN_NVME_FEAT_ARBITRATION };
	uint16_t status;
	uint8_t id[4096];
	uint32_t dw0;

	assert_int_equal(vfn_sim_fault_add(sim_of(ctrl), &drop), 0);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, NULL, 50), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0, 0, &dw0, NULL, 0), 0);
	/* A dropped command still takes effect: only its completion is lost. */
	drop = (struct vfn_sim_fault){ .action = VFN_SIM_FAULT_DROP,
				       .sqid = -1,
				       .opcode = VFN_NVME_ADMIN_SET_FEATURES };
	assert_int_equal(vfn_sim_fault_add(sim_of(ctrl), &drop), 0);
	sqe = (struct vfn_nvme_sqe){ .opcode = VFN_NVME_ADMIN_SET_FEATURES,
				     .cdw10 = VFN_NVME_FEAT_ARBITRATION,
				     .cdw11 = vfn_cpu_to_le32(0x3) };
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, NULL, 50), -ETIMEDOUT);
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0, 0, &dw0, NULL, 0), 0);
	assert_int_equal(dw0, 0x3);

	assert_int_equal(vfn_sim_fault_add(sim_of(ctrl), &st), 0);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, &status), -EIO);
	assert_int_equal(status, VFN_NVME_SC_INTERNAL);
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, &status), 0);
	st.action = 99;
	assert_int_equal(vfn_sim_fault_add(sim_of(ctrl), &st), -EINVAL);
	vfn_nvme_ctrl_close(ctrl);
}

static char last_log[512];

static void capture_log(enum vfn_log_level level, const char *msg, void *arg)
{
	if (strstr(msg, "unexpected admin completion"))
		snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void test_fault_wrong_cid(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_WRONG_CID, .sqid = 0, .opcode = -1 };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_GET_FEATURES, .cdw10 = VFN_NVME_FEAT_ARBITRATION };
	uint32_t dw0;

	vfn_log_set_fn(capture_log, NULL);
	vfn_log_set_level(VFN_LOG_ERR);
	assert_int_equal(vfn_sim_fault_add(sim_of(ctrl), &f), 0);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, NULL, 50), -ETIMEDOUT);
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	assert_non_null(strstr(last_log, "unexpected admin completion"));
	assert_int_equal(vfn_nvme_get_features(ctrl, VFN_NVME_FEAT_ARBITRATION, 0, 0, &dw0, NULL, 0), 0);
	vfn_nvme_ctrl_close(ctrl);
}

/* Delay on an I/O queue, Abort of the delayed command, and a wrong phase tag. */
static void test_fault_io_delay_abort_phase(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_sim *sim = sim_of(ctrl);
	struct vfn_sim_fault f = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = 1, .opcode = VFN_NVME_CMD_FLUSH, .delay_ms = 60000
	};
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_FLUSH, 42, 0, 1);
	struct vfn_nvme_sqe abort_sqe = { .opcode = VFN_NVME_ADMIN_ABORT, .cdw10 = vfn_cpu_to_le32(1 | 42u << 16) };
	struct vfn_nvme_cqe cqe;
	struct ioq q;
	uint64_t t0;

	ioq_create(ctrl, 1, 4, 0, &q);
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	vfn_sq_post(&q.sq, &sqe);
	vfn_sq_ring(&q.sq);
	assert_false(ioq_reap(&q, &cqe, 30));
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &abort_sqe, NULL, 0, &cqe, 0), 0);
	assert_int_equal(vfn_le32_to_cpu(cqe.dw0) & 1, 0); /* aborted */
	assert_true(ioq_reap(&q, &cqe, 1000));
	assert_int_equal(vfn_le16_to_cpu(cqe.cid), 42);
	assert_int_equal(STATUS(&cqe), VFN_NVME_SC_ABORT_REQ);

	f.delay_ms = 50;
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	t0 = vfn_now_ns();
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_true(vfn_now_ns() - t0 >= 50000000ull);

	f = (struct vfn_sim_fault){ .action = VFN_SIM_FAULT_WRONG_PHASE, .sqid = 1, .opcode = -1 };
	assert_int_equal(vfn_sim_fault_add(sim, &f), 0);
	vfn_sq_post(&q.sq, &sqe);
	vfn_sq_ring(&q.sq);
	assert_false(ioq_reap(&q, &cqe, 50));
	/* The slot holds the CQE with the old phase: the host never sees it. */
	assert_int_equal(vfn_le16_to_cpu(q.cq.cqes[q.cq.head].cid), 42);
	assert_int_equal(vfn_le16_to_cpu(q.cq.cqes[q.cq.head].sfp) & 1, q.cq.phase ^ 1);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

/* A full CQ holds commands back in the SQ: Abort finds one there; it completes as aborted once fetched. */
static void test_abort_queued(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_sqe abort_sqe = { .opcode = VFN_NVME_ADMIN_ABORT, .cdw10 = vfn_cpu_to_le32(1 | 4u << 16) };
	struct vfn_nvme_cqe cqe;
	struct ioq q;

	ioq_create(ctrl, 1, 8, 0, &q);
	/* Re-create the CQ with 4 entries (3 usable) under the same SQ. */
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_SQ, 1, 0, 0), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_DELETE_CQ, 1, 0, 0), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 3u << 16, 1, q.cq.iova), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_SQ, 1 | 7u << 16, 1 | 1u << 16, q.sq.iova), 0);
	q.cq.entries = 4;
	for (uint16_t i = 0; i < 5; i++) {
		struct vfn_nvme_sqe io = rw_sqe(VFN_NVME_CMD_FLUSH, i, 0, 1);

		vfn_sq_post(&q.sq, &io);
	}
	vfn_sq_ring(&q.sq);
	for (int t = 0; t < 20000 && !VFN_READ_ONCE(q.cq.cqes[2].sfp); t++)
		usleep(10);
	usleep(2000);
	assert_int_equal(vfn_le16_to_cpu(q.cq.cqes[3].sfp), 0); /* the CQ is full */
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &abort_sqe, NULL, 0, &cqe, 0), 0);
	assert_int_equal(vfn_le32_to_cpu(cqe.dw0) & 1, 0);
	abort_sqe.cdw10 = vfn_cpu_to_le32(1 | 9u << 16); /* no such command */
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &abort_sqe, NULL, 0, &cqe, 0), 0);
	assert_int_equal(vfn_le32_to_cpu(cqe.dw0) & 1, 1);
	for (uint16_t i = 0; i < 5; i++) {
		assert_true(ioq_reap(&q, &cqe, 2000));
		assert_int_equal(vfn_le16_to_cpu(cqe.cid), i);
		assert_int_equal(STATUS(&cqe), i == 4 ? VFN_NVME_SC_ABORT_REQ : 0);
	}
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_irq_and_aer(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nil=1,nsze=0x100000000");
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_READ, 1, 0xffffff00, 8);
	struct vfn_nvme_sqe aer = { .opcode = VFN_NVME_ADMIN_ASYNC_EVENT };
	struct vfn_nvme_cqe cqe;
	uint64_t v = 0;
	struct ioq q;
	int efd = eventfd(0, 0);

	assert_true(efd >= 0);
	assert_int_equal(ctrl->hw.ops->irq_count(&ctrl->hw), 64);
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 5, 1, &efd), 0);
	ioq_create(ctrl, 1, 4, 2 | 5u << 16, &q); /* IEN, vector 5 */
	assert_int_equal(io_sync(&q, &sqe), 0);	  /* nil: no data pointer needed */
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_true(v >= 1);
	ioq_delete(&q);
	assert_int_equal(ctrl->hw.ops->irq_disable(&ctrl->hw), 0);
	close(efd);

	assert_int_equal(vfn_sim_event_raise(sim_of(ctrl), 0x2, 0x1, VFN_NVME_LOG_SMART), 0);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &aer, NULL, 0, &cqe, 1000), 0);
	assert_int_equal(vfn_le32_to_cpu(cqe.dw0), 0x2u | 0x1u << 8 | 0x2u << 16);
	vfn_nvme_ctrl_close(ctrl);
}

#define TEMP_OVER(k) (k)		    /* Temperature Threshold CDW11: composite, over, TMPTH k */
#define TEMP_UNDER(k) ((k) | 1u << 20)	    /* THSEL 1: under */
#define TEMP_SENSOR(n, k) ((k) | (n) << 16) /* TMPSEL n */
#define AEN_SMART_TEMP (0x1u | 0x01u << 8 | (uint32_t)VFN_NVME_LOG_SMART << 16)

struct aer_seen {
	int n;
	uint32_t dw0[4];
};

static void aer_cb(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct aer_seen *a = arg;

	if (a->n < 4)
		a->dw0[a->n] = dw0;
	a->n++;
}

/* Polls the admin queue for @ms, or until @want events arrived; asserts exactly @want did. */
static void aer_expect(struct vfn_nvme_ctrl *ctrl, struct aer_seen *a, int want, unsigned int ms)
{
	uint64_t deadline = vfn_now_ns() + ms * 1000000ull;

	while (a->n < want && vfn_now_ns() < deadline) {
		assert_true(vfn_nvme_admin_poll(ctrl) >= 0);
		usleep(1000);
	}
	assert_int_equal(vfn_nvme_admin_poll(ctrl), 0);
	assert_int_equal(a->n, want);
}

/* SMART / Health log byte 0 (Critical Warning), read with Retain Asynchronous Event set or clear. */
static uint8_t smart_critical_warning(struct vfn_nvme_ctrl *ctrl, bool rae)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_GET_LOG_PAGE };
	uint8_t log[512];

	sqe.cdw10 = vfn_cpu_to_le32(VFN_NVME_LOG_SMART | (rae ? 1u << 15 : 0) | (512 / 4 - 1) << 16);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &sqe, log, sizeof(log), NULL, 0), 0);
	assert_int_equal(log[1] | log[2] << 8, 308); /* composite temperature */
	return log[0];
}

static uint32_t temp_get(struct vfn_nvme_ctrl *ctrl, uint32_t sel, uint32_t cdw11)
{
	uint32_t dw0 = 0xdead;

	assert_int_equal(
		admin_dw0(ctrl, VFN_NVME_ADMIN_GET_FEATURES, VFN_NVME_FEAT_TEMP_THRESH | sel << 8, cdw11, 0, &dw0), 0);
	return dw0;
}

static uint16_t temp_set(struct vfn_nvme_ctrl *ctrl, uint32_t cdw11)
{
	return admin_raw(ctrl, VFN_NVME_ADMIN_SET_FEATURES, VFN_NVME_FEAT_TEMP_THRESH, cdw11, 0);
}

/* Temperature Threshold values: defaults (WCTEMP, 0), sensors the sim lacks, reserved selections. */
static void test_temp_threshold(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	uint8_t id[4096];
	uint32_t dw0;

	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), 0);
	assert_int_equal(id[266] | id[267] << 8, 343);		/* WCTEMP */
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 343); /* its default */
	assert_int_equal(temp_get(ctrl, 0, TEMP_UNDER(0)), 0);
	assert_int_equal(temp_set(ctrl, TEMP_OVER(350)), 0);
	assert_int_equal(temp_set(ctrl, TEMP_UNDER(270)), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 350);
	assert_int_equal(temp_get(ctrl, 0, TEMP_UNDER(0)), 270);
	assert_int_equal(temp_get(ctrl, 1, TEMP_OVER(0)), 343);	    /* SEL default */
	assert_int_equal(temp_get(ctrl, 2, TEMP_UNDER(0)), 0);	    /* SEL saved: not saveable, the default */
	assert_int_equal(temp_get(ctrl, 3, TEMP_OVER(0)), 1u << 2); /* SEL capabilities: changeable */
	/* All Temperature Sensors (Set only) is the composite one here. */
	assert_int_equal(temp_set(ctrl, TEMP_SENSOR(0xfu, 360)), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 360);
	/* Sensors 1-8 are not implemented: their thresholds read 0 and setting them has no effect. */
	assert_int_equal(temp_set(ctrl, TEMP_SENSOR(1u, 200)), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_SENSOR(1u, 0)), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_SENSOR(8u, 0)), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 360);
	assert_int_equal(smart_critical_warning(ctrl, false), 0);
	/* Reserved THSEL and TMPSEL; All Temperature Sensors in Get Features. */
	assert_int_equal(temp_set(ctrl, 2u << 20 | 300), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(temp_set(ctrl, 3u << 20 | 300), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(temp_set(ctrl, TEMP_SENSOR(9u, 300)), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(temp_set(ctrl, TEMP_SENSOR(0xeu, 300)), VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(admin_dw0(ctrl, VFN_NVME_ADMIN_GET_FEATURES, VFN_NVME_FEAT_TEMP_THRESH, 2u << 20, 0, &dw0),
			 VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(
		admin_dw0(ctrl, VFN_NVME_ADMIN_GET_FEATURES, VFN_NVME_FEAT_TEMP_THRESH, TEMP_SENSOR(0xfu, 0), 0, &dw0),
		VFN_NVME_SC_INVALID_FIELD);
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 360);
	/* A controller reset restores the defaults. */
	assert_int_equal(vfn_nvme_ctrl_reset(ctrl), 0);
	assert_int_equal(temp_get(ctrl, 0, TEMP_OVER(0)), 343);
	assert_int_equal(temp_get(ctrl, 0, TEMP_UNDER(0)), 0);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * Crossing a threshold sets Critical Warning bit 1 and, with AEC bit 1, raises
 * SMART / Health, Temperature Threshold, log 02h once; further SMART events
 * stay masked until the log is read with RAE clear.
 */
static void test_temp_event(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_sqe err_log = { .opcode = VFN_NVME_ADMIN_GET_LOG_PAGE,
					.cdw10 = vfn_cpu_to_le32(VFN_NVME_LOG_ERROR | (64 / 4 - 1) << 16) };
	struct aer_seen a = { 0 };
	uint8_t id[64];

	assert_int_equal(vfn_nvme_aer_set_callback(ctrl, aer_cb, &a), 0);
	/* Without AEC bit 1 the warning shows in the log only. */
	assert_int_equal(temp_set(ctrl, TEMP_OVER(308)), 0); /* at the threshold counts */
	assert_int_equal(smart_critical_warning(ctrl, false), 1u << 1);
	aer_expect(ctrl, &a, 0, 20);
	assert_int_equal(temp_set(ctrl, TEMP_OVER(343)), 0);
	assert_int_equal(smart_critical_warning(ctrl, false), 0);

	assert_int_equal(vfn_nvme_set_features(ctrl, VFN_NVME_FEAT_ASYNC_EVENT, 0, 1u << 1, NULL, NULL, 0), 0);
	assert_int_equal(temp_set(ctrl, TEMP_OVER(300)), 0);
	aer_expect(ctrl, &a, 1, 2000);
	assert_int_equal(a.dw0[0], AEN_SMART_TEMP);
	/* Still over: no second event for the same crossing, even once unmasked. */
	assert_int_equal(temp_set(ctrl, TEMP_OVER(290)), 0);
	assert_int_equal(smart_critical_warning(ctrl, true), 1u << 1);
	/* Cleared and crossed again, now under the under-temperature threshold: masked (RAE kept it). */
	assert_int_equal(temp_set(ctrl, TEMP_OVER(343)), 0);
	assert_int_equal(smart_critical_warning(ctrl, true), 0);
	assert_int_equal(temp_set(ctrl, TEMP_UNDER(308)), 0);
	assert_int_equal(smart_critical_warning(ctrl, true), 1u << 1);
	aer_expect(ctrl, &a, 1, 30);
	/* Reading the log without RAE clears the mask: the waiting event arrives. */
	assert_int_equal(smart_critical_warning(ctrl, false), 1u << 1);
	aer_expect(ctrl, &a, 2, 2000);
	assert_int_equal(a.dw0[1], AEN_SMART_TEMP);
	/* The Error Information log does not clear a SMART event. */
	assert_int_equal(temp_set(ctrl, TEMP_UNDER(0)), 0);
	assert_int_equal(temp_set(ctrl, TEMP_UNDER(310)), 0);
	assert_int_equal(vfn_nvme_admin_sync(ctrl, &err_log, id, 64, NULL, 0), 0);
	aer_expect(ctrl, &a, 2, 30);
	assert_int_equal(smart_critical_warning(ctrl, false), 1u << 1);
	aer_expect(ctrl, &a, 3, 2000);
	assert_int_equal(a.dw0[2], AEN_SMART_TEMP);
	/* Each crossing raised exactly one event: nothing else is waiting behind the mask. */
	assert_int_equal(smart_critical_warning(ctrl, false), 1u << 1);
	aer_expect(ctrl, &a, 3, 30);
	vfn_nvme_ctrl_close(ctrl);
}

#define IC(thr, time) ((thr) | (time) << 8) /* Interrupt Coalescing CDW11: THR (0's based), TIME (100 us) */
#define IV_CD (1u << 16)		    /* Interrupt Vector Configuration: Coalescing Disable */

/* Signals @efd (non-blocking) gathered so far. */
static uint64_t efd_count(int efd)
{
	uint64_t total = 0, v;

	while (read(efd, &v, sizeof(v)) == sizeof(v))
		total += v;
	return total;
}

/*
 * Runs @n Flushes on @q one at a time, each reaped before the next is
 * submitted (so each completes in its own controller pass), and returns
 * how often @efd was signalled, counted once the longest aggregation time
 * (25.5 ms) has passed.
 */
static uint64_t irqs_for(struct ioq *q, int efd, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_FLUSH, (uint16_t)i, 0, 1);

		assert_int_equal(io_sync(q, &sqe), 0);
	}
	usleep(30000);
	return efd_count(efd);
}

static void set_feature_ok(struct vfn_nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11)
{
	assert_int_equal(vfn_nvme_set_features(ctrl, fid, 0, cdw11, NULL, NULL, 0), 0);
}

/* Interrupt Coalescing on an I/O CQ's vector: threshold, time limit, Coalescing Disable; never the admin CQ. */
static void test_irq_coalescing(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nil=1");
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_FLUSH, 1, 0, 1);
	int efd = eventfd(0, EFD_NONBLOCK), efd0 = eventfd(0, EFD_NONBLOCK);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t t0, dt;
	struct ioq q;

	assert_true(efd >= 0 && efd0 >= 0);
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 5, 1, &efd), 0);
	ioq_create(ctrl, 1, 16, 2 | 5u << 16, &q); /* IEN, vector 5 */
	/* Uncoalesced: one signal per controller pass that completed something. */
	assert_int_equal(irqs_for(&q, efd, 8), 8);
	/* THR 3 (4 entries), TIME 25.5 ms: one signal per 4 completions. */
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_COALESCE, IC(3u, 255u));
	assert_int_equal(irqs_for(&q, efd, 8), 2);
	/* Coalescing Disable for vector 5: back to one per pass. */
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_CONFIG, 5 | IV_CD);
	assert_int_equal(irqs_for(&q, efd, 8), 8);
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_CONFIG, 5);
	/* TIME 0 allows no delay: coalescing off whatever THR says. */
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_COALESCE, IC(3u, 0u));
	assert_int_equal(irqs_for(&q, efd, 8), 8);

	/* TIME 10 ms: a lone completion is signalled once that much time has passed, not before. */
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_COALESCE, IC(3u, 100u));
	t0 = vfn_now_ns();
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	dt = vfn_now_ns() - t0;
	assert_int_equal(efd_count(efd), 1);
	assert_true(dt >= 10000000ull);
	assert_true(dt < 60000000ull);

	/* The admin CQ (vector 0) is never coalesced. */
	set_feature_ok(ctrl, VFN_NVME_FEAT_IRQ_COALESCE, IC(3u, 255u));
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 0, 1, &efd0), 0);
	set_feature_ok(ctrl, VFN_NVME_FEAT_ARBITRATION, 0);
	pfd.fd = efd0;
	assert_int_equal(poll(&pfd, 1, 10), 1);
	assert_int_equal(efd_count(efd0), 1);
	assert_int_equal(ctrl->hw.ops->irq_disable(&ctrl->hw), 0);
	ioq_delete(&q);
	close(efd);
	close(efd0);
	vfn_nvme_ctrl_close(ctrl);
}

static void test_reset(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");

	vfn_sim_fault_remove(sim_of(ctrl));
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS), UINT32_MAX);
	assert_int_equal(ctrl->hw.ops->reset(&ctrl->hw), 0);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS), 0x10400);
	assert_int_equal(vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC), 0);
	vfn_nvme_ctrl_close(ctrl);
}

/* ---- A hostile host: nothing it sends may crash the controller --------- */

/* A raw queue of up to 65536 entries, driven without struct vfn_sq (whose indexes are 16 bits). */
struct big_q {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_sqe *sqes;
	struct vfn_nvme_cqe *cqes;
	uint64_t sq_iova, cq_iova;
	size_t sq_len, cq_len; /* whole pages */
	uint32_t sq_entries, cq_entries, tail, head, phase;
	uint16_t qid;
};

static void big_q_create(struct vfn_nvme_ctrl *ctrl, uint16_t qid, uint32_t sq_entries, uint32_t cq_entries,
			 struct big_q *q)
{
	struct vfn_iommu *iommu = vfn_nvme_ctrl_iommu(ctrl);

	*q = (struct big_q){ .ctrl = ctrl, .sq_entries = sq_entries, .cq_entries = cq_entries, .phase = 1, .qid = qid };
	q->sq_len = (sq_entries * 64u + 4095) & ~4095u;
	q->cq_len = (cq_entries * 16u + 4095) & ~4095u;
	assert_int_equal(vfn_dma_alloc(iommu, q->sq_len, (void **)&q->sqes, &q->sq_iova), q->sq_len);
	assert_int_equal(vfn_dma_alloc(iommu, q->cq_len, (void **)&q->cqes, &q->cq_iova), q->cq_len);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, qid | (cq_entries - 1) << 16, 1, q->cq_iova), 0);
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_SQ, qid | (sq_entries - 1) << 16,
				   1 | (uint32_t)qid << 16, q->sq_iova),
			 0);
}

static void big_q_delete(struct big_q *q)
{
	struct vfn_iommu *iommu = vfn_nvme_ctrl_iommu(q->ctrl);

	assert_int_equal(admin_raw(q->ctrl, VFN_NVME_ADMIN_DELETE_SQ, q->qid, 0, 0), 0);
	assert_int_equal(admin_raw(q->ctrl, VFN_NVME_ADMIN_DELETE_CQ, q->qid, 0, 0), 0);
	vfn_dma_free(iommu, q->sqes, q->sq_len);
	vfn_dma_free(iommu, q->cqes, q->cq_len);
}

static void doorbell_write(struct vfn_nvme_ctrl *ctrl, uint16_t qid, bool cq, uint32_t v)
{
	/* Release: the SQEs written before are visible to the controller thread's acquire load. */
	__atomic_store_n((uint32_t *)vfn_nvme_ctrl_doorbell(ctrl, qid, cq), vfn_cpu_to_le32(v), __ATOMIC_RELEASE);
}

/* Queues @n Flushes (cids 0..@n-1), rings once, reaps all @n in order and rings the CQ head. */
static void big_q_flushes(struct big_q *q, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		q->sqes[q->tail] = rw_sqe(VFN_NVME_CMD_FLUSH, (uint16_t)i, 0, 1);
		q->tail = (q->tail + 1) % q->sq_entries;
	}
	doorbell_write(q->ctrl, q->qid, false, q->tail);
	for (uint32_t i = 0; i < n; i++) {
		volatile struct vfn_nvme_cqe *cqe = &q->cqes[q->head];
		uint64_t deadline = vfn_now_ns() + 5000000000ull;

		while ((vfn_le16_to_cpu(__atomic_load_n(&cqe->sfp, __ATOMIC_ACQUIRE)) & 1) != q->phase)
			assert_true(vfn_now_ns() < deadline);
		assert_int_equal(vfn_le16_to_cpu(cqe->cid), i);
		assert_int_equal(vfn_le16_to_cpu(cqe->sfp) >> 1, 0);
		assert_int_equal(vfn_le16_to_cpu(cqe->sqid), q->qid);
		if (++q->head == q->cq_entries) {
			q->head = 0;
			q->phase ^= 1;
		}
	}
	doorbell_write(q->ctrl, q->qid, true, q->head);
}

/*
 * Issue 10 item 10: QSIZE 0xffff (65536 entries) is legal with CAP.MQES
 * 0xffff.  A 65536-entry CQ behind a small SQ, then a 65536-entry SQ and CQ
 * pair, both run past the end of the ring (the CQ's phase flips).
 */
static void test_queue_65536_entries(void **state)
{
	struct vfn_nvme_ctrl_opts opts = { .no_shadow_doorbells = true };
	struct vfn_nvme_ctrl *ctrl = NULL;
	struct big_q small_sq, big;

	assert_int_equal(vfn_nvme_ctrl_open("sim:mqes=0xffff,nil=1", &opts, &ctrl), 0);
	assert_int_equal(vfn_nvme_cap_mqes(vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP)), 0xffff);
	big_q_create(ctrl, 1, 16, 65536, &small_sq);
	big_q_flushes(&small_sq, 15);
	big_q_delete(&small_sq);

	big_q_create(ctrl, 2, 65536, 65536, &big);
	for (int round = 0; round < 17; round++) /* 69632 commands: one wrap of both rings */
		big_q_flushes(&big, 4096);
	assert_int_equal(big.tail, 69632 - 65536);
	assert_int_equal(big.head, 69632 - 65536);
	assert_int_equal(big.phase, 0);
	big_q_delete(&big);
	/* QSIZE beyond CAP.MQES is still refused. */
	vfn_nvme_ctrl_close(ctrl);
	ctrl = open_ok("sim:mqes=0xfffe");
	assert_int_equal(admin_raw(ctrl, VFN_NVME_ADMIN_CREATE_CQ, 1 | 0xffffu << 16, 1, 0x10000),
			 VFN_NVME_SC_QUEUE_SIZE);
	vfn_nvme_ctrl_close(ctrl);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: a fixed sequence, so that a failure repeats. */
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* An address a hostile host might put in a data pointer: in @b's memory (any alignment), 0, or anything. */
static uint64_t rnd_addr(const struct bufs *b)
{
	switch (rnd() % 5) {
	case 0:
		return b->data_iova + rnd() % DATA_LEN;
	case 1:
		return b->list_iova + rnd() % LIST_LEN;
	case 2:
		return b->data_iova + (rnd() % (DATA_LEN / 4096)) * 4096;
	case 3:
		return 0;
	default:
		return rnd();
	}
}

/* A mostly small value, now and then anything (queue ids, block counts, ranges). */
static uint32_t rnd_dw(void)
{
	uint64_t r = rnd();

	return r & 1 ? (uint32_t)(r >> 1) : (uint32_t)(r >> 1) % 70;
}

/* Random descriptors (SGL) and entries (PRP lists) in @b's list memory, pointing into @b or anywhere. */
static void rnd_list(struct bufs *b)
{
	for (size_t off = 0; off + 16 <= LIST_LEN; off += 16) {
		struct vfn_nvme_sgl_desc d = { .addr = vfn_cpu_to_le64(rnd_addr(b)),
					       .length = vfn_cpu_to_le32(rnd() & 1 ? rnd_dw() * 16 : (uint32_t)rnd()),
					       .type = (uint8_t)(rnd() % 5 << 4 | (rnd() % 4 == 0 ? rnd() % 16 : 0)) };

		memcpy(b->list + off, &d, sizeof(d));
	}
}

static const uint8_t admin_opcodes[] = {
	VFN_NVME_ADMIN_DELETE_SQ,    VFN_NVME_ADMIN_CREATE_SQ,	  VFN_NVME_ADMIN_GET_LOG_PAGE,
	VFN_NVME_ADMIN_DELETE_CQ,    VFN_NVME_ADMIN_CREATE_CQ,	  VFN_NVME_ADMIN_IDENTIFY,
	VFN_NVME_ADMIN_ABORT,	     VFN_NVME_ADMIN_SET_FEATURES, VFN_NVME_ADMIN_GET_FEATURES,
	VFN_NVME_ADMIN_DBBUF_CONFIG,
};

/*
 * 3000 admin commands with random fields and data pointers (Asynchronous
 * Event Requests aside: they complete only on an event).  Each completes;
 * the controller still identifies itself afterwards.
 */
static void test_hostile_admin(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nn=2,mqes=0xffff");
	uint8_t id[VFN_NVME_IDENTIFY_DATA_SIZE];
	struct bufs b;

	bufs_alloc(ctrl, &b);
	for (int i = 0; i < 3000; i++) {
		struct vfn_nvme_sqe sqe = {
			.opcode = rnd() % 4 ? admin_opcodes[rnd() % sizeof(admin_opcodes)] : (uint8_t)rnd(),
			.flags = rnd() % 8 ? 0 : (uint8_t)rnd(),
			.nsid = vfn_cpu_to_le32(rnd() % 2 ? rnd_dw() : (uint32_t)rnd()),
			.cdw10 = vfn_cpu_to_le32(rnd_dw() | (rnd() % 2 ? rnd_dw() << 16 : 0)),
			.cdw11 = vfn_cpu_to_le32(rnd() % 2 ? 1 | rnd_dw() << 16 : rnd_dw()),
			.cdw12 = vfn_cpu_to_le32(rnd_dw()),
			.cdw13 = vfn_cpu_to_le32(rnd_dw()),
			.cdw14 = vfn_cpu_to_le32(rnd_dw()),
			.cdw15 = vfn_cpu_to_le32(rnd_dw()),
		};
		struct vfn_nvme_cqe cqe = { 0 };
		int ret;

		if (sqe.opcode == VFN_NVME_ADMIN_ASYNC_EVENT)
			continue;
		if (i % 64 == 0)
			rnd_list(&b);
		sqe.dptr.prp1 = vfn_cpu_to_le64(rnd_addr(&b));
		sqe.dptr.prp2 = vfn_cpu_to_le64(rnd_addr(&b));
		ret = vfn_nvme_admin_sync(ctrl, &sqe, NULL, 0, &cqe, 2000);
		assert_true(ret == 0 || ret == -EIO);
	}
	assert_int_equal(vfn_nvme_identify(ctrl, VFN_NVME_CNS_CTRL, 0, id, NULL), 0);
	assert_memory_equal(id + 24, "vfn simulated controller", 24);
	/*
	 * The random commands may have left queues and shadow doorbells in @b's
	 * memory, which the controller polls: stop it before that memory goes.
	 */
	vfn_iommu_get(b.iommu);
	vfn_nvme_ctrl_close(ctrl);
	bufs_free(&b);
	vfn_iommu_put(b.iommu);
}

static const uint8_t io_opcodes[] = {
	VFN_NVME_CMD_FLUSH, VFN_NVME_CMD_WRITE, VFN_NVME_CMD_READ, VFN_NVME_CMD_WRITE_ZEROES, VFN_NVME_CMD_DSM,
};

/*
 * 5000 I/O commands with random fields, PRPs and SGLs (segments at any
 * alignment, descriptors of any type and length, lists pointing anywhere).
 * Each completes with its own cid; a clean write and read-back works after.
 */
static void test_hostile_io(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nsze=4096,lbads=9,mdts=3");
	struct vfn_nvme_sqe sqe;
	struct ioq q;
	struct bufs b;

	ioq_create(ctrl, 1, 16, 0, &q);
	bufs_alloc(ctrl, &b);
	for (int i = 0; i < 5000; i++) {
		uint64_t psdt = rnd() % 3;

		if (i % 64 == 0)
			rnd_list(&b);
		sqe = (struct vfn_nvme_sqe){
			.opcode = rnd() % 4 ? io_opcodes[rnd() % sizeof(io_opcodes)] : (uint8_t)rnd(),
			.flags = (uint8_t)(psdt << 6 | (rnd() % 8 ? 0 : rnd() % 4)),
			.cid = vfn_cpu_to_le16((uint16_t)i),
			.nsid = vfn_cpu_to_le32(rnd() % 8 ? 1 : (uint32_t)rnd()),
			.cdw10 = vfn_cpu_to_le32(rnd_dw()),
			.cdw11 = vfn_cpu_to_le32(rnd() % 4 ? 0 : rnd_dw()),
			.cdw12 = vfn_cpu_to_le32(rnd() % 2 ? (uint32_t)rnd() % 16 : rnd_dw()),
		};
		if (psdt) {
			memcpy(&sqe.dptr.sgl, b.list + (rnd() % (LIST_LEN / 16)) * 16, sizeof(sqe.dptr.sgl));
			if (rnd() % 2)
				sqe.dptr.sgl.addr = vfn_cpu_to_le64(b.list_iova + rnd() % (LIST_LEN - 64));
		} else {
			sqe.dptr.prp1 = vfn_cpu_to_le64(rnd_addr(&b));
			sqe.dptr.prp2 = vfn_cpu_to_le64(rnd_addr(&b));
		}
		io_sync(&q, &sqe);
	}
	fill(b.data, 2 * 512, 3);
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 1, 5, 2);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova);
	assert_int_equal(io_sync(&q, &sqe), 0);
	memset(b.data + 4096, 0, 2 * 512);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 2, 5, 2);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova + 4096);
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_memory_equal(b.data, b.data + 4096, 2 * 512);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

/*
 * SGL segments at odd addresses (the host's choice): the descriptors are
 * copied out, not read in place (UBSan: misaligned access; SIGBUS on
 * strict-alignment CPUs).  A Segment at +3 chains to a Last Segment at +1001.
 */
static void test_sgl_misaligned_segments(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:");
	struct vfn_nvme_sgl_desc first[2], second[2];
	struct vfn_nvme_sqe sqe;
	struct ioq q;
	struct bufs b;

	ioq_create(ctrl, 1, 16, 0, &q);
	bufs_alloc(ctrl, &b);
	fill(b.data, 2 * LBA + 300, 11);
	first[0] = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.data_iova), .length = vfn_cpu_to_le32(100) };
	first[1] = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.list_iova + 1001),
					       .length = vfn_cpu_to_le32(sizeof(second)),
					       .type = VFN_NVME_SGL_TYPE_LAST_SEGMENT << 4 };
	second[0] = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.data_iova + 100),
						.length = vfn_cpu_to_le32(LBA) };
	second[1] = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.data_iova + 100 + LBA),
						.length = vfn_cpu_to_le32(LBA - 100) };
	memcpy(b.list + 3, first, sizeof(first));
	memcpy(b.list + 1001, second, sizeof(second));
	sqe = rw_sqe(VFN_NVME_CMD_WRITE, 1, 4, 2);
	sqe.flags = VFN_NVME_SQE_PSDT_SGL_MPTR_CONTIG;
	sqe.dptr.sgl = (struct vfn_nvme_sgl_desc){ .addr = vfn_cpu_to_le64(b.list_iova + 3),
						   .length = vfn_cpu_to_le32(sizeof(first)),
						   .type = VFN_NVME_SGL_TYPE_SEGMENT << 4 };
	assert_int_equal(io_sync(&q, &sqe), 0);
	sqe = rw_sqe(VFN_NVME_CMD_READ, 2, 4, 2);
	sqe.dptr.prp1 = vfn_cpu_to_le64(b.data_iova + DATA_LEN / 2);
	sqe.dptr.prp2 = vfn_cpu_to_le64(b.data_iova + DATA_LEN / 2 + 4096);
	assert_int_equal(io_sync(&q, &sqe), 0);
	assert_memory_equal(b.data, b.data + DATA_LEN / 2, 2 * LBA);
	bufs_free(&b);
	ioq_delete(&q);
	vfn_nvme_ctrl_close(ctrl);
}

/* Open file descriptors of this process. */
static int fds_open(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/*
 * The controller signals its own duplicate of a routed eventfd: after the
 * host closes its fd and the number is reused (here by a file), an
 * interrupt still reaches the eventfd and never the file.  Routing and
 * unrouting leaks no descriptor.
 */
static void test_irq_eventfd_owned(void **state)
{
	char path[] = "/tmp/vfn-test-efd-XXXXXX";
	int before = fds_open(), efd, keep, file;
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nil=1");
	struct vfn_nvme_sqe sqe = rw_sqe(VFN_NVME_CMD_FLUSH, 1, 0, 1);
	struct stat st;
	struct ioq q;

	efd = eventfd(0, EFD_NONBLOCK);
	keep = dup(efd);
	assert_true(efd >= 0 && keep >= 0);
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 5, 1, &efd), 0);
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 5, 1, &efd), 0); /* re-routed: the old copy goes */
	ioq_create(ctrl, 1, 4, 2 | 5u << 16, &q);			      /* IEN, vector 5 */
	close(efd);
	file = mkstemp(path);
	assert_int_equal(file, efd); /* the lowest free number: the eventfd's */
	unlink(path);
	assert_int_equal(io_sync(&q, &sqe), 0);
	usleep(20000);
	assert_int_equal(fstat(file, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_true(efd_count(keep) >= 1);
	ioq_delete(&q);
	assert_int_equal(ctrl->hw.ops->irq_disable(&ctrl->hw), 0);
	assert_int_equal(ctrl->hw.ops->irq_enable(&ctrl->hw, 7, 1, &keep), 0); /* still routed at close */
	vfn_nvme_ctrl_close(ctrl);
	close(file);
	close(keep);
	assert_int_equal(fds_open(), before);
}

/* Resident set size in KiB. */
static long rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (long)(vfn_page_size() / 1024);
}

/*
 * Write Zeroes and Deallocate keep the namespace sparse: zeroing all 512 MiB
 * of it commits (almost) no memory, deallocating written blocks gives their
 * pages back, and the partial pages at a range's edges keep their other
 * blocks.
 */
static void test_zeroes_stay_sparse(void **state)
{
	struct vfn_nvme_ctrl *ctrl = open_ok("sim:nsze=1048576,lbads=9,mdts=7");
	const size_t len = 8192 * 512; /* 4 MiB: LBAs 0..8191 */
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ns_info ns;
	struct vfn_nvme_dsm_range *r;
	long base, written;
	uint8_t *buf, *zero;
	uint64_t iova;

	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, NULL, &qp), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), len, (void **)&buf, &iova), (ssize_t)len);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), 4096, (void **)&r, &iova), 4096);
	r[0] = (struct vfn_nvme_dsm_range){ .nlb = vfn_cpu_to_le32(1048576) }; /* all of it */
	r[1] = (struct vfn_nvme_dsm_range){ .nlb = vfn_cpu_to_le32(8185), .slba = vfn_cpu_to_le64(3) };
	zero = calloc(1, len);
	assert_non_null(zero);
	memset(buf, 0xa5, len);

	base = rss_kib();
	assert_int_equal(vfn_nvme_write_zeroes(qp, &ns, 0, ns.nsze, NULL, NULL), 0);
	assert_true(rss_kib() - base < 32 * 1024);
	assert_int_equal(vfn_nvme_dsm_deallocate(qp, 1, &r[0], 1, NULL, NULL), 0);
	assert_true(rss_kib() - base < 32 * 1024);

	assert_int_equal(vfn_nvme_write(qp, &ns, 0, 8192, buf, NULL, NULL), 0);
	written = rss_kib();
	assert_true(written - base >= 4 * 1024 - 256);
	assert_int_equal(vfn_nvme_dsm_deallocate(qp, 1, &r[1], 1, NULL, NULL), 0);
	assert_true(written - rss_kib() >= 3 * 1024);
	memset(buf, 0, len);
	assert_int_equal(vfn_nvme_read(qp, &ns, 0, 8192, buf, NULL, NULL), 0);
	for (size_t i = 0; i < 3 * 512; i++)
		assert_int_equal(buf[i], 0xa5);
	assert_memory_equal(buf + 3 * 512, zero, 8185 * 512);
	for (size_t i = 8188 * 512; i < len; i++)
		assert_int_equal(buf[i], 0xa5);
	/* Write Zeroes of a few blocks inside one page: the rest of the page stays. */
	memset(buf, 0x5a, 4096);
	assert_int_equal(vfn_nvme_write(qp, &ns, 8, 8, buf, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_write_zeroes(qp, &ns, 10, 3, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_read(qp, &ns, 8, 8, buf, NULL, NULL), 0);
	assert_int_equal(buf[2 * 512 - 1], 0x5a);
	assert_memory_equal(buf + 2 * 512, zero, 3 * 512);
	assert_int_equal(buf[5 * 512], 0x5a);
	free(zero);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), r, 4096);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, len);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bringup_shutdown),
		cmocka_unit_test(test_identify_matches_options),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_queue_management),
		cmocka_unit_test(test_log_pages),
		cmocka_unit_test(test_dbbuf),
		cmocka_unit_test(test_io_prp),
		cmocka_unit_test(test_io_sgl),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_io_wrap),
		cmocka_unit_test(test_fault_fatal),
		cmocka_unit_test(test_fault_removed),
		cmocka_unit_test(test_fault_never_ready),
		cmocka_unit_test(test_fault_drop_and_status),
		cmocka_unit_test(test_fault_wrong_cid),
		cmocka_unit_test(test_fault_io_delay_abort_phase),
		cmocka_unit_test(test_abort_queued),
		cmocka_unit_test(test_irq_and_aer),
		cmocka_unit_test(test_temp_threshold),
		cmocka_unit_test(test_temp_event),
		cmocka_unit_test(test_irq_coalescing),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_queue_65536_entries),
		cmocka_unit_test(test_hostile_admin),
		cmocka_unit_test(test_hostile_io),
		cmocka_unit_test(test_sgl_misaligned_segments),
		cmocka_unit_test(test_irq_eventfd_owned),
		cmocka_unit_test(test_zeroes_stay_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
