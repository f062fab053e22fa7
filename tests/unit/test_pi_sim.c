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
#include <vfn/iommu.h>
#include <vfn/mgmt.h>
#include <vfn/nvme.h>
#include <vfn/pi.h>
#include <vfn/rq.h>
#include <vfn/sim.h>

static struct vfn_nvme_ctrl *open_ok(const char *spec)
{
	struct vfn_nvme_ctrl *ctrl = NULL;

	assert_int_equal(vfn_nvme_ctrl_open(spec, NULL, &ctrl), 0);
	assert_non_null(ctrl);
	return ctrl;
}

/* A controller, one queue pair and DMA buffers for data and metadata. */
struct env {
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_nvme_qpair *qp;
	struct vfn_nvme_ns_info ns;
	uint8_t *buf, *meta, *rbuf, *rmeta;
	size_t len;
};

#define ENV_LEN (1u << 20)

static void env_open(struct env *e, const char *spec)
{
	struct vfn_iommu *mmu;
	uint64_t iova;

	memset(e, 0, sizeof(*e));
	e->ctrl = open_ok(spec);
	mmu = vfn_nvme_ctrl_iommu(e->ctrl);
	assert_int_equal(vfn_nvme_ns_get_info(e->ctrl, 1, &e->ns), 0);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 1, NULL, &e->qp), 0);
	e->len = ENV_LEN;
	assert_int_equal(vfn_dma_alloc(mmu, ENV_LEN, (void **)&e->buf, &iova), ENV_LEN);
	assert_int_equal(vfn_dma_alloc(mmu, ENV_LEN, (void **)&e->meta, &iova), ENV_LEN);
	assert_int_equal(vfn_dma_alloc(mmu, ENV_LEN, (void **)&e->rbuf, &iova), ENV_LEN);
	assert_int_equal(vfn_dma_alloc(mmu, ENV_LEN, (void **)&e->rmeta, &iova), ENV_LEN);
	for (size_t i = 0; i < ENV_LEN; i++)
		e->buf[i] = (uint8_t)(i * 7 + (i >> 9));
}

static void env_close(struct env *e)
{
	struct vfn_iommu *mmu = vfn_nvme_ctrl_iommu(e->ctrl);

	vfn_dma_free(mmu, e->buf, ENV_LEN);
	vfn_dma_free(mmu, e->meta, ENV_LEN);
	vfn_dma_free(mmu, e->rbuf, ENV_LEN);
	vfn_dma_free(mmu, e->rmeta, ENV_LEN);
	vfn_nvme_qpair_destroy(e->qp);
	vfn_nvme_ctrl_close(e->ctrl);
}

static struct vfn_pi_format env_fmt(const struct env *e)
{
	return (struct vfn_pi_format){ e->ns.lba_size, e->ns.ms, e->ns.pi_type, e->ns.pif, e->ns.pi_first, e->ns.mset };
}

#define STATUS(c) (vfn_nvme_cqe_status(&(c)) & 0x7ff)

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

/* Separate metadata, type 1, 16-bit guard: software PI written with
 * PRACT=0 and checked by the controller, read back checked, data and
 * metadata as written; unwritten blocks pass every check. */
static void test_separate_software_pi(void **state)
{
	struct env e;
	struct vfn_pi_format f;
	struct vfn_pi_tags t = { .ref_tag = 16, .app_tag = 0x4242, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_nvme_io_opts o = {
		.prinfo = VFN_PI_PRCHK_ALL, .ref_tag = 16, .app_tag = 0x4242, .app_mask = 0xffff
	};
	struct vfn_nvme_cqe c;

	(void)state;
	env_open(&e, "sim:lbads=9,ms=8,pi=1");
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_generate(&f, e.buf, e.meta, 8, &t), 0);
	o.meta = e.meta;
	o.meta_len = 8 * 8;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 16, 8, e.buf, &o, &c), 0);
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 16, 8, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rbuf, e.buf, 8 * 512);
	assert_memory_equal(e.rmeta, e.meta, 8 * 8);
	assert_int_equal(e.rmeta[7 * 8 + 7], 16 + 7); /* the 8th block's ref tag */
	/* Never written: PI all ones, unchecked. */
	o.ref_tag = 100;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 100, 4, e.rbuf, &o, &c), 0);
	assert_int_equal(e.rmeta[0], 0xff);
	env_close(&e);
}

/* Each check the controller makes, with its status. */
static void test_check_failures(void **state)
{
	struct env e;
	struct vfn_pi_format f;
	struct vfn_pi_tags t = { .ref_tag = 1000, .app_tag = 0x0a0a };
	struct vfn_nvme_io_opts o = {
		.prinfo = VFN_PI_PRCHK_ALL, .ref_tag = 1000, .app_tag = 0x0a0a, .app_mask = 0xffff
	};
	struct vfn_nvme_cqe c;

	(void)state;
	env_open(&e, "sim:lbads=9,ms=8,pi=2");
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_generate(&f, e.buf, e.meta, 4, &t), 0);
	o.meta = e.meta;
	e.buf[3 * 512 + 5] ^= 1; /* block 3's guard no longer matches */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 4, e.buf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_GUARD);
	/* Without PRCHK it is stored; a checked read finds it. */
	o.prinfo = 0;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 4, e.buf, &o, &c), 0);
	o.prinfo = VFN_PI_PRCHK_GUARD;
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 4, e.rbuf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_GUARD);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, &o, &c), 0);
	/* Wrong initial ref tag (type 2: any value, then +1 per block). */
	o.prinfo = VFN_PI_PRCHK_REF;
	o.ref_tag = 1001;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_REF_TAG);
	o.ref_tag = 1000;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, &o, &c), 0);
	/* App tag, under the mask. */
	o.prinfo = VFN_PI_PRCHK_APP;
	o.app_tag = 0x0a0b;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_APP_TAG);
	o.app_mask = 0xff00;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, &o, &c), 0);
	env_close(&e);

	/* Type 1: the initial ref tag must be the SLBA's low 32 bits. */
	env_open(&e, "sim:lbads=9,ms=8,pi=1");
	o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRACT | VFN_PI_PRCHK_REF, .ref_tag = 7 };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 8, 1, e.buf, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_INVALID_PI);
	o.ref_tag = 8;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 8, 1, e.buf, &o, &c), 0);
	env_close(&e);
}

/* PRACT=1 with the metadata only the tuple: nothing but data moves; the
 * controller's PI is there when read with PRACT=0. */
static void test_pract_insert_strip(void **state)
{
	struct env e;
	struct vfn_pi_format f;
	struct vfn_pi_tags t = { .ref_tag = 32, .app_tag = 0x77, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_nvme_io_opts o = {
		.prinfo = VFN_PI_PRACT | VFN_PI_PRCHK_ALL, .ref_tag = 32, .app_tag = 0x77, .app_mask = 0xffff
	};
	struct vfn_nvme_cqe c;

	(void)state;
	env_open(&e, "sim:lbads=12,ms=16,mset=1,pi=1,pif=2");
	/* Interleaved namespace, 64-bit guard: PRACT moves data only (4 KiB blocks). */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 32, 4, e.buf, &o, &c), 0);
	memset(e.rbuf, 0, 4 * 4096);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 32, 4, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rbuf, e.buf, 4 * 4096);
	/* PRACT=0: each block comes with its tuple, interleaved, verifiable here. */
	o.prinfo = VFN_PI_PRCHK_ALL;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 32, 4, e.rbuf, &o, &c), 0);
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_verify(&f, e.rbuf, NULL, 4, &t, NULL), 0);
	assert_memory_equal(e.rbuf + 4096 + 16, e.buf + 4096, 4096); /* block 1 after block 0's tuple */
	/* 48-bit reference tags: bits 47:32 go in CDW3. */
	o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRACT, .ref_tag = 0x123400000020ULL };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 40, 1, e.buf, &o, &c), 0);
	o.prinfo = 0;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 40, 1, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rbuf + 4096 + 10, "\x12\x34\x00\x00\x00\x20", 6);
	env_close(&e);
}

/* Extended LBA with user metadata before a last-bytes tuple, across MDTS:
 * 40 blocks of 512 + 64 in 14-block pieces (mdts=1: 8 KiB), type 1 so the
 * controller checks each piece's initial ref tag against its SLBA. */
static void test_extended_split(void **state)
{
	struct env e;
	struct vfn_pi_format f;
	struct vfn_pi_tags t = { .ref_tag = 200, .app_tag = 1, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_nvme_io_opts o = { .prinfo = VFN_PI_PRCHK_ALL, .ref_tag = 200, .app_tag = 1, .app_mask = 0xffff };
	struct vfn_nvme_cqe c;

	(void)state;
	env_open(&e, "sim:lbads=9,ms=64,mset=1,pi=1,mdts=1");
	assert_int_equal(e.ns.block_size, 576);
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_generate(&f, e.buf, NULL, 40, &t), 0);
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 200, 40, e.buf, &o, &c), 0);
	memset(e.rbuf, 0, 40 * 576);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 200, 40, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rbuf, e.buf, 40 * 576);
	env_close(&e);

	/* Separate metadata across pieces: the metadata pointer advances. */
	env_open(&e, "sim:lbads=9,ms=8,pi=1,mdts=1");
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_generate(&f, e.buf, e.meta, 40, &t), 0);
	o.meta = e.meta;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 200, 40, e.buf, &o, &c), 0);
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 200, 40, e.rbuf, &o, &c), 0);
	assert_memory_equal(e.rbuf, e.buf, 40 * 512);
	assert_memory_equal(e.rmeta, e.meta, 40 * 8);
	env_close(&e);
}

/* What cannot be right is refused before anything is sent. */
static void test_refused_before_sending(void **state)
{
	struct env e;
	struct vfn_nvme_io_opts o = { 0 };
	struct vfn_nvme_cqe c;
	uint8_t *heap = malloc(4096);

	(void)state;
	env_open(&e, "sim:lbads=9,ms=8,pi=1");
	memset(e.buf, 0x11, 512);
	o.prinfo = VFN_PI_PRACT;
	o.ref_tag = 5;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), 0);
	memset(e.buf, 0x22, 512);
	o = (struct vfn_nvme_io_opts){ 0 };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), -EINVAL); /* no metadata */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, NULL, &c), -EINVAL);
	o.meta = e.meta;
	o.meta_len = 8 * 3;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 4, e.buf, &o, &c), -EINVAL); /* short */
	o.meta = heap;								     /* not mapped */
	o.meta_len = 0;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), -EINVAL);
	o.meta = e.meta + ENV_LEN - 8; /* mapped, but only 8 bytes of it */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 2, e.buf, &o, &c), -EINVAL);
	o.meta = e.meta;
	o.buf_len = 1000;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 2, e.buf, &o, &c), -EINVAL);
	o.buf_len = 0;
	o.prinfo = 0x10;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), -EINVAL);
	/* PRACT with an 8-byte tuple moves no metadata: a buffer is a mistake. */
	o.prinfo = VFN_PI_PRACT;
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), -EINVAL);
	/* A reference tag wider than the format's 32 bits (was silently cut to 5: it "matched" LBA 5). */
	o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRACT | VFN_PI_PRCHK_REF, .ref_tag = 0x100000005ULL };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 5, 1, e.buf, &o, &c), -EINVAL);
	/* Nothing of the above reached the namespace. */
	o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRACT };
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 5, 1, e.rbuf, &o, &c), 0);
	assert_int_equal(e.rbuf[0], 0x11);
	env_close(&e);

	/* PRINFO without PI, metadata on an interleaved format. */
	env_open(&e, "sim:lbads=9,ms=8,mset=1");
	o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRCHK_GUARD };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 1, e.buf, &o, &c), -EINVAL);
	o = (struct vfn_nvme_io_opts){ .meta = e.meta };
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 1, e.buf, &o, &c), -EINVAL);
	/* Metadata without PI, interleaved: data + metadata round-trip. */
	assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 0, 3, e.buf, NULL, &c), 0);
	assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 0, 3, e.rbuf, NULL, &c), 0);
	assert_memory_equal(e.rbuf, e.buf, 3 * 520);
	env_close(&e);
	free(heap);
}

/* The device handle: vfn_dev_rw() with a separate metadata buffer and PI,
 * its errors before sending, and a PI failure's status. */
static void test_dev_rw(void **state)
{
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf, *meta, *rbuf, *rmeta;
	struct vfn_pi_format f = { 512, 16, 2, VFN_PI_PIF_64, true, false };
	struct vfn_pi_tags t = { 0x10000000abULL, 9, 0xffff, VFN_PI_PRCHK_ALL };
	struct vfn_dev_rw_opts o = {
		.prinfo = VFN_PI_PRCHK_ALL, .ref_tag = t.ref_tag, .app_tag = 9, .app_mask = 0xffff
	};

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,ms=16,pi=2,pif=2,pil=1", NULL, &dev), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 65536, (void **)&buf), 65536);
	assert_int_equal(vfn_dev_buf_alloc(dev, 4096, (void **)&meta), 4096);
	assert_int_equal(vfn_dev_buf_alloc(dev, 65536, (void **)&rbuf), 65536);
	assert_int_equal(vfn_dev_buf_alloc(dev, 4096, (void **)&rmeta), 4096);
	for (int i = 0; i < 65536; i++)
		buf[i] = (uint8_t)(i * 3);
	memset(meta, 0xc3, 4096);
	assert_int_equal(vfn_pi_generate(&f, buf, meta, 16, &t), 0);
	o.meta = meta;
	o.meta_len = 4096;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 3, 16, buf, 65536, &o, &c), 0);
	o.meta = rmeta;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 65536, &o, &c), 0);
	assert_memory_equal(rbuf, buf, 16 * 512);
	assert_memory_equal(rmeta, meta, 16 * 16);
	/* 48-bit ref tag: the upper bits matter. */
	o.ref_tag = 0xab;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 65536, &o, &c), -EIO);
	assert_int_equal(STATUS(c), VFN_PI_SC_REF_TAG);
	/* Refused before sending. */
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 16 * 512 - 1, &o, &c), -EINVAL);
	o.meta_len = 16 * 16 - 1;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 65536, &o, &c), -EINVAL);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 65536, NULL, &c), -EINVAL);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_FLUSH, 1, 3, 16, rbuf, 65536, NULL, &c), -EINVAL);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 0, rbuf, 65536, NULL, &c), -EINVAL);
	/* A reference tag wider than the 64-bit guard's 48 bits. */
	o.meta_len = 4096;
	o.ref_tag = 0x1000000000000ULL | t.ref_tag;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 3, 16, rbuf, 65536, &o, &c), -EINVAL);
	/* PRACT with metadata that is only the tuple: none moves, a buffer for it is refused. */
	o = (struct vfn_dev_rw_opts){ .prinfo = VFN_PI_PRACT, .ref_tag = 77, .meta = meta, .meta_len = 4096 };
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 40, 1, buf, 512, &o, &c), -EINVAL);
	o.meta = NULL;
	o.meta_len = 0;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 40, 1, buf, 512, &o, &c), 0);
	o.prinfo = VFN_PI_PRCHK_ALL;
	o.meta = rmeta;
	o.meta_len = 4096;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 40, 1, rbuf, 512, &o, &c), 0);
	assert_int_equal(rmeta[15], 77); /* the controller's ref tag, first 16 bytes */
	/* Write Zeroes: no data, PI checks off afterwards. */
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE_ZEROES, 1, 40, 1, NULL, 0, NULL, &c), 0);
	o.ref_tag = 1234;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 40, 1, rbuf, 512, &o, &c), 0);
	assert_int_equal(rbuf[0], 0);
	/* The plain helpers stay refused on a metadata format. */
	assert_int_equal(vfn_dev_read(dev, 1, 0, 1, rbuf), -ENOTSUP);
	vfn_dev_buf_free(dev, buf, 65536);
	vfn_dev_buf_free(dev, meta, 4096);
	vfn_dev_buf_free(dev, rbuf, 65536);
	vfn_dev_buf_free(dev, rmeta, 4096);
	vfn_dev_close(dev);
}

struct done {
	int n;
	uint16_t status;
};

static void done_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct done *d = rq->opaque;

	(void)qp;
	d->n++;
	d->status = vfn_nvme_cqe_status(cqe) & 0x7ff;
}

/* Polls @qp until @d has a completion (2 s at most). */
static void wait_done(struct env *e, struct done *d)
{
	vfn_nvme_qpair_submit(e->qp);
	for (int i = 0; i < 2000000 && !d->n; i++)
		vfn_nvme_qpair_reap(e->qp, 0);
	assert_int_equal(d->n, 1);
}

/* vfn_nvme_rw_async(): split pieces with separate metadata and PI, one callback with the first failure. */
static void test_rw_async(void **state)
{
	struct env e;
	struct vfn_pi_format f;
	struct vfn_pi_tags t = { .ref_tag = 300, .app_tag = 3, .app_mask = 0xffff, .prchk = VFN_PI_PRCHK_ALL };
	struct vfn_nvme_io_opts o = { .prinfo = VFN_PI_PRCHK_ALL, .ref_tag = 300, .app_tag = 3, .app_mask = 0xffff };
	struct done d = { 0 };

	(void)state;
	env_open(&e, "sim:lbads=9,ms=8,pi=1,mdts=1");
	f = env_fmt(&e);
	assert_int_equal(vfn_pi_generate(&f, e.buf, e.meta, 40, &t), 0);
	o.meta = e.meta;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_WRITE, &e.ns, 300, 40, e.buf, &o, done_cb, &d), 0);
	wait_done(&e, &d);
	assert_int_equal(d.status, 0);
	d = (struct done){ 0 };
	o.meta = e.rmeta;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_READ, &e.ns, 300, 40, e.rbuf, &o, done_cb, &d), 0);
	wait_done(&e, &d);
	assert_int_equal(d.status, 0);
	assert_memory_equal(e.rbuf, e.buf, 40 * 512);
	assert_memory_equal(e.rmeta, e.meta, 40 * 8);
	/* Compare: equal, then one byte off in the last piece. */
	d = (struct done){ 0 };
	o.meta = e.meta;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_COMPARE, &e.ns, 300, 40, e.buf, &o, done_cb, &d), 0);
	wait_done(&e, &d);
	assert_int_equal(d.status, 0);
	e.meta[39 * 8 + 2] ^= 1; /* block 39's app tag */
	d = (struct done){ 0 };
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_COMPARE, &e.ns, 300, 40, e.buf, &o, done_cb, &d), 0);
	wait_done(&e, &d);
	assert_int_equal(d.status, VFN_PI_SC_APP_TAG);
	/* Refused before posting. */
	o.meta = NULL;
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_READ, &e.ns, 300, 40, e.rbuf, &o, done_cb, &d), -EINVAL);
	assert_int_equal(vfn_nvme_rw_async(e.qp, VFN_NVME_CMD_FLUSH, &e.ns, 300, 1, e.rbuf, &o, done_cb, &d), -EINVAL);
	env_close(&e);
}

/* Write Zeroes with PRACT=1: the simulator writes valid PI for the zeroed
 * blocks (reads with PRCHK all succeed, the tuples carry the command's tags);
 * PRACT=0 leaves the escape values; type 1 checks the ILBRT. */
static void test_write_zeroes_pract(void **state)
{
	static const char *specs[] = { "sim:lbads=9,ms=8,pi=1", "sim:lbads=12,ms=16,mset=1,pi=2,pif=2",
				       "sim:lbads=9,ms=16,pi=3" };

	(void)state;
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct env e;
		struct vfn_nvme_io_opts o = {
			.prinfo = VFN_PI_PRACT, .ref_tag = 64, .app_tag = 0x5a5a, .app_mask = 0xffff
		};
		struct vfn_pi_tags t = { .ref_tag = 64, .app_tag = 0x5a5a, .app_mask = 0xffff };
		struct vfn_pi_format f;
		struct vfn_nvme_cqe c;

		env_open(&e, specs[k]);
		f = env_fmt(&e);
		t.prchk = e.ns.pi_type == VFN_PI_TYPE3 ? VFN_PI_PRCHK_GUARD | VFN_PI_PRCHK_APP : VFN_PI_PRCHK_ALL;
		struct vfn_nvme_io_opts w = { .meta = e.ns.mset ? NULL : e.meta };

		assert_int_equal(vfn_nvme_write(e.qp, &e.ns, 64, 8, e.buf, &w, &c), 0);
		assert_int_equal(vfn_nvme_write_zeroes(e.qp, &e.ns, 64, 8, &o, &c), 0);
		/* Read everything back (PRACT=0) and verify the tuples here. */
		o = (struct vfn_nvme_io_opts){ .prinfo = (uint8_t)t.prchk,
					       .ref_tag = 64,
					       .app_tag = 0x5a5a,
					       .app_mask = 0xffff,
					       .meta = e.ns.mset ? NULL : e.rmeta };
		memset(e.rbuf, 0xee, 8 * e.ns.block_size);
		memset(e.rmeta, 0xee, 8 * e.ns.ms);
		assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 64, 8, e.rbuf, &o, &c), 0);
		assert_int_equal(vfn_pi_verify(&f, e.rbuf, e.rmeta, 8, &t, NULL), 0);
		for (size_t i = 0; i < 8; i++) {
			const uint8_t *blk = e.rbuf + i * (e.ns.mset ? e.ns.block_size : e.ns.lba_size);

			for (size_t b = 0; b < e.ns.lba_size; b++)
				assert_int_equal(blk[b], 0);
		}
		/* The tuple is real, not the escape: a wrong app tag fails. */
		o.app_tag = 0x1111;
		if (t.prchk & VFN_PI_PRCHK_APP) {
			assert_int_equal(vfn_nvme_read(e.qp, &e.ns, 64, 8, e.rbuf, &o, &c), -EIO);
			assert_int_equal(STATUS(c), VFN_PI_SC_APP_TAG);
		}
		/* Type 1: an ILBRT other than the SLBA's low bits is Invalid PI. */
		if (e.ns.pi_type == VFN_PI_TYPE1) {
			o = (struct vfn_nvme_io_opts){ .prinfo = VFN_PI_PRACT | VFN_PI_PRCHK_REF, .ref_tag = 1 };
			assert_int_equal(vfn_nvme_write_zeroes(e.qp, &e.ns, 64, 8, &o, &c), -EIO);
			assert_int_equal(STATUS(c), VFN_PI_SC_INVALID_PI);
		}
		env_close(&e);
	}
}

/* A split that needs more requests than the queue has at all is -EINVAL,
 * not -EBUSY (which a caller retries after reaping: forever). */
static void test_async_split_never_fits(void **state)
{
	struct env e;
	struct done d = { 0 };
	uint32_t per = 16; /* mdts=1: 8 KiB of 512-byte blocks */

	(void)state;
	env_open(&e, "sim:lbads=9,mdts=1");
	assert_int_equal(vfn_nvme_read_async(e.qp, &e.ns, 0, per * e.qp->rqs.nr, e.rbuf, false, done_cb, &d), -EINVAL);
	assert_int_equal(vfn_nvme_write_zeroes_async(e.qp, &e.ns, 0, 65536u * e.qp->rqs.nr, done_cb, &d), -EINVAL);
	/* The most that fits: every request but the one standing for the pieces. */
	uint32_t nlb = per * (e.qp->rqs.nr - 1);

	if ((size_t)nlb * 512 <= ENV_LEN) {
		assert_int_equal(vfn_nvme_read_async(e.qp, &e.ns, 0, nlb, e.rbuf, false, done_cb, &d), 0);
		wait_done(&e, &d);
		assert_int_equal(d.status, 0);
	}
	env_close(&e);
}

/* Format NVM through the handle changes its geometry: vfn_dev_get_info()
 * and vfn_dev_read/rw size the next transfer by the new format (was: the
 * old 512 + 8, so a read of one 4096-byte block sent 512 bytes' worth of
 * buffer for 4096 bytes of data). */
static void test_dev_format_refresh(void **state)
{
	struct vfn_format_args fa = { .nsid = 0xffffffff, .lbaf = 1 };
	const struct vfn_dev_info *info;
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,ms=8,pi=1,nsze=1024", NULL, &dev), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&buf), 8192);
	info = vfn_dev_get_info(dev);
	assert_int_equal(info->lba_size, 512);
	assert_int_equal(info->ms, 8);
	assert_int_equal(vfn_dev_format(dev, &fa, &c), 0);
	info = vfn_dev_get_info(dev);
	assert_int_equal(info->lba_size, 4096);
	assert_int_equal(info->ms, 0);
	assert_int_equal(info->pi_type, 0);
	assert_int_equal(info->block_size, 4096);
	assert_int_equal(info->nsze, 128);
	memset(buf, 0xa5, 8192);
	assert_int_equal(vfn_dev_write(dev, 1, 0, 2, buf), 0);
	memset(buf, 0, 8192);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 2, buf), 0);
	assert_int_equal(buf[8191], 0xa5);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 0, 2, buf, 8191, NULL, &c), -EINVAL);
	/* Back to 512 + 8 with PI: the handle wants metadata again. */
	fa.lbaf = 0;
	fa.pi = 1;
	assert_int_equal(vfn_dev_format(dev, &fa, &c), 0);
	assert_int_equal(info->lba_size, 512);
	assert_int_equal(info->ms, 8);
	assert_int_equal(info->pi_type, 1);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 1, buf), -ENOTSUP);
	vfn_dev_buf_free(dev, buf, 8192);
	vfn_dev_close(dev);
}

/*
 * A Format NVM sent through the passthrough vfn_dev_admin() changes the
 * geometry just as vfn_dev_format() does.  Before the fix the handle kept
 * 512 bytes per block: a one-block read into 512 bytes of a DMA buffer was
 * sent and the controller wrote 4096 bytes, over the caller's bytes
 * 512..4095 of the buffer.
 */
static void test_dev_admin_format_refresh(void **state)
{
	struct vfn_nvme_sqe f = { .opcode = VFN_NVME_ADMIN_FORMAT_NVM, .nsid = vfn_cpu_to_le32(0xffffffff) };
	const struct vfn_dev_info *info;
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,nsze=1024,nn=2", NULL, &dev), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&buf), 8192);
	info = vfn_dev_get_info(dev);
	assert_int_equal(info->lba_size, 512);
	assert_int_equal(vfn_dev_read(dev, 2, 0, 1, buf), 0); /* namespace 2's geometry kept: 512 */
	f.cdw10 = vfn_cpu_to_le32(1);			      /* LBA format 1: 4096 bytes */
	assert_int_equal(vfn_dev_admin(dev, &f, NULL, 0, &c, 0), 0);
	assert_int_equal(info->lba_size, 4096);
	assert_int_equal(info->nsze, 128);
	memset(buf, 0x5a, 8192);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 0, 1, buf, 512, NULL, &c), -EINVAL);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 2, 0, 1, buf, 512, NULL, &c), -EINVAL);
	for (size_t i = 0; i < 8192; i++)
		assert_int_equal(buf[i], 0x5a);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 0, 1, buf, 4096, NULL, &c), 0);
	assert_int_equal(buf[4096], 0x5a);
	/* A Format the controller refuses (LBA format 5 does not exist) leaves a geometry read again, unchanged. */
	f.cdw10 = vfn_cpu_to_le32(5);
	assert_int_equal(vfn_dev_admin(dev, &f, NULL, 0, &c, 0), -EIO);
	assert_int_equal(info->lba_size, 4096);
	/* Back to 512 through the passthrough. */
	f.cdw10 = 0;
	assert_int_equal(vfn_dev_admin(dev, &f, NULL, 0, &c, 0), 0);
	assert_int_equal(info->lba_size, 512);
	assert_int_equal(info->nsze, 1024);
	vfn_dev_buf_free(dev, buf, 8192);
	vfn_dev_close(dev);
}

/*
 * When the Identify Namespace of another namespace fails (here an
 * injected Internal Error), its block size is unknown: nothing is sent.
 * Before the fix the handle's own geometry was used (fail open: a
 * namespace of 4096-byte blocks read into a buffer sized for 512).
 */
static void test_dev_other_ns_identify_fails(void **state)
{
	struct vfn_sim_fault f = { .action = VFN_SIM_FAULT_STATUS, .sqid = 0, .opcode = VFN_NVME_ADMIN_IDENTIFY };
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,nsze=256,nn=2", NULL, &dev), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&buf), 8192);
	f.status = vfn_sim_status(0, 0x06, false, true);
	assert_int_equal(vfn_sim_fault_add(vfn_dev_sim(dev), &f), 0);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 2, 0, 1, buf, 512, NULL, &c), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&c), VFN_NVME_SC_HOST_ABORTED);
	assert_int_equal(vfn_sim_fault_add(vfn_dev_sim(dev), &f), 0);
	assert_int_equal(vfn_dev_read(dev, 2, 0, 1, buf), -EIO);
	/* Identify answering again: namespace 2 is known and read. */
	assert_int_equal(vfn_dev_read(dev, 2, 0, 1, buf), 0);
	/* A namespace id the controller does not have: left to the controller (Invalid Namespace). */
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 7, 0, 1, buf, 512, NULL, &c), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&c) & 0x7ff, VFN_NVME_SC_INVALID_NS);
	vfn_dev_buf_free(dev, buf, 8192);
	vfn_dev_close(dev);
}

/*
 * A handle's Read/Write to another namespace go by that namespace's
 * geometry, looked up once and kept (the guest matrix, meta-matrix-*,
 * proves it against QEMU namespaces of different formats: the simulator
 * formats all its namespaces alike).  A format through the handle makes it
 * look again; an inactive namespace is left to the controller to refuse.
 */
static void test_dev_other_ns_geometry(void **state)
{
	struct vfn_format_args fa = { .nsid = 0xffffffff, .lbaf = 1 };
	struct vfn_dev *dev = NULL;
	struct vfn_nvme_cqe c;
	uint8_t *buf;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,ms=8,pi=1,nsze=1024,nn=2", NULL, &dev), 0);
	assert_int_equal(vfn_dev_get_info(dev)->nsid, 1);
	assert_int_equal(vfn_dev_buf_alloc(dev, 16384, (void **)&buf), 16384);
	assert_int_equal(vfn_dev_read(dev, 2, 0, 1, buf), -ENOTSUP); /* namespace 2's geometry is now kept */
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 2, 0, 1, buf, 512, NULL, &c),
			 -EINVAL);			   /* no metadata buffer */
	assert_int_equal(vfn_dev_format(dev, &fa, &c), 0); /* every namespace: 4096, no metadata */
	memset(buf, 0x6c, 16384);
	assert_int_equal(vfn_dev_write(dev, 2, 0, 2, buf), 0);
	memset(buf, 0, 16384);
	assert_int_equal(vfn_dev_read(dev, 2, 0, 2, buf), 0);
	assert_int_equal(buf[0], 0x6c);
	assert_int_equal(buf[8191], 0x6c);
	assert_int_equal(buf[8192], 0);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 2, 0, 2, buf, 8192, NULL, &c), 0);
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 2, 0, 2, buf, 8191, NULL, &c), -EINVAL);
	/* Namespace 5 does not exist: sent as the handle's, Invalid Namespace (0x0b) from the controller. */
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 5, 0, 1, buf, 4096, NULL, &c), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&c) & 0x7ff, 0x0b);
	vfn_dev_buf_free(dev, buf, 16384);
	vfn_dev_close(dev);
}

/* vfn_dev_submit_meta(): asynchronous dev-queue I/O with a separate metadata
 * buffer and PI checked by the controller; a wrong ref tag is 0x284. */
struct sm_done {
	int n, ret;
	uint16_t status;
};

static void sm_cb(void *arg, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct sm_done *d = arg;

	d->n++;
	d->ret = ret;
	d->status = vfn_nvme_cqe_status(cqe) & 0x7ff;
}

static void sm_run(struct vfn_dev_queue *q, struct vfn_nvme_sqe *sqe, void *buf, void *meta, struct sm_done *d)
{
	*d = (struct sm_done){ 0 };
	assert_int_equal(vfn_dev_submit_meta(q, sqe, buf, 8 * 512, meta, 8 * 8, sm_cb, d), 0);
	assert_true(vfn_dev_wait(q, 0) >= 1);
	assert_int_equal(d->n, 1);
}

static void test_dev_submit_meta(void **state)
{
	struct vfn_pi_format f = { 512, 8, 1, VFN_PI_PIF_16, false, false };
	struct vfn_pi_tags t = { 16, 0x42, 0xffff, VFN_PI_PRCHK_ALL };
	struct vfn_dev *dev = NULL;
	struct vfn_dev_queue *q = NULL;
	uint8_t *buf, *meta, *rbuf, *rmeta, heap[64];
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_WRITE, .nsid = vfn_cpu_to_le32(1) };
	struct sm_done d;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:lbads=9,ms=8,pi=1", NULL, &dev), 0);
	assert_int_equal(vfn_dev_queue_create(dev, 8, &q), 0);
	assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&buf), 8192);
	assert_int_equal(vfn_dev_buf_alloc(dev, 4096, (void **)&meta), 4096);
	assert_int_equal(vfn_dev_buf_alloc(dev, 8192, (void **)&rbuf), 8192);
	assert_int_equal(vfn_dev_buf_alloc(dev, 4096, (void **)&rmeta), 4096);
	for (int i = 0; i < 8 * 512; i++)
		buf[i] = (uint8_t)(i * 5 + 1);
	assert_int_equal(vfn_pi_generate(&f, buf, meta, 8, &t), 0);
	sqe.cdw10 = vfn_cpu_to_le32(16);
	sqe.cdw12 = vfn_cpu_to_le32(7 | (uint32_t)VFN_PI_PRCHK_ALL << VFN_PI_PRINFO_SHIFT);
	sqe.cdw14 = vfn_cpu_to_le32(16);
	sqe.cdw15 = vfn_cpu_to_le32(0xffffu << 16 | 0x42);
	sm_run(q, &sqe, buf, meta, &d);
	assert_int_equal(d.ret, 0);
	sqe.opcode = VFN_NVME_CMD_READ;
	sm_run(q, &sqe, rbuf, rmeta, &d);
	assert_int_equal(d.ret, 0);
	assert_memory_equal(rbuf, buf, 8 * 512);
	assert_memory_equal(rmeta, meta, 8 * 8);
	sqe.cdw14 = vfn_cpu_to_le32(17);
	sqe.cdw12 = vfn_cpu_to_le32(7 | (uint32_t)(VFN_PI_PRCHK_GUARD | VFN_PI_PRCHK_APP) << VFN_PI_PRINFO_SHIFT);
	rmeta[8 * 3 + 7] ^= 1; /* nothing: the controller's copy is checked, not ours */
	sm_run(q, &sqe, rbuf, rmeta, &d);
	assert_int_equal(d.ret, 0);
	meta[8 * 3 + 7] ^= 1; /* block 3's ref tag, written with PRCHK REF: 0x284 */
	sqe.opcode = VFN_NVME_CMD_WRITE;
	sqe.cdw14 = vfn_cpu_to_le32(16);
	sqe.cdw12 = vfn_cpu_to_le32(7 | (uint32_t)VFN_PI_PRCHK_ALL << VFN_PI_PRINFO_SHIFT);
	sm_run(q, &sqe, buf, meta, &d);
	assert_int_equal(d.ret, -EIO);
	assert_int_equal(d.status, VFN_PI_SC_REF_TAG);
	/* Refused before posting. */
	assert_int_equal(vfn_dev_submit_meta(q, &sqe, buf, 4096, heap, sizeof(heap), sm_cb, &d), -EFAULT);
	assert_int_equal(vfn_dev_submit_meta(q, &sqe, buf, 4096, NULL, 64, sm_cb, &d), -EINVAL);
	assert_int_equal(vfn_dev_submit_meta(q, &sqe, buf, 4096, meta + 4096 - 8, 64, sm_cb, &d), -EFAULT);
	vfn_dev_queue_destroy(q);
	vfn_dev_buf_free(dev, buf, 8192);
	vfn_dev_buf_free(dev, meta, 4096);
	vfn_dev_buf_free(dev, rbuf, 8192);
	vfn_dev_buf_free(dev, rmeta, 4096);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_ctrl),
		cmocka_unit_test(test_geometry_dev),
		cmocka_unit_test(test_sim_pi_options_checked),
		cmocka_unit_test(test_separate_software_pi),
		cmocka_unit_test(test_check_failures),
		cmocka_unit_test(test_pract_insert_strip),
		cmocka_unit_test(test_extended_split),
		cmocka_unit_test(test_refused_before_sending),
		cmocka_unit_test(test_dev_rw),
		cmocka_unit_test(test_rw_async),
		cmocka_unit_test(test_write_zeroes_pract),
		cmocka_unit_test(test_async_split_never_fits),
		cmocka_unit_test(test_dev_format_refresh),
		cmocka_unit_test(test_dev_admin_format_refresh),
		cmocka_unit_test(test_dev_other_ns_identify_fails),
		cmocka_unit_test(test_dev_other_ns_geometry),
		cmocka_unit_test(test_dev_submit_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
