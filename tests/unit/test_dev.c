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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vfn/vfn.h>

#define SIM "sim:sn=DEVT1,nsze=1024,lbads=9,nn=3,mqes=63"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
