/* SPDX-License-Identifier: MIT */
/*
 * The device handle on the host: the simulator backend end to end
 * (identity and geometry, admin, sync and async I/O on mapped and unmapped
 * memory, log pages, features), and the backend table's refusals (a
 * missing path, /dev/null, a directory, a PCI address with no device, bad
 * sim: options, unknown strings and backends), each with its error, its
 * log lines and *out untouched.  The kernel and VFIO backends on a real
 * controller: tests/vm/test_vm_dev.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <vfn/vfn.h>
#include <vfn/pi.h>

#include "dev/dev-priv.h"
#include "fake-kernel.h"
#include "iommu/iommu-priv.h"
#include "nvme/ctrl-priv.h"
#include "sim/sim.h"

#define SIM "sim:sn=DEVT1,nsze=1024,lbads=9,nn=3,mqes=63,mdts=5"

static char logs[4096];

static void capture_log(enum vfn_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logs);

	(void)level;
	(void)arg;
	snprintf(logs + n, sizeof(logs) - n, "%s\n", msg);
}

static int setup_log(void **state)
{
	(void)state;
	logs[0] = '\0';
	vfn_log_set_fn(capture_log, NULL);
	vfn_log_set_level(VFN_LOG_DEBUG);
	return 0;
}

static int teardown_log(void **state)
{
	(void)state;
	vfn_log_set_level(VFN_LOG_NONE);
	vfn_log_set_fn(NULL, NULL);
	return 0;
}

static void assert_logged(const char *msg)
{
	if (!strstr(logs, msg))
		fail_msg("the log does not say \"%s\":\n%s", msg, logs);
}

/* Opening @uri fails with @err, leaves *out alone, and logs @msg. */
static void expect_refused(const char *uri, const struct vfn_dev_opts *opts, int err, const char *msg)
{
	struct vfn_dev *dev = (struct vfn_dev *)0x1;

	logs[0] = '\0';
	assert_int_equal(vfn_dev_open(uri, opts, &dev), err);
	assert_ptr_equal(dev, (struct vfn_dev *)0x1);
	assert_logged(msg);
}

static void test_refusals(void **state)
{
	struct vfn_dev_opts force_kernel = { .backend = "kernel" }, bogus = { .backend = "spdk" };

	(void)state;
	expect_refused("/dev/null", NULL, -ENODEV, "not an NVMe device");
	expect_refused("/dev/nvme-does-not-exist", NULL, -ENOENT, "No such file or directory");
	expect_refused("/tmp", NULL, -EISDIR, "is a directory");
	expect_refused("sim:bogus=1", NULL, -EINVAL, "bogus");
	expect_refused("sim:nsze=0", NULL, -EINVAL, "nsze");
	expect_refused("0000:ff:1f.7", NULL, -ENODEV, "vfio: no PCI device at 0000:ff:1f.7");
	expect_refused("hello", NULL, -EINVAL, "\"hello\": no backend can open it");
	assert_logged("vfio: not a PCI address");
	assert_logged("kernel: not a device path");
	assert_logged("sim: no \"sim:\" prefix");
	expect_refused(SIM, &force_kernel, -EINVAL, "kernel: not a device path");
	expect_refused(SIM, &bogus, -EINVAL, "unknown backend \"spdk\"");
	assert_int_equal(vfn_dev_open(NULL, NULL, (struct vfn_dev **)state), -EINVAL);
}

static void test_inactive_ns(void **state)
{
	struct vfn_dev_opts o = { .nsid = 7 };

	(void)state;
	expect_refused(SIM, &o, -ENOENT, "namespace 7 is not active");
}

static int open_sim(void **state)
{
	struct vfn_dev *dev = NULL;

	setup_log(state);
	if (vfn_dev_open(SIM, NULL, &dev))
		return -1;
	*state = dev;
	return 0;
}

static int close_sim(void **state)
{
	vfn_dev_close(*state);
	return teardown_log(state);
}

static void test_info(void **state)
{
	struct vfn_dev *dev = *state;
	const struct vfn_dev_info *i = vfn_dev_get_info(dev);

	assert_int_equal(i->backend, VFN_DEV_SIM);
	assert_string_equal(i->backend_name, "sim");
	assert_string_equal(i->name, SIM);
	assert_string_equal(i->sn, "DEVT1");
	assert_true(strlen(i->mn) > 0);
	assert_int_equal(i->nn, 3);
	assert_int_equal(i->nsid, 1);
	assert_int_equal(i->nsze, 1024);
	assert_int_equal(i->lba_size, 512);
	assert_int_equal(i->flbas, 0);
	assert_int_equal(i->ms, 0);
	assert_int_equal(i->max_qd, 63);
	assert_true(i->max_queues >= 1);
	assert_int_equal(i->max_xfer, vfn_nvme_ctrl_get_info(vfn_dev_nvme_ctrl(dev))->max_xfer);
	assert_non_null(vfn_dev_nvme_ctrl(dev));
}

static void test_ns_list(void **state)
{
	uint32_t ids[8] = { 0 };

	assert_int_equal(vfn_dev_ns_list(*state, 0, ids, 8), 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[2], 3);
	assert_int_equal(vfn_dev_ns_list(*state, 2, ids, 8), 1);
	assert_int_equal(ids[0], 3);
	assert_int_equal(vfn_dev_ns_list(*state, 0, ids, -1), -EINVAL);
}

static void test_admin(void **state)
{
	uint8_t *smart = calloc(1, 512), id[4096];
	struct vfn_nvme_cqe cqe = { 0 };
	struct vfn_nvme_sqe bad = { .opcode = 0xc3 };
	uint32_t nq = 0;

	assert_int_equal(vfn_dev_get_log(*state, VFN_NVME_LOG_SMART, 0xffffffff, 0, smart, 512), 0);
	assert_int_equal(vfn_dev_get_log(*state, VFN_NVME_LOG_SMART, 0xffffffff, 0, smart, 3), -EINVAL);
	assert_int_equal(vfn_dev_get_features(*state, VFN_NVME_FEAT_NUM_QUEUES, 0, 0, &nq, NULL, 0), 0);
	assert_int_not_equal(nq, 0);
	assert_int_equal(vfn_dev_identify(*state, VFN_NVME_CNS_CTRL, 0, id, NULL), 0);
	assert_memory_equal(id + 4, "DEVT1 ", 6);
	assert_int_equal(vfn_dev_admin(*state, &bad, NULL, 0, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_INVALID_OPCODE);
	free(smart);
}

/* Fills @n bytes with a pattern of @seed. */
static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void test_sync_rw(void **state)
{
	struct vfn_dev *dev = *state;
	uint8_t *plain = malloc(8 * 512), *back = malloc(8 * 512), *dma;
	ssize_t len = vfn_dev_buf_alloc(dev, 8 * 512, (void **)&dma);

	assert_true(len >= 8 * 512);
	/* unmapped memory is bounced */
	fill(plain, 8 * 512, 1);
	assert_int_equal(vfn_dev_write(dev, 1, 100, 8, plain), 0);
	assert_int_equal(vfn_dev_read(dev, 1, 100, 8, back), 0);
	assert_memory_equal(plain, back, 8 * 512);
	/* mapped memory goes as is; it reads what the bounced write left */
	assert_int_equal(vfn_dev_read(dev, 1, 100, 8, dma), 0);
	assert_memory_equal(plain, dma, 8 * 512);
	fill(dma, 512, 9);
	assert_int_equal(vfn_dev_write(dev, 1, 1023, 1, dma), 0);
	assert_int_equal(vfn_dev_read(dev, 1, 1023, 1, back), 0);
	assert_memory_equal(dma, back, 512);
	assert_int_equal(vfn_dev_flush(dev, 1), 0);
	/* beyond the namespace: LBA Out of Range; bad counts refused before */
	assert_int_equal(vfn_dev_read(dev, 1, 1024, 1, back), -EIO);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 0, back), -EINVAL);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 65537, back), -EINVAL);
	vfn_dev_buf_free(dev, dma, (size_t)len);
	free(plain);
	free(back);
}

struct async_ctx {
	int calls;
	int ret;
};

static void async_cb(void *arg, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct async_ctx *c = arg;

	(void)cqe;
	c->calls++;
	c->ret = ret;
}

/* Submits @n one-block commands of @opcode at LBA 200 + i from @buf. */
static void submit_n(struct vfn_dev_queue *q, uint8_t opcode, uint8_t *buf, struct async_ctx *c, int n)
{
	for (int i = 0; i < n; i++) {
		struct vfn_nvme_sqe sqe = {
			.opcode = opcode,
			.nsid = vfn_cpu_to_le32(1),
			.cdw10 = vfn_cpu_to_le32(200 + i),
		};

		assert_int_equal(vfn_dev_submit(q, &sqe, buf + 512 * i, 512, async_cb, &c[i]), 0);
	}
}

static void drain(struct vfn_dev_queue *q, int n)
{
	int done = 0, got;

	while (done < n) {
		got = vfn_dev_wait(q, 0);
		assert_true(got >= 0);
		done += got;
	}
	assert_int_equal(done, n);
	assert_int_equal(vfn_dev_queue_inflight(q), 0);
}

static void test_async(void **state)
{
	struct vfn_dev *dev = *state;
	struct async_ctx c[16] = { 0 };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ, .nsid = vfn_cpu_to_le32(1) };
	struct vfn_dev_queue *q = NULL;
	uint8_t *buf, *plain = malloc(512);
	ssize_t len = vfn_dev_buf_alloc(dev, 2 * 16 * 512, (void **)&buf);

	assert_true(len > 0);
	assert_int_equal(vfn_dev_queue_create(dev, 0, &q), -EINVAL);
	assert_int_equal(vfn_dev_queue_create(dev, 64, &q), -EINVAL);
	assert_int_equal(vfn_dev_queue_create(dev, 16, &q), 0);
	fill(buf, 16 * 512, 3);
	submit_n(q, VFN_NVME_CMD_WRITE, buf, c, 16);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c[0]), -EBUSY);
	assert_int_equal(vfn_dev_queue_inflight(q), 16);
	drain(q, 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_int_equal(c[i].ret, 0);
	}
	memset(c, 0, sizeof(c));
	submit_n(q, VFN_NVME_CMD_READ, buf + 16 * 512, c, 16);
	drain(q, 16);
	assert_memory_equal(buf, buf + 16 * 512, 16 * 512);
	/* unmapped memory is refused on this backend; LBA out of range completes with -EIO */
	assert_int_equal(vfn_dev_submit(q, &sqe, plain, 512, async_cb, &c[0]), -EFAULT);
	sqe.cdw10 = vfn_cpu_to_le32(5000);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c[0]), 0);
	drain(q, 1);
	assert_int_equal(c[0].ret, -EIO);
	assert_int_equal(vfn_dev_wait(q, 0), 0);
	vfn_dev_queue_destroy(q);
	vfn_dev_buf_free(dev, buf, (size_t)len);
	free(plain);
}

/* ---- failure paths on the simulator --------------------------------------- */

static struct vfn_sim *sim_of(struct vfn_dev *dev)
{
	return vfn_sim_from_hw(&vfn_dev_nvme_ctrl(dev)->hw);
}

static struct vfn_iommu *iommu_of(struct vfn_dev *dev)
{
	return vfn_nvme_ctrl_iommu(vfn_dev_nvme_ctrl(dev));
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static struct vfn_nvme_sqe read_sqe(uint64_t slba, uint32_t nlb)
{
	struct vfn_nvme_sqe sqe = {
		.opcode = VFN_NVME_CMD_READ,
		.nsid = vfn_cpu_to_le32(1),
		.cdw10 = vfn_cpu_to_le32((uint32_t)slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(slba >> 32)),
		.cdw12 = vfn_cpu_to_le32(nlb - 1),
	};

	return sqe;
}

/* The made-up completion of a command the controller did not complete. */
static void assert_host_aborted(const struct vfn_nvme_cqe *cqe)
{
	assert_int_equal(vfn_nvme_cqe_status(cqe), VFN_NVME_SC_HOST_ABORTED);
	assert_int_equal(cqe->dw0, 0);
	assert_int_equal(cqe->dw1, 0);
}

/* "sim:" wins over "any string with a /": a serial may hold one. */
static void test_sim_slash(void **state)
{
	struct vfn_dev *dev = NULL;

	(void)state;
	assert_int_equal(vfn_dev_open("sim:sn=a/b,nsze=64,lbads=9", NULL, &dev), 0);
	assert_int_equal(vfn_dev_get_info(dev)->backend, VFN_DEV_SIM);
	assert_string_equal(vfn_dev_get_info(dev)->sn, "a/b");
	vfn_dev_close(dev);
}

/*
 * Without data the data pointer is vfn's (none), not the caller's: a stale
 * PRP1 naming a mapped buffer does not make Identify land in it.
 */
static void test_admin_no_data_pointer(void **state)
{
	struct vfn_dev *dev = *state;
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_ADMIN_IDENTIFY, .cdw10 = vfn_cpu_to_le32(VFN_NVME_CNS_CTRL) };
	struct vfn_nvme_cqe cqe;
	uint8_t *stale, id[4096];
	ssize_t len = vfn_dev_buf_alloc(dev, 4096, (void **)&stale);
	uint64_t iova;

	assert_true(len >= 4096);
	memset(stale, 0xa5, 4096);
	assert_int_equal(vfn_iommu_translate(iommu_of(dev), stale, &iova, NULL), 0);
	sqe.dptr.prp1 = vfn_cpu_to_le64(iova);
	sqe.mptr = vfn_cpu_to_le64(iova);
	/* PRP1 0 points nowhere: the simulator answers Data Transfer Error. */
	assert_int_equal(vfn_dev_admin(dev, &sqe, NULL, 0, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_DATA_XFER_ERROR);
	assert_true(all_bytes(stale, 4096, 0xa5));
	/* With data, the same SQE fills the buffer given, not the stale one. */
	assert_int_equal(vfn_dev_admin(dev, &sqe, id, sizeof(id), &cqe, 0), 0);
	assert_memory_equal(id + 4, "DEVT1 ", 6);
	assert_true(all_bytes(stale, 4096, 0xa5));
	vfn_dev_buf_free(dev, stale, (size_t)len);
}

/*
 * The device's data reaches a bounced buffer only when the controller
 * completed the command, and then only the bytes it wrote: an error status
 * (LBA Out of Range, Invalid Log Page) or a command never sent (-EINVAL,
 * beyond MDTS) leaves the caller's buffer as it was.
 */
static void test_failed_read_keeps_buffer(void **state)
{
	struct vfn_dev *dev = *state;
	size_t big = vfn_dev_get_info(dev)->max_xfer + 512;
	struct vfn_nvme_sqe range = read_sqe(1024, 1), huge = read_sqe(0, (uint32_t)(big / 512));
	struct vfn_nvme_cqe cqe;
	uint8_t *buf = malloc(big);

	assert_int_equal(vfn_dev_get_info(dev)->max_xfer, 128 * 1024);
	memset(buf, 0x5a, big);
	assert_int_equal(vfn_dev_io(dev, &range, buf, 512, &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe) & 0x7ff, VFN_NVME_SC_LBA_RANGE);
	assert_true(all_bytes(buf, 512, 0x5a));
	memset(&cqe, 0xff, sizeof(cqe));
	assert_int_equal(vfn_dev_io(dev, &huge, buf, big, &cqe, 0), -EINVAL);
	assert_host_aborted(&cqe);
	assert_true(all_bytes(buf, big, 0x5a));
	assert_int_equal(vfn_dev_get_log(dev, 0x7f, 0xffffffff, 0, buf, 512), -EIO);
	assert_true(all_bytes(buf, 512, 0x5a));
	free(buf);
}

/*
 * CSTS.CFS while vfn_dev_io() waits: -EIO with a made-up completion (never
 * "Success"), and the caller's buffer untouched.
 */
static void test_fatal_during_io(void **state)
{
	struct vfn_dev *dev = *state;
	struct vfn_nvme_sqe sqe = read_sqe(0, 1);
	struct vfn_nvme_cqe cqe;
	uint8_t buf[512];

	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), NULL, 0), 0); /* the sync queue pair */
	vfn_sim_fault_fatal(sim_of(dev));
	memset(buf, 0x5a, sizeof(buf));
	memset(&cqe, 0, sizeof(cqe)); /* what the old code left: "Success" */
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 1000), -EIO);
	assert_host_aborted(&cqe);
	assert_true(all_bytes(buf, sizeof(buf), 0x5a));
	/* And every later call fails likewise, with a made-up completion. */
	memset(&cqe, 0, sizeof(cqe));
	assert_true(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 1000) < 0);
	assert_host_aborted(&cqe);
}

/*
 * A buffer only partly in a DMA mapping (the first 1 KiB of it) is bounced
 * as a whole, byte for byte, instead of refused.
 */
static void test_partly_mapped(void **state)
{
	struct vfn_dev *dev = *state;
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *buf = p + page - 1024, back[2048];
	struct vfn_nvme_sqe w = read_sqe(300, 4), r = read_sqe(300, 4);
	struct vfn_nvme_cqe cqe;
	uint64_t iova;

	assert_true(p != MAP_FAILED);
	assert_int_equal(vfn_iommu_map(iommu_of(dev), p, (size_t)page, &iova), 0);
	w.opcode = VFN_NVME_CMD_WRITE;
	fill(buf, 2048, 11);
	assert_int_equal(vfn_dev_io(dev, &w, buf, 2048, &cqe, 0), 0);
	memset(buf, 0, 2048);
	assert_int_equal(vfn_dev_io(dev, &r, buf, 2048, &cqe, 0), 0);
	fill(back, sizeof(back), 11);
	assert_memory_equal(buf, back, sizeof(back));
	assert_int_equal(vfn_iommu_unmap(iommu_of(dev), p), 0);
	munmap(p, 2 * (size_t)page);
}

/* IOVA space in use in @iommu's address space. */
static uint64_t iova_used(struct vfn_iommu *iommu)
{
	return (1ull << 48) - vfn_iova_avail(&iommu->iova);
}

/*
 * A bounce buffer outlives nothing the device can still write: a command
 * that Abort ends (Command Abort Requested) and one that never completes
 * (the controller is quiesced, then failed) both give theirs back at once;
 * a reset brings the handle back.
 */
static void test_timeout_bounce(void **state)
{
	struct vfn_dev *dev = *state;
	struct vfn_iommu *iommu = iommu_of(dev);
	struct vfn_sim_fault delay = {
		.action = VFN_SIM_FAULT_DELAY, .sqid = -1, .opcode = VFN_NVME_CMD_READ, .delay_ms = 300
	};
	struct vfn_sim_fault drop = { .action = VFN_SIM_FAULT_DROP, .sqid = -1, .opcode = VFN_NVME_CMD_READ };
	struct vfn_nvme_sqe sqe = read_sqe(0, 8);
	struct vfn_nvme_cqe cqe;
	uint8_t buf[4096];
	uint64_t base;

	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), NULL, 0), 0);
	base = iova_used(iommu);
	assert_int_equal(vfn_sim_fault_add(sim_of(dev), &delay), 0);
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 50), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), VFN_NVME_SC_ABORT_REQ);
	assert_int_equal(iova_used(iommu), base);
	assert_int_equal(vfn_nvme_ctrl_failed(vfn_dev_nvme_ctrl(dev)), 0);

	assert_int_equal(vfn_sim_fault_add(sim_of(dev), &drop), 0);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 20), -ETIMEDOUT);
	assert_host_aborted(&cqe);
	assert_true(all_bytes(buf, sizeof(buf), 0x5a));
	assert_int_equal(iova_used(iommu), base); /* quiesced: nothing left for the device to write */
	assert_int_equal(vfn_nvme_ctrl_failed(vfn_dev_nvme_ctrl(dev)), -ECANCELED);
	for (int i = 0; i < 40; i++)
		assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 5), -ECANCELED);
	assert_int_equal(iova_used(iommu), base);
	assert_int_equal(vfn_nvme_ctrl_reset(vfn_dev_nvme_ctrl(dev)), 0);
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 0), 0);
	assert_int_equal(iova_used(iommu), base);
}

/* vfn_dev_wait() counts callbacks: a stray CQE the pair drops completes nothing. */
static void test_wait_counts_completions(void **state)
{
	struct vfn_dev_opts o = { .timeout_ms = 200 };
	struct vfn_sim_fault wrong = { .action = VFN_SIM_FAULT_WRONG_CID, .sqid = -1, .opcode = VFN_NVME_CMD_READ };
	struct vfn_nvme_sqe sqe = read_sqe(0, 1);
	struct async_ctx c = { 0 };
	struct vfn_dev_queue *q;
	struct vfn_dev *dev;
	uint8_t *buf;
	ssize_t len;

	(void)state;
	assert_int_equal(vfn_dev_open(SIM, &o, &dev), 0);
	len = vfn_dev_buf_alloc(dev, 512, (void **)&buf);
	assert_true(len > 0);
	assert_int_equal(vfn_dev_queue_create(dev, 4, &q), 0);
	assert_int_equal(vfn_sim_fault_add(sim_of(dev), &wrong), 0);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c), 0);
	assert_int_equal(vfn_dev_wait(q, 0), -ETIMEDOUT);
	assert_int_equal(c.calls, 0);
	assert_int_equal(vfn_dev_queue_inflight(q), 1);
	vfn_dev_queue_destroy(q);
	vfn_dev_buf_free(dev, buf, (size_t)len);
	vfn_dev_close(dev);
}

/*
 * vfn_dev_close() with a queue open tears the queue down; the handle stays
 * valid for vfn_dev_queue_destroy() (no use after free: ASan), and
 * answers -ENODEV meanwhile.
 */
static void check_close_with_queue(struct vfn_dev *dev, void *buf)
{
	struct vfn_nvme_sqe sqe = read_sqe(0, 1);
	struct async_ctx c = { 0 };
	struct vfn_dev_queue *q;

	assert_int_equal(vfn_dev_queue_create(dev, 4, &q), 0);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c), 0);
	assert_true(vfn_dev_wait(q, 0) >= 0);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c), 0);
	vfn_dev_close(dev);
	assert_int_equal(vfn_dev_submit(q, &sqe, buf, 512, async_cb, &c), -ENODEV);
	assert_int_equal(vfn_dev_poll(q, 0), -ENODEV);
	assert_int_equal(vfn_dev_wait(q, 0), -ENODEV);
	assert_int_equal(vfn_dev_queue_inflight(q), 0);
	assert_string_equal(vfn_dev_queue_path(q), "closed");
	vfn_dev_queue_destroy(q);
}

static void test_close_with_queue(void **state)
{
	struct vfn_iommu *iommu;
	struct vfn_dev *dev = NULL;
	uint8_t *buf;
	ssize_t len;

	(void)state;
	assert_int_equal(vfn_dev_open(SIM, NULL, &dev), 0);
	len = vfn_dev_buf_alloc(dev, 512, (void **)&buf);
	assert_true(len > 0);
	/* The buffer goes after the handle, once no command can reach it. */
	iommu = iommu_of(dev);
	vfn_iommu_get(iommu);
	check_close_with_queue(dev, buf);
	vfn_dma_free(iommu, buf, (size_t)len);
	vfn_iommu_put(iommu);
}

/* ---- the kernel backend on the fake kernel (fake-kernel.h) ---------------- */

/* A kernel-backend handle on a fake /dev/ng9n1 (namespace 1, 512-byte blocks). */
static struct vfn_dev *fake_kernel_dev(uint32_t timeout_ms)
{
	struct vfn_dev *dev = calloc(1, sizeof(*dev));
	struct vfn_kdev *kdev = calloc(1, sizeof(*kdev));

	assert_non_null(dev);
	assert_non_null(kdev);
	kdev->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(kdev->fd >= 0);
	kdev->kind = VFN_KDEV_NS_CHAR;
	kdev->nsid = 1;
	snprintf(kdev->name, sizeof(kdev->name), "ng9n1");
	dev->ops = vfn_dev_backend_kernel.ops;
	dev->kdev = kdev;
	dev->timeout_ms = timeout_ms;
	dev->info.backend = VFN_DEV_KERNEL;
	snprintf(dev->info.name, sizeof(dev->info.name), "/dev/ng9n1");
	dev->info.nsid = 1;
	dev->info.lba_size = 512;
	dev->info.nsze = 1024;
	dev->info.max_qd = 4096;
	dev->info.io = true;
	return dev;
}

static int fake_on(void **state)
{
	setup_log(state);
	fake_kernel_on();
	return 0;
}

static int fake_off(void **state)
{
	fake_kernel_off();
	return teardown_log(state);
}

/* Submits @n one-block reads on @q into @buf. */
static void submit_reads(struct vfn_dev_queue *q, uint8_t *buf, struct async_ctx *c, int n)
{
	for (int i = 0; i < n; i++) {
		struct vfn_nvme_sqe sqe = read_sqe((uint64_t)i, 1);

		assert_int_equal(vfn_dev_submit(q, &sqe, buf + 512 * i, 512, async_cb, &c[i]), 0);
	}
}

/* The kernel takes one SQE per io_uring_enter: polling hands it the rest, one poll after another. */
static void test_kernel_partial_submit(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(0);
	struct async_ctx c[4] = { 0 };
	struct vfn_dev_queue *q;
	uint8_t buf[4 * 512];
	int done = 0, n;

	(void)state;
	fake_kernel.max_take = 1;
	assert_int_equal(vfn_dev_queue_create(dev, 8, &q), 0);
	assert_string_equal(vfn_dev_queue_path(q), "io_uring");
	submit_reads(q, buf, c, 4);
	for (int i = 0; i < 16 && done < 4; i++) {
		n = vfn_dev_poll(q, 0);
		assert_true(n >= 0);
		done += n;
	}
	assert_int_equal(done, 4);
	assert_int_equal(fake_kernel.nr_taken, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c[i].calls, 1);
	vfn_dev_queue_destroy(q);
	vfn_dev_close(dev);
}

/*
 * vfn_dev_wait() returns completions, not 0, while commands are in flight,
 * even when the kernel took only part of the batch (and so did not wait).
 */
static void test_kernel_wait_short_submit(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(0);
	struct async_ctx c[2] = { 0 };
	struct vfn_dev_queue *q;
	uint8_t buf[2 * 512];

	(void)state;
	fake_kernel.max_take = 1;
	fake_kernel.hold = true;
	fake_kernel.complete_on_wait = true;
	assert_int_equal(vfn_dev_queue_create(dev, 8, &q), 0);
	submit_reads(q, buf, c, 2);
	assert_int_equal(vfn_dev_wait(q, 0), 2);
	assert_int_equal(c[0].calls + c[1].calls, 2);
	assert_int_equal(vfn_dev_queue_inflight(q), 0);
	assert_int_equal(fake_kernel.hangs, 0);
	vfn_dev_queue_destroy(q);
	vfn_dev_close(dev);
}

/*
 * The handle's timeout reaches the kernel driver with every io_uring
 * command, and bounds vfn_dev_wait(): -ETIMEDOUT, the command still in
 * flight.  Destroying the queue then waits for what the kernel took (the
 * device may still write its buffer), up to that timeout.
 */
static void test_kernel_timeout(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(60);
	struct async_ctx c[2] = { 0 };
	struct vfn_dev_queue *q;
	uint8_t buf[2 * 512];

	(void)state;
	fake_kernel.hold = true;
	assert_int_equal(vfn_dev_queue_create(dev, 8, &q), 0);
	submit_reads(q, buf, c, 1);
	assert_int_equal(vfn_dev_wait(q, 0), -ETIMEDOUT);
	assert_int_equal(fake_kernel.hangs, 0);
	assert_int_equal(fake_kernel.nr_taken, 1);
	assert_int_equal(fake_kernel.taken[0].cmd.timeout_ms, 60);
	assert_int_equal(vfn_dev_queue_inflight(q), 1);
	assert_int_equal(c[0].calls, 0);
	/* It completes later, and is reaped then. */
	assert_int_equal(fake_kernel_complete(1), 1);
	assert_int_equal(vfn_dev_wait(q, 0), 1);
	assert_int_equal(c[0].ret, 0);
	/* Destroy with one the kernel never ends: gives up after the timeout, and says so. */
	submit_reads(q, buf, c + 1, 1);
	assert_int_equal(vfn_dev_poll(q, 0), 0);
	logs[0] = '\0';
	vfn_dev_queue_destroy(q);
	assert_logged("1 command(s) still in the kernel after 60 ms");
	assert_int_equal(fake_kernel.hangs, 0);
	vfn_dev_close(dev);
}

/* Destroying a queue waits for the commands the kernel took before the ring goes. */
static void test_kernel_destroy_drains(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(0);
	struct async_ctx c[3] = { 0 };
	struct vfn_dev_queue *q;
	uint8_t buf[3 * 512];

	(void)state;
	fake_kernel.hold = true;
	fake_kernel.complete_on_wait = true;
	fake_kernel.max_take = 2;
	assert_int_equal(vfn_dev_queue_create(dev, 8, &q), 0);
	submit_reads(q, buf, c, 3);
	assert_int_equal(vfn_dev_poll(q, 0), 0);
	assert_int_equal(fake_kernel.nr_taken, 2);
	vfn_dev_queue_destroy(q);
	/* The two taken completed and were consumed; the third was never sent; no callback ran. */
	assert_int_equal(fake_kernel_cq_head(), 2);
	assert_int_equal(fake_kernel.nr_taken, 2);
	assert_int_equal(c[0].calls + c[1].calls + c[2].calls, 0);
	vfn_dev_close(dev);
}

/* A command the kernel refused: the errno, and a made-up completion, never "Success". */
static void test_kernel_refused_cqe(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(0);
	struct vfn_nvme_sqe sqe = read_sqe(0, 1);
	struct vfn_nvme_cqe cqe;
	uint8_t buf[512];

	(void)state;
	fake_kernel.ioctl_ret = -EINVAL;
	memset(&cqe, 0, sizeof(cqe));
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 0), -EINVAL);
	assert_host_aborted(&cqe);
	memset(&cqe, 0, sizeof(cqe));
	assert_int_equal(vfn_dev_admin(dev, &sqe, buf, sizeof(buf), &cqe, 0), -EINVAL);
	assert_host_aborted(&cqe);
	fake_kernel.ioctl_ret = 0x80;
	assert_int_equal(vfn_dev_io(dev, &sqe, buf, sizeof(buf), &cqe, 0), -EIO);
	assert_int_equal(vfn_nvme_cqe_status(&cqe), 0x80);
	vfn_dev_close(dev);
}

static void test_kernel_close_with_queue(void **state)
{
	static uint8_t buf[512];

	(void)state;
	check_close_with_queue(fake_kernel_dev(0), buf);
}

/* vfn_dev_rw() on the kernel path: the separate metadata goes in the ioctl's metadata/metadata_len, PRINFO and tags in CDW3/12/14/15. */
static void test_kernel_rw_metadata(void **state)
{
	struct vfn_dev *dev = fake_kernel_dev(0);
	static uint8_t buf[4 * 512] __attribute__((aligned(4096))), meta[4 * 16];
	struct vfn_dev_rw_opts o = { .meta = meta,
				     .meta_len = sizeof(meta),
				     .prinfo = VFN_PI_PRCHK_ALL,
				     .ref_tag = 0x0000beef00000010ULL,
				     .app_tag = 0x1234,
				     .app_mask = 0xff00,
				     .fua = true };
	struct vfn_nvme_cqe cqe;

	(void)state;
	dev->info.ms = 16;
	dev->info.block_size = 528;
	dev->info.pi_type = 1;
	dev->info.pif = 2;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 0x10, 4, buf, sizeof(buf), &o, &cqe), 0);
	assert_int_equal(fake_kernel.nr_ioctls, 1);
	assert_int_equal(fake_kernel.last_ioctl.metadata, (uintptr_t)meta);
	assert_int_equal(fake_kernel.last_ioctl.metadata_len, 4 * 16);
	assert_int_equal(fake_kernel.last_ioctl.data_len, 4 * 512);
	assert_int_equal(fake_kernel.last_ioctl.cdw12, 3u | 0x7u << 26 | 1u << 30);
	assert_int_equal(fake_kernel.last_ioctl.cdw14, 0x10);
	assert_int_equal(fake_kernel.last_ioctl.cdw3, 0xbeef);
	assert_int_equal(fake_kernel.last_ioctl.cdw15, 0xff001234u);
	/* Short metadata: nothing sent. */
	o.meta_len = 4 * 16 - 1;
	fake_kernel.nr_ioctls = 0;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_READ, 1, 0x10, 4, buf, sizeof(buf), &o, &cqe), -EINVAL);
	assert_int_equal(fake_kernel.nr_ioctls, 0);
	/* Extended LBA: one buffer of data + metadata, no metadata pointer. */
	dev->info.mset = true;
	o.meta = NULL;
	o.meta_len = 0;
	assert_int_equal(vfn_dev_rw(dev, VFN_NVME_CMD_WRITE, 1, 0x10, 2, buf, sizeof(buf), &o, &cqe), 0);
	assert_int_equal(fake_kernel.last_ioctl.metadata_len, 0);
	assert_int_equal(fake_kernel.last_ioctl.data_len, 2 * 528);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_inactive_ns, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_info, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_ns_list, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_admin, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_sync_rw, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_async, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_sim_slash, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_admin_no_data_pointer, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_failed_read_keeps_buffer, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_fatal_during_io, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_partly_mapped, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_timeout_bounce, open_sim, close_sim),
		cmocka_unit_test_setup_teardown(test_wait_counts_completions, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_close_with_queue, setup_log, teardown_log),
		cmocka_unit_test_setup_teardown(test_kernel_partial_submit, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_wait_short_submit, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_timeout, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_destroy_drains, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_refused_cqe, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_close_with_queue, fake_on, fake_off),
		cmocka_unit_test_setup_teardown(test_kernel_rw_metadata, fake_on, fake_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
