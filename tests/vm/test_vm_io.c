/* SPDX-License-Identifier: MIT */
/*
 * Data-path test: the I/O path against QEMU's emulated NVMe controller
 * through real VFIO in a guest (meson test io), or against the simulated
 * controller (meson test io-sim, VFN_BDF=sim:...) — queue pairs, PRPs and
 * SGLs, splitting, wrap-around, many queues, interrupts, error statuses,
 * asynchronous events, timeouts, injection and controller reset.
 * The environment says what the controller was configured with:
 *   VFN_BDF            the controller's address, or a sim: device string
 *   VFN_TEST_IMG_SIZE  size in bytes of namespace 1's raw image
 *   VFN_TEST_LBA_SIZE  its logical block size
 */
#include <errno.h>
#include <poll.h>
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
	const struct vfn_nvme_ctrl_info *info;
	struct vfn_nvme_ns_info ns;
	struct vfn_iommu *iommu;
	uint8_t *wbuf, *rbuf; /* DMA buffers of buf_len bytes */
	size_t buf_len;
	uint32_t mdts_blocks; /* blocks per command */
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

static int setup_opts(void **state, const struct vfn_nvme_ctrl_opts *opts)
{
	struct env *e = calloc(1, sizeof(*e));
	uint64_t iova;

	assert_non_null(e);
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF"), opts, &e->ctrl), 0);
	e->info = vfn_nvme_ctrl_get_info(e->ctrl);
	e->iommu = vfn_nvme_ctrl_iommu(e->ctrl);
	assert_int_equal(vfn_nvme_ns_get_info(e->ctrl, 1, &e->ns), 0);
	assert_int_equal(e->ns.lba_size, strtoul(env_str("VFN_TEST_LBA_SIZE"), NULL, 0));
	assert_int_equal(e->ns.nsze, strtoull(env_str("VFN_TEST_IMG_SIZE"), NULL, 0) / e->ns.lba_size);
	assert_true(e->info->max_xfer > 0);
	e->mdts_blocks = (uint32_t)(e->info->max_xfer / e->ns.lba_size);
	/* Room for 3 MDTS-sized commands and change, at an offset. */
	e->buf_len = 4 * e->info->max_xfer;
	assert_true(vfn_dma_alloc(e->iommu, e->buf_len, (void **)&e->wbuf, &iova) > 0);
	assert_true(vfn_dma_alloc(e->iommu, e->buf_len, (void **)&e->rbuf, &iova) > 0);
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, NULL);
}

static int setup_no_shadow(void **state)
{
	struct vfn_nvme_ctrl_opts opts = { .no_shadow_doorbells = true };

	return setup_opts(state, &opts);
}

static int teardown(void **state)
{
	struct env *e = *state;

	vfn_dma_free(e->iommu, e->wbuf, e->buf_len);
	vfn_dma_free(e->iommu, e->rbuf, e->buf_len);
	vfn_nvme_ctrl_close(e->ctrl);
	free(e);
	return 0;
}

/* Every 8-byte word names its LBA, its index and a seed: misplaced data shows. */
static void fill(struct env *e, uint8_t *buf, uint64_t slba, uint64_t nlb, uint32_t seed)
{
	size_t words = e->ns.lba_size / 8;

	for (uint64_t b = 0; b < nlb; b++)
		for (size_t i = 0; i < words; i++) {
			uint64_t v = (uint64_t)seed << 48 ^ (slba + b) << 16 ^ i;

			memcpy(buf + b * e->ns.lba_size + i * 8, &v, 8);
		}
}

/* Writes a pattern, reads it back into a cleared buffer, compares. */
static void write_read_compare(struct env *e, struct vfn_nvme_qpair *qp, uint64_t slba, uint64_t nlb, size_t off,
			       bool sgl, uint32_t seed)
{
	struct vfn_nvme_io_opts opts = { .sgl = sgl };
	size_t len = nlb * e->ns.lba_size;
	struct vfn_nvme_cqe cqe;

	assert_true(off + len <= e->buf_len);
	fill(e, e->wbuf + off, slba, nlb, seed);
	memset(e->rbuf + off, 0xa5, len);
	assert_int_equal(vfn_nvme_write(qp, &e->ns, slba, nlb, e->wbuf + off, &opts, &cqe), 0);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, slba, nlb, e->rbuf + off, &opts, &cqe), 0);
	if (memcmp(e->wbuf + off, e->rbuf + off, len)) {
		fprintf(stderr, "# mismatch: %llu blocks at LBA %llu, offset %zu, %s\n", (unsigned long long)nlb,
			(unsigned long long)slba, off, sgl ? "SGL" : "PRP");
		fail();
	}
}

static struct vfn_nvme_qpair *qpair(struct env *e, uint16_t qid, uint32_t entries, bool irq)
{
	struct vfn_nvme_qpair_opts opts = { .entries = entries, .irq = irq, .timeout_ms = 10000 };
	struct vfn_nvme_qpair *qp = NULL;

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, qid, &opts, &qp), 0);
	return qp;
}

/* Transfer sizes from 1 block to MDTS, buffers at page offset 0 and 512. */
static void sizes_pass(struct env *e, bool sgl)
{
	uint32_t m = e->mdts_blocks;
	uint32_t sizes[] = { 1, 7, 8, 9, 127, 128, 129, 255, 256, 257, m / 2 + 1, m - 1, m };
	struct vfn_nvme_qpair *qp = qpair(e, 1, 32, false);
	uint64_t slba = 0;

	for (size_t off = 0; off <= 512; off += 512)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			if (sizes[i] > m)
				continue;
			write_read_compare(e, qp, slba, sizes[i], off, sgl, (uint32_t)(i + off));
			slba += sizes[i];
		}
	vfn_nvme_qpair_destroy(qp);
}

static void test_sizes_prp(void **state)
{
	sizes_pass(*state, false);
}

static void test_sizes_sgl(void **state)
{
	struct env *e = *state;

	if (!(e->info->sgls & 0x3))
		skip();
	sizes_pass(e, true);
}

/* Larger than MDTS: split into several commands, in flight together. */
static void test_split_beyond_mdts(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 2, 8, false);
	uint64_t nlb = 3ull * e->mdts_blocks + 5;

	write_read_compare(e, qp, 10000, nlb, 512, false, 0x51);
	if (e->info->sgls & 0x3)
		write_read_compare(e, qp, 20000, nlb, 0, true, 0x52);
	/* Pieces really were MDTS-sized commands: the tracker saw 4 per call. */
	assert_true(qp->rqs.stats.completed >= 8);
	vfn_nvme_qpair_destroy(qp);
}

static void split_done_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int *status = rq->opaque;

	(void)qp;
	*status = vfn_nvme_cqe_status(cqe);
}

/* The asynchronous form: 4 pieces in flight, one callback. */
static void test_async_split_beyond_mdts(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 2, 8, false);
	uint32_t nlb = 3 * e->mdts_blocks + 5;
	size_t len = (size_t)nlb * e->ns.lba_size;
	uint64_t deadline = vfn_now_ns() + 10000000000ull;
	int status = -1;

	fill(e, e->wbuf + 512, 25000, nlb, 0x53);
	assert_int_equal(vfn_nvme_write(qp, &e->ns, 25000, nlb, e->wbuf + 512, NULL, NULL), 0);
	memset(e->rbuf + 512, 0, len);
	assert_int_equal(vfn_nvme_read_async(qp, &e->ns, 25000, nlb, e->rbuf + 512, false, split_done_cb, &status), 0);
	assert_int_equal(qp->rqs.nr_free, 7 - 5); /* 4 pieces and the request that stands for them */
	vfn_nvme_qpair_submit(qp);
	while (status < 0) {
		vfn_nvme_qpair_reap(qp, 0);
		assert_true(vfn_now_ns() < deadline);
	}
	assert_int_equal(status, 0);
	assert_int_equal(qp->rqs.nr_free, 7);
	assert_memory_equal(e->wbuf + 512, e->rbuf + 512, len);
	/* More pieces than the queue has requests at all: refused whole, -EINVAL (never fits; -EBUSY is retried). */
	assert_int_equal(vfn_nvme_read_async(qp, &e->ns, 0, 7 * e->mdts_blocks, e->rbuf, false, split_done_cb, &status),
			 -EINVAL);
	assert_int_equal(qp->rqs.nr_free, 7);
	vfn_nvme_qpair_destroy(qp);
}

static void count_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	unsigned int *n = rq->opaque;

	(void)qp;
	assert_int_equal(vfn_nvme_cqe_status(cqe), 0);
	(*n)++;
}

/* Posts @total one-block writes at @slba.. on @qp in batches, reaping as it goes. */
static void async_writes(struct env *e, struct vfn_nvme_qpair *qp, uint64_t slba, unsigned int total)
{
	unsigned int posted = 0, done = 0;
	uint64_t deadline = vfn_now_ns() + 10000000000ull;

	while (done < total) {
		bool any = false;

		while (posted < total &&
		       vfn_nvme_write_async(qp, &e->ns, slba + posted, 1, e->wbuf + (size_t)posted * e->ns.lba_size,
					    false, count_cb, &done) == 0) {
			posted++;
			any = true;
		}
		if (any)
			vfn_nvme_qpair_submit(qp);
		vfn_nvme_qpair_reap(qp, 0);
		assert_true(vfn_now_ns() < deadline);
	}
}

/* Entries = 4 (3 requests): 12x the queue size in commands, phase flips. */
static void test_small_queue_wraparound(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 3, 4, false);
	unsigned int total = 48;
	struct vfn_nvme_cqe cqe;

	fill(e, e->wbuf, 30000, total, 0x77);
	async_writes(e, qp, 30000, total);
	assert_int_equal(qp->rqs.stats.completed, total);
	assert_int_equal(qp->rqs.nr_free, 3);
	/* 48 CQEs on a 4-entry ring: 12 wraps, the phase we expect is back to 1. */
	assert_int_equal(qp->cq.head, 0);
	assert_int_equal(qp->cq.phase, 1);
	memset(e->rbuf, 0, total * e->ns.lba_size);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 30000, total, e->rbuf, NULL, &cqe), 0);
	assert_memory_equal(e->wbuf, e->rbuf, total * e->ns.lba_size);
	vfn_nvme_qpair_destroy(qp);
}

#define NR_QPAIRS 8

static void test_many_queues(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qps[NR_QPAIRS];
	unsigned int done[NR_QPAIRS] = { 0 }, per_q = 16;
	uint64_t deadline = vfn_now_ns() + 10000000000ull;
	bool busy = true;

	if (e->info->nr_sq < NR_QPAIRS || e->info->nr_cq < NR_QPAIRS)
		skip();
	for (int q = 0; q < NR_QPAIRS; q++)
		qps[q] = qpair(e, (uint16_t)(q + 1), 32, false);
	fill(e, e->wbuf, 40000, NR_QPAIRS * per_q, 0x88);
	/* All queues get their commands before any is reaped. */
	for (unsigned int q = 0; q < NR_QPAIRS; q++) {
		for (unsigned int i = 0; i < per_q; i++) {
			unsigned int b = q * per_q + i;

			assert_int_equal(vfn_nvme_write_async(qps[q], &e->ns, 40000 + b, 1,
							      e->wbuf + (size_t)b * e->ns.lba_size, false, count_cb,
							      &done[q]),
					 0);
		}
		vfn_nvme_qpair_submit(qps[q]);
	}
	while (busy) {
		busy = false;
		for (int q = 0; q < NR_QPAIRS; q++) {
			vfn_nvme_qpair_reap(qps[q], 0);
			busy |= done[q] < per_q;
		}
		assert_true(vfn_now_ns() < deadline);
	}
	memset(e->rbuf, 0, NR_QPAIRS * per_q * e->ns.lba_size);
	assert_int_equal(vfn_nvme_read(qps[5], &e->ns, 40000, NR_QPAIRS * per_q, e->rbuf, NULL, NULL), 0);
	assert_memory_equal(e->wbuf, e->rbuf, NR_QPAIRS * per_q * e->ns.lba_size);
	for (int q = 0; q < NR_QPAIRS; q++) {
		assert_int_equal(qps[q]->rqs.stats.completed, q == 5 ? per_q + 1 : per_q);
		vfn_nvme_qpair_destroy(qps[q]);
	}
}

/* Completions raise the CQ's vector: its eventfd counts, then reaping finds them. */
static void test_interrupts(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 4, 16, true);
	int efd = vfn_nvme_qpair_eventfd(qp);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	unsigned int done = 0;
	uint64_t count = 0;
	uint32_t coalescing = 1;
	int ret;

	assert_true(efd >= 0);
	assert_int_equal(qp->cq.vector, 4);
	fill(e, e->wbuf, 50000, 4, 0x99);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vfn_nvme_write_async(qp, &e->ns, 50000 + (uint64_t)i, 1,
						      e->wbuf + (size_t)i * e->ns.lba_size, false, count_cb, &done),
				 0);
	vfn_nvme_qpair_submit(qp);
	while (done < 4) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_int_equal(read(efd, &count, sizeof(count)), sizeof(count));
		assert_true(count > 0);
		vfn_nvme_qpair_reap(qp, 0);
	}
	/* The synchronous helpers sleep on the eventfd in this mode. */
	memset(e->rbuf, 0, 4 * e->ns.lba_size);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 50000, 4, e->rbuf, NULL, NULL), 0);
	assert_memory_equal(e->wbuf, e->rbuf, 4 * e->ns.lba_size);
	/*
	 * Coalescing (THR 3, TIME 1): a controller that takes it reads it back
	 * as 0x103; QEMU 7.2 reports the feature as not changeable (status
	 * 0x10e), which must come back as -EIO with the value left at 0.
	 */
	ret = vfn_nvme_set_irq_coalescing(e->ctrl, 3, 1);
	assert_int_equal(vfn_nvme_get_features(e->ctrl, VFN_NVME_FEAT_IRQ_COALESCE, 0, 0, &coalescing, NULL, 0), 0);
	if (ret == 0) {
		assert_int_equal(coalescing, 0x103);
	} else {
		assert_int_equal(ret, -EIO);
		assert_int_equal(coalescing, 0);
	}
	vfn_nvme_qpair_destroy(qp);
}

static void test_invalid_opcode(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 1, 8, false);
	struct vfn_nvme_sqe sqe = { .opcode = 0x7f, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_nvme_cqe cqe;

	assert_int_equal(vfn_nvme_io_sync(qp, &sqe, NULL, 0, NULL, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_OPCODE);
	assert_int_equal(vfn_le16_to_cpu(cqe.sqid), 1);
	assert_int_equal(qp->rqs.nr_free, 7);
	vfn_nvme_qpair_destroy(qp);
}

static void test_lba_out_of_range(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 1, 8, false);
	struct vfn_nvme_cqe cqe;

	assert_int_equal(vfn_nvme_read(qp, &e->ns, e->ns.nsze - 1, 2, e->rbuf, NULL, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_LBA_RANGE);
	assert_string_equal(vfn_nvme_status_str(vfn_nvme_cqe_status(&cqe)), "LBA Out of Range");
	/* The last block itself is fine. */
	assert_int_equal(vfn_nvme_read(qp, &e->ns, e->ns.nsze - 1, 1, e->rbuf, NULL, &cqe), 0);
	vfn_nvme_qpair_destroy(qp);
}

static void test_flush_zeroes_dsm(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 1, 8, false);
	struct vfn_nvme_dsm_range *r = (struct vfn_nvme_dsm_range *)e->wbuf;
	size_t len = 16 * e->ns.lba_size;

	write_read_compare(e, qp, 60000, 16, 0, false, 0xaa);
	assert_int_equal(vfn_nvme_flush(qp, 1, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_write_zeroes(qp, &e->ns, 60004, 8, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 60000, 16, e->rbuf, NULL, NULL), 0);
	assert_memory_equal(e->rbuf, e->wbuf, 4 * e->ns.lba_size);
	for (size_t i = 4 * e->ns.lba_size; i < 12 * e->ns.lba_size; i++)
		assert_int_equal(e->rbuf[i], 0);
	assert_memory_equal(e->rbuf + 12 * e->ns.lba_size, e->wbuf + 12 * e->ns.lba_size, len - 12 * e->ns.lba_size);
	*r = (struct vfn_nvme_dsm_range){ .nlb = vfn_cpu_to_le32(16), .slba = vfn_cpu_to_le64(60000) };
	assert_int_equal(vfn_nvme_dsm_deallocate(qp, 1, r, 1, NULL, NULL), 0);
	assert_int_equal(vfn_nvme_dsm_deallocate(qp, 1, r, 0, NULL, NULL), -EINVAL);
	vfn_nvme_qpair_destroy(qp);
}

/* Create commands the controller must refuse, with the spec's statuses. */
static void test_queue_create_errors(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_cqe cqe;
	struct vfn_cq cq, cq2;
	struct vfn_sq sq;
	uint16_t bad_qid = (uint16_t)(e->info->nr_cq + 1);

	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, 0, NULL, &qp), -EINVAL);
	assert_int_equal(vfn_nvme_qpair_create(e->ctrl, bad_qid, NULL, &qp), -EINVAL);
	assert_null(qp);

	assert_int_equal(vfn_nvme_cq_alloc(e->ctrl, &cq, bad_qid, 16), 0);
	assert_int_equal(vfn_nvme_cq_create(e->ctrl, &cq, -1, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_QID_INVALID);
	vfn_nvme_cq_free(e->ctrl, &cq);

	assert_int_equal(vfn_nvme_cq_alloc(e->ctrl, &cq, 1, 4096), 0); /* beyond CAP.MQES + 1 = 2048 */
	assert_int_equal(vfn_nvme_cq_create(e->ctrl, &cq, -1, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_QUEUE_SIZE);
	vfn_nvme_cq_free(e->ctrl, &cq);

	/* An SQ on a CQ that was never created. */
	assert_int_equal(vfn_nvme_cq_alloc(e->ctrl, &cq2, 2, 16), 0);
	assert_int_equal(vfn_nvme_sq_alloc(e->ctrl, &sq, 1, 16, &cq2), 0);
	assert_int_equal(vfn_nvme_sq_create(e->ctrl, &sq, 0, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_CQ_INVALID);

	/* A CQ with an SQ on it cannot be deleted. */
	assert_int_equal(vfn_nvme_cq_create(e->ctrl, &cq2, -1, &cqe), 0);
	assert_int_equal(vfn_nvme_sq_create(e->ctrl, &sq, 0, &cqe), 0);
	assert_int_equal(vfn_nvme_cq_delete(e->ctrl, &cq2, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_QUEUE_DELETION);
	assert_int_equal(vfn_nvme_sq_delete(e->ctrl, &sq, &cqe), 0);
	assert_int_equal(vfn_nvme_cq_delete(e->ctrl, &cq2, &cqe), 0);
	vfn_nvme_sq_free(e->ctrl, &sq);
	vfn_nvme_cq_free(e->ctrl, &cq2);

	/* The queue ids are free again. */
	qp = qpair(e, 1, 2, false);
	vfn_nvme_qpair_destroy(qp);
}

/*
 * 32 one-block writes in one batch; once the controller has posted all 32
 * completions, reap them one at a time (32 CQ head updates), then read the
 * data back.  With shadow doorbells the controller's EventIdx stays where it
 * was when it posted, so only the first head update needs the MMIO
 * doorbell; without them every update writes it.
 */
static void shadow_pass(struct env *e, bool shadow)
{
	/* Interrupts: such a pair writes the CQ head after every reap (a polled one defers it). */
	struct vfn_nvme_qpair *qp = qpair(e, 5, 64, true);
	uint64_t deadline = vfn_now_ns() + 10000000000ull, sq0, cq0;
	unsigned int done = 0, n = 32;
	struct vfn_nvme_cqe cqe;

	assert_int_equal(e->info->shadow_doorbells, shadow);
	assert_int_equal(qp->sq.shadow_db != NULL, shadow);
	fill(e, e->wbuf, 40000, n, shadow ? 0x5d : 0x0d);
	sq0 = qp->sq.mmio_db_writes;
	cq0 = qp->cq.mmio_db_writes;
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(vfn_nvme_write_async(qp, &e->ns, 40000 + i, 1, e->wbuf + (size_t)i * e->ns.lba_size,
						      false, count_cb, &done),
				 0);
	vfn_nvme_qpair_submit(qp);
	/* The last of the 32 completions carries the phase we expect (head is 0: a new queue). */
	while ((vfn_le16_to_cpu(VFN_READ_ONCE(qp->cq.cqes[n - 1].sfp)) & 1) != qp->cq.phase)
		assert_true(vfn_now_ns() < deadline);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(vfn_nvme_qpair_reap(qp, 1), 1);
	assert_int_equal(done, n);
	if (shadow) {
		/* At most one write each (none if the EventIdx was already ahead). */
		assert_true(qp->sq.mmio_db_writes - sq0 <= 1);
		assert_true(qp->cq.mmio_db_writes - cq0 <= 1);
	} else {
		assert_int_equal(qp->sq.mmio_db_writes - sq0, 1);
		assert_int_equal(qp->cq.mmio_db_writes - cq0, n);
	}
	memset(e->rbuf, 0, n * e->ns.lba_size);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 40000, n, e->rbuf, NULL, &cqe), 0);
	assert_memory_equal(e->wbuf, e->rbuf, n * e->ns.lba_size);
	vfn_nvme_qpair_destroy(qp);
}

/*
 * A doorbell the controller missed (issue 10 item 7): the tail is
 * published as vfn_sq_ring() would, shadow included, but the MMIO write is
 * left out, so the controller has no reason to look at the queue.  The
 * reaps that find nothing write the doorbells again after VFN_QP_STALL_MS;
 * every command completes and the data reads back.
 */
static void lost_doorbell_pass(struct env *e)
{
	struct vfn_nvme_qpair *qp = qpair(e, 6, 16, false);
	uint64_t deadline = vfn_now_ns() + 5000000000ull;
	unsigned int done = 0, n = 4;
	struct vfn_nvme_cqe cqe;

	fill(e, e->wbuf, 41000, n, 0x1d);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(vfn_nvme_write_async(qp, &e->ns, 41000 + i, 1, e->wbuf + (size_t)i * e->ns.lba_size,
						      false, count_cb, &done),
				 0);
	vfn_wmb(); /* the SQEs before the tail, as vfn_sq_ring() orders them */
	if (qp->sq.shadow_db)
		VFN_WRITE_ONCE(*qp->sq.shadow_db, vfn_cpu_to_le32(qp->sq.tail));
	qp->sq.db_tail = qp->sq.tail;
	while (done < n && vfn_now_ns() < deadline)
		vfn_nvme_qpair_reap(qp, 0);
	assert_int_equal(done, n);
	if (strncmp(env_str("VFN_BDF"), "sim:", 4))
		assert_true(qp->rerung >= 1); /* QEMU acts on the MMIO write only */
	fprintf(stderr, "# lost doorbell (shadow %s): %llu re-rung\n", qp->sq.shadow_db ? "on" : "off",
		(unsigned long long)qp->rerung);
	memset(e->rbuf, 0, n * e->ns.lba_size);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 41000, n, e->rbuf, NULL, &cqe), 0);
	assert_memory_equal(e->wbuf, e->rbuf, n * e->ns.lba_size);
	vfn_nvme_qpair_destroy(qp);
}

static void test_lost_doorbell(void **state)
{
	lost_doorbell_pass(*state);
}

/* On by default when OACS advertises Doorbell Buffer Config (QEMU's and sim's do). */
static void test_shadow_doorbells(void **state)
{
	shadow_pass(*state, true);
}

/* The opt-out: MMIO doorbells only. */
static void test_shadow_doorbells_off(void **state)
{
	shadow_pass(*state, false);
}

struct aer_seen {
	int n;
	uint32_t dw0[4];
};

static void aer_cb(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct aer_seen *a = arg;

	(void)ctrl;
	if (a->n < 4)
		a->dw0[a->n] = dw0;
	a->n++;
}

/* Polls the admin queue until @want events arrived (5 s at most). */
static void aer_wait(struct vfn_nvme_ctrl *ctrl, struct aer_seen *a, int want)
{
	uint64_t deadline = vfn_now_ns() + 5000000000ull;

	while (a->n < want && vfn_now_ns() < deadline) {
		assert_true(vfn_nvme_admin_poll(ctrl) >= 0);
		usleep(1000);
	}
	assert_int_equal(a->n, want);
}

/*
 * Asynchronous events the test provokes reach the callback: an invalid
 * doorbell value (Error, Invalid Doorbell Write Value, Error Information
 * log), then an over-temperature threshold below the current temperature
 * with the SMART temperature event enabled (SMART / Health, Temperature
 * Threshold).  QEMU's controller and the simulated one both implement it.
 */
static void test_aer(void **state)
{
	struct env *e = *state;
	struct aer_seen a = { 0 };
	uint32_t aec = 1u << 1; /* Asynchronous Event Configuration: SMART temperature */

	assert_int_equal(vfn_nvme_aer_set_callback(e->ctrl, aer_cb, &a), 0);
	usleep(100000); /* let the controller fetch the requests before the doorbell goes bad */
	/* Admin SQ tail doorbell far beyond the queue: the controller ignores the value and reports it. */
	vfn_nvme_reg_write32(e->ctrl, VFN_NVME_REG_DBS, 0xfff0);
	aer_wait(e->ctrl, &a, 1);
	assert_int_equal(a.dw0[0], 0x0u | 0x01u << 8 | (uint32_t)VFN_NVME_LOG_ERROR << 16);

	assert_int_equal(vfn_nvme_set_features(e->ctrl, VFN_NVME_FEAT_ASYNC_EVENT, 0, aec, NULL, NULL, 0), 0);
	assert_int_equal(vfn_nvme_set_features(e->ctrl, VFN_NVME_FEAT_TEMP_THRESH, 0, 200, NULL, NULL, 0), 0);
	aer_wait(e->ctrl, &a, 2);
	assert_int_equal(a.dw0[1], 0x1u | 0x01u << 8 | (uint32_t)VFN_NVME_LOG_SMART << 16);
}

static void timeout_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	int *err = rq->opaque;

	(void)qp;
	(void)cqe;
	*err = rq->err;
}

/*
 * Recovery on a real controller: a command held back by driver-side
 * injection times out, an injected status reaches the caller, then a
 * controller reset re-creates the pair in place and I/O resumes.
 */
static void test_timeout_reset(void **state)
{
	struct env *e = *state;
	struct vfn_nvme_qpair *qp = qpair(e, 2, 8, false);
	uint64_t t0 = vfn_now_ns();
	struct vfn_nvme_cqe cqe;
	int err = 0;

	write_read_compare(e, qp, 70000, 4, 0, false, 0x5a);
	assert_int_equal(vfn_nvme_qpair_log_enable(qp, 8), 0);
	assert_int_equal(vfn_nvme_inject_status(qp, VFN_NVME_CMD_READ, 1, VFN_NVME_SC_READ_ERROR), 0);
	assert_int_equal(vfn_nvme_read(qp, &e->ns, 70000, 1, e->rbuf, NULL, &cqe), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), VFN_NVME_SC_READ_ERROR);
	assert_int_equal(vfn_nvme_inject_timeout(qp, VFN_NVME_CMD_FLUSH, 1), 0);
	assert_int_equal(vfn_nvme_flush_async(qp, 1, timeout_cb, &err), 0);
	vfn_nvme_qpair_submit(qp);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0), 0);
	assert_int_equal(vfn_nvme_qpair_check_timeouts(qp, t0 + (uint64_t)qp->timeout_ms * 1000000), 1);
	assert_int_equal(err, -ETIMEDOUT);
	assert_int_equal(vfn_nvme_ctrl_reset(e->ctrl), 0);
	assert_int_equal(vfn_nvme_ctrl_failed(e->ctrl), 0);
	assert_int_equal(qp->rqs.nr_free, qp->rqs.nr);
	write_read_compare(e, qp, 70100, 8, 512, false, 0xa5);
	vfn_nvme_qpair_destroy(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes_prp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes_sgl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_beyond_mdts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_split_beyond_mdts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_queue_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_opcode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_zeroes_dsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_doorbells, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_doorbells_off, setup_no_shadow, teardown),
		cmocka_unit_test_setup_teardown(test_lost_doorbell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_doorbell, setup_no_shadow, teardown),
		cmocka_unit_test_setup_teardown(test_aer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
