/* SPDX-License-Identifier: MIT */
/*
 * I/O on a namespace formatted with metadata is refused, never sent: vfn
 * does not size or carry metadata yet, and a transfer sized from the LBA
 * size alone makes the controller overrun the buffer (QEMU's, behind a real
 * IOMMU, DMAs to IOVA 0).  Every path: the NVM helpers of the library
 * (synchronous and asynchronous), the device handle, and (test-meta.sh) the
 * CLI.  Run in a guest against QEMU's controller (meson test meta-*), on the
 * host against sim:ms=8,... (meta-sim-*), and on a kernel namespace node.
 *   VFN_BDF            the controller: a BDF, a sim: string or a /dev node
 *                      (then only the device handle is tested)
 *   VFN_TEST_MS        metadata bytes per block the namespace has
 *   VFN_TEST_MSET      1: extended LBAs, 0: a separate metadata buffer
 *   VFN_TEST_LBAF      the LBA format in use
 *   VFN_TEST_LBA_SIZE  its data size
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

#define BUF_LEN (64 * 1024)

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "# %s is not set\n", name);
		fail();
	}
	return v;
}

static unsigned long env_num(const char *name)
{
	return strtoul(env_str(name), NULL, 0);
}

static void never_called(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	fail_msg("a refused command completed");
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

/* The library's NVM helpers, synchronous and asynchronous: -ENOTSUP, nothing posted, the buffer untouched. */
static void test_nvme_helpers_refuse(void **state)
{
	struct vfn_nvme_ctrl *ctrl = NULL;
	struct vfn_nvme_qpair *qp = NULL;
	struct vfn_nvme_ns_info ns;
	uint8_t *buf, pattern[BUF_LEN];
	uint64_t iova;

	if (strchr(env_str("VFN_BDF"), '/'))
		skip(); /* a kernel node: no vfn_nvme_ctrl there */
	assert_int_equal(vfn_nvme_ctrl_open(env_str("VFN_BDF"), NULL, &ctrl), 0);
	assert_int_equal(vfn_nvme_ns_get_info(ctrl, 1, &ns), 0);
	assert_int_equal(ns.ms, env_num("VFN_TEST_MS"));
	assert_int_equal(ns.mset, env_num("VFN_TEST_MSET"));
	assert_int_equal(ns.flbas, env_num("VFN_TEST_LBAF"));
	assert_int_equal(ns.lba_size, env_num("VFN_TEST_LBA_SIZE"));
	assert_int_equal(vfn_nvme_qpair_create(ctrl, 1, NULL, &qp), 0);
	assert_int_equal(vfn_nvme_qpair_log_enable(qp, 64), 0);
	assert_int_equal(vfn_dma_alloc(vfn_nvme_ctrl_iommu(ctrl), BUF_LEN, (void **)&buf, &iova), BUF_LEN);
	memset(buf, 0xa5, BUF_LEN);
	memcpy(pattern, buf, BUF_LEN);

	assert_int_equal(vfn_nvme_read(qp, &ns, 0, 8, buf, NULL, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_read(qp, &ns, 0, 1, buf, NULL, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_write(qp, &ns, 0, 8, buf, NULL, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_write_zeroes(qp, &ns, 0, 8, NULL, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_read_async(qp, &ns, 0, 8, buf, false, never_called, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_write_async(qp, &ns, 0, 8, buf, true, never_called, NULL), -ENOTSUP);
	assert_int_equal(vfn_nvme_write_zeroes_async(qp, &ns, 0, 8, never_called, NULL), -ENOTSUP);
	vfn_nvme_qpair_submit(qp);
	assert_int_equal(vfn_nvme_qpair_reap(qp, 0), 0);
	assert_int_equal(logged(qp), 0);
	assert_memory_equal(buf, pattern, BUF_LEN);

	/* The queue and the controller are fine: a Flush goes through. */
	assert_int_equal(vfn_nvme_flush(qp, 1, NULL, NULL), 0);
	assert_int_equal(logged(qp), 1);
	vfn_dma_free(vfn_nvme_ctrl_iommu(ctrl), buf, BUF_LEN);
	vfn_nvme_qpair_destroy(qp);
	vfn_nvme_ctrl_close(ctrl);
}

/* The device handle: the geometry says so, vfn_dev_read/write refuse, vfn_dev_flush works. */
static void test_dev_refuses(void **state)
{
	const struct vfn_dev_info *info;
	struct vfn_dev *dev = NULL;
	uint8_t pattern[BUF_LEN];
	void *buf;

	assert_int_equal(vfn_dev_open(env_str("VFN_BDF"), NULL, &dev), 0);
	info = vfn_dev_get_info(dev);
	assert_int_equal(info->nsid, 1);
	assert_int_equal(info->ms, env_num("VFN_TEST_MS"));
	assert_int_equal(info->mset, env_num("VFN_TEST_MSET"));
	assert_int_equal(info->flbas, env_num("VFN_TEST_LBAF"));
	assert_int_equal(info->lba_size, env_num("VFN_TEST_LBA_SIZE"));
	assert_int_equal(vfn_dev_buf_alloc(dev, BUF_LEN, &buf), BUF_LEN);
	memset(buf, 0x5a, BUF_LEN);
	memcpy(pattern, buf, BUF_LEN);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 8, buf), -ENOTSUP);
	assert_int_equal(vfn_dev_read(dev, 1, 0, 1, buf), -ENOTSUP);
	assert_int_equal(vfn_dev_write(dev, 1, 0, 8, buf), -ENOTSUP);
	assert_memory_equal(buf, pattern, BUF_LEN);
	assert_int_equal(vfn_dev_flush(dev, 1), 0);
	vfn_dev_buf_free(dev, buf, BUF_LEN);
	vfn_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvme_helpers_refuse),
		cmocka_unit_test(test_dev_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
