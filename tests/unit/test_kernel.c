/* SPDX-License-Identifier: MIT */
/*
 * The kernel shim on the host (no NVMe device here): what vfn_kdev_open()
 * refuses, with which error and log line; argument checks; and, if this
 * kernel has io_uring passthrough, the ring mechanics against /dev/null:
 * every command completes with -EOPNOTSUPP (no uring_cmd on the file) or,
 * since Linux 6.0 gave /dev/null a uring_cmd (for LSM tests), with 0.
 * The guest test (tests/vm/test_vm_kernel.c) covers real NVMe nodes.
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include <vfn/support.h>

#include "kernel/kernel.h"

static char last_log[512];
static int nr_logs;

static void capture_log(enum vfn_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	nr_logs++;
}

static int setup_log(void **state)
{
	(void)state;
	last_log[0] = '\0';
	nr_logs = 0;
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

/* Opening @path fails with @err, leaves *out alone, and logs a line containing @msg. */
static void expect_refused(const char *path, int err, const char *msg)
{
	struct vfn_kdev *kdev = (struct vfn_kdev *)0x1;

	nr_logs = 0;
	assert_int_equal(vfn_kdev_open(path, &kdev), err);
	assert_ptr_equal(kdev, (struct vfn_kdev *)0x1);
	assert_true(nr_logs >= 1);
	if (!strstr(last_log, msg))
		fail_msg("log line \"%s\" does not say \"%s\"", last_log, msg);
}

static void test_open_dev_null(void **state)
{
	(void)state;
	expect_refused("/dev/null", -ENODEV, "/dev/null: not an NVMe device (a \"mem\" char device)");
}

static void test_open_missing(void **state)
{
	(void)state;
	expect_refused("/dev/vfn-no-such-node", -ENOENT, "No such file");
}

static void test_open_directory(void **state)
{
	(void)state;
	expect_refused("/dev", -EISDIR, "is a directory");
	expect_refused("/tmp/", -EISDIR, "is a directory");
}

static void test_open_regular_file(void **state)
{
	char path[] = "/tmp/vfn-test-kernel.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	expect_refused(path, -ENOTTY, "not a device node");
	close(fd);
	unlink(path);
}

static void test_open_not_a_path(void **state)
{
	(void)state;
	expect_refused("0000:01:00.0", -EINVAL, "is not a device path");
	expect_refused("sim:nsze=8", -EINVAL, "is not a device path");
	expect_refused("", -EINVAL, "is not a device path");
}

static void test_open_bad_args(void **state)
{
	struct vfn_kdev *kdev = NULL;

	(void)state;
	assert_int_equal(vfn_kdev_open(NULL, &kdev), -EINVAL);
	assert_int_equal(vfn_kdev_open("/dev/null", NULL), -EINVAL);
	assert_null(kdev);
	vfn_kdev_close(NULL);
}

static void test_cmd_bad_args(void **state)
{
	struct vfn_kdev ctrl = { .fd = -1, .kind = VFN_KDEV_CTRL, .name = "fake" };
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "fake" };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_READ };
	struct vfn_nvme_cqe cqe;

	(void)state;
	assert_int_equal(vfn_kdev_admin(NULL, &sqe, NULL, 0, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_admin(&ctrl, NULL, NULL, 0, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_io(NULL, &sqe, NULL, 0, &cqe, 0), -EINVAL);
	/* I/O needs a namespace node. */
	assert_int_equal(vfn_kdev_io(&ctrl, &sqe, NULL, 0, &cqe, 0), -ENOTSUP);
	/* A length without a buffer, or beyond 32 bits, never reaches the kernel. */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 4096, &cqe, 0), -EINVAL);
	assert_int_equal(vfn_kdev_io(&ns, &sqe, &cqe, (size_t)UINT32_MAX + 1, &cqe, 0), -EINVAL);
	/* Reaches the kernel: a closed fd. */
	assert_int_equal(vfn_kdev_io(&ns, &sqe, NULL, 0, &cqe, 0), -EBADF);
}

static void test_kring_probe(void **state)
{
	int ret;

	(void)state;
	ret = vfn_kring_probe();
	if (ret != 0 && ret != -ENOTSUP)
		fail_msg("vfn_kring_probe: %d", ret);
	if (ret)
		assert_true(nr_logs >= 1);
}

static void test_kring_create_refused(void **state)
{
	struct vfn_kdev ctrl = { .fd = -1, .kind = VFN_KDEV_CTRL, .name = "nvme9" };
	struct vfn_kdev blk = { .fd = -1, .kind = VFN_KDEV_NS_BLOCK, .name = "nvme9n1" };
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "ng9n1" };
	struct vfn_kring *ring = NULL;

	(void)state;
	assert_int_equal(vfn_kring_create(NULL, 8, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 0, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 4097, &ring), -EINVAL);
	assert_int_equal(vfn_kring_create(&ns, 8, NULL), -EINVAL);
	assert_int_equal(vfn_kring_create(&ctrl, 8, &ring), -ENOTSUP);
	assert_int_equal(vfn_kring_create(&blk, 8, &ring), -ENOTSUP);
	assert_true(strstr(last_log, "/dev/ngXnY") != NULL);
	assert_null(ring);
	vfn_kring_destroy(NULL);
}

/* In this process from now on, system call @nr fails with @err (seccomp). */
static int fail_syscall(long nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * In a child where system call @nr fails with @err, vfn_kring_probe() and
 * vfn_kring_create() answer @ret and log a line containing @why.
 */
static void expect_no_kring(long nr, int err, int ret, const char *why)
{
	struct vfn_kdev ns = { .fd = -1, .kind = VFN_KDEV_NS_CHAR, .name = "ng9n1" };
	struct vfn_kring *ring = NULL;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		last_log[0] = '\0';
		if (fail_syscall(nr, err) || vfn_kring_probe() != ret || !strstr(last_log, why))
			_exit(1);
		last_log[0] = '\0';
		if (vfn_kring_create(&ns, 8, &ring) != ret || ring || !strstr(last_log, why))
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("%s: child failed at step %d", why, WEXITSTATUS(status));
}

static void test_kring_fallback(void **state)
{
	(void)state;
	if (vfn_kring_probe())
		skip();
	expect_no_kring(__NR_io_uring_setup, ENOSYS, -ENOTSUP, "not in this kernel");
	expect_no_kring(__NR_io_uring_setup, EPERM, -ENOTSUP, "kernel.io_uring_disabled");
	expect_no_kring(__NR_io_uring_setup, EINVAL, -ENOTSUP, "Linux < 5.19");
	expect_no_kring(__NR_io_uring_register, EINVAL, -ENOTSUP, "cannot probe the opcodes");
	/* A resource error is not "unsupported". */
	expect_no_kring(__NR_io_uring_setup, EMFILE, -EMFILE, "Too many open files");
}

struct reaped {
	int n;
	uint64_t sum;
	int ret;
};

static void on_cqe(void *arg, uint64_t user_data, int ret, const struct vfn_nvme_cqe *cqe)
{
	struct reaped *r = arg;

	r->n++;
	r->sum += user_data;
	if (r->n > 1)
		assert_int_equal(ret, r->ret);
	r->ret = ret;
	assert_int_equal(vfn_nvme_cqe_status(cqe), 0);
}

/* Fills the rings, checks -EBUSY at both limits, and reaps every command once. */
static void test_kring_mechanics(void **state)
{
	struct vfn_kdev ns = { .kind = VFN_KDEV_NS_CHAR, .name = "null" };
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(1) };
	struct reaped r = { 0 };
	struct vfn_kring *ring;
	uint32_t i, expect = 0;
	int ret;

	(void)state;
	if (vfn_kring_probe())
		skip();
	ns.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(ns.fd >= 0);
	assert_int_equal(vfn_kring_create(&ns, 4, &ring), 0);
	/* SQ: 4 slots. */
	for (i = 0; i < 4; i++)
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 100 + i), 0);
	assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 0), -EBUSY);
	assert_int_equal(vfn_kring_flush(ring), 4);
	assert_int_equal(vfn_kring_flush(ring), 0);
	/* CQ: 8 slots, so at most 8 in flight even with SQ room. */
	for (i = 0; i < 4; i++)
		assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 200 + i), 0);
	assert_int_equal(vfn_kring_inflight(ring), 8);
	assert_int_equal(vfn_kring_submit(ring, &sqe, NULL, 0, 0), -EBUSY);
	ret = vfn_kring_enter(ring, 8);
	assert_int_equal(ret, 4);
	assert_int_equal(vfn_kring_reap(ring, 3, on_cqe, &r), 3);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe, &r), 5);
	assert_int_equal(vfn_kring_reap(ring, 0, on_cqe, &r), 0);
	for (i = 0; i < 4; i++)
		expect += 100 + i + 200 + i;
	assert_int_equal(r.n, 8);
	assert_int_equal(r.sum, expect);
	/* The kernel's answer for the file comes through, the same for all. */
	if (r.ret != 0 && r.ret != -EOPNOTSUPP)
		fail_msg("URING_CMD on /dev/null completed with %d", r.ret);
	assert_int_equal(vfn_kring_inflight(ring), 0);
	assert_int_equal(vfn_kring_submit(ring, &sqe, &r, (size_t)UINT32_MAX + 1, 0), -EINVAL);
	vfn_kring_destroy(ring);
	close(ns.fd);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_dev_null),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_directory),
		cmocka_unit_test(test_open_regular_file),
		cmocka_unit_test(test_open_not_a_path),
		cmocka_unit_test(test_open_bad_args),
		cmocka_unit_test(test_cmd_bad_args),
		cmocka_unit_test(test_kring_probe),
		cmocka_unit_test(test_kring_create_refused),
		cmocka_unit_test(test_kring_fallback),
		cmocka_unit_test(test_kring_mechanics),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, setup_log, teardown_log);
}
